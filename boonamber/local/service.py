"""The operations of the local Amber server, independent of HTTP.

Each model has its own lock (one request at a time per model, different models in parallel)
and, while hot, lives in an in-memory cache. Every change is committed to SQLite before the
call returns: either as a new engine snapshot or, for streaming operations, as a compact journal
entry (the request's data) replayed on top of the last snapshot when the model is loaded again.
A snapshot is taken when the journal grows past a bound, so both the per-request write and the
replay on load stay small.
"""

from __future__ import annotations

import dataclasses
import io
import logging
import secrets
import sqlite3
import tarfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import numpy as np
import orjson

from boonamber.local.auth import Auth, now_iso
from boonamber.local.defaults import DEFAULT_TOKEN_TTL
from boonamber.local.engine import AmberModel, EngineConfig, EngineError
from boonamber.local.errors import ApiError, BadRequest, NotFound
from boonamber.local.parsing import FloatArray
from boonamber.local.storage import ModelRow, Store, Tx

log = logging.getLogger("boonamber.local")

#: Operations whose calls are counted per model (the keys of getUsageResponseEndpoints).
USAGE_ENDPOINTS = (
    "getModel",
    "putModel",
    "postConfig",
    "postLearning",
    "getConfig",
    "postData",
    "putData",
    "getStatus",
    "postPretrain",
    "getPretrain",
    "getRootCause",
    "getUsage",
    "postOutage",
)

MAX_LABEL_LENGTH = 1024
NOT_CONFIGURED = "model {id} needs a configuration first (post one to /models/{id}/config)"

# Journal operations (replayed in order on top of the last snapshot).
OP_DATA, OP_FUSION, OP_OUTAGE, OP_LEARNING = "data", "fusion", "outage", "learning"


def _server_version() -> str:
    try:
        from importlib.metadata import version

        return version("boonamber")
    except Exception:  # pragma: no cover - not installed
        return "0+unknown"


def _iso_to_unix(text: str) -> float:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:  # pragma: no cover - rows are written by this module
        return 0.0


class CorruptModel(RuntimeError):
    """A stored model could not be restored (answered 500 and logged)."""


@dataclasses.dataclass
class LoadedModel:
    """A model in memory: its metadata row and (once configured) its engine."""

    row: ModelRow
    engine: AmberModel | None
    journal_ops: int = 0
    journal_bytes: int = 0
    snapshot_bytes: int = 0

    @property
    def pretraining(self) -> bool:
        """Whether a background pretraining owns the model's future state."""
        return self.row.pretrain_status == "Pretraining"


def apply_op(engine: AmberModel, op: str, payload: bytes) -> None:
    """Re-apply one journal entry to ``engine`` (the results are not needed)."""
    if op == OP_DATA:
        engine.process_array(np.frombuffer(payload, dtype="<f8"))
    elif op == OP_FUSION:
        d = orjson.loads(payload)
        engine.put_fusion([(str(n), float(v)) for n, v in d["vector"]], d["rule"], d["now"])
    elif op == OP_OUTAGE:
        engine.outage()
    elif op == OP_LEARNING:
        d = orjson.loads(payload)
        engine.set_learning(d.get("state"), d.get("training"), d.get("autotuning"))
    else:  # pragma: no cover - written by this module
        raise ValueError(f"unknown journal operation {op!r}")


