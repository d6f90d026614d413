"""The models of a local server in memory and on disk: load, lock, cache and commit.

Each model has its own lock (one request at a time per model, different models in parallel)
and, while hot, lives in an in-memory cache. Every change is committed to SQLite before the
call returns: either as a new engine snapshot or, for streaming operations, as a compact journal
entry (the request's data) replayed on top of the last snapshot when the model is loaded again.
A snapshot is taken when the journal grows past a bound, so both the per-request write and the
replay on load stay small.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import numpy as np
import orjson

import boonamber.local.wire as wire
from boonamber.local.auth import now_iso
from boonamber.local.defaults import (
    DEFAULT_CACHE_SIZE,
    DEFAULT_JOURNAL_MAX_OPS,
    DEFAULT_JOURNAL_MIN_BYTES,
)
from boonamber.local.engine import AmberModel, EngineError
from boonamber.local.errors import ApiError, BadRequest, NotFound
from boonamber.local.storage import Flag, ModelRow, Store, Tx, Write

log = logging.getLogger("boonamber.local")

#: Longest wait, in seconds, of a commit from a thread for the event loop's commit of the same
#: model (normally a millisecond; longer only if the event loop has stopped).
UNSAVED_WAIT = 10.0

NOT_CONFIGURED = "model {id} needs a configuration first (post one to /models/{id}/config)"

# Journal operations (replayed in order on top of the last snapshot).
OP_DATA, OP_FUSION, OP_OUTAGE, OP_LEARNING = "data", "fusion", "outage", "learning"


class CorruptModel(RuntimeError):
    """A stored model could not be restored (answered 500 and logged)."""


class NotInline(Exception):
    """The call cannot run on the event loop (its model is busy or not loaded, or the work is
    too large): run it on a worker thread instead. Raised before anything is changed."""


# Set while a call runs on the event loop: its commits are collected here (the caller has
# them committed and awaits that before answering) instead of being waited for.
_deferred: ContextVar[list[Write] | None] = ContextVar("deferred_commits", default=None)


@contextmanager
def inline_call() -> Iterator[list[Write]]:
    """Run a call on the event loop: models are taken only if free and loaded (else
    NotInline) and commits are not waited for; the yielded list collects the call's writes,
    which the caller must have committed before acknowledging the call."""
    pending: list[Write] = []
    token = _deferred.set(pending)
    try:
        yield pending
    finally:
        _deferred.reset(token)


def inline() -> bool:
    """Whether the current call runs on the event loop (see :func:`inline_call`)."""
    return _deferred.get() is not None


@dataclasses.dataclass
class LoadedModel:
    """A model in memory: its metadata row and (once configured) its engine."""

    row: ModelRow
    engine: AmberModel | None
    journal_ops: int = 0
    journal_bytes: int = 0
    snapshot_bytes: int = 0
    # The last change made on the event loop, until it is committed (see inline_call), and
    # whether such a change failed: then the in-memory state is ahead of the database, so
    # later commits built on it fail too (the model is reloaded from storage).
    unsaved: Flag | None = None
    broken: bool = False

    @property
    def pretraining(self) -> bool:
        """Whether a background pretraining owns the model's future state."""
        return self.row.pretrain_status == "Pretraining"

    def configured(self) -> AmberModel:
        """The engine; BadRequest if the model has no configuration yet."""
        if self.engine is None:
            raise BadRequest(NOT_CONFIGURED.format(id=self.row.id))
        return self.engine


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
        wire.apply_learning(engine, orjson.loads(payload))
    else:  # pragma: no cover - written by this module
        raise ValueError(f"unknown journal operation {op!r}")


