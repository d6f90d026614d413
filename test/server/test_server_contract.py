"""Every operation of the spec, called through the generated client over real HTTP; every
response (success or error) is validated against ``openapi/amber-v2.yaml`` on the wire."""

from __future__ import annotations

import base64
import io
import tarfile
import time
from datetime import datetime
from typing import Any

import numpy as np
import orjson
import pytest
import urllib3
from helpers import VERSION_KEYS, csv_values, wait_pretrained

import boonamber.v2 as v2
from boonamber.v2.exceptions import ApiException

SIGNAL = np.round(np.sin(np.arange(4000) / 7.0) * 10 + 20, 4)


def expect_error(status: int, fn: Any, *args: Any, **kwargs: Any) -> str:
    """Call ``fn``, expect an ApiException with ``status`` and a ``{code, message}`` body."""
    with pytest.raises(ApiException) as info:
        fn(*args, **kwargs)
    exc = info.value
    assert exc.status == status, exc.body
    body = orjson.loads(exc.body)
    assert body["code"] == status
    assert isinstance(body["message"], str) and body["message"]
    assert "Traceback" not in body["message"]
    return str(body["message"])


def send(
    checker: Any,
    server: Any,
    method: str,
    path: str,
    token: str | None = None,
    body: Any = None,
    **headers: str,
) -> urllib3.BaseHTTPResponse:
    """A raw request (for what the generated client cannot send), validated against the spec."""
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = body if isinstance(body, bytes) or body is None else orjson.dumps(body)
    r = urllib3.request(method, server.url + path, body=data, headers=headers)
    checker.check(method, server.url + path, r.status, dict(r.headers), r.data)
    return r


def token_of(api: Any) -> str:
    return str(api.api_client.configuration.api_key["Authorization"])


# ---------------------------------------------------------------------------------- version


def test_get_version_has_all_nine_keys(checked_api: Any) -> None:
    version = checked_api.get_version().to_dict()
    assert set(version) == VERSION_KEYS
    assert all(isinstance(v, str) and v for v in version.values())


# ---------------------------------------------------------------------------------- auth


def test_login_with_legacy_license_id_and_stale_bearer(
    amber_server: Any, spec_checker: Any
) -> None:
    r = send(
        spec_checker,
        amber_server,
        "POST",
        "/oauth2/access",
        body={"licenseId": amber_server.license_key, "secretKey": amber_server.secret_key},
        Authorization="Bearer stale-token-is-ignored",
    )
    assert r.status == 200, r.data
    tokens = orjson.loads(r.data)
    assert tokens["tokenType"] == "Bearer"
    assert isinstance(tokens["expiresIn"], str) and int(tokens["expiresIn"]) > 60
    r = send(
        spec_checker,
        amber_server,
        "POST",
        "/oauth2/refresh",
        body={"refreshToken": tokens["refreshToken"]},
        Authorization="Bearer also-stale",
    )
    assert r.status == 200, r.data
    assert orjson.loads(r.data)["refreshToken"] != tokens["refreshToken"]


def test_login_and_auth_errors(
    amber_server: Any, spec_checker: Any, spec_instrument: Any, checked_api: Any
) -> None:
    anonymous = spec_instrument(
        v2.DefaultApi(v2.ApiClient(v2.Configuration(host=amber_server.url)))
    )
    bad = v2.PostOauth2AccessRequest(licenseKey=amber_server.license_key, secretKey="wrong")
    expect_error(401, anonymous.post_oauth2_access, bad)
    expect_error(401, anonymous.post_oauth2_refresh, v2.PostOauth2RefreshRequest(refreshToken="x"))
    assert "Authorization" in expect_error(401, anonymous.get_models)
    msg = send(spec_checker, amber_server, "GET", "/models", token="not-a-token")
    assert msg.status == 401
    r = send(spec_checker, amber_server, "POST", "/oauth2/access", body={"secretKey": "s"})
    assert r.status == 400 and b"licenseKey" in r.data
    r = send(spec_checker, amber_server, "POST", "/oauth2/access", body=b"{not json")
    assert r.status == 400 and b"JSON" in r.data
    r = send(spec_checker, amber_server, "POST", "/oauth2/access", body=b"[1, 2]")
    assert r.status == 400


