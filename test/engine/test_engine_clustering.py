"""The pruned nearest-template search equals a brute-force leader clustering, ties included."""

from __future__ import annotations

import numpy as np
import pytest

from boonamber.local.engine import clustering
from boonamber.local.engine.clustering import Blocks, TemplateStore, l1, leader_assign, nearest


def brute_leader(z: np.ndarray, pv: float) -> tuple[np.ndarray, np.ndarray]:
    templates: list[np.ndarray] = []
    ids = []
    for p in z:
        if templates:
            d = np.array([np.abs(p - t).sum() for t in templates])
            k = int(np.argmin(d))  # first minimum: ties -> lowest id
            if d[k] <= pv:
                ids.append(k)
                continue
        templates.append(p)
        ids.append(len(templates) - 1)
    return np.array(ids), np.array(templates)


@pytest.mark.parametrize("pivot_max", [clustering.PIVOT_MAX, 7])
@pytest.mark.parametrize("trial", range(16))
def test_leader_and_nearest_match_brute_force(
    trial: int, pivot_max: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(clustering, "PIVOT_MAX", pivot_max)  # 7: pivots dropped past 7 clusters
    rng = np.random.default_rng(trial)
    f, w = int(rng.integers(1, 4)), int(rng.integers(1, 12))
    n = int(rng.integers(50, 500))
    walk = np.cumsum(rng.normal(0, 0.05, (n + w, f)), axis=0)
    if trial % 3 == 0:
        walk = np.round(walk * 4) / 4  # exact ties between templates
    flat = walk.ravel()
    z = np.lib.stride_tricks.sliding_window_view(flat, f * w)[::f][:n] / (f * w)
    pv = float(rng.choice([0.005, 0.02, 0.05, 0.1]))
    ids_ref, templates = brute_leader(z, pv)

    store = TemplateStore(Blocks(f, w), f * w, keep_raw=False)
    res = leader_assign(store, z, None, pv)
    assert np.array_equal(res.index, ids_ref)
    assert np.array_equal(store.z, templates)
    counted = TemplateStore(Blocks(f, w), f * w, keep_raw=False)
    leader_assign(counted, z, None, pv, count_only=True)
    assert counted.count == len(templates)

    q = z[::-1] + rng.normal(0, 0.01, z.shape)
    idx, d = nearest(np.ascontiguousarray(q), store, pv, exact=True)
    full = np.abs(q[:, None, :] - templates[None]).sum(-1)
    assert np.array_equal(idx, full.argmin(axis=1))
    assert np.allclose(d, full.min(axis=1), rtol=0, atol=1e-12)


def test_l1_is_bit_stable_across_batch_shapes() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(300, 37)), rng.normal(size=(300, 37))
    rows = np.array([l1(a[i : i + 1], b[i : i + 1])[0] for i in range(300)])
    assert np.array_equal(l1(a, b), rows)
    assert np.array_equal(l1(a, b[0]), np.array([l1(a[i], b[0]) for i in range(300)]))


def _line_store(values: np.ndarray) -> TemplateStore:
    store = TemplateStore(Blocks(1, 1), 1, keep_raw=False)
    store.set_all(values[:, None], None)
    return store


def _brute_nearest(z: np.ndarray, store: TemplateStore) -> tuple[np.ndarray, np.ndarray]:
    every = np.abs(z[:, None, :] - store.z[None, :, :]).sum(axis=-1)
    best = every.argmin(axis=1)  # first minimum: ties -> lowest index
    return best, every[np.arange(len(z)), best]


@pytest.mark.parametrize("trial", range(8))
def test_length_one_search_equals_brute_force_with_ties(trial: int) -> None:
    """Pattern length 1 takes the sorted-line search: same index (ties -> lowest) and distance
    as every distance, with duplicated templates, exact midpoints and many templates."""
    rng = np.random.default_rng(trial)
    k = [3, 40, 3000][trial % 3]
    grid = rng.integers(0, 64, k) / 64.0  # dyadic: exact midpoints, duplicated values
    store = _line_store(rng.permutation(grid))
    mids = (np.arange(-1, 66) + 0.5) / 64.0  # ties between the two neighbours
    z = np.concatenate((mids, grid, rng.uniform(-0.2, 1.2, 500)))[:, None]
    idx, d = nearest(np.ascontiguousarray(z), store)
    want_idx, want_d = _brute_nearest(z, store)
    assert (idx == want_idx).all() and (d == want_d).all()


