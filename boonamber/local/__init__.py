"""The local Amber-compatible server: engine, HTTP service, auth and SQLite storage.

``from boonamber.local import EmbeddedServer`` runs one in-process; ``python -m boonamber.local
serve`` runs one in the foreground. Importing this package stays light: the server's modules
(and numpy, starlette, uvicorn) load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from boonamber.local.embedded import EmbeddedServer

__all__ = ["EmbeddedServer"]


def __getattr__(name: str) -> Any:
    if name == "EmbeddedServer":
        from boonamber.local.embedded import EmbeddedServer

        return EmbeddedServer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
