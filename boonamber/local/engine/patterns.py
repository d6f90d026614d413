"""Turning a stream of vectors into scaled patterns (sliding windows), and input checks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .errors import InputError

F64 = npt.NDArray[np.float64]

#: Largest accepted magnitude of a value (data, bounds, fusion values, root-cause patterns).
#: With it a feature's range, and range x window x weights, never overflows to inf, so no
#: NaN can reach a scaled pattern.
MAX_ABS_VALUE = 1e200
#: A feature range narrower than this is degenerate (treated like a constant feature): the
#: scale factor 1 / (range x window x weights) stays finite.
MIN_RANGE = 1e-200
OUT_OF_RANGE = f"outside the accepted range [-{MAX_ABS_VALUE:g}, {MAX_ABS_VALUE:g}]"


def as_vectors(values: object, feature_count: int) -> F64:
    """Validate a flat list/array of values and return it as (n, feature_count) float64.

    Raises InputError for non-numeric data, a count that is not a multiple of feature_count,
    NaN/inf or a magnitude above MAX_ABS_VALUE (naming the first bad 0-based position).
    """
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"values must be numbers: {exc}") from None
    if arr.ndim == 2 and arr.shape[1] == feature_count:
        arr = arr.reshape(-1)
    if arr.ndim != 1:
        raise InputError(f"values must be a flat list of numbers, got shape {arr.shape}")
    if arr.size % feature_count:
        raise InputError(
            f"number of values ({arr.size}) is not a multiple of the feature count "
            f"({feature_count})"
        )
    if not (np.abs(arr) <= MAX_ABS_VALUE).all():  # one pass: NaN fails the comparison too
        finite = np.isfinite(arr)
        if not finite.all():
            pos = int(np.argmin(finite))
            raise InputError(f"value at position {pos} is not a finite number ({arr[pos]!r})")
        pos = int(np.argmax(np.abs(arr) > MAX_ABS_VALUE))
        raise InputError(f"value at position {pos} ({arr[pos]!r}) is {OUT_OF_RANGE}")
    return np.ascontiguousarray(arr).reshape(-1, feature_count)


@dataclass(frozen=True)
class Scaler:
    """Per-feature range and weights: maps raw vectors to scaled values (engine distance = L1)."""

    lo: F64  # per feature
    hi: F64
    scale: F64  # w_f / (sum w * range_f * window)
    window: int

    @classmethod
    def build(cls, lo: F64, hi: F64, weights: Sequence[int], window: int) -> Scaler:
        """Scaler for ranges [lo, hi] (hi > lo) and integer weights."""
        w = np.asarray(weights, dtype=np.float64)
        scale = w / (w.sum() * (hi - lo) * window)
        return cls(lo.copy(), hi.copy(), scale, window)

    def clip(self, x: F64) -> F64:
        """Clip vectors (..., F) to the feature ranges (values are finite: same as np.clip)."""
        out: F64 = np.minimum(np.maximum(x, self.lo), self.hi)
        return out

    def outside(self, x: F64) -> int:
        """How many values of vectors ``x`` (n, F) lie outside their feature's range (and
        are therefore clipped)."""
        return int(np.count_nonzero((x < self.lo) | (x > self.hi)))

    def vectors(self, x: F64) -> F64:
        """Scaled vectors (n, F) from raw vectors."""
        return self.scale_clipped(self.clip(x))

    def scale_clipped(self, clipped: F64) -> F64:
        """Scaled vectors (n, F) from vectors already clipped to the ranges."""
        out: F64 = (clipped - self.lo) * self.scale
        return out

    def patterns(self, raw: F64) -> F64:
        """Scaled patterns (m, F*W) from raw patterns in wire order (lag-major)."""
        f = len(self.lo)
        v = raw.reshape(len(raw), -1, f)
        return self.vectors(v).reshape(len(raw), -1)


def windows(vectors: F64, window: int) -> F64:
    """Read-only (n - window + 1, F*window) view: row r = vectors[r : r + window] flattened."""
    n, f = vectors.shape
    if n < window:
        return np.zeros((0, f * window))
    flat = np.ascontiguousarray(vectors).reshape(-1)
    # A strided view built directly (sliding_window_view's checks cost more than small calls).
    view: F64 = np.ndarray(
        (n - window + 1, f * window),
        dtype=flat.dtype,
        buffer=flat,
        strides=(f * flat.itemsize, flat.itemsize),
    )
    view.flags.writeable = False
    return view
