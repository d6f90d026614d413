"""Pretraining that starts while the chunks are still arriving (real HTTP, local server).

Whatever the order, the splits, restarts or idle pauses, the pretrained engine is
byte-identical to a one-shot pretraining of the same data, and errors read the same.
"""

from __future__ import annotations

import base64
import contextlib
import io
import sqlite3
import tarfile
import time
from typing import Any

import numpy as np
import orjson
import pytest
from helpers import wait_pretrained

import boonamber.v2 as v2
from boonamber.local.engine import AmberModel
from boonamber.local.engine.model import PRETRAIN_CHUNK
from boonamber.local.pretrain import stored_form, stored_values
from boonamber.local.storage import Tx
from boonamber.local.wire import parse_config
from boonamber.v2.exceptions import ApiException

B = PRETRAIN_CHUNK


def b64(values: np.ndarray) -> str:
    return base64.b64encode(np.asarray(values, dtype="<f4").tobytes()).decode()


def configure(api: Any, features: int, window: int = 1, **training: int) -> tuple[str, Any]:
    body: dict[str, Any] = {
        "streamingWindow": window,
        "features": [{"name": f"f{i}"} for i in range(features)],
    }
    if training:
        body["training"] = training
    model_id = api.post_model(v2.PostModelRequest(label="overlap")).id
    api.post_config(v2.PostConfigRequest.from_dict(body), model_id)
    return model_id, body


def expected(body: dict[str, Any], values: np.ndarray) -> bytes:
    """The engine after a one-shot pretraining of ``values`` (sent as float32)."""
    engine = AmberModel(parse_config(body))
    engine.pretrain(np.asarray(values, dtype="<f4").astype(np.float64))
    return engine.to_bytes()


def engine_bytes(api: Any, model_id: str) -> bytes:
    with tarfile.open(fileobj=io.BytesIO(api.get_diagnostic(model_id))) as tar:
        member = next(m for m in tar.getmembers() if m.name.endswith("model.bin"))
        raw = tar.extractfile(member).read()  # type: ignore[union-attr]
    return AmberModel.from_bytes(raw).to_bytes()


def assert_pretrained_as_one_shot(
    api: Any, model_id: str, body: dict[str, Any], values: Any
) -> None:
    """The model finishes pretraining, byte-identical to a one-shot pretraining of ``values``."""
    assert wait_pretrained(api, model_id).status == "Pretrained"
    assert engine_bytes(api, model_id) == expected(body, values)


def send(api: Any, model_id: str, part: str, spec: str, txn: str, fmt: str = "b64float") -> Any:
    return api.post_pretrain_with_http_info(
        v2.PostPretrainRequest(data=part, format=fmt), model_id, chunkspec=spec, txn_id=txn
    )


def upload(
    api: Any, model_id: str, parts: list[str], order: list[int], fmt: str = "b64float"
) -> Any:
    """Send ``parts`` (1-based ``order``); returns the last reply."""
    n = len(parts)
    txn, reply = "", None
    for index in order:
        reply = send(api, model_id, parts[index - 1], f"{index}:{n}", txn, fmt)
        txn = reply.data.txn_id
    return reply


def split(values: np.ndarray, cuts: list[int]) -> list[str]:
    return [b64(p) for p in np.split(values, cuts)]


def job(server: Any, model_id: str) -> Any:
    return server.service.pretrainer._jobs.get(model_id)


@pytest.mark.parametrize(
    ("features", "n", "cuts", "order", "training"),
    [
        (1, 3 * B + 100, [B, 2 * B, 2 * B + 10], [1, 2, 3, 4], {}),  # the server starts early
        (1, 3 * B + 100, [5, 70_000, 150_000], [4, 2, 1, 3], {}),  # any order
        (1, 6_000, [1_000, 3_001], [1, 3, 2], {}),  # below bufferingSamples
        (1, 2 * B, [B], [1, 2], {}),  # ends on a block edge (graduates at the end)
        (3, 3 * 50_000, [7, 40_000, 100_001], [1, 2, 3, 4], {}),  # cuts inside vectors
        (
            2,
            2 * 80_000,
            [30_000],
            [2, 1],
            {"bufferingSamples": 3_000, "learningMaxSamples": 70_000},
        ),
    ],
)
def test_overlapped_pretraining_is_byte_identical_to_one_shot(
    checked_api: Any,
    amber_server: Any,
    features: int,
    n: int,
    cuts: list[int],
    order: list[int],
    training: dict[str, int],
) -> None:
    values = np.random.default_rng(n).random(n)
    model_id, body = configure(checked_api, features, **training)
    last = upload(checked_api, model_id, split(values, cuts), order)
    assert last.data.status in ("Pretraining", "Pretrained")
    assert_pretrained_as_one_shot(checked_api, model_id, body, values)
    assert checked_api.get_pretrain(model_id).message == f"Pretrained on {n} values"


