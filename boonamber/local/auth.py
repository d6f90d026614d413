"""Accounts and tokens: salted scrypt hashes of secret keys, random bearer and refresh tokens.

Only SHA-256 digests of tokens are stored, so the database never holds a usable token; secrets
and tokens never appear in logs or error messages.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from boonamber.local.defaults import (
    LOGIN_FAILURE_WINDOW,
    LOGIN_MAX_FAILURES_PER_ADDRESS,
    LOGIN_MAX_FAILURES_PER_KEY,
)
from boonamber.local.errors import TooManyRequests, Unauthorized
from boonamber.local.storage import Store

_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1
KDF = f"scrypt:{_SCRYPT_N}:{_SCRYPT_R}:{_SCRYPT_P}"

ID_TOKEN = "id"
REFRESH_TOKEN = "refresh"


def hash_secret(secret: str, salt: bytes, kdf: str = KDF) -> bytes:
    """The salted hash of a secret key under the named key-derivation function."""
    name, n, r, p = kdf.split(":")
    if name != "scrypt":
        raise ValueError(f"unknown key-derivation function {name!r}")
    return hashlib.scrypt(
        secret.encode("utf-8"), salt=salt, n=int(n), r=int(r), p=int(p), maxmem=64 * 2**20, dklen=32
    )


def token_digest(token: str) -> str:
    """The stored form of a token (SHA-256, hex)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def now_iso(t: float | None = None) -> str:
    """An ISO-8601 UTC timestamp with milliseconds, e.g. ``2024-05-01T12:00:00.123Z``."""
    dt = datetime.fromtimestamp(time.time() if t is None else t, UTC)
    return dt.isoformat(timespec="milliseconds")[:-6] + "Z"  # [:-6] drops "+00:00"


