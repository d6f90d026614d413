"""Model configuration: the validated, immutable settings of one model (python names only;
the wire's ``postConfigRequest`` is parsed into these in :mod:`boonamber.local.wire`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from .errors import ConfigError

FUSION_RULES = ("submit", "nosubmit")
PV_MIN = 0.01
PV_MAX = 0.20
DEFAULT_PV = 0.05

#: Training field -> (default, smallest allowed value).
TRAINING_LIMITS: dict[str, tuple[int, int]] = {
    "history_window": (10_000, 1),
    "buffering_samples": (10_000, 0),
    "learning_max_samples": (1_000_000, 0),
    "learning_max_clusters": (1_000, 1),
    "learning_rate_numerator": (10, 0),
    "learning_rate_denominator": (10_000, 0),
}


@dataclass(frozen=True)
class FeatureConfig:
    """One feature: name, optional fixed range, weight and fusion settings."""

    name: str
    min_val: float | None = None
    max_val: float | None = None
    weight: int = 1
    fusion_rule: str = "submit"
    fusion_ttl: int = 0  # seconds; 0 = never expires

    @property
    def min_max_defined(self) -> bool:
        """True when both bounds were configured."""
        return self.min_val is not None and self.max_val is not None


@dataclass(frozen=True)
class TrainingConfig:
    """The six training fields; ``None`` means "not set" (the default applies)."""

    history_window: int | None = None
    buffering_samples: int | None = None
    learning_max_samples: int | None = None
    learning_max_clusters: int | None = None
    learning_rate_numerator: int | None = None
    learning_rate_denominator: int | None = None

    def merged(self, other: TrainingConfig) -> TrainingConfig:
        """Fields set in ``other`` override this one's."""
        kw = {f.name: getattr(other, f.name) for f in fields(other)}
        return replace(self, **{k: v for k, v in kw.items() if v is not None})

    def get(self, attr: str) -> int:
        """One resolved field by attribute name (default when unset)."""
        v: int | None = getattr(self, attr)
        return TRAINING_LIMITS[attr][0] if v is None else v

    def resolved(self) -> TrainingConfig:
        """A copy with every field set (defaults filled in)."""
        return TrainingConfig(**{a: self.get(a) for a in TRAINING_LIMITS})

    def to_dict(self) -> dict[str, int | None]:
        """Field name -> value (snapshots)."""
        return asdict(self)


@dataclass(frozen=True)
class EngineConfig:
    """A validated model configuration (immutable).

    Raises ConfigError (``field`` is the python path, e.g. ``features[0].min_val``) when the
    settings cannot work together: a range that must be autotuned without data to tune on."""

    streaming_window: int
    features: tuple[FeatureConfig, ...]
    percent_variation: float | None = None
    training: TrainingConfig = field(default_factory=TrainingConfig)
    autotune_range: bool = True
    autotune_pv: bool = True

    def __post_init__(self) -> None:
        self.check_autotune_needs(self.training, self.autotune_range)

    def check_autotune_needs(self, training: TrainingConfig, autotune_range: bool) -> None:
        """Raise ConfigError if the range must be autotuned without data to tune on."""
        if not autotune_range:
            for i, f in enumerate(self.features):
                for attr in ("min_val", "max_val"):
                    if getattr(f, attr) is None:
                        raise ConfigError(
                            f"features[{i}].{attr}", "is required when autotuning.range is false"
                        )
        elif self.range_to_tune() and training.get("buffering_samples") < 1:
            raise ConfigError(
                "training.buffering_samples", "must be at least 1 when the range is autotuned"
            )

    def range_to_tune(self) -> bool:
        """True if some feature bound is unset (and so autotuned)."""
        return any(f.min_val is None or f.max_val is None for f in self.features)

    @property
    def feature_count(self) -> int:
        """Number of features (values per vector)."""
        return len(self.features)

    @property
    def feature_names(self) -> list[str]:
        """Feature names in configuration order."""
        return [f.name for f in self.features]

    @property
    def pattern_length(self) -> int:
        """featureCount x streamingWindow."""
        return len(self.features) * self.streaming_window

    def to_dict(self) -> dict[str, Any]:
        """Field name -> value, nested (snapshots); :meth:`from_dict` reads it back."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> EngineConfig:
        """Inverse of :meth:`to_dict`."""
        return cls(
            streaming_window=int(d["streaming_window"]),
            features=tuple(FeatureConfig(**f) for f in d["features"]),
            percent_variation=d["percent_variation"],
            training=TrainingConfig(**d["training"]),
            autotune_range=bool(d["autotune_range"]),
            autotune_pv=bool(d["autotune_pv"]),
        )
