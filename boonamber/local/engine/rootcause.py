"""Root cause: which features make a pattern differ from the model's cluster templates."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]

MSG_NEITHER = "Must specify either patterns or cluster IDs for analysis"
MSG_BOTH = "Cannot specify both patterns and cluster IDs for analysis"


def root_cause(z: F64, templates: F64, exclude: int, feature_count: int) -> F64:
    """Per-feature root cause (0..1, the largest is 1) of scaled pattern ``z``.

    With D = distance to the nearest template and D_-f the same distance ignoring feature f
    (each feature's share is w_f/sum(w) * mean over lags |p - q| / range_f), feature f scores
    D - D_-f: how much of the misfit disappears when f is left out. With one feature this is D,
    the distance to the nearest other template. ``exclude`` is a template index to skip (the
    pattern's own cluster) or -1. All zeros when there is no other template or nothing differs.
    """
    keep = np.ones(len(templates), dtype=bool)
    if 0 <= exclude < len(templates):
        keep[exclude] = False
    others = templates[keep]
    if len(others) == 0:
        return np.zeros(feature_count)
    per_feature = np.abs(others - z).reshape(len(others), -1, feature_count).sum(axis=1)
    total = per_feature.sum(axis=1)
    score = total.min() - (total[:, None] - per_feature).min(axis=0)
    score = np.maximum(score, 0.0)
    top = float(score.max())
    out: F64 = score / top if top > 0 else np.zeros(feature_count)
    return out
