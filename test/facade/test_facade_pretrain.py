"""Chunked pretrain against the local server: order, retries, tokens, waiting, memory."""

from __future__ import annotations

import base64
import itertools
import json
import subprocess
import sys
import time
from typing import Any

import numpy as np
import pytest

from boonamber import AmberCloudError
from boonamber.facade import AmberPretrainTimeoutError, AmberResult
from boonamber.v2 import models as v2


def _chunk_index(seen: Any) -> int:
    return int(seen.header("chunkspec").split(":")[0])


def test_one_million_values_in_chunks_arriving_out_of_order(
    proxied: tuple[Any, Any], new_model: Any
) -> None:
    client, proxy = proxied
    model_id = new_model(client, 1)
    data = np.random.default_rng(5).normal(size=1_000_000)
    proxy.add_rule(lambda s: s.header("chunkspec") == "2:10", delay=0.6)
    progress: list[tuple[int, int | None]] = []

    result = client.post_pretrain(
        model_id, data, chunk_size=100_000, progress=lambda d, t: progress.append((d, t))
    )

    assert isinstance(result, AmberResult)
    assert isinstance(result.model, v2.GetPretrainResponse)
    assert result["status"] == "Pretrained"
    chunks = proxy.requests("POST", "/pretrain")
    assert len(chunks) == 10
    # the order in which the server received them
    order = [_chunk_index(s) for s in sorted(chunks, key=lambda s: s.forwarded_at)]
    assert order[0] == 1 and sorted(order) == list(range(1, 11))
    assert order != sorted(order)  # chunk 2 arrived after later ones
    assert order.index(2) > order.index(3)
    assert {s.header("chunkspec").split(":")[1] for s in chunks} == {"10"}
    chunks.sort(key=_chunk_index)
    txn = chunks[0].response_json()["txnId"]
    assert chunks[0].header("txnId") is None
    assert {s.header("txnId") for s in chunks[1:]} == {txn}
    for seen in chunks:
        body = seen.json()
        assert body["format"] == "b64float"
        assert len(base64.b64decode(body["data"])) == 400_000
    # the server got exactly our float32 values, in order
    first = np.frombuffer(base64.b64decode(chunks[0].json()["data"]), dtype="<f4")
    assert np.array_equal(first, data[:100_000].astype(np.float32))
    assert progress[-1] == (1_000_000, 1_000_000) and len(progress) == 10
    assert client.get_pretrain(model_id)["status"] == "Pretrained"
    assert client.get_status(model_id)["sampleCount"] == 1_000_000


def test_a_failed_chunk_is_retried(proxied: tuple[Any, Any], new_model: Any) -> None:
    client, proxy = proxied
    model_id = new_model(client, 1)
    proxy.add_rule(
        lambda s: s.header("chunkspec") == "3:4",
        respond=(503, {}, b'{"code": 503, "message": "busy"}'),
        times=2,
    )
    result = client.post_pretrain(model_id, np.arange(40_000, dtype=np.float32), chunk_size=10_000)
    assert result["status"] == "Pretrained"
    specs = [s.header("chunkspec") for s in proxy.requests("POST", "/pretrain")]
    assert specs.count("3:4") == 3 and len(specs) == 6


def test_each_chunk_is_sent_with_a_fresh_token(
    fresh_server: Any, make_proxy: Any, make_client: Any, new_model: Any
) -> None:
    server = fresh_server(token_ttl=2)
    proxy = make_proxy(server.url)
    client = make_client(proxy.url, server.license_key, server.secret_key)
    model_id = new_model(client, 1)
    proxy.add_rule(lambda s: s.path.endswith("/pretrain") and s.method == "POST", delay=0.45)
    result = client.post_pretrain(model_id, np.arange(60.0), chunk_size=10, workers=1)
    assert result["status"] == "Pretrained"
    assert proxy.requests("POST", "/oauth2/refresh")  # the upload outlived a token
    current = None
    for seen in proxy.requests():
        if "/oauth2/" in seen.path:
            current = seen.response_json()["idToken"]
        elif seen.path.endswith("/pretrain"):
            assert seen.header("Authorization") == f"Bearer {current}"
            assert seen.status in (200, 202)


def test_block_false_returns_the_upload_answer(client: Any, new_model: Any) -> None:
    model_id = new_model(client, 1)
    answer = client.post_pretrain(
        model_id, [float(i % 7) for i in range(3000)], block=False, chunk_size=1000
    )
    assert isinstance(answer.model, v2.PostPretrainResponse)
    assert answer["txnId"] and answer["status"] in ("Pretraining", "Pretrained")
    deadline = time.monotonic() + 30
    while client.get_pretrain(model_id)["status"] != "Pretrained":
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_single_chunk_and_csv_input(client: Any, new_model: Any) -> None:
    model_id = new_model(client, 2)
    assert client.post_pretrain(model_id, "1,2\n3,4\n5,6\n7,8")["status"] == "Pretrained"
    assert client.get_status(model_id)["sampleCount"] == 4
    other = new_model(client, 2)
    assert client.post_pretrain(other, [[1, 2], [3, 4]])["status"] == "Pretrained"


