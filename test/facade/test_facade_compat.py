"""``AmberV2Client``: code written for the official ``boonamber`` 2.x client, run against the
local server over HTTP, with the official call forms (positional arguments, ``to_dict()``,
``except ApiException``)."""

from __future__ import annotations

import io
import json
import socket
import tarfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from helpers import VERSION_KEYS, write_license_file

import boonamber
from boonamber import (
    AmberCloudError,
    AmberUserError,
    AmberV2Client,
    ApiException,
    AutotuneConfig,
    FeatureConfig,
    FusionFeature,
    NotFoundError,
    PostConfigRequest,
    PostLearningRequest,
    PostModelCopyRequest,
    PostModelRequest,
    PutDataRequest,
    TrainingConfig,
    float_list_to_csv_string,
)
from boonamber.facade.compat_results import OfficialResult, official_dict
from boonamber.v2 import exceptions as generated

#: Fast retries (the defaults wait seconds).
FAST_RETRY = boonamber.facade.RetryPolicy(max_retries=3, initial_backoff=0.01, max_backoff=0.05)

SIGNAL = np.sin(np.arange(3000) / 15.0) * 5 + 10


@pytest.fixture
def make_v2(clean_env: Path) -> Iterator[Callable[..., AmberV2Client]]:
    """``make_v2(target, **kwargs)``: an AmberV2Client of a server or proxy (fast retries)."""
    clients: list[AmberV2Client] = []

    def make(target: Any, server: Any = None, **kwargs: Any) -> AmberV2Client:
        server = server or target
        kwargs.setdefault("max_retries", FAST_RETRY)
        client = AmberV2Client(
            server=getattr(target, "url", target),
            license_key=server.license_key,
            secret_key=server.secret_key,
            **kwargs,
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def amber(amber_server: Any, make_v2: Callable[..., AmberV2Client]) -> AmberV2Client:
    return make_v2(amber_server)


@pytest.fixture
def model(amber: AmberV2Client) -> Iterator[str]:
    """A configured 1-feature model (window 25) that has learned a sine; deleted afterwards."""
    model_id = amber.post_model(PostModelRequest(label="official")).id
    training = TrainingConfig(buffering_samples=200, learning_max_samples=1500)
    amber.post_config(
        model_id, PostConfigRequest(25, features=[FeatureConfig("signal")], training=training)
    )
    amber.post_data(model_id, SIGNAL[:2000])
    yield model_id
    amber.delete_model(model_id)


# ------------------------------------------------------------------ top level
def test_top_level_has_the_official_names() -> None:
    import boonamber.v2.models as generated_models

    for name in generated_models.__all__:  # every model, as the official star import
        assert getattr(boonamber, name) is getattr(generated_models, name)
    assert boonamber.ApiException is generated.ApiException
    for cls in (boonamber.AmberError, AmberCloudError, AmberUserError, NotFoundError):
        assert issubclass(cls, ApiException)
    assert issubclass(boonamber.ServerError, generated.ServiceException)
    assert issubclass(NotFoundError, generated.NotFoundException)


def test_float_list_to_csv_string_as_the_official_helper() -> None:
    assert float_list_to_csv_string([1, 2, 3]) == ("1.0,2.0,3.0", 3)
    assert float_list_to_csv_string([[1, 2.5], [3, 4]]) == ("1.0,2.5,3.0,4.0", 4)
    assert float_list_to_csv_string(7) == ("7.0", 1)
    assert float_list_to_csv_string(np.array([0.5, 1e-05])) == ("0.5,1e-05", 2)
    assert float_list_to_csv_string(["1", " 2.5"]) == ("1.0,2.5", 2)
    # the official helper raises a bare ValueError; ours names the problem
    for bad, words in (
        ([], "empty"),
        ([[1, 2], [3]], "ragged"),
        ([1, "x"], r"data\[1\] is not a number"),
    ):
        with pytest.raises(AmberUserError, match=words) as info:
            float_list_to_csv_string(bad)
        assert isinstance(info.value, ApiException)


# ------------------------------------------------------------------ constructor
def test_explicit_keywords_beat_environment_and_license_file(
    amber_server: Any, clean_env: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # the official client lets the file and then the environment override the keywords,
    # and raises when the file lacks the named profile even with every credential given
    lic = write_license_file(
        tmp_path / "lic", {"other": {"server": "http://127.0.0.1:9/v2", "license-key": "x"}}
    )
    monkeypatch.setenv("AMBER_LICENSE_FILE", str(lic))
    monkeypatch.setenv("AMBER_SERVER", "http://127.0.0.1:9/v2")
    monkeypatch.setenv("AMBER_LICENSE_KEY", "wrong")
    amber = AmberV2Client(
        server=amber_server.url,
        license_key=amber_server.license_key,
        secret_key=amber_server.secret_key,
        profile_name="missing",
        timeout=5,
    )
    with amber:
        assert amber.server == amber_server.url and amber.oauth_server == amber_server.url
        assert amber.license_key == amber_server.license_key
        assert amber.timeout == (5.0, 5.0)
        assert set(amber.get_version().to_dict()) == {k.replace("-", "_") for k in VERSION_KEYS}


def test_license_file_profile_and_license_id_alias(amber_server: Any, tmp_path: Path) -> None:
    lk, sk = amber_server.create_account()
    lic = write_license_file(
        tmp_path / "lic",
        {
            "default": {"server": "http://127.0.0.1:9/v2", "license-key": "x", "secret-key": "y"},
            "work": {"server": amber_server.url, "license-key": lk, "secret-key": sk},
        },
    )
    for kwargs in ({"profile_name": "work"}, {"license_id": "work"}):
        with AmberV2Client(license_file=str(lic), **kwargs) as amber:
            assert amber.profile_name == "work" and amber.license_file == str(lic)
            assert amber.get_models().to_dict() == {"model_list": []}
    with pytest.raises(ApiException, match="profile 'nope' not found"):
        AmberV2Client(license_file=str(lic), license_id="nope")
    with pytest.raises(AmberUserError, match="disagree"):
        AmberV2Client(license_file=str(lic), profile_name="work", license_id="default")


def test_profile_dict(amber_server: Any, clean_env: Path) -> None:
    profile = {
        "server": amber_server.url,
        "license-key": amber_server.license_key,
        "secret-key": amber_server.secret_key,
    }
    with AmberV2Client(profile=profile) as amber:
        assert amber.get_version().api_version
    with AmberV2Client(profile=profile, server="http://127.0.0.1:9/v2") as amber:
        assert amber.server == "http://127.0.0.1:9/v2"  # keywords beat the profile
    with pytest.raises(AmberUserError, match="profile must be a dict"):
        AmberV2Client(profile="default")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "verified"),
    [
        ({}, True),
        ({"verify_ssl": "false"}, False),
        ({"verify_ssl": "true"}, True),
        ({"verify_ssl": False}, False),  # the official client crashes on a bool
        ({"verify_ssl": ""}, True),  # the official default, meaning "not set"
        ({"verify": False}, False),
        ({"verify": "0"}, False),
        ({"verify_ssl": "false", "verify": False}, False),
    ],
)
def test_verify_ssl_and_verify(clean_env: Path, kwargs: dict[str, Any], verified: bool) -> None:
    amber = AmberV2Client(
        server="https://127.0.0.1:9/v2", license_key="k", secret_key="s", **kwargs
    )
    with amber:
        assert amber._transport.config.verify_ssl is verified


