"""PretrainFeed: pretraining fed piece by piece ends byte-identical to one-shot pretrain."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from boonamber.local.engine import AmberModel, EngineConfig, InputError, StateError
from boonamber.local.engine.model import PRETRAIN_CHUNK, PretrainFeed
from boonamber.local.engine.patterns import as_vectors

from .conftest import centroid_stream, config, sine_vectors

B = PRETRAIN_CHUNK


def one_shot(cfg: EngineConfig, x: np.ndarray, target: str = "Monitoring") -> bytes:
    model = AmberModel(cfg)
    model.pretrain(x, target_state=target)
    return model.to_bytes()


def fed(cfg: EngineConfig, x: np.ndarray, cuts: list[int], target: str = "Monitoring") -> bytes:
    """Feed the vectors of ``x`` split at the vector indices ``cuts``."""
    feed = PretrainFeed(cfg, target)
    bounds = [0, *cuts, len(x)]
    for k, (a, b) in enumerate(itertools.pairwise(bounds)):
        feed.add(as_vectors(x[a:b], cfg.feature_count), last=k == len(bounds) - 2)
    return feed.result().to_bytes()


def uniform(n: int, seed: int = 7) -> np.ndarray:
    return np.random.default_rng(seed).random(n)


# (data, cuts): below bufferingSamples, at a block edge, data ending on a block edge, many
# small pieces, a big piece then a tiny last one, an empty last piece
SPLITS_1F = [
    (5_000, [1, 2_500, 4_999]),
    (10_000, [9_999]),
    (B, [B // 2]),
    (B, [B]),  # the whole data, then an empty last piece
    (2 * B, [B]),
    (2 * B, [B, 2 * B]),
    (2 * B + 17, [3, 9_999, 10_000, 10_001, B - 1, B + 1, 2 * B]),
    (300_000, list(range(0, 300_000, 7_919))[1:]),
    (300_000, [299_999]),
]


@pytest.mark.parametrize(("n", "cuts"), SPLITS_1F)
def test_any_split_matches_one_shot_one_feature(n: int, cuts: list[int]) -> None:
    cfg = config(1, 1)
    x = uniform(n)
    assert fed(cfg, x, cuts) == one_shot(cfg, x)


@pytest.mark.parametrize("target", ["Monitoring", "Learning"])
@pytest.mark.parametrize(
    ("n", "cuts"), [(3_000, [1_000]), (B + 5, [B]), (B + 30_000, [20_000, 70_000, B + 29_999])]
)
def test_any_split_matches_one_shot_multi_feature(n: int, cuts: list[int], target: str) -> None:
    cfg = config(3, 4)
    x = sine_vectors(n, 3, seed=3)
    assert fed(cfg, x, cuts, target) == one_shot(cfg, x, target)


@pytest.mark.parametrize(
    "training",
    [
        {"bufferingSamples": 2_000, "learningMaxSamples": 50_000},
        {"bufferingSamples": B + 4_000},
        {"learningMaxSamples": 70_000, "learningMaxClusters": 40},
        {"bufferingSamples": 0},
    ],
)
def test_configured_counts_match_one_shot(training: dict[str, int]) -> None:
    kw = {"pv": 0.1} if training.get("bufferingSamples") == 0 else {}
    cfg = config(2, 1, lo=0.0, hi=1.0, **kw, **training)
    x, _ = centroid_stream(2 * B + 8_000, features=2, k=20, seed=2)
    for cuts in ([1, 1_999, 2_001, B, B + 4_001], [2 * B + 7_999], [B, 2 * B]):
        assert fed(cfg, x, cuts) == one_shot(cfg, x)


def test_work_is_done_before_the_last_piece() -> None:
    cfg = config(1, 1)
    feed = PretrainFeed(cfg)
    feed.add(as_vectors(uniform(B - 1), 1))
    assert feed._done == 0  # not a whole block yet
    feed.add(as_vectors(uniform(B + 1, seed=8), 1))
    assert feed._done == 2 * B  # both blocks ran: only the end waits for the total
    assert feed.received == 2 * B
    with pytest.raises(StateError, match="not complete"):
        feed.result()


def test_waits_for_the_default_buffering_samples_before_running() -> None:
    cfg = config(1, 1, bufferingSamples=None)  # the default: 10,000, below one block
    big = config(1, 1, bufferingSamples=200_000)  # configured: no wait for the total
    for c, expect in ((cfg, B), (big, B)):
        feed = PretrainFeed(c)
        feed.add(as_vectors(uniform(B), 1))
        assert feed._done == expect


def test_progress_reports_fractions_once_the_total_is_known() -> None:
    seen: list[float] = []
    feed = PretrainFeed(config(1, 1), progress=seen.append)
    feed.add(as_vectors(uniform(2 * B), 1))
    assert seen and set(seen) == {0.0}
    feed.add(as_vectors(uniform(2 * B, seed=9), 1), last=True)
    assert seen[-1] == 1.0
    assert 0.75 in seen and seen == sorted(seen)


def test_bad_use_is_refused() -> None:
    with pytest.raises(InputError, match="target_state"):
        PretrainFeed(config(1, 1), "Buffering")
    feed = PretrainFeed(config(1, 1))
    with pytest.raises(InputError, match="at least one vector"):
        feed.add(as_vectors(np.zeros(0), 1), last=True)
    done = PretrainFeed(config(1, 1))
    done.add(as_vectors(uniform(10), 1), last=True)
    with pytest.raises(StateError, match="already complete"):
        done.add(as_vectors(uniform(10), 1))


def answering(cfg: EngineConfig, x: np.ndarray, cuts: list[int]) -> bytes:
    """:func:`fed` through the streaming path, which computes every answer (the state-only
    Monitoring of pretraining must leave the very same state)."""
    feed = PretrainFeed(cfg)
    feed._model._answers = True
    bounds = [0, *cuts, len(x)]
    for k, (a, b) in enumerate(itertools.pairwise(bounds)):
        feed.add(as_vectors(x[a:b], cfg.feature_count), last=k == len(bounds) - 2)
    return feed.result().to_bytes()


def anomalous_tail(n_clean: int, n_tail: int, seed: int = 5) -> np.ndarray:
    """A clean quasi-periodic stretch, then one where bursts of noise, spikes and flat lines
    (unmatched patterns: ghosts, AD runs, AW 2 and the AH reset after it) alternate with
    clean stretches of the same signal, up to a last burst."""
    rng = np.random.default_rng(seed)
    x = sine_vectors(n_clean + n_tail, 1, seed=seed)[:, 0]
    t = n_clean
    while t < len(x):
        run = int(rng.integers(20, 400))
        kind = int(rng.integers(4))
        if kind == 1:
            x[t : t + run] += rng.normal(0.0, 0.5, len(x[t : t + run]))
        elif kind == 2:
            x[t : t + run : 7] = 3.0
        elif kind == 3:
            x[t : t + run] = -0.2
        t += run + int(rng.integers(50, 3_000))
    x[-150:] += rng.normal(0.0, 0.5, 150)  # ends in a burst: its AD values are kept
    return x


@pytest.mark.parametrize(
    ("window", "training", "cuts"),
    [
        (1, {"bufferingSamples": 1_000, "learningMaxSamples": 5_000}, [B]),
        (25, {"bufferingSamples": 2_000, "learningMaxSamples": 8_000}, [7, 9_000, B + 3]),
        (5, {"bufferingSamples": 500, "learningMaxSamples": 3_000, "historyWindow": 300}, []),
    ],
)
def test_state_only_monitoring_leaves_the_answering_paths_state(
    window: int, training: dict[str, int], cuts: list[int]
) -> None:
    cfg = config(1, window, **training)
    x = anomalous_tail(10_000, 2 * B)
    model = AmberModel(cfg)
    model.pretrain(x)
    st = model._s
    assert st.state == "Monitoring" and st.graduation == "pretrain"
    if window > 1:  # (at window 1 every clipped value lies near a template: no anomaly)
        assert st.ad_hist.any() and st.ah > 0 and st.ghost_next > 100
    assert fed(cfg, x, cuts) == answering(cfg, x, cuts) == model.to_bytes()


def test_runs_that_cannot_reach_the_top_si_skip_their_analytics(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Once the clusters are big, a learned run's SI cannot reach the highest training SI:
    pretraining then skips the run's RI and SI, and still ends byte-identical to the path that
    computes every answer (the training-SI histogram keeps only its top, see keep_top)."""
    cfg = config(1, 1)
    x = uniform(6 * B)
    from boonamber.local.engine import analytics

    computed = []  # patterns whose sizes were computed (a counting wrapper: same results)
    growth = analytics.cluster_growth

    def counting(ids: np.ndarray, *args: object) -> object:
        computed.append(len(ids))
        return growth(ids, *args)

    monkeypatch.setattr(analytics, "cluster_growth", counting)
    state_only = fed(cfg, x, [B, 3 * B])
    assert sum(computed) < len(x) // 10  # only the replay of the buffered patterns
    computed.clear()
    every_answer = answering(cfg, x, [B, 3 * B])
    assert sum(computed) == len(x)  # every pattern
    assert state_only == every_answer == one_shot(cfg, x)


@pytest.mark.parametrize("target", ["Monitoring", "Learning"])
def test_the_pretrained_model_streams_like_a_restored_one(target: str) -> None:
    """The model a feed hands over answers and counts clipped values like any other (it
    pretrained without answers)."""
    cfg = config(1, 25, bufferingSamples=1_000)
    feed = PretrainFeed(cfg, target)
    feed.add(as_vectors(sine_vectors(5_000)[:, 0], 1), last=True)
    model = feed.result()
    restored = AmberModel.from_bytes(model.to_bytes())
    x = sine_vectors(300, seed=3)[:, 0] * 3.0  # partly out of range: clipped
    out = model.process(x)
    assert out == restored.process(x)
    assert any(out["ID"]) and model.last_clipped == restored.last_clipped > 0
