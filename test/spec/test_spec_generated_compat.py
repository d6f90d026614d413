"""What the kept templates add to the generated client (openapi/generator/templates/).

Positional model arguments and the swagger-codegen metadata of the official 2.x models, enums
that format as their wire value, and an API module that builds no validator at import.
"""

from __future__ import annotations

import enum
import inspect
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel, ValidationError

import boonamber.v2 as v2
import boonamber.v2.models as v2_models

ROOT = Path(__file__).resolve().parents[2]


def _model_classes() -> list[type[BaseModel]]:
    classes = [getattr(v2_models, n) for n in dir(v2_models) if n[:1].isupper()]
    return [
        c
        for c in classes
        if isinstance(c, type)
        and issubclass(c, BaseModel)
        and "actual_instance" not in c.model_fields  # oneOf wrappers keep the original template
    ]


def _enum_classes() -> list[type[enum.Enum]]:
    classes = [getattr(v2_models, n) for n in dir(v2_models) if n[:1].isupper()]
    return [c for c in classes if isinstance(c, type) and issubclass(c, enum.Enum)]


def _spec_property_order(schema: str) -> list[str]:
    """Wire names of a component schema's properties in document order (allOf parts merged)."""
    schemas = yaml.safe_load((ROOT / "openapi" / "amber-v2.yaml").read_text())["components"][
        "schemas"
    ]

    def walk(node: dict[str, Any]) -> list[str]:
        if "$ref" in node:
            return walk(schemas[node["$ref"].rsplit("/", 1)[1]])
        names = [n for part in node.get("allOf", []) for n in walk(part)]
        return names + [n for n in node.get("properties", {}) if n not in names]

    return walk(schemas[schema])


# --- positional arguments (issue 9) -------------------------------------------------------


def test_models_take_positional_arguments_in_property_order() -> None:
    assert v2.FeatureConfig("feature-1").to_dict() == {"name": "feature-1", "fusionRule": "submit"}
    assert v2.FeatureConfig("t", 0, 10, 3, "nosubmit", 5).to_dict() == {
        "name": "t",
        "minVal": 0.0,
        "maxVal": 10.0,
        "weight": 3,
        "fusionRule": "nosubmit",
        "fusionTTL": 5,
    }
    request = v2.PostConfigRequest(25, 0.05, [v2.FeatureConfig("a"), v2.FeatureConfig("b")])
    assert request.streaming_window == 25
    assert request.percent_variation == 0.05
    assert [f.name for f in request.features] == ["a", "b"]
    assert request.to_dict()["streamingWindow"] == 25


def test_positional_order_is_the_schema_property_order() -> None:
    checked = 0
    for cls in _model_classes():
        spec_name = cls.__name__[0].lower() + cls.__name__[1:]
        try:
            order = _spec_property_order(spec_name)
        except KeyError:  # a class named differently from its schema (inline schemas)
            continue
        assert list(cls.attribute_map.values()) == order, cls.__name__
        checked += 1
    assert checked >= 30


