"""The facade's exceptions and the one place where lower-level errors are translated.

Hierarchy (decided once; see ``docs/errors-and-retries.md``)::

    ApiException                 the generated client's (boonamber.v2.exceptions): what
    │                            official Amber SDK code catches
    └── AmberError               every exception a client of this package raises
        ├── AmberUserError            misuse caught on the client, before anything is sent
        └── AmberCloudError           every error answer of the server (and transport failures)
            ├── BadRequestError            400
            ├── AuthenticationError        401
            │   └── AmberAuthenticationError   the server rejected the login (400/401/403)
            ├── PermissionDeniedError      403
            ├── NotFoundError              404
            ├── ConflictError              409
            ├── UnprocessableEntityError   422
            ├── RateLimitError             429
            ├── ServerError                500-599
            └── AmberConnectionError       no (complete) answer: refused, reset, TLS failure
                └── AmberTimeoutError      connect or read timeout
                    └── AmberPretrainTimeoutError  a blocking pretrain did not finish in time

Every one carries the generated exception's ``status``, ``reason``, ``body`` and ``headers``.
The per-status classes also derive from the generated client's own per-status exceptions
(``NotFoundError`` is a ``boonamber.v2.exceptions.NotFoundException``, ...).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from boonamber.v2 import exceptions as _generated

__all__ = [
    "AmberAuthenticationError",
    "AmberCloudError",
    "AmberConnectionError",
    "AmberError",
    "AmberPretrainTimeoutError",
    "AmberTimeoutError",
    "AmberUserError",
    "ApiException",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "RequestInfo",
    "ServerError",
    "UnprocessableEntityError",
    "error_class",
    "redact",
    "translate",
]

#: The generated client's exception, the root official Amber SDK code catches.
ApiException = _generated.ApiException

_MAX_BODY_IN_MESSAGE = 300


class AmberError(ApiException):
    """Root of every exception raised by :class:`~boonamber.AmberClient`.

    An ``ApiException`` of the generated client: ``status`` (``None`` when no HTTP answer
    is involved), ``reason`` (the HTTP reason phrase, else the message), ``body``,
    ``headers``; plus ``message``, the description ``str()`` shows.
    """

    def __init__(self, message: str) -> None:
        Exception.__init__(self, message)
        self.message = message
        self.status: int | None = None
        self.reason: str = message
        self.body: str | None = None
        self.headers: dict[str, str] = {}
        self.data: Any = None

    def __str__(self) -> str:
        return self.message


class AmberUserError(AmberError):
    """The client was used wrongly (bad argument, bad data, bad credentials setup).

    Raised before any request is sent.
    """


class AmberCloudError(AmberError):
    """The server answered with an error, or could not be reached.

    Attributes:
        status: the HTTP status code (``None`` when no answer was received).
        code: alias of ``status`` (the name the seed SDK used).
        message: the server's message (the ``message`` of its JSON error body) or a description.
        reason: the HTTP reason phrase (``"Not Found"``), else the message.
        body: the raw response body, if any (secrets redacted).
        method: the HTTP method of the failed request.
        path: the path of the failed request, relative to the server URL.
        headers: the response headers, if any.
        attempts: how many times the request was sent (1 when it was not retried).
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        body: str | None = None,
        method: str | None = None,
        path: str | None = None,
        headers: Mapping[str, str] | None = None,
        reason: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason or message
        self.body = body
        self.method = method
        self.path = path
        self.headers = dict(headers) if headers else {}
        self.attempts = 1
        #: How the request was retried, e.g. ``"3 attempts in 1.4 s"`` (shown by ``str()``).
        self.attempts_note: str | None = None

    @property
    def code(self) -> int | None:
        """The HTTP status code (alias of ``status``)."""
        return self.status

    def __str__(self) -> str:
        text = self.message if self.status is None else f"{self.status}: {self.message}"
        if self.method and self.path:
            text += f" ({self.method} {self.path})"
        if self.attempts_note:
            text += f" [{self.attempts_note}]"
        return text

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status!r}, message={self.message!r})"


