"""Group commits of the calls run on the event loop: the writes of every call handled in one
loop iteration are committed together, on the loop, right after it (one transaction, no
thread hand-off), and each call awaits its own outcome before answering."""

from __future__ import annotations

import asyncio
import logging

from boonamber.local.storage import Store, Write

log = logging.getLogger("boonamber.local")

#: Seconds before trying again when the database is busy with a thread's transaction.
RETRY_DELAY = 0.0005


class LoopCommits:
    """Collects the writes of a loop iteration and commits them once it ends."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._writes: list[Write] = []
        self._waiters: list[tuple[asyncio.Future[None], int, int]] = []
        self._scheduled = False

    async def commit(self, writes: list[Write]) -> None:
        """Return once ``writes`` are committed; raise the first error among them (or the
        COMMIT's)."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        self._waiters.append((done, len(self._writes), len(writes)))
        self._writes.extend(writes)
        if not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._flush, loop)
        await done

    def _flush(self, loop: asyncio.AbstractEventLoop) -> None:
        writes, waiters = self._writes, self._waiters
        try:
            errors = self.store.try_commit(writes)
        except BaseException as exc:
            failure: BaseException | None = exc
            errors = []
        else:
            if errors is None:  # a thread holds the database: soon again (more may join)
                loop.call_later(RETRY_DELAY, self._flush, loop)
                return
            failure = None
        self._writes, self._waiters, self._scheduled = [], [], False
        for write in writes:
            write.saved.set()
        for done, start, n in waiters:
            if done.done():  # cancelled
                continue
            error = failure or next((e for e in errors[start : start + n] if e), None)
            if error is not None:
                done.set_exception(error)
            else:
                done.set_result(None)
