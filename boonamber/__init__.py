"""boonamber: the Python SDK for Boon Logic's Amber v2 anomaly-detection service.

- ``boonamber.AmberClient`` (with ``AmberCloudError`` and ``AmberUserError``): the
  handwritten client most users want (``boonamber.facade``); ``AsyncAmberClient`` is its
  asyncio twin and ``plot`` draws results (extra ``boonamber[plot]``).
- ``boonamber.AmberV2Client``: the same client with the official ``boonamber`` 2.x surface,
  so that code written for the official SDK runs unchanged; with it, as there, ``ApiException``
  (the root of every error), every generated model (``boonamber.FeatureConfig``, ...) and
  ``float_list_to_csv_string``. See ``docs/compat.md``.
- ``boonamber.v2``: the client generated from ``openapi/amber-v2.yaml``.
- ``boonamber.local``: an offline Amber-compatible server (extra ``boonamber[local]``).

Attributes are imported lazily so that ``import boonamber`` stays fast.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from boonamber._version import __version__ as __version__

# name -> the module that defines it (the generated models are looked up in boonamber.v2.models)
_EXPORTS: dict[str, str] = {
    "AmberClient": "boonamber.facade.client",
    "AmberV2Client": "boonamber.facade.compat",
    "AsyncAmberClient": "boonamber.facade.async_client",
    "plot": "boonamber.plotting",
    "float_list_to_csv_string": "boonamber.facade.compat",
    "ApiException": "boonamber.v2.exceptions",
    **dict.fromkeys(
        (
            "AmberError",
            "AmberUserError",
            "AmberCloudError",
            "AmberConnectionError",
            "AmberTimeoutError",
            "AuthenticationError",
            "BadRequestError",
            "ConflictError",
            "NotFoundError",
            "PermissionDeniedError",
            "RateLimitError",
            "ServerError",
            "UnprocessableEntityError",
        ),
        "boonamber.facade.errors",
    ),
}
_MODELS = "boonamber.v2.models"

if TYPE_CHECKING:  # the lazy attributes, for type checkers (explicit re-exports)
    from boonamber.facade.async_client import AsyncAmberClient as AsyncAmberClient
    from boonamber.facade.client import AmberClient as AmberClient
    from boonamber.facade.compat import AmberV2Client as AmberV2Client
    from boonamber.facade.compat import float_list_to_csv_string as float_list_to_csv_string
    from boonamber.facade.errors import AmberCloudError as AmberCloudError
    from boonamber.facade.errors import AmberConnectionError as AmberConnectionError
    from boonamber.facade.errors import AmberError as AmberError
    from boonamber.facade.errors import AmberTimeoutError as AmberTimeoutError
    from boonamber.facade.errors import AmberUserError as AmberUserError
    from boonamber.facade.errors import AuthenticationError as AuthenticationError
    from boonamber.facade.errors import BadRequestError as BadRequestError
    from boonamber.facade.errors import ConflictError as ConflictError
    from boonamber.facade.errors import NotFoundError as NotFoundError
    from boonamber.facade.errors import PermissionDeniedError as PermissionDeniedError
    from boonamber.facade.errors import RateLimitError as RateLimitError
    from boonamber.facade.errors import ServerError as ServerError
    from boonamber.facade.errors import UnprocessableEntityError as UnprocessableEntityError
    from boonamber.plotting import plot as plot
    from boonamber.v2.exceptions import ApiException as ApiException
    from boonamber.v2.models import *  # noqa: F403


def _all() -> list[str]:
    models: list[str] = list(import_module(_MODELS).__all__)
    return sorted({*_EXPORTS, *models, "__version__"})


def __getattr__(name: str) -> Any:
    if name == "__all__":  # computed on first use: the model names come from boonamber.v2
        names = globals()["__all__"] = _all()
        return names
    module = _EXPORTS.get(name)
    if module is not None:
        return getattr(import_module(module), name)
    if not name.startswith("_"):
        models = import_module(_MODELS)
        if name in models.__all__:
            return getattr(models, name)
    raise AttributeError(f"module 'boonamber' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_all()))
