"""Retries (503/429/connection errors), never replaying post_data, and timeouts."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import pytest

from boonamber import AmberCloudError
from boonamber.facade import AmberConnectionError, AmberTimeoutError, RetryPolicy

BUSY = (503, {}, b'{"code": 503, "message": "busy"}')


def test_get_is_retried_on_503_then_succeeds(proxied: tuple[Any, Any]) -> None:
    client, proxy = proxied
    client.get_version()
    proxy.add_rule(lambda s: s.path.endswith("/models"), respond=BUSY, times=2)
    assert client.get_models()["modelList"] is not None
    assert [s.status for s in proxy.requests("GET", "/models")] == [503, 503, 200]


@pytest.mark.parametrize("status", [502, 503, 504, 429])
def test_retries_are_bounded(proxied: tuple[Any, Any], status: int) -> None:
    client, proxy = proxied
    client.get_version()
    proxy.add_rule(lambda s: s.path.endswith("/models"), respond=(status, {}, b"{}"))
    with pytest.raises(AmberCloudError) as info:
        client.get_models()
    assert info.value.status == status
    assert len(proxy.requests("GET", "/models")) == 1 + 3  # FAST_RETRY.max_retries


def test_429_honours_retry_after(proxied: tuple[Any, Any]) -> None:
    client, proxy = proxied
    client.get_version()
    proxy.add_rule(
        lambda s: s.path.endswith("/models"),
        respond=(429, {"Retry-After": "0.6"}, b'{"code": 429, "message": "slow down"}'),
        times=1,
    )
    started = time.monotonic()
    client.get_models()
    first, second = proxy.requests("GET", "/models")
    assert second.at - first.at >= 0.55
    assert time.monotonic() - started >= 0.55


def test_retry_after_is_capped(amber_server: Any, proxy: Any, make_client: Any) -> None:
    policy = RetryPolicy(max_retries=1, initial_backoff=0.01, max_retry_after=0.2)
    client = make_client(
        proxy.url, amber_server.license_key, amber_server.secret_key, max_retries=policy
    )
    client.get_version()
    proxy.add_rule(
        lambda s: s.path.endswith("/models"), respond=(429, {"Retry-After": "3600"}, b"{}"), times=1
    )
    started = time.monotonic()
    client.get_models()
    assert time.monotonic() - started < 2


def test_post_data_is_never_replayed_after_503(proxied: tuple[Any, Any], new_model: Any) -> None:
    client, proxy = proxied
    model_id = new_model(client)
    for answer in (BUSY, (429, {"Retry-After": "0"}, b"{}"), (502, {}, b"bad gateway")):
        proxy.clear()
        proxy.add_rule(lambda s: s.path.endswith("/data"), respond=answer, times=1)
        with pytest.raises(AmberCloudError) as info:
            client.post_data(model_id, [1.0, 2.0, 3.0])
        assert info.value.status == answer[0]
        assert len(proxy.requests("POST", "/data")) == 1
    # put_data (it may submit the vector) and post_model (it creates) are not replayed either
    proxy.clear()
    proxy.add_rule(lambda s: s.method in ("PUT", "POST") and "/oauth2/" not in s.path, respond=BUSY)
    with pytest.raises(AmberCloudError):
        client.put_data(model_id, {"feature-0": 1.0})
    with pytest.raises(AmberCloudError):
        client.post_model("x")
    assert len(proxy.requests("PUT")) == 1 and len(proxy.requests("POST", "/models")) == 1


def test_post_data_is_not_replayed_after_a_read_timeout(
    amber_server: Any, proxy: Any, make_client: Any, new_model: Any
) -> None:
    client = make_client(
        proxy.url, amber_server.license_key, amber_server.secret_key, timeout=(2, 0.3)
    )
    model_id = new_model(client)
    proxy.add_rule(lambda s: s.path.endswith("/data"), hang=0.8, times=1)
    with pytest.raises(AmberTimeoutError) as info:
        client.post_data(model_id, [1.0, 2.0])
    assert info.value.request_sent is True
    assert isinstance(info.value, AmberConnectionError) and isinstance(info.value, AmberCloudError)
    assert info.value.__cause__ is not None
    assert len(proxy.requests("POST", "/data")) == 1
    # the server did process it: exactly two samples arrived
    time.sleep(0.6)
    assert client.get_status(model_id)["sampleCount"] == 2


def test_get_is_retried_after_a_read_timeout(
    amber_server: Any, proxy: Any, make_client: Any
) -> None:
    client = make_client(proxy.url, amber_server.license_key, amber_server.secret_key)
    client.get_version()
    proxy.add_rule(lambda s: s.path.endswith("/models"), hang=0.5, times=1)
    assert client.get_models(request_timeout=0.2)["modelList"] is not None
    assert len(proxy.requests("GET", "/models")) == 2


def test_per_call_timeout_overrides_the_client_default(
    amber_server: Any, proxy: Any, make_client: Any
) -> None:
    client = make_client(
        proxy.url, amber_server.license_key, amber_server.secret_key, max_retries=0
    )
    assert client.timeout == (10.0, 60.0)  # finite defaults
    client.get_version()
    proxy.add_rule(lambda s: s.path.endswith("/models"), hang=0.6)
    started = time.monotonic()
    with pytest.raises(AmberTimeoutError):
        client.get_models(request_timeout=0.25)
    assert time.monotonic() - started < 0.6
    slow_client = make_client(
        proxy.url, amber_server.license_key, amber_server.secret_key, timeout=0.25, max_retries=0
    )
    with pytest.raises(AmberTimeoutError):
        slow_client.get_models()
    assert client.get_models(request_timeout=(1, 2.5))["modelList"] is not None


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_connection_refused_is_reported_after_retries(make_client: Any) -> None:
    port = _closed_port()
    client = make_client(f"http://127.0.0.1:{port}/v2", "k", "s")
    started = time.monotonic()
    with pytest.raises(AmberConnectionError) as info:
        client.get_version()
    error = info.value
    assert error.request_sent is False and error.status is None
    assert not isinstance(error, AmberTimeoutError)
    assert str(error).startswith("could not connect") and "(POST /oauth2/access)" in str(error)
    assert time.monotonic() - started < 2


def test_post_data_is_retried_when_the_connection_never_opened(
    amber_server: Any, make_proxy: Any, make_client: Any, new_model: Any
) -> None:
    """Refused connections are safe to retry: the request never left."""
    port = _closed_port()
    policy = RetryPolicy(max_retries=6, initial_backoff=0.1, max_backoff=0.4, jitter=0)
    client = make_client(
        f"http://127.0.0.1:{port}/v2",
        amber_server.license_key,
        amber_server.secret_key,
        oauth_server=amber_server.url,
        max_retries=policy,
    )
    helper = make_client(amber_server)
    model_id = new_model(helper)
    late: list[Any] = []
    timer = threading.Timer(0.3, lambda: late.append(make_proxy(amber_server.url, port)))
    timer.start()
    try:
        result = client.post_data(model_id, [1.0, 2.0])
    finally:
        timer.join()
    assert result["status"]["sampleCount"] == 2
    assert len(late[0].requests("POST", "/data")) == 1


def test_max_retries_zero_turns_retries_off(
    amber_server: Any, proxy: Any, make_client: Any
) -> None:
    client = make_client(
        proxy.url, amber_server.license_key, amber_server.secret_key, max_retries=0
    )
    client.get_version()
    proxy.add_rule(lambda s: s.path.endswith("/models"), respond=BUSY, times=1)
    with pytest.raises(AmberCloudError) as info:
        client.get_models()
    assert info.value.status == 503 and info.value.message == "busy"
    assert len(proxy.requests("GET", "/models")) == 1


def test_non_json_error_bodies_are_reported(proxied: tuple[Any, Any]) -> None:
    client, proxy = proxied
    client.get_version()
    proxy.add_rule(
        lambda s: s.path.endswith("/models"),
        respond=(418, {"Content-Type": "text/html"}, b"<html>teapot</html>"),
    )
    with pytest.raises(AmberCloudError) as info:
        client.get_models()
    assert info.value.status == 418
    assert "teapot" in str(info.value)
    assert len(proxy.requests("GET", "/models")) == 1  # 418 is not retried


def test_backoff_grows_with_jitter_and_is_capped() -> None:
    policy = RetryPolicy(initial_backoff=1.0, max_backoff=4.0, jitter=0.25)
    error = AmberCloudError("busy", status=503)
    delays = [policy.delay(error, attempt) for attempt in range(5)]
    assert 0.75 <= delays[0] <= 1.0 and 1.5 <= delays[1] <= 2.0
    assert all(d <= 4.0 for d in delays) and delays[4] >= 3.0
    dated = AmberCloudError(
        "busy", status=503, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}
    )
    assert policy.delay(dated, 0) == 0.0
    assert policy.should_retry(error, 0, replayable=True)
    assert not policy.should_retry(error, 0, replayable=False)
    assert not policy.should_retry(error, 3, replayable=True)
    assert not policy.should_retry(AmberCloudError("bad", status=400), 0, replayable=True)
