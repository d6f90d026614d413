"""The ghost ring: unmatched Monitoring patterns kept for root cause, newest first."""

from __future__ import annotations

import numpy as np
import pytest

from boonamber.local.engine import AmberModel, InputError
from boonamber.local.engine.clustering import Blocks
from boonamber.local.wire import parse_config


def _monitoring(window: int = 25) -> AmberModel:
    cfg = {
        "streamingWindow": window,
        "features": [{"name": "x"}],
        "training": {"bufferingSamples": 500, "learningMaxSamples": 1500},
    }
    model = AmberModel(parse_config(cfg))
    model.process_array(np.sin(np.arange(2000) / 10.0))
    assert model.status().state == "Monitoring"
    return model


def test_the_ring_keeps_the_newest_and_survives_snapshots() -> None:
    model = _monitoring()
    cap = model._ghost_cap()
    noise = np.random.default_rng(1).uniform(5, 10, size=cap + 700)
    ids = np.concatenate(
        [model.process_array(noise[i : i + 333])["ID"] for i in range(0, len(noise), 333)]
    )
    assert (ids < 0).all()
    newest = int(ids.min())
    assert model.summary().ghosts_kept == cap
    restored = AmberModel.from_bytes(model.to_bytes())
    for m in (model, restored):
        assert m.root_cause(clusters=[newest, newest + cap - 1]).shape == (2, 1)
        with pytest.raises(InputError, match="no longer kept"):
            m.root_cause(clusters=[newest + cap])
        with pytest.raises(InputError, match="unknown cluster id"):
            m.root_cause(clusters=[newest - 1])
    more = np.random.default_rng(2).uniform(5, 10, size=50)
    a, b = model.process_array(more), restored.process_array(more)
    assert all(np.array_equal(a[k], b[k]) for k in a)


def test_snapshots_in_arrival_order_are_placed_in_the_ring() -> None:
    model = _monitoring()
    cap = model._ghost_cap()
    noise = np.random.default_rng(3).uniform(5, 10, size=cap + 40)
    model.process_array(noise)
    expected = {g: model.root_cause(clusters=[g]) for g in (-41 - cap + 1, -41, -cap - 40)}
    # The older layout: ids in arrival order, more of them than the ring holds.
    s = model._s
    order = np.argsort(-s.ghost_ids)
    s.ghost_ids, s.ghost_raw = s.ghost_ids[order], s.ghost_raw[order]
    restored = AmberModel.from_bytes(model.to_bytes())
    for g, cause in expected.items():
        assert np.array_equal(restored.root_cause(clusters=[g]), cause)


def test_block_sums_need_no_dense_matrix() -> None:
    blocks = Blocks(3, 100)
    z = np.random.default_rng(4).uniform(size=(7, 300))
    dense = np.zeros((300, blocks.width))
    for lag in range(100):
        for f in range(3):
            dense[lag * 3 + f, (lag // 10) * 3 + f] = 1.0
    assert np.allclose(blocks.sums(z), z @ dense, rtol=1e-12, atol=1e-12)
