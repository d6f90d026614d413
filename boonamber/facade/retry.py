"""When and how long to wait before sending a failed request again."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field

from boonamber.facade.errors import AmberCloudError, AmberConnectionError, AmberUserError

__all__ = ["DEFAULT_MAX_RETRIES", "RetryPolicy"]

DEFAULT_MAX_RETRIES = 3


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded exponential backoff with jitter.

    A failed request is sent again, at most ``max_retries`` times, when

    - the connection could not be opened (the request never left): any request;
    - the connection failed or timed out after the request was sent, or the server
      answered one of ``retry_statuses`` (429, 502, 503, 504): only *replayable* requests
      (GET, PUT of a label, DELETE, configuration, pretrain chunks, login).
      ``post_data`` and ``put_data`` are never replayed once they may have reached the server.

    The wait is ``min(max_backoff, initial_backoff * 2**attempt)`` minus up to ``jitter``
    of it at random (``connect_backoff`` instead of ``initial_backoff`` when the connection
    could not be opened: a refused connection fails within about a second); a ``Retry-After`` header (seconds or HTTP date) is honoured instead,
    capped at ``max_retry_after``. ``RetryPolicy(max_retries=0)`` turns retries off.
    """

    max_retries: int = DEFAULT_MAX_RETRIES
    initial_backoff: float = 0.5
    connect_backoff: float = 0.15
    max_backoff: float = 8.0
    max_retry_after: float = 60.0
    jitter: float = 0.25
    retry_statuses: frozenset[int] = field(default_factory=lambda: frozenset({429, 502, 503, 504}))

    def __post_init__(self) -> None:
        if (
            isinstance(self.max_retries, bool)
            or not isinstance(self.max_retries, int)
            or self.max_retries < 0
        ):
            raise AmberUserError(f"max_retries must be an integer >= 0, got {self.max_retries!r}")
        for name in ("initial_backoff", "connect_backoff", "max_backoff", "max_retry_after"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or value < 0:
                raise AmberUserError(f"{name} must be a number >= 0, got {value!r}")
        if not 0 <= self.jitter <= 1:
            raise AmberUserError(f"jitter must be between 0 and 1, got {self.jitter!r}")

    def should_retry(self, error: BaseException, attempt: int, *, replayable: bool) -> bool:
        """Whether the request that failed with ``error`` on retry number ``attempt`` goes again."""
        if attempt >= self.max_retries:
            return False
        if isinstance(error, AmberConnectionError):
            return replayable or not error.request_sent
        if isinstance(error, AmberCloudError):
            return replayable and error.status in self.retry_statuses
        return False

    def delay(self, error: BaseException, attempt: int) -> float:
        """Seconds to wait before retry number ``attempt + 1``."""
        retry_after = _retry_after(error)
        if retry_after is not None:
            return min(retry_after, self.max_retry_after)
        initial = self.initial_backoff
        if isinstance(error, AmberConnectionError) and not error.request_sent:
            initial = min(initial, self.connect_backoff)
        base = min(self.max_backoff, initial * (2.0**attempt))
        return base * (1 - self.jitter * random.random())


def _retry_after(error: BaseException) -> float | None:
    if not isinstance(error, AmberCloudError):
        return None
    value = next((v for k, v in error.headers.items() if k.lower() == "retry-after"), None)
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        import email.utils

        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = float(when.timestamp()) - time.time()
    return max(0.0, seconds)
