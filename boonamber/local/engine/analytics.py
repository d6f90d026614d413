"""Per-pattern analytics (RI, SI, AD, AH, AW, NI, NS, NW, OM, CS, PI), vectorised.

Every function takes the history it needs and returns the updated history, so a stream split
into any batches gives the same results as one batch.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

from boonamber.wire import ANALYTIC_KEYS  # the analytics' names: one list for client and server

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

FLOAT_KEYS = frozenset({"NW", "OM"})
FIR_TAPS = 9
OM_SPAN = 15
AW1_P = 0.95
AW2_P = 0.997
_FIR = (2 ** np.arange(FIR_TAPS)).astype(np.int64)  # oldest sample gets the largest weight
_FIR_SUM = int(_FIR.sum())  # 511
_EPS = 1e-9  # keeps exact ratios (e.g. ln 10 / ln 100) on the right side of floor()
SMALL_BATCH = 64  # up to this many patterns, OM and AH loop in plain Python (numpy's
# per-call overhead dominates there); the results are identical (test_engine_analytics)


def _clip(x: npt.NDArray[Any], lo: float, hi: float) -> npt.NDArray[Any]:
    """np.clip's result (NaN stays NaN) without its per-call overhead on small arrays."""
    out: npt.NDArray[Any] = np.minimum(np.maximum(x, lo), hi)
    return out


def empty_analytics(n: int) -> dict[str, npt.NDArray[np.int64] | npt.NDArray[np.float64]]:
    """All-zero analytics for ``n`` vectors."""
    return {
        k: np.zeros(n) if k in FLOAT_KEYS else np.zeros(n, dtype=np.int64) for k in ANALYTIC_KEYS
    }


def fir9(x: I64, hist: I64) -> tuple[I64, I64]:
    """SI-style smoothing: floor(sum_k 2^k x[t-k] / 511); ``hist`` holds the previous 8 inputs.

    The inputs are indices (0..1000), so the weighted sums fit int32: summed by Horner's rule
    on shifted slices (the same integers as the convolution, about 3x faster)."""
    ext = np.concatenate((hist, x))
    n = len(x)
    e = ext.astype(np.int32)
    total = e[:n] << (FIR_TAPS - 1)  # the oldest input has the largest weight
    for k in range(1, FIR_TAPS):
        total += e[k : k + n] << (FIR_TAPS - 1 - k)
    total //= _FIR_SUM
    return total.astype(np.int64), ext[-(FIR_TAPS - 1) :].copy()


