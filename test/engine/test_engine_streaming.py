"""Streaming == batch (split invariance), snapshot/restore, and rejected input leaving no trace."""

from __future__ import annotations

import dataclasses
import io
import itertools
import json
import zipfile
from collections.abc import Callable

import numpy as np
import pytest

from boonamber.local.engine import AmberModel, ConfigError, EngineError, InputError
from boonamber.local.engine.snapshot import decode, encode
from boonamber.local.wire import apply_learning, dumps


def report(value: object) -> bytes:
    """A report (a dataclass holding numpy arrays) as comparable bytes."""
    return dumps(dataclasses.asdict(value))  # type: ignore[call-overload]


Factory = Callable[..., AmberModel]
Sines = Callable[..., np.ndarray]
Analytics = dict[str, np.ndarray]


def feed(m: AmberModel, x: np.ndarray, cuts: list[int]) -> Analytics:
    """Process flat ``x`` in pieces cut at the given vector indexes; concatenate the results."""
    f = m.config.feature_count
    bounds = [0, *cuts, len(x) // f]
    parts = [m.process_array(x[a * f : b * f]) for a, b in itertools.pairwise(bounds)]
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def assert_same(a: Analytics, b: Analytics) -> None:
    for k in a:
        assert np.array_equal(a[k], b[k]), (k, np.flatnonzero(a[k] != b[k])[:10])


def stream(sines: Sines, n: int, features: int) -> np.ndarray:
    x = sines(n, features=features, noise=0.01)
    rng = np.random.default_rng(9)
    for s in range(2500, n, 1700):  # bursts of novelty so monitoring has work to do
        x[s : s + 30] += rng.normal(0, 0.5, (30, features))
    return x.ravel()


@pytest.mark.parametrize(("features", "window"), [(1, 25), (3, 4), (5, 1)])
def test_learning_split_invariance(make_model: Factory, sines: Sines, features: int,
                                   window: int) -> None:  # fmt: skip
    x = stream(sines, 6000, features)
    kw = {"bufferingSamples": 700, "learningRateNumerator": 0, "historyWindow": 300}
    m1 = make_model(features, window, **kw)
    ref = feed(m1, x, [])
    assert m1.status().state == "Learning" and m1.status().cluster_count > 5
    rng = np.random.default_rng(features)
    for cuts in (
        list(range(1, 6000, 1)),  # one vector per call
        sorted({int(c) for c in rng.integers(1, 6000, 40)}),
        [699, 700, 701],  # around the end of buffering
    ):
        m2 = make_model(features, window, **kw)
        assert_same(ref, feed(m2, x, cuts))
        assert m2.to_bytes() == m1.to_bytes()


@pytest.mark.parametrize(("features", "window"), [(1, 25), (3, 4)])
def test_monitoring_split_invariance_and_restore(make_model: Factory, sines: Sines, features: int,
                                                 window: int) -> None:  # fmt: skip
    x = stream(sines, 12000, features)
    m = make_model(features, window, bufferingSamples=1000, learningMaxSamples=2000,
                   historyWindow=400)  # fmt: skip
    m.process_array(x[: 2000 * features])
    assert m.status().state == "Monitoring"
    snap = m.to_bytes()
    rest = x[2000 * features :]
    ref = feed(AmberModel.from_bytes(snap), rest, [])
    assert (ref["ID"] < 0).sum() > 10 and ref["AD"].sum() > 0 and ref["AW"].max() > 0
    rng = np.random.default_rng(2)
    for cuts in (list(range(1, 10000, 1)), sorted({int(c) for c in rng.integers(1, 10000, 60)})):
        m2 = AmberModel.from_bytes(snap)
        assert_same(ref, feed(m2, rest, cuts))
    # restore mid-way and continue: identical
    m3 = AmberModel.from_bytes(snap)
    a = feed(m3, rest[: 5000 * features], [])
    m4 = AmberModel.from_bytes(m3.to_bytes())
    b = feed(m4, rest[5000 * features :], [])
    assert_same(ref, {k: np.concatenate([a[k], b[k]]) for k in a})
    for view in ("status", "nano_status", "summary", "config_in_force"):
        assert report(getattr(m4, view)()) == report(getattr(m2, view)()), view


@pytest.mark.parametrize(
    ("features", "window", "history"), [(1, 25, 400), (3, 4, 7), (2, 1, 10_000)]
)
def test_small_monitoring_batches_match_one_batch(make_model: Factory, sines: Sines,
                                                  features: int, window: int,
                                                  history: int) -> None:  # fmt: skip
    """Monitoring batches of up to SMALL_BATCH patterns take the plain-Python path (and the AD
    history its ring); any mix with vectorised batches gives the same analytics and the same
    snapshot as one batch: clipping, ghosts, warnings, a history shorter than a batch."""
    from boonamber.local.engine.analytics import SMALL_BATCH

    x = stream(sines, 9000, features)
    x[7000 * features : 7050 * features] *= 3.0  # beyond the learned ranges: clipped
    m = make_model(features, window, bufferingSamples=1000, learningMaxSamples=2000,
                   historyWindow=history)  # fmt: skip
    m.process_array(x[: 2000 * features])
    assert m.status().state == "Monitoring"
    snap = m.to_bytes()
    rest = x[2000 * features :]
    ref_model = AmberModel.from_bytes(snap)
    ref = feed(ref_model, rest, [])
    assert (ref["ID"] < 0).sum() > 10 and ref["AW"].max() > 0
    n = len(rest) // features
    rng = np.random.default_rng(features)
    sizes = [10, SMALL_BATCH, SMALL_BATCH + 1, 1, history + 3]
    cuts, at = [], 0
    while at < n:
        at += int(sizes[len(cuts) % len(sizes)] if len(cuts) < 200 else rng.integers(1, 90))
        cuts.append(at)
    m2 = AmberModel.from_bytes(snap)
    parts, clipped = [], 0
    for a, b in itertools.pairwise([0, *[c for c in cuts if c < n], n]):
        parts.append(m2.process_array(rest[a * features : b * features]))
        clipped += m2.last_clipped
    assert_same(ref, {k: np.concatenate([q[k] for q in parts]) for k in ref})
    assert clipped == ref_model.last_clipped > 0
    assert m2.to_bytes() == ref_model.to_bytes()
    for view in ("status", "nano_status", "summary"):
        assert report(getattr(m2, view)()) == report(getattr(ref_model, view)()), view


def test_snapshot_in_every_state(make_model: Factory, sines: Sines) -> None:
    x = sines(3000).ravel()
    m = make_model(1, 10, bufferingSamples=500, learningMaxSamples=1500)
    for chunk in (x[:300], x[300:1000], x[1000:2000]):
        m.process(chunk)
        r = AmberModel.from_bytes(m.to_bytes())
        assert r.to_bytes() == m.to_bytes()
        assert r.status() == m.status()
        assert report(r.config_in_force()) == report(m.config_in_force())
        assert r.process(x[2000:2300]) == m.process(x[2000:2300])
    m.put_fusion([("f0", 1.0)], now=5.0)
    assert AmberModel.from_bytes(m.to_bytes()).put_fusion([], now=6.0)[0] == {"f0": 1.0}


def test_corrupt_snapshots_raise_engine_error(make_model: Factory) -> None:
    good = make_model(1, 5).to_bytes()
    for bad in (
        b"",
        b"not a zip",
        good[: len(good) // 2],
        good.replace(b"Buffering", b"Bxffering"),
    ):
        with pytest.raises(EngineError):
            AmberModel.from_bytes(bad)
    _, arrays = decode(good)
    with pytest.raises(EngineError, match="unsupported snapshot version 99"):
        AmberModel.from_bytes(_with_version(good, 99))
    with pytest.raises(EngineError, match="corrupt engine snapshot"):
        AmberModel.from_bytes(encode({"state": {}}, arrays))


def _with_version(data: bytes, version: int) -> bytes:
    """The same snapshot with another format version in its header."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for name in src.namelist():
            blob = src.read(name)
            if name == "header.json":
                blob = json.dumps({**json.loads(blob), "version": version}).encode()
            dst.writestr(name, blob)
    return out.getvalue()


def test_bad_input_leaves_model_unchanged(make_model: Factory, sines: Sines) -> None:
    m = make_model(2, 5, bufferingSamples=200, learningMaxSamples=600)
    good = sines(1000, features=2).ravel()
    done = 0
    for stop in (150, 400, 1000):  # Buffering, Learning, Monitoring
        m.process(good[2 * done : 2 * stop])
        done = stop
        snap = m.to_bytes()
        cases: list[tuple[object, str]] = [
            (
                [1.0, 2.0, 3.0],
                r"number of values \(3\) is not a multiple of the feature count \(2\)",
            ),
            ([1.0, 2.0, float("nan"), 4.0], r"value at position 2 is not a finite number"),
            ([1.0, float("inf")], r"value at position 1 is not a finite number"),
            (["a", "b"], "values must be numbers"),
        ]
        for bad, msg in cases:
            with pytest.raises(InputError, match=msg):
                m.process(bad)  # type: ignore[arg-type]
            with pytest.raises(InputError, match=msg):
                m.pretrain(bad)  # type: ignore[arg-type]
            assert m.to_bytes() == snap
        if m.status().state in ("Learning", "Monitoring"):
            with pytest.raises(ConfigError, match=r"training\.learningMaxClusters"):
                apply_learning(m, {"state": "Learning", "training": {"learningMaxClusters": 0}})
            with pytest.raises(ConfigError, match="state"):
                m.set_learning("Monitoring")
            with pytest.raises(ConfigError, match=r"autotuning\.range"):
                apply_learning(m, {"state": "Buffering", "autotuning": {"range": "no"}})
            assert m.to_bytes() == snap
