"""Single-flight bearer-token management for one client.

The provider logs in lazily, refreshes *before* expiry (margin ``min(60 s, ttl / 2)``),
falls back to a fresh login when a refresh fails, and lets exactly one thread (or, in
:class:`AsyncTokenProvider`, one asyncio task) renew the token while the others wait for it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from boonamber.facade.errors import AmberAuthenticationError, AmberCloudError, AmberConnectionError
from boonamber.facade.log import logger

if TYPE_CHECKING:
    import asyncio

__all__ = [
    "AUTH_SCHEME",
    "AsyncTokenProvider",
    "TokenGrant",
    "TokenProvider",
    "TokenSnapshot",
    "bearer_auth",
    "check_auth_binding",
]

#: Name of the spec's security scheme (``components.securitySchemes``), i.e. the key the
#: generated ``Configuration.api_key`` / ``auth_settings()`` use for the bearer token.
AUTH_SCHEME: Final = "Bearer"
_PREFIX: Final = "Bearer"


@dataclass(frozen=True, repr=False)
class TokenGrant:
    """What a login or refresh returned."""

    id_token: str
    refresh_token: str | None
    expires_in: float

    def __repr__(self) -> str:
        return f"TokenGrant(id_token='***', refresh_token='***', expires_in={self.expires_in!r})"


@dataclass(frozen=True, repr=False)
class TokenSnapshot:
    """The token held: its values, lifetime and seconds until it is renewed."""

    id_token: str
    refresh_token: str | None
    expires_in: float
    renew_in: float

    def __repr__(self) -> str:
        return f"TokenSnapshot(expires_in={self.expires_in!r}, renew_in={self.renew_in!r})"


@dataclass(repr=False)
class _Token:
    value: str
    refresh_token: str | None
    refresh_at: float
    expires_at: float
    lifetime: float


class _TokenState:
    """The token held by a provider, and when to renew it (shared by both providers)."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._token: _Token | None = None
        self.logins = 0
        self.refreshes = 0

    def __repr__(self) -> str:
        state = "no token" if self._token is None else "token held"
        return f"<{type(self).__name__} ({state})>"

    def _valid(self) -> str | None:
        token = self._token
        if token is not None and self._clock() < token.refresh_at:
            return token.value
        return None

    def invalidate(self, value: str) -> None:
        """Forget ``value`` if it is still the current token (after the server rejected it)."""
        if self._token is not None and self._token.value == value:
            self._token.refresh_at = float("-inf")

    def clear(self) -> None:
        """Drop every token (the next call logs in again)."""
        self._token = None

    def snapshot(self) -> TokenSnapshot | None:
        """The token held, or ``None`` before the first login."""
        token = self._token
        if token is None:
            return None
        return TokenSnapshot(
            token.value, token.refresh_token, token.lifetime, token.refresh_at - self._clock()
        )

    def renew_in(self, seconds: float) -> None:
        """Renew the token held ``seconds`` from now (``0`` or less: before the next call)."""
        if self._token is not None:
            self._token.refresh_at = self._clock() + seconds

    def _refresh_token(self) -> str | None:
        old = self._token
        return old.refresh_token if old is not None and old.refresh_token else None

    def _store(self, grant: TokenGrant, how: str) -> str:
        now = self._clock()
        ttl = max(0.0, grant.expires_in)
        margin = min(60.0, ttl / 2)
        self._token = _Token(
            value=grant.id_token,
            refresh_token=grant.refresh_token,
            refresh_at=now + ttl - margin,
            expires_at=now + ttl,
            lifetime=ttl,
        )
        logger.debug("token %s: valid %.0f s, renewed after %.0f s", how, ttl, ttl - margin)
        return grant.id_token


