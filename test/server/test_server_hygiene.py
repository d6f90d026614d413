"""Login throttling, a readable 413 before the body is read, and requests with nothing to do."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from typing import Any

import orjson
import pytest
import urllib3

import boonamber.v2 as v2
from boonamber import AmberClient
from boonamber.v2.exceptions import ApiException


def _access(url: str, license_key: str, secret_key: str) -> urllib3.BaseHTTPResponse:
    return urllib3.PoolManager().request(
        "POST",
        f"{url}/oauth2/access",
        body=orjson.dumps({"licenseKey": license_key, "secretKey": secret_key}),
        headers={"Content-Type": "application/json"},
        retries=False,
    )


def test_failed_logins_are_throttled_per_key_and_per_address(
    fresh_server: Any, spec_checker: Any
) -> None:
    server = fresh_server()
    throttle = server.service.auth.throttle
    assert (throttle.per_key, throttle.per_address) == (5, 30)
    key, secret = server.license_key, server.secret_key
    for _ in range(throttle.per_key):
        assert _access(server.url, key, "wrong").status == 401
    # Refused before the secret is checked: the right secret gets 429 too, with Retry-After.
    started = time.monotonic()
    r = _access(server.url, key, secret)
    assert time.monotonic() - started < 0.5
    assert r.status == 429, r.data
    body = orjson.loads(r.data)
    assert body["code"] == 429 and "license key" in body["message"]
    assert 1 <= int(r.headers["Retry-After"]) <= throttle.window
    spec_checker.check(
        "POST", f"{server.url}/oauth2/access", r.status, dict(r.headers), bytes(r.data)
    )
    # Another account from the same address still logs in (the address limit is higher) ...
    other_key, other_secret = server.create_account()
    assert _access(server.url, other_key, other_secret).status == 200
    # ... until the address itself has failed too often, whatever the key.
    for i in range(throttle.per_address):
        status = _access(server.url, f"{i:032x}", "guess").status
        if status == 429:
            break
        assert status == 401
    r = _access(server.url, other_key, other_secret)
    assert r.status == 429 and "client address" in orjson.loads(r.data)["message"]


def test_the_facade_waits_out_a_throttled_login(fresh_server: Any) -> None:
    server = fresh_server()
    server.service.auth.throttle.window = 2.0  # a short window keeps the test short
    for _ in range(5):
        assert _access(server.url, server.license_key, "wrong").status == 401
    assert _access(server.url, server.license_key, server.secret_key).status == 429
    client = AmberClient(
        server=server.url, license_key=server.license_key, secret_key=server.secret_key
    )
    started = time.monotonic()
    assert client.get_version().api_version
    assert 0.5 < time.monotonic() - started < 10
    client.close()


def _raw_request(url: str, head: str, body: bytes, read_timeout: float = 10.0) -> bytes:
    host, port = url.split("//")[1].split("/")[0].rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=read_timeout) as sock:
        sock.sendall(head.encode() + body)
        data = b""
        while b"\r\n\r\n" not in data or not data.rstrip().endswith(b"}"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        return data


def test_413_is_answered_before_the_body_is_sent(amber_api: Any, amber_server: Any) -> None:
    token = amber_api.api_client.configuration.api_key["Authorization"]
    model_id = amber_api.post_model(v2.PostModelRequest(label="413")).id
    declared = 10**12  # a terabyte that never comes: only the first bytes are sent
    head = (
        f"POST /v2/models/{model_id}/data HTTP/1.1\r\nHost: x\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {declared}\r\n\r\n"
    )
    started = time.monotonic()
    answer = _raw_request(amber_server.url, head, b'{"data": "1,2,3')
    assert time.monotonic() - started < 5
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line.startswith(b"HTTP/1.1 413"), answer[:200]
    body = orjson.loads(rest.split(b"\r\n\r\n", 1)[1])
    assert body["code"] == 413 and str(declared) in body["message"]
    amber_api.delete_model(model_id)


def test_put_data_with_nothing_to_apply_is_a_400(checked_api: Any, make_model: Any) -> None:
    model_id = make_model(features=2, window=1, buffering=10)
    checked_api.put_data(
        v2.PutDataRequest.from_dict({"vector": [{"name": "f0", "value": 1.0}]}), model_id
    )
    usage = checked_api.get_usage(model_id).endpoints.put_data.total_calls
    with pytest.raises(ApiException) as info:
        checked_api.put_data(v2.PutDataRequest.from_dict({"vector": []}), model_id)
    assert info.value.status == 400
    assert "nothing to apply" in orjson.loads(info.value.body)["message"]
    assert checked_api.get_usage(model_id).endpoints.put_data.total_calls == usage


def test_embedded_server_asks_for_one_blas_thread() -> None:
    # Started before numpy loads, an EmbeddedServer (like serve: the same open_service) sets
    # the BLAS variables the environment leaves unset (one thread) and keeps the ones it sets.
    code = (
        "import os, sys\n"
        "from boonamber.local import EmbeddedServer\n"
        "with EmbeddedServer() as server:\n"
        "    assert 'numpy' in sys.modules\n"
        "    print(os.environ['OPENBLAS_NUM_THREADS'], os.environ['OMP_NUM_THREADS'])\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    env["OMP_NUM_THREADS"] = "3"
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["1", "3"]
