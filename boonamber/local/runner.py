"""What every way of running the local server shares: the service on its database, the
listening socket and the uvicorn server (used by ``serve`` and EmbeddedServer)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import sys
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from boonamber.local.defaults import (
    BLAS_THREADS,
    DEFAULT_JOURNAL_MAX_OPS,
    DEFAULT_KEEP_ALIVE,
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_SHUTDOWN_GRACE,
    DEFAULT_SYNCHRONOUS,
    DEFAULT_TOKEN_TTL,
    SHUTDOWN_FINISH,
)

_BLAS_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
_SIGNALS = (signal.SIGINT, signal.SIGTERM)

log = logging.getLogger("boonamber.local")


def limit_blas_threads() -> bool:
    """Ask the BLAS library for BLAS_THREADS threads (unless the environment says otherwise).
    Only works before numpy is imported; returns whether it could still apply."""
    if "numpy" in sys.modules:
        return False
    for name in _BLAS_VARIABLES:
        os.environ.setdefault(name, str(BLAS_THREADS))
    return True


if TYPE_CHECKING:
    import uvicorn

    from boonamber.local.inflight import InFlight
    from boonamber.local.service import Service


def open_service(
    db_path: str,
    *,
    token_ttl: float = DEFAULT_TOKEN_TTL,
    journal_max_ops: int = DEFAULT_JOURNAL_MAX_OPS,
    synchronous: str = DEFAULT_SYNCHRONOUS,
) -> Service:
    """The service on the SQLite database ``db_path`` (``:memory:`` for a throwaway one).
    BLAS is limited first (for ``serve`` and EmbeddedServer alike; it only takes effect when
    numpy is not loaded yet)."""
    limit_blas_threads()
    from boonamber.local.service import Service
    from boonamber.local.storage import Store

    store = Store(db_path, synchronous=synchronous)
    return Service(store, token_ttl=token_ttl, journal_max_ops=journal_max_ops)


def amber_server(
    service: Service,
    *,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    log_level: str = "warning",
    access_log: bool = False,
) -> uvicorn.Server:
    """The uvicorn server for ``service`` (uvloop if installed, h11, no lifespan). SIGINT and
    SIGTERM stop it (in the main thread); its shutdown waits DEFAULT_SHUTDOWN_GRACE seconds for
    the requests in flight, answers 503 those that have not begun to commit (see inflight),
    and waits up to SHUTDOWN_FINISH seconds more for the rest."""
    import uvicorn

    from boonamber.local.app import AmberApp

    amber = AmberApp(service, max_body_bytes)
    config = uvicorn.Config(
        amber.build(),
        log_level=log_level,
        access_log=access_log,
        lifespan="off",
        # uvloop when installed (the ``local`` extra pins it), else asyncio: it halves the
        # event loop's share of a request. h11, not httptools: uvicorn's httptools protocol
        # lowercases header names, and the spec's ``txnId`` header keeps its spelling.
        loop="auto",
        http="h11",
        timeout_keep_alive=DEFAULT_KEEP_ALIVE,
        timeout_graceful_shutdown=DEFAULT_SHUTDOWN_GRACE + SHUTDOWN_FINISH,
    )
    server: uvicorn.Server = _server_class()(config, amber.in_flight)
    return server


def _server_class() -> type[Any]:
    import uvicorn

    class AmberServer(uvicorn.Server):
        """uvicorn's server, but SIGINT/SIGTERM only stop it (uvicorn would re-raise the signal
        after shutdown and kill the process before the database is closed), and its shutdown
        gives up on uncommitted requests after the grace period."""

        def __init__(self, config: uvicorn.Config, in_flight: InFlight) -> None:
            super().__init__(config)
            self.in_flight = in_flight

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            if threading.current_thread() is not threading.main_thread():
                yield  # signals only reach the main thread (EmbeddedServer runs in another)
                return
            previous = {sig: signal.signal(sig, self.handle_exit) for sig in _SIGNALS}
            try:
                yield
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)

        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            loop = asyncio.get_running_loop()
            timer = loop.call_later(DEFAULT_SHUTDOWN_GRACE, self._give_up)
            try:
                await super().shutdown(sockets)
            finally:
                timer.cancel()

        def _give_up(self) -> None:
            count = self.in_flight.abandon_all()
            if count:
                log.warning(
                    "shutting down: %d request(s) still running after %s s were answered 503 "
                    "and will not be applied",
                    count,
                    DEFAULT_SHUTDOWN_GRACE,
                )

    return AmberServer


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (port 0 picks a free one)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    family, kind, proto, _, address = infos[0]
    # proto must be IPPROTO_TCP: asyncio only sets TCP_NODELAY on such sockets (else every
    # response waits ~40 ms for a delayed ACK).
    sock = socket.socket(family, kind, proto or socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def server_url(host: str, port: int) -> str:
    """The API base URL (with ``/v2``) of a server listening on ``host:port``."""
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/v2"
