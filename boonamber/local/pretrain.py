"""Chunked pretraining: upload transactions and background pretraining jobs.

A transaction collects the chunks ``1..n`` of one upload (any order, in parallel); each chunk is
validated and stored (parsed; as float32 when that loses nothing, else float64) when it arrives,
so an acknowledged chunk survives a restart. The same chunk sent again (a client retrying after
a lost answer) is acknowledged without effect, even after the upload completed; a different chunk
under a received index is refused.
The first chunk starts a background job (:class:`~boonamber.local.feeder.Feeder`) that pretrains
a fresh engine on the chunks in order while the others are still arriving; when the last chunk
arrives the model's pretrain status becomes ``Pretraining``, and when the job is done it
replaces the model's state in one commit (the same state as pretraining on all the data at
once). A pretraining interrupted by a stop or a crash resumes at the next start (its chunks stay
in the database until it finishes); an upload interrupted so carries on from its stored chunks.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import secrets
import threading
import time
from typing import Any

import numpy as np

import boonamber.local.wire as wire
from boonamber.local.auth import now_iso
from boonamber.local.defaults import DEFAULT_PRETRAIN_WAIT, PRETRAIN_IDLE
from boonamber.local.engine import AmberModel, EngineError
from boonamber.local.errors import BadRequest, NotFound
from boonamber.local.feeder import Cancelled, Feeder
from boonamber.local.models import LoadedModel, ModelRepository
from boonamber.local.parsing import FloatArray, parse_chunkspec, parse_data
from boonamber.local.storage import Tx

log = logging.getLogger("boonamber.local")


# A stored chunk holds float32 values as _FLOAT32_TAG + their little-endian float32 bytes (an
# odd length), other values as little-endian float64 (a multiple of 8; all that earlier
# versions stored). Half the bytes to write for what clients send as b64float.
_FLOAT32_TAG = b"\x04"


def stored_form(values: FloatArray, exact_float32: bool = False) -> bytes:
    """The bytes stored for a chunk's ``values`` (float64): float32 when that loses nothing
    (``exact_float32``: known to be float32 values, as b64float / packed-float are)."""
    with np.errstate(over="ignore"):
        single = values.astype("<f4")
    if exact_float32 or np.array_equal(single, values):
        return b"".join((_FLOAT32_TAG, single.data))
    return np.ascontiguousarray(values, dtype="<f8").tobytes()


def stored_values(blob: bytes) -> FloatArray:
    """A stored chunk's values (float64), from either stored form."""
    if len(blob) % 2:
        return np.frombuffer(blob, dtype="<f4", offset=len(_FLOAT32_TAG)).astype(np.float64)
    return np.frombuffer(blob, dtype="<f8")


def _short(text: str, limit: int = 64) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "...")


