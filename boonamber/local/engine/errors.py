"""Typed errors raised by the engine; ``str(error)`` is a user-facing message."""

from __future__ import annotations


class EngineError(Exception):
    """Base class of every error the engine raises on purpose."""


class ConfigError(EngineError):
    """Invalid configuration; ``field`` names the offending field (``features[1].name``) and
    ``problem`` says what is wrong with it."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}" if field else problem)
        self.field = field
        self.problem = problem


class InputError(EngineError):
    """Bad data: non-finite values, wrong counts, unknown names or ids."""


class StateError(EngineError):
    """The operation is not allowed in the model's current state."""