class BadRequestError(AmberCloudError, _generated.BadRequestException):
    """HTTP 400: the server rejected the request (bad data, bad configuration, ...)."""


class AuthenticationError(AmberCloudError, _generated.UnauthorizedException):
    """HTTP 401: the token (or, for :class:`AmberAuthenticationError`, the login) was refused."""


class AmberAuthenticationError(AuthenticationError):
    """The server rejected the credentials (license key / secret key) at login."""


class PermissionDeniedError(AmberCloudError, _generated.ForbiddenException):
    """HTTP 403: the account may not do this."""


class NotFoundError(AmberCloudError, _generated.NotFoundException):
    """HTTP 404: no such model (or path)."""


class ConflictError(AmberCloudError, _generated.ConflictException):
    """HTTP 409."""


class UnprocessableEntityError(AmberCloudError, _generated.UnprocessableEntityException):
    """HTTP 422."""


class RateLimitError(AmberCloudError):
    """HTTP 429: too many requests (retried for replayable requests)."""


class ServerError(AmberCloudError, _generated.ServiceException):
    """HTTP 500-599: the server failed."""


_BY_STATUS: dict[int, type[AmberCloudError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def error_class(status: int | None) -> type[AmberCloudError]:
    """The exception class for an error answer with HTTP ``status``."""
    if status is None:
        return AmberCloudError
    if 500 <= status <= 599:
        return ServerError
    return _BY_STATUS.get(status, AmberCloudError)


class AmberConnectionError(AmberCloudError):
    """The request got no complete answer (connection refused or reset, TLS failure, ...).

    ``request_sent`` tells whether the request may have reached the server: ``False``
    only when the connection could not be opened at all.
    """

    def __init__(self, message: str, *, request_sent: bool = True, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.request_sent = request_sent


class AmberTimeoutError(AmberConnectionError):
    """A connect or read timeout expired."""


class AmberPretrainTimeoutError(AmberTimeoutError):
    """``post_pretrain(block=True)`` gave up waiting for the model to finish pretraining."""


@dataclass(frozen=True)
class RequestInfo:
    """What the translator knows about the failed request."""

    method: str | None = None
    path: str | None = None
    sent: bool = False


def redact(text: str, secrets: Iterable[str]) -> str:
    """Replace every occurrence of each (non-trivial) secret in ``text`` by ``***``."""
    for secret in secrets:
        if secret and len(secret) >= 4 and secret in text:
            text = text.replace(secret, "***")
    return text


def _server_message(body: str | None) -> str | None:
    if not body:
        return None
    try:
        parsed = json.loads(body)
    except ValueError:
        return None
    if isinstance(parsed, dict):
        message = parsed.get("message")
        if isinstance(message, str) and message:
            return message
    return None


def _short(text: str) -> str:
    text = " ".join(text.split())
    if len(text) > _MAX_BODY_IN_MESSAGE:
        return text[:_MAX_BODY_IN_MESSAGE] + "..."
    return text


def _translate_api_exception(exc: Any, request: RequestInfo, secrets: list[str]) -> AmberError:
    status = exc.status if isinstance(exc.status, int) else None
    reason = str(exc.reason) if exc.reason else ""
    body = exc.body if isinstance(exc.body, str) else None
    if isinstance(exc.body, bytes):
        body = exc.body.decode("utf-8", "replace")
    if body is not None:
        body = redact(body, secrets)
    headers = {str(k): str(v) for k, v in exc.headers.items()} if exc.headers else None
    if not status:
        # status 0: the generated client failed locally (TLS failure, undecodable answer)
        text = redact(" ".join(reason.split()), secrets) or "request failed"
        if "SSLError" in reason:
            return AmberConnectionError(
                f"TLS error: {text}", method=request.method, path=request.path
            )
        return AmberCloudError(
            f"could not process the server's answer: {text}",
            method=request.method,
            path=request.path,
        )
    message = _server_message(body)
    if message is None:
        message = reason or "error"
        if body:
            message += f": {_short(body)}"
    message = redact(message, secrets)
    return error_class(status)(
        message,
        status=status,
        body=body,
        method=request.method,
        path=request.path,
        headers=headers,
        reason=reason or None,
    )


def _translate_urllib3(exc: Exception, request: RequestInfo, secrets: list[str]) -> AmberError:
    from urllib3 import exceptions as u3

    cause: Exception = exc
    if isinstance(exc, u3.MaxRetryError) and isinstance(exc.reason, Exception):
        cause = exc.reason
    kw: dict[str, Any] = {"method": request.method, "path": request.path}
    detail = redact(str(cause), secrets)
    # NewConnectionError subclasses ConnectTimeoutError in urllib3 2: test it first
    if isinstance(cause, u3.NewConnectionError):
        return AmberConnectionError(f"could not connect: {detail}", request_sent=False, **kw)
    if isinstance(cause, u3.ConnectTimeoutError):
        return AmberTimeoutError("timed out connecting", request_sent=False, **kw)
    if isinstance(cause, u3.TimeoutError):  # ReadTimeoutError and the like
        return AmberTimeoutError("timed out waiting for the answer", **kw)
    if isinstance(cause, u3.ProxyError):
        return AmberConnectionError(f"proxy error: {detail}", request_sent=False, **kw)
    if isinstance(cause, u3.SSLError):
        return AmberConnectionError(f"TLS error: {detail}", request_sent=False, **kw)
    return AmberConnectionError(f"connection failed: {detail}", **kw)


def _translate_httpx(exc: Exception, request: RequestInfo, secrets: list[str]) -> AmberError:
    """The errors of the async client's httpx transport, as :func:`_translate_urllib3`."""
    import httpx

    kw: dict[str, Any] = {"method": request.method, "path": request.path}
    detail = redact(str(exc) or type(exc).__name__, secrets)
    if isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout):
        return AmberTimeoutError("timed out connecting", request_sent=False, **kw)
    if isinstance(exc, httpx.TimeoutException):
        return AmberTimeoutError("timed out waiting for the answer", **kw)
    if isinstance(exc, httpx.ProxyError):
        return AmberConnectionError(f"proxy error: {detail}", request_sent=False, **kw)
    if isinstance(exc, httpx.ConnectError):
        if "SSL" in detail or "certificate" in detail:
            return AmberConnectionError(f"TLS error: {detail}", request_sent=False, **kw)
        return AmberConnectionError(f"could not connect: {detail}", request_sent=False, **kw)
    return AmberConnectionError(f"connection failed: {detail}", **kw)


def translate(
    exc: BaseException, request: RequestInfo, secrets: Iterable[str] = ()
) -> BaseException:
    """Map an exception from the generated client / urllib3 / httpx / pydantic to the
    facade's own.

    Returns ``exc`` itself when it is not one the facade knows (a bug, ``KeyboardInterrupt``).
    """
    from pydantic import ValidationError
    from urllib3.exceptions import HTTPError

    secret_list = [s for s in secrets if s]
    if isinstance(exc, AmberError):
        return exc
    if isinstance(exc, ApiException):
        return _translate_api_exception(exc, request, secret_list)
    if isinstance(exc, HTTPError):
        return _translate_urllib3(exc, request, secret_list)
    if type(exc).__module__.startswith("httpx") and isinstance(exc, Exception):
        return _translate_httpx(exc, request, secret_list)
    if isinstance(exc, _generated.OpenApiException | ValidationError):
        detail = redact(" ".join(str(exc).split()), secret_list)
        if request.sent:
            # the request went out: the answer did not match the API
            return AmberCloudError(
                f"the server's answer does not match the API: {detail}",
                method=request.method,
                path=request.path,
            )
        return AmberUserError(f"invalid argument: {detail}")
    if isinstance(exc, OSError):
        return AmberConnectionError(
            f"connection failed: {redact(str(exc), secret_list)}",
            request_sent=request.sent,
            method=request.method,
            path=request.path,
        )
    return exc
