"""Every AmberClient method against the local server, over HTTP."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from helpers import VERSION_KEYS

from boonamber import AmberClient, AmberCloudError, AmberUserError
from boonamber.facade import AmberResult
from boonamber.v2 import models as v2


def test_get_version_is_a_typed_model_and_a_wire_mapping(client: AmberClient) -> None:
    version = client.get_version()
    assert isinstance(version, AmberResult)
    assert isinstance(version.model, v2.GetVersionResponse)
    printed = json.loads(json.dumps(version, indent=4))
    assert set(printed) == VERSION_KEYS
    assert version["api-version"] == version.api_version == version.model.api_version


def test_model_lifecycle(client: AmberClient) -> None:
    created = client.post_model("lifecycle")
    assert isinstance(created.model, v2.PostModelResponse)
    model_id = created["id"]
    assert created["label"] == "lifecycle"
    assert client.get_model(model_id)["label"] == "lifecycle"

    listed = client.get_models()
    assert isinstance(listed.model, v2.GetModelsResponse)
    assert model_id in [m["id"] for m in listed["modelList"]]
    verbose = client.get_models(verbose=True)
    entry = next(m for m in verbose["modelList"] if m["id"] == model_id)
    assert "created" in entry

    assert client.put_model(model_id, label="renamed")["label"] == "renamed"
    assert client.put_model(model_id, "again")["label"] == "again"
    assert client.put_model(model_id, v2.PutModelRequest(label="third"))["label"] == "third"
    assert client.post_model(v2.PostModelRequest(label="from-model"))["label"] == "from-model"

    deleted = client.delete_model(model_id)
    assert isinstance(deleted.model, v2.DeleteModelResponse)
    with pytest.raises(AmberCloudError) as info:
        client.get_model(model_id)
    error = info.value
    assert error.status == error.code == 404
    assert error.method == "GET" and error.path == f"/models/{model_id}"
    assert model_id in error.message
    assert json.loads(error.body or "{}")["code"] == 404
    assert str(error).startswith("404: ")


def test_copy_and_migrate(client: AmberClient, new_model: Any) -> None:
    model_id = new_model(client, 2)
    copy = client.copy_model(model_id, "the-copy")
    assert copy["label"] == "the-copy" and copy["id"] != model_id
    assert client.get_config(copy["id"])["features"][1]["name"] == "feature-1"
    default_copy = client.copy_model(model_id)
    assert default_copy["id"] not in (model_id, copy["id"])
    with pytest.raises(AmberCloudError) as info:
        client.migrate_model("0123456789abcdef01234567")
    assert info.value.status == 404
    assert info.value.method == "POST"


def test_configure_variants(client: AmberClient) -> None:
    model_id = client.post_model("cfg")["id"]
    config = client.configure(model_id, 3, streaming_window=5)
    assert isinstance(config.model, v2.PostConfigResponse)
    assert [f["name"] for f in config["features"]] == ["feature-0", "feature-1", "feature-2"]
    assert config["streamingWindow"] == 5

    config = client.configure(
        model_id,
        [
            "temp",
            {"name": "rpm", "minVal": 0, "maxVal": 5000},
            v2.FeatureConfig(name="load", weight=3),
        ],
        percent_variation=0.1,
        training={"buffering_samples": 50, "learningMaxSamples": 500},
        autotune={"percent_variation": False},
    )
    features = {f["name"]: f for f in config["features"]}
    assert features["rpm"]["maxVal"] == 5000 and features["load"]["weight"] == 3
    assert config["percentVariation"] == pytest.approx(0.1)
    assert config["training"]["bufferingSamples"] == 50
    assert config["autotuning"] == {"range": True, "percentVariation": False}

    again = client.get_config(model_id)
    assert again == config

    # the generated request model and plain keywords both work for post_config
    body = v2.PostConfigRequest(streamingWindow=2, features=[v2.FeatureConfig(name="a")])
    assert client.post_config(model_id, body)["streamingWindow"] == 2
    assert (
        client.post_config(model_id, streaming_window=3, features=["x", "y"])["features"][1]["name"]
        == "y"
    )
    # configuring from a previous answer (features carry minMaxDefined) works too
    assert client.post_config(model_id, streaming_window=1, features=config.model.features)


def test_learning_data_status_outage_and_usage(client: AmberClient, new_model: Any) -> None:
    model_id = new_model(client, 1, training={"bufferingSamples": 20})
    status = client.get_status(model_id)
    assert isinstance(status.model, v2.GetStatusResponse)
    assert status["state"] == "Buffering"

    rng = np.random.default_rng(1)
    result = client.post_data(model_id, rng.random(100))
    assert isinstance(result.model, v2.PostDataResponse)
    assert len(result["analytics"]["ID"]) == 100
    assert len(result.analytics.id) == 100
    assert result["status"]["sampleCount"] == 100

    put = client.put_data(model_id, {"feature-0": 0.5})
    assert isinstance(put.model, v2.PutDataResponse)
    assert put["vector"] == {"feature-0": 0.5}
    put = client.put_data(model_id, [("feature-0", 0.25)], fusion_rule="nosubmit")
    assert put["vector"]["feature-0"] == 0.25
    put = client.put_data(
        model_id, v2.PutDataRequest(vector=[v2.FusionFeature(name="feature-0", value=0.75)])
    )
    assert put["vector"]["feature-0"] == 0.75

    learning = client.post_learning(model_id, state="Learning", training={"learningMaxSamples": 9})
    assert isinstance(learning.model, v2.PostLearningResponse)
    assert learning["status"]["state"] == "Learning"
    learning = client.post_learning(model_id, v2.PostLearningRequest(state="Buffering"))
    assert learning["status"]["state"] == "Buffering"

    outage = client.post_outage(model_id)
    assert isinstance(outage.model, v2.Error)
    assert outage["code"] == 200

    usage = client.get_usage(model_id)
    assert isinstance(usage.model, v2.GetUsageResponse)
    assert usage["endpoints"]["postData"]["totalCalls"] >= 1
    assert usage["totalSamples"] >= 100


def test_root_cause_summary_nano_status_and_diagnostic(client: AmberClient, new_model: Any) -> None:
    model_id = new_model(client, 2, streaming_window=1, training={"bufferingSamples": 50})
    rng = np.random.default_rng(2)
    data = np.vstack([rng.normal(0, 1, (300, 2)), rng.normal(8, 1, (300, 2))])
    client.post_data(model_id, data)

    by_cluster = client.get_root_cause(model_id, clusters=[1, 2])
    assert isinstance(by_cluster.model, v2.GetRootCauseResponse)
    assert len(by_cluster["rootCauseList"]) == 2
    assert {f["name"] for f in by_cluster["rootCauseList"][0]} == {"feature-0", "feature-1"}
    assert len(client.get_root_cause(model_id, clusters=1)["rootCauseList"]) == 1
    assert len(client.get_root_cause(model_id, clusters="1,2")["rootCauseList"]) == 2
    assert len(client.get_root_cause(model_id, clusters="[1]")["rootCauseList"]) == 1
    assert len(client.get_root_cause(model_id, vectors=[0.5, 0.5])["rootCauseList"]) == 1
    two = client.get_root_cause(model_id, vectors=np.array([[0.1, 0.2], [8.0, 8.1]]))
    assert len(two["rootCauseList"]) == 2
    assert len(client.get_root_cause(model_id, vectors="[[0.1,0.2]]")["rootCauseList"]) == 1

    summary = client.get_summary(model_id)
    assert isinstance(summary.model, v2.GetSummaryResponse)
    assert len(summary) > 0
    assert client.get_summary(model_id, training_samples=True)

    nano = client.get_nano_status(model_id)
    assert isinstance(nano.model, v2.GetNanoStatusResponse)
    assert len(nano["clusterSizes"]) >= nano["clusterCount"] >= 1

    archive = client.get_diagnostic(model_id)
    assert isinstance(archive, bytes)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        assert tar.getnames()


def test_post_data_accepts_every_supported_shape(client: AmberClient, new_model: Any) -> None:
    model_id = new_model(client, 2)
    cases: list[Any] = [
        "1,2,3,4",
        "1,2\n3,4\n",
        [1.0, 2.0, 3.0, 4.0],
        (1, 2, 3, 4),
        [[1, 2], [3, 4]],
        [(1.5, 2.5), np.array([3.5, 4.5])],
        np.arange(4, dtype=np.int64),
        np.arange(4, dtype=np.float32).reshape(2, 2),
        np.arange(4, dtype=np.float64),
        pd.Series([1.0, 2.0, 3.0, 4.0]),
        pd.DataFrame({"a": [1.0, 3.0], "b": [2.0, 4.0]}),
        [np.float32(1.25), np.int16(2), 3, 4.0],
    ]
    before = client.get_status(model_id)["sampleCount"]
    for data in cases:
        client.post_data(model_id, data)
    assert client.get_status(model_id)["sampleCount"] == before + 2 * len(cases)
    one_feature = new_model(client, 1)
    assert client.post_data(one_feature, 3.5)["status"]["sampleCount"] == 1


def test_stream_yields_each_batch_and_reports_progress(
    client: AmberClient, new_model: Any, tmp_path: Path
) -> None:
    model_id = new_model(client, 2, training={"bufferingSamples": 100})
    data = np.random.default_rng(3).random((1000, 2))
    seen: list[tuple[int, int | None]] = []
    results = list(
        client.stream(model_id, data, batch_size=301, progress=lambda d, t: seen.append((d, t)))
    )
    # 301 values -> 150 whole rows per batch
    assert len(results) == 7
    assert seen[0] == (300, 2000) and seen[-1] == (2000, 2000)
    assert sum(len(r["analytics"]["ID"]) for r in results) == 1000

    csv_file = tmp_path / "data.csv"
    csv_file.write_text("\n".join(f"{a},{b}" for a, b in data.tolist()) + "\n")
    file_results = list(client.stream(model_id, csv_file, batch_size=500))
    assert len(file_results) == 4
    with csv_file.open() as handle:
        assert len(list(client.stream(model_id, handle, batch_size=2000))) == 1

    joined = client.stream_analytics(model_id, data, batch_size=400)
    assert isinstance(joined.model, v2.PostDataResponse)
    assert len(joined["analytics"]["RI"]) == 1000
    assert joined["status"]["sampleCount"] == 4000


def test_stream_of_a_file_validates_each_batch(
    client: AmberClient, new_model: Any, tmp_path: Path
) -> None:
    model_id = new_model(client, 2)
    bad = tmp_path / "bad.csv"
    bad.write_text("1,2\n3,4\n5\n")
    with pytest.raises(AmberUserError, match=r"bad.csv, line 3: 1 value, expected 2"):
        list(client.stream(model_id, bad, batch_size=10))


def test_generated_api_is_reachable_and_authenticated(
    amber_server: Any, make_client: Any, client: AmberClient, new_model: Any
) -> None:
    fresh = make_client(amber_server)
    assert fresh.api.get_version().api_version  # first call of the client: logs in itself
    model_id = new_model(client, 1)
    status = client.api.get_status(model_id)
    assert isinstance(status, v2.GetStatusResponse)
    assert client.api.get_models().model_list is not None


def test_errors_carry_status_message_and_request(client: AmberClient, new_model: Any) -> None:
    model_id = new_model(client, 3)
    with pytest.raises(AmberCloudError) as info:
        client.post_data(model_id, [1.0, 2.0])  # not a multiple of 3 features
    error = info.value
    assert error.status == 400
    assert error.method == "POST" and error.path == f"/models/{model_id}/data"
    assert "3" in error.message
    assert error.__cause__ is not None  # chained from the generated ApiException
    with pytest.raises(AmberCloudError) as info:
        client.get_root_cause(model_id, clusters=[999])
    assert info.value.status in (400, 404)


def test_context_manager_closes(amber_server: Any, make_client: Any) -> None:
    with make_client(amber_server) as amber:
        assert amber.get_version()
    with pytest.raises(AmberUserError, match="closed"):
        amber.get_version()


def test_local_client_runs_its_own_server(clean_env: Any) -> None:
    with AmberClient.local() as amber:
        url = amber.server
        model_id = amber.post_model("local")["id"]
        assert amber.get_model(model_id)["label"] == "local"
    assert url.startswith("http://127.0.0.1:")
    assert amber._local_server is None
