"""Reading the server's answers: raw bytes to a decoded JSON object, once.

The request core (:mod:`boonamber.facade.operations`) builds and sends each request with the
generated client; for answers that are JSON models the facade decodes the body itself,
with ``orjson`` when it is installed (the default install has it), else the standard
``json``, and builds the generated model from it only on demand (``AmberResult``). Error
answers still go through the generated deserializer and ``ApiException``, so that error
translation sees what it always saw.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import BaseModel

    from boonamber.facade.operations import Operation

__all__ = ["Answer", "decode", "loads", "response_model"]

_loads: Callable[[bytes], Any] | None = None


def loads(data: bytes) -> Any:
    """Decode JSON bytes (``orjson`` when installed, else the standard ``json``)."""
    global _loads
    if _loads is None:
        try:
            import orjson

            _loads = orjson.loads
        except ImportError:  # pragma: no cover - orjson is a default dependency
            import json

            _loads = json.loads
    return _loads(data)


@dataclass(frozen=True)
class Answer:
    """A successful answer: HTTP status, headers, and the decoded JSON object."""

    status: int
    headers: Mapping[str, str]
    data: dict[str, Any]

    @property
    def status_code(self) -> int:
        """The HTTP status (the name the generated ``ApiResponse`` uses)."""
        return self.status


def decode(op: Operation, raw: Any) -> Answer:
    """The answer ``raw`` (anything with ``status``, ``reason``, ``headers`` and ``data``
    bytes: a urllib3 response, ``operations.RawResponse``) to operation ``op``, decoded.

    An error status raises the generated ``ApiException`` (``operations.finish``); a body
    that is not a JSON object raises the generated ``OpenApiException``.
    """
    status = int(raw.status)
    if not 200 <= status <= 299:
        from boonamber.facade.operations import finish

        finish(op, raw)  # raises the generated ApiException
    body: bytes = raw.data
    try:
        data = loads(body) if body else {}
    except ValueError as e:
        from boonamber.v2.exceptions import OpenApiException

        raise OpenApiException(f"the answer is not JSON: {e}") from e
    if not isinstance(data, dict):
        from boonamber.v2.exceptions import OpenApiException

        raise OpenApiException(f"the answer is a JSON {type(data).__name__}, not an object")
    return Answer(status, raw.headers, data)


def response_model(fn: Callable[..., Any]) -> type[BaseModel]:
    """The model class a bound generated ``*_with_http_info`` method answers with."""
    from boonamber.facade.operations import operation

    op = operation(fn, (), {})
    api: type = type(op.api)
    return _response_model(api, op.name)


@functools.cache
def _response_model(api: type, name: str) -> type[BaseModel]:
    from pydantic import BaseModel

    import boonamber.v2.models as models

    types: Mapping[str, str | None] = getattr(api, f"_{name}_response_types")
    names = [t for code, t in types.items() if code.startswith("2") and t]
    cls = getattr(models, names[0], None) if names else None
    if not (isinstance(cls, type) and issubclass(cls, BaseModel)):
        raise TypeError(f"{api.__name__}.{name} does not answer with a model ({types})")
    return cls
