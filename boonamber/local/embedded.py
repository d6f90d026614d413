"""Run the local Amber server in-process, on a background thread (tests, examples, demos)."""

from __future__ import annotations

import threading
import time
from types import TracebackType
from typing import Any

from boonamber.local.defaults import DEFAULT_HOST, DEFAULT_MAX_BODY_BYTES, DEFAULT_TOKEN_TTL
from boonamber.local.runner import bind_socket, server_url

__all__ = ["EmbeddedServer", "bind_socket", "server_url"]


class EmbeddedServer:
    """A local Amber server on a daemon thread; an account is created at :meth:`start`.

    >>> with EmbeddedServer() as server:   # doctest: +SKIP
    ...     print(server.url, server.license_key)
    """

    def __init__(
        self,
        db_path: str = ":memory:",
        host: str = DEFAULT_HOST,
        port: int = 0,
        token_ttl: float = DEFAULT_TOKEN_TTL,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    ) -> None:
        self.db_path = db_path
        self.host = host
        self.port = port
        self.token_ttl = token_ttl
        self.max_body_bytes = max_body_bytes
        self.url = ""
        self.license_key = ""
        self.secret_key = ""
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._service: Any = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"EmbeddedServer(url={self.url!r}, db_path={self.db_path!r})"

    @property
    def service(self) -> Any:
        """The :class:`boonamber.local.service.Service` behind the server (None if stopped)."""
        return self._service

    def start(self) -> EmbeddedServer:
        """Open the database, create an account and serve; return once connections are
        accepted."""
        from boonamber.local.runner import amber_server, open_service

        with self._lock:
            if self._thread is not None:
                return self
            service = open_service(self.db_path, token_ttl=self.token_ttl)
            try:
                service.start()
                self.license_key, self.secret_key = service.auth.create_account()
                sock = bind_socket(self.host, self.port)
            except BaseException:
                service.close()
                raise
            port = sock.getsockname()[1]
            server = amber_server(service, max_body_bytes=self.max_body_bytes)
            thread = threading.Thread(
                target=server.run,
                kwargs={"sockets": [sock]},
                name=f"amber-local-{port}",
                daemon=True,
            )
            thread.start()
            deadline = time.monotonic() + 30.0
            while not server.started:
                if not thread.is_alive() or time.monotonic() > deadline:
                    server.should_exit = True
                    thread.join(5.0)
                    sock.close()
                    service.close()
                    raise RuntimeError("the embedded Amber server failed to start")
                time.sleep(0.005)
            self.port = port
            self.url = server_url(self.host, port)
            self._server, self._thread, self._service = server, thread, service
        return self

    def create_account(self) -> tuple[str, str]:
        """Create another account; returns its ``(license_key, secret_key)``."""
        if self._service is None:
            raise RuntimeError("the server is not running")
        result: tuple[str, str] = self._service.auth.create_account()
        return result

    def stop(self) -> None:
        """Finish in-flight requests, stop serving and close the database (idempotent)."""
        with self._lock:
            server, thread, service = self._server, self._thread, self._service
            self._server = self._thread = self._service = None
        if server is not None:
            server.should_exit = True
        if thread is not None:
            thread.join(30.0)
        if service is not None:
            service.close()

    def __enter__(self) -> EmbeddedServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