class ModelRepository:
    """Loaded models, their locks and cache, on top of a :class:`Store`."""

    def __init__(
        self,
        store: Store,
        cache_size: int = DEFAULT_CACHE_SIZE,
        journal_max_ops: int = DEFAULT_JOURNAL_MAX_OPS,
        journal_min_bytes: int = DEFAULT_JOURNAL_MIN_BYTES,
    ) -> None:
        self.store = store
        self.cache_size = max(1, cache_size)
        self.journal_max_ops = max(1, journal_max_ops)
        self.journal_min_bytes = journal_min_bytes
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self._cache: OrderedDict[str, LoadedModel] = OrderedDict()
        self._cache_guard = threading.Lock()

    # ------------------------------------------------------------------ access

    def lock_for(self, model_id: str) -> threading.Lock:
        """The model's lock (created on first use)."""
        with self._locks_guard:
            lock = self._locks.get(model_id)
            if lock is None:
                lock = self._locks[model_id] = threading.Lock()
            return lock

    @contextmanager
    def model(self, account_id: int | None, model_id: str) -> Iterator[LoadedModel]:
        """Hold the model's lock and yield it loaded (NotFound if absent or not the account's;
        ``None`` skips the account check). Any unexpected error drops the cached copy, so the
        next request reloads the last committed state."""
        lock = self.lock_for(model_id)
        deferred = inline()
        if not lock.acquire(blocking=not deferred):
            raise NotInline(f"model {model_id} is busy")
        try:
            lm = self._get(model_id, account_id, load=not deferred)
            try:
                yield lm
            except (ApiError, EngineError, NotInline):
                raise
            except BaseException:
                self.evict(model_id)
                raise
        finally:
            lock.release()

    def cached_rows(self, rows: list[ModelRow]) -> list[ModelRow]:
        """``rows`` with each cached model's newer in-memory row in its place."""
        with self._cache_guard:
            cached = {r.id: self._cache[r.id].row for r in rows if r.id in self._cache}
        return [cached.get(r.id, r) for r in rows]

    def evict(self, model_id: str, only: LoadedModel | None = None) -> None:
        """Drop the cached copy (the next access reloads it); with ``only``, only if that is
        the cached copy."""
        with self._cache_guard:
            if only is None or self._cache.get(model_id) is only:
                self._cache.pop(model_id, None)

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
                lock = self.lock_for(model_id)
                if lock.acquire(blocking=False):  # never evict a model in use
                    try:
                        del self._cache[model_id]
                    finally:
                        lock.release()

    def _get(self, model_id: str, account_id: int | None, load: bool = True) -> LoadedModel:
        """The loaded model (caller holds its lock); NotInline if not cached and not ``load``."""
        with self._cache_guard:
            lm = self._cache.get(model_id)
            if lm is not None:
                self._cache.move_to_end(model_id)
        if lm is None:
            if not load:
                raise NotInline(f"model {model_id} is not loaded")
            with self.store.read() as tx:
                row = tx.get_model(model_id)
            if row is None or (account_id is not None and row.account_id != account_id):
                raise NotFound(f"model {model_id} not found")
            lm = self._load(row)
            self._cache_put(lm)
        elif account_id is not None and lm.row.account_id != account_id:
            raise NotFound(f"model {model_id} not found")
        return lm

    # ------------------------------------------------------------------ changes

    def commit(
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
        updated on success (the caller holds its lock). In an :func:`inline_call` the commit is
        queued, ``lm`` updated at once and the future left to the caller to await."""
        new_row = ModelRow(**{**vars(lm.row), **changes})
        take_snapshot = snapshot or (
            op is not None
            and (
                lm.journal_ops + 1 >= self.journal_max_ops
                or lm.journal_bytes + len(payload)
                >= max(self.journal_min_bytes, lm.snapshot_bytes // 2)
            )
        )
        blob: bytes | None = None
        pending = _deferred.get()
        if take_snapshot:
            new_row.seq = lm.row.seq + 1
            blob = lm.engine.to_bytes() if lm.engine is not None else None
        elif op is not None:
            new_row.seq = lm.row.seq + 1

        def write(tx: Tx) -> None:
            if lm.broken:
                raise CorruptModel(f"model {new_row.id}: an earlier change was not saved")
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
                tx.bump_usage(new_row.id, usage, when)

        when = new_row.modified if "modified" in changes else now_iso()
        if pending is None:
            self._wait_saved(lm)
            self.store.grouped(write)
        else:
            change = Write(write, failed=lambda: self._unsaved(lm))
            lm.unsaved = change.saved
            pending.append(change)
        lm.row = new_row
        if take_snapshot:
            lm.journal_ops, lm.journal_bytes = 0, 0
            lm.snapshot_bytes = len(blob or b"")
        elif op is not None:
            lm.journal_ops += 1
            lm.journal_bytes += len(payload)

    @staticmethod
    def _wait_saved(lm: LoadedModel) -> None:
        """Before a commit from a thread: the model's change made on the event loop, if any,
        is committed first (so changes reach the database in the order they were made)."""
        last = lm.unsaved
        if last is not None:
            if not last.wait(UNSAVED_WAIT):
                raise CorruptModel(f"model {lm.row.id}: an earlier change is still not saved")
            lm.unsaved = None
        if lm.broken:
            raise CorruptModel(f"model {lm.row.id}: an earlier change was not saved")

    def _unsaved(self, lm: LoadedModel) -> None:
        """A collected commit of ``lm`` failed: its in-memory state is ahead of the database.
        Mark it (later commits built on it fail too) and drop it, so the next request reloads
        the last committed state."""
        lm.broken = True
        self.evict(lm.row.id, only=lm)

    def count(self, model_id: str, usage: str) -> None:
        """Count one call of operation ``usage`` on the model."""
        when = now_iso()

        def write(tx: Tx) -> None:
            tx.bump_usage(model_id, usage, when)

        pending = _deferred.get()
        if pending is None:
            self.store.grouped(write)
        else:
            pending.append(Write(write))

    def snapshot_all(self, wait: float = 1.0) -> None:
        """Snapshot every cached model with a journal (at shutdown; best effort). A model still
        busy after ``wait`` seconds is skipped: its journal is durable, and the request still
        running on it is abandoned (never acknowledged)."""
        with self._cache_guard:
            entries = list(self._cache.values())
        for lm in entries:
            lock = self.lock_for(lm.row.id)
            if not lock.acquire(timeout=wait):
                log.warning("model %s is busy at shutdown: not snapshotted", lm.row.id)
                continue
            try:
                if lm.journal_ops and lm.engine is not None and not self.store.closed:
                    try:
                        self.commit(lm, snapshot=True)
                    except Exception:  # pragma: no cover - best effort; the journal is durable
                        log.exception("could not snapshot model %s at shutdown", lm.row.id)
            finally:
                lock.release()
