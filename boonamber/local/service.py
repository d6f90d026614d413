"""The operations of the local Amber server, independent of HTTP.

Models are reached through a :class:`~boonamber.local.models.ModelRepository` (locks, cache,
commits); answers are built by :mod:`boonamber.local.wire`.
"""

from __future__ import annotations

import dataclasses
import io
import re
import secrets
import sqlite3
import tarfile
import time
from datetime import datetime
from typing import Any

import orjson

import boonamber.local.wire as wire
from boonamber._version import __version__
from boonamber.local.auth import Auth, now_iso
from boonamber.local.defaults import (
    DEFAULT_CACHE_SIZE,
    DEFAULT_JOURNAL_MAX_OPS,
    DEFAULT_JOURNAL_MIN_BYTES,
    DEFAULT_TOKEN_TTL,
    INLINE_MAX_WORK,
)
from boonamber.local.engine import AmberModel
from boonamber.local.errors import BadRequest, NotFound
from boonamber.local.models import (
    OP_DATA,
    OP_FUSION,
    OP_LEARNING,
    OP_OUTAGE,
    LoadedModel,
    ModelRepository,
    NotInline,
    inline,
)
from boonamber.local.parsing import FloatArray
from boonamber.local.pretrain import Pretrainer
from boonamber.local.storage import ModelRow, Store

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


def _release(version: str) -> str:
    """``2.1.0.dev0`` -> ``2.1.0``: the release part of a package version."""
    match = re.match(r"[0-9]+(?:\.[0-9]+)*", version)
    return match.group(0) if match else version


#: The Amber API version this server implements: the release of the package version.
API_VERSION = _release(__version__)


def _iso_to_unix(text: str) -> float:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:  # pragma: no cover - rows are written by this module
        return 0.0


