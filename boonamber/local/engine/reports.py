"""What a model reports about itself: typed values (python names, numpy arrays).

The local server turns these into the wire's answers (:mod:`boonamber.local.wire`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from .config import EngineConfig, TrainingConfig

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


@dataclass(frozen=True)
class EngineStatus:
    """Where the model is in its life (Buffering, Autotuning, Learning, Monitoring)."""

    state: str
    warning_level: int
    compliance_score: int
    sample_count: int
    cluster_count: int
    progress: int
    message: str
    graduation: str


@dataclass(frozen=True)
class ConfigInForce:
    """The configuration with autotuned values resolved: ranges, percent variation and
    every training field."""

    config: EngineConfig  # as configured (bounds None where autotuned)
    min_vals: F64  # resolved per-feature ranges
    max_vals: F64
    percent_variation: float
    training: TrainingConfig  # every field set
    autotune_range: bool
    autotune_pv: bool


@dataclass(frozen=True)
class NanoStatus:
    """Per-cluster internals; index 0 of each array is the 'no cluster' slot."""

    pca: F64  # (clusters + 1, 2)
    cluster_growth: I64
    cluster_sizes: I64  # slot 0: unmatched Monitoring patterns so far
    anomaly_indexes: I64
    frequency_indexes: F64
    distance_indexes: F64
    sample_count: int
    cluster_count: int
    anomaly_threshold: int
    state: str


@dataclass(frozen=True)
class EngineSummary:
    """A description of the engine internals."""

    state: str
    graduation: str
    feature_count: int
    streaming_window: int
    pattern_length: int
    percent_variation: float | None  # None until resolved
    feature_names: tuple[str, ...]
    min_vals: F64  # empty until the ranges are resolved
    max_vals: F64
    sample_count: int
    training_patterns: int
    phase_vectors: int
    buffered_vectors: int
    cluster_count: int
    largest_cluster: int
    unmatched_patterns: int
    ghosts_kept: int
    anomaly_threshold: int
    lam: float
    warning_levels: tuple[int, int]  # AW1, AW2 thresholds of anomaly history
    anomaly_history: int
    training: TrainingConfig  # every field set
    autotune_range: bool
    autotune_pv: bool


#: Analytics of a batch: ``ID``, ``RI``, ... (see :data:`boonamber.wire.ANALYTIC_KEYS`) ->
#: one value per input vector.
Analytics = dict[str, npt.NDArray[Any]]
