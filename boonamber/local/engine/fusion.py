"""Sensor fusion: the current value of each feature, with per-feature time-to-live."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from .config import FeatureConfig
from .errors import InputError
from .patterns import MAX_ABS_VALUE, OUT_OF_RANGE

F64 = npt.NDArray[np.float64]
FUSION_REQUEST_RULES = ("default", "submit", "nosubmit")


def parse_update(vector: Sequence[Any], names: Sequence[str], rule: str) -> dict[int, float]:
    """Validate a fusion PUT; returns {feature index: value}. Raises InputError, changes nothing.

    Items are (name, value) pairs or {"name", "value"} mappings.
    """
    if rule not in FUSION_REQUEST_RULES:
        raise InputError(
            f"fusionRule must be one of {', '.join(FUSION_REQUEST_RULES)}, got {rule!r}"
        )
    if isinstance(vector, str | bytes | Mapping):
        raise InputError("vector must be a list of {name, value} items")
    index = {n: i for i, n in enumerate(names)}
    out: dict[int, float] = {}
    for pos, item in enumerate(vector):
        if isinstance(item, Mapping):
            name, value = item.get("name"), item.get("value")
        elif isinstance(item, Sequence) and not isinstance(item, str | bytes) and len(item) == 2:
            name, value = item[0], item[1]
        else:
            raise InputError(f"vector[{pos}] must be a {{name, value}} item")
        if not isinstance(name, str) or name not in index:
            raise InputError(f"vector[{pos}]: unknown feature name {name!r}")
        if index[name] in out:
            raise InputError(f"vector[{pos}]: feature {name!r} appears more than once")
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(float(value))
        ):
            raise InputError(f"vector[{pos}]: value of feature {name!r} is not a finite number")
        if abs(float(value)) > MAX_ABS_VALUE:
            raise InputError(
                f"vector[{pos}]: value of feature {name!r} ({value!r}) is {OUT_OF_RANGE}"
            )
        out[index[name]] = float(value)
    return out


def live_mask(times: F64, features: Sequence[FeatureConfig], now: float) -> npt.NDArray[np.bool_]:
    """Which features hold a value that has not expired (fusionTTL 0 = never expires)."""
    ttl = np.array([f.fusion_ttl for f in features], dtype=np.float64)
    isset = ~np.isnan(times)
    age = np.where(isset, now - np.nan_to_num(times), 0.0)
    live: npt.NDArray[np.bool_] = isset & ((ttl == 0) | (age <= ttl))
    return live


def wants_submit(rule: str, updated: Sequence[int], features: Sequence[FeatureConfig]) -> bool:
    """Request rule decides; ``default`` = submit if any updated feature's own rule is submit."""
    if rule == "submit":
        return True
    if rule == "nosubmit":
        return False
    return any(features[i].fusion_rule == "submit" for i in updated)
