"""What every way of running the local server shares: the service on its database, the
listening socket and the uvicorn configuration (used by ``serve`` and EmbeddedServer)."""

from __future__ import annotations

import os
import socket
import sys
from typing import TYPE_CHECKING

from boonamber.local.defaults import (
    BLAS_THREADS,
    DEFAULT_JOURNAL_MAX_OPS,
    DEFAULT_KEEP_ALIVE,
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_SHUTDOWN_GRACE,
    DEFAULT_SYNCHRONOUS,
    DEFAULT_TOKEN_TTL,
)

_BLAS_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


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


def uvicorn_config(
    service: Service,
    *,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    log_level: str = "warning",
    access_log: bool = False,
) -> uvicorn.Config:
    """The uvicorn configuration serving ``service`` (uvloop if installed, h11, no lifespan)."""
    import uvicorn

    from boonamber.local.app import create_app

    return uvicorn.Config(
        create_app(service, max_body_bytes),
        log_level=log_level,
        access_log=access_log,
        lifespan="off",
        # uvloop when installed (the ``local`` extra pins it), else asyncio: it halves the
        # event loop's share of a request. h11, not httptools: uvicorn's httptools protocol
        # lowercases header names, and the spec's ``txnId`` header keeps its spelling.
        loop="auto",
        http="h11",
        timeout_keep_alive=DEFAULT_KEEP_ALIVE,
        timeout_graceful_shutdown=DEFAULT_SHUTDOWN_GRACE,
    )


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