OK = {"server": "http://127.0.0.1:9/v2", "license_key": "k", "secret_key": "s"}


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({}, "no server configured"),
        ({"server": OK["server"]}, "no license key configured"),
        ({"server": OK["server"], "license_key": "k"}, "no secret key configured"),
        ({**OK, "verify_ssl": "true", "verify": False}, "verify_ssl and verify disagree"),
        ({**OK, "verify_ssl": "maybe"}, "CA bundle"),
        ({**OK, "colour": "blue"}, "unknown keyword argument(s): colour"),
        ({**OK, "timeout": -1}, "timeout"),
    ],
)
def test_configuration_errors_are_clear_api_exceptions(
    clean_env: Path, kwargs: dict[str, Any], words: str
) -> None:
    with pytest.raises(ApiException) as info:
        AmberV2Client(**kwargs)
    assert isinstance(info.value, AmberUserError)
    assert words in str(info.value)
    # the official client put the text in .status; ours keeps status for HTTP statuses
    assert info.value.status is None and words in info.value.reason


def test_token_attributes_and_forced_refresh(
    amber_server: Any, make_proxy: Callable[[str], Any], make_v2: Any
) -> None:
    proxy = make_proxy(amber_server.url)
    amber = make_v2(proxy.url, amber_server)
    assert (amber.access_token, amber.refresh_token, amber.expires_in) == ("", "", 0)
    assert amber.reauth_time == 0
    amber.get_version()
    assert amber.access_token and amber.refresh_token
    assert amber.expires_in == int(amber_server.token_ttl)
    assert time.time() < amber.reauth_time <= time.time() + amber_server.token_ttl
    for secret in (amber_server.secret_key, amber.access_token, amber.refresh_token):
        assert secret not in repr(amber)
    # official tests force a refresh this way and expect a new refresh token
    old_refresh, old_token = amber.refresh_token, amber.access_token
    amber.reauth_time = 0
    amber.get_version()
    assert amber.refresh_token != old_refresh and amber.access_token != old_token
    assert len(proxy.requests("POST", "/oauth2/refresh")) == 1
    assert len(proxy.requests("POST", "/oauth2/access")) == 1
    # and the refresh carries no (stale) bearer token
    assert proxy.requests("POST", "/oauth2/refresh")[0].header("Authorization") is None


