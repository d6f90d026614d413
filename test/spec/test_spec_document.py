"""The OpenAPI document itself: valid, complete, and describing every part of the API."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from helpers import ROOT, VERSION_KEYS
from openapi_spec_validator import validate

SPEC_PATH = ROOT / "openapi" / "amber-v2.yaml"

# operationId -> (method, path) from ../shared/amber-api.md
OPERATIONS = {
    "getVersion": ("get", "/version"),
    "postOauth2Access": ("post", "/oauth2/access"),
    "postOauth2Refresh": ("post", "/oauth2/refresh"),
    "getModels": ("get", "/models"),
    "postModel": ("post", "/models"),
    "getModel": ("get", "/models/{modelId}"),
    "putModel": ("put", "/models/{modelId}"),
    "deleteModel": ("delete", "/models/{modelId}"),
    "getConfig": ("get", "/models/{modelId}/config"),
    "postConfig": ("post", "/models/{modelId}/config"),
    "postLearning": ("post", "/models/{modelId}/learning"),
    "postData": ("post", "/models/{modelId}/data"),
    "putData": ("put", "/models/{modelId}/data"),
    "getStatus": ("get", "/models/{modelId}/status"),
    "getPretrain": ("get", "/models/{modelId}/pretrain"),
    "postPretrain": ("post", "/models/{modelId}/pretrain"),
    "getRootCause": ("get", "/models/{modelId}/rootCause"),
    "getUsage": ("get", "/models/{modelId}/usage"),
    "postOutage": ("post", "/models/{modelId}/outage"),
    "postModelCopy": ("post", "/models/{modelId}/copy"),
    "postModelMigrate": ("post", "/models/{v1ModelId}/migrate"),
    "getSummary": ("get", "/models/{modelId}/summary"),
    "getNanoStatus": ("get", "/models/{modelId}/status/nano"),
    "getDiagnostic": ("get", "/models/{modelId}/diagnostic"),
}


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(SPEC_PATH.read_text())
    return loaded


def _resolve(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = spec
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        node = target
    return node


def test_spec_is_valid_openapi_3(spec: dict[str, Any]) -> None:
    validate(spec)
    assert spec["openapi"].startswith("3.0")
    assert spec["servers"][0]["url"] == "https://amber.boonlogic.com/v2"


def test_every_operation_is_present_with_its_id(spec: dict[str, Any]) -> None:
    found = {
        op["operationId"]: (method, path)
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if method in ("get", "post", "put", "delete")
    }
    assert found == OPERATIONS


def test_security_is_bearer_except_oauth(spec: dict[str, Any]) -> None:
    scheme = spec["components"]["securitySchemes"]["Bearer"]
    assert (scheme["type"], scheme["in"], scheme["name"]) == ("apiKey", "header", "Authorization")
    assert spec["security"] == [{"Bearer": []}]
    for op_id, (method, path) in OPERATIONS.items():
        op = spec["paths"][path][method]
        if op_id.startswith("postOauth2"):
            assert op["security"] == [], op_id
        else:
            assert "security" not in op, op_id


def test_every_operation_has_descriptions_and_error_responses(spec: dict[str, Any]) -> None:
    for op_id, (method, path) in OPERATIONS.items():
        item = spec["paths"][path]
        op = item[method]
        assert op.get("description"), op_id
        params = [_resolve(spec, p) for p in item.get("parameters", []) + op.get("parameters", [])]
        for param in params:
            assert param.get("description"), f"{op_id}: parameter {param['name']}"
        if "requestBody" in op:
            assert op["requestBody"].get("description"), op_id
        errors = [code for code in op["responses"] if code.startswith(("4", "5"))]
        assert "401" in errors and "500" in errors, op_id
        for code in errors:
            response = _resolve(spec, op["responses"][code])
            schema = response["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/error"}, f"{op_id} {code}"


def _walk_properties(spec: dict[str, Any], name: str, schema: dict[str, Any]) -> list[str]:
    missing = []
    for part in schema.get("allOf", []) + schema.get("oneOf", []):
        if "$ref" not in part:
            missing += _walk_properties(spec, name, part)
    for prop, sub in schema.get("properties", {}).items():
        if "$ref" not in sub and not sub.get("description"):
            missing.append(f"{name}.{prop}")
    return missing


def test_every_schema_and_property_is_described(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    undocumented = [n for n, s in schemas.items() if not s.get("description")]
    for name, schema in schemas.items():
        undocumented += _walk_properties(spec, name, schema)
    assert undocumented == []


def test_wire_names_follow_the_current_service(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    assert set(schemas["analyticResults"]["properties"]) == set(
        "ID RI SI AD AH AW NI NS NW OM CS PI".split()
    )
    assert set(schemas["featureConfig"]["properties"]) == {
        "name",
        "minVal",
        "maxVal",
        "weight",
        "fusionRule",
        "fusionTTL",
    }
    assert "modelList" in schemas["getModelsResponse"]["properties"]
    assert "rootCauseList" in schemas["getRootCauseResponse"]["properties"]
    assert schemas["postOauth2AccessRequest"]["required"] == ["licenseKey", "secretKey"]
    assert schemas["postOauth2AccessResponse"]["properties"]["expiresIn"]["type"] == "string"
    assert schemas["postPretrainRequest"]["properties"]["format"]["enum"] == [
        "csv",
        "b64float",
        "packed-float",
    ]
    assert set(schemas["version"]["properties"]) == VERSION_KEYS
    pretrain = spec["paths"]["/models/{modelId}/pretrain"]["post"]
    assert {"200", "202"} <= set(pretrain["responses"])
    assert "txnId" in pretrain["responses"]["202"]["headers"]