def test_length_one_search_falls_back_where_rounding_ties_far_templates() -> None:
    """Templates closer than the rounding of |v - t| can resolve: the result still equals the
    brute force (lowest index among equal rounded distances)."""
    tiny = np.spacing(1.0) / 4
    store = _line_store(np.array([3 * tiny, 0.5, tiny, 2 * tiny, 0.0]))
    z = np.array([[1.0], [0.75], [0.0], [tiny], [0.25]])
    idx, d = nearest(z, store)
    want_idx, want_d = _brute_nearest(z, store)
    assert (idx == want_idx).all() and (d == want_d).all()


@pytest.mark.parametrize("pv", [0.0, 0.001, 0.02, 0.1])
def test_length_one_leader_equals_brute_force(pv: float) -> None:
    """Leader clustering of length-1 patterns (templates created mid-chunk, quantised values
    giving ties) equals the brute-force leader."""
    rng = np.random.default_rng(int(pv * 1000))
    z = (np.round(rng.uniform(0, 1, 6000) * 256) / 256)[:, None]
    z[3000:] = rng.uniform(0, 1, (3000, 1))  # late novelty: templates created inside chunks
    store = TemplateStore(Blocks(1, 1), 1, keep_raw=False)
    res = leader_assign(store, z, None, pv)
    want_ids, want_templates = brute_leader(z, pv)
    assert res.stop == len(z)
    assert (res.index == want_ids).all()
    assert np.array_equal(store.z, want_templates)