class TokenProvider(_TokenState):
    """Hands out a valid ID token; thread-safe, renews at most once per expiry.

    ``login()`` and ``refresh(refresh_token)`` perform the HTTP calls and return a
    :class:`TokenGrant`; ``clock`` is monotonic seconds (injectable for tests).
    """

    def __init__(
        self,
        login: Callable[[], TokenGrant],
        refresh: Callable[[str], TokenGrant],
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(clock)
        self._login = login
        self._refresh = refresh
        self._lock = threading.Lock()

    def get(self) -> str:
        """Return a token valid for at least the refresh margin, renewing it if needed."""
        value = self._valid()
        if value is not None:
            return value
        with self._lock:
            value = self._valid()  # another thread renewed it while we waited
            return value if value is not None else self._renew()

    def invalidate(self, value: str) -> None:
        """Forget ``value`` if it is still the current token (after the server rejected it)."""
        with self._lock:
            super().invalidate(value)

    def renew_in(self, seconds: float) -> None:
        """Renew the token held ``seconds`` from now (``0`` or less: before the next call)."""
        with self._lock:
            super().renew_in(seconds)

    def clear(self) -> None:
        """Drop every token (the next call logs in again)."""
        with self._lock:
            super().clear()

    def _renew(self) -> str:
        refresh_token = self._refresh_token()
        if refresh_token is not None:
            try:
                self.refreshes += 1
                return self._store(self._refresh(refresh_token), "refreshed")
            except AmberConnectionError:
                raise
            except AmberCloudError as e:
                logger.debug("token refresh rejected (%s): logging in again", e)
        self.logins += 1
        return self._store(self._login(), "login")


class AsyncTokenProvider(_TokenState):
    """:class:`TokenProvider` for asyncio: one task renews, the others await its token.

    ``login()`` and ``refresh(refresh_token)`` are coroutine functions.
    """

    def __init__(
        self,
        login: Callable[[], Awaitable[TokenGrant]],
        refresh: Callable[[str], Awaitable[TokenGrant]],
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(clock)
        self._login = login
        self._refresh = refresh
        self._lock: asyncio.Lock | None = None

    async def get(self) -> str:
        """Return a token valid for at least the refresh margin, renewing it if needed."""
        value = self._valid()
        if value is not None:
            return value
        if self._lock is None:
            import asyncio  # here, not at module import: the sync client never needs it

            self._lock = asyncio.Lock()
        async with self._lock:
            value = self._valid()  # another task renewed it while we waited
            return value if value is not None else await self._renew()

    async def _renew(self) -> str:
        refresh_token = self._refresh_token()
        if refresh_token is not None:
            try:
                self.refreshes += 1
                return self._store(await self._refresh(refresh_token), "refreshed")
            except AmberConnectionError:
                raise
            except AmberCloudError as e:
                logger.debug("token refresh rejected (%s): logging in again", e)
        self.logins += 1
        return self._store(await self._login(), "login")


def parse_grant(id_token: Any, refresh_token: Any, expires_in: Any) -> TokenGrant:
    """Build a :class:`TokenGrant` from the fields of an OAuth answer, checking them."""
    if not isinstance(id_token, str) or not id_token:
        raise AmberAuthenticationError("the server's login answer carries no idToken")
    try:
        seconds = float(expires_in)
    except (TypeError, ValueError):
        raise AmberCloudError(
            f"the server's login answer has an invalid expiresIn ({expires_in!r})"
        ) from None
    return TokenGrant(
        id_token=id_token,
        refresh_token=refresh_token if isinstance(refresh_token, str) and refresh_token else None,
        expires_in=seconds,
    )


def bearer_auth(token: str) -> dict[str, Any]:
    """The per-request auth setting (``_request_auth``) that sends ``token`` as bearer."""
    return {**_auth_template(), "value": f"{_PREFIX} {token}"}


_TEMPLATE: dict[str, Any] | None = None


def _auth_template() -> dict[str, Any]:
    global _TEMPLATE
    if _TEMPLATE is None:
        _TEMPLATE = check_auth_binding()
    return _TEMPLATE


def check_auth_binding() -> dict[str, Any]:
    """Ask the generated ``Configuration`` how it sends a bearer token, and check the answer.

    Fails loudly (instead of sending unauthenticated requests) if a regenerated client
    renamed the security scheme or moved the token out of the ``Authorization`` header.
    """
    from boonamber.v2 import Configuration

    probe = Configuration(api_key={AUTH_SCHEME: "probe"}, api_key_prefix={AUTH_SCHEME: _PREFIX})
    setting = probe.auth_settings().get(AUTH_SCHEME)
    if (
        not setting
        or setting.get("in") != "header"
        or str(setting.get("key", "")).lower() != "authorization"
        or setting.get("value") != f"{_PREFIX} probe"
    ):
        raise RuntimeError(
            "boonamber.v2 no longer sends the token of security scheme "
            f"{AUTH_SCHEME!r} as 'Authorization: Bearer <token>'; update boonamber.facade.tokens"
        )
    return {k: v for k, v in dict(setting).items() if k != "value"}
