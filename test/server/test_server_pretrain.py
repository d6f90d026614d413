"""Chunked pretraining over HTTP: any order, parallel, missing/duplicate/out-of-range chunks,
background jobs (202 while running) and their resumption after a restart."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import orjson
import pytest
from helpers import csv_values, wait_pretrained

import boonamber.v2 as v2
from boonamber.local import feeder as feeder_module
from boonamber.local.engine.model import PretrainFeed
from boonamber.v2.exceptions import ApiException

DATA = np.round(np.sin(np.arange(6000) / 9.0) * 5 + np.cos(np.arange(6000) / 31.0), 4)


def chunks(values: Any, n: int) -> list[str]:
    return [csv_values(part) for part in np.array_split(np.asarray(values), n)]


def post_chunk(api: Any, model_id: str, data: str, spec: str, txn: str) -> Any:
    return api.post_pretrain_with_http_info(
        v2.PostPretrainRequest(data=data), model_id, chunkspec=spec, txn_id=txn
    )


def error(fn: Any, *args: Any, **kwargs: Any) -> tuple[int, str]:
    with pytest.raises(ApiException) as info:
        fn(*args, **kwargs)
    return int(info.value.status), str(orjson.loads(info.value.body)["message"])


def fingerprint(api: Any, model_id: str) -> tuple[Any, ...]:
    status = api.get_status(model_id)
    config = api.get_config(model_id).to_dict()
    probe = api.post_data(v2.PostDataRequest(data=csv_values(DATA[:300])), model_id)
    return (
        status.state,
        status.sample_count,
        status.cluster_count,
        config,
        probe.analytics.to_dict(),
    )


def test_chunks_out_of_order_equal_one_request(checked_api: Any, make_model: Any) -> None:
    whole = make_model("whole", features=1, window=8)
    checked_api.post_pretrain(v2.PostPretrainRequest(data=csv_values(DATA)), whole)
    assert wait_pretrained(checked_api, whole).status == "Pretrained"

    model_id = make_model("chunked", features=1, window=8)
    parts = chunks(DATA, 4)
    first = post_chunk(checked_api, model_id, parts[2], "3:4", "")  # empty txnId: new upload
    assert first.status_code == 202
    txn = first.data.txn_id
    assert txn and first.headers["txnId"] == txn
    assert first.data.status == "Chunking" and first.data.chunkspec == "3:4"
    assert checked_api.get_pretrain(model_id).status == "Chunking"
    for index in (4, 1):
        reply = post_chunk(checked_api, model_id, parts[index - 1], f"{index}:4", txn)
        assert reply.status_code == 202 and reply.data.txn_id == txn
        assert reply.headers["txnId"] == txn
    last = post_chunk(checked_api, model_id, parts[1], "2:4", txn)
    assert last.status_code in (200, 202)
    assert last.data.status in ("Pretrained", "Pretraining")
    assert wait_pretrained(checked_api, model_id).status == "Pretrained"
    assert fingerprint(checked_api, model_id) == fingerprint(checked_api, whole)


def test_chunks_in_parallel(checked_api: Any, make_model: Any) -> None:
    model_id = make_model("parallel", features=2, window=3)
    data = np.column_stack([DATA[:3000], DATA[3000:]])
    parts = chunks(data, 9)  # split points need not fall on vector boundaries
    first = post_chunk(checked_api, model_id, parts[0], "1:9", "")
    txn = first.data.txn_id
    with ThreadPoolExecutor(max_workers=8) as pool:
        replies = list(
            pool.map(
                lambda i: post_chunk(checked_api, model_id, parts[i], f"{i + 1}:9", txn),
                range(1, 9),
            )
        )
    assert all(r.data.txn_id == txn for r in replies)
    assert sum(r.data.status in ("Pretraining", "Pretrained") for r in replies) == 1
    assert wait_pretrained(checked_api, model_id).status == "Pretrained"
    status = checked_api.get_status(model_id)
    assert status.state == "Monitoring" and status.sample_count == 3000 - 2


def test_missing_duplicate_and_out_of_range_chunks(checked_api: Any, make_model: Any) -> None:
    model_id = make_model("gaps", features=2, window=1)
    txn = post_chunk(checked_api, model_id, "1,2,3", "1:3", "").data.txn_id
    post_chunk(checked_api, model_id, "7,8", "3:3", txn)
    # Chunk 2 is missing: still Chunking, the model is usable meanwhile.
    assert checked_api.get_pretrain(model_id).status == "Chunking"
    assert "2 of 3" in checked_api.get_pretrain(model_id).message
    checked_api.post_data(v2.PostDataRequest(data="1,2"), model_id)
    # The same chunk again (a retry after a lost answer) is acknowledged without effect...
    replay = post_chunk(checked_api, model_id, "1,2,3", "1:3", txn)
    assert replay.status_code == 202 and replay.data.status == "Chunking"
    assert replay.data.txn_id == txn and "2 of 3" in replay.data.message
    # ...another chunk under a received index is refused.
    code, msg = error(post_chunk, checked_api, model_id, "1,2,4", "1:3", txn)
    assert code == 400 and "already received" in msg
    code, msg = error(post_chunk, checked_api, model_id, "1", "4:3", txn)
    assert code == 400 and "out of range" in msg
    code, msg = error(post_chunk, checked_api, model_id, "1", "2:5", txn)
    assert code == 400 and "3 chunks" in msg
    code, msg = error(post_chunk, checked_api, model_id, "1", "2:3", "0123456789abcdef01234567")
    assert code == 400 and "unknown txnId" in msg
    # 3 + 2 + 2 values is not a whole number of 2-feature vectors: the last chunk is refused...
    code, msg = error(post_chunk, checked_api, model_id, "4,5", "2:3", txn)
    assert code == 400 and "multiple" in msg and "7" in msg
    assert checked_api.get_pretrain(model_id).status == "Chunking"
    # ...and a corrected one completes the upload.
    reply = post_chunk(checked_api, model_id, "4,5,6", "2:3", txn)
    assert reply.data.status in ("Pretraining", "Pretrained")
    assert wait_pretrained(checked_api, model_id).status == "Pretrained"
    # After completion a replayed chunk is still acknowledged (with the final state)...
    again = post_chunk(checked_api, model_id, "4,5,6", "2:3", txn)
    assert again.status_code == 200 and again.data.status == "Pretrained"
    # ...but nothing else is taken under that transaction.
    code, msg = error(post_chunk, checked_api, model_id, "1,2", "1:3", txn)
    assert code == 400 and "already received" in msg
    status = checked_api.get_status(model_id)
    assert status.sample_count == 4  # 8 values = 4 vectors, pretrained once


def test_txn_ids_are_per_model(checked_api: Any, make_model: Any) -> None:
    a = make_model("txn-a", features=1)
    b = make_model("txn-b", features=1)
    txn = post_chunk(checked_api, a, "1,2", "1:2", "").data.txn_id
    code, msg = error(post_chunk, checked_api, b, "3", "2:2", txn)
    assert code == 400 and "unknown txnId" in msg


class _BlockingFeed(PretrainFeed):
    """An engine pretraining whose last piece waits for ``release`` (reporting progress)."""

    release = threading.Event()

    def add(self, vectors: Any, last: bool = False) -> None:
        while last and not self.release.wait(0.02):
            if self._progress is not None:
                self._progress(0.5)
        super().add(vectors, last)


def test_background_pretraining_202_and_resume_after_restart(
    fresh_server: Any,
    amber_login: Any,
    spec_instrument: Any,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Any,
) -> None:
    _BlockingFeed.release.clear()
    monkeypatch.setattr(feeder_module, "PretrainFeed", _BlockingFeed)
    db = str(tmp_path / "pretrain.db")
    server = fresh_server(db_path=db)
    server.service.pretrainer.wait_seconds = 0.05
    api = spec_instrument(amber_login(server))
    model_id = api.post_model(v2.PostModelRequest(label="bg")).id
    api.post_config(
        v2.PostConfigRequest.from_dict({"streamingWindow": 4, "features": [{"name": "x"}]}),
        model_id,
    )
    info = api.post_pretrain_with_http_info(v2.PostPretrainRequest(data=csv_values(DATA)), model_id)
    assert info.status_code == 202 and info.data.status == "Pretraining"
    state = api.get_pretrain(model_id)
    assert state.status == "Pretraining" and "50%" in state.message
    # While pretraining, the model's state must not change under the job.
    for call, args in (
        (api.post_data, (v2.PostDataRequest(data="1"), model_id)),
        (api.post_outage, (model_id,)),
        (api.post_pretrain, (v2.PostPretrainRequest(data="1"), model_id)),
    ):
        code, msg = error(call, *args)
        assert code == 400 and "pretraining" in msg
    assert api.get_status(model_id).state == "Buffering"
    # Stop mid-job: the job is abandoned and resumes (unblocked) at the next start.
    server.stop()
    monkeypatch.setattr(feeder_module, "PretrainFeed", PretrainFeed)
    again = fresh_server(db_path=db)
    api.api_client.configuration.host = again.url
    assert wait_pretrained(api, model_id).status == "Pretrained"
    status = api.get_status(model_id)
    assert status.state == "Monitoring" and status.sample_count == len(DATA) - 3
    _BlockingFeed.release.set()


def _stored_chunk_bytes(db: str) -> int:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        return int(
            conn.execute("SELECT COALESCE(SUM(LENGTH(data)), 0) FROM pretrain_chunks").fetchone()[0]
        )


def test_chunk_data_released_after_pretraining_and_at_the_next_start(
    fresh_server: Any, amber_login: Any, tmp_path: Any
) -> None:
    """A pretrained upload's chunk data is dropped once the answer is out (digests stay, so
    a re-sent chunk is still acknowledged); data that a stop left behind after the pretraining
    was committed is dropped at the next start, and the model is unchanged."""
    db = str(tmp_path / "release.db")
    server = fresh_server(db_path=db)
    api = amber_login(server)
    model_id = api.post_model(v2.PostModelRequest(label="release")).id
    api.post_config(
        v2.PostConfigRequest.from_dict({"streamingWindow": 4, "features": [{"name": "x"}]}),
        model_id,
    )
    parts = chunks(DATA, 3)
    first = post_chunk(api, model_id, parts[0], "1:3", "")
    txn = first.data.txn_id
    post_chunk(api, model_id, parts[1], "2:3", txn)
    assert _stored_chunk_bytes(db) > 0  # an unfinished upload keeps its data
    last = post_chunk(api, model_id, parts[2], "3:3", txn)
    assert last.data.status == "Pretrained"
    deadline = time.monotonic() + 30
    while _stored_chunk_bytes(db) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _stored_chunk_bytes(db) == 0
    again = post_chunk(api, model_id, parts[2], "3:3", txn)  # a retry after a lost answer
    assert again.status_code == 200 and again.data.status == "Pretrained"
    before = fingerprint(api, model_id)
    server.stop()
    # As if the server stopped between the pretraining's commit and the release.
    with contextlib.closing(sqlite3.connect(db)) as conn, conn:
        conn.execute("UPDATE pretrain_chunks SET data = zeroblob(64)")
    restarted = fresh_server(db_path=db)
    assert _stored_chunk_bytes(db) == 0
    api.api_client.configuration.host = restarted.url
    assert api.get_pretrain(model_id).status == "Pretrained"
    after = fingerprint(api, model_id)  # (each fingerprint posts 300 values)
    assert after[1] == before[1] + 300
    assert (after[0], after[2], after[3]) == (before[0], before[2], before[3])


def test_a_pretrained_model_answers_when_it_learns_again(checked_api: Any, make_model: Any) -> None:
    """The model a pretraining leaves in memory streams like any other: learning again after
    it answers real analytics (it once answered zeros, having pretrained without answers)."""
    model_id = make_model("again", features=1, window=8)
    checked_api.post_pretrain(v2.PostPretrainRequest(data=csv_values(DATA)), model_id)
    assert wait_pretrained(checked_api, model_id).status == "Pretrained"
    reply = checked_api.post_learning(v2.PostLearningRequest(state="Learning"), model_id)
    assert reply.status.state == "Learning"
    learning = checked_api.post_data_with_http_info(
        v2.PostDataRequest(data=csv_values(DATA[:300] * 3.0)), model_id
    )
    analytics = learning.data.analytics
    assert min(analytics.id[7:]) > 0 and max(analytics.si) > 0  # every pattern has a cluster
    clipped = {k.lower(): v for k, v in (learning.headers or {}).items()}["x-amber-clipped"]
    assert int(clipped) > 0  # 3x the trace reaches beyond its learned range