# ------------------------------------------------------------------ methods
def test_model_methods_with_official_call_forms(amber: AmberV2Client) -> None:
    created = amber.post_model(PostModelRequest(label="official-models"))
    assert isinstance(created, OfficialResult)
    model_id = created.id
    assert amber.post_model(metadata=PostModelRequest("kw")).label == "kw"
    assert amber.get_model(model_id).label == "official-models"
    assert amber.get_model(model_id=model_id).to_dict()["id"] == model_id
    models = amber.get_models().to_dict()["model_list"]
    assert model_id in [m["id"] for m in models]
    assert amber.update_label(model_id, "renamed").label == "renamed"
    assert amber.put_model(model_id, boonamber.PutModelRequest(label="put")).label == "put"
    for other in [
        m["id"] for m in amber.get_models().to_dict()["model_list"] if m["id"] != model_id
    ]:
        if amber.get_model(other).label == "kw":
            assert amber.delete_model(other).to_dict()["code"] == 200
    deleted = amber.delete_model(model_id)  # the official client drops this answer
    assert deleted.to_dict() == {"code": 200, "message": f"model {model_id} deleted"}
    with pytest.raises(ApiException) as info:
        amber.get_model(model_id)
    assert isinstance(info.value, NotFoundError)
    with pytest.raises(ApiException) as info:
        amber.migrate_model("123456")  # v1 models do not exist locally
    assert info.value.status == 404


def test_configure_with_nameless_and_positional_features(amber: AmberV2Client) -> None:
    model_id = amber.post_model(PostModelRequest("nameless")).id
    try:
        features = [FeatureConfig(), FeatureConfig("b", 0.0, 10.0, 2), FeatureConfig()]
        body = PostConfigRequest(1, None, features, TrainingConfig(buffering_samples=50))
        config = amber.post_config(model_id, body)
        assert [f["name"] for f in config.to_dict()["features"]] == ["feature-0", "b", "feature-2"]
        assert config.features[1].weight == 2 and config.features[1].min_max_defined
        fetched = amber.get_config(model_id=model_id)
        assert fetched.to_dict() == config.to_dict()
        assert round(fetched.percent_variation, 2) == 0.05
        # the same through AmberClient.configure (two nameless features used to crash it)
        amber.configure(model_id, [FeatureConfig(), FeatureConfig()], streaming_window=1)
        assert [f.name for f in amber.get_config(model_id).features] == ["feature-0", "feature-1"]
        with pytest.raises(AmberUserError, match="repeated: feature-0"):
            amber.configure(model_id, [FeatureConfig(), FeatureConfig("feature-0")])
    finally:
        amber.delete_model(model_id)


