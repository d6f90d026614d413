"""Shared fixtures: a local Amber server on loopback and a generated client logged in to it.

- ``amber_server``: one :class:`~boonamber.local.embedded.EmbeddedServer` per session
  (in-memory database); ``.url``, ``.license_key``, ``.secret_key``, ``.create_account()``.
- ``amber_api``: a fresh generated ``boonamber.v2.DefaultApi`` per test, logged in to
  ``amber_server`` with ``post_oauth2_access``.
- ``amber_login``: ``amber_login(server)`` logs a new generated client in to any server
  (optionally with other credentials: ``amber_login(server, license_key, secret_key)``).
- ``fresh_server``: a factory ``fresh_server(token_ttl=..., db_path=..., max_body_bytes=...)``
  returning a started server of its own, stopped at teardown.

Heavy imports happen inside the fixtures, so tests that do not use them pay nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest
from helpers import login_api

if TYPE_CHECKING:
    from boonamber.local.embedded import EmbeddedServer
    from boonamber.v2 import DefaultApi


@pytest.fixture(scope="session")
def amber_server() -> Iterator[EmbeddedServer]:
    """A local Amber server (in-memory database) shared by the whole session."""
    from boonamber.local.embedded import EmbeddedServer

    server = EmbeddedServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def amber_api(amber_server: EmbeddedServer) -> DefaultApi:
    """The generated client, logged in to ``amber_server``."""
    return login_api(amber_server.url, amber_server.license_key, amber_server.secret_key)


@pytest.fixture
def amber_login() -> Callable[..., DefaultApi]:
    """``amber_login(server, license_key=None, secret_key=None)``: a logged-in client."""

    def login(
        server: EmbeddedServer, license_key: str | None = None, secret_key: str | None = None
    ) -> DefaultApi:
        return login_api(
            server.url, license_key or server.license_key, secret_key or server.secret_key
        )

    return login


@pytest.fixture
def fresh_server() -> Iterator[Callable[..., EmbeddedServer]]:
    """A factory of dedicated servers: ``fresh_server(token_ttl=1.0, db_path=str(path))``."""
    from boonamber.local.embedded import EmbeddedServer

    started: list[EmbeddedServer] = []

    def factory(**kwargs: Any) -> EmbeddedServer:
        server = EmbeddedServer(**kwargs).start()
        started.append(server)
        return server

    try:
        yield factory
    finally:
        for server in reversed(started):
            server.stop()