def test_waiting_gives_up_after_the_timeout(proxied: tuple[Any, Any], new_model: Any) -> None:
    client, proxy = proxied
    model_id = new_model(client, 1)
    proxy.add_rule(
        lambda s: s.method == "POST" and s.path.endswith("/pretrain"),
        respond=(
            202,
            {},
            json.dumps({"status": "Pretraining", "message": "0%", "txnId": "t"}).encode(),
        ),
    )
    proxy.add_rule(
        lambda s: s.method == "GET" and s.path.endswith("/pretrain"),
        respond=(200, {}, b'{"status": "Pretraining", "message": "Pretraining: 3% done"}'),
    )
    started = time.monotonic()
    with pytest.raises(AmberPretrainTimeoutError) as info:
        client.post_pretrain(model_id, [1.0, 2.0], timeout=0.5)
    assert 0.4 < time.monotonic() - started < 3
    assert "0.5 s" in str(info.value) and "3% done" in str(info.value)
    assert len(proxy.requests("GET", "/pretrain")) >= 3  # polled, with backoff


def test_a_pretrain_that_fails_on_the_server_is_an_error(
    proxied: tuple[Any, Any], new_model: Any
) -> None:
    client, proxy = proxied
    model_id = new_model(client, 1)
    proxy.add_rule(
        lambda s: s.method == "POST" and s.path.endswith("/pretrain"),
        respond=(
            202,
            {},
            json.dumps({"status": "Pretraining", "message": "0%", "txnId": "t"}).encode(),
        ),
    )
    proxy.add_rule(
        lambda s: s.method == "GET" and s.path.endswith("/pretrain"),
        respond=(200, {}, b'{"status": "None", "message": "pretraining failed: out of memory"}'),
    )
    with pytest.raises(AmberCloudError, match="out of memory"):
        client.post_pretrain(model_id, [1.0, 2.0], timeout=5)


def test_a_missing_txn_id_is_reported(proxied: tuple[Any, Any], new_model: Any) -> None:
    client, proxy = proxied
    model_id = new_model(client, 1)
    proxy.add_rule(
        lambda s: s.method == "POST" and s.path.endswith("/pretrain"),
        respond=(202, {}, b'{"status": "Chunking", "message": "1 of 2"}'),
    )
    with pytest.raises(AmberCloudError, match="txnId"):
        client.post_pretrain(model_id, [1.0, 2.0], chunk_size=1)


MEMORY_SCRIPT = r"""
import gc, sys
import numpy as np
from boonamber import AmberClient

def status(key):  # bytes
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) * 1024 for l in f if l.startswith(key + ":"))

url, key, secret, model_id, dtype = sys.argv[1:6]
data = np.random.default_rng(0).random(10_000_000, dtype=np.float32).astype(dtype)
client = AmberClient(server=url, license_key=key, secret_key=secret)
client.post_pretrain(model_id, np.ones(1000, dtype=dtype), block=False)  # warm up every path
gc.collect()
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # the peak resident size (VmHWM) starts again from now
base = status("VmRSS")
client.post_pretrain(model_id, data, block=False)
print((status("VmHWM") - base) / (data.size * 4))
"""


