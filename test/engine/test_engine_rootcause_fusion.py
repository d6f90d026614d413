"""Root cause and sensor fusion."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from boonamber.local.engine import AmberModel, InputError, StateError
from boonamber.local.wire import parse_config

Factory = Callable[..., AmberModel]
Sines = Callable[..., np.ndarray]


Centroids = Callable[..., tuple[np.ndarray, np.ndarray]]


def trained(make_model: Factory, centroids: Centroids) -> AmberModel:
    m = make_model(3, 5, pv=0.05, lo=0, hi=1, bufferingSamples=0, learningMaxSamples=3000)
    m.process(centroids(3000)[0].ravel())
    assert m.status().state == "Monitoring"
    return m


def test_root_cause_points_at_perturbed_feature(make_model: Factory, centroids: Centroids) -> None:
    m = trained(make_model, centroids)
    x, labels = centroids(400, seed=7)
    start = int(np.flatnonzero(np.diff(labels) != 0)[0]) + 1  # a run of one centroid
    base = x[start : start + 5]
    for f in range(3):
        for shift in (0.15, 0.4):
            p = base.copy()
            p[:, f] = np.clip(p[:, f] + (shift if p[0, f] < 0.5 else -shift), 0, 1)
            rc = m.root_cause(vectors=[p.ravel().tolist()])
            assert rc.shape == (1, 3)  # one row, a column per feature in configuration order
            vals = rc[0].tolist()
            assert vals[f] == 1.0 and max(v for i, v in enumerate(vals) if i != f) < 0.6, vals
    # the same through the negative cluster id a fault gets in monitoring
    x[start + 10 : start + 20, 1] += 0.3
    out = m.process_array(x.ravel())
    ids = out["ID"][start + 10 : start + 24]
    neg = ids[ids < 0]
    assert len(neg) >= 8
    for cid in neg:
        rc = m.root_cause(clusters=[int(cid)])[0]
        assert int(np.argmax(rc)) == 1
    pos = m.root_cause(clusters=[1, 2])
    assert pos.shape == (2, 3) and ((pos >= 0.0) & (pos <= 1.0)).all()


def test_root_cause_errors(make_model: Factory, centroids: Centroids) -> None:
    m = trained(make_model, centroids)
    with pytest.raises(
        InputError, match=r"^Must specify either patterns or cluster IDs for analysis$"
    ):
        m.root_cause()
    with pytest.raises(
        InputError, match=r"^Cannot specify both patterns and cluster IDs for analysis$"
    ):
        m.root_cause(clusters=[1], vectors=[[0.0] * 15])
    with pytest.raises(InputError, match="unknown cluster id 9999"):
        m.root_cause(clusters=[1, 9999])
    with pytest.raises(InputError, match="unknown cluster id 0"):
        m.root_cause(clusters=[0])
    with pytest.raises(InputError, match=r"vectors\[1\] must hold 15 values"):
        m.root_cause(vectors=[[0.0] * 15, [0.0] * 14])
    with pytest.raises(InputError, match=r"vectors\[0\] holds a value that is not a finite"):
        m.root_cause(vectors=[[float("nan")] * 15])
    with pytest.raises(InputError, match=r"clusters\[0\] must be an integer"):
        m.root_cause(clusters=["a"])  # type: ignore[list-item]
    assert m.root_cause(clusters=[]).shape == (0, 3)
    fresh = make_model(1, 5)
    with pytest.raises(StateError):
        fresh.root_cause(vectors=[[0.0] * 5])


def fusion_model(make_model: Factory) -> AmberModel:
    cfg = parse_config(
        {
            "streamingWindow": 1,
            "percentVariation": 0.05,
            "features": [
                {"name": "a", "minVal": 0, "maxVal": 10, "fusionTTL": 60},
                {"name": "b", "minVal": 0, "maxVal": 10, "fusionRule": "nosubmit"},
            ],
            "training": {"bufferingSamples": 0},
        }
    )
    return AmberModel(cfg)


def test_fusion_waits_for_all_features_and_ttl(make_model: Factory) -> None:
    m = fusion_model(make_model)
    vec, out = m.put_fusion([("a", 1.0)], now=1000.0)
    assert vec == {"a": 1.0, "b": None} and out is None
    vec, out = m.put_fusion([("b", 2.0)], now=1010.0)  # b's own rule: nosubmit
    assert vec == {"a": 1.0, "b": 2.0} and out is None
    vec, out = m.put_fusion([{"name": "a", "value": 3.0}], now=1020.0)  # a's rule: submit
    assert out is not None and out["ID"] == [1]
    vec, out = m.put_fusion([("b", 2.5)], rule="submit", now=1070.0)
    assert out is not None and len(out["ID"]) == 1
    vec, out = m.put_fusion([("b", 2.5)], rule="submit", now=1081.0)  # a expired (ttl 60)
    assert vec == {"a": None, "b": 2.5} and out is None
    vec, out = m.put_fusion([("a", 4.0)], rule="nosubmit", now=1082.0)
    assert vec == {"a": 4.0, "b": 2.5} and out is None


def test_fusion_rejects_bad_updates_without_change(make_model: Factory) -> None:
    m = fusion_model(make_model)
    m.put_fusion([("a", 1.0)], now=0.0)
    snap = m.to_bytes()
    bad = [
        ([("a", 2.0), ("zz", 1.0)], "default", "unknown feature name 'zz'"),
        ([("a", 2.0), ("a", 3.0)], "default", "appears more than once"),
        ([("a", float("nan"))], "default", "not a finite number"),
        ([("a", 2.0)], "sometimes", "fusionRule must be one of"),
    ]
    for vector, rule, msg in bad:
        with pytest.raises(InputError, match=msg):
            m.put_fusion(vector, rule=rule, now=5.0)
        assert m.to_bytes() == snap
