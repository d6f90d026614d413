"""Parallel requests (one writer per model, models in parallel) and cold models reloaded from
storage (snapshot + journal replay) giving exactly the results of a model kept in memory."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
from helpers import csv_values

import boonamber.v2 as v2
from boonamber.local.engine import AmberModel
from boonamber.local.wire import parse_config

CONFIG = {
    "streamingWindow": 3,
    "features": [{"name": "x"}],
    "training": {"bufferingSamples": 100, "learningMaxSamples": 600},
}
SIGNAL = np.round(np.sin(np.arange(3000) / 5.0) * 4, 4)


def configured(api: Any, label: str) -> str:
    model_id: str = api.post_model(v2.PostModelRequest(label=label)).id
    api.post_config(v2.PostConfigRequest.from_dict(CONFIG), model_id)
    return model_id


def test_parallel_requests_on_one_model_and_many(amber_api: Any) -> None:
    shared = configured(amber_api, "par-shared")
    others = [configured(amber_api, f"par-{i}") for i in range(4)]
    batches = [SIGNAL[i : i + 25] for i in range(0, 1000, 25)]

    def post(args: tuple[str, Any]) -> int:
        model_id, batch = args
        reply = amber_api.post_data(v2.PostDataRequest(data=csv_values(batch)), model_id)
        return len(reply.analytics.id)

    jobs = [(shared, b) for b in batches] + [(m, b) for m in others for b in batches[:10]]
    with ThreadPoolExecutor(max_workers=12) as pool:
        counts = list(pool.map(post, jobs))
    assert counts == [25] * len(jobs)
    assert amber_api.get_usage(shared).total_samples == 1000
    assert amber_api.get_status(shared).sample_count == 1000 - 2
    for model_id in others:
        assert amber_api.get_status(model_id).sample_count == 250 - 2
    for model_id in [shared, *others]:
        amber_api.delete_model(model_id)


def test_cold_models_replay_to_the_same_state(fresh_server: Any, amber_login: Any) -> None:
    server = fresh_server()
    service = server.service
    service.models.cache_size = 1  # every switch of model reloads the other one from storage
    service.models.journal_max_ops = 4
    api = amber_login(server)
    a, b = configured(api, "cold-a"), configured(api, "cold-b")
    engine = AmberModel(parse_config(CONFIG))
    for i in range(0, 1500, 30):
        batch = SIGNAL[i : i + 30]
        expected = engine.process(batch)
        for model_id in (a, b):
            got = api.post_data(v2.PostDataRequest(data=csv_values(batch)), model_id)
            assert got.analytics.to_dict() == expected
        if i == 600:
            engine.outage()
            api.post_outage(a)
            api.post_outage(b)
    for model_id in (a, b):
        status = api.get_status(model_id).to_dict()
        assert status["sampleCount"] == engine.status().sample_count
        assert status["state"] == engine.status().state == "Monitoring"
