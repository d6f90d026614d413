"""Model configuration: parsing and validation of the wire ``postConfigRequest`` body."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from .errors import ConfigError

NAME_RE = re.compile(r"^[A-Za-z0-9.:_-]{1,1024}$")
FUSION_RULES = ("submit", "nosubmit")
PV_MIN = 0.01
PV_MAX = 0.20
DEFAULT_PV = 0.05

# (python attribute, wire name, default, smallest allowed value)
TRAINING_FIELDS: tuple[tuple[str, str, int, int], ...] = (
    ("history_window", "historyWindow", 10_000, 1),
    ("buffering_samples", "bufferingSamples", 10_000, 0),
    ("learning_max_samples", "learningMaxSamples", 1_000_000, 0),
    ("learning_max_clusters", "learningMaxClusters", 1_000, 1),
    ("learning_rate_numerator", "learningRateNumerator", 10, 0),
    ("learning_rate_denominator", "learningRateDenominator", 10_000, 0),
)
TRAINING_DEFAULTS = {attr: default for attr, _w, default, _lo in TRAINING_FIELDS}
_INT_LIMIT = 2**53


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _int(v: Any, fld: str, lo: int, hi: int = _INT_LIMIT) -> int:
    """An integer (integral floats accepted) in [lo, hi], else ConfigError naming ``fld``."""
    if not _is_number(v) or (isinstance(v, float) and not (math.isfinite(v) and v.is_integer())):
        raise ConfigError(fld, f"must be an integer, got {v!r}")
    iv = int(v)
    if iv < lo or iv > hi:
        raise ConfigError(fld, f"must be between {lo} and {hi}, got {iv}")
    return iv


def _float(v: Any, fld: str) -> float:
    if not _is_number(v) or not math.isfinite(float(v)):
        raise ConfigError(fld, f"must be a finite number, got {v!r}")
    return float(v)


def _bool(v: Any, fld: str) -> bool:
    if not isinstance(v, bool):
        raise ConfigError(fld, f"must be true or false, got {v!r}")
    return v


def _mapping(v: Any, fld: str) -> Mapping[str, Any]:
    if not isinstance(v, Mapping):
        raise ConfigError(fld, f"must be an object, got {type(v).__name__}")
    return v


def parse_pv(v: Any, fld: str = "percentVariation") -> float:
    """A percentVariation value in [0.01, 0.20]."""
    pv = _float(v, fld)
    if not PV_MIN <= pv <= PV_MAX:
        raise ConfigError(fld, f"must be between {PV_MIN} and {PV_MAX}, got {pv}")
    return pv


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

    def to_wire(self) -> dict[str, Any]:
        """The featureConfig as sent (unset bounds omitted)."""
        out: dict[str, Any] = {"name": self.name}
        if self.min_val is not None:
            out["minVal"] = self.min_val
        if self.max_val is not None:
            out["maxVal"] = self.max_val
        out.update(weight=self.weight, fusionRule=self.fusion_rule, fusionTTL=self.fusion_ttl)
        return out


@dataclass(frozen=True)
class TrainingConfig:
    """The six training fields; ``None`` means "not set" (the default applies)."""

    history_window: int | None = None
    buffering_samples: int | None = None
    learning_max_samples: int | None = None
    learning_max_clusters: int | None = None
    learning_rate_numerator: int | None = None
    learning_rate_denominator: int | None = None

    @classmethod
    def from_wire(cls, body: Any, prefix: str = "training") -> TrainingConfig:
        """Parse a trainingConfig object; unknown keys are ignored, null means unset."""
        m = _mapping(body, prefix)
        kw: dict[str, int | None] = {}
        for attr, wire, _default, lo in TRAINING_FIELDS:
            v = m.get(wire)
            kw[attr] = None if v is None else _int(v, f"{prefix}.{wire}", lo)
        return cls(**kw)

    def merged(self, other: TrainingConfig) -> TrainingConfig:
        """Fields set in ``other`` override this one's."""
        kw = {a: getattr(other, a) for a, *_ in TRAINING_FIELDS if getattr(other, a) is not None}
        return replace(self, **kw)

    def get(self, attr: str) -> int:
        """One resolved field by attribute name (default when unset)."""
        v: int | None = getattr(self, attr)
        return TRAINING_DEFAULTS[attr] if v is None else v

    def resolved(self) -> dict[str, int]:
        """Attribute name -> value with defaults filled in."""
        return {
            a: d if getattr(self, a) is None else getattr(self, a)
            for a, _w, d, _ in TRAINING_FIELDS
        }

    def to_wire(self, resolved: bool = False) -> dict[str, int]:
        """Wire dict: only the set fields, or all six resolved."""
        vals = self.resolved()
        return {
            w: vals[a] for a, w, *_ in TRAINING_FIELDS if resolved or getattr(self, a) is not None
        }