class Service:
    """Accounts, models and every Amber operation on top of a :class:`Store`."""

    def __init__(
        self,
        store: Store,
        token_ttl: float = DEFAULT_TOKEN_TTL,
        cache_size: int = DEFAULT_CACHE_SIZE,
        journal_max_ops: int = DEFAULT_JOURNAL_MAX_OPS,
        journal_min_bytes: int = DEFAULT_JOURNAL_MIN_BYTES,
    ) -> None:
        self.store = store
        self.auth = Auth(store, token_ttl=token_ttl)
        self.models = ModelRepository(store, cache_size, journal_max_ops, journal_min_bytes)
        self.version = __version__
        self.pretrainer = Pretrainer(self.models)

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Resume pretrainings interrupted by a stop or crash."""
        self.pretrainer.resume_all()

    def close(self) -> None:
        """Stop background work, snapshot journaled models and close the database."""
        self.pretrainer.stop()
        self.models.snapshot_all()
        self.store.close()

    @staticmethod
    def _check_inline(engine: AmberModel, n_patterns: int) -> None:
        """On the event loop, streaming stays cheap: NotInline unless the model is Learning or
        Monitoring (no autotuning to run) and the matching work is within INLINE_MAX_WORK."""
        if inline() and (
            engine.state not in ("Learning", "Monitoring")
            or n_patterns * engine.template_values > INLINE_MAX_WORK
        ):
            raise NotInline("too much work for the event loop")

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
            "api-version": API_VERSION,
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
    def _check_label(label: str) -> str:
        if len(label) > MAX_LABEL_LENGTH:
            raise BadRequest(f"label: at most {MAX_LABEL_LENGTH} characters allowed")
        return label

    def list_models(self, account_id: int, verbose: bool) -> dict[str, Any]:
        """getModels (id and label; created/modified too when verbose)."""
        with self.store.read() as tx:
            rows = tx.list_models(account_id)
        rows = self.models.cached_rows(rows)
        return {"modelList": [wire.model_answer(r, full=verbose) for r in rows]}

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
        return wire.model_answer(row)

    def get_model(self, account_id: int, model_id: str) -> dict[str, Any]:
        """getModel."""
        with self.models.model(account_id, model_id) as lm:
            self.models.count(model_id, "getModel")
            return wire.model_answer(lm.row)

    def put_model(self, account_id: int, model_id: str, label: str) -> dict[str, Any]:
        """putModel: rename."""
        label = self._check_label(label)
        with self.models.model(account_id, model_id) as lm:
            self.models.commit(lm, usage="putModel", label=label, modified=now_iso())
            return wire.model_answer(lm.row)

    def delete_model(self, account_id: int, model_id: str) -> dict[str, Any]:
        """deleteModel (a running pretraining is abandoned)."""
        with self.models.model(account_id, model_id):
            with self.store.transaction() as tx:
                tx.delete_model(model_id)
            self.models.evict(model_id)
        self.pretrainer.forget(model_id)
        return {"code": 200, "message": f"model {model_id} deleted"}

    def copy_model(self, account_id: int, model_id: str, label: str | None) -> dict[str, Any]:
        """postModelCopy: a new model with the source's configuration and learned state."""
        with self.models.model(account_id, model_id) as lm:
            src = lm.row
            new_label = label if label else src.label  # no label: keep the source's
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
        return wire.model_answer(row)

    def migrate_model(self, account_id: int, v1_model_id: str) -> dict[str, Any]:
        """postModelMigrate: this server has no Amber v1 models."""
        raise NotFound(f"v1 model {v1_model_id} not found (the local server has no v1 models)")

    # ------------------------------------------------------------------ configuration

    def get_config(self, account_id: int, model_id: str) -> dict[str, Any]:
        """getConfig: the configuration in force (with autotuned values)."""
        with self.models.model(account_id, model_id) as lm:
            engine = lm.configured()
            self.models.count(model_id, "getConfig")
            return wire.config_answer(engine.config_in_force())

    def post_config(self, account_id: int, model_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """postConfig: wipe the model and restart it in Buffering with ``body``."""
        with self.models.model(account_id, model_id) as lm:
            cfg = wire.parse_config(body)
            engine = AmberModel(cfg)
            self._not_pretraining(lm)
            lm.engine = engine
            self.models.commit(
                lm,
                snapshot=True,
                usage="postConfig",
                delete_pretrain=True,
                config=orjson.dumps(wire.config_request(cfg)).decode(),
                modified=now_iso(),
                pretrain_status="None",
                pretrain_message="",
            )
            return wire.config_answer(engine.config_in_force())

    def post_learning(self, account_id: int, model_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """postLearning: re-enable learning or restart buffering."""
        with self.models.model(account_id, model_id) as lm:
            engine = lm.configured()
            self._not_pretraining(lm)
            args = wire.learning_args(body)
            wire.apply_learning(engine, args)
            self.models.commit(
                lm,
                op=OP_LEARNING,
                payload=orjson.dumps(args),
                usage="postLearning",
                modified=now_iso(),
            )
            return {
                "training": wire.training_answer(engine.config_in_force().training),
                "status": self._status(lm),
            }

    # ------------------------------------------------------------------ data

    def post_data(self, account_id: int, model_id: str, values: FloatArray) -> dict[str, Any]:
        """postData: stream ``values`` (a whole number of vectors) through the model."""
        with self.models.model(account_id, model_id) as lm:
            engine = lm.configured()
            self._not_pretraining(lm)
            nf = engine.config.feature_count
            if len(values) % nf:
                raise BadRequest(
                    f"the number of values ({len(values)}) is not a multiple of the number of "
                    f"features ({nf})"
                )
            self._check_inline(engine, len(values) // nf)
            analytics = engine.process_array(values)
            now = time.time()
            self.models.commit(
                lm,
                op=OP_DATA,
                payload=values.astype("<f8").tobytes(),
                usage="postData",
                last_data=now,
                modified=now_iso(now),
                total_samples=lm.row.total_samples + len(values),
            )
            return {
                "analytics": wire.analytics_answer(analytics),
                "status": self._status(lm),
                wire.CLIPPED_KEY: engine.last_clipped,
            }

    def put_data(
        self, account_id: int, model_id: str, vector: list[tuple[str, float]], rule: str
    ) -> dict[str, Any]:
        """putData: update the fusion vector; inference it when complete and submitted."""
        if not vector:
            raise BadRequest("vector must hold at least one {name, value} item (nothing to apply)")
        with self.models.model(account_id, model_id) as lm:
            engine = lm.configured()
            self._not_pretraining(lm)
            self._check_inline(engine, 1)
            now = time.time()
            current, analytics = engine.put_fusion(vector, rule, now)
            payload = orjson.dumps({"vector": vector, "rule": rule, "now": now})
            processed = engine.config.feature_count if analytics is not None else 0
            self.models.commit(
                lm,
                op=OP_FUSION,
                payload=payload,
                usage="putData",
                last_data=now,
                modified=now_iso(now),
                total_samples=lm.row.total_samples + processed,
            )
            return {
                "vector": current,
                "analytics": wire.analytics_answer(analytics),
                "status": self._status(lm),
                wire.CLIPPED_KEY: engine.last_clipped if processed else 0,
            }

    def post_outage(self, account_id: int, model_id: str) -> dict[str, Any]:
        """postOutage: clear the streaming window."""
        with self.models.model(account_id, model_id) as lm:
            engine = lm.configured()
            self._not_pretraining(lm)
            engine.outage()
            self.models.commit(lm, op=OP_OUTAGE, usage="postOutage")
            return {"code": 200, "message": "streaming window cleared"}

    # ------------------------------------------------------------------ reports

    def _status(self, lm: LoadedModel) -> dict[str, Any]:
        status = wire.UNCONFIGURED if lm.engine is None else lm.engine.status()
        message = None
        if lm.pretraining:
            message = f"Pretraining: {self.pretrainer.progress(lm.row.id)}% done"
        last = lm.row.last_data if lm.row.last_data is not None else _iso_to_unix(lm.row.created)
        delta = max(0, int(time.time() - last))
        return wire.status_answer(status, int(last), delta, message)

    def get_status(self, account_id: int, model_id: str) -> dict[str, Any]:
        """getStatus."""
        with self.models.model(account_id, model_id) as lm:
            self.models.count(model_id, "getStatus")
            return self._status(lm)

    def get_nano_status(self, account_id: int, model_id: str) -> dict[str, Any]:
        """getNanoStatus."""
        with self.models.model(account_id, model_id) as lm:
            return wire.nano_answer(lm.configured().nano_status())

    def get_summary(self, account_id: int, model_id: str) -> dict[str, Any]:
        """getSummary."""
        with self.models.model(account_id, model_id) as lm:
            return wire.summary_answer(lm.configured().summary())

    def get_usage(self, account_id: int, model_id: str) -> dict[str, Any]:
        """getUsage: calls per operation and values processed."""
        with self.models.model(account_id, model_id) as lm:
            self.models.count(model_id, "getUsage")
            with self.store.read() as tx:
                counts = tx.get_usage(model_id)
            every = {name: counts.get(name, (0, "")) for name in USAGE_ENDPOINTS}
            return wire.usage_answer(lm.row.total_samples, every)

    def get_root_cause(
        self,
        account_id: int,
        model_id: str,
        clusters: list[int] | None,
        vectors: list[list[float]] | None,
    ) -> dict[str, Any]:
        """getRootCause for cluster ids or patterns."""
        with self.models.model(account_id, model_id) as lm:
            engine = lm.configured()
            result = engine.root_cause(clusters=clusters, vectors=vectors)
            self.models.count(model_id, "getRootCause")
            return wire.root_cause_answer(engine.config.feature_names, result)

    def get_diagnostic(self, account_id: int, model_id: str) -> bytes:
        """getDiagnostic: a tar of config.json, status.json, model.json, usage.json, model.bin."""
        with self.models.model(account_id, model_id) as lm:
            files: dict[str, bytes] = {
                "model.json": orjson.dumps(wire.model_answer(lm.row)),
                "config.json": orjson.dumps(
                    None if lm.engine is None else wire.config_answer(lm.engine.config_in_force()),
                    option=orjson.OPT_INDENT_2,
                ),
                "status.json": orjson.dumps(self._status(lm), option=orjson.OPT_INDENT_2),
            }
            with self.store.read() as tx:
                counts = tx.get_usage(model_id)
            files["usage.json"] = orjson.dumps(
                wire.usage_answer(lm.row.total_samples, counts), option=orjson.OPT_INDENT_2
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
