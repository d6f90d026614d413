"""Pure-numpy clustering engine of the offline, Amber-compatible local server.

Public interface::

    from boonamber.local.engine import (
        AmberModel, EngineConfig, EngineError, ConfigError, InputError, StateError, ANALYTIC_KEYS,
    )

``AmberModel(EngineConfig.from_wire(body))`` is one model; see ``docs/local-server.md``
(section "Engine") for the behaviour and the decisions taken where Amber's is unpublished.

Interface changes since the agreed sketch (all backwards compatible): ``put_fusion`` also
accepts ``{"name": ..., "value": ...}`` mappings as vector items; ``process_array`` also
accepts a sequence; ``pretrain`` rejects empty data with InputError; ``FeatureConfig`` and
``TrainingConfig`` are exported too.
"""

from .analytics import ANALYTIC_KEYS
from .config import EngineConfig, FeatureConfig, TrainingConfig
from .errors import ConfigError, EngineError, InputError, StateError
from .model import AmberModel

__all__ = [
    "ANALYTIC_KEYS",
    "AmberModel",
    "ConfigError",
    "EngineConfig",
    "EngineError",
    "FeatureConfig",
    "InputError",
    "StateError",
    "TrainingConfig",
]
