"""The generated client: its surface, its seed-compatible calling conventions and its drift."""

from __future__ import annotations

import inspect
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from helpers import ROOT

import boonamber.v2 as v2

SEED_MODELS = (
    "AmberState AnalyticResults Config ConfigResponse EndpointUsage Error FeatureConfig "
    "FeatureConfigResponse FeatureRootCause FusionFeature GetModelsResponse GetPretrainResponse "
    "GetRootCauseResponse GetStatusResponse GetUsageResponse GetUsageResponseEndpoints "
    "GetVersionResponse Model ModelStatus PercentVariation PercentVariationResponse "
    "PostConfigRequest PostConfigResponse PostDataRequest PostDataResponse PostLearningRequest "
    "PostLearningResponse PostModelRequest PostModelResponse PostOauth2AccessRequest "
    "PostOauth2AccessResponse PostOauth2RefreshRequest PostOauth2RefreshResponse "
    "PostPretrainRequest PostPretrainResponse PretrainStatus PutDataRequest PutDataResponse "
    "PutModelRequest StreamingWindow TrainingConfig Version"
).split()

SEED_METHODS = {
    "get_version",
    "post_oauth2_access",
    "post_oauth2_refresh",
    "get_models",
    "post_model",
    "get_model",
    "put_model",
    "delete_model",
    "get_config",
    "post_config",
    "post_learning",
    "post_data",
    "put_data",
    "get_status",
    "get_pretrain",
    "post_pretrain",
    "get_root_cause",
    "get_usage",
    "post_outage",
    "post_model_copy",
    "post_model_migrate",
    "get_summary",
    "get_nano_status",
    "get_diagnostic",
}


def test_all_42_seed_model_classes_import_from_boonamber_v2() -> None:
    assert len(SEED_MODELS) == 42
    for name in SEED_MODELS:
        cls = getattr(v2, name)
        assert cls.__module__.startswith("boonamber.v2.models."), name


def test_default_api_has_the_24_operations() -> None:
    public = {
        n
        for n in dir(v2.DefaultApi)
        if not n.startswith("_")
        and not n.endswith("_with_http_info")
        and not n.endswith("_without_preload_content")
    }
    assert public == SEED_METHODS


@pytest.mark.parametrize(
    ("method", "leading"),
    [
        ("post_data", ["body", "model_id"]),
        ("put_model", ["body", "model_id"]),
        ("post_pretrain", ["body", "model_id", "chunkspec", "txn_id"]),
        ("post_config", ["body", "model_id"]),
        ("put_data", ["body", "model_id"]),
        ("post_learning", ["body", "model_id"]),
        ("post_model", ["body"]),
        ("get_models", ["verbose"]),
        ("get_root_cause", ["model_id", "clusters", "vectors"]),
    ],
)
def test_body_first_parameter_order_of_the_seed(method: str, leading: list[str]) -> None:
    params = list(inspect.signature(getattr(v2.DefaultApi, method)).parameters)[1:]
    assert params[: len(leading)] == leading


def test_models_use_wire_names() -> None:
    feature = v2.FeatureConfig.from_dict({"name": "f1", "minVal": 0, "maxVal": 10})
    assert feature is not None
    assert feature.to_dict() == {
        "name": "f1",
        "minVal": 0.0,
        "maxVal": 10.0,
        "fusionRule": "submit",
    }
    version = v2.GetVersionResponse.from_dict({"api-version": "2", "expert-api": "x"})
    assert version is not None
    assert version.to_dict() == {"api-version": "2", "expert-api": "x"}
    analytics = v2.AnalyticResults.from_dict({"ID": [1, -1], "NW": [0.5, 1]})
    assert analytics is not None
    assert analytics.to_dict() == {"ID": [1, -1], "NW": [0.5, 1.0]}
    assert v2.PercentVariation(0.05).to_json() == "0.05"
    assert v2.StreamingWindow.from_json("25").actual_instance == 25


def test_generation_record_names_the_pinned_generator_and_spec_hash() -> None:
    import hashlib

    record = (ROOT / "boonamber" / "v2" / "GENERATED").read_text()
    pinned = next(
        line.split('"')[1]
        for line in (ROOT / "scripts" / "regen.sh").read_text().splitlines()
        if line.startswith("GENERATOR_VERSION=")
    )
    assert f"generator: openapi-generator-cli {pinned}" in record
    sha = hashlib.sha256((ROOT / "openapi" / "amber-v2.yaml").read_bytes()).hexdigest()
    assert f"spec-sha256: {sha}" in record


def test_no_generated_test_stubs_in_the_tree() -> None:
    assert not (ROOT / "boonamber" / "v2" / "test").exists()
    assert not list((ROOT / "test").glob("test_*_response.py"))


def _java_missing_reason() -> str | None:
    if shutil.which("java"):
        return None
    reason = (
        "no Java runtime: the drift check needs Java 17+ "
        "(Debian/Ubuntu: apt-get update && apt-get install -y default-jre-headless)"
    )
    if os.environ.get("CI"):
        pytest.fail(reason + "; CI must run the drift check")
    return reason


def test_generated_code_matches_a_fresh_generation() -> None:
    reason = _java_missing_reason()
    if reason:
        pytest.skip(reason)
    result = subprocess.run(
        ["bash", str(ROOT / "scripts" / "regen.sh"), "--check"],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHON": _python()},
    )
    assert result.returncode == 0, result.stderr + result.stdout


def test_drift_check_fails_when_the_spec_changes(tmp_path: Path) -> None:
    reason = _java_missing_reason()
    if reason:
        pytest.skip(reason)
    copy = tmp_path / "repo"
    for part in ("openapi", "scripts", "boonamber/v2", "docs/v2"):
        shutil.copytree(ROOT / part, copy / part, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "boonamber" / "_version.py", copy / "boonamber" / "_version.py")
    spec = copy / "openapi" / "amber-v2.yaml"
    text = spec.read_text()
    changed = text.replace("Returns the metadata of one model.", "Returns one model's metadata.")
    assert changed != text
    spec.write_text(changed)
    result = subprocess.run(
        ["bash", str(copy / "scripts" / "regen.sh"), "--check"],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHON": _python()},
    )
    assert result.returncode == 1
    assert "boonamber/v2/api/default_api.py" in result.stderr
    assert "GENERATED" in result.stderr


def _python() -> str:
    import sys

    return sys.executable
