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
