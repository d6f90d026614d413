"""HTTP-level errors of the local server; each becomes a ``{code, message}`` JSON answer."""

from __future__ import annotations


class ApiError(Exception):
    """An error answered to the client with ``status`` and a user-facing ``message``."""

    status: int = 500

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status

    def __str__(self) -> str:
        return self.message


class BadRequest(ApiError):
    """400: the request is malformed or not allowed in the model's state."""

    status = 400


class Unauthorized(ApiError):
    """401: missing, wrong or expired credentials or token."""

    status = 401


class NotFound(ApiError):
    """404: no such model for this account (or no such route)."""

    status = 404


class MethodNotAllowed(ApiError):
    """405: the route exists but not with this method."""

    status = 405


class TooLarge(ApiError):
    """413: the request body exceeds the configured limit."""

    status = 413


class TooManyRequests(ApiError):
    """429: too many failed logins; ``retry_after`` seconds until the next attempt counts."""

    status = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