class LoginThrottle:
    """Counts failed logins per license key and per client address over a sliding window;
    past a limit, :meth:`check` raises TooManyRequests (429) with the seconds to wait, so a
    guessing client costs no scrypt. A successful login clears its key's count (not its
    address's). At most ``max_tracked`` keys and addresses are remembered (oldest dropped)."""

    def __init__(
        self,
        per_key: int = LOGIN_MAX_FAILURES_PER_KEY,
        per_address: int = LOGIN_MAX_FAILURES_PER_ADDRESS,
        window: float = LOGIN_FAILURE_WINDOW,
        max_tracked: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_key, self.per_address, self.window = per_key, per_address, window
        self.max_tracked = max_tracked
        self.clock = clock
        self._lock = threading.Lock()
        self._failures: OrderedDict[tuple[str, str], deque[float]] = OrderedDict()

    def _recent(self, who: tuple[str, str], now: float) -> deque[float]:
        times = self._failures.get(who)
        if times is None:
            return deque()
        while times and times[0] <= now - self.window:
            times.popleft()
        return times

    def check(self, license_key: str, address: str | None) -> None:
        """Raise TooManyRequests if the key or the address has failed too often lately."""
        now = self.clock()
        with self._lock:
            for who, limit in (
                (("key", license_key), self.per_key),
                (("addr", address or ""), self.per_address),
            ):
                times = self._recent(who, now)
                if len(times) >= limit:
                    wait = max(1, math.ceil(times[len(times) - limit] + self.window - now))
                    what = "license key" if who[0] == "key" else "client address"
                    raise TooManyRequests(
                        f"too many failed logins for this {what}; retry in {wait} s", wait
                    )

    def failed(self, license_key: str, address: str | None) -> None:
        """Count one failed login."""
        now = self.clock()
        with self._lock:
            for who in (("key", license_key), ("addr", address or "")):
                times = self._recent(who, now)
                times.append(now)
                self._failures[who] = times
                self._failures.move_to_end(who)
            while len(self._failures) > self.max_tracked:
                self._failures.popitem(last=False)

    def succeeded(self, license_key: str) -> None:
        """Forget the key's failures."""
        with self._lock:
            self._failures.pop(("key", license_key), None)


@dataclass(frozen=True)
class Tokens:
    """The answer of a login or refresh."""

    id_token: str
    refresh_token: str
    expires_in: int


class Auth:
    """Accounts, logins, token refresh (with rotation) and bearer-token checks."""

    def __init__(self, store: Store, token_ttl: float = 3600.0, refresh_ttl: float | None = None):
        if token_ttl <= 0:
            raise ValueError("token_ttl must be positive")
        self.store = store
        self.token_ttl = float(token_ttl)
        self.refresh_ttl = float(refresh_ttl) if refresh_ttl else max(86400.0, 24 * token_ttl)
        self._lock = threading.Lock()
        self.throttle = LoginThrottle()
        # Successful secret checks, so repeated logins skip scrypt: license -> (digest, account).
        self._verified: dict[str, tuple[bytes, int]] = {}
        # Valid id tokens seen: digest -> (account, expiry).
        self._id_cache: dict[str, tuple[int, float]] = {}

    def create_account(self) -> tuple[str, str]:
        """Create an account and return its ``(license_key, secret_key)``."""
        license_key = secrets.token_hex(16)
        secret_key = secrets.token_urlsafe(32)
        salt = secrets.token_bytes(16)
        digest = hash_secret(secret_key, salt)
        with self.store.transaction() as tx:
            tx.create_account(license_key, digest, salt, KDF, now_iso())
        return license_key, secret_key

    def check_credentials(self, license_key: str, secret_key: str) -> int | None:
        """The account id if the pair is valid, else None."""
        fast = hashlib.sha256(license_key.encode() + b"\0" + secret_key.encode()).digest()
        with self._lock:
            hit = self._verified.get(license_key)
        if hit is not None and hmac.compare_digest(hit[0], fast):
            return hit[1]
        with self.store.read() as tx:
            account = tx.account_by_license(license_key)
        if account is None:
            # Spend comparable time so unknown license keys are not told apart by timing.
            hash_secret(secret_key, b"\0" * 16)
            return None
        if not hmac.compare_digest(
            hash_secret(secret_key, account.salt, account.kdf), account.secret_hash
        ):
            return None
        with self._lock:
            self._verified[license_key] = (fast, account.id)
        return account.id

    def _issue(self, account_id: int) -> Tokens:
        now = time.time()
        id_token, refresh_token = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        with self.store.transaction() as tx:
            tx.add_token(token_digest(id_token), account_id, ID_TOKEN, now + self.token_ttl)
            tx.add_token(
                token_digest(refresh_token), account_id, REFRESH_TOKEN, now + self.refresh_ttl
            )
        return Tokens(id_token, refresh_token, int(self.token_ttl))

    def login(self, license_key: str, secret_key: str, address: str | None = None) -> Tokens:
        """Exchange credentials for tokens; Unauthorized if they are wrong, TooManyRequests
        after repeated failures for the key or the client ``address``."""
        self.throttle.check(license_key, address)
        account_id = self.check_credentials(license_key, secret_key)
        if account_id is None:
            self.throttle.failed(license_key, address)
            raise Unauthorized("invalid license key or secret key")
        self.throttle.succeeded(license_key)
        with self.store.transaction() as tx:
            tx.prune_tokens(time.time())
        with self._lock:
            now = time.time()
            for digest in [d for d, (_, exp) in self._id_cache.items() if exp < now]:
                del self._id_cache[digest]
        return self._issue(account_id)

    def refresh(self, refresh_token: str) -> Tokens:
        """Exchange a refresh token for new tokens; the one sent becomes invalid."""
        digest = token_digest(refresh_token)
        with self.store.transaction() as tx:
            row = tx.get_token(digest)
            if row is None or row[1] != REFRESH_TOKEN:
                raise Unauthorized("invalid refresh token")
            tx.delete_token(digest)
        account_id, _, expires = row
        if expires < time.time():
            raise Unauthorized("refresh token expired; log in again")
        return self._issue(account_id)

    @staticmethod
    def _bearer_digest(authorization: str | None) -> str:
        if not authorization or not authorization.strip():
            raise Unauthorized("missing Authorization header (expected 'Bearer <idToken>')")
        parts = authorization.strip().split(None, 1)
        if len(parts) == 2 and parts[0].lower() == "bearer":
            token = parts[1].strip()
        elif len(parts) == 1:
            token = parts[0]
        else:
            raise Unauthorized("malformed Authorization header (expected 'Bearer <idToken>')")
        return token_digest(token)

    def authenticate_cached(self, authorization: str | None) -> int | None:
        """Like :meth:`authenticate` for a token already seen (no database access, so cheap
        enough for the event loop); None when the database must be asked."""
        digest = self._bearer_digest(authorization)
        with self._lock:
            hit = self._id_cache.get(digest)
        if hit is None:
            return None
        if hit[1] < time.time():
            raise Unauthorized("token expired; log in again")
        return hit[0]

    def authenticate(self, authorization: str | None) -> int:
        """The account id of a bearer token from an ``Authorization`` header."""
        digest = self._bearer_digest(authorization)
        now = time.time()
        with self._lock:
            hit = self._id_cache.get(digest)
        if hit is None:
            with self.store.read() as tx:
                row = tx.get_token(digest)
            if row is None or row[1] != ID_TOKEN:
                raise Unauthorized("invalid token")
            hit = (row[0], row[2])
            with self._lock:
                self._id_cache[digest] = hit
        if hit[1] < now:
            raise Unauthorized("token expired; log in again")
        return hit[0]
