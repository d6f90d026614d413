"""Analytics formulas (unit level against scalar references) and their behaviour in a model."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest

from boonamber.local.engine import AmberModel
from boonamber.local.engine import analytics as an

Factory = Callable[..., AmberModel]
Sines = Callable[..., np.ndarray]


def test_si_filter_weights_oldest_most() -> None:
    ri = np.array([1000, 0, 0, 0, 0, 0, 0, 0, 0, 0], dtype=np.int64)
    si, hist = an.fir9(ri, np.zeros(8, dtype=np.int64))
    # the single spike contributes 2^k * 1000 / 511 after k further patterns, then leaves
    assert si.tolist() == [1000 * 2**k // 511 for k in range(9)] + [0]
    assert hist.tolist() == [0] * 8
    rng = np.random.default_rng(0)
    x = rng.integers(0, 1001, 50)
    ref = [sum(2**k * int(x[t - k]) for k in range(9) if t - k >= 0) // 511 for t in range(50)]
    assert an.fir9(x, np.zeros(8, dtype=np.int64))[0].tolist() == ref
    a, h = an.fir9(x[:17], np.zeros(8, dtype=np.int64))
    b, _ = an.fir9(x[17:], h)
    assert np.concatenate([a, b]).tolist() == ref


def test_raw_index_formula() -> None:
    sizes = np.array([1, 10, 100, 2], dtype=np.int64)
    smax = np.full(4, 100, dtype=np.int64)
    assert an.raw_index(sizes, smax).tolist() == [
        1000,
        500,
        0,
        1000 - math.floor(1000 * math.log(2) / math.log(100)),
    ]
    assert an.raw_index(np.array([1]), np.array([1])).tolist() == [0]
    # every size against every maximum up to 400 (0 and 1 included): the scalar definition
    grid = np.arange(401, dtype=np.int64)
    size, top = (g.ravel() for g in np.meshgrid(grid, grid))
    ref = [
        0
        if m <= 1
        else min(1000, max(0, 1000 - math.floor(1000 * math.log(max(c, 1)) / math.log(m) + 1e-9)))
        for c, m in zip(size.tolist(), top.tolist(), strict=True)
    ]
    assert an.raw_index(size, top).tolist() == ref


@pytest.mark.parametrize("above", [7, 0, -20], ids=["above", "at", "below"])
@pytest.mark.parametrize(
    ("k", "n"), [(1, 5000), (3, 5000), (40, 5000), (40, 60_000), (40_000, 5000)]
)
def test_cluster_growth_equals_one_at_a_time(k: int, n: int, above: int) -> None:
    """Sizes, running maximum and counts equal a pattern-by-pattern count, for few and for
    more clusters than a 16-bit sort key holds (with few or many clusters per pattern: both
    ways of the running maximum), skewed ids, and a previous maximum above, at or (not in the
    engine) below the largest previous size."""
    rng = np.random.default_rng(k)
    ids = np.minimum(rng.geometric(0.2, n) - 1, k - 1) if k < 100 else rng.integers(0, k, n)
    before = rng.integers(0, 50, k).astype(np.int64)
    smax_before = max(0, int(before.max()) + above)
    sizes, top = before.copy(), smax_before
    want_sc, want_max = [], []
    for c in ids.tolist():
        sizes[c] += 1
        top = max(top, int(sizes[c]))
        want_sc.append(int(sizes[c]))
        want_max.append(top)
    sc, smax, counts = an.cluster_growth(ids.astype(np.int64), before, smax_before)
    assert sc.tolist() == want_sc and smax.tolist() == want_max
    assert counts.tolist() == (sizes - before).tolist()


@pytest.mark.parametrize("seed", range(6))
def test_learned_ri_equals_raw_index(seed: int) -> None:
    """RI of learned patterns (ln S_max from a table) equals raw_index, from a model's first
    patterns (S_max 0 or 1) to large clusters."""
    rng = np.random.default_rng(seed)
    k = int(rng.integers(1, 60))
    before = (rng.integers(0, 5, k) * rng.integers(0, 10_000)).astype(np.int64)
    if seed == 0:
        before[:] = 0
    ids = rng.integers(0, k, int(rng.integers(1, 30_000))).astype(np.int64)
    sc, smax, _ = an.cluster_growth(ids, before, int(before.max()))
    assert an.learned_ri(sc, smax).tolist() == an.raw_index(sc, smax).tolist()


@pytest.mark.parametrize("seed", range(8))
def test_growth_tail_and_ri_bound_agree_with_the_whole_run(seed: int) -> None:
    """The last patterns' sizes and running maximum alone equal cluster_growth's; no pattern's
    RI exceeds learned_ri_bound (from a model's first patterns to large clusters)."""
    rng = np.random.default_rng(seed)
    k = int(rng.integers(1, 40))
    before = (rng.integers(0, 5, k) * rng.integers(0, 20_000)).astype(np.int64)
    if seed == 0:
        before[:] = 0
    n = int(rng.integers(1, 20_000))
    ids = np.minimum(rng.geometric(0.3, n) - 1, k - 1).astype(np.int64)
    smax_before = int(before.max())
    sc, smax, counts = an.cluster_growth(ids, before, smax_before)
    for m in {1, min(n, 8), n if n < 50 else 8}:
        tail_sc, tail_max = an.growth_tail(ids, before, counts, smax_before, m)
        assert tail_sc.tolist() == sc[-m:].tolist() and tail_max.tolist() == smax[-m:].tolist()
    assert int(an.raw_index(sc, smax).max()) <= an.learned_ri_bound(before, counts, smax_before)


def test_keep_top_keeps_what_graduation_reads() -> None:
    hist = np.zeros(1001, dtype=np.int64)
    assert an.top_si(hist) == 0
    hist[[3, 40, 700]] = [5, 2, 9]
    an.keep_top(hist)
    assert an.top_si(hist) == 700 and hist.sum() == 9 and hist[700] == 9


def test_cluster_growth_and_om() -> None:
    ids = np.array([0, 1, 0, 2, 1, 0], dtype=np.int64)
    sc, smax, counts = an.cluster_growth(ids, np.array([3, 0, 0], dtype=np.int64), 3)
    assert sc.tolist() == [4, 1, 5, 1, 2, 6]
    assert smax.tolist() == [4, 4, 5, 5, 5, 6]
    assert counts.tolist() == [3, 2, 1]
    om, hist = an.op_mode(np.array([3, -1, 5, 0, 7]), np.array([1], dtype=np.int64))
    assert om.tolist() == [2.0, 2.0, 3.0, 3.0, 4.0]
    assert hist.tolist() == [1, 3, 5, 7]
    ids16 = np.arange(1, 21, dtype=np.int64)
    om16, h16 = an.op_mode(ids16, np.zeros(0, dtype=np.int64))
    assert om16[-1] == np.mean(np.arange(6, 21)) and len(h16) == 15


def ah_reference(ad: list[int], window: int, k2: int) -> list[int]:
    hist = [0] * window + []
    ah, reset, out = 0, False, []
    for a in ad:
        if reset:
            ah = 0
        old = hist[-window]
        hist.append(a)
        ah = max(0, ah + a - old)
        reset = ah >= k2 and a == 0
        out.append(ah)
    return out


def test_anomaly_history_matches_scalar_reference() -> None:
    rng = np.random.default_rng(5)
    for window, k2, p in [(20, 3, 0.2), (50, 5, 0.4), (7, 1, 0.1), (100, 8, 0.6)]:
        ad = (rng.random(3000) < p).astype(np.int64)
        ref = ah_reference(ad.tolist(), window, k2)
        ah, _ = an.anomaly_history(ad, np.zeros(window, dtype=np.int64), 0, False, k2, block=64)
        assert ah.tolist() == ref
        # split anywhere: carry the history, the last AH and the reset flag
        cut = 1234
        a1, h = an.anomaly_history(ad[:cut], np.zeros(window, dtype=np.int64), 0, False, k2)
        reset = bool(a1[-1] >= k2 and ad[cut - 1] == 0)
        a2, _ = an.anomaly_history(ad[cut:], h, int(a1[-1]), reset, k2)
        assert np.concatenate([a1, a2]).tolist() == ref


def test_small_batches_match_one_batch() -> None:
    """AH and OM in batches up to SMALL_BATCH (plain Python) equal one vectorised batch."""
    rng = np.random.default_rng(11)
    for window, k2, p in [(20, 3, 0.3), (5, 1, 0.5), (300, 6, 0.7)]:
        ad = (rng.random(2000) < p).astype(np.int64)
        ids = rng.integers(-3, 40, 2000).astype(np.int64)
        ref = ah_reference(ad.tolist(), window, k2)
        om_ref, _ = an.op_mode(ids, np.zeros(0, dtype=np.int64))
        hist, ah0, reset = np.zeros(window, dtype=np.int64), 0, False
        om_hist = np.zeros(0, dtype=np.int64)
        ahs, oms, at = [], [], 0
        while at < len(ad):
            n = int(rng.integers(0, an.SMALL_BATCH + 1))
            part, hist = an.anomaly_history(ad[at : at + n], hist, ah0, reset, k2)
            om, om_hist = an.op_mode(ids[at : at + n], om_hist)
            if len(part):
                ah0, reset = int(part[-1]), bool(part[-1] >= k2 and ad[at + len(part) - 1] == 0)
            ahs += part.tolist()
            oms += om.tolist()
            at += n
        assert ahs == ref
        assert oms == om_ref.tolist()  # exact: same sums, same divisions


def test_ring_history_and_small_fir_match_the_vectorised_ones() -> None:
    """AH on a ring-kept AD history (updated in place, wrapping around) and fir9 in plain
    Python equal the vectorised functions on the same stream, whatever the batch sizes."""
    rng = np.random.default_rng(12)
    for window, k2, p in [(20, 3, 0.5), (7, 1, 0.5), (300, 6, 0.7), (64, 2, 0.3)]:
        ad = (rng.random(3000) < p).astype(np.int64)
        ref = ah_reference(ad.tolist(), window, k2)
        ring, pos, ah0, reset, ahs, at = np.zeros(window, dtype=np.int64), 0, 0, False, [], 0
        while at < len(ad):
            n = int(rng.integers(1, min(window, an.SMALL_BATCH) + 1))
            part = ad[at : at + n].tolist()
            got, ring, pos = an.anomaly_history_ring(part, ring, pos, ah0, reset, k2)
            ah0, reset = got[-1], got[-1] >= k2 and part[-1] == 0
            ahs += got
            at += len(part)
        assert ahs == ref
        assert an.oldest_first(ring, pos).tolist() == ad[-window:].tolist()
    x = rng.integers(0, 1001, 2000).astype(np.int64)
    want, _ = an.fir9(x, np.zeros(an.FIR_TAPS - 1, dtype=np.int64))
    hist, got_all, at = np.zeros(an.FIR_TAPS - 1, dtype=np.int64), [], 0
    while at < len(x):
        n = int(rng.integers(1, an.SMALL_BATCH + 1))
        got, hist = an.fir9_small(x[at : at + n].tolist(), hist)
        got_all += got
        at += n
    assert got_all == want.tolist()


def test_poisson_levels_and_compliance() -> None:
    # lambda 2: P(X<=4)=0.947, P(X<=5)=0.983 -> AW1 at AH 4; P(X<=6)=0.9955, P(X<=7)=0.9989 -> 6
    assert an.poisson_level(2.0, 0.95) == 4
    assert an.poisson_level(2.0, 0.997) == 6
    assert an.poisson_level(1e-4, 0.997) == 1  # never 0: no warning without history
    assert an.warning_level(np.array([0, 3, 4, 6, 9]), 4, 6).tolist() == [0, 0, 1, 2, 2]
    assert an.compliance(np.array([0, 1, 3, 6, 10]), 6).tolist() == [100, 83, 50, 0, 0]


def test_ri_low_for_big_cluster_high_for_rare(make_model: Factory) -> None:
    # a flat signal (one huge cluster) with a few excursions (small clusters)
    x = np.zeros(3000)
    x[1000:1030] = np.linspace(0, 1, 30)
    m = make_model(1, 5, pv=0.05, lo=-1, hi=1, bufferingSamples=0, learningRateNumerator=0)
    out = m.process_array(x)
    ids, ri = out["ID"], out["RI"]
    big = np.bincount(ids[ids > 0]).argmax()
    assert ri[-1] == 0 and ids[-1] == big
    rare = (ids > 0) & (ids != big)
    assert ri[rare].min() >= 600
    pi = out["PI"]
    assert pi[-1] == 0 and pi[rare].min() > 500
    si = out["SI"]
    assert si[-1] == 0 and si[rare].max() > 0


def test_burst_raises_ad_ah_aw_then_settles(make_model: Factory, sines: Sines) -> None:
    m = make_model(1, 10, bufferingSamples=1000, learningMaxSamples=5000, historyWindow=500)
    x = sines(12000, noise=0.003).ravel()
    m.process(x[:5000])
    assert m.status().state == "Monitoring"
    x = x.copy()
    x[7000:7060] = np.random.default_rng(1).uniform(-1, 1, 60)  # a burst of garbage
    out = m.process_array(x[5000:])
    ad, ah, aw, cs = out["AD"], out["AH"], out["AW"], out["CS"]
    burst = slice(2000, 2080)
    assert ad[:1990].sum() <= 5  # quiet before
    assert ad[burst].sum() >= 20  # the burst is detected
    assert aw[burst].max() == 2 and cs[burst].min() < 100 and ah[burst].max() > 0
    assert out["NI"][burst].max() > 500 and out["NW"][burst].max() > 1.0
    assert ad[3000:].sum() == 0 and aw[-1] == 0 and ah[-1] == 0  # settled afterwards
    st = m.status()
    assert st.warning_level == 0 and st.compliance_score == 100