def test_unknown_route_answers_json_404(amber_server: Any, checked_api: Any) -> None:
    r = urllib3.request("GET", amber_server.url + "/no/such/thing")
    assert r.status == 404
    assert orjson.loads(r.data) == {"code": 404, "message": "not found"}
    r = urllib3.request("PATCH", amber_server.url + "/models")
    assert r.status == 405 and orjson.loads(r.data)["code"] == 405


# ---------------------------------------------------------------------------------- models


def test_model_crud(checked_api: Any, make_model: Any) -> None:
    created = checked_api.post_model(v2.PostModelRequest(label="crud-1"))
    for stamp in (created.created, created.modified):
        datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    got = checked_api.get_model(created.id)
    assert got.to_dict() == created.to_dict()
    assert len(created.id) == 24
    plain = checked_api.get_models().model_list
    assert {"id": created.id, "label": "crud-1"} in [m.to_dict() for m in plain]
    verbose = checked_api.get_models(verbose="true").model_list
    assert created.to_dict() in [m.to_dict() for m in verbose]
    renamed = checked_api.put_model(v2.PutModelRequest(label="crud-2"), created.id)
    assert renamed.label == "crud-2" and renamed.created == created.created
    assert renamed.modified >= created.modified
    deleted = checked_api.delete_model(created.id)
    assert deleted.code == 200 and created.id in deleted.message
    assert created.id in expect_error(404, checked_api.get_model, created.id)
    expect_error(404, checked_api.delete_model, created.id)
    expect_error(404, checked_api.put_model, v2.PutModelRequest(label="x"), created.id)


def test_model_label_validation(checked_api: Any, amber_server: Any, spec_checker: Any) -> None:
    token = token_of(checked_api)
    r = send(spec_checker, amber_server, "POST", "/models", token, body={"label": "no spaces"})
    assert r.status == 400 and b"label" in r.data
    r = send(spec_checker, amber_server, "POST", "/models", token, body={"label": 5})
    assert r.status == 400 and b"label" in r.data
    r = send(spec_checker, amber_server, "POST", "/models", token, body={})
    assert r.status == 200  # label is optional
    checked_api.delete_model(orjson.loads(r.data)["id"])


def test_copy_keeps_state_and_applies_label_rule(checked_api: Any, make_model: Any) -> None:
    src = make_model("source", features=1, window=5, buffering=100)
    checked_api.post_data(v2.PostDataRequest(data=csv_values(SIGNAL[:600])), src)
    copy = checked_api.post_model_copy(src)
    assert copy.label == "source" and copy.id != src  # no label: the source's is kept
    named = checked_api.post_model_copy(src, body=v2.PostModelCopyRequest(label="named"))
    assert named.label == "named"
    try:
        s1, s2 = checked_api.get_status(src), checked_api.get_status(copy.id)
        for key in ("state", "sample_count", "cluster_count"):
            assert getattr(s1, key) == getattr(s2, key)
        assert checked_api.get_config(copy.id).to_dict() == checked_api.get_config(src).to_dict()
        nxt = csv_values(SIGNAL[600:700])
        a1 = checked_api.post_data(v2.PostDataRequest(data=nxt), src).analytics.to_dict()
        a2 = checked_api.post_data(v2.PostDataRequest(data=nxt), copy.id).analytics.to_dict()
        assert a1 == a2
        unconfigured = make_model("plain")
        plain = checked_api.post_model_copy(unconfigured)
        assert plain.label == "plain"
        checked_api.delete_model(plain.id)
    finally:
        checked_api.delete_model(copy.id)
        checked_api.delete_model(named.id)
    expect_error(404, checked_api.post_model_copy, "0" * 24)


def test_migrate_has_no_v1_models(checked_api: Any) -> None:
    assert "v1" in expect_error(404, checked_api.post_model_migrate, "123456")


# ---------------------------------------------------------------------------------- config


