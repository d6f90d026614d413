"""The seed README's "Getting Started" usage runs as printed, and the token reaches the wire."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest

import boonamber.v2
from boonamber.v2.rest import ApiException


class _Recorder(BaseHTTPRequestHandler):
    """Answers every request like Amber would and records what it received."""

    seen: ClassVar[list[dict[str, Any]]] = []

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.seen.append(
            {
                "method": self.command,
                "path": self.path,
                "headers": dict(self.headers.items()),
                "body": json.loads(body) if body else None,
            }
        )
        if self.headers.get("Authorization") != "Bearer TOKEN-123":
            payload: dict[str, Any] = {"code": 401, "message": "Unauthorized"}
            status = 401
        elif self.path.endswith("/data"):
            payload = {
                "analytics": {"ID": [1, 2], "RI": [0, 1000]},
                "status": {"state": "Learning", "sampleCount": 2},
            }
            status = 200
        elif self.path.endswith("/models"):
            payload = {"modelList": [{"id": "abc", "label": "m"}]}
            status = 200
        else:
            payload = {"code": 404, "message": "model not found"}
            status = 404
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = _answer

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def recorder() -> Iterator[str]:
    _Recorder.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/v2"
    finally:
        server.shutdown()
        server.server_close()


def test_seed_getting_started_snippet_sends_the_bearer_header(recorder: str) -> None:
    # As printed in the seed README (plus the host of the test server).
    configuration = boonamber.v2.Configuration()
    configuration.api_key["Authorization"] = "TOKEN-123"
    configuration.api_key_prefix["Authorization"] = "Bearer"
    configuration.host = recorder
    api_instance = boonamber.v2.DefaultApi(boonamber.v2.ApiClient(configuration))
    body = boonamber.v2.PostDataRequest(data="1,2")
    model_id = "model_id_example"
    api_response = api_instance.post_data(body, model_id)
    assert api_response.analytics is not None
    assert api_response.analytics.id == [1, 2]
    assert api_response.status is not None
    assert api_response.status.state == boonamber.v2.AmberState.LEARNING

    models = api_instance.get_models(verbose="true")
    assert models.model_list is not None and models.model_list[0].id == "abc"

    sent = _Recorder.seen
    assert [r["method"] for r in sent] == ["POST", "GET"]
    assert all(r["headers"]["Authorization"] == "Bearer TOKEN-123" for r in sent)
    assert sent[0]["path"] == "/v2/models/model_id_example/data"
    assert sent[0]["body"] == {"data": "1,2", "saveImage": True}
    assert sent[1]["headers"]["verbose"] == "true"


def test_scheme_name_key_works_too(recorder: str) -> None:
    configuration = boonamber.v2.Configuration(host=recorder)
    configuration.api_key["Bearer"] = "TOKEN-123"
    configuration.api_key_prefix["Bearer"] = "Bearer"
    api = boonamber.v2.DefaultApi(boonamber.v2.ApiClient(configuration))
    api.get_models()
    assert _Recorder.seen[-1]["headers"]["Authorization"] == "Bearer TOKEN-123"


def test_api_exception_carries_status_and_body(recorder: str) -> None:
    configuration = boonamber.v2.Configuration(host=recorder)
    configuration.api_key["Authorization"] = "TOKEN-123"
    configuration.api_key_prefix["Authorization"] = "Bearer"
    api_instance = boonamber.v2.DefaultApi(boonamber.v2.ApiClient(configuration))
    with pytest.raises(ApiException) as caught:
        api_instance.get_config("nope")
    assert caught.value.status == 404
    assert json.loads(caught.value.body or "{}") == {"code": 404, "message": "model not found"}


def test_oauth_calls_send_no_token(recorder: str) -> None:
    configuration = boonamber.v2.Configuration(host=recorder)
    configuration.api_key["Authorization"] = "TOKEN-123"
    configuration.api_key_prefix["Authorization"] = "Bearer"
    api = boonamber.v2.DefaultApi(boonamber.v2.ApiClient(configuration))
    with pytest.raises(ApiException):
        api.post_oauth2_access(boonamber.v2.PostOauth2AccessRequest(licenseKey="k", secretKey="s"))
    assert "Authorization" not in _Recorder.seen[-1]["headers"]
    assert _Recorder.seen[-1]["body"] == {"licenseKey": "k", "secretKey": "s"}
