"""Requests running on worker threads, and the shutdown that gives up on them.

A shutdown waits a grace period for the requests in flight, then gives up on those that have
not committed anything yet: each is answered 503 at once and its thread, which runs on, can no
longer commit (its first commit raises :class:`Abandoned`). A request that has begun to commit
is waited for and answered, so whatever a client was not told about was not applied."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

SHUTTING_DOWN = "the server is shutting down: the request was not applied (send it again later)"


class Abandoned(Exception):
    """The request was given up on (the server is shutting down) before it changed anything."""


class Ticket:
    """One request's right to commit: taken by its first commit, or withdrawn by the shutdown,
    whichever comes first (atomically)."""

    def __init__(self, on_abandon: Callable[[], None]) -> None:
        self._lock = threading.Lock()
        self._claimed = False
        self._abandoned = False
        self._on_abandon = on_abandon

    def claim(self) -> None:
        """Before the request's first write; Abandoned if the shutdown gave up on it."""
        with self._lock:
            if self._abandoned:
                raise Abandoned(SHUTTING_DOWN)
            self._claimed = True

    def abandon(self) -> bool:
        """Give up on the request unless it has begun to commit; returns whether it did (and
        then calls ``on_abandon``, on the caller's thread)."""
        with self._lock:
            if self._claimed or self._abandoned:
                return False
            self._abandoned = True
        self._on_abandon()
        return True


# The ticket of the request the current thread works for (None outside such a request).
_current: ContextVar[Ticket | None] = ContextVar("request_ticket", default=None)


def current_ticket() -> Ticket | None:
    """The ticket the current thread's writes must claim (see :meth:`Ticket.claim`)."""
    return _current.get()


@contextmanager
def working_for(ticket: Ticket) -> Iterator[None]:
    """Run the enclosed work (on a worker thread) on behalf of ``ticket``'s request."""
    token = _current.set(ticket)
    try:
        yield
    finally:
        _current.reset(token)


class InFlight:
    """The tickets of the requests running on worker threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tickets: set[Ticket] = set()

    @contextmanager
    def track(self, on_abandon: Callable[[], None]) -> Iterator[Ticket]:
        """A ticket for one request, known to :meth:`abandon_all` while the block runs."""
        ticket = Ticket(on_abandon)
        with self._lock:
            self._tickets.add(ticket)
        try:
            yield ticket
        finally:
            with self._lock:
                self._tickets.discard(ticket)

    def abandon_all(self) -> int:
        """Give up on every request that has not begun to commit; returns how many. On the
        event loop (each ``on_abandon`` cancels a request's wait there)."""
        with self._lock:
            tickets = list(self._tickets)
        return sum(ticket.abandon() for ticket in tickets)