@dataclass(frozen=True)
class EngineConfig:
    """A validated model configuration (immutable)."""

    streaming_window: int
    features: tuple[FeatureConfig, ...]
    percent_variation: float | None = None
    training: TrainingConfig = field(default_factory=TrainingConfig)
    autotune_range: bool = True
    autotune_pv: bool = True

    @classmethod
    def from_wire(cls, body: Mapping[str, Any]) -> EngineConfig:
        """Parse and validate a postConfigRequest dict; raises ConfigError naming the bad field."""
        b = _mapping(body, "config")
        if b.get("streamingWindow") is None:
            raise ConfigError("streamingWindow", "is required")
        window = _int(b["streamingWindow"], "streamingWindow", 1, 1_000_000)
        pv = None if b.get("percentVariation") is None else parse_pv(b["percentVariation"])

        feats_raw = b.get("features")
        if feats_raw is None:
            raise ConfigError("features", "is required")
        if isinstance(feats_raw, str | bytes) or not isinstance(feats_raw, list | tuple):
            raise ConfigError("features", "must be a list of feature objects")
        if not feats_raw:
            raise ConfigError("features", "must contain at least one feature")
        feats = tuple(_feature(f, i) for i, f in enumerate(feats_raw))
        seen: dict[str, int] = {}
        for i, f in enumerate(feats):
            if f.name in seen:
                raise ConfigError(
                    f"features[{i}].name",
                    f"duplicate feature name {f.name!r} (also features[{seen[f.name]}])",
                )
            seen[f.name] = i

        training = TrainingConfig()
        if b.get("training") is not None:
            training = TrainingConfig.from_wire(b["training"])
        auto_range, auto_pv = True, True
        if b.get("autotuning") is not None:
            a = _mapping(b["autotuning"], "autotuning")
            if a.get("range") is not None:
                auto_range = _bool(a["range"], "autotuning.range")
            if a.get("percentVariation") is not None:
                auto_pv = _bool(a["percentVariation"], "autotuning.percentVariation")

        cfg = cls(window, feats, pv, training, auto_range, auto_pv)
        cfg.check_autotune_needs(training)
        return cfg

    def check_autotune_needs(self, training: TrainingConfig, prefix: str = "") -> None:
        """Raise ConfigError if the range must be autotuned without data to tune on."""
        if not self.autotune_range:
            for i, f in enumerate(self.features):
                for attr, wire in (("min_val", "minVal"), ("max_val", "maxVal")):
                    if getattr(f, attr) is None:
                        raise ConfigError(
                            f"features[{i}].{wire}", "is required when autotuning.range is false"
                        )
        elif self.range_to_tune() and training.resolved()["buffering_samples"] < 1:
            raise ConfigError(
                f"{prefix}training.bufferingSamples",
                "must be at least 1 when the range is autotuned",
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

    def to_wire(self) -> dict[str, Any]:
        """A postConfigRequest body that parses back to this configuration."""
        out: dict[str, Any] = {"streamingWindow": self.streaming_window}
        if self.percent_variation is not None:
            out["percentVariation"] = self.percent_variation
        out["features"] = [f.to_wire() for f in self.features]
        out["training"] = self.training.to_wire()
        out["autotuning"] = {"range": self.autotune_range, "percentVariation": self.autotune_pv}
        return out


def _feature(raw: Any, i: int) -> FeatureConfig:
    p = f"features[{i}]"
    m = _mapping(raw, p)
    name = m.get("name")
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise ConfigError(
            f"{p}.name", f"must match {NAME_RE.pattern} (letters, digits, '.:_-'), got {name!r}"
        )
    lo = None if m.get("minVal") is None else _float(m["minVal"], f"{p}.minVal")
    hi = None if m.get("maxVal") is None else _float(m["maxVal"], f"{p}.maxVal")
    if lo is not None and hi is not None and lo > hi:
        raise ConfigError(f"{p}.minVal", f"must not exceed maxVal ({lo} > {hi})")
    weight = 1 if m.get("weight") is None else _int(m["weight"], f"{p}.weight", 1, 1000)
    rule = m.get("fusionRule")
    if rule is None:
        rule = "submit"
    if rule not in FUSION_RULES:
        raise ConfigError(f"{p}.fusionRule", f"must be 'submit' or 'nosubmit', got {rule!r}")
    ttl = 0 if m.get("fusionTTL") is None else _int(m["fusionTTL"], f"{p}.fusionTTL", 0)
    return FeatureConfig(name, lo, hi, weight, str(rule), ttl)