def test_config_roundtrip_and_wipe(checked_api: Any, make_model: Any) -> None:
    model_id = make_model("cfg")
    assert "configuration" in expect_error(400, checked_api.get_config, model_id)
    body = v2.PostConfigRequest.from_dict(
        {
            "streamingWindow": 3,
            "percentVariation": 0.07,
            "features": [
                {"name": "a", "minVal": 0, "maxVal": 10, "weight": 2},
                {"name": "b", "fusionRule": "nosubmit", "fusionTTL": 60},
            ],
            "training": {"bufferingSamples": 20, "learningMaxClusters": 50},
            "autotuning": {"range": True, "percentVariation": False},
        }
    )
    cfg = checked_api.post_config(body, model_id)
    assert cfg.streaming_window == 3 and cfg.percent_variation == pytest.approx(0.07)
    assert [f.name for f in cfg.features] == ["a", "b"]
    assert cfg.features[0].min_max_defined and not cfg.features[1].min_max_defined
    assert cfg.training.buffering_samples == 20 and cfg.training.learning_max_clusters == 50
    assert checked_api.get_config(model_id).to_dict() == cfg.to_dict()
    data = np.column_stack([SIGNAL[:100] / 4, SIGNAL[100:200]])
    checked_api.post_data(v2.PostDataRequest(data=csv_values(data)), model_id)
    assert checked_api.get_status(model_id).sample_count > 0
    checked_api.post_config(body, model_id)  # wipes and restarts
    status = checked_api.get_status(model_id)
    assert status.state == "Buffering" and status.sample_count == 0


