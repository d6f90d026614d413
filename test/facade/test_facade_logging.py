"""The ``boonamber`` logger: one record per request, retry and token renewal, no secrets,
and ``AMBER_LOG`` as the only way the library configures logging."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from typing import Any

import pytest

from boonamber.facade import AmberCloudError

BUSY = (503, {}, b'{"code": 503, "message": "busy"}')


def messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "boonamber"]


def test_one_record_per_request_retry_and_login(
    proxied: tuple[Any, Any], amber_server: Any, caplog: pytest.LogCaptureFixture
) -> None:
    client, proxy = proxied
    caplog.set_level(logging.DEBUG, logger="boonamber")
    client.get_version()
    proxy.add_rule(lambda s: s.path.endswith("/models"), respond=BUSY, times=1)
    client.get_models()
    lines = messages(caplog)
    assert any(m.startswith("token login: valid") for m in lines), lines
    assert sum(m.startswith("POST /oauth2/access -> 200 in ") for m in lines) == 1
    assert sum(m.startswith("GET /version -> 200 in ") for m in lines) == 1
    assert next(m for m in lines if m.startswith("GET /models")).startswith("GET /models -> 503")
    assert any(m.startswith("GET /models -> 200") and "(attempt 2)" in m for m in lines)
    retry = [m for m in lines if m.startswith("retry 1 of 3 in ")]
    assert len(retry) == 1 and "busy" in retry[0]
    assert all(r.levelno == logging.DEBUG for r in caplog.records if r.name == "boonamber")
    secrets = [amber_server.license_key, amber_server.secret_key, client._transport.tokens.get()]
    for text in lines:
        assert not any(s in text for s in secrets), text


def test_refresh_is_logged(
    fresh_server: Any, make_client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    import time

    server = fresh_server(token_ttl=1.0)
    client = make_client(server.url, server.license_key, server.secret_key)
    caplog.set_level(logging.DEBUG, logger="boonamber")
    client.get_models()
    time.sleep(0.6)
    client.get_models()
    assert any(m.startswith("token refreshed: valid") for m in messages(caplog))


def test_errors_say_how_many_attempts(
    proxied: tuple[Any, Any], caplog: pytest.LogCaptureFixture
) -> None:
    client, proxy = proxied
    client.get_version()
    proxy.add_rule(lambda s: s.path.endswith("/models"), respond=BUSY)
    with pytest.raises(AmberCloudError) as info:
        client.get_models()
    assert info.value.attempts == 4 and info.value.message == "busy"
    assert "[4 attempts in " in str(info.value)


SCRIPT = """
import logging
from boonamber import AmberClient
with AmberClient.local() as amber:
    amber.get_version()
print(len(logging.getLogger("boonamber").handlers), logging.getLogger().handlers)
"""


@pytest.mark.parametrize(("value", "shown"), [("debug", True), ("info", False), ("", False)])
def test_amber_log_turns_on_a_stderr_handler(clean_env: Any, value: str, shown: bool) -> None:
    env = {k: v for k, v in os.environ.items() if k != "AMBER_LOG"}
    if value:
        env["AMBER_LOG"] = value
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert ("GET /version -> 200" in done.stderr) is shown
    handlers, root = done.stdout.split(" ", 1)
    assert int(handlers) == (1 if value else 0)  # no handler unless AMBER_LOG asks
    assert root.strip() == "[]"  # the root logger is never touched
