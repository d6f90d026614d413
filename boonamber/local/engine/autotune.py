"""Autotuning of feature ranges (percentiles) and percentVariation (elbow of cluster count vs PV)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt

from .clustering import Blocks, LineCounter, TemplateStore, leader_assign
from .config import DEFAULT_PV, FeatureConfig
from .patterns import MIN_RANGE

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

LOW_PCT = 0.5
HIGH_PCT = 99.5
PV_GRID_STEP = 0.001
PV_GRID = np.round(np.arange(10, 201) * PV_GRID_STEP, 3)  # 0.010 .. 0.200
COARSE_STEP = 5  # coarse pass evaluates every 5th grid point
SATURATION_MIN = 300  # counting stops (and extrapolates) after max(this, patterns/20) clusters
SATURATION_DIV = 20
SATURATED = 0.9  # a count this close to the number of patterns has "exploded"
SETTLE_STEPS = 3  # past the knee, the count must hold steady over this many 0.001 steps...
SETTLE_TOL = 0.01  # ... within this relative change; the PV is the far end of that stretch
SETTLE_SEARCH = 5  # the stretch must start within this many steps of the knee (else: knee)


def _unit(v: float) -> float:
    """1, or a width that ``v`` can resolve (2^-40 of it) when ``v`` is huge."""
    return max(1.0, abs(v) * 2.0**-40)


def tune_range(
    data: F64,
    features: Sequence[FeatureConfig],
    autotune: bool,
    prev_lo: F64 | None,
    prev_hi: F64 | None,
) -> tuple[F64, F64]:
    """Resolve each feature's [min, max]: configured bounds win, unset ones come from the
    0.5/99.5 percentiles of ``data`` (n, F) (or are kept from ``prev_*`` when not autotuning)."""
    nf = len(features)
    lo = np.zeros(nf)
    hi = np.ones(nf)
    for f, feat in enumerate(features):
        col = data[:, f] if len(data) else None
        if autotune and col is not None:
            t_lo, t_hi = np.percentile(col, [LOW_PCT, HIGH_PCT])
            if t_lo == t_hi:
                t_lo, t_hi = col.min(), col.max()
        elif prev_lo is not None and prev_hi is not None:
            t_lo, t_hi = prev_lo[f], prev_hi[f]
        else:
            t_lo, t_hi = 0.0, 1.0
        a = float(t_lo) if feat.min_val is None else feat.min_val
        b = float(t_hi) if feat.max_val is None else feat.max_val
        if not b - a >= MIN_RANGE:  # crossed, equal or too narrow to scale by
            # A unit step, widened for huge magnitudes (where v + 1 == v).
            if feat.min_val is None and feat.max_val is not None:
                a = b - _unit(b)
            elif feat.max_val is None and feat.min_val is not None:
                b = a + _unit(a)
            else:  # degenerate (constant feature): centre a unit range on it
                a, b = a - _unit(a) / 2, a + _unit(a) / 2
        lo[f], hi[f] = a, b
    return lo, hi


def cluster_counter(
    source: F64, rows: I64 | None, blocks: Blocks, limit: int
) -> Callable[[float], float]:
    """``count(pv)``: the number of templates leader clustering creates over the given
    patterns at ``pv``.

    Counting stops once ``limit`` templates exist and extrapolates linearly to all patterns
    (the curve only matters in log scale there: it is in its "explosion"). Length-1
    patterns are sorted once for every pv (:class:`LineCounter`).
    """
    n = len(source) if rows is None else len(rows)
    if source.shape[1] == 1:
        line = LineCounter(np.ascontiguousarray(source[:, 0] if rows is None else source[rows, 0]))

        def run(pv: float) -> tuple[int, int]:
            return line.count(pv, limit)

    else:

        def run(pv: float) -> tuple[int, int]:
            store = TemplateStore(blocks, source.shape[1], keep_raw=False)
            res = leader_assign(store, source, rows, pv, cap=limit, count_only=True)
            return store.count, res.stop

    def count(pv: float) -> float:
        created, stop = run(pv)
        return float(created) if stop >= n else created * n / stop

    return count


def _kneedle_score(xs: F64, ys: F64, x0: float, x1: float, y0: float, y1: float) -> F64:
    """Distance below the chord of the normalised, decreasing curve (kneedle)."""
    xn = (xs - x0) / (x1 - x0)
    yn = (ys - y0) / (y1 - y0)
    out: F64 = (1.0 - xn) - yn
    return out


def tune_pv(
    source: F64,
    rows: I64 | None,
    blocks: Blocks,
    progress: Callable[[float], None] | None = None,
) -> tuple[float, dict[float, float]]:
    """Choose percentVariation: the kneedle point of log(cluster count) vs PV over 0.010..0.200,
    then moved right to where the count has settled (see :func:`_settle`).

    The curve is evaluated on a coarse grid (every COARSE_STEP-th 0.001 step, from high PV
    down; once the count saturates near the pattern count, lower PVs reuse it), then the knee
    is refined on the 0.001 grid around the coarse one. Returns (pv, {pv: count evaluated}).
    """
    n = len(source) if rows is None else len(rows)
    if n < 2:
        return DEFAULT_PV, {}
    limit = max(SATURATION_MIN, n // SATURATION_DIV)
    counts: dict[int, float] = {}
    count_at = cluster_counter(source, rows, blocks, limit)

    def count(i: int) -> float:
        if i not in counts:
            counts[i] = count_at(float(PV_GRID[i]))
        return counts[i]

    last = len(PV_GRID) - 1
    coarse = sorted({*range(0, last + 1, COARSE_STEP), last}, reverse=True)
    saturated: float | None = None
    for j, i in enumerate(coarse):
        if saturated is None:
            c = count(i)
            if c >= SATURATED * n:
                saturated = c
        else:
            counts[i] = saturated
        if progress is not None:
            progress(0.9 * (j + 1) / len(coarse))
    coarse.reverse()
    ys = np.log(np.array([counts[i] for i in coarse]))
    if ys.max() == ys.min():  # flat curve: nothing to choose from
        return DEFAULT_PV, {float(PV_GRID[i]): c for i, c in sorted(counts.items())}
    frame = (float(PV_GRID[0]), float(PV_GRID[-1]), float(ys.min()), float(ys.max()))
    knee = coarse[int(np.argmax(_kneedle_score(PV_GRID[coarse], ys, *frame)))]
    fine = list(range(max(0, knee - COARSE_STEP + 1), min(last, knee + COARSE_STEP - 1) + 1))
    yf = np.log(np.array([count(i) for i in fine]))
    knee_fine = fine[int(np.argmax(_kneedle_score(PV_GRID[fine], yf, *frame)))]
    best = _settle(knee_fine, last, count)
    if progress is not None:
        progress(1.0)
    return float(PV_GRID[best]), {float(PV_GRID[k]): c for k, c in sorted(counts.items())}


def _settle(knee: int, last: int, count: Callable[[int], float]) -> int:
    """Grid index SETTLE_STEPS past the first index in [knee, knee + SETTLE_SEARCH) from which
    the cluster count holds within SETTLE_TOL for SETTLE_STEPS steps (``knee`` when none does:
    a count still falling steadily past the knee has no plateau to settle on)."""
    for i in range(knee, min(knee + SETTLE_SEARCH, last - SETTLE_STEPS + 1)):
        c0 = count(i)
        if all(abs(count(i + k) - c0) <= SETTLE_TOL * c0 for k in range(1, SETTLE_STEPS + 1)):
            return i + SETTLE_STEPS
    return knee
