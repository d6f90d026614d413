"""Small streaming calls run on the event loop (their commits grouped per loop iteration),
other calls on worker threads: mixed on one model, their changes reach the database in the
order they were made, every acknowledged one survives a restart, and the answers are those of
an uninterrupted in-process engine."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from helpers import csv_values, login_api

import boonamber.v2 as v2
from boonamber.local.engine import AmberModel
from boonamber.local.wire import parse_config

CONFIG = {
    "streamingWindow": 4,
    "features": [{"name": "x"}],
    "training": {"bufferingSamples": 100, "learningMaxSamples": 400},
}
SIGNAL = np.round(np.sin(np.arange(4000) / 6.0) * 2 + np.sin(np.arange(4000) / 2.3), 4)


def test_loop_and_thread_calls_on_one_model_keep_their_order(
    fresh_server: Any, tmp_path: Path
) -> None:
    db = str(tmp_path / "inline.db")
    server = fresh_server(db_path=db)
    server.service.models.journal_max_ops = 7  # snapshots taken on the loop and on threads
    keys = server.license_key, server.secret_key
    api = login_api(server.url, *keys)
    model_id = api.post_model(v2.PostModelRequest(label="inline")).id
    api.post_config(v2.PostConfigRequest.from_dict(CONFIG), model_id)
    engine = AmberModel(parse_config(CONFIG))
    # Buffering to Monitoring in one large post (a worker thread runs it).
    head = api.post_data(v2.PostDataRequest(data=csv_values(SIGNAL[:1000])), model_id)
    assert head.analytics.to_dict() == engine.process(SIGNAL[:1000])
    assert head.status.state == "Monitoring"
    batches = [SIGNAL[i : i + 10] for i in range(1000, 3000, 10)]  # small: on the loop
    labels = [f"inline-{i}" for i in range(40)]

    def stream() -> list[dict[str, Any]]:
        return [
            api.post_data(v2.PostDataRequest(data=csv_values(b)), model_id).analytics.to_dict()
            for b in batches
        ]

    def rename() -> None:  # putModel runs on a worker thread, on the same model
        for label in labels:
            api.put_model(v2.PutModelRequest(label=label), model_id)

    with ThreadPoolExecutor(max_workers=2) as pool:
        streamed, renamed = pool.submit(stream), pool.submit(rename)
        got = streamed.result(timeout=120)
        renamed.result(timeout=120)
    assert got == [engine.process(b) for b in batches]
    server.stop()

    server = fresh_server(db_path=db)
    api = login_api(server.url, *keys)
    assert api.get_model(model_id).label == labels[-1]
    usage = api.get_usage(model_id)
    assert usage.total_samples == 3000
    assert usage.endpoints.post_data.total_calls == 1 + len(batches)
    assert usage.endpoints.put_model.total_calls == len(labels)
    assert api.get_status(model_id).sample_count == engine.status().sample_count
    tail = SIGNAL[3000:3010]
    reply = api.post_data(v2.PostDataRequest(data=csv_values(tail)), model_id)
    assert reply.analytics.to_dict() == engine.process(tail)


def test_loop_calls_wait_for_a_model_busy_on_a_thread(amber_api: Any) -> None:
    model_id = amber_api.post_model(v2.PostModelRequest(label="busy")).id
    amber_api.post_config(v2.PostConfigRequest.from_dict(CONFIG), model_id)
    engine = AmberModel(parse_config(CONFIG))
    amber_api.post_data(v2.PostDataRequest(data=csv_values(SIGNAL[:1000])), model_id)
    engine.process(SIGNAL[:1000])
    large = SIGNAL[1000:3000]  # 16 KB+: a worker thread runs it, holding the model
    small = [SIGNAL[i : i + 5] for i in range(3000, 3200, 5)]

    def post(values: Any) -> int:
        reply = amber_api.post_data(v2.PostDataRequest(data=csv_values(values)), model_id)
        return len(reply.analytics.id)

    with ThreadPoolExecutor(max_workers=4) as pool:
        jobs = [pool.submit(post, large)] + [pool.submit(post, b) for b in small]
        counts = [job.result(timeout=120) for job in jobs]
    assert counts == [len(large)] + [5] * len(small)
    status = amber_api.get_status(model_id)
    expected = engine.status().sample_count + len(large) + 5 * len(small)
    assert status.sample_count == expected
    assert amber_api.get_usage(model_id).endpoints.post_data.total_calls == 2 + len(small)
    amber_api.delete_model(model_id)