class Service:
    """Accounts, models and every Amber operation on top of a :class:`Store`."""

    def __init__(
        self,
        store: Store,
        token_ttl: float = DEFAULT_TOKEN_TTL,
        cache_size: int = 32,
        journal_max_ops: int = 256,
        journal_min_bytes: int = 1 << 20,
    ) -> None:
        self.store = store
        self.auth = Auth(store, token_ttl=token_ttl)
        self.cache_size = max(1, cache_size)
        self.journal_max_ops = max(1, journal_max_ops)
        self.journal_min_bytes = journal_min_bytes
        self.version = _server_version()
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self._cache: OrderedDict[str, LoadedModel] = OrderedDict()
        self._cache_guard = threading.Lock()
        # Imported here to keep the module graph acyclic (pretrain uses this module).
        from boonamber.local.pretrain import Pretrainer

        self.pretrainer = Pretrainer(self)

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Resume pretrainings interrupted by a stop or crash."""
        self.pretrainer.resume_all()

    def close(self) -> None:
        """Stop background work, snapshot journaled models and close the database."""
        self.pretrainer.stop()
        with self._cache_guard:
            entries = list(self._cache.values())
        for lm in entries:
            lock = self._lock_for(lm.row.id)
            with lock:
                if lm.journal_ops and lm.engine is not None and not self.store.closed:
                    try:
                        self._commit(lm, snapshot=True)
                    except Exception:  # pragma: no cover - best effort; the journal is durable
                        log.exception("could not snapshot model %s at shutdown", lm.row.id)
        self.store.close()

    # ------------------------------------------------------------------ model access

    def _lock_for(self, model_id: str) -> threading.Lock:
        with self._locks_guard:
            lock = self._locks.get(model_id)
            if lock is None:
                lock = self._locks[model_id] = threading.Lock()
            return lock

    def _load(self, row: ModelRow) -> LoadedModel:
        with self.store.read() as tx:
            snapshot, journal = tx.load_state(row.id)
        lm = LoadedModel(row=row, engine=None, snapshot_bytes=len(snapshot or b""))
        if snapshot is not None:
            try:
                engine = AmberModel.from_bytes(snapshot)
                for entry in journal:
                    apply_op(engine, entry.op, entry.payload)
            except Exception as exc:  # a server fault (500), not a client error
                raise CorruptModel(f"model {row.id} could not be restored from storage") from exc
            lm.engine = engine
            lm.journal_ops = len(journal)
            lm.journal_bytes = sum(len(e.payload) for e in journal)
        return lm

    def _cache_put(self, lm: LoadedModel) -> None:
        with self._cache_guard:
            self._cache[lm.row.id] = lm
            self._cache.move_to_end(lm.row.id)
            if len(self._cache) <= self.cache_size:
                return
            for model_id in list(self._cache):
                if len(self._cache) <= self.cache_size:
                    break
                if model_id == lm.row.id:
                    continue
                lock = self._lock_for(model_id)
                if lock.acquire(blocking=False):  # never evict a model in use
                    try:
                        del self._cache[model_id]
                    finally:
                        lock.release()

    def _evict(self, model_id: str) -> None:
        with self._cache_guard:
            self._cache.pop(model_id, None)

    def _get(self, model_id: str, account_id: int | None) -> LoadedModel:
        """The loaded model (caller holds its lock); NotFound if absent or not the account's."""
        with self._cache_guard:
            lm = self._cache.get(model_id)
            if lm is not None:
                self._cache.move_to_end(model_id)
        if lm is None:
            with self.store.read() as tx:
                row = tx.get_model(model_id)
            if row is None or (account_id is not None and row.account_id != account_id):
                raise NotFound(f"model {model_id} not found")
            lm = self._load(row)
            self._cache_put(lm)
        elif account_id is not None and lm.row.account_id != account_id:
            raise NotFound(f"model {model_id} not found")
        return lm

    @contextmanager
    def model(self, account_id: int | None, model_id: str) -> Iterator[LoadedModel]:
        """Hold the model's lock and yield it loaded. Any unexpected error drops the cached
        copy, so the next request reloads the last committed state."""
        with self._lock_for(model_id):
            lm = self._get(model_id, account_id)
            try:
                yield lm
            except (ApiError, EngineError):
                raise
            except BaseException:
                self._evict(model_id)
                raise

    def _commit(
        self,
        lm: LoadedModel,
        *,
        op: str | None = None,
        payload: bytes = b"",
        usage: str | None = None,
        snapshot: bool = False,
        delete_pretrain: bool = False,
        extra: Callable[[Tx], None] | None = None,
        **changes: Any,
    ) -> None:
        """Make a change durable in one transaction: the journal entry ``op`` (or a snapshot of
        ``lm.engine``), the row ``changes``, ``extra`` writes and a usage count. ``lm`` is
        updated on success."""
        new_row = dataclasses.replace(lm.row, **changes)
        take_snapshot = snapshot or (
            op is not None
            and (
                lm.journal_ops + 1 >= self.journal_max_ops
                or lm.journal_bytes + len(payload)
                >= max(self.journal_min_bytes, lm.snapshot_bytes // 2)
            )
        )
        blob: bytes | None = None
        if take_snapshot:
            new_row.seq = lm.row.seq + 1
            blob = lm.engine.to_bytes() if lm.engine is not None else None
        elif op is not None:
            new_row.seq = lm.row.seq + 1
        with self.store.transaction() as tx:
            if take_snapshot:
                tx.write_snapshot(new_row.id, blob, new_row.seq)
            elif op is not None:
                tx.append_journal(new_row.id, new_row.seq, op, payload)
            if delete_pretrain:
                tx.delete_pretrain(new_row.id)
            if extra is not None:
                extra(tx)
            tx.update_model(new_row)
            if usage is not None:
                tx.bump_usage(new_row.id, usage, now_iso())
        lm.row = new_row
        if take_snapshot:
            lm.journal_ops, lm.journal_bytes = 0, 0
            lm.snapshot_bytes = len(blob or b"")
        elif op is not None:
            lm.journal_ops += 1
            lm.journal_bytes += len(payload)

    def _count(self, model_id: str, usage: str) -> None:
        with self.store.transaction() as tx:
            tx.bump_usage(model_id, usage, now_iso())

    @staticmethod
    def _engine(lm: LoadedModel) -> AmberModel:
        if lm.engine is None:
            raise BadRequest(NOT_CONFIGURED.format(id=lm.row.id))
        return lm.engine

    @staticmethod
    def _not_pretraining(lm: LoadedModel) -> None:
        if lm.pretraining:
            raise BadRequest(
                f"model {lm.row.id} is pretraining; wait until getPretrain reports Pretrained"
            )

    # ------------------------------------------------------------------ version / accounts

    def get_version(self) -> dict[str, Any]:
        """getVersion: the nine component build ids."""
        v = self.version
        return {
            "api-version": "2.1.0",
            "release": f"boonamber-local {v}",
            "swagger-ui": "none",
            "builder": f"boonamber-local {v}",
            "expert-api": f"boonamber-local {v}",
            "expert-common": f"boonamber-local {v}",
            "nano-secure": f"boonamber-local-engine {v}",
            "amber-store": f"sqlite {sqlite3.sqlite_version}",
            "mongolia": "none",
        }

    # ------------------------------------------------------------------ models CRUD

    @staticmethod
    def _model_wire(row: ModelRow, full: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {"id": row.id, "label": row.label}
        if full:
            out["created"] = row.created
            out["modified"] = row.modified
        return out

    @staticmethod
    def _check_label(label: str) -> str:
        if len(label) > MAX_LABEL_LENGTH:
            raise BadRequest(f"label: at most {MAX_LABEL_LENGTH} characters allowed")
        return label

    def list_models(self, account_id: int, verbose: bool) -> dict[str, Any]:
        """getModels (id and label; created/modified too when verbose)."""
        with self.store.read() as tx:
            rows = tx.list_models(account_id)
        with self._cache_guard:
            cached = {r.id: self._cache[r.id].row for r in rows if r.id in self._cache}
        rows = [cached.get(r.id, r) for r in rows]
        return {"modelList": [self._model_wire(r, full=verbose) for r in rows]}

    def create_model(self, account_id: int, label: str | None) -> dict[str, Any]:
        """postModel: a new, unconfigured model."""
        now = now_iso()
        row = ModelRow(
            id=secrets.token_hex(12),
            account_id=account_id,
            label=self._check_label(label or ""),
            created=now,
            modified=now,
            config=None,
            seq=0,
            last_data=None,
            total_samples=0,
            pretrain_status="None",
            pretrain_message="",
        )
        with self.store.transaction() as tx:
            tx.insert_model(row, None)
        return self._model_wire(row)

    def get_model(self, account_id: int, model_id: str) -> dict[str, Any]:
        """getModel."""
        with self.model(account_id, model_id) as lm:
            self._count(model_id, "getModel")
            return self._model_wire(lm.row)

    def put_model(self, account_id: int, model_id: str, label: str) -> dict[str, Any]:
        """putModel: rename."""
        label = self._check_label(label)
        with self.model(account_id, model_id) as lm:
            self._commit(lm, usage="putModel", label=label, modified=now_iso())
            return self._model_wire(lm.row)

    def delete_model(self, account_id: int, model_id: str) -> dict[str, Any]:
        """deleteModel (a running pretraining is abandoned)."""
        with self.model(account_id, model_id):
            with self.store.transaction() as tx:
                tx.delete_model(model_id)
            self._evict(model_id)
        self.pretrainer.forget(model_id)
        return {"code": 200, "message": f"model {model_id} deleted"}

    def copy_model(self, account_id: int, model_id: str, label: str | None) -> dict[str, Any]:
        """postModelCopy: a new model with the source's configuration and learned state."""
        with self.model(account_id, model_id) as lm:
            src = lm.row
            new_label = label if label else (f"{src.label}-copy" if src.label else "copy")
            self._check_label(new_label)
            snapshot = lm.engine.to_bytes() if lm.engine is not None else None
            now = now_iso()
            row = dataclasses.replace(
                src,
                id=secrets.token_hex(12),
                label=new_label,
                created=now,
                modified=now,
                seq=0,
                total_samples=0,
                pretrain_status="Pretrained" if src.pretrain_status == "Pretrained" else "None",
                pretrain_message="",
            )
            with self.store.transaction() as tx:
                tx.insert_model(row, snapshot)
        return self._model_wire(row)

    def migrate_model(self, account_id: int, v1_model_id: str) -> dict[str, Any]:
        """postModelMigrate: this server has no Amber v1 models."""
        raise NotFound(f"v1 model {v1_model_id} not found (the local server has no v1 models)")

    # ------------------------------------------------------------------ configuration

    def get_config(self, account_id: int, model_id: str) -> dict[str, Any]:
        """getConfig: the configuration in force (with autotuned values)."""
        with self.model(account_id, model_id) as lm:
            engine = self._engine(lm)
            self._count(model_id, "getConfig")
            return engine.config_wire()

    def post_config(self, account_id: int, model_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """postConfig: wipe the model and restart it in Buffering with ``body``."""
        with self.model(account_id, model_id) as lm:
            cfg = EngineConfig.from_wire(body)
            engine = AmberModel(cfg)
            self._not_pretraining(lm)
            lm.engine = engine
            self._commit(
                lm,
                snapshot=True,
                usage="postConfig",
                delete_pretrain=True,
                config=orjson.dumps(cfg.to_wire()).decode(),
                modified=now_iso(),
                pretrain_status="None",
                pretrain_message="",
            )
            return engine.config_wire()

    def post_learning(self, account_id: int, model_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """postLearning: re-enable learning or restart buffering."""
        with self.model(account_id, model_id) as lm:
            engine = self._engine(lm)
            self._not_pretraining(lm)
            args = {k: body.get(k) for k in ("state", "training", "autotuning")}
            engine.set_learning(args["state"], args["training"], args["autotuning"])
            self._commit(
                lm,
                op=OP_LEARNING,
                payload=orjson.dumps(args),
                usage="postLearning",
                modified=now_iso(),
            )
            return {
                "training": engine.config_wire()["training"],
                "status": self._status(lm),
            }

    # ------------------------------------------------------------------ data

    def post_data(self, account_id: int, model_id: str, values: FloatArray) -> dict[str, Any]:
        """postData: stream ``values`` (a whole number of vectors) through the model."""
        with self.model(account_id, model_id) as lm:
            engine = self._engine(lm)
            self._not_pretraining(lm)
            nf = engine.config.feature_count
            if len(values) % nf:
                raise BadRequest(
                    f"the number of values ({len(values)}) is not a multiple of the number of "
                    f"features ({nf})"
                )
            analytics = engine.process(values)
            now = time.time()
            self._commit(
                lm,
                op=OP_DATA,
                payload=values.astype("<f8").tobytes(),
                usage="postData",
                last_data=now,
                modified=now_iso(now),
                total_samples=lm.row.total_samples + len(values),
            )
            return {"analytics": analytics, "status": self._status(lm)}

    def put_data(
        self, account_id: int, model_id: str, vector: list[tuple[str, float]], rule: str
    ) -> dict[str, Any]:
        """putData: update the fusion vector; inference it when complete and submitted."""
        with self.model(account_id, model_id) as lm:
            engine = self._engine(lm)
            self._not_pretraining(lm)
            now = time.time()
            current, analytics = engine.put_fusion(vector, rule, now)
            payload = orjson.dumps({"vector": vector, "rule": rule, "now": now})
            processed = engine.config.feature_count if analytics is not None else 0
            self._commit(
                lm,
                op=OP_FUSION,
                payload=payload,
                usage="putData",
                last_data=now,
                modified=now_iso(now),
                total_samples=lm.row.total_samples + processed,
            )
            if analytics is None:
                from boonamber.local.engine import ANALYTIC_KEYS

                analytics = {k: [] for k in ANALYTIC_KEYS}
            return {"vector": current, "analytics": analytics, "status": self._status(lm)}

    def post_outage(self, account_id: int, model_id: str) -> dict[str, Any]:
        """postOutage: clear the streaming window."""
        with self.model(account_id, model_id) as lm:
            engine = self._engine(lm)
            self._not_pretraining(lm)
            engine.outage()
            self._commit(lm, op=OP_OUTAGE, usage="postOutage")
            return {"code": 200, "message": "streaming window cleared"}

    # ------------------------------------------------------------------ reports

    def _status(self, lm: LoadedModel) -> dict[str, Any]:
        if lm.engine is None:
            status: dict[str, Any] = {
                "state": "Buffering",
                "warningLevel": 0,
                "complianceScore": 100,
                "sampleCount": 0,
                "clusterCount": 0,
                "progress": 0,
                "message": "Not configured: post a configuration to start",
                "graduation": "",
            }
        else:
            status = dict(lm.engine.status())
        if lm.pretraining:
            pct = self.pretrainer.progress(lm.row.id)
            status["message"] = f"Pretraining: {pct}% done"
        last = lm.row.last_data if lm.row.last_data is not None else _iso_to_unix(lm.row.created)
        status["lastModified"] = int(last)
        status["lastModifiedDelta"] = max(0, int(time.time() - last))
        return status

    def get_status(self, account_id: int, model_id: str) -> dict[str, Any]:
        """getStatus."""
        with self.model(account_id, model_id) as lm:
            self._count(model_id, "getStatus")
            return self._status(lm)

    def get_nano_status(self, account_id: int, model_id: str) -> dict[str, Any]:
        """getNanoStatus."""
        with self.model(account_id, model_id) as lm:
            return self._engine(lm).nano_status()

    def get_summary(self, account_id: int, model_id: str) -> dict[str, Any]:
        """getSummary."""
        with self.model(account_id, model_id) as lm:
            return self._engine(lm).summary()

    def get_usage(self, account_id: int, model_id: str) -> dict[str, Any]:
        """getUsage: calls per operation and values processed."""
        with self.model(account_id, model_id) as lm:
            self._count(model_id, "getUsage")
            with self.store.read() as tx:
                counts = tx.get_usage(model_id)
            endpoints = {}
            for name in USAGE_ENDPOINTS:
                calls, last = counts.get(name, (0, ""))
                endpoints[name] = {"totalCalls": calls, "lastCalled": last}
            return {"totalSamples": lm.row.total_samples, "endpoints": endpoints}

    def get_root_cause(
        self,
        account_id: int,
        model_id: str,
        clusters: list[int] | None,
        vectors: list[list[float]] | None,
    ) -> dict[str, Any]:
        """getRootCause for cluster ids or patterns."""
        with self.model(account_id, model_id) as lm:
            engine = self._engine(lm)
            result = engine.root_cause(clusters=clusters, vectors=vectors)
            self._count(model_id, "getRootCause")
            return {"rootCauseList": result}

    def get_diagnostic(self, account_id: int, model_id: str) -> bytes:
        """getDiagnostic: a tar of config.json, status.json, model.json, usage.json, model.bin."""
        with self.model(account_id, model_id) as lm:
            files: dict[str, bytes] = {
                "model.json": orjson.dumps(self._model_wire(lm.row)),
                "config.json": orjson.dumps(
                    lm.engine.config_wire() if lm.engine is not None else None,
                    option=orjson.OPT_INDENT_2,
                ),
                "status.json": orjson.dumps(self._status(lm), option=orjson.OPT_INDENT_2),
            }
            with self.store.read() as tx:
                counts = tx.get_usage(model_id)
            files["usage.json"] = orjson.dumps(
                {
                    "totalSamples": lm.row.total_samples,
                    "endpoints": {
                        k: {"totalCalls": n, "lastCalled": t} for k, (n, t) in counts.items()
                    },
                },
                option=orjson.OPT_INDENT_2,
            )
            if lm.engine is not None:
                files["model.bin"] = lm.engine.to_bytes()
        buf = io.BytesIO()
        mtime = time.time()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            for name, data in files.items():
                info = tarfile.TarInfo(f"{model_id}/{name}")
                info.size = len(data)
                info.mtime = int(mtime)
                info.mode = 0o644
                tar.addfile(info, io.BytesIO(data))
        return buf.getvalue()