def test_the_engine_works_before_the_last_chunk(checked_api: Any, amber_server: Any) -> None:
    values = np.random.default_rng(1).random(3 * B)
    model_id, body = configure(checked_api, 1)
    parts = split(values, [B, 2 * B])
    txn = send(checked_api, model_id, parts[0], "1:3", "").data.txn_id
    send(checked_api, model_id, parts[1], "2:3", txn)
    feeder = job(amber_server, model_id)
    deadline = time.monotonic() + 30
    while feeder._next < 3 and time.monotonic() < deadline:  # chunks 1 and 2 get fed
        time.sleep(0.01)
    assert feeder._next == 3 and feeder.received == 2 * B
    # the status is unchanged meanwhile: still Chunking, the model still usable
    assert checked_api.get_pretrain(model_id).status == "Chunking"
    assert checked_api.get_status(model_id).state == "Buffering"
    send(checked_api, model_id, parts[2], "3:3", txn)
    assert_pretrained_as_one_shot(checked_api, model_id, body, values)


def test_an_upload_carries_on_across_a_restart(
    fresh_server: Any, amber_login: Any, tmp_path: Any
) -> None:
    db = str(tmp_path / "overlap.db")
    server = fresh_server(db_path=db)
    api = amber_login(server)
    values = np.random.default_rng(2).random(2 * B + 500)
    model_id, body = configure(api, 1)
    parts = split(values, [B + 3, 2 * B])
    txn = send(api, model_id, parts[0], "1:3", "").data.txn_id
    send(api, model_id, parts[2], "3:3", txn)
    server.stop()
    again = fresh_server(db_path=db)
    api.api_client.configuration.host = again.url
    assert api.get_pretrain(model_id).status == "Chunking"
    send(api, model_id, parts[2], "3:3", txn)  # a replay is still acknowledged
    send(api, model_id, parts[1], "2:3", txn)
    assert_pretrained_as_one_shot(api, model_id, body, values)


def test_an_idle_upload_frees_its_job_and_resumes_from_storage(
    checked_api: Any, amber_server: Any
) -> None:
    pretrainer = amber_server.service.pretrainer
    old_idle = pretrainer.idle_seconds
    pretrainer.idle_seconds = 0.1
    try:
        values = np.random.default_rng(3).random(2 * B + 9)
        model_id, body = configure(checked_api, 1)
        parts = split(values, [B, B + 9])
        txn = send(checked_api, model_id, parts[0], "1:3", "").data.txn_id
        feeder = job(amber_server, model_id)
        feeder.thread.join(10)
        assert feeder.ended and job(amber_server, model_id) is None
        send(checked_api, model_id, parts[1], "2:3", txn)
        assert job(amber_server, model_id) is not feeder
        send(checked_api, model_id, parts[2], "3:3", txn)
        assert_pretrained_as_one_shot(checked_api, model_id, body, values)
    finally:
        pretrainer.idle_seconds = old_idle


