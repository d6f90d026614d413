"""Fixtures of the server tests: spec conformance checking of every response on the wire."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

SPEC_PATH = Path(__file__).resolve().parents[2] / "openapi" / "amber-v2.yaml"


class SpecChecker:
    """Validates raw responses against ``openapi/amber-v2.yaml`` (status documented, body and
    headers conforming), using schemathesis's response conformance machinery."""

    def __init__(self) -> None:
        import schemathesis
        import yaml

        self.schema = schemathesis.openapi.from_path(str(SPEC_PATH))
        raw = yaml.safe_load(SPEC_PATH.read_text())
        self.raw = raw
        self.templates: list[tuple[re.Pattern[str], str]] = []
        for template in raw["paths"]:
            pattern = re.sub(r"\{[^}]+\}", "[^/]+", template)
            self.templates.append((re.compile(f"^{pattern}$"), template))
        self.seen: list[tuple[str, str, int]] = []

    def template_for(self, path: str) -> str:
        if path.startswith("/v2"):
            path = path[3:]
        for pattern, template in self.templates:
            if pattern.match(path):
                return template
        raise AssertionError(f"no operation in the spec for {path}")

    def check(
        self, method: str, url: str, status: int, headers: dict[str, str], content: bytes
    ) -> None:
        import requests
        from schemathesis import Response

        template = self.template_for(urlsplit(url).path)
        documented = self.raw["paths"][template][method.lower()]["responses"]
        assert str(status) in documented, (
            f"{method} {template} answered {status}, which the spec does not document: "
            f"{content[:300]!r}"
        )
        response = Response(
            status_code=status,
            headers={k.lower(): [v] for k, v in headers.items()},
            content=content,
            request=requests.Request(method, url).prepare(),
            elapsed=0.0,
            verify=True,
        )
        self.schema[template][method.upper()].validate_response(response)
        self.seen.append((method.upper(), template, status))


@pytest.fixture(scope="session")
def spec_checker() -> SpecChecker:
    """The response validator built from the spec."""
    return SpecChecker()


def instrument(api: Any, checker: SpecChecker) -> Any:
    """Make ``api`` (a generated DefaultApi) validate every response it receives."""
    rest = api.api_client.rest_client
    original = rest.request

    def request(
        method: str,
        url: str,
        headers: Any = None,
        body: Any = None,
        post_params: Any = None,
        _request_timeout: Any = None,
    ) -> Any:
        response = original(
            method,
            url,
            headers=headers,
            body=body,
            post_params=post_params,
            _request_timeout=_request_timeout,
        )
        data = response.read()
        checker.check(method, url, response.status, dict(response.headers), data or b"")
        return response

    rest.request = request
    return api


@pytest.fixture
def spec_instrument(spec_checker: SpecChecker) -> Callable[[Any], Any]:
    """``instrument`` bound to the session's checker: ``spec_instrument(api) -> api``."""
    return lambda api: instrument(api, spec_checker)


@pytest.fixture
def checked_api(amber_api: Any, spec_checker: SpecChecker) -> Any:
    """``amber_api`` whose every response is validated against the spec."""
    return instrument(amber_api, spec_checker)


@pytest.fixture
def make_model(checked_api: Any) -> Iterator[Callable[..., str]]:
    """Create (and at teardown delete) a model; configured when ``features`` is given."""
    import boonamber.v2 as v2

    created: list[str] = []

    def factory(
        label: str = "test",
        features: int = 0,
        window: int = 1,
        buffering: int = 50,
        **config: Any,
    ) -> str:
        model_id: str = checked_api.post_model(v2.PostModelRequest(label=label)).id
        created.append(model_id)
        if features:
            body = {
                "streamingWindow": window,
                "features": [{"name": f"f{i}"} for i in range(features)],
                "training": {"bufferingSamples": buffering},
            }
            body.update(config)
            checked_api.post_config(v2.PostConfigRequest.from_dict(body), model_id)
        return model_id

    yield factory
    for model_id in created:
        with contextlib.suppress(Exception):
            checked_api.delete_model(model_id)
