"""boonamber: the Python SDK for Boon Logic's Amber v2 anomaly-detection service.

- ``boonamber.AmberClient`` (with ``AmberCloudError`` and ``AmberUserError``): the
  handwritten client most users want (``boonamber.facade``).
- ``boonamber.v2``: the client generated from ``openapi/amber-v2.yaml``.
- ``boonamber.local``: an offline Amber-compatible server (extra ``boonamber[local]``).

Attributes are imported lazily so that ``import boonamber`` stays fast.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from boonamber._version import __version__

__all__ = [
    "AmberClient",
    "AmberCloudError",
    "AmberUserError",
    "AsyncAmberClient",
    "__version__",
    "plot",
]

_FACADE = ("AmberClient", "AmberCloudError", "AmberUserError", "AsyncAmberClient")

if TYPE_CHECKING:
    from boonamber.facade import AmberClient, AmberCloudError, AmberUserError, AsyncAmberClient
    from boonamber.plotting import plot


def __getattr__(name: str) -> Any:
    if name in _FACADE:
        return getattr(import_module("boonamber.facade"), name)
    if name == "plot":
        return import_module("boonamber.plotting").plot
    raise AttributeError(f"module 'boonamber' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
