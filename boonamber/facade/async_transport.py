"""One async client's connection to the server: the shared request core over httpx.

Requests are built, retried, logged and translated by :mod:`boonamber.facade.operations`,
exactly as for the sync client; this module only sends the bytes with an
``httpx.AsyncClient`` and waits without blocking the event loop. Large answers are decoded
into models on a worker thread so that the loop keeps running meanwhile.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from boonamber.facade.answers import Answer, decode
from boonamber.facade.credentials import Settings
from boonamber.facade.errors import AmberCloudError, AmberUserError
from boonamber.facade.log import setup_from_env
from boonamber.facade.operations import (
    Attempts,
    Operation,
    RawResponse,
    Request,
    finish,
    grant,
    login_failure,
    login_operation,
    operation,
    prepare,
    refresh_operation,
)
from boonamber.facade.retry import RetryPolicy
from boonamber.facade.tokens import AsyncTokenProvider, TokenGrant, check_auth_binding
from boonamber.facade.transport import normalize_timeout
from boonamber.facade.wiring import TracingApiClient, build_configuration

if TYPE_CHECKING:
    import httpx

    from boonamber.v2.api_response import ApiResponse

__all__ = ["ASYNC_EXTRA_HINT", "OFFLOAD_BYTES", "AsyncTransport"]

T = TypeVar("T")

ASYNC_EXTRA_HINT = "the async client needs httpx: pip install 'boonamber[async]'"

#: Answers (and request bodies) larger than this are (de)serialized on a worker thread.
OFFLOAD_BYTES = 64 * 1024


def _check_httpx() -> None:
    try:
        import httpx  # noqa: F401
    except ImportError as e:
        raise AmberUserError(f"{ASYNC_EXTRA_HINT} ({e})") from e


def _ssl_context(settings: Settings) -> ssl.SSLContext | bool:
    """httpx's ``verify`` from the settings: TLS verification on unless turned off."""
    if settings.verify is False and settings.cert is None:
        return False
    if isinstance(settings.verify, str):
        context = ssl.create_default_context(cafile=settings.verify)
    else:
        context = ssl.create_default_context()
    if settings.verify is False:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if isinstance(settings.cert, tuple):
        context.load_cert_chain(settings.cert[0], settings.cert[1])
    elif settings.cert is not None:
        context.load_cert_chain(settings.cert)
    return context


def _proxy(settings: Settings, url: str) -> str | None:
    from boonamber.v2.rest import should_bypass_proxies

    if settings.proxy and not should_bypass_proxies(url, settings.no_proxy or ""):
        return settings.proxy
    return None


def _content(request: Request) -> bytes | str | None:
    """The body bytes, encoded as the generated urllib3 client encodes a JSON body."""
    from boonamber.v2.rest import json_body

    body = request.body
    if body is None or isinstance(body, bytes | str):
        return body
    return json_body(body)


class AsyncTransport:
    """Sends generated operations over httpx with auth, retries, timeouts and translation."""

    def __init__(
        self, settings: Settings, *, timeout: tuple[float, float], retry: RetryPolicy
    ) -> None:
        _check_httpx()
        import httpx

        check_auth_binding()
        setup_from_env()
        self.settings = settings
        self.timeout = timeout
        self.retry = retry
        # The generated configuration and API objects serialize and deserialize; they never
        # send anything here (their urllib3 pool stays unused).
        self.config = build_configuration(settings.server, settings)
        self.api_client = TracingApiClient(self.config)
        from boonamber.v2.api.default_api import DefaultApi

        self.api = DefaultApi(self.api_client)
        if settings.oauth_server == settings.server:
            self.oauth_api = self.api
        else:
            oauth_config = build_configuration(settings.oauth_server, settings)
            self.oauth_api = DefaultApi(TracingApiClient(oauth_config))
        self.tokens = AsyncTokenProvider(self._login, self._refresh)
        self._http: httpx.AsyncClient = httpx.AsyncClient(
            verify=_ssl_context(settings),
            proxy=_proxy(settings, settings.server),
            trust_env=False,  # the settings already resolved proxies and CA bundles
            follow_redirects=False,  # redirects are errors, as in the sync client
            timeout=self._timeout(timeout),
        )
        self._closed = False

    def __repr__(self) -> str:
        return f"<AsyncTransport server={self.settings.server!r}>"

    @staticmethod
    def _timeout(timeout: tuple[float, float]) -> httpx.Timeout:
        import httpx

        connect, read = timeout
        return httpx.Timeout(connect=connect, read=read, write=read, pool=connect)

    # ------------------------------------------------------------------ auth
    async def _login(self) -> TokenGrant:
        op = login_operation(self.oauth_api, self.settings)
        try:
            return grant(await self.send(op, replayable=True, auth=False))
        except AmberCloudError as e:
            failure = login_failure(e)
            if failure is e:
                raise
            raise failure from e

    async def _refresh(self, refresh_token: str) -> TokenGrant:
        op = refresh_operation(self.oauth_api, refresh_token)
        return grant(await self.send(op, replayable=True, auth=False))

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
    async def invoke(
        self,
        fn: Callable[..., ApiResponse[T]],
        *args: Any,
        replayable: bool,
        auth: bool = True,
        request_timeout: Any = None,
        **kwargs: Any,
    ) -> ApiResponse[T]:
        """Send the operation of a generated ``*_with_http_info`` method (``fn`` names the
        operation; it is not called) with token, retries and error translation."""
        op = operation(fn, args, kwargs)
        response: ApiResponse[T] = await self.send(
            op, replayable=replayable, auth=auth, request_timeout=request_timeout
        )
        return response

    async def send(
        self,
        op: Operation,
        *,
        replayable: bool,
        auth: bool = True,
        request_timeout: Any = None,
        decode: Callable[[Operation, Any], Any] = finish,
    ) -> Any:
        """Send ``op`` over httpx: the shared core prepares it and decides on retries.

        ``decode(op, raw)`` reads the answer (on a worker thread when it is large): the
        generated ``ApiResponse`` by default, or ``answers.decode`` for the decoded JSON."""
        if self._closed:
            raise AmberUserError("this AsyncAmberClient is closed")
        timeout = self._timeout(normalize_timeout(request_timeout, self.timeout))
        attempts = Attempts(
            self.retry,
            replayable=replayable,
            secrets=self.secrets,
            invalidate=self.tokens.invalidate,
        )
        while True:
            token = await self.tokens.get() if auth else None
            request = prepare(op, token)
            content = _content(request)
            if content is not None and len(content) > OFFLOAD_BYTES and isinstance(content, str):
                content = await asyncio.to_thread(content.encode)
            attempts.sending()
            try:
                answer = await self._http.request(
                    request.method,
                    request.url,
                    headers=request.headers,
                    content=content,
                    timeout=timeout,
                )
                raw = RawResponse(
                    answer.status_code, answer.reason_phrase, answer.headers, answer.content
                )
                if len(raw.data) > OFFLOAD_BYTES:
                    response = await asyncio.to_thread(decode, op, raw)
                else:
                    response = decode(op, raw)
            except Exception as exc:
                await asyncio.sleep(attempts.failed(exc, request, token))
                continue
            attempts.succeeded(request, response.status_code)
            return response

    async def call_json(
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
        answer: Answer = await self.send(
            op, replayable=replayable, auth=auth, request_timeout=request_timeout, decode=decode
        )
        return answer

    async def aclose(self) -> None:
        """Close the connections and drop the tokens; later calls raise ``AmberUserError``."""
        self._closed = True
        self.tokens.clear()
        await self._http.aclose()
