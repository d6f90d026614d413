"""One sync client's connection to the server: generated ApiClient, tokens, timeouts.

Every facade call goes through :meth:`Transport.invoke`: the shared request core
(:mod:`boonamber.facade.operations`) serializes it, attaches the bearer token, decides on
retries and translates errors; this module sends the bytes with the generated urllib3 client.
The generated client (and with it pydantic and urllib3) is loaded when the first request
needs it (:mod:`boonamber.facade.wiring`), so that importing and constructing ``AmberClient``
stay cheap.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from boonamber.facade.answers import Answer, decode
from boonamber.facade.credentials import Settings
from boonamber.facade.errors import AmberCloudError, AmberUserError
from boonamber.facade.log import setup_from_env
from boonamber.facade.operations import (
    Attempts,
    Operation,
    finish,
    grant,
    login_failure,
    login_operation,
    operation,
    prepare,
    refresh_operation,
)
from boonamber.facade.retry import RetryPolicy
from boonamber.facade.tokens import (
    AUTH_SCHEME,
    TokenGrant,
    TokenProvider,
    check_auth_binding,
)

if TYPE_CHECKING:
    from boonamber.facade.wiring import TracingApiClient
    from boonamber.v2.api.default_api import DefaultApi
    from boonamber.v2.api_response import ApiResponse
    from boonamber.v2.configuration import Configuration

__all__ = ["DEFAULT_TIMEOUT", "Timeout", "Transport", "normalize_timeout"]

#: (connect, read) seconds.
DEFAULT_TIMEOUT: tuple[float, float] = (10.0, 60.0)

Timeout = float | tuple[float, float]
T = TypeVar("T")


def normalize_timeout(
    timeout: Any, default: tuple[float, float] = DEFAULT_TIMEOUT
) -> tuple[float, float]:
    """``None`` -> default; a number -> (connect, read) both that; a pair -> (connect, read)."""
    if timeout is None:
        return default

    def positive(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
            raise AmberUserError(
                f"timeout must be a number of seconds > 0 or a (connect, read) pair, got {timeout!r}"
            )
        return float(value)

    if isinstance(timeout, tuple | list):
        if len(timeout) != 2:
            raise AmberUserError(f"timeout pair must be (connect, read), got {timeout!r}")
        return positive(timeout[0]), positive(timeout[1])
    value = positive(timeout)
    return value, value


_Wiring = tuple["Configuration", "TracingApiClient", "DefaultApi", "TracingApiClient", "DefaultApi"]


class Transport:
    """Sends generated-client calls with auth, retries, timeouts and error translation."""

    def __init__(
        self, settings: Settings, *, timeout: tuple[float, float], retry: RetryPolicy
    ) -> None:
        setup_from_env()
        self.settings = settings
        self.timeout = timeout
        self.retry = retry
        self.tokens = TokenProvider(self._login, self._refresh)
        self._closed = False
        self._wiring_lock = threading.Lock()
        self._wired: _Wiring | None = None

    def _wiring(self) -> _Wiring:
        """The generated Configuration, ApiClients and DefaultApis, built on first use."""
        wired = self._wired
        if wired is not None:
            return wired
        with self._wiring_lock:
            if self._wired is None:
                from boonamber.facade.wiring import TracingApiClient, build_configuration
                from boonamber.v2.api.default_api import DefaultApi

                check_auth_binding()
                settings = self.settings
                config = build_configuration(settings.server, settings)
                api_client = TracingApiClient(config)
                oauth_api_client = api_client
                if settings.oauth_server != settings.server:
                    oauth_api_client = TracingApiClient(
                        build_configuration(settings.oauth_server, settings)
                    )
                # Direct users of `client.api` get the current token through the generated hook.
                config.api_key[AUTH_SCHEME] = ""
                config.api_key_prefix[AUTH_SCHEME] = "Bearer"
                config.refresh_api_key_hook = self._apply_token  # type: ignore[assignment]
                self._wired = (
                    config,
                    api_client,
                    DefaultApi(api_client),
                    oauth_api_client,
                    DefaultApi(oauth_api_client),
                )
            return self._wired

    @property
    def config(self) -> Configuration:
        """The generated ``Configuration`` of this client (never the global default)."""
        return self._wiring()[0]

    @property
    def api_client(self) -> TracingApiClient:
        """The generated ``ApiClient`` of the API server."""
        return self._wiring()[1]

    @property
    def api(self) -> DefaultApi:
        """The generated ``DefaultApi`` of the API server."""
        return self._wiring()[2]

    @property
    def oauth_api_client(self) -> TracingApiClient:
        """The generated ``ApiClient`` of the OAuth server (the API's when they are one)."""
        return self._wiring()[3]

    @property
    def oauth_api(self) -> DefaultApi:
        """The generated ``DefaultApi`` of the OAuth server."""
        return self._wiring()[4]

    def __repr__(self) -> str:
        return f"<Transport server={self.settings.server!r}>"

    # ------------------------------------------------------------------ auth
    def _apply_token(self, config: Configuration) -> None:
        config.api_key[AUTH_SCHEME] = self.tokens.get()

    def _login(self) -> TokenGrant:
        op = login_operation(self.oauth_api, self.settings)
        try:
            return grant(self.send(op, replayable=True, auth=False))
        except AmberCloudError as e:
            failure = login_failure(e)
            if failure is e:
                raise
            raise failure from e

    def _refresh(self, refresh_token: str) -> TokenGrant:
        op = refresh_operation(self.oauth_api, refresh_token)
        return grant(self.send(op, replayable=True, auth=False))

    def secrets(self) -> list[str]:
        """Every value that must be scrubbed from error messages."""
        values = list(self.settings.secrets())
        token = self.tokens._token
        if token is not None:
            values.append(token.value)
            if token.refresh_token:
                values.append(token.refresh_token)
        return values

    # ------------------------------------------------------------------ calls
    def invoke(
        self,
        fn: Callable[..., ApiResponse[T]],
        *args: Any,
        replayable: bool,
        auth: bool = True,
        request_timeout: Any = None,
        **kwargs: Any,
    ) -> ApiResponse[T]:
        """Send the operation of a generated ``*_with_http_info`` method (``fn`` names the
        operation) with token, retries and error translation."""
        op = operation(fn, args, kwargs)
        response: ApiResponse[T] = self.send(
            op, replayable=replayable, auth=auth, request_timeout=request_timeout
        )
        return response

    def send(
        self,
        op: Operation,
        *,
        replayable: bool,
        auth: bool = True,
        request_timeout: Any = None,
        decode: Callable[[Operation, Any], Any] = finish,
    ) -> Any:
        """Send ``op`` over urllib3: the shared core prepares it and decides on retries.

        ``decode(op, raw)`` reads the answer: the generated ``ApiResponse`` by default
        (``operations.finish``), or ``answers.decode`` for a decoded JSON object."""
        if self._closed:
            raise AmberUserError("this AmberClient is closed")
        timeout = normalize_timeout(request_timeout, self.timeout)
        attempts = Attempts(
            self.retry,
            replayable=replayable,
            secrets=self.secrets,
            invalidate=self.tokens.invalidate,
        )
        while True:
            token = self.tokens.get() if auth else None
            request = prepare(op, token)
            attempts.sending()
            try:
                raw = op.api.api_client.call_api(
                    request.method,
                    request.url,
                    request.headers,
                    request.body,
                    request.post_params,
                    _request_timeout=timeout,
                )
                response = decode(op, raw.response)
            except Exception as exc:
                time.sleep(attempts.failed(exc, request, token))
                continue
            attempts.succeeded(request, response.status_code)
            return response

    def call_json(
        self,
        fn: Callable[..., Any],
        *args: Any,
        replayable: bool,
        auth: bool = True,
        request_timeout: Any = None,
        **kwargs: Any,
    ) -> Answer:
        """Like :meth:`invoke`, returning the answer's body decoded once (``answers``)."""
        op = operation(fn, args, kwargs)
        answer: Answer = self.send(
            op, replayable=replayable, auth=auth, request_timeout=request_timeout, decode=decode
        )
        return answer

    def close(self) -> None:
        """Drop pooled connections and tokens; later calls raise ``AmberUserError``."""
        self._closed = True
        self.tokens.clear()
        wired = self._wired
        if wired is not None:
            for client in {id(c): c for c in (wired[1], wired[3])}.values():
                client.rest_client.pool_manager.clear()
