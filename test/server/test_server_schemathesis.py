"""Property-based conformance: schemathesis generates requests from ``openapi/amber-v2.yaml``
(valid and invalid ones) and checks every answer of the running server against the spec:
no 5xx, only documented status codes, conforming bodies, headers and content types, invalid
data rejected, operations needing auth refusing requests without it."""

from __future__ import annotations

import collections
import os
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi import checks as openapi_checks

import boonamber.v2 as v2

SPEC_PATH = Path(__file__).resolve().parents[2] / "openapi" / "amber-v2.yaml"
# Examples per operation and generation mode: about a thousand requests in all (set
# AMBER_FUZZ_EXAMPLES for a deeper run).
EXAMPLES = int(os.environ.get("AMBER_FUZZ_EXAMPLES", "14"))

schema = schemathesis.openapi.from_path(str(SPEC_PATH))
schema.config.generation.update(
    modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE], max_examples=EXAMPLES
)

# The server legitimately refuses many well-formed requests (unknown model ids, data for an
# unconfigured model, values that are not numbers inside a valid string...), so "valid data
# is accepted" does not hold for this API; every other built-in check runs.
EXCLUDED = [openapi_checks.positive_data_acceptance]


CONFIG = {
    "streamingWindow": 2,
    "features": [{"name": "a"}, {"name": "b"}],
    "training": {"bufferingSamples": 20},
}
MUTATING = {"POST", "PUT"}


@pytest.fixture(scope="module")
def st_context(amber_server: Any) -> dict[str, Any]:
    """A token and real models for the generated requests to aim at."""
    api = v2.DefaultApi(v2.ApiClient(v2.Configuration(host=amber_server.url)))
    lk, sk = amber_server.create_account()  # keep the shared account's model list small
    tokens = api.post_oauth2_access(v2.PostOauth2AccessRequest(licenseKey=lk, secretKey=sk))
    api.api_client.configuration.api_key["Authorization"] = tokens.id_token
    api.api_client.configuration.api_key_prefix["Authorization"] = "Bearer"
    data = ",".join(str((i * 7) % 13 + 0.5) for i in range(200))

    def configured(label: str) -> str:
        model_id: str = api.post_model(v2.PostModelRequest(label=label)).id
        api.post_config(v2.PostConfigRequest.from_dict(CONFIG), model_id)
        api.post_data(v2.PostDataRequest(data=data), model_id)
        return model_id

    return {
        "api": api,
        "token": tokens.id_token,
        "url": amber_server.url,
        # read-only operations aim at "reader" (with clusters) or "plain" (unconfigured);
        # mutating ones at "sandbox", so random configurations do not disturb the readers.
        "reader": configured("fuzz-reader"),
        "sandbox": configured("fuzz-sandbox"),
        "plain": api.post_model(v2.PostModelRequest(label="fuzz-plain")).id,
        "counters": collections.Counter(),
    }


def _aim(case: Any, ctx: dict[str, Any]) -> None:
    """Point two cases in three at a real model (the rest keep their random id)."""
    params = case.path_parameters or {}
    if "modelId" not in params:
        return
    label = f"{case.method} {case.path}"
    turn = ctx["counters"][label] % 3
    ctx["counters"][label] += 1
    if turn == 2:
        return
    if case.method == "DELETE":
        new = ctx["api"].post_model(v2.PostModelRequest(label="fuzz-victim")).id
        params["modelId"] = new if turn == 0 else ctx["plain"]
    elif case.method in MUTATING and not case.path.endswith("/copy"):
        params["modelId"] = ctx["sandbox"] if turn == 0 else ctx["plain"]
    else:
        params["modelId"] = ctx["reader"] if turn == 0 else ctx["plain"]


@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_server_conforms_to_the_spec(case: Any, st_context: dict[str, Any]) -> None:
    _aim(case, st_context)
    # Schemathesis generates the Authorization header of secured operations (and leaves it out
    # in the cases testing that auth is required): a generated one gets a real token.
    headers = case.headers or {}
    for name in list(headers):
        if name.lower() == "authorization":
            headers[name] = f"Bearer {st_context['token']}"
    response = case.call(base_url=st_context["url"], timeout=30)
    assert response.status_code < 500, response.text
    case.validate_response(response, excluded_checks=EXCLUDED)