def test_a_bad_value_midway_fails_as_a_one_shot_pretraining_does(checked_api: Any) -> None:
    values = np.random.default_rng(4).random(2 * B).round(6)
    values[B + 40] = 1e250  # finite, so the chunk is stored; pretraining refuses it
    model_id, body = configure(checked_api, 1)
    parts = [",".join(map(str, p)) for p in np.split(values, [B // 2, B + 20])]
    engine = AmberModel(parse_config(body))
    with pytest.raises(Exception) as one_shot:
        engine.pretrain(values)
    try:
        reply = upload(checked_api, model_id, parts, [1, 2, 3], fmt="csv")
    except ApiException as exc:  # the job failed within the last chunk's wait
        message = orjson.loads(exc.body)["message"]
    else:
        assert reply.data.status == "Pretraining"
        message = wait_pretrained(checked_api, model_id).message
    assert message == f"pretraining failed: {one_shot.value}"
    assert f"position {B + 40}" in message
    assert checked_api.get_pretrain(model_id).status == "None"
    assert checked_api.get_status(model_id).state == "Buffering"  # the model is unchanged


def test_a_new_upload_replaces_an_unfinished_one(checked_api: Any, amber_server: Any) -> None:
    values = np.random.default_rng(5).random(2 * B)
    model_id, body = configure(checked_api, 1)
    first = send(checked_api, model_id, b64(values[:B]), "1:2", "")
    old = job(amber_server, model_id)
    upload(checked_api, model_id, split(values, [B + 1]), [1, 2])
    assert old.cancelled
    code = None
    try:
        send(checked_api, model_id, b64(values[B:]), "2:2", first.data.txn_id)
    except ApiException as exc:
        code = exc.status
    assert code == 400  # the first upload is gone
    assert_pretrained_as_one_shot(checked_api, model_id, body, values)


def test_a_chunk_whose_write_failed_is_not_pretrained_on(
    checked_api: Any, amber_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A running job gets each chunk while it is being stored. When the write fails (a disk
    fault, injected), the job starts over from storage, so the model is pretrained on the
    chunk sent again in its place, not on the one that was never stored."""
    values = np.random.default_rng(5).random(3 * B)
    model_id, body = configure(checked_api, 1)
    parts = split(values, [B, 2 * B])
    txn = send(checked_api, model_id, parts[0], "1:3", "").data.txn_id
    feeder = job(amber_server, model_id)
    store_chunk = Tx.add_chunk

    def disk_fault(self: Tx, txn_id: str, idx: int, digest: str, data: bytes) -> None:
        if idx == 2:
            raise sqlite3.OperationalError("disk I/O error")
        store_chunk(self, txn_id, idx, digest, data)

    monkeypatch.setattr(Tx, "add_chunk", disk_fault)
    other = b64(np.random.default_rng(6).random(B))
    with pytest.raises(ApiException) as failed:
        send(checked_api, model_id, other, "2:3", txn)
    assert failed.value.status == 500
    assert feeder.cancelled
    monkeypatch.setattr(Tx, "add_chunk", store_chunk)
    assert checked_api.get_pretrain(model_id).status == "Chunking"
    send(checked_api, model_id, parts[1], "2:3", txn)
    send(checked_api, model_id, parts[2], "3:3", txn)
    assert_pretrained_as_one_shot(checked_api, model_id, body, values)


def test_chunks_stored_as_float32_or_float64_resume_after_a_restart(
    fresh_server: Any, amber_login: Any, tmp_path: Any
) -> None:
    """A b64float chunk is stored as float32, a CSV chunk as float32 when its values are
    float32 values and as float64 when they are not (nothing is rounded); an upload resumed
    from such chunks after a restart pretrains as one shot on the values sent."""
    db = str(tmp_path / "forms.db")
    server = fresh_server(db_path=db)
    api = amber_login(server)
    rng = np.random.default_rng(7)
    packed = rng.random(B).astype("<f4").astype(np.float64)
    as_float32 = rng.random(B // 2).astype("<f4").astype(np.float64)
    as_float64 = rng.random(B // 2 + 11)  # not float32 values: kept exact
    model_id, body = configure(api, 1)
    txn = send(api, model_id, b64(packed), "1:3", "").data.txn_id
    send(api, model_id, ",".join(map(repr, as_float64.tolist())), "2:3", txn, fmt="csv")
    server.stop()
    with contextlib.closing(sqlite3.connect(db)) as conn:
        sizes = dict(conn.execute("SELECT idx, LENGTH(data) FROM pretrain_chunks").fetchall())
    assert sizes == {1: 4 * B + 1, 2: 8 * len(as_float64)}
    again = fresh_server(db_path=db)
    api.api_client.configuration.host = again.url
    send(api, model_id, ",".join(map(repr, as_float32.tolist())), "3:3", txn, fmt="csv")
    assert wait_pretrained(api, model_id).status == "Pretrained"
    values = np.concatenate((packed, as_float64, as_float32))
    engine = AmberModel(parse_config(body))
    engine.pretrain(values)
    assert engine_bytes(api, model_id) == engine.to_bytes()


def test_a_chunk_stored_by_an_earlier_version_as_float64_is_read() -> None:
    values = np.random.default_rng(8).random(1000)
    legacy = values.astype("<f8").tobytes()  # the only form earlier versions stored
    assert np.array_equal(stored_values(legacy), values)
    assert np.array_equal(stored_values(stored_form(values)), values)
    assert len(stored_form(values)) == 8 * 1000
    halves = np.arange(1000) / 2.0
    assert len(stored_form(halves)) == 4 * 1000 + 1
    assert np.array_equal(stored_values(stored_form(halves)), halves)
    huge = np.array([1e250, 1.0])  # beyond float32: float64
    assert np.array_equal(stored_values(stored_form(huge)), huge)