def test_data_status_and_analysis(amber: AmberV2Client, model: str) -> None:
    text = ",".join(str(v) for v in SIGNAL[2000:2100])
    as_strings = [str(v) for v in SIGNAL[2100:2200]]  # how official tests read a CSV
    for result in (
        amber.post_data(model, text, False),
        amber.post_data(model, as_strings),
        amber.post_data(model_id=model, data=SIGNAL[2200:2300], save_image=False),
        amber.post_data(model, list(SIGNAL[2300:2400])),
    ):
        assert result.status.state == "Monitoring"
        assert len(result.analytics.id) == 100
        shape = result.to_dict()
        assert shape["status"]["state"] == "Monitoring" and type(shape["status"]["state"]) is str
        assert len(shape["analytics"]["si"]) == 100 and set(shape["analytics"]) >= {"id", "ri"}
        json.dumps(shape)
    status = amber.get_status(model)
    assert status.state == "Monitoring" and status.cluster_count >= 2
    assert status.to_dict()["cluster_count"] == status.cluster_count
    nano = amber.get_nano_status(model_id=model)
    assert nano.cluster_count == status.cluster_count and nano.to_dict()["state"] == "Monitoring"

    assert len(amber.get_root_cause(model, clusters=[1, 2]).root_cause_list) == 2
    assert len(amber.get_root_cause(model, [1]).root_cause_list) == 1  # positional clusters
    assert len(amber.get_root_cause(model_id=model, clusters=1).root_cause_list) == 1
    assert len(amber.get_root_cause(model, clusters="1,2").root_cause_list) == 2
    assert len(amber.get_root_cause(model, vectors=list(SIGNAL[:25])).root_cause_list) == 1
    two = amber.get_root_cause(model, None, [list(SIGNAL[:25]), list(SIGNAL[25:50])])
    rows = two.to_dict()["root_cause_list"]
    assert len(rows) == 2 and set(rows[0][0]) == {"name", "value"}
    # the official client returns None when neither is given
    with pytest.raises(ApiException, match="exactly one"):
        amber.get_root_cause(model)
    with pytest.raises(ApiException, match=r"must specify cluster ID\(s\) in the format"):
        amber.get_root_cause(model, clusters=[[[1]]])
    with pytest.raises(ApiException, match=r"must specify patterns\(s\) in the format"):
        amber.get_root_cause(model, vectors="[1,2")
    with pytest.raises(ApiException) as info:
        amber.get_root_cause(model, vectors=[1.0] * 3)  # wrong pattern length: the server
    assert info.value.status == 400 and "25" in str(info.value)

    outage = amber.post_outage(model)  # the official client drops this answer
    assert outage.to_dict()["code"] == 200
    assert amber.get_status(model).state == "Monitoring"
    summary = amber.get_summary(model).to_dict()
    assert summary["state"] == "Monitoring" and "clusterCount" in summary  # free-form keys


def test_learning_fusion_and_copy(amber: AmberV2Client, model: str) -> None:
    training = TrainingConfig(buffering_samples=100, learning_max_samples=500)
    learning = PostLearningRequest(state="Learning", training=training)
    assert amber.enable_learning(model, learning).status.state == "Learning"
    # later official versions pass the fields as keywords
    again = amber.enable_learning(model_id=model, training=training, autotuning=AutotuneConfig())
    assert again.to_dict()["status"]["state"] == "Learning"

    fused = amber.put_data(model, PutDataRequest(vector=[FusionFeature("signal", 10.5)]))
    assert fused.vector == {"signal": 10.5}
    body = PutDataRequest(vector=[FusionFeature(name="signal", value=11.0)])
    keyword = amber.put_data(model_id=model, body=body)
    assert keyword.to_dict()["vector"] == {"signal": 11.0}
    assert len(keyword.analytics.id) == 1

    copy = amber.copy_model(model)  # keeps the label (the server used to add "-copy")
    named = amber.copy_model(model, "named-copy")
    request = amber.copy_model(model, PostModelCopyRequest("from-request"))
    try:
        assert copy.label == "official" and copy.id != model
        assert named.label == "named-copy" and request.label == "from-request"
        assert amber.get_status(copy.id).cluster_count == amber.get_status(model).cluster_count
    finally:
        for m in (copy, named, request):
            amber.delete_model(m.id)


def test_get_diagnostic_writes_the_tar(amber: AmberV2Client, model: str, tmp_path: Path) -> None:
    path = amber.get_diagnostic(model, tmp_path)
    assert path == str(tmp_path / f"{model}-diagnostic.tar")
    with tarfile.open(path) as tar:
        assert any(name.endswith("model.json") for name in tar.getnames())
    keyword = amber.get_diagnostic(model_id=model, dir=str(tmp_path))
    assert Path(keyword).stat().st_size == Path(path).stat().st_size
    with pytest.raises(ApiException, match="target directory does not exist"):
        amber.get_diagnostic(model, str(tmp_path / "bogus" / "path"))


