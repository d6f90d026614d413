"""Bounded resources: configuration limits, extreme values, the ghost ring, private files."""

from __future__ import annotations

import io
import os
import stat
import tarfile
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest

import boonamber.v2 as v2
from boonamber.local.defaults import (
    MAX_BUFFER_VALUES,
    MAX_CLUSTERS,
    MAX_FEATURES,
    MAX_HISTORY_WINDOW,
    MAX_PATTERN_LENGTH,
    MAX_STREAMING_WINDOW,
    MAX_TEMPLATE_VALUES,
)
from boonamber.local.engine.patterns import MAX_ABS_VALUE
from boonamber.v2.exceptions import ApiException


def _csv(values: Any) -> str:
    return ",".join(repr(float(v)) for v in values)


def _feats(n: int) -> list[dict[str, Any]]:
    return [{"name": f"f{i}"} for i in range(n)]


#: (configuration, field named in the 400, limit named in the 400)
BAD_CONFIGS: list[tuple[dict[str, Any], str, int]] = [
    (
        {"streamingWindow": 1_000_000, "features": _feats(1)},
        "streamingWindow",
        MAX_STREAMING_WINDOW,
    ),
    ({"streamingWindow": 532_486, "features": _feats(1)}, "streamingWindow", MAX_STREAMING_WINDOW),
    ({"streamingWindow": 1_000, "features": _feats(100)}, "streamingWindow", MAX_PATTERN_LENGTH),
    ({"streamingWindow": 1, "features": _feats(MAX_FEATURES + 1)}, "features", MAX_FEATURES),
    (
        {"streamingWindow": 1, "features": _feats(1), "training": {"learningMaxClusters": 10**9}},
        "training.learningMaxClusters",
        MAX_CLUSTERS,
    ),
    (
        {
            "streamingWindow": 10_000,
            "features": _feats(1),
            "training": {"learningMaxClusters": 5000},
        },
        "training.learningMaxClusters",
        MAX_TEMPLATE_VALUES,
    ),
    (
        {"streamingWindow": 1, "features": _feats(1000), "training": {"bufferingSamples": 20_000}},
        "training.bufferingSamples",
        MAX_BUFFER_VALUES,
    ),
    (
        {"streamingWindow": 1, "features": _feats(1), "training": {"historyWindow": 10**12}},
        "training.historyWindow",
        MAX_HISTORY_WINDOW,
    ),
    (
        {"streamingWindow": 1, "features": [{"name": "x", "minVal": -1e308}]},
        "features[0].minVal",
        int(MAX_ABS_VALUE),
    ),
]


def _state(api: Any, model_id: str) -> tuple[Any, ...]:
    """Everything a client can read of a model (the engine snapshot included)."""
    tar = api.get_diagnostic_without_preload_content(model_id).data
    with tarfile.open(fileobj=io.BytesIO(tar)) as t:
        member = t.extractfile(f"{model_id}/model.bin")
        assert member is not None
        snapshot = member.read()
    return (
        api.get_config(model_id).to_dict(),
        api.get_status(model_id).sample_count,
        api.get_summary(model_id).to_dict(),
        snapshot,
    )


def _error(call: Any) -> tuple[int, str]:
    with pytest.raises(ApiException) as info:
        call()
    return info.value.status, orjson.loads(info.value.body)["message"]


def test_each_limit_is_a_400_naming_field_and_limit_and_costs_nothing(
    checked_api: Any, make_model: Any
) -> None:
    model_id = make_model(features=2, window=3, buffering=20)
    checked_api.post_data(v2.PostDataRequest(data=",".join(["1.5", "2.5"] * 40)), model_id)
    before = _state(checked_api, model_id)
    tracemalloc.start()
    try:
        for body, fld, limit in BAD_CONFIGS:
            status, message = _error(
                lambda body=body: checked_api.post_config(
                    v2.PostConfigRequest.from_dict(body), model_id
                )
            )
            assert status == 400, message
            assert message.startswith(f"{fld}:"), message
            assert f"{limit}" in message or f"{limit:g}" in message, message
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 32 * 2**20, f"refusing the configurations allocated {peak / 2**20:.0f} MB"
    assert _state(checked_api, model_id) == before


def test_learning_limits_leave_the_model_unchanged(checked_api: Any, make_model: Any) -> None:
    model_id = make_model(features=1, window=5000, buffering=10)
    values = np.sin(np.arange(5100) / 7.0)
    checked_api.post_data(v2.PostDataRequest(data=_csv(values)), model_id)
    assert checked_api.get_status(model_id).state == "Learning"
    before = _state(checked_api, model_id)
    for training, fld in (
        ({"learningMaxClusters": 2001}, "training.learningMaxClusters"),
        ({"historyWindow": MAX_HISTORY_WINDOW + 1}, "training.historyWindow"),
    ):
        status, message = _error(
            lambda training=training: checked_api.post_learning(
                v2.PostLearningRequest.from_dict({"training": training}), model_id
            )
        )
        assert status == 400 and message.startswith(f"{fld}:"), message
    assert _state(checked_api, model_id) == before


def _every_read_answers(api: Any, model_id: str) -> None:
    config = api.get_config(model_id)
    for f in config.features:
        assert np.isfinite([f.min_val, f.max_val]).all()
    assert api.get_status(model_id).state in ("Buffering", "Learning", "Monitoring")
    nano = api.get_nano_status(model_id)
    assert np.isfinite(np.asarray(nano.pca, dtype=float)).all()
    assert np.isfinite(np.asarray(nano.distance_indexes, dtype=float)).all()
    api.get_summary(model_id)
    api.get_usage(model_id)
    api.get_model(model_id)
    api.get_pretrain(model_id)
    if api.get_status(model_id).cluster_count:
        cause = api.get_root_cause(model_id, clusters="[1]")
        assert all(np.isfinite(item.value) for item in cause.root_cause_list[0])
    assert api.get_diagnostic_without_preload_content(model_id).status == 200


