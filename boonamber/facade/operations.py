"""The request core shared by the sync and the async client.

A facade call names a generated operation (by its ``*_with_http_info`` method) with its
arguments. This module turns that into an HTTP request with the generated serializer
(:func:`prepare`), turns the answer back into the generated model (:func:`finish`), and
decides after each failure whether and when to send again, logging every step
(:class:`Attempts`). The transports only move bytes: urllib3 in
:mod:`boonamber.facade.transport`, httpx in :mod:`boonamber.facade.async_transport`.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from boonamber.facade.errors import (
    AmberAuthenticationError,
    AmberCloudError,
    AmberConnectionError,
    AmberError,
    RequestInfo,
    translate,
)
from boonamber.facade.log import logger
from boonamber.facade.retry import RetryPolicy
from boonamber.facade.tokens import TokenGrant, bearer_auth, parse_grant

if TYPE_CHECKING:
    from boonamber.facade.credentials import Settings
    from boonamber.v2.api.default_api import DefaultApi
    from boonamber.v2.api_response import ApiResponse

__all__ = [
    "Attempts",
    "Operation",
    "RawResponse",
    "Request",
    "finish",
    "grant",
    "login_failure",
    "login_operation",
    "operation",
    "prepare",
    "refresh_operation",
]

_SUFFIX = "_with_http_info"


@dataclass(frozen=True)
class Operation:
    """One generated operation to call: ``name`` (``"post_data"``) on ``api`` with arguments."""

    api: DefaultApi
    name: str
    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)


def operation(
    fn: Callable[..., Any], args: tuple[Any, ...], kwargs: Mapping[str, Any]
) -> Operation:
    """The :class:`Operation` of a bound generated method (``api.post_data_with_http_info``)."""
    name = getattr(fn, "__name__", "")
    api = getattr(fn, "__self__", None)
    if api is None or not name.endswith(_SUFFIX):
        raise TypeError(f"expected a bound generated *{_SUFFIX} method, got {fn!r}")
    return Operation(api, name[: -len(_SUFFIX)], tuple(args), dict(kwargs))


@dataclass(frozen=True)
class Request:
    """A serialized request, ready for a transport."""

    method: str
    url: str
    path: str
    headers: dict[str, str]
    body: Any
    post_params: Any

    def info(self, sent: bool) -> RequestInfo:
        """What error translation needs to know about this request."""
        return RequestInfo(method=self.method, path=self.path, sent=sent)


_PARAMS: dict[str, tuple[str, ...]] = {}


def _serializer_params(api: Any, name: str) -> tuple[str, ...]:
    """The parameter names of the generated ``_<name>_serialize`` (cached)."""
    params = _PARAMS.get(name)
    if params is None:
        fn = getattr(type(api), f"_{name}_serialize")
        params = tuple(p for p in inspect.signature(fn).parameters if p != "self")
        _PARAMS[name] = params
    return params


def prepare(op: Operation, token: str | None) -> Request:
    """Serialize ``op`` with the generated ``_<name>_serialize`` (bearer ``token`` if given)."""
    params = _serializer_params(op.api, op.name)
    values: dict[str, Any] = dict.fromkeys(params)
    plain = [p for p in params if not p.startswith("_")]
    values.update(zip(plain, op.args, strict=False))
    values.update(op.kwargs)
    values["_request_auth"] = bearer_auth(token) if token is not None else None
    values["_host_index"] = 0
    method, url, headers, body, post_params = getattr(op.api, f"_{op.name}_serialize")(**values)
    host = str(op.api.api_client.configuration.host)
    path = url[len(host) :] if url.startswith(host) else urlsplit(url).path
    return Request(method, url, path, dict(headers or {}), body, post_params)


def finish(op: Operation, raw: Any) -> ApiResponse[Any]:
    """The generated ``ApiResponse`` of an answer ``raw`` (anything with ``status``,
    ``reason``, ``headers`` and ``data`` bytes, e.g. a urllib3 response); raises the
    generated ``ApiException`` for an error status, as ``*_with_http_info`` does."""
    from boonamber.v2 import rest

    types = getattr(type(op.api), f"_{op.name}_response_types")
    response = rest.RESTResponse(raw)
    response.read()  # type: ignore[no-untyped-call]
    result: ApiResponse[Any] = op.api.api_client.response_deserialize(
        response_data=response, response_types_map=types
    )
    return result


@dataclass
class RawResponse:
    """An answer as the generated ``RESTResponse`` reads it (for non-urllib3 transports)."""

    status: int
    reason: str
    headers: Any
    data: bytes


class Attempts:
    """The attempts of one call: logs each, and after a failure says how long to wait
    before the next attempt, or raises the translated error.

    A 401 answer to an authenticated request invalidates the token that was sent and
    the call is repeated once at once with a new one (the server did not process it).
    """

    def __init__(
        self,
        retry: RetryPolicy,
        *,
        replayable: bool,
        secrets: Callable[[], Iterable[str]],
        invalidate: Callable[[str], None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.retry = retry
        self.replayable = replayable
        self._secrets = secrets
        self._invalidate = invalidate
        self._clock = clock
        self.count = 0
        self._retries = 0
        self._reauthenticated = False
        self._first = clock()
        self._sent_at = self._first

    def sending(self) -> None:
        """Note the start of an attempt."""
        self.count += 1
        self._sent_at = self._clock()

    def succeeded(self, request: Request, status: int) -> None:
        """Log an answered attempt."""
        logger.debug(
            "%s %s -> %s in %.1f ms%s",
            request.method,
            request.path,
            status,
            (self._clock() - self._sent_at) * 1000,
            self._attempt_note(),
        )

    def failed(self, exc: BaseException, request: Request | None, token: str | None) -> float:
        """Seconds to wait before the next attempt; raises the translated error when done."""
        sent = request is not None
        info = request.info(sent) if request is not None else RequestInfo()
        error = translate(exc, info, self._secrets())
        if not isinstance(error, AmberError):
            raise exc
        status = error.status if isinstance(error, AmberCloudError) else None
        if request is not None:
            logger.debug(
                "%s %s -> %s in %.1f ms%s",
                request.method,
                request.path,
                status if status is not None else f"failed ({error})",
                (self._clock() - self._sent_at) * 1000,
                self._attempt_note(),
            )
        if (
            token is not None
            and not self._reauthenticated
            and isinstance(error, AmberCloudError)
            and status == 401
        ):
            self._reauthenticated = True
            self._invalidate(token)
            logger.debug("token rejected (401): logging in again and repeating the request")
            return 0.0
        if self.retry.should_retry(error, self._retries, replayable=self.replayable):
            wait = self.retry.delay(error, self._retries)
            self._retries += 1
            logger.debug(
                "retry %d of %d in %.2f s: %s",
                self._retries,
                self.retry.max_retries,
                wait,
                error,
            )
            return wait
        raise self._final(error) from exc

    def _attempt_note(self) -> str:
        return f" (attempt {self.count})" if self.count > 1 else ""

    def _final(self, error: AmberError) -> AmberError:
        """``error`` with the number of attempts in its message."""
        if not isinstance(error, AmberCloudError):
            return error
        n = self.count
        took = self._clock() - self._first
        if n > 1:
            error.attempts_note = f"{n} attempts in {took:.1f} s"
        elif isinstance(error, AmberConnectionError):
            why = (
                "retries are off"
                if self.retry.max_retries == 0
                else "not retried: the request may have reached the server"
            )
            error.attempts_note = f"1 attempt; {why}"
        error.attempts = n
        return error


# ---------------------------------------------------------------- login
def login_operation(oauth_api: DefaultApi, settings: Settings) -> Operation:
    """The login request of an account (``POST /oauth2/access``)."""
    from boonamber.v2.models.post_oauth2_access_request import PostOauth2AccessRequest

    body = PostOauth2AccessRequest(licenseKey=settings.license_key, secretKey=settings.secret_key)
    return Operation(oauth_api, "post_oauth2_access", (body,))


def refresh_operation(oauth_api: DefaultApi, refresh_token: str) -> Operation:
    """The token refresh request (``POST /oauth2/refresh``)."""
    from boonamber.v2.models.post_oauth2_refresh_request import PostOauth2RefreshRequest

    body = PostOauth2RefreshRequest(refreshToken=refresh_token)
    return Operation(oauth_api, "post_oauth2_refresh", (body,))


def grant(response: ApiResponse[Any]) -> TokenGrant:
    """The token grant in the answer to a login or refresh."""
    data = response.data
    return parse_grant(data.id_token, data.refresh_token, data.expires_in)


def login_failure(error: AmberCloudError) -> AmberCloudError:
    """A failed login: rejected credentials become :class:`AmberAuthenticationError`."""
    if error.status not in (400, 401, 403):
        return error
    return AmberAuthenticationError(
        f"login rejected: {error.message}",
        status=error.status,
        body=error.body,
        method=error.method,
        path=error.path,
        headers=error.headers,
        reason=error.reason,
    )
