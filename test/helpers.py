"""Helpers shared by test files (importable as ``helpers``: ``pythonpath`` in pyproject.toml)."""

from __future__ import annotations

import ast
import http.client
import json
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

#: The root of the checkout.
ROOT = Path(__file__).resolve().parents[1]

# ---------------------------------------------------------------- client


def write_license_file(path: Path, profiles: dict[str, dict[str, Any]], mode: int = 0o600) -> Path:
    """Write a license file holding ``profiles`` (name -> keys) at ``path`` with ``mode``."""
    path.write_text(json.dumps(profiles))
    path.chmod(mode)
    return path


def imported_modules(path: Path) -> set[str]:
    """The modules a Python file imports (``import x`` and ``from x import y`` give ``x``)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


# ---------------------------------------------------------------- server

#: The nine keys of a getVersion answer.
VERSION_KEYS = frozenset(
    {
        "api-version",
        "release",
        "swagger-ui",
        "builder",
        "expert-api",
        "expert-common",
        "nano-secure",
        "amber-store",
        "mongolia",
    }
)


def login_api(url: str, license_key: str, secret_key: str) -> Any:
    """A generated client (``boonamber.v2.DefaultApi``) for ``url`` holding a fresh ID token of
    the given account."""
    import boonamber.v2 as v2

    configuration = v2.Configuration(host=url)
    api = v2.DefaultApi(v2.ApiClient(configuration))
    tokens = api.post_oauth2_access(
        v2.PostOauth2AccessRequest(licenseKey=license_key, secretKey=secret_key)
    )
    configuration.api_key["Authorization"] = tokens.id_token
    configuration.api_key_prefix["Authorization"] = "Bearer"
    return api


def csv_values(values: Any) -> str:
    """``values`` (anything numpy takes) as the comma-separated text of a postData body."""
    import numpy as np

    return ",".join(str(v) for v in np.asarray(values).ravel())


def wait_pretrained(api: Any, model_id: str, timeout: float = 60.0) -> Any:
    """Poll getPretrain (generated client ``api``) until the model is no longer Pretraining or
    ``timeout`` seconds passed; returns the last getPretrain answer."""
    deadline = time.monotonic() + timeout
    while True:
        state = api.get_pretrain(model_id)
        if state.status != "Pretraining" or time.monotonic() > deadline:
            return state
        time.sleep(0.05)


# ---------------------------------------------------------------- faults at the HTTP level

_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


@dataclass
class Answer:
    """An upstream answer as a :class:`FaultProxy` passes it on (a rule may change it)."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes


#: ``before(method, path, headers, body)``, before a request is forwarded: an answer to give
#: instead of forwarding it, or None to forward it (it may block, to make a server look slow).
Before = Callable[[str, str, dict[str, str], bytes], Answer | None]
#: ``after(method, path, headers, answer)``: the answer to pass on, or None to drop it (the
#: client's connection is closed without an answer; the upstream did the work).
After = Callable[[str, str, dict[str, str], Answer], Answer | None]


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that went away (the point of some faults) is not an error here


class FaultProxy:
    """A loopback HTTP/1.1 proxy in front of ``upstream`` (a server's ``.../v2`` URL): forwards
    every request, with ``before`` and ``after`` hooks to answer instead, delay, change or drop
    answers; ``url`` is its own ``.../v2`` URL (HTTPS with ``tls=(cert, key)``, mutual TLS with
    ``client_ca``; on ``port``, 0 for a free one). Hooks see headers without hop-by-hop ones."""

    def __init__(
        self,
        upstream: str,
        after: After | None = None,
        *,
        before: Before | None = None,
        port: int = 0,
        tls: tuple[str, str] | None = None,
        client_ca: str | None = None,
    ) -> None:
        self.upstream = urlsplit(upstream)
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP}
                answer = None if before is None else before(self.command, self.path, headers, body)
                if answer is None:
                    answer = proxy.forward(self.command, self.path, headers, body)
                passed = (
                    answer if after is None else after(self.command, self.path, headers, answer)
                )
                if passed is None:
                    self.close_connection = True
                    return
                self.send_response(passed.status)
                for k, v in passed.headers:
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(passed.body)))
                self.end_headers()
                self.wfile.write(passed.body)

            do_GET = do_POST = do_PUT = do_DELETE = _handle

        self.httpd = _QuietServer(("127.0.0.1", port), Handler)
        scheme = "http"
        if tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            if client_ca is not None:
                context.verify_mode = ssl.CERT_REQUIRED
                context.load_verify_locations(client_ca)
            self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
            scheme = "https"
        self.url = f"{scheme}://127.0.0.1:{self.httpd.server_address[1]}{self.upstream.path}"
        threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True).start()

    def forward(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Answer:
        """The upstream's answer to the request."""
        conn = http.client.HTTPConnection(self.upstream.hostname, self.upstream.port, timeout=120)
        try:
            conn.request(method, path, body=body or None, headers=headers)
            upstream = conn.getresponse()
            return Answer(
                upstream.status,
                [(k, v) for k, v in upstream.getheaders() if k.lower() not in _HOP],
                upstream.read(),
            )
        finally:
            conn.close()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