def fir9_small(x: list[int], hist: I64) -> tuple[list[int], I64]:
    """:func:`fir9` in plain Python for short inputs: the weighted sum is carried from one
    output to the next (S_{t+1} = 2 (S_t - 256 x_{t-8}) + x_{t+1}), exact in integers."""
    ext = hist.tolist() + x
    top = 1 << (FIR_TAPS - 1)  # 256, the weight of the oldest input
    total = 0
    for v in ext[: FIR_TAPS - 1]:
        total = 2 * total + v  # the first window without its newest input
    out = []
    for t, v in enumerate(x):
        total = 2 * total + v  # now the window ext[t : t + 9]
        out.append(total // _FIR_SUM)
        total -= top * ext[t]
    return out, np.array(ext[-(FIR_TAPS - 1) :], dtype=np.int64)


def raw_index(size: I64, size_max: I64) -> I64:
    """RI = 1000 - floor(1000 ln S_c / ln S_max); 0 where S_max <= 1."""
    den = np.maximum(size_max, 1).astype(np.float64)
    np.log(den, out=den)
    big = den > 0  # S_max > 1
    ri = _clip(_ri_over(size, den, big), 0, 1000)
    ri[~big] = 0
    return ri


def _ri_over(size: I64, log_max: F64, where: npt.NDArray[np.bool_] | None = None) -> I64:
    """1000 - floor(1000 ln S_c / ``log_max`` + eps), unclipped (only ``where`` it is given:
    elsewhere the quotient is left undivided)."""
    q = np.maximum(size, 1).astype(np.float64)
    np.log(q, out=q)
    if where is None:
        q /= log_max
    else:
        np.divide(q, log_max, out=q, where=where)
    q *= 1000.0
    q += _EPS
    np.floor(q, out=q)
    ri: I64 = 1000 - q.astype(np.int64)
    return ri


def ri_of_size(size: int, size_max: int) -> int:
    """RI of a cluster of ``size`` patterns when the largest has ``size_max``."""
    return int(raw_index(np.array([size]), np.array([size_max]))[0])


def prob_index(size: I64, size_max: I64, n_train: I64) -> I64:
    """PI = round(1000 ln(S_max / S_c) / ln N_train), clipped to 0..1000; 0 while N_train <= 1."""
    n = np.maximum(n_train, 1).astype(np.float64)
    ok = n > 1
    ratio = np.maximum(size_max, 1).astype(np.float64) / np.maximum(size, 1).astype(np.float64)
    v = 1000.0 * np.log(ratio) / np.where(ok, np.log(n), 1.0)
    return np.where(ok, _clip(np.floor(v + 0.5), 0, 1000), 0).astype(np.int64)


def novelty_index(dist: F64, pv: float, ri_nearest: I64) -> I64:
    """NI for out-of-model patterns: x = clamp((d - PV)/PV, 0, 1); 1000 (x + (1 - x) RI/2000)."""
    x = _clip((dist - pv) / pv, 0.0, 1.0)
    v = 1000.0 * (x + (1.0 - x) * ri_nearest.astype(np.float64) / 2000.0)
    return _clip(np.floor(v + 0.5), 0, 1000).astype(np.int64)


def novelty_one(dist: float, pv: float, ri_nearest: int) -> int:
    """:func:`novelty_index` of one pattern (the same float operations, in Python)."""
    x = min(max((dist - pv) / pv, 0.0), 1.0)
    v = 1000.0 * (x + (1.0 - x) * float(ri_nearest) / 2000.0)
    return min(max(math.floor(v + 0.5), 0), 1000)


def cluster_growth(ids: I64, sizes_before: I64, smax_before: int) -> tuple[I64, I64, I64]:
    """Size of each pattern's cluster and the largest size, right after each assignment, and
    the number of patterns per cluster (``bincount(ids)``).

    ``ids`` are 0-based cluster indices (all valid in ``sizes_before``).
    """
    n = len(ids)
    k = len(sizes_before)
    if n == 0:
        zero = np.zeros(0, dtype=np.int64)
        return zero, zero, np.zeros(k, dtype=np.int64)
    # a stable order is unique; numpy sorts 16-bit integers by radix, ~4x faster
    key = ids.astype(np.int16) if k <= np.iinfo(np.int16).max else ids
    order = np.argsort(key, kind="stable")
    rank = np.empty(n, dtype=np.int64)  # position of each pattern in that order
    rank[order] = np.arange(n)
    counts = np.bincount(ids, minlength=k)
    starts = np.cumsum(counts) - counts  # where each cluster's patterns begin in that order
    # pattern t is occurrence rank[t] - starts[c] + 1 of its cluster c
    sc = rank + (sizes_before + 1 - starts)[ids]
    smax = None
    if smax_before >= int(sizes_before.max()):
        smax = _running_max(order, counts, starts, sizes_before, smax_before)
    if smax is None:
        smax = np.maximum.accumulate(np.maximum(sc, smax_before))
    return sc, smax, counts


#: _running_max loops over the clusters that pass the previous maximum: worth it while there
#: is at most one such cluster per this many patterns (else a sequential accumulate is cheaper).
_RECORD_SPAN = 1024


def _running_max(
    order: npt.NDArray[np.intp], counts: I64, starts: I64, sizes_before: I64, smax_before: int
) -> I64 | None:
    """The running maximum of the sizes when no cluster starts above ``smax_before``.

    Each pattern adds 1 to one cluster, so the maximum grows by 0 or 1 per pattern: it is
    ``smax_before`` plus the number of sizes L > smax_before first reached so far. Cluster c
    reaches size L at its (L - sizes_before[c])-th pattern, ``order[starts[c] + L -
    sizes_before[c] - 1]``; the first to reach L is the earliest of those (an elementwise
    minimum per cluster instead of a sequential accumulate). None when more than one cluster
    in _RECORD_SPAN patterns passes ``smax_before`` (the loop over them would cost more)."""
    n = len(order)
    ends = sizes_before + counts
    top = int(ends.max())
    if top <= smax_before:
        return np.full(n, smax_before, dtype=np.int64)
    growing = np.flatnonzero(ends > smax_before)
    if len(growing) * _RECORD_SPAN > n:
        return None
    first = np.full(top - smax_before, n, dtype=np.int64)  # sizes smax_before + 1 .. top
    for c in growing.tolist():
        skip = smax_before - int(sizes_before[c])  # its patterns that stay at or below
        start = int(starts[c])
        reached = order[start + skip : start + int(counts[c])]
        dst = first[: len(reached)]
        np.minimum(dst, reached, out=dst)
    mark = np.zeros(n, dtype=np.int64)
    mark[first] = 1  # every size up to top is reached (by the largest cluster), in order
    smax: I64 = np.cumsum(mark)
    smax += smax_before
    return smax


def learned_ri(sc: I64, smax: I64) -> I64:
    """:func:`raw_index` of patterns as they are learned (from :func:`cluster_growth`:
    1 <= sc <= smax, smax non-decreasing and growing by at most 1 per pattern). The same
    values, with ln S_max taken once per size from a table and no clipping (RI already lies
    in 0..1000 when S_c <= S_max)."""
    lo, hi = int(smax[0]), int(smax[-1])
    if lo <= 1:  # the first patterns of a model: the general case
        return raw_index(sc, smax)
    table = np.arange(lo, hi + 1, dtype=np.float64)
    np.log(table, out=table)
    return _ri_over(sc, table[smax - lo])


def learned_ri_bound(sizes_before: I64, counts: I64, smax_before: int) -> int:
    """The highest RI any pattern of a learned run can get (see :func:`cluster_growth`:
    ``counts`` patterns per cluster from ``sizes_before``): RI falls as S_c grows and rises with
    S_max, so none exceeds the RI of the smallest size a receiving cluster reaches (its size
    before the run plus one) under the largest S_max the run reaches."""
    sc_min = int(sizes_before[counts > 0].min()) + 1
    smax_end = max(smax_before, int((sizes_before + counts).max()))
    return ri_of_size(sc_min, smax_end)


def growth_tail(
    ids: I64, sizes_before: I64, counts: I64, smax_before: int, m: int
) -> tuple[I64, I64]:
    """:func:`cluster_growth`'s ``sc`` and ``smax`` of the last ``m`` patterns of ``ids`` alone
    (``counts`` is ``bincount(ids)``), walking back from the sizes at the end of the run."""
    sizes = sizes_before + counts
    n = len(ids)
    sc = np.empty(m, dtype=np.int64)
    smax = np.empty(m, dtype=np.int64)
    for j in range(m - 1, -1, -1):
        c = int(ids[n - m + j])
        sc[j] = sizes[c]
        smax[j] = max(smax_before, int(sizes.max()))
        sizes[c] -= 1
    return sc, smax


def top_si(hist: I64) -> int:
    """The highest SI counted in a training-SI histogram (0 when empty)."""
    nz = np.flatnonzero(hist)
    return int(nz[-1]) if nz.size else 0


def keep_top(hist: I64) -> None:
    """Drop the counts below the highest SI of a training-SI histogram, in place: graduation
    reads only the highest SI and the counts at or above its threshold, which is never below
    it, and the highest SI only grows. So the histogram is the same whichever patterns below
    the top were counted, and learning may skip runs that cannot reach it."""
    hist[: top_si(hist)] = 0


def op_mode(ids: I64, hist: I64) -> tuple[F64, I64]:
    """OM: mean of the last 15 positive ids seen up to each pattern (0 before any)."""
    if len(ids) <= SMALL_BATCH:
        return _op_mode_small(ids, hist)
    pos = ids[ids > 0]
    ext = np.concatenate((hist, pos))
    cs = np.concatenate(([0], np.cumsum(ext)))
    # number of positive ids seen up to and including each pattern (within ext)
    upto = len(hist) + np.cumsum(ids > 0)
    lo = np.maximum(upto - OM_SPAN, 0)
    cnt = upto - lo
    om = np.where(cnt > 0, (cs[upto] - cs[lo]) / np.maximum(cnt, 1), 0.0)
    return om.astype(np.float64), ext[-OM_SPAN:].copy()


def _op_mode_small(ids: I64, hist: I64) -> tuple[F64, I64]:
    """op_mode in plain Python (same sums and divisions: ids are far below 2**53)."""
    ext = hist.tolist()
    seen = len(ext)
    cs = [0]
    for v in ext:
        cs.append(cs[-1] + v)
    om = []
    for v in ids.tolist():
        if v > 0:
            ext.append(v)
            cs.append(cs[-1] + v)
            seen += 1
        lo = max(seen - OM_SPAN, 0)
        om.append((cs[seen] - cs[lo]) / (seen - lo) if seen > lo else 0.0)
    return np.array(om, dtype=np.float64), np.array(ext[-OM_SPAN:], dtype=np.int64)


def poisson_level(lam: float, p: float) -> int:
    """Smallest AH >= 1 with PoissonCDF(AH + 1; lam) >= p."""
    top = int(lam + 40.0 * math.sqrt(lam) + 60.0)
    k = np.arange(top + 1, dtype=np.float64)
    logpmf = k * math.log(lam) - lam - np.array([math.lgamma(v + 1.0) for v in k])
    cdf = np.cumsum(np.exp(logpmf))
    hit = np.flatnonzero(cdf >= p)
    m = int(hit[0]) if hit.size else top
    return max(1, m - 1)


def anomaly_history(
    ad: I64,
    ad_hist: I64,
    ah0: int,
    reset_next: bool,
    k2: int,
    block: int = 2048,
) -> tuple[I64, I64]:
    """AH per pattern: AH_t = max(0, AH_{t-1} + AD_t - AD_{t-W}), reset to 0 after a pattern with
    AW = 2 (AH >= k2) and AD = 0.  ``ad_hist`` holds the last W AD values (oldest first).

    Returns (AH, new ad_hist).
    """
    n = len(ad)
    if n <= len(ad_hist):  # the usual case: one copy of the history, not two
        x = ad - ad_hist[:n]
        new_hist = np.concatenate((ad_hist[n:], ad))
    else:
        ext = np.concatenate((ad_hist, ad))
        x = ad - ext[:n]
        new_hist = ext[n:].copy()
    if n <= SMALL_BATCH:
        ah_small = _anomaly_history_small(x.tolist(), ad.tolist(), ah0, reset_next, k2)
        return np.array(ah_small, dtype=np.int64), new_hist
    if ah0 == 0 and not ad.any():  # every step is <= 0 from 0: AH stays 0, nothing resets
        return np.zeros(n, dtype=np.int64), new_hist
    ah = np.zeros(n, dtype=np.int64)
    start, a0, reset = 0, ah0, reset_next
    while start < n:
        end = min(n, start + block)
        if reset:
            a0 = 0
        s = a0 + np.cumsum(x[start:end])
        seg = s - np.minimum(np.minimum.accumulate(s), 0)
        trig = np.flatnonzero((seg >= k2) & (ad[start:end] == 0))
        if trig.size and start + int(trig[0]) + 1 < n:
            t = int(trig[0])
            ah[start : start + t + 1] = seg[: t + 1]
            start += t + 1
            reset = True
            continue
        ah[start:end] = seg
        a0 = int(seg[-1]) if len(seg) else a0
        reset = False
        start = end
    return ah, new_hist


def oldest_first(ring: I64, pos: int) -> I64:
    """A history kept as a ring (oldest value at ``pos``) in plain order, oldest first."""
    return ring if pos == 0 else np.concatenate((ring[pos:], ring[:pos]))


def anomaly_history_ring(
    ad: list[int], ring: I64, pos: int, ah0: int, reset_next: bool, k2: int
) -> tuple[list[int], I64, int]:
    """:func:`anomaly_history` for up to SMALL_BATCH values (a list) on a history kept as a
    ring: ``ring[pos]`` is the oldest AD value. The ring is updated in place (no copy of the
    whole history); returns AH, the ring and the new ``pos`` (a batch longer than the
    history goes through :func:`anomaly_history`, which returns a new one, oldest first)."""
    n, size = len(ad), len(ring)
    if n > size:
        ah, hist = anomaly_history(
            np.array(ad, dtype=np.int64), oldest_first(ring, pos), ah0, reset_next, k2
        )
        return ah.tolist(), hist, 0
    head = min(n, size - pos)  # slots pos.. up to the end, then from the start
    old = ring[pos : pos + head].tolist()
    if head < n:
        old += ring[: n - head].tolist()
    x = [a - b for a, b in zip(ad, old, strict=True)]
    ring[pos : pos + head] = ad[:head]
    if head < n:
        ring[: n - head] = ad[head:]
    return _anomaly_history_small(x, ad, ah0, reset_next, k2), ring, (pos + n) % size


def _anomaly_history_small(
    x: list[int], ad: list[int], ah0: int, reset: bool, k2: int
) -> list[int]:
    """anomaly_history's loop in plain Python for one block (same running sum, running
    minimum and restart after the first trigger)."""
    n = len(x)
    ah = [0] * n
    start, a0 = 0, ah0
    while start < n:
        if reset:
            a0 = 0
        total, low = a0, 0
        for t in range(start, n):
            total += x[t]
            low = min(low, total)
            ah[t] = total - low
            if ah[t] >= k2 and ad[t] == 0 and t + 1 < n:
                start, reset = t + 1, True
                break
        else:
            start = n
    return ah


def warning_level(ah: I64, k1: int, k2: int) -> I64:
    """AW: 2 when AH >= k2, 1 when AH >= k1, else 0."""
    return np.where(ah >= k2, 2, np.where(ah >= k1, 1, 0)).astype(np.int64)


def compliance_one(ah: int, k2: int) -> int:
    """:func:`compliance` of one AH value."""
    return (200 * min(max(k2 - ah, 0), k2) + k2) // (2 * k2)


def compliance(ah: I64, k2: int) -> I64:
    """CS = round(100 clamp((k2 - AH) / k2, 0, 1))."""
    num = _clip(k2 - ah, 0, k2)
    return ((200 * num + k2) // (2 * k2)).astype(np.int64)
