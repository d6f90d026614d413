"""The background job of one pretrain upload: pretrains while the chunks are still arriving.

A :class:`Feeder` is started with an upload's first chunk. Its thread feeds the chunks, in
order, into an engine :class:`~boonamber.local.engine.model.PretrainFeed` as soon as the
prefix ``1..k`` is in, so the engine works while the client is still encoding and sending;
the result is the same as pretraining on all the data at once. If anything goes wrong on the
way (bad values, an engine error, a configuration that changed), the job pretrains on all
the chunks once the upload is complete, exactly as a one-shot pretraining would, so errors
read the same. A feeder left without chunks for ``idle_seconds`` ends itself (its chunks stay
stored; the next chunk starts a new feeder from them).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import numpy as np
import orjson

import boonamber.local.wire as wire
from boonamber.local.engine import AmberModel
from boonamber.local.engine.model import PretrainFeed
from boonamber.local.engine.patterns import as_vectors
from boonamber.local.parsing import FloatArray

log = logging.getLogger("boonamber.local")


class Cancelled(Exception):
    """The job was cancelled (model deleted, server stopping) or ended idle."""


class Feeder:
    """Chunks of one upload (transaction) in, one pretrained engine out."""

    def __init__(
        self,
        model_id: str,
        txn_id: str,
        count: int,
        config: str,
        load_values: Callable[[], FloatArray],
        idle_seconds: float,
    ) -> None:
        self.model_id, self.txn_id, self.count, self.config = model_id, txn_id, count, config
        #: all the upload's values from storage (for the one-shot path)
        self._load_values = load_values
        self._idle = idle_seconds
        self._cond = threading.Condition()
        self._parts: dict[int, FloatArray] = {}
        self._next = 1  # index of the next chunk to feed
        self.received = 0  # values in the chunks added
        self.complete = False
        self.cancelled = False
        self.ended = False  # the thread ended (no chunk is accepted any more)
        self.progress = 0.0
        self.done = threading.Event()
        self.thread: threading.Thread | None = None

    # ------------------------------------------------------------------ from requests

    def add(self, index: int, values: FloatArray, complete: bool, config: str) -> bool:
        """Hand over chunk ``index``, stored or being stored (a failed write cancels the
        feeder); ``complete`` when it is the upload's last one, with the model's ``config`` at
        that moment. False if the feeder ended or was cancelled."""
        with self._cond:
            if self.ended or self.cancelled:
                return False
            self._parts[index] = values
            self.received += len(values)
            if complete:
                self.complete = True
                if config != self.config:  # cannot happen today (postConfig ends uploads)
                    self.config, self._parts = config, {}
                    self._next = 0  # nothing fed counts: one-shot on the stored chunks
            self._cond.notify()
            return True

    def cancel(self) -> None:
        with self._cond:
            self.cancelled = True
            self._cond.notify()

    def end(self) -> None:
        """The thread is ending: accept no more chunks."""
        with self._cond:
            self.ended = True

    def on_progress(self, fraction: float) -> None:
        """Engine progress; raises Cancelled to abandon the work."""
        if self.cancelled:
            raise Cancelled
        self.progress = max(self.progress, min(1.0, float(fraction)))

    # ------------------------------------------------------------------ the job's thread

    def run(self) -> AmberModel:
        """Pretrain: the engine (EngineError on bad data, Cancelled when abandoned)."""
        engine_config = wire.parse_config(orjson.loads(self.config))
        nf = engine_config.feature_count
        feed: PretrainFeed | None = PretrainFeed(engine_config, progress=self.on_progress)
        tail = np.zeros(0)
        while True:
            piece, last = self._next_piece()
            if piece is None:  # the fed chunks no longer count
                feed = None
            elif feed is not None:
                try:
                    values = np.concatenate((tail, piece)) if len(tail) else piece
                    whole = len(values) if last else len(values) - len(values) % nf
                    feed.add(as_vectors(values[:whole], nf), last=last)
                    tail = values[whole:]
                except Cancelled:
                    raise
                except Exception as exc:  # redone one-shot at the end: it reports as today
                    log.debug("pretraining of model %s goes one-shot: %r", self.model_id, exc)
                    feed = None
            if last:
                break
        if feed is not None:
            return feed.result()
        engine = AmberModel(wire.parse_config(orjson.loads(self.config)))
        engine.pretrain(self._load_values(), progress=self.on_progress)
        return engine

    def _next_piece(self) -> tuple[FloatArray | None, bool]:
        """The next chunk in order and whether it is the last (None, True when the fed
        chunks no longer count); waits for it."""
        with self._cond:
            while True:
                if self.cancelled:
                    self.ended = True
                    raise Cancelled
                if self._next == 0:
                    return None, True
                if self._next in self._parts:
                    piece = self._parts.pop(self._next)
                    self._next += 1
                    return piece, self.complete and self._next > self.count
                if not self._cond.wait(self._idle) and not self.complete:
                    self.ended = True  # idle: the next chunk starts over from storage
                    raise Cancelled