def test_config_errors_name_the_field(checked_api: Any, make_model: Any, amber_server: Any) -> None:
    model_id = make_model("cfg-err")
    dup = v2.PostConfigRequest.from_dict(
        {"streamingWindow": 1, "features": [{"name": "x"}, {"name": "x"}]}
    )
    assert "features[1].name" in expect_error(400, checked_api.post_config, dup, model_id)
    token = token_of(checked_api)
    path = f"/models/{model_id}/config"
    r = urllib3.request(
        "POST",
        amber_server.url + path,
        body=orjson.dumps({"streamingWindow": 1}),
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status == 400 and b"features" in r.data
    r = urllib3.request(
        "POST",
        amber_server.url + path,
        body=orjson.dumps({"streamingWindow": 1, "features": [{"name": "x", "weight": "heavy"}]}),
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status == 400 and b"features.0.weight" in r.data
    rule = {"streamingWindow": 1, "features": [{"name": "x", "fusionRule": "sometimes"}]}
    r = urllib3.request(
        "POST",
        amber_server.url + path,
        body=orjson.dumps(rule),
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status == 400 and b"fusionRule" in r.data
    expect_error(404, checked_api.post_config, dup, "f" * 24)


def test_unnamed_features_are_named_by_position(checked_api: Any, make_model: Any) -> None:
    model_id = make_model("cfg-unnamed")
    body = v2.PostConfigRequest.from_dict(
        {"streamingWindow": 1, "features": [{}, {"name": "b"}, {"minVal": 0, "maxVal": 1}]}
    )
    cfg = checked_api.post_config(body, model_id)
    assert [f.name for f in cfg.features] == ["feature-0", "b", "feature-2"]
    assert [f.name for f in checked_api.get_config(model_id).features] == [
        "feature-0",
        "b",
        "feature-2",
    ]
    assert cfg.features[2].min_max_defined
    # fusion and root cause use the names the server gave
    fused = v2.PutDataRequest.from_dict({"vector": [{"name": "feature-2", "value": 0.5}]})
    assert checked_api.put_data(fused, model_id).vector["feature-2"] == 0.5
    clash = v2.PostConfigRequest.from_dict(
        {"streamingWindow": 1, "features": [{}, {"name": "feature-0"}]}
    )
    message = expect_error(400, checked_api.post_config, clash, model_id)
    assert "features[1].name" in message and "feature-0" in message
    assert [f.name for f in checked_api.get_config(model_id).features] == [
        "feature-0",
        "b",
        "feature-2",
    ]


# ---------------------------------------------------------------------------------- data


def test_post_data_streams_through_the_states(checked_api: Any, make_model: Any) -> None:
    model_id = make_model(
        "stream",
        features=1,
        window=10,
        buffering=200,
        training={"bufferingSamples": 200, "learningMaxSamples": 1000},
    )
    states = []
    for start in range(0, 2000, 250):
        chunk = SIGNAL[start : start + 250]
        reply = checked_api.post_data(v2.PostDataRequest(data=csv_values(chunk)), model_id)
        analytics = reply.analytics.to_dict()
        assert set(analytics) == {
            "ID",
            "RI",
            "SI",
            "AD",
            "AH",
            "AW",
            "NI",
            "NS",
            "NW",
            "OM",
            "CS",
            "PI",
        }
        assert all(len(v) == len(chunk) for v in analytics.values())
        states.append(reply.status.state)
    assert states[0] == "Autotuning"  # Buffering 200 vectors, then Autotuning waits 250
    assert states[-1] == "Monitoring"
    status = checked_api.get_status(model_id)
    assert status.sample_count == 2000 - 9
    assert status.graduation


def test_post_data_parsing(checked_api: Any, make_model: Any, amber_server: Any) -> None:
    unconfigured = make_model("raw")
    msg = expect_error(400, checked_api.post_data, v2.PostDataRequest(data="1,2"), unconfigured)
    assert "configuration" in msg
    model_id = make_model("parse", features=2, window=1, buffering=10)
    ok = checked_api.post_data(v2.PostDataRequest(data="1.0, 1e-05, 2 ,3,+4,.5"), model_id)
    assert len(ok.analytics.id) == 3
    for data, needle in [
        ("1,nan", "position 1"),
        ("1,2,inf,4", "position 2"),
        ("1,2,3,abc", "position 3"),
        ("1,,2,3", "position 1"),
        ("1_0,2", "position 0"),
        ("", "empty"),
    ]:
        assert needle in expect_error(
            400, checked_api.post_data, v2.PostDataRequest(data=data), model_id
        )
    msg = expect_error(400, checked_api.post_data, v2.PostDataRequest(data="1,2,3"), model_id)
    assert "3" in msg and "2" in msg and "multiple" in msg
    status = checked_api.get_status(model_id)
    assert status.sample_count == 3  # failed requests changed nothing
    token = token_of(checked_api)
    r = urllib3.request(
        "POST",
        f"{amber_server.url}/models/{model_id}/data",
        body=orjson.dumps({"data": [1, 2]}),
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status == 400 and b"data" in r.data
    expect_error(404, checked_api.post_data, v2.PostDataRequest(data="1"), "0" * 24)


def test_learning(checked_api: Any, make_model: Any) -> None:
    unconfigured = make_model("learn-raw")
    expect_error(
        400, checked_api.post_learning, v2.PostLearningRequest(state="Learning"), unconfigured
    )
    model_id = make_model(
        "learn", features=1, window=5, training={"bufferingSamples": 100, "learningMaxSamples": 300}
    )
    msg = expect_error(
        400, checked_api.post_learning, v2.PostLearningRequest(state="Learning"), model_id
    )
    assert "Buffering" in msg
    checked_api.post_data(v2.PostDataRequest(data=csv_values(SIGNAL[:600])), model_id)
    assert checked_api.get_status(model_id).state == "Monitoring"
    reply = checked_api.post_learning(
        v2.PostLearningRequest(
            state="Learning", training=v2.TrainingConfig(learningMaxSamples=5000)
        ),
        model_id,
    )
    assert reply.status.state == "Learning"
    assert reply.training.learning_max_samples == 5000
    clusters = reply.status.cluster_count
    reply = checked_api.post_learning(v2.PostLearningRequest(state="Buffering"), model_id)
    assert reply.status.state == "Buffering" and reply.status.cluster_count == clusters
    # Buffering 100 vectors, then Autotuning waits 125 more
    checked_api.post_data(v2.PostDataRequest(data=csv_values(SIGNAL[:200])), model_id)
    assert checked_api.get_status(model_id).state == "Autotuning"
    checked_api.post_data(v2.PostDataRequest(data=csv_values(SIGNAL[200:300])), model_id)
    assert checked_api.get_status(model_id).state in ("Learning", "Monitoring")


def test_fusion_put_data(checked_api: Any, make_model: Any) -> None:
    model_id = make_model(
        "fusion",
        features=3,
        window=1,
        buffering=5,
    )
    first = checked_api.put_data(
        v2.PutDataRequest(vector=[v2.FusionFeature(name="f0", value=1.0)]), model_id
    )
    assert first.vector == {"f0": 1.0, "f1": None, "f2": None}
    assert first.analytics.id == []
    full = checked_api.put_data(
        v2.PutDataRequest(
            vector=[v2.FusionFeature(name="f1", value=2.0), v2.FusionFeature(name="f2", value=3.0)],
            fusionRule="submit",
        ),
        model_id,
    )
    assert full.vector == {"f0": 1.0, "f1": 2.0, "f2": 3.0}
    assert len(full.analytics.id) == 1
    held = checked_api.put_data(
        v2.PutDataRequest(vector=[v2.FusionFeature(name="f1", value=2.5)], fusionRule="nosubmit"),
        model_id,
    )
    assert held.analytics.id == [] and held.vector["f1"] == 2.5
    msg = expect_error(
        400,
        checked_api.put_data,
        v2.PutDataRequest(vector=[v2.FusionFeature(name="nope", value=1.0)]),
        model_id,
    )
    assert "nope" in msg
    usage = checked_api.get_usage(model_id)
    assert usage.endpoints.put_data.total_calls == 3
    assert usage.total_samples == 3


def test_status_last_modified(checked_api: Any, make_model: Any) -> None:
    model_id = make_model("status", features=1)
    before = int(time.time())
    checked_api.post_data(v2.PostDataRequest(data="1,2,3"), model_id)
    status = checked_api.get_status(model_id)
    assert before - 1 <= status.last_modified <= time.time() + 1
    assert 0 <= status.last_modified_delta <= 2
    assert status.state == "Buffering" and status.progress is not None
    raw_status = checked_api.get_status(make_model("never-configured"))
    assert raw_status.state == "Buffering" and raw_status.sample_count == 0
    expect_error(404, checked_api.get_status, "0" * 24)


def test_nano_status_and_summary(checked_api: Any, make_model: Any) -> None:
    unconfigured = make_model("nano-raw")
    expect_error(400, checked_api.get_nano_status, unconfigured)
    expect_error(400, checked_api.get_summary, unconfigured)
    model_id = make_model("nano", features=1, window=5, buffering=100)
    checked_api.post_data(v2.PostDataRequest(data=csv_values(SIGNAL[:500])), model_id)
    nano = checked_api.get_nano_status(model_id)
    assert nano.cluster_count == checked_api.get_status(model_id).cluster_count
    assert len(nano.cluster_sizes) == nano.cluster_count + 1
    summary = checked_api.get_summary(model_id).to_dict()
    assert summary and isinstance(summary, dict)
    assert checked_api.get_summary(model_id, training_samples=True).to_dict()
    expect_error(404, checked_api.get_nano_status, "0" * 24)


def test_usage_counts_each_operation(checked_api: Any, make_model: Any) -> None:
    model_id = make_model("usage", features=1)
    checked_api.get_model(model_id)
    checked_api.get_config(model_id)
    checked_api.post_data(v2.PostDataRequest(data="1,2,3"), model_id)
    checked_api.post_data(v2.PostDataRequest(data="4"), model_id)
    checked_api.get_status(model_id)
    checked_api.post_outage(model_id)
    checked_api.get_pretrain(model_id)
    usage = checked_api.get_usage(model_id)
    assert usage.total_samples == 4
    ep = usage.endpoints.to_dict()
    assert set(ep) == {
        "getModel",
        "putModel",
        "postConfig",
        "postLearning",
        "getConfig",
        "postData",
        "putData",
        "getStatus",
        "postPretrain",
        "getPretrain",
        "getRootCause",
        "getUsage",
        "postOutage",
    }
    assert ep["postData"]["totalCalls"] == 2
    assert ep["postConfig"]["totalCalls"] == 1
    assert ep["getUsage"]["totalCalls"] == 1
    assert ep["putModel"] == {"totalCalls": 0, "lastCalled": ""}
    datetime.fromisoformat(ep["postData"]["lastCalled"].replace("Z", "+00:00"))


def test_outage_clears_the_window(checked_api: Any, make_model: Any) -> None:
    expect_error(400, checked_api.post_outage, make_model("outage-raw"))
    model_id = make_model("outage", features=1, window=4, buffering=10)
    checked_api.post_data(v2.PostDataRequest(data=csv_values(SIGNAL[:50])), model_id)
    count = checked_api.get_status(model_id).sample_count
    ack = checked_api.post_outage(model_id)
    assert ack.code == 200 and ack.message
    checked_api.post_data(v2.PostDataRequest(data=csv_values(SIGNAL[50:53])), model_id)
    assert checked_api.get_status(model_id).sample_count == count  # window refilling
    checked_api.post_data(v2.PostDataRequest(data=csv_values(SIGNAL[53:54])), model_id)
    assert checked_api.get_status(model_id).sample_count == count + 1


def test_root_cause(checked_api: Any, make_model: Any) -> None:
    model_id = make_model("rc", features=2, window=2, buffering=50)
    data = np.column_stack([SIGNAL[:400], SIGNAL[400:800] * 0.5])
    checked_api.post_data(v2.PostDataRequest(data=csv_values(data)), model_id)
    clusters = checked_api.get_status(model_id).cluster_count
    assert clusters >= 2
    bracketed = checked_api.get_root_cause(model_id, clusters="[1,2]").root_cause_list
    bare = checked_api.get_root_cause(model_id, clusters="1,2").root_cause_list
    assert [[f.to_dict() for f in row] for row in bracketed] == [
        [f.to_dict() for f in row] for row in bare
    ]
    assert len(bracketed) == 2 and [f.name for f in bracketed[0]] == ["f0", "f1"]
    assert all(0.0 <= f.value <= 1.0 for row in bracketed for f in row)
    vectors = checked_api.get_root_cause(model_id, vectors="[[20,10,21,10.5],[5,5,5,5]]")
    assert len(vectors.root_cause_list) == 2
    assert "Must specify" in expect_error(400, checked_api.get_root_cause, model_id)
    assert "Cannot specify both" in expect_error(
        400, checked_api.get_root_cause, model_id, clusters="[1]", vectors="[[1,2,3,4]]"
    )
    patterns = expect_error(400, checked_api.get_root_cause, model_id, vectors="1,2,3,4")
    assert patterns.startswith("must specify patterns(s) in the format [[0.1,0.2],[0.3,0.4]]")
    assert "bracketed" in patterns
    assert "4 values" in expect_error(400, checked_api.get_root_cause, model_id, vectors="[[1,2]]")
    ids = expect_error(400, checked_api.get_root_cause, model_id, clusters="[a]")
    assert ids.startswith("must specify cluster ID(s) in the format [1,2,3]: ") and "'[a]'" in ids
    assert "99999" in expect_error(400, checked_api.get_root_cause, model_id, clusters="[99999]")
    expect_error(400, checked_api.get_root_cause, make_model("rc-raw"), clusters="[1]")
    assert checked_api.get_usage(model_id).endpoints.get_root_cause.total_calls == 3


def test_diagnostic_is_a_tar_of_the_model_state(checked_api: Any, make_model: Any) -> None:
    from boonamber.local.engine import AmberModel

    model_id = make_model("diag", features=1, window=3, buffering=20)
    checked_api.post_data(v2.PostDataRequest(data=csv_values(SIGNAL[:100])), model_id)
    blob = checked_api.get_diagnostic(model_id)
    with tarfile.open(fileobj=io.BytesIO(blob)) as tar:
        names = {m.name.split("/")[-1]: m for m in tar.getmembers()}
        assert {"config.json", "status.json", "model.bin", "model.json", "usage.json"} <= set(names)
        config = orjson.loads(tar.extractfile(names["config.json"]).read())  # type: ignore[union-attr]
        status = orjson.loads(tar.extractfile(names["status.json"]).read())  # type: ignore[union-attr]
        engine = AmberModel.from_bytes(tar.extractfile(names["model.bin"]).read())  # type: ignore[union-attr]
    assert config["streamingWindow"] == 3
    assert status["sampleCount"] == engine.status().sample_count == 98
    raw_blob = checked_api.get_diagnostic(make_model("diag-raw"))
    with tarfile.open(fileobj=io.BytesIO(raw_blob)) as tar:
        assert "model.bin" not in {m.name.split("/")[-1] for m in tar.getmembers()}
    expect_error(404, checked_api.get_diagnostic, "0" * 24)


# ---------------------------------------------------------------------------------- pretrain


@pytest.mark.parametrize("fmt", ["csv", "b64float", "packed-float"])
def test_pretrain_whole(checked_api: Any, make_model: Any, fmt: str) -> None:
    model_id = make_model("pre", features=1, window=5)
    assert checked_api.get_pretrain(model_id).status == "None"
    values = SIGNAL[:3000].astype(np.float32)
    if fmt == "csv":
        data = csv_values(values)
    else:
        data = base64.b64encode(values.astype("<f4").tobytes()).decode()
    info = checked_api.post_pretrain_with_http_info(
        v2.PostPretrainRequest(data=data, format=fmt), model_id
    )
    assert info.status_code in (200, 202)
    assert info.data.txn_id and info.headers["txnId"] == info.data.txn_id
    assert info.data.chunkspec == "1:1"
    assert info.data.status == ("Pretrained" if info.status_code == 200 else "Pretraining")
    state = wait_pretrained(checked_api, model_id)
    assert state.status == "Pretrained"
    status = checked_api.get_status(model_id)
    assert status.state == "Monitoring" and status.graduation == "pretrain"
    assert status.sample_count == 3000 - 4
    assert checked_api.get_usage(model_id).total_samples == 3000


def test_pretrain_errors(checked_api: Any, make_model: Any) -> None:
    expect_error(
        400, checked_api.post_pretrain, v2.PostPretrainRequest(data="1,2"), make_model("p0")
    )
    model_id = make_model("perr", features=2)
    for body, needle in [
        (v2.PostPretrainRequest(data="1,2,3"), "multiple"),
        (v2.PostPretrainRequest(data="1,x"), "position 1"),
        (v2.PostPretrainRequest(data="!!", format="b64float"), "base64"),
        (
            v2.PostPretrainRequest(data=base64.b64encode(b"abc").decode(), format="b64float"),
            "float32",
        ),
    ]:
        assert needle in expect_error(400, checked_api.post_pretrain, body, model_id)
    for spec, needle in [("0:1", "chunkspec"), ("3:2", "out of range"), ("a:b", "chunkspec")]:
        msg = expect_error(
            400,
            checked_api.post_pretrain,
            v2.PostPretrainRequest(data="1,2"),
            model_id,
            chunkspec=spec,
        )
        assert needle in msg
    msg = expect_error(
        400, checked_api.post_pretrain, v2.PostPretrainRequest(data="1,2"), model_id, txn_id="nope"
    )
    assert "unknown txnId" in msg
    assert checked_api.get_pretrain(model_id).status == "None"
    expect_error(404, checked_api.get_pretrain, "0" * 24)


# ---------------------------------------------------------------------------------- coverage


def test_every_operation_was_exercised(spec_checker: Any) -> None:
    """Runs last in this module: each spec operation answered (2xx) on the wire at least once."""
    seen_ok = {(m, t) for m, t, s in spec_checker.seen if s < 300}
    missing = []
    for template, item in spec_checker.raw["paths"].items():
        for method in item:
            if (
                method in ("get", "post", "put", "delete")
                and (method.upper(), template) not in seen_ok
            ) and template != "/models/{v1ModelId}/migrate":  # no v1 models here: 404 only
                missing.append(f"{method.upper()} {template}")
    assert not missing, missing
    statuses = {s for _, _, s in spec_checker.seen}
    assert {200, 400, 401, 404} <= statuses
