"""Pure-numpy clustering engine of the offline, Amber-compatible local server.

Public interface::

    from boonamber.local.engine import (
        AmberModel, EngineConfig, EngineError, ConfigError, InputError, StateError, ANALYTIC_KEYS,
    )

``AmberModel(EngineConfig(...))`` is one model; its reports are typed values
(:mod:`.reports`), and the wire's camelCase names live in :mod:`boonamber.local.wire`, which
parses a ``postConfigRequest`` into an :class:`EngineConfig` and turns reports into answers.
See ``docs/local-server.md`` (section "Engine") for the behaviour and the decisions taken where
Amber's is unpublished.
"""

from boonamber.wire import ANALYTIC_KEYS

from .config import EngineConfig, FeatureConfig, TrainingConfig
from .errors import ConfigError, EngineError, InputError, StateError
from .model import AmberModel
from .reports import Analytics, ConfigInForce, EngineStatus, EngineSummary, NanoStatus

__all__ = [
    "ANALYTIC_KEYS",
    "AmberModel",
    "Analytics",
    "ConfigError",
    "ConfigInForce",
    "EngineConfig",
    "EngineError",
    "EngineStatus",
    "EngineSummary",
    "FeatureConfig",
    "InputError",
    "NanoStatus",
    "StateError",
    "TrainingConfig",
]
