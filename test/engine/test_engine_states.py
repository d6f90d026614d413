"""State machine: Buffering -> Autotuning -> Learning -> Monitoring, counts, ids, controls."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from boonamber.local.engine import ANALYTIC_KEYS, AmberModel, InputError, StateError, TrainingConfig
from boonamber.local.engine.model import AUTOTUNE_WAIT

Factory = Callable[..., AmberModel]
Sines = Callable[..., np.ndarray]


def test_sample_count_counts_patterns(make_model: Factory) -> None:
    m = make_model(1, 25, bufferingSamples=1000)
    out = m.process(np.linspace(0, 1, 500))
    st = m.status()
    assert st.sample_count == 476
    assert st.state == "Buffering"
    assert st.progress == 50
    assert set(out) == set(ANALYTIC_KEYS)
    assert all(len(v) == 500 for v in out.values())
    assert all(v == [0] * 500 for v in out.values())


def test_autotuning_waits_then_replays_everything(make_model: Factory, sines: Sines) -> None:
    # bufferingSamples 300: Autotuning lasts AUTOTUNE_WAIT * 300 = 375 further vectors
    assert AUTOTUNE_WAIT == 1.25
    m = make_model(1, 10, bufferingSamples=300, learningRateNumerator=0)
    x = sines(1000).ravel()
    assert (m.process_array(x[:400])["ID"] == 0).all()
    st = m.status()
    assert st.state == "Autotuning" and st.progress == 100 * 100 // 375
    assert st.message == "Autotuning: 100 of 375 samples"
    assert m.summary().buffered_vectors == 400  # data keeps being buffered
    assert m.config_in_force().percent_variation == 0.05  # not tuned yet (the default shows)
    out = m.process_array(x[400:])
    assert m.status().state == "Learning"
    ids = out["ID"]
    assert (ids[:275] == 0).all()  # vectors up to 675 (300 + 375) still report zeros
    assert (ids[275:] > 0).all()  # learning ids are positive
    assert (out["CS"][275:] == 100).all() and (out["AD"] == 0).all()
    # the SI filter starts afresh after the replay: the first live SI sees one RI only
    assert out["SI"][275] == out["RI"][275] // 511
    # replay: buffered patterns were clustered before the live ones
    assert m.summary().training_patterns == 1000 - 9
    assert m.status().sample_count == 1000 - 9
    assert 0.01 <= m.config_in_force().percent_variation <= 0.2


def test_graduation_max_samples_counts_vectors(make_model: Factory, sines: Sines) -> None:
    m = make_model(1, 10, bufferingSamples=200, learningMaxSamples=600, learningRateNumerator=0)
    x = sines(2000).ravel()
    m.process(x[:599])
    assert m.status().state == "Learning"
    m.process(x[599:600])
    st = m.status()
    assert st.state == "Monitoring" and st.graduation == "maxSamples"
    assert st.progress == 100


def test_graduation_checked_at_end_of_request(make_model: Factory, sines: Sines) -> None:
    m = make_model(1, 10, bufferingSamples=200, learningMaxSamples=600, learningRateNumerator=0)
    out = m.process_array(sines(1000).ravel())
    assert m.status().graduation == "maxSamples"
    assert (out["ID"][:450] == 0).all()  # Buffering 200 + Autotuning 250 vectors
    assert (out["ID"][450:] > 0).all()  # the rest of the request was learning


def test_max_clusters_is_never_exceeded(make_model: Factory) -> None:
    m = make_model(1, 5, pv=0.01, lo=0, hi=1, bufferingSamples=0, learningMaxClusters=7)
    rng = np.random.default_rng(3)
    out = m.process_array(rng.uniform(0, 1, 400))
    st = m.status()
    assert st.cluster_count == 7
    assert st.state == "Monitoring" and st.graduation == "maxClusters"
    ids = out["ID"]
    first_neg = int(np.argmax(ids < 0))
    assert ids[:first_neg].max() == 7 and (ids[4:first_neg] > 0).all()
    neg = ids[ids < 0]
    assert (neg == -np.arange(1, len(neg) + 1)).all()  # fresh negative ids, never reused


def test_learning_rate_graduation(make_model: Factory, sines: Sines) -> None:
    m = make_model(
        1, 10, bufferingSamples=500, learningRateNumerator=5, learningRateDenominator=1000
    )
    x = sines(6000, noise=0.002).ravel()
    m.process(x[:1500])
    m.process(x[1500:4000])
    st = m.status()
    assert st.state == "Monitoring" and st.graduation == "learningRate"
    out = m.process_array(x[4000:])
    assert (out["ID"] != 0).all()
    assert set(np.unique(out["AD"])) <= {0, 1}


def _replay_model(make_model: Factory) -> AmberModel:
    # Autotuning waits 250 vectors after 200 buffered ones: live answers start at vector 450
    return make_model(
        1, 10, pv=0.05, lo=-1, hi=1, bufferingSamples=200,
        learningRateNumerator=1, learningRateDenominator=100,
    )  # fmt: skip


def test_learning_rate_window_counts_the_replay(make_model: Factory) -> None:
    # A clean periodic signal makes its clusters in the first period. The learning-rate
    # window counts the replayed patterns, so the request that ends Autotuning (10 live
    # patterns) already graduates; a clock starting at the first live answer would not.
    x = 0.5 * np.sin(2 * np.pi * np.arange(600) / 50)
    m = _replay_model(make_model)
    out = m.process_array(x[:460])
    st = m.status()
    assert st.state == "Monitoring" and st.graduation == "learningRate"
    assert (out["ID"][:450] == 0).all() and (out["ID"][450:] > 0).all()


def test_learning_rate_clock_starts_at_a_late_replay_cluster(make_model: Factory) -> None:
    # A spike at vector 420 (answered with a zero: inside the Autotuning wait) makes clusters
    # in the replay, the last one by the pattern ending at vector 429. Learning goes on until
    # learningRateDenominator (100) patterns have passed without a new cluster.
    x = 0.5 * np.sin(2 * np.pi * np.arange(600) / 50)
    x[420] = -1.0
    m = _replay_model(make_model)
    out = m.process_array(x[:460])
    assert (out["ID"][420:430] == 0).all()  # created unseen, in the replay
    assert m.status().state == "Learning"
    clusters = m.status().cluster_count
    m.process_array(x[460:520])  # patterns up to vector 519: the spike's are within 100
    assert m.status().state == "Learning"
    m.process_array(x[520:530])  # vector 529: 100 patterns without a new cluster
    st = m.status()
    assert st.state == "Monitoring" and st.graduation == "learningRate"
    assert st.cluster_count == clusters  # nothing new was learned live


def test_ids_negative_in_monitoring_and_ghosts_root_cause(make_model: Factory) -> None:
    m = make_model(1, 5, pv=0.05, lo=-1, hi=1, bufferingSamples=0, learningMaxSamples=500)
    t = np.arange(2000)
    m.process(np.sin(t[:500] / 10))
    assert m.status().state == "Monitoring"
    out = m.process_array(np.concatenate([np.sin(t[500:600] / 10), np.full(20, 0.9)]))
    assert (out["ID"][:100] > 0).all()
    neg = out["ID"][out["ID"] < 0]
    assert len(neg) > 0 and neg[0] == -1
    assert m.status().cluster_count == m.nano_status().cluster_count
    rc = m.root_cause(clusters=[int(neg[-1])])
    assert rc.shape == (1, 1) and rc[0, 0] == 1.0


def test_outage_clears_only_the_window(make_model: Factory, sines: Sines) -> None:
    m = make_model(1, 10, bufferingSamples=100, learningRateNumerator=0)
    x = sines(600).ravel()
    m.process(x[:400])
    before = m.status()
    m.outage()
    after = m.status()
    assert before == after
    out = m.process_array(x[400:450])
    assert (out["ID"][:9] == 0).all() and (out["ID"][9:] > 0).all()
    assert m.status().sample_count == before.sample_count + 41


def test_set_learning_requires_learning_or_monitoring(make_model: Factory) -> None:
    m = make_model(1, 10)
    snap = m.to_bytes()
    with pytest.raises(StateError, match="Buffering"):
        m.set_learning("Learning")
    assert m.to_bytes() == snap


def test_set_learning_reenables_and_rebuffers(make_model: Factory, sines: Sines) -> None:
    m = make_model(1, 10, bufferingSamples=200, learningMaxSamples=500)
    x = sines(3000).ravel()
    m.process(x[:600])
    assert m.status().state == "Monitoring"
    clusters = m.status().cluster_count
    pv = m.config_in_force().percent_variation
    m.set_learning("Learning", training=TrainingConfig(learning_max_samples=300))
    st = m.status()
    assert st.state == "Learning" and st.graduation == ""
    assert st.cluster_count == clusters
    assert m.config_in_force().training.learning_max_samples == 300
    assert m.config_in_force().percent_variation == pv
    m.process(x[600:900])
    assert m.status().state == "Monitoring"
    m.set_learning("Buffering")
    assert m.status().state == "Buffering"
    out = m.process_array(x[900:1000])
    assert (out["ID"] == 0).all()
    m.process(x[1000:1100])
    # Autotuning waits 250 vectors, cut to 100 so that it ends at learningMaxSamples (300)
    assert m.status().state == "Autotuning"
    assert m.status().message == "Autotuning: 0 of 100 samples"
    m.process(x[1100:1200])
    assert m.status().state in ("Learning", "Monitoring")
    assert m.status().cluster_count >= clusters  # clusters were kept


def test_pretrain_ends_in_monitoring(make_model: Factory, sines: Sines) -> None:
    m = make_model(1, 25)
    seen: list[float] = []
    m.pretrain(sines(5000).ravel(), progress=seen.append)
    st = m.status()
    assert st.state == "Monitoring" and st.graduation == "pretrain"
    assert st.sample_count == 5000 - 24
    assert seen[0] == 0.0 and seen[-1] == 1.0 and seen == sorted(seen)
    assert m.config_in_force().training.buffering_samples == 5000


def test_pretrain_does_not_wait_for_autotuning(make_model: Factory, sines: Sines) -> None:
    # 1500 vectors: shorter than Buffering + the streaming Autotuning wait (1000 + 1250)
    m = make_model(1, 25, bufferingSamples=1000)
    m.pretrain(sines(1500).ravel())
    st = m.status()
    assert st.state == "Monitoring" and st.graduation == "pretrain"
    assert m.summary().training_patterns == 1500 - 24  # every vector was learned


def test_autotuning_wait_resumes_after_a_snapshot(make_model: Factory, sines: Sines) -> None:
    x = sines(3000).ravel()
    a = make_model(1, 10, bufferingSamples=400)
    a.process(x[:600])
    assert a.status().state == "Autotuning"
    b = AmberModel.from_bytes(a.to_bytes())
    for m in (a, b):
        m.process(x[600:])
    assert a.to_bytes() == b.to_bytes() and a.status().state != "Autotuning"


def test_pretrain_respects_configured_counts(make_model: Factory, sines: Sines) -> None:
    m = make_model(1, 25, bufferingSamples=1000, learningMaxSamples=3000, learningRateNumerator=0)
    x = sines(5000).ravel()
    m.pretrain(x)
    st = m.status()
    assert st.state == "Monitoring" and st.graduation == "pretrain"
    assert m.summary().training_patterns == 3000 - 24  # graduated exactly at 3000 vectors
    m2 = make_model(1, 25, bufferingSamples=1000, learningMaxSamples=30000)
    m2.pretrain(x[:2000])
    assert m2.status().state in ("Learning", "Monitoring")
    m3 = make_model(1, 25, bufferingSamples=3000)
    m3.pretrain(x[:2000])
    assert m3.status().state == "Buffering"  # configured counts win: as far as data goes
    snap = m3.to_bytes()
    with pytest.raises(InputError, match="at least one vector"):
        m3.pretrain([])
    assert m3.to_bytes() == snap


def test_pretrain_equals_streaming_before_graduation(make_model: Factory, sines: Sines) -> None:
    x = sines(4000).ravel()
    a = make_model(1, 10, bufferingSamples=1000, learningMaxSamples=4000, learningRateNumerator=0)
    a.pretrain(x)
    b = make_model(1, 10, bufferingSamples=1000, learningMaxSamples=4000, learningRateNumerator=0)
    for c in range(0, 4000, 700):
        b.process(x[c : c + 700])
    assert a.status().cluster_count == b.status().cluster_count
    assert np.array_equal(a.nano_status().cluster_sizes, b.nano_status().cluster_sizes)


def test_nano_status_shape(make_model: Factory, sines: Sines) -> None:
    m = make_model(2, 10, bufferingSamples=300, learningMaxSamples=1000)
    m.process(sines(1200, features=2).ravel())
    ns = m.nano_status()
    k = ns.cluster_count
    for key in ("pca", "cluster_growth", "cluster_sizes", "anomaly_indexes", "frequency_indexes",
                "distance_indexes"):  # fmt: skip
        assert len(getattr(ns, key)) == k + 1, key
    assert sum(ns.cluster_sizes[1:]) == m.summary().training_patterns
    assert ns.state == "Monitoring" and 1 <= ns.anomaly_threshold <= 1000
    assert all(len(p) == 2 for p in ns.pca)
    assert max(ns.distance_indexes) == pytest.approx(1000.0)


def test_cluster_cap_holds_after_relearning(make_model: Factory, sines: Sines) -> None:
    m = make_model(1, 10, bufferingSamples=300, learningMaxSamples=600)
    x = sines(3000).ravel()
    m.process(x[:600])
    k = m.status().cluster_count
    m.set_learning("Learning", training=TrainingConfig(learning_max_clusters=k))
    out = m.process_array(x[600:700] + 0.3)  # novel data, but no room for clusters
    st = m.status()
    assert st.state == "Monitoring" and st.graduation == "maxClusters"
    assert st.cluster_count == k and (out["ID"] <= k).all()
    m.set_learning("Buffering")
    m.process(x[700:1300] - 0.3)  # re-buffer, re-autotune, replay: still capped
    assert m.status().cluster_count == k and m.status().state == "Monitoring"


def test_pretrain_can_aim_at_learning(make_model: Factory, sines: Sines) -> None:
    x = sines(5000).ravel()
    novel = np.tile([x.min(), x.max()], 100)  # a square wave, unlike anything learned
    learning = make_model(1, 25)
    learning.pretrain(x, target_state="Learning")
    st = learning.status()
    assert st.state == "Learning" and st.graduation == ""
    before = st.cluster_count
    ids = learning.process(novel)["ID"]
    assert min(ids[24:]) > 0  # learning: novel patterns make new positive clusters
    assert learning.status().cluster_count > before

    monitoring = make_model(1, 25)
    monitoring.pretrain(x)
    assert monitoring.status().state == "Monitoring"
    assert min(monitoring.process(novel)["ID"][24:]) < 0  # frozen: novel -> negative ids


def test_pretrain_rejects_an_unknown_target_and_changes_nothing(
    make_model: Factory, sines: Sines
) -> None:
    m = make_model(1, 25)
    m.process(sines(100).ravel())
    snapshot = m.to_bytes()
    with pytest.raises(InputError, match="target_state"):
        m.pretrain(sines(1000).ravel(), target_state="Buffering")
    assert m.to_bytes() == snapshot
