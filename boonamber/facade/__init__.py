"""The handwritten Amber client (``AmberClient``) that wraps the generated ``boonamber.v2``.

``from boonamber import AmberClient, AmberCloudError, AmberUserError`` is the usual entry;
this package also exports the rest of the error hierarchy, the result type and the retry
policy. numpy and pandas are imported only when data needs them, asyncio and httpx only
when ``AsyncAmberClient`` is first used.
"""

from typing import TYPE_CHECKING, Any

from boonamber.facade.client import AmberClient
from boonamber.facade.errors import (
    AmberAuthenticationError,
    AmberCloudError,
    AmberConnectionError,
    AmberError,
    AmberPretrainTimeoutError,
    AmberTimeoutError,
    AmberUserError,
)
from boonamber.facade.results import AmberResult
from boonamber.facade.retry import RetryPolicy

if TYPE_CHECKING:
    from boonamber.facade.async_client import AsyncAmberClient

__all__ = [
    "AmberAuthenticationError",
    "AmberClient",
    "AmberCloudError",
    "AmberConnectionError",
    "AmberError",
    "AmberPretrainTimeoutError",
    "AmberResult",
    "AmberTimeoutError",
    "AmberUserError",
    "AsyncAmberClient",
    "RetryPolicy",
]


def __getattr__(name: str) -> Any:
    if name == "AsyncAmberClient":
        from boonamber.facade.async_client import AsyncAmberClient

        return AsyncAmberClient
    raise AttributeError(f"module 'boonamber.facade' has no attribute {name!r}")