def _line_data(kind: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """Length-1 scaled values of several shapes: uniform, quantised (exact ties), a smooth
    walk, a tight cluster then novelty (templates created late), integers on a grid."""
    if kind == 0:
        return rng.uniform(0, 1, n)
    if kind == 1:
        return np.round(rng.uniform(0, 1, n) * 64) / 64
    if kind == 2:
        walk = np.cumsum(rng.normal(0, 0.01, n))
        return (walk - walk.min()) / (np.ptp(walk) + 1e-9)
    if kind == 3:
        return np.concatenate((rng.normal(0.5, 0.001, n // 2), rng.uniform(0, 1, n - n // 2)))
    return rng.integers(0, 1000, n) / 999.0


def _brute_line_leader(
    v: np.ndarray, pv: float, cap: int | None, templates: np.ndarray
) -> tuple[np.ndarray, np.ndarray, int]:
    """Leader clustering of 1-D values, one value at a time (from ``templates``)."""
    t = templates.copy()
    ids = np.zeros(len(v), dtype=np.int64)
    for j, x in enumerate(v):
        if len(t):
            d = np.abs(x - t)
            k = int(d.argmin())  # ties -> lowest index
            if d[k] <= pv:
                ids[j] = k
                continue
        if cap is not None and len(t) >= cap:
            return ids[:j], t, j
        t = np.append(t, x)
        ids[j] = len(t) - 1
        if cap is not None and len(t) >= cap:
            return ids[: j + 1], t, j + 1
    return ids, t, len(v)


@pytest.mark.parametrize("trial", range(40))
def test_line_counter_equals_generic_count(trial: int) -> None:
    """The dedicated 1-D count (autotuning) gives the generic count-only leader's templates and
    stop, ties, saturation (cap) and pv 0 included, for every pv asked of one counter."""
    rng = np.random.default_rng(trial)
    v = _line_data(trial % 5, int(rng.integers(1, 20000)), rng)
    counter = clustering.LineCounter(v)
    for pv in rng.permutation([0.0, 0.001, 0.01, 0.0123, 1 / 64, 0.05, 0.2])[:3]:
        cap = int(rng.choice([1, 5, 300, 10**9]))
        store = TemplateStore(Blocks(1, 1), 1, keep_raw=False)
        res = leader_assign(store, v[:, None], None, float(pv), cap=cap, count_only=True)
        assert counter.count(float(pv), cap) == (store.count, res.stop), (pv, cap)


@pytest.mark.parametrize("trial", range(12))
def test_length_one_leader_with_bucket_tables_equals_brute_force(trial: int) -> None:
    """Long runs of length-1 patterns (bucket tables in use) from a store that already holds
    templates, selected by ``rows``, with raw patterns kept: the brute-force leader's ids,
    templates, raw templates and stop (cap)."""
    rng = np.random.default_rng(100 + trial)
    v = _line_data(trial % 5, 12000, rng)
    pv = float([0.01, 1 / 64, 0.05, 0.0123][trial % 4])
    cap = [None, 40, None][trial % 3]
    store = TemplateStore(Blocks(1, 1), 1, keep_raw=True)
    prior = v[:2000]
    leader_assign(store, prior[:, None], None, pv, None, 3.0 * prior[:, None])
    start = store.z[:, 0].copy()
    rows = rng.permutation(np.arange(2000, 12000))
    res = leader_assign(store, v[:, None], rows, pv, cap, 3.0 * v[:, None])
    ids, templates, stop = _brute_line_leader(v[rows], pv, cap, start)
    assert res.stop == stop
    assert np.array_equal(res.index[:stop], ids)
    assert np.array_equal(store.z[:, 0], templates)
    assert np.array_equal(store.raw[:, 0], 3.0 * templates)


@pytest.mark.parametrize("pv", [1 / 64, 0.01, 0.2])
def test_line_table_settles_only_exact_answers(pv: float) -> None:
    """Every value a bucket settles gets the brute-force nearest (ties -> lowest index),
    duplicated templates and values at bucket edges and midpoints included."""
    rng = np.random.default_rng(7)
    store = _line_store(rng.integers(0, 64, 200) / 64.0)
    values, first = store.line()
    table = clustering.LineTable(values, first, pv, 4096)
    edges = values[0] - pv + (values[-1] - values[0] + 2 * pv) * np.arange(4097) / 4096
    z = np.concatenate((edges, (values[:-1] + values[1:]) / 2, rng.uniform(-0.5, 1.5, 20000)))
    idx = table.lookup(z)
    settled = idx >= 0
    assert settled.mean() > 0.5
    want, d = _brute_nearest(z[:, None], store)
    assert np.array_equal(idx[settled], want[settled])
    assert (d[settled] <= pv).all()


@pytest.mark.parametrize("pv", [1 / 64, 0.01, 0.2])
@pytest.mark.parametrize("length", [1, 3])
def test_match_rows_equals_brute_force(pv: float, length: int) -> None:
    """match_rows (the bucket table for long runs of length-1 patterns, else nearest): matched
    exactly where the brute-force nearest lies within pv, and that nearest's index there;
    duplicated templates, values at bucket edges, midpoints and beyond the span included."""
    rng = np.random.default_rng(11)
    if length == 1:
        store = _line_store(rng.integers(0, 64, 200) / 64.0)
        values, _ = store.line()
        table = store.line_table(pv)
        span = values[-1] - values[0] + 2 * pv
        edges = values[0] - pv + span * np.arange(table.buckets + 1) / table.buckets
        mids = (values[:-1] + values[1:]) / 2
        z = np.concatenate((edges, mids, values + pv, rng.uniform(-0.5, 1.5, 20000)))[:, None]
        assert len(z) >= table.buckets  # the table is used
    else:
        store = TemplateStore(Blocks(1, length), length, keep_raw=False)
        store.set_all(rng.integers(0, 16, (60, length)) / 16.0, None)
        z = store.z[rng.integers(0, 60, 5000)] + rng.normal(0.0, pv / 2, (5000, length))
    idx, matched = clustering.match_rows(np.ascontiguousarray(z), store, pv)
    want, d = _brute_nearest(z, store)
    assert np.array_equal(matched, d <= pv)
    assert 0 < matched.mean() < 1
    assert np.array_equal(idx[matched], want[matched])