def test_post_pretrain_counts_chunk_size_in_bytes(
    amber_server: Any, make_proxy: Callable[[str], Any], make_v2: Any
) -> None:
    proxy = make_proxy(amber_server.url)
    amber = make_v2(proxy.url, amber_server)
    model_id = amber.post_model(PostModelRequest("pretrain")).id
    try:
        amber.post_config(model_id, PostConfigRequest(25, features=[FeatureConfig()]))
        data = ",".join(str(v) for v in SIGNAL)  # 3000 values
        done = amber.post_pretrain(model_id, data, 4000, True)  # 4000 bytes = 1000 values
        assert done.status == "Pretrained" and done.to_dict()["status"] == "Pretrained"
        chunks = [s.header("chunkspec") for s in proxy.requests("POST", "/pretrain")]
        assert sorted(chunks) == ["1:3", "2:3", "3:3"]
        assert amber.get_status(model_id).state == "Monitoring"
        answer = amber.post_pretrain(model_id, [str(v) for v in SIGNAL], block=False)
        assert answer.status in ("Pretraining", "Pretrained") and answer.to_dict()["txn_id"]
        for _ in range(200):
            if amber.get_pretrain(model_id).status == "Pretrained":
                break
            time.sleep(0.05)
        assert amber.get_pretrain(model_id=model_id).to_dict()["status"] == "Pretrained"
        proxy.clear()
        # the official client divides by zero or splits values; ours says what is wrong
        for bad in (0, -4, 2.5, True):
            with pytest.raises(AmberUserError, match="chunk_size"):
                amber.post_pretrain(model_id, data, bad)
        with pytest.raises(AmberUserError, match="empty"):
            amber.post_pretrain(model_id, [])  # the official client: UnboundLocalError
        assert proxy.requests("POST", "/pretrain") == []
    finally:
        amber.delete_model(model_id)


# ------------------------------------------------------------------ errors
def test_every_error_is_an_api_exception_with_its_attributes(
    amber: AmberV2Client, amber_server: Any, make_proxy: Any, make_v2: Any
) -> None:
    with pytest.raises(ApiException) as info:
        amber.get_status("0" * 24)
    error = info.value
    assert isinstance(error, NotFoundError) and isinstance(error, generated.NotFoundException)
    assert (error.status, error.reason) == (404, "Not Found")
    assert json.loads(error.body)["code"] == 404
    headers = {key.lower(): value for key, value in error.headers.items()}
    assert headers["content-type"].startswith("application/json")
    assert "model 000000000000000000000000 not found" in str(error)

    with pytest.raises(ApiException) as info:  # ragged data: the official raw ValueError
        amber.post_data("0" * 24, [[1, 2], [3]])
    assert isinstance(info.value, AmberUserError) and "ragged" in str(info.value)

    proxy = make_proxy(amber_server.url)
    faulty = make_v2(proxy.url, amber_server, max_retries=0)
    for status, cls in ((500, boonamber.ServerError), (429, boonamber.RateLimitError)):
        proxy.clear()
        body = json.dumps({"code": status, "message": "injected"}).encode()
        proxy.add_rule(lambda s: s.path.endswith("/version"), respond=(status, {}, body))
        with pytest.raises(ApiException) as info:
            faulty.get_version()
        assert type(info.value) is cls and info.value.status == status
        assert info.value.message == "injected"

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    dead = make_v2(f"http://127.0.0.1:{port}/v2", amber_server, max_retries=0)
    with pytest.raises(ApiException) as info:
        dead.get_version()  # the official client turns this into 401 "invalid credentials"
    assert isinstance(info.value, boonamber.AmberConnectionError)
    assert info.value.status is None and "could not connect" in str(info.value)

    wrong = AmberV2Client(server=amber_server.url, license_key="nobody", secret_key="nothing")
    with wrong, pytest.raises(ApiException) as info:
        wrong.get_version()
    assert isinstance(info.value, boonamber.AuthenticationError)
    assert info.value.status == 401 and "login rejected" in str(info.value)


# ------------------------------------------------------------------ to_dict shape
def test_official_dict_shape() -> None:
    status = boonamber.ModelStatus.from_dict(
        {"state": "Learning", "clusterCount": 3, "sampleCount": 10}
    )
    assert status is not None
    shaped = official_dict(status)
    assert list(shaped) == list(boonamber.ModelStatus.attribute_map)  # every field, in order
    assert shaped["state"] == "Learning" and type(shaped["state"]) is str
    assert shaped["cluster_count"] == 3 and shaped["message"] is None
    response = boonamber.GetModelsResponse.from_dict({"modelList": [{"id": "a", "label": "b"}]})
    assert response is not None
    assert official_dict(response) == {
        "model_list": [{"id": "a", "label": "b", "created": None, "modified": None}]
    }
    result = OfficialResult(response)
    assert result["modelList"] == [{"id": "a", "label": "b"}]  # still our wire-keyed dict
    unset = OfficialResult.from_wire({"state": "Learning"}, boonamber.ModelStatus)
    assert unset.state == "Learning" and unset.graduation is None  # as the official models
    with pytest.raises(AttributeError):
        unset.no_such_field  # noqa: B018
    assert result.model_list[0].id == "a" and result.to_dict() == official_dict(response)
    assert "model_list" in result.to_str()
    assert io.StringIO(json.dumps(result.to_dict())).read().startswith('{"model_list"')