@pytest.mark.parametrize("big", [1e308, -1e308, 1.7976931348623157e308, 2 * MAX_ABS_VALUE])
def test_huge_values_are_refused_and_the_model_keeps_answering(
    checked_api: Any, make_model: Any, big: float
) -> None:
    model_id = make_model(features=1, window=2, buffering=20)
    checked_api.post_data(v2.PostDataRequest(data="1,2,3,4,5"), model_id)
    before = _state(checked_api, model_id)
    status, message = _error(
        lambda: checked_api.post_data(v2.PostDataRequest(data=f"1,{big!r},3"), model_id)
    )
    assert status == 400 and "position 1" in message and f"{MAX_ABS_VALUE:g}" in message
    status, message = _error(
        lambda: checked_api.put_data(
            v2.PutDataRequest.from_dict({"vector": [{"name": "f0", "value": big}]}), model_id
        )
    )
    assert status == 400 and "f0" in message, message
    assert _state(checked_api, model_id) == before
    # The largest accepted values autotune a finite range and a working model.
    edge = [MAX_ABS_VALUE, -MAX_ABS_VALUE] * 15 + [0.0, 1.0] * 20
    checked_api.post_data(v2.PostDataRequest(data=_csv(edge)), model_id)
    assert checked_api.get_status(model_id).state == "Learning"
    _every_read_answers(checked_api, model_id)
    status, message = _error(lambda: checked_api.get_root_cause(model_id, vectors=f"[[1,{big!r}]]"))
    assert status == 400 and "vectors[0]" in message


def test_tiny_values_give_a_working_model(checked_api: Any, make_model: Any) -> None:
    for values in ([1e-308] * 60, [0.0, 1e-308, 2e-308, 5e-324] * 15, [1e-308, 1.0] * 30):
        model_id = make_model(features=1, window=3, buffering=20)
        reply = checked_api.post_data(v2.PostDataRequest(data=_csv(values)), model_id)
        assert reply.status.state == "Learning"
        assert all(np.isfinite(reply.analytics.si))
        _every_read_answers(checked_api, model_id)
    # Fixed bounds closer than the engine can scale by act like a constant feature.
    model_id = make_model(
        features=0,
    )
    checked_api.post_config(
        v2.PostConfigRequest.from_dict(
            {"streamingWindow": 1, "features": [{"name": "x", "minVal": 0, "maxVal": 1e-300}]}
        ),
        model_id,
    )
    checked_api.post_data(v2.PostDataRequest(data=",".join(["0", "1e-300"] * 30)), model_id)
    _every_read_answers(checked_api, model_id)


def test_ghosts_are_a_ring_with_a_clear_error_for_evicted_ids(
    checked_api: Any, make_model: Any
) -> None:
    # 100 features x window 50 = 5000 values per pattern: the ring keeps the newest 100.
    fixed = [{"name": f"f{i}", "minVal": 0, "maxVal": 1} for i in range(100)]
    model_id = make_model()
    config = {
        "streamingWindow": 50,
        "features": fixed,
        "percentVariation": 0.01,
        "training": {"bufferingSamples": 0, "learningMaxSamples": 60},
    }
    checked_api.post_config(v2.PostConfigRequest.from_dict(config), model_id)
    rng = np.random.default_rng(3)

    def post(n: int) -> Any:
        values = rng.uniform(0, 1, size=(n, 100)).round(4).ravel()
        return checked_api.post_data(v2.PostDataRequest(data=_csv(values)), model_id)

    post(60)
    assert checked_api.get_status(model_id).state == "Monitoring"
    ids: list[int] = []
    for _ in range(3):
        ids += post(50).analytics.id
    assert ids == list(range(-1, -151, -1))  # every pattern unmatched
    summary = checked_api.get_summary(model_id).to_dict()
    assert summary["unmatchedPatterns"] == 150 and summary["ghostsKept"] == 100
    kept = checked_api.get_root_cause(model_id, clusters="[-51,-150]")
    assert len(kept.root_cause_list) == 2
    status, message = _error(lambda: checked_api.get_root_cause(model_id, clusters="[-50]"))
    assert status == 400 and "no longer kept" in message and "-51 to -150" in message
    status, message = _error(lambda: checked_api.get_root_cause(model_id, clusters="[-151]"))
    assert status == 400 and "unknown cluster id -151" in message
    # The snapshot holds the ring, not the whole history.
    tar = checked_api.get_diagnostic_without_preload_content(model_id).data
    assert len(tar) < (100 + 20) * 5000 * 8 * 2


def test_database_and_lock_files_are_private(fresh_server: Any, tmp_path: Path) -> None:
    db = tmp_path / "private.db"
    legacy = tmp_path / "legacy.db"
    legacy.touch(mode=0o644)
    os.chmod(legacy, 0o644)
    for path in (db, legacy):
        server = fresh_server(db_path=str(path))
        server.create_account()
        for name in (path, Path(f"{path}-wal"), Path(f"{path}.lock")):
            assert name.exists(), name
            assert stat.S_IMODE(name.stat().st_mode) == 0o600, name
        server.stop()
