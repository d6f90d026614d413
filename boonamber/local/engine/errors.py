"""Typed errors raised by the engine; ``str(error)`` is a user-facing message."""

from __future__ import annotations


class EngineError(Exception):
    """Base class of every error the engine raises on purpose."""


class ConfigError(EngineError):
    """Invalid configuration; ``field`` names the offending wire field (e.g. ``features[1].name``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field


class InputError(EngineError):
    """Bad data: non-finite values, wrong counts, unknown names or ids."""


class StateError(EngineError):
    """The operation is not allowed in the model's current state."""