def test_keywords_by_python_name_and_by_wire_name_still_work() -> None:
    by_name = v2.FeatureConfig(name="t", min_val=1, fusion_ttl=2)
    by_alias = v2.FeatureConfig(name="t", minVal=1, fusionTTL=2)
    mixed = v2.FeatureConfig("t", minVal=1, fusion_ttl=2)
    assert by_name.to_dict() == by_alias.to_dict() == mixed.to_dict()
    assert v2.PostConfigRequest(25, features=[v2.FeatureConfig("a")]).percent_variation is None


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (("a",), {"name": "b"}, "got multiple values for argument 'name'"),
        (("a", 1), {"minVal": 2}, "got multiple values for argument 'min_val'"),
        (tuple(range(7)), {}, r"takes at most 6 positional arguments \(7 given\)"),
    ],
)
def test_positional_misuse_is_a_type_error(
    args: tuple[Any, ...], kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(TypeError, match=message):
        v2.FeatureConfig(*args, **kwargs)


def test_positional_values_are_validated_like_keywords() -> None:
    with pytest.raises(ValidationError, match="weight"):
        v2.FeatureConfig("t", None, None, 0)
    with pytest.raises(ValidationError, match=r"streamingWindow|streaming_window"):
        v2.PostConfigRequest(0, None, [v2.FeatureConfig("a")])


# --- attribute_map / swagger_types / openapi_types (issue 9) --------------------------------


def test_every_model_maps_python_names_to_wire_names_and_types() -> None:
    for cls in _model_classes():
        # a free-form schema's extra keys are no property (GetSummaryResponse)
        fields = {n: f for n, f in cls.model_fields.items() if n != "additional_properties"}
        assert list(cls.attribute_map) == list(fields), cls.__name__
        assert list(cls.swagger_types) == list(fields), cls.__name__
        assert list(cls.openapi_types) == list(fields), cls.__name__
        for name, info in fields.items():
            assert cls.attribute_map[name] == (info.alias or name), (cls.__name__, name)


def test_metadata_matches_the_official_spelling() -> None:
    assert v2.FeatureConfig.attribute_map == {
        "name": "name",
        "min_val": "minVal",
        "max_val": "maxVal",
        "weight": "weight",
        "fusion_rule": "fusionRule",
        "fusion_ttl": "fusionTTL",
    }
    assert v2.FeatureConfig.swagger_types == {
        "name": "str",
        "min_val": "float",
        "max_val": "float",
        "weight": "int",
        "fusion_rule": "str",
        "fusion_ttl": "int",
    }
    assert v2.PostConfigRequest.swagger_types["features"] == "list[FeatureConfig]"
    assert v2.PostConfigRequest.openapi_types["features"] == "List[FeatureConfig]"
    assert v2.GetRootCauseResponse.swagger_types["root_cause_list"] == (
        "list[list[FeatureRootCause]]"
    )
    assert v2.PutDataResponse.swagger_types["vector"] == "dict(str, float)"


def test_metadata_is_class_level_not_a_field() -> None:
    feature = v2.FeatureConfig("t")
    assert "attribute_map" not in feature.model_dump()
    assert feature.attribute_map is v2.FeatureConfig.attribute_map
    assert json.loads(feature.to_json()) == {"name": "t", "fusionRule": "submit"}


# --- optional feature name (issue 9, spec) --------------------------------------------------


def test_a_feature_without_a_name_is_valid_and_omits_it_on_the_wire() -> None:
    assert v2.FeatureConfig().to_dict() == {"fusionRule": "submit"}
    request = v2.PostConfigRequest(25, 0.05, [v2.FeatureConfig(), v2.FeatureConfig()])
    assert request.to_dict()["features"] == [{"fusionRule": "submit"}] * 2
    with pytest.raises(ValidationError, match="name"):
        v2.FeatureConfig("not a name")


def test_a_reported_feature_always_has_its_name() -> None:
    with pytest.raises(ValidationError, match="name"):
        v2.FeatureConfigResponse.from_dict({"minVal": 0})
    reported = v2.FeatureConfigResponse.from_dict({"name": "feature-0"})
    assert reported is not None and reported.name == "feature-0"


# --- enums (issue 12) ------------------------------------------------------------------------


def test_enums_format_as_their_wire_value() -> None:
    assert str(v2.AmberState.BUFFERING) == "Buffering"
    state = v2.AmberState.MONITORING
    assert f"{state}" == "Monitoring"
    assert f"[{state:>12}]" == "[  Monitoring]"
    assert "%s" % state == "Monitoring"  # noqa: UP031 (the printf form users have)
    assert state == "Monitoring" and v2.AmberState("Learning") is v2.AmberState.LEARNING
    enums = _enum_classes()
    assert enums
    for cls in enums:
        for member in cls:
            assert str(member) == str(member.value) == f"{member}", member


# --- the API module is cheap to import (issue 11) -------------------------------------------

_PROBE = """
import json, pydantic
calls = []
real = pydantic.validate_call
def counting(*args, **kwargs):
    calls.append(getattr(args[0], "__name__", "?") if args else "?")
    return real(*args, **kwargs)
pydantic.validate_call = counting
import boonamber.v2.api.default_api as d
from boonamber.v2.models import FeatureConfig
report = {"at_import": len(calls), "deferred": FeatureConfig.__pydantic_complete__ is False}
from boonamber.v2 import Configuration
api = d.DefaultApi(d.ApiClient(Configuration(host="http://127.0.0.1:9")))
for _ in range(2):
    try:
        api.get_model(model_id=123)
    except pydantic.ValidationError as e:
        report["error"] = e.errors()[0]["loc"][-1]
report["after_two_calls"] = calls
print(json.dumps(report))
"""


def test_importing_the_api_builds_no_validator_and_validation_is_built_once_on_first_call() -> None:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    report = json.loads(out)
    assert report["at_import"] == 0
    assert report["deferred"] is True  # model validators are built on first use too
    assert report["after_two_calls"] == ["get_model"]  # built once, then reused
    assert report["error"] == "model_id"  # the same validate_call error as before


def test_api_methods_keep_their_signatures_and_docs() -> None:
    method = v2.DefaultApi.post_config
    assert inspect.isfunction(method)
    assert list(inspect.signature(method).parameters)[:3] == ["self", "body", "model_id"]
    assert method.__doc__ and "configuration" in method.__doc__.lower()
    assert method.__name__ == "post_config"
