"""Tokens (expiry, refresh rotation) and account isolation over HTTP."""

from __future__ import annotations

import time
from typing import Any

import orjson
import pytest

import boonamber.v2 as v2
from boonamber.v2.exceptions import ApiException


def client(url: str, spec_instrument: Any) -> Any:
    return spec_instrument(v2.DefaultApi(v2.ApiClient(v2.Configuration(host=url))))


def use_token(api: Any, token: str) -> None:
    api.api_client.configuration.api_key["Authorization"] = token
    api.api_client.configuration.api_key_prefix["Authorization"] = "Bearer"


def status_of(fn: Any, *args: Any) -> int:
    with pytest.raises(ApiException) as info:
        fn(*args)
    assert orjson.loads(info.value.body)["code"] == info.value.status
    return int(info.value.status)


def test_tokens_expire_and_refresh_rotates(fresh_server: Any, spec_instrument: Any) -> None:
    server = fresh_server(token_ttl=1.0)
    api = client(server.url, spec_instrument)
    login = api.post_oauth2_access(
        v2.PostOauth2AccessRequest(licenseKey=server.license_key, secretKey=server.secret_key)
    )
    assert login.expires_in == "1"
    use_token(api, login.id_token)
    assert api.get_models().model_list == []
    time.sleep(1.3)
    assert status_of(api.get_models) == 401
    # The refresh token outlives the ID token; it is single-use.
    refreshed = api.post_oauth2_refresh(
        v2.PostOauth2RefreshRequest(refreshToken=login.refresh_token)
    )
    assert refreshed.refresh_token != login.refresh_token
    assert refreshed.id_token != login.id_token
    assert refreshed.token_type == "Bearer"
    use_token(api, refreshed.id_token)
    assert api.get_models().model_list == []
    old = v2.PostOauth2RefreshRequest(refreshToken=login.refresh_token)
    assert status_of(api.post_oauth2_refresh, old) == 401
    # The new refresh token works once more; an ID token is no refresh token.
    again = api.post_oauth2_refresh(
        v2.PostOauth2RefreshRequest(refreshToken=refreshed.refresh_token)
    )
    assert again.id_token
    wrong_kind = v2.PostOauth2RefreshRequest(refreshToken=again.id_token)
    assert status_of(api.post_oauth2_refresh, wrong_kind) == 401
    # A refresh token is no bearer token.
    use_token(api, again.refresh_token)
    assert status_of(api.get_models) == 401


def test_tokens_survive_a_restart(fresh_server: Any, spec_instrument: Any, tmp_path: Any) -> None:
    db = str(tmp_path / "auth.db")
    first = fresh_server(db_path=db)
    api = client(first.url, spec_instrument)
    login = api.post_oauth2_access(
        v2.PostOauth2AccessRequest(licenseKey=first.license_key, secretKey=first.secret_key)
    )
    first.stop()
    second = fresh_server(db_path=db)
    api = client(second.url, spec_instrument)
    use_token(api, login.id_token)
    assert api.get_models().model_list == []
    again = api.post_oauth2_access(
        v2.PostOauth2AccessRequest(licenseKey=first.license_key, secretKey=first.secret_key)
    )
    assert again.id_token


def test_accounts_are_isolated(amber_server: Any, spec_instrument: Any, amber_api: Any) -> None:
    mine = spec_instrument(amber_api)
    model = mine.post_model(v2.PostModelRequest(label="private"))
    lk, sk = amber_server.create_account()
    theirs = client(amber_server.url, spec_instrument)
    tokens = theirs.post_oauth2_access(v2.PostOauth2AccessRequest(licenseKey=lk, secretKey=sk))
    use_token(theirs, tokens.id_token)
    try:
        assert theirs.get_models().model_list == []
        for call in (
            theirs.get_model,
            theirs.get_status,
            theirs.get_config,
            theirs.get_usage,
            theirs.delete_model,
            theirs.post_outage,
            theirs.post_model_copy,
            theirs.get_diagnostic,
        ):
            assert status_of(call, model.id) == 404
        assert status_of(theirs.post_data, v2.PostDataRequest(data="1"), model.id) == 404
        assert status_of(theirs.put_model, v2.PutModelRequest(label="stolen"), model.id) == 404
        assert mine.get_model(model.id).label == "private"
        # Same license key with another account's secret: refused.
        bad = v2.PostOauth2AccessRequest(licenseKey=lk, secretKey=amber_server.secret_key)
        assert status_of(theirs.post_oauth2_access, bad) == 401
    finally:
        mine.delete_model(model.id)
