"""AmberResult (typed model + JSON mapping), the error hierarchy, and package layering."""

from __future__ import annotations

import ast
import copy
import json
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from helpers import imported_modules

import boonamber
from boonamber.facade import (
    AmberAuthenticationError,
    AmberCloudError,
    AmberConnectionError,
    AmberError,
    AmberPretrainTimeoutError,
    AmberResult,
    AmberTimeoutError,
    AmberUserError,
)
from boonamber.v2 import models as v2
from boonamber.wire import ANALYTIC_KEYS

FACADE = Path(boonamber.__file__).parent / "facade"


def test_result_is_a_json_mapping_with_wire_keys_and_a_typed_model() -> None:
    model = v2.PostDataResponse.from_dict(
        {
            "analytics": {"ID": [1, 2], "RI": [0, 5], "NW": [0.5, 1.0]},
            "status": {"state": "Learning", "sampleCount": 2},
        }
    )
    result = AmberResult(model)
    assert result == {
        "analytics": {"ID": [1, 2], "RI": [0, 5], "NW": [0.5, 1.0]},
        "status": {"state": "Learning", "sampleCount": 2},
    }
    assert type(result["status"]["state"]) is str  # plain JSON types, not enums
    assert json.loads(json.dumps(result)) == result
    assert result.model is model
    assert result.analytics.id == [1, 2] and result.status.sample_count == 2
    assert "analytics" in dir(result)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = result.nope
    assert repr(result).startswith("AmberResult[PostDataResponse]({")
    restored = pickle.loads(pickle.dumps(result))
    assert restored == result and restored.model == model
    assert copy.copy(result).model is model
    assert isinstance(result, dict)


def test_free_form_results_keep_their_keys() -> None:
    summary = AmberResult(v2.GetSummaryResponse.from_dict({"clusters": 3, "nested": {"a-b": [1]}}))
    assert summary == {"clusters": 3, "nested": {"a-b": [1]}}


def test_error_hierarchy() -> None:
    assert issubclass(AmberUserError, AmberError) and issubclass(AmberCloudError, AmberError)
    assert not issubclass(AmberUserError, AmberCloudError)
    for cls in (
        AmberAuthenticationError,
        AmberConnectionError,
        AmberTimeoutError,
        AmberPretrainTimeoutError,
    ):
        assert issubclass(cls, AmberCloudError)
    assert issubclass(AmberTimeoutError, AmberConnectionError)
    error = AmberCloudError("model x not found", status=404, method="GET", path="/models/x")
    assert str(error) == "404: model x not found (GET /models/x)"
    assert error.code == 404 and error.message == "model x not found"
    assert str(AmberUserError("bad")) == "bad"
    assert (
        boonamber.AmberCloudError is AmberCloudError and boonamber.AmberUserError is AmberUserError
    )


def test_facade_builds_on_the_generated_client_only() -> None:
    for path in FACADE.glob("*.py"):
        for module in imported_modules(path):
            assert not module.startswith("boonamber.cli"), f"{path.name} imports {module}"
            if module.startswith("boonamber.local"):  # only the clients' local(), lazily
                assert path.name in ("client.py", "async_client.py")
    for name in ("client.py", "async_client.py"):
        tree = ast.parse((FACADE / name).read_text())
        top_level = {
            alias.name if isinstance(node, ast.Import) else node.module
            for node in tree.body
            if isinstance(node, ast.Import | ast.ImportFrom)
            for alias in node.names
        }
        assert not any(str(m).startswith("boonamber.local") for m in top_level)


