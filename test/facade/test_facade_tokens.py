"""Login, refresh before expiry, single-flight refresh, 401 retry-once, several accounts."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import pytest

from boonamber import AmberCloudError
from boonamber.facade import AmberAuthenticationError, AmberConnectionError
from boonamber.facade.tokens import TokenGrant, TokenProvider


def _token_timeline(proxy: Any) -> list[tuple[str, str | None]]:
    """(kind, token) in arrival order: ("issued", idToken) for each OAuth answer,
    ("sent", Authorization) for each other request."""
    timeline: list[tuple[str, str | None]] = []
    for seen in proxy.requests():
        if "/oauth2/" in seen.path:
            if seen.status == 200:
                timeline.append(("issued", seen.response_json()["idToken"]))
        else:
            timeline.append(("sent", seen.header("Authorization")))
    return timeline


def test_every_request_after_a_refresh_carries_the_new_token(
    fresh_server: Any, make_proxy: Any, make_client: Any
) -> None:
    server = fresh_server(token_ttl=2)
    proxy = make_proxy(server.url)
    client = make_client(proxy.url, server.license_key, server.secret_key)
    deadline = time.monotonic() + 3.6
    calls = 0
    while time.monotonic() < deadline:
        client.get_models()
        calls += 1
        time.sleep(0.1)

    assert len(proxy.requests("POST", "/oauth2/access")) == 1
    refreshes = proxy.requests("POST", "/oauth2/refresh")
    assert len(refreshes) >= 2  # ttl 2 s, margin 1 s: a refresh about every second
    # each refresh sends the refresh token of the previous answer (it changes every time)
    grants = [s.response_json() for s in proxy.requests() if "/oauth2/" in s.path]
    for previous, refresh in zip(grants, refreshes, strict=False):
        assert refresh.json()["refreshToken"] == previous["refreshToken"]

    current = None
    sent = 0
    for kind, token in _token_timeline(proxy):
        if kind == "issued":
            assert token != current
            current = token
        else:
            assert token == f"Bearer {current}"  # the wire carries the newest token
            sent += 1
    assert sent == calls
    assert all(s.status == 200 for s in proxy.requests())  # refreshed before expiry: no 401


def test_eight_threads_at_expiry_make_exactly_one_refresh(
    fresh_server: Any, make_proxy: Any, make_client: Any
) -> None:
    server = fresh_server(token_ttl=2)
    proxy = make_proxy(server.url)
    client = make_client(proxy.url, server.license_key, server.secret_key)
    client.get_version()
    time.sleep(1.2)  # past the refresh point (ttl - min(60, ttl / 2) = 1 s), before expiry
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            barrier.wait()
            client.get_version()
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(proxy.requests("POST", "/oauth2/refresh")) == 1
    assert len(proxy.requests("POST", "/oauth2/access")) == 1
    new_token = proxy.requests("POST", "/oauth2/refresh")[0].response_json()["idToken"]
    last_eight = proxy.requests("GET", "/version")[-8:]
    assert {s.header("Authorization") for s in last_eight} == {f"Bearer {new_token}"}


def test_a_401_invalidates_the_token_and_retries_once(
    proxied: tuple[Any, Any], new_model: Any
) -> None:
    client, proxy = proxied
    model_id = new_model(client)
    proxy.clear()
    proxy.add_rule(
        lambda s: s.method == "GET" and s.path.endswith("/status"),
        respond=(401, {}, b'{"code": 401, "message": "token expired"}'),
        times=1,
    )
    assert client.get_status(model_id)["state"] == "Buffering"
    status_calls = proxy.requests("GET", "/status")
    assert [s.status for s in status_calls] == [401, 200]
    assert status_calls[0].header("Authorization") != status_calls[1].header("Authorization")
    assert (
        len(proxy.requests("POST", "/oauth2/refresh"))
        + len(proxy.requests("POST", "/oauth2/access"))
        == 1
    )

    # post_data too: a 401 means the server did not process it
    proxy.clear()
    proxy.add_rule(
        lambda s: s.method == "POST" and s.path.endswith("/data"),
        respond=(401, {}, b'{"code": 401, "message": "no"}'),
        times=1,
    )
    client.post_data(model_id, [1.0, 2.0])
    assert [s.status for s in proxy.requests("POST", "/data")] == [401, 200]


def test_a_second_401_is_an_error_not_a_loop(proxied: tuple[Any, Any]) -> None:
    client, proxy = proxied
    client.get_version()
    proxy.clear()
    proxy.add_rule(
        lambda s: s.path.endswith("/models"),
        respond=(401, {}, b'{"code": 401, "message": "revoked"}'),
    )
    with pytest.raises(AmberCloudError) as info:
        client.get_models()
    assert info.value.status == 401 and info.value.message == "revoked"
    assert not isinstance(info.value, AmberAuthenticationError)  # only a rejected login is
    assert len(proxy.requests("GET", "/models")) == 2


def test_failed_refresh_falls_back_to_login(
    fresh_server: Any, make_proxy: Any, make_client: Any
) -> None:
    server = fresh_server(token_ttl=2)
    proxy = make_proxy(server.url)
    client = make_client(proxy.url, server.license_key, server.secret_key)
    client.get_version()
    proxy.add_rule(
        lambda s: s.path.endswith("/oauth2/refresh"),
        respond=(401, {}, b'{"code": 401, "message": "refresh token expired"}'),
    )
    time.sleep(1.1)
    assert client.get_version()
    kinds = [(s.path.rsplit("/", 1)[-1], s.status) for s in proxy.requests()]
    assert kinds == [
        ("access", 200),
        ("version", 200),
        ("refresh", 401),
        ("access", 200),
        ("version", 200),
    ]


def test_rejected_login_is_an_authentication_error_without_secrets(
    amber_server: Any, make_client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secret = "wrong-secret-value-123"
    client = make_client(amber_server, amber_server.license_key, secret)
    with pytest.raises(AmberAuthenticationError) as info:
        client.get_version()
    error = info.value
    assert error.status == 401 and error.path == "/oauth2/access"
    assert "login rejected" in str(error)
    for text in (str(error), repr(error), error.body or "", error.message, caplog.text):
        assert secret not in text


def test_tokens_and_secrets_never_reach_logs_or_errors(
    proxied: tuple[Any, Any], amber_server: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client, proxy = proxied
    client.get_version()
    with pytest.raises(AmberCloudError) as info:
        client.get_model("0123456789abcdef01234567")
    token = proxy.requests("POST", "/oauth2/access")[0].response_json()["idToken"]
    for text in (
        caplog.text,
        str(info.value),
        repr(info.value),
        repr(client),
        info.value.body or "",
    ):
        assert token not in text
        assert amber_server.secret_key not in text
    # an error message that echoes a secret is redacted
    proxy.add_rule(
        lambda s: s.path.endswith("/models"),
        respond=(500, {}, f'{{"code": 500, "message": "bad token {token}"}}'.encode()),
    )
    with pytest.raises(AmberCloudError) as info:
        client.get_models()
    assert token not in str(info.value) and token not in (info.value.body or "")
    assert "***" in str(info.value)


def test_connection_failure_at_login_is_not_an_authentication_error(make_client: Any) -> None:
    client = make_client("http://127.0.0.1:9/v2", "k", "s", max_retries=0)
    with pytest.raises(AmberConnectionError) as info:
        client.get_version()
    assert not isinstance(info.value, AmberAuthenticationError)
    assert info.value.request_sent is False


def test_two_clients_with_different_accounts(
    amber_server: Any, proxy: Any, make_client: Any
) -> None:
    key2, secret2 = amber_server.create_account()
    first = make_client(proxy.url, amber_server.license_key, amber_server.secret_key)
    second = make_client(proxy.url, key2, secret2)
    a = first.post_model("account-one")["id"]
    b = second.post_model("account-two")["id"]
    assert b not in [m["id"] for m in first.get_models()["modelList"]]
    assert a not in [m["id"] for m in second.get_models()["modelList"]]
    with pytest.raises(AmberCloudError) as info:
        second.get_model(a)
    assert info.value.status == 404
    assert first._transport.config is not second._transport.config
    tokens = {s.header("Authorization") for s in proxy.requests() if "/oauth2/" not in s.path}
    assert len(tokens) == 2


def test_provider_refreshes_with_margin_min_60s_or_half_ttl() -> None:
    now = [1000.0]
    grants = iter(
        [TokenGrant("t1", "r1", 3600.0), TokenGrant("t2", "r2", 10.0), TokenGrant("t3", "r3", 10.0)]
    )
    calls: list[str] = []

    def login() -> TokenGrant:
        calls.append("login")
        return next(grants)

    def refresh(token: str) -> TokenGrant:
        calls.append(f"refresh:{token}")
        return next(grants)

    provider = TokenProvider(login, refresh, clock=lambda: now[0])
    assert provider.get() == "t1"
    now[0] += 3539.0
    assert provider.get() == "t1"  # 61 s left: not yet
    now[0] += 1.0
    assert provider.get() == "t2"  # 60 s left: refresh
    now[0] += 4.9
    assert provider.get() == "t2"
    now[0] += 0.1
    assert provider.get() == "t3"  # ttl 10 s: refresh 5 s before expiry
    assert calls == ["login", "refresh:r1", "refresh:r2"]
    provider.invalidate("not-current")
    assert provider.get() == "t3"
    assert "t3" not in repr(provider)
