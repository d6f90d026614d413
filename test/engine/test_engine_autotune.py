"""Autotuning of ranges and percentVariation."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from boonamber.local.engine import AmberModel
from boonamber.local.engine.autotune import tune_pv
from boonamber.local.engine.clustering import Blocks
from boonamber.local.engine.patterns import windows

Factory = Callable[..., AmberModel]
Motor = Callable[..., np.ndarray]


def test_range_is_the_half_percent_percentiles(make_model: Factory) -> None:
    rng = np.random.default_rng(0)
    x = np.column_stack([rng.normal(5, 2, 2000), rng.uniform(-3, 7, 2000), np.full(2000, 4.0)])
    m = make_model(3, 5, bufferingSamples=2000)
    m.process(x.ravel())
    # vectors arriving while Autotuning waits are buffered but not tuned on
    m.process(np.tile([100.0, -100.0, 9.0], 2600))
    assert m.status().state == "Learning"
    c = m.config_in_force()
    for f in range(2):
        lo, hi = np.percentile(x[:, f], [0.5, 99.5])
        assert c.min_vals[f] == lo and c.max_vals[f] == hi
    assert (c.min_vals[2], c.max_vals[2]) == (3.5, 4.5)  # constant: unit range
    assert all(not f.min_max_defined for f in c.config.features)


def test_configured_bounds_are_kept(make_model: Factory) -> None:
    m = make_model(1, 5, lo=-10, hi=10, bufferingSamples=300)
    m.process(np.random.default_rng(1).normal(0, 1, 300))
    c = m.config_in_force()
    assert (c.min_vals[0], c.max_vals[0]) == (-10.0, 10.0) and c.config.features[0].min_max_defined


def test_pv_in_range_and_deterministic(make_model: Factory, motor: Motor) -> None:
    x = motor(3000, seed=2)
    pvs = set()
    for _ in range(2):
        m = make_model(1, 25, bufferingSamples=3000)
        m.process(x)
        pvs.add(m.config_in_force().percent_variation)
    assert len(pvs) == 1
    pv = pvs.pop()
    assert 0.01 <= pv <= 0.2 and round(pv, 3) == pv


def test_pv_calibration_on_motor_trace(motor: Motor) -> None:
    """Smooth motor-current-like trace, window 25: published Amber runs land near 0.06."""
    found = []
    for seed in range(3):
        x = motor(6024, seed=seed)
        lo, hi = np.percentile(x, [0.5, 99.5])
        w = 25
        view = windows(((np.clip(x, lo, hi) - lo) / ((hi - lo) * w))[:, None], w)
        pv, curve = tune_pv(view, None, Blocks(1, w))
        found.append(pv)
        counts = [curve[k] for k in sorted(curve)]
        assert counts[0] > 10 * counts[-1]  # the curve explodes towards small PV
    print("autotuned PV (motor trace, window 25):", found)
    assert all(0.04 <= pv <= 0.09 for pv in found)


def test_fixed_pv_is_not_tuned(make_model: Factory, motor: Motor) -> None:
    m = make_model(1, 25, pv=0.123, bufferingSamples=1000)
    m.process(motor(1000))
    assert m.config_in_force().percent_variation == 0.123