class Pretrainer:
    """Chunk transactions and background pretraining jobs of the models of a repository."""

    def __init__(
        self,
        models: ModelRepository,
        wait_seconds: float = DEFAULT_PRETRAIN_WAIT,
        idle_seconds: float = PRETRAIN_IDLE,
    ) -> None:
        self.models = models
        #: How long the request carrying the last chunk waits for the job before answering 202.
        self.wait_seconds = wait_seconds
        #: How long an upload's job waits for its next chunk before it ends (PRETRAIN_IDLE).
        self.idle_seconds = idle_seconds
        self._jobs: dict[str, Feeder] = {}
        # model -> (txnId, model seq) of its last successful pretraining, while nothing changed
        # it since (in memory: recognises a re-sent single chunk; see post()).
        self._done: dict[str, tuple[str, int]] = {}
        self._guard = threading.Lock()
        self._stopping = False

    # ------------------------------------------------------------------ requests

    def post(
        self,
        account_id: int,
        model_id: str,
        chunkspec: str | None,
        txn_header: str | None,
        data: str,
        fmt: str,
    ) -> tuple[int, dict[str, Any]]:
        """postPretrain: store one chunk; start pretraining when all chunks are in.

        Returns the HTTP status (200 once pretrained, else 202) and the response body."""
        index, count = parse_chunkspec(chunkspec)
        values = np.ascontiguousarray(parse_data(data, fmt), dtype="<f8")
        digest = hashlib.sha256(values.data).hexdigest()  # of the values, any format
        blob = stored_form(values, exact_float32=fmt != "csv")
        svc = self.models
        txn_id = (txn_header or "").strip()
        spec = f"{index}:{count}"
        job: Feeder | None = None
        with svc.model(account_id, model_id) as lm:
            engine = lm.configured()
            new = not txn_id
            have: dict[int, str] = {}
            if new and count == 1:
                again = self._resent_single(lm, digest)
                if again is not None:
                    # The same single chunk again, and nothing happened to the model since:
                    # a client that lost the answer (it has no txnId to send). Acknowledge it.
                    svc.count(model_id, "postPretrain")
                    return self._reply(lm.row.pretrain_status, self._message(lm), again, spec)
            if new:
                txn_id = secrets.token_hex(12)
            else:
                with svc.store.read() as tx:
                    txn = tx.get_txn(txn_id)
                    if txn is None or txn[0] != model_id:
                        raise BadRequest(f"unknown txnId {_short(txn_id)} for model {model_id}")
                    have = tx.chunk_digests(txn_id)
                if txn[1] != count:
                    raise BadRequest(
                        f"chunkspec {spec} does not match transaction {txn_id}, which has "
                        f"{txn[1]} chunks"
                    )
                if index in have:
                    if have[index] != digest:
                        raise BadRequest(
                            f"chunk {index} of {count} was already received, with different data"
                        )
                    # The same chunk again (a client retrying after a lost answer): acknowledge
                    # it with the current state and change nothing.
                    svc.count(model_id, "postPretrain")
                    return self._reply(lm.row.pretrain_status, self._message(lm), txn_id, spec)
            if lm.pretraining:
                raise BadRequest(
                    f"model {model_id} is already pretraining; wait until getPretrain reports "
                    "Pretrained"
                )
            complete = len(have) + 1 == count
            feeder = None if new else self._live(model_id, txn_id)
            if feeder is None and not new:
                # no job (a restart, or it ended idle): a new one from the stored chunks
                feeder = self._restore(model_id, txn_id, count, lm.row.config or "")
            if complete:
                total = len(values) + (0 if feeder is None else feeder.received)
                nf = engine.config.feature_count
                if total % nf:
                    raise BadRequest(
                        f"the pretraining data holds {total} values, which is not a "
                        f"multiple of the number of features ({nf})"
                    )

            def store_chunk(tx: Tx) -> None:
                if new:
                    tx.delete_pretrain(model_id)
                    tx.create_txn(txn_id, model_id, count, time.time())
                tx.add_chunk(txn_id, index, digest, blob)

            if complete:
                status, message = "Pretraining", "Pretraining: 0% done"
            else:
                status, message = "Chunking", f"Received {len(have) + 1} of {count} chunks"
            config = lm.row.config or ""
            # A running job gets the chunk while it is being stored, so the engine need not
            # wait for the write; if the write fails, the job starts over from storage.
            early = feeder is not None and feeder.add(index, values, complete, config)
            try:
                svc.commit(
                    lm,
                    usage="postPretrain",
                    extra=store_chunk,
                    pretrain_status=status,
                    pretrain_message=message,
                )
            except BaseException:
                if early and feeder is not None:
                    feeder.cancel()  # it holds a chunk that was not stored
                raise
            if feeder is None:
                feeder = self._open(model_id, txn_id, count, config)
            if not early and not feeder.add(index, values, complete, config):
                feeder = self._restore(model_id, txn_id, count, config)  # it had just ended
            job = feeder if complete else None
        if job is not None and job.done.wait(self.wait_seconds):
            with svc.model(account_id, model_id) as lm:
                status, message = lm.row.pretrain_status, lm.row.pretrain_message
        return self._reply(status, message, txn_id, spec)

    def _resent_single(self, lm: LoadedModel, digest: str) -> str | None:
        """The txnId of the model's last upload if it was this one chunk and the model has not
        changed since (still pretraining on it, or pretrained on it with nothing after)."""
        with self.models.store.read() as tx:
            txns = tx.txns_of_model(lm.row.id)
            if not txns or txns[-1][1] != 1 or tx.chunk_digests(txns[-1][0]) != {1: digest}:
                return None
        last = txns[-1][0]
        if lm.pretraining:
            return last
        with self._guard:
            done = self._done.get(lm.row.id)
        if lm.row.pretrain_status == "Pretrained" and done == (last, lm.row.seq):
            return last
        return None

    @staticmethod
    def _reply(status: str, message: str, txn_id: str, spec: str) -> tuple[int, dict[str, Any]]:
        if status == "None":  # the upload's pretraining failed; message says why
            raise BadRequest(message or "pretraining failed")
        body = wire.pretrain_answer(status, message, txn_id, spec)
        return (200 if status == "Pretrained" else 202), body

    def _message(self, lm: LoadedModel) -> str:
        if lm.pretraining:
            return f"Pretraining: {self.progress(lm.row.id)}% done"
        return lm.row.pretrain_message

    def get(self, account_id: int, model_id: str) -> dict[str, Any]:
        """getPretrain."""
        svc = self.models
        with svc.model(account_id, model_id) as lm:
            svc.count(model_id, "getPretrain")
            return wire.pretrain_answer(lm.row.pretrain_status, self._message(lm))

    def progress(self, model_id: str) -> int:
        """Percent done of the model's running pretraining (0 if none)."""
        with self._guard:
            job = self._jobs.get(model_id)
        return int(100 * job.progress) if job is not None and job.complete else 0

    # ------------------------------------------------------------------ jobs

    def _live(self, model_id: str, txn_id: str) -> Feeder | None:
        """The running job of the model's upload ``txn_id``, if any."""
        with self._guard:
            job = self._jobs.get(model_id)
        live = job is not None and job.txn_id == txn_id and not (job.ended or job.cancelled)
        return job if live else None

    def _open(self, model_id: str, txn_id: str, count: int, config: str) -> Feeder:
        """Start the job of an upload (replacing the model's previous one)."""
        job = Feeder(
            model_id,
            txn_id,
            count,
            config,
            functools.partial(self._stored_values, txn_id),
            self.idle_seconds,
        )
        with self._guard:
            if self._stopping:
                return job  # never runs: resumed at the next start
            old = self._jobs.get(model_id)
            self._jobs[model_id] = job
        if old is not None:
            old.cancel()
        job.thread = threading.Thread(
            target=self._run, args=(job,), name=f"pretrain-{model_id}", daemon=True
        )
        job.thread.start()
        return job

    def _restore(self, model_id: str, txn_id: str, count: int, config: str) -> Feeder:
        """Start a job on the stored chunks of an upload (complete if all of them are)."""
        with self.models.store.read() as tx:
            chunks = tx.load_chunks(txn_id)
        job = self._open(model_id, txn_id, count, config)
        for k, (index, data) in enumerate(chunks):
            last = k == len(chunks) - 1 and len(chunks) == count
            job.add(index, stored_values(data), last, config)
        return job

    def _stored_values(self, txn_id: str) -> FloatArray:
        with self.models.store.read() as tx:
            chunks = tx.load_chunks(txn_id)
        return np.concatenate([stored_values(d) for _, d in chunks])

    def _run(self, job: Feeder) -> None:
        pretrained = False
        try:
            engine = job.run()
        except Cancelled:
            return
        except EngineError as exc:
            self._finish(job, None, f"pretraining failed: {exc}")
        except Exception:
            log.exception("pretraining of model %s failed", job.model_id)
            self._finish(job, None, "pretraining failed: internal error")
        else:
            pretrained = self._finish(job, engine, f"Pretrained on {job.received} values")
        finally:
            job.end()
            with self._guard:
                if self._jobs.get(job.model_id) is job:
                    del self._jobs[job.model_id]
            job.done.set()
        if pretrained:
            self._release(job)

    def _release(self, job: Feeder) -> None:
        """Drop a pretrained upload's chunk data, after the answer: the pretraining is already
        durable, and data left by a stop in between is dropped at the next start."""
        try:
            self.models.store.grouped(functools.partial(Tx.release_txn, txn_id=job.txn_id))
        except Exception:
            if not self.models.store.closed:
                log.exception("could not release the pretrain data of model %s", job.model_id)

    def _finish(self, job: Feeder, engine: AmberModel | None, message: str) -> bool:
        """Commit the job's outcome; True when the model is now Pretrained on it."""
        svc = self.models
        try:
            with svc.model(None, job.model_id) as lm:
                if job.cancelled or lm.row.pretrain_status != "Pretraining":
                    return False
                if engine is None:
                    release = functools.partial(Tx.release_chunks, model_id=job.model_id)
                    svc.commit(lm, extra=release, pretrain_status="None", pretrain_message=message)
                    return False
                lm.engine = engine
                now = time.time()
                svc.commit(
                    lm,
                    snapshot=True,
                    pretrain_status="Pretrained",
                    pretrain_message=message,
                    last_data=now,
                    modified=now_iso(now),
                    total_samples=lm.row.total_samples + job.received,
                )
                with self._guard:
                    self._done[job.model_id] = (job.txn_id, lm.row.seq)
                return True
        except NotFound:
            return False  # the model was deleted meanwhile
        except Exception:
            if not svc.store.closed:
                log.exception("could not store the pretraining of model %s", job.model_id)
            return False

    def resume_all(self) -> None:
        """Restart the pretrainings that a stop or crash interrupted (and drop the chunk data
        of finished ones that a stop left behind)."""
        svc = self.models
        svc.store.grouped(Tx.release_pretrained)
        with svc.store.read() as tx:
            rows = tx.models_pretraining()
        for row in rows:
            with svc.store.read() as tx:
                txns = tx.txns_of_model(row.id)
                stored = len(tx.chunk_digests(txns[-1][0])) if txns else 0
            if txns and row.config and stored == txns[-1][1]:
                log.info("resuming the pretraining of model %s", row.id)
                self._restore(row.id, txns[-1][0], txns[-1][1], row.config)
                continue
            with svc.model(None, row.id) as lm:
                svc.commit(
                    lm,
                    delete_pretrain=True,
                    pretrain_status="None",
                    pretrain_message="pretraining was interrupted and its data is missing",
                )

    def forget(self, model_id: str) -> None:
        """Abandon the pretraining of a deleted model."""
        with self._guard:
            job = self._jobs.pop(model_id, None)
            self._done.pop(model_id, None)
        if job is not None:
            job.cancel()

    def stop(self, timeout: float = 10.0) -> None:
        """Cancel running jobs (they resume at the next start) and wait for their threads."""
        with self._guard:
            self._stopping = True
            jobs = list(self._jobs.values())
        for job in jobs:
            job.cancel()
        deadline = time.monotonic() + timeout
        for job in jobs:
            if job.thread is not None:
                job.thread.join(max(0.0, deadline - time.monotonic()))
