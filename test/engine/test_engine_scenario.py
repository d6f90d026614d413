"""End-to-end scenario with known truth: 10 operating points in 3 features, then injected faults."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from boonamber.local.engine import AmberModel

Factory = Callable[..., AmberModel]
Centroids = Callable[..., tuple[np.ndarray, np.ndarray]]
FAULT_LEN = 20


@pytest.mark.parametrize(("window", "min_recall"), [(1, 0.6), (5, 0.85)])
def test_finds_operating_points_and_flags_faults(
    make_model: Factory, centroids: Centroids, window: int, min_recall: float
) -> None:
    m = make_model(3, window, bufferingSamples=2000, learningMaxSamples=8000, historyWindow=1000)
    train, _ = centroids(8000, seed=0)
    m.process(train.ravel())
    assert m.status().state == "Monitoring"

    sizes = np.sort(np.array(m.nano_status().cluster_sizes[1:]))[::-1]
    cover95 = int(np.searchsorted(np.cumsum(sizes) / sizes.sum(), 0.95) + 1)

    test, _ = centroids(20000, seed=1)
    rng = np.random.default_rng(5)
    starts = np.arange(500, 19900, 1000) + rng.integers(0, 300, 20)
    for s in starts:  # one feature drifts off its operating point for FAULT_LEN vectors
        f = rng.integers(3)
        test[s : s + FAULT_LEN, f] += rng.choice([-1, 1]) * rng.uniform(0.15, 0.35)
    out = m.process_array(test.ravel())
    ad = out["AD"].astype(bool)
    lag = FAULT_LEN + window + 15  # a fault may be flagged until its patterns leave SI
    zone = np.zeros(len(ad), dtype=bool)
    for s in starts:
        zone[s : s + lag] = True
    recall = float(np.mean([ad[s : s + lag].any() for s in starts]))
    false_alarm = float(ad[~zone].mean())
    print(
        f"\nwindow {window}: {m.status().cluster_count} clusters, {cover95} hold 95% of the "
        f"patterns; recall {recall:.2f}, false-alarm rate {false_alarm:.4f}"
    )
    if window == 1:  # one pattern per vector: the clusters are the operating points
        assert 9 <= cover95 <= 11 and m.status().cluster_count <= 15
    assert recall >= min_recall
    assert false_alarm <= 0.005
    assert (out["AW"][zone] > 0).any() and out["AW"][~zone].mean() < 0.01