@pytest.mark.slow
@pytest.mark.parametrize(("dtype", "limit"), [("float32", 1.0), ("float64", 2.0)])
def test_ten_million_values_hold_at_most_about_two_copies(
    fresh_server: Any, make_client: Any, new_model: Any, tmp_path: Any, dtype: str, limit: float
) -> None:
    """Peak resident memory the upload adds (the kernel's high-water mark, reset before it),
    in copies of the float32 payload (40 MB), measured in a separate process so that the
    server's memory is not counted. A float32 array is sent in place (only encoded chunks
    in flight); a float64 array adds its float32 copy. (Resident, not allocated: orjson
    reserves ~12x a string's length while it encodes a request body, and touches only what
    it writes.)"""
    server = fresh_server()
    model_id = new_model(make_client(server), 1)
    script = tmp_path / "memory.py"
    script.write_text(MEMORY_SCRIPT)
    out = subprocess.run(
        [
            sys.executable,
            str(script),
            server.url,
            server.license_key,
            server.secret_key,
            model_id,
            dtype,
        ],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert out.returncode == 0, out.stderr
    extra_copies = float(out.stdout.strip())
    assert extra_copies <= limit, extra_copies


def test_a_chunk_whose_answer_was_lost_is_replayed(
    amber_server: Any, proxy: Any, make_client: Any, new_model: Any
) -> None:
    client = make_client(
        proxy.url, amber_server.license_key, amber_server.secret_key, timeout=(5, 0.5)
    )
    model_id = new_model(client, 1)
    proxy.add_rule(lambda s: s.header("chunkspec") == "2:3", hang=1.0, times=1)
    result = client.post_pretrain(model_id, np.arange(30.0), chunk_size=10)
    assert result["status"] == "Pretrained"


def test_a_lost_answer_to_the_last_chunk_is_not_sent_again(
    amber_server: Any, proxy: Any, make_client: Any, new_model: Any
) -> None:
    client = make_client(
        proxy.url, amber_server.license_key, amber_server.secret_key, timeout=(5, 0.5)
    )
    model_id = new_model(client, 1)
    proxy.add_rule(lambda s: s.header("chunkspec") == "3:3", hang=1.5, times=1)
    result = client.post_pretrain(model_id, np.arange(30.0), chunk_size=10, workers=1)
    assert result["status"] == "Pretrained"
    specs = [s.header("chunkspec") for s in proxy.requests("POST", "/pretrain")]
    assert specs.count("3:3") == 1  # the status showed the upload complete: not resent
    polls = proxy.requests("GET", "/pretrain")
    assert polls and polls[0].at > max(
        s.at for s in proxy.requests("POST", "/pretrain")
    )  # looked before deciding


def test_a_busy_server_is_retried_but_a_bad_chunk_is_not(
    proxied: tuple[Any, Any], new_model: Any
) -> None:
    client, proxy = proxied
    model_id = new_model(client, 1)
    proxy.add_rule(
        lambda s: s.header("chunkspec") == "2:2",
        respond=(400, {}, b'{"code": 400, "message": "chunk refused"}'),
    )
    with pytest.raises(AmberCloudError, match="chunk refused"):
        client.post_pretrain(model_id, np.arange(20.0), chunk_size=10)
    specs = [s.header("chunkspec") for s in proxy.requests("POST", "/pretrain")]
    assert specs.count("2:2") == 1


def test_the_server_percentage_reaches_the_progress_callback(
    proxied: tuple[Any, Any], new_model: Any
) -> None:
    client, proxy = proxied
    model_id = new_model(client, 1)
    proxy.add_rule(
        lambda s: s.method == "POST" and s.path.endswith("/pretrain"),
        respond=(
            202,
            {},
            json.dumps({"status": "Pretraining", "message": "0%", "txnId": "t"}).encode(),
        ),
    )
    for percent in (20, 60):
        proxy.add_rule(
            lambda s: s.method == "GET" and s.path.endswith("/pretrain"),
            respond=(
                200,
                {},
                json.dumps(
                    {"status": "Pretraining", "message": f"Pretraining: {percent}% done"}
                ).encode(),
            ),
            times=1,
        )
    proxy.add_rule(
        lambda s: s.method == "GET" and s.path.endswith("/pretrain"),
        respond=(200, {}, b'{"status": "Pretrained", "message": "done"}'),
    )
    seen: list[tuple[int, ...]] = []
    two: list[tuple[int, int | None]] = []
    client.post_pretrain(model_id, [1.0, 2.0], progress=lambda *a: seen.append(a))
    client.post_pretrain(model_id, [1.0, 2.0], progress=lambda d, t: two.append((d, t)))
    assert seen == [(2, 2), (2, 2, 20), (2, 2, 60), (2, 2, 100)]
    assert two == [(2, 2)]  # a two-argument callback keeps its old calls


def test_polling_backs_off_within_an_eighth_of_the_wait_and_follows_the_percentage() -> None:
    from boonamber.facade.pretrain import server_percent, wait_until_pretrained

    assert server_percent("Pretraining: 40% done") == 40
    assert server_percent("Received 3 of 4 chunks") is None
    now = [0.0]
    polls: list[float] = []
    finish = 12.0

    def status() -> dict[str, str]:
        polls.append(now[0])
        if now[0] >= finish:
            return {"status": "Pretrained", "message": "done"}
        return {"status": "Pretraining", "message": f"Pretraining: {int(100 * now[0] / finish)}%"}

    def sleep(seconds: float) -> None:
        now[0] += seconds

    wait_until_pretrained(status, 60.0, clock=lambda: now[0], sleep=sleep)
    gaps = [b - a for a, b in itertools.pairwise(polls)]
    assert gaps[0] == pytest.approx(0.05)
    assert all(g <= max(0.05, t / 8) + 1e-9 for g, t in zip(gaps, polls, strict=False))
    assert polls[-1] - finish < 0.5  # seen soon after it finished
    assert len(polls) < 40
