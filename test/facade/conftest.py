"""Fixtures of the facade tests: clients of the local server, and an HTTP-level proxy that
records every request and injects faults (the only stand-in the facade tests use)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from helpers import Answer, FaultProxy

from boonamber.facade import AmberClient, RetryPolicy

#: Fast retries for tests (the real defaults wait seconds).
FAST_RETRY = RetryPolicy(max_retries=3, initial_backoff=0.01, max_backoff=0.05)


@dataclass
class Seen:
    """One request as it arrived at the proxy."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float
    status: int | None = None
    response: bytes = b""
    forwarded_at: float = 0.0

    def header(self, name: str) -> str | None:
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return None

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    def response_json(self) -> Any:
        return json.loads(self.response) if self.response else None


@dataclass
class Rule:
    """A fault: for requests matching ``match``, answer ``respond`` instead of forwarding,
    or wait ``delay`` seconds before forwarding, or ``hang`` seconds before answering."""

    match: Callable[[Seen], bool]
    respond: tuple[int, dict[str, str], bytes] | None = None
    delay: float = 0.0
    hang: float = 0.0
    times: int | None = None
    hits: int = 0


@dataclass
class RecordingProxy:
    """Records every request through a :class:`helpers.FaultProxy` in front of the local server
    and applies the first matching :class:`Rule` (``url`` ends in ``/v2``)."""

    upstream: str
    url: str = ""
    seen: list[Seen] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    #: the request each thread is handling (between the proxy's two hooks)
    _current: threading.local = field(default_factory=threading.local)

    def add_rule(self, match: Callable[[Seen], bool], **kwargs: Any) -> Rule:
        rule = Rule(match=match, **kwargs)
        with self.lock:
            self.rules.append(rule)
        return rule

    def clear(self) -> None:
        with self.lock:
            self.seen.clear()
            self.rules.clear()

    def requests(self, method: str | None = None, suffix: str | None = None) -> list[Seen]:
        with self.lock:
            items = list(self.seen)
        return [
            s
            for s in items
            if (method is None or s.method == method)
            and (suffix is None or s.path.split("?")[0].endswith(suffix))
        ]

    def _rule_for(self, seen: Seen) -> Rule | None:
        with self.lock:
            for rule in self.rules:
                if (rule.times is None or rule.hits < rule.times) and rule.match(seen):
                    rule.hits += 1
                    return rule
        return None

    def before(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Answer | None:
        """Record the request; wait or answer instead of forwarding as its rule says."""
        seen = Seen(method, path, headers, body, time.monotonic())
        with self.lock:
            self.seen.append(seen)
        rule = self._rule_for(seen)
        self._current.request = (seen, rule)
        if rule is not None and rule.delay:
            time.sleep(rule.delay)
        seen.forwarded_at = time.monotonic()
        if rule is None or rule.respond is None:
            return None
        status, extra, payload = rule.respond
        return Answer(status, list({"Content-Type": "application/json", **extra}.items()), payload)

    def after(self, method: str, path: str, headers: dict[str, str], answer: Answer) -> Answer:
        """Record the answer (after the rule's ``hang``)."""
        seen, rule = self._current.request
        if rule is not None and rule.hang:
            time.sleep(rule.hang)
        seen.status, seen.response = answer.status, answer.body
        return answer


@pytest.fixture
def make_proxy() -> Iterator[Callable[..., RecordingProxy]]:
    """``make_proxy(upstream_url, port=0, tls=(cert, key), client_ca=None)`` -> a started
    :class:`RecordingProxy` (HTTPS when ``tls`` is given; mutual TLS with ``client_ca``)."""
    started: list[FaultProxy] = []

    def make(
        upstream: str,
        port: int = 0,
        tls: tuple[str, str] | None = None,
        client_ca: str | None = None,
    ) -> RecordingProxy:
        proxy = RecordingProxy(upstream=upstream)
        server = FaultProxy(
            upstream, proxy.after, before=proxy.before, port=port, tls=tls, client_ca=client_ca
        )
        started.append(server)
        proxy.url = server.url
        return proxy

    yield make
    for server in started:
        server.close()


@pytest.fixture
def proxy(amber_server: Any, make_proxy: Callable[[str], RecordingProxy]) -> RecordingProxy:
    """A recording proxy in front of the session's local server."""
    return make_proxy(amber_server.url)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> Any:
    """No AMBER_* / proxy variables, and HOME is an empty temporary folder."""
    import os

    for name in list(os.environ):
        if name.startswith("AMBER_") or name.lower().endswith("_proxy"):
            monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    return home


@pytest.fixture
def make_client(
    clean_env: Any,
) -> Iterator[Callable[..., AmberClient]]:
    """``make_client(server_or_proxy, key=None, secret=None, **kwargs)`` with fast retries."""
    clients: list[AmberClient] = []

    def make(
        target: Any, key: str | None = None, secret: str | None = None, **kw: Any
    ) -> AmberClient:
        kw.setdefault("max_retries", FAST_RETRY)
        server = getattr(target, "url", target)
        base = getattr(target, "license_key", None)
        client = AmberClient(
            server=server,
            license_key=key or base or "missing",
            secret_key=secret or getattr(target, "secret_key", None) or "missing",
            **kw,
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def client(amber_server: Any, make_client: Callable[..., AmberClient]) -> AmberClient:
    """A client of the session's local server."""
    return make_client(amber_server)


@pytest.fixture
def proxied(
    amber_server: Any, proxy: RecordingProxy, make_client: Callable[..., AmberClient]
) -> tuple[AmberClient, RecordingProxy]:
    """A client talking to the session's server through a recording proxy."""
    return make_client(proxy.url, amber_server.license_key, amber_server.secret_key), proxy


@pytest.fixture
def new_model() -> Callable[..., str]:
    """``new_model(client, features=1, **configure_kwargs)`` -> id of a configured model."""

    def make(client: AmberClient, features: Any = 1, **config: Any) -> str:
        model_id = client.post_model("test-model")["id"]
        config.setdefault("streaming_window", 1)
        client.configure(model_id, features, **config)
        return str(model_id)

    return make
