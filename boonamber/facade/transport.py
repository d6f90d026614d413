"""One sync client's connection to the server: generated ApiClient, tokens, timeouts.

Every facade call goes through :meth:`Transport.invoke`: the shared request core
(:mod:`boonamber.facade.operations`) serializes it, attaches the bearer token, decides on
retries and translates errors; this module sends the bytes with the generated urllib3 client.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import urllib3

from boonamber._version import __version__
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
from boonamber.v2.api.default_api import DefaultApi
from boonamber.v2.api_client import ApiClient
from boonamber.v2.configuration import Configuration

if TYPE_CHECKING:
    from boonamber.v2.api_response import ApiResponse

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


class TracingApiClient(ApiClient):
    """The generated ``ApiClient`` with the facade's User-Agent."""

    def __init__(self, configuration: Configuration) -> None:
        super().__init__(configuration)
        self.user_agent = f"boonamber/{__version__} (python; facade)"


def build_configuration(host: str, settings: Settings) -> Configuration:
    """A fresh generated ``Configuration`` for ``host`` (never the process-global default)."""
    config = Configuration(host=host)
    config.verify_ssl = settings.verify is not False
    if isinstance(settings.verify, str):
        config.ssl_ca_cert = settings.verify
    if isinstance(settings.cert, tuple):
        config.cert_file, config.key_file = settings.cert
    elif settings.cert is not None:
        config.cert_file = settings.cert
    config.proxy = settings.proxy  # the setter stops Configuration re-reading os.environ
    config.no_proxy = settings.no_proxy
    # Retries are the facade's job (RetryPolicy); redirects are returned as errors.
    config.retries = urllib3.Retry(total=0, redirect=False)
    return config


class Transport:
    """Sends generated-client calls with auth, retries, timeouts and error translation."""

    def __init__(
        self, settings: Settings, *, timeout: tuple[float, float], retry: RetryPolicy
    ) -> None:
        check_auth_binding()
        setup_from_env()
        self.settings = settings
        self.timeout = timeout
        self.retry = retry
        self.config = build_configuration(settings.server, settings)
        self.api_client = TracingApiClient(self.config)
        self.api = DefaultApi(self.api_client)
        if settings.oauth_server == settings.server:
            self.oauth_api_client = self.api_client
        else:
            self.oauth_api_client = TracingApiClient(
                build_configuration(settings.oauth_server, settings)
            )
        self.oauth_api = DefaultApi(self.oauth_api_client)
        self.tokens = TokenProvider(self._login, self._refresh)
        # Direct users of `client.api` get the current token through the generated hook.
        self.config.api_key[AUTH_SCHEME] = ""
        self.config.api_key_prefix[AUTH_SCHEME] = "Bearer"
        self.config.refresh_api_key_hook = self._apply_token  # type: ignore[assignment]
        self._closed = False

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
        return self.send(op, replayable=replayable, auth=auth, request_timeout=request_timeout)

    def send(
        self,
        op: Operation,
        *,
        replayable: bool,
        auth: bool = True,
        request_timeout: Any = None,
    ) -> ApiResponse[Any]:
        """Send ``op`` over urllib3: the shared core prepares it and decides on retries."""
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
                response = finish(op, raw.response)
            except Exception as exc:
                time.sleep(attempts.failed(exc, request, token))
                continue
            attempts.succeeded(request, response.status_code)
            return response

    def close(self) -> None:
        """Drop pooled connections and tokens; later calls raise ``AmberUserError``."""
        self._closed = True
        self.tokens.clear()
        for client in {id(c): c for c in (self.api_client, self.oauth_api_client)}.values():
            client.rest_client.pool_manager.clear()