def test_importing_the_client_stays_light() -> None:
    code = (
        "import sys; from boonamber import AmberClient, AmberCloudError, AmberUserError; "
        "print([m for m in ('numpy', 'pandas', 'boonamber.local', 'uvicorn') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_client_configuration_is_never_the_global_default(client: Any) -> None:
    from boonamber.v2 import Configuration

    assert client._transport.config is not Configuration.get_default()
    assert client._transport.config.verify_ssl is True  # TLS verification on by default
    assert client.api.api_client.configuration is client._transport.config


def test_constructing_a_client_loads_neither_pydantic_nor_urllib3() -> None:
    code = (
        "import sys; from boonamber import AmberClient; "
        "c = AmberClient(server='http://127.0.0.1:1/v2', license_key='k', secret_key='s'); "
        "print([m for m in ('pydantic', 'urllib3', 'boonamber.v2.api.default_api', 'orjson', 'asyncio')"
        " if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_data_answer_is_decoded_once_and_its_model_built_on_demand(
    client: Any, new_model: Any
) -> None:
    model_id = new_model(client, 1)
    result = client.post_data(model_id, [0.5] * 30)
    assert result._model is None  # nothing validated yet
    assert len(result["analytics"]["ID"]) == 30
    assert result.status.state in ("Buffering", "Learning", "Autotuning")
    assert result._model is None  # only the field asked for was validated
    assert isinstance(result.model, v2.PostDataResponse)
    assert result.model is result.model  # built once
    assert result.model.analytics is not None and len(result.model.analytics.id) == 30
    assert json.loads(json.dumps(result)) == result
    assert result.model_type is v2.PostDataResponse


def test_a_field_the_server_left_out_is_an_attribute_error() -> None:
    result = AmberResult.from_wire({"status": "Chunking"}, v2.PostPretrainResponse)
    assert result.status == "Chunking"
    with pytest.raises(AttributeError, match="has no 'txnId'"):
        _ = result.txn_id
    assert getattr(result, "txn_id", None) is None
    assert result.model.txn_id is None


def test_an_answer_that_does_not_match_the_spec_fails_when_built() -> None:
    result = AmberResult.from_wire({"status": {"sampleCount": "many"}}, v2.PostDataResponse)
    assert result["status"]["sampleCount"] == "many"
    with pytest.raises(AmberCloudError, match="does not match the API"):
        _ = result.status
    with pytest.raises(AmberCloudError, match="does not match the API"):
        _ = result.model


def test_lazy_results_pickle_and_copy() -> None:
    result = AmberResult.from_wire({"state": "Learning"}, v2.GetStatusResponse)
    for other in (pickle.loads(pickle.dumps(result)), copy.copy(result)):
        assert other == result and other.model_type is v2.GetStatusResponse
        assert str(other.state) == "Learning"


def test_to_pandas_one_row_per_vector_with_the_input_index(client: Any, new_model: Any) -> None:
    pd = pytest.importorskip("pandas")
    model_id = new_model(client, 2)
    frame = pd.DataFrame(
        {"a": [0.1 * i for i in range(20)], "b": [1.0] * 20},
        index=pd.date_range("2026-01-01", periods=20, freq="min"),
    )
    result = client.post_data(model_id, frame)
    table = result.to_pandas()
    assert list(table.columns) == [k for k in ANALYTIC_KEYS if k in result["analytics"]]
    assert list(table["SI"]) == result["analytics"]["SI"]
    assert len(table) == 20 and table.index.equals(frame.index)
    parts = list(client.stream(model_id, frame, batch_size=14))  # 7 rows per batch
    assert [len(p.to_pandas()) for p in parts] == [7, 7, 6]
    assert parts[1].to_pandas().index.equals(frame.index[7:14])
    joined = client.stream_analytics(model_id, frame, batch_size=14).to_pandas()
    assert joined.index.equals(frame.index)
    plain = client.post_data(model_id, frame.to_numpy()).to_pandas()
    assert list(plain.index) == list(range(20))
    with pytest.raises(AmberUserError, match="data results"):
        client.get_status(model_id).to_pandas()


def test_to_pandas_without_pandas_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)
    result = AmberResult.from_wire({"analytics": {"ID": [1]}}, v2.PostDataResponse)
    with pytest.raises(AmberUserError, match=r"pip install 'boonamber\[pandas\]'"):
        result.to_pandas()


_NO_ORJSON = """
import importlib.abc, json, sys

class Blocker(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "orjson" or name.startswith("orjson."):
            raise ImportError("orjson is hidden by this test")
        return None

sys.meta_path.insert(0, Blocker())
from boonamber import AmberClient

server, key, secret, model_id = sys.argv[1:5]
with AmberClient(server=server, license_key=key, secret_key=secret) as client:
    result = client.post_data(model_id, [i / 40 for i in range(40)])
    status = client.get_status(model_id)
    print(json.dumps({
        "orjson": "orjson" in sys.modules,
        "analytics": result["analytics"],
        "state": result.status.state,
        "samples": status.sample_count,
        "model_ids": result.model.analytics.id,
    }))
"""


def test_answers_decode_the_same_without_orjson(
    amber_server: Any, client: Any, new_model: Any
) -> None:
    # the decode fallback (standard json) in a process where orjson cannot be imported
    base = new_model(client, 1, training={"bufferingSamples": 10})
    twin = new_model(client, 1, training={"bufferingSamples": 10})
    expected = client.post_data(base, [i / 40 for i in range(40)])
    args = [amber_server.url, amber_server.license_key, amber_server.secret_key, twin]
    out = subprocess.run(
        [sys.executable, "-c", _NO_ORJSON, *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    seen = json.loads(out.stdout)
    assert seen["orjson"] is False
    assert seen["analytics"] == expected["analytics"]
    assert seen["state"] == str(expected.status.state)
    assert seen["samples"] == 40
    assert seen["model_ids"] == expected["analytics"]["ID"]
