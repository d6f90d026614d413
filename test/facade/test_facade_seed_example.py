"""The seed's connectivity example runs verbatim and prints the wire keys."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from helpers import write_license_file

SEED_EXAMPLE = """\
import json, sys
from boonamber import AmberClient, AmberCloudError, AmberUserError
try:
    amber = AmberClient()
except AmberUserError as e:
    print(e); sys.exit(1)
try:
    version_info = amber.get_version()
except AmberCloudError as e:
    print(e); sys.exit(1)
print(json.dumps(version_info, indent=4))
"""


def _run(
    tmp_path: Path, home: Path, extra_env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "connect.py"
    script.write_text(SEED_EXAMPLE)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("AMBER_") and not k.lower().endswith("_proxy")
    }
    env.update({"HOME": str(home), **(extra_env or {})})
    return subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=60
    )


def _license(home: Path, profile: dict[str, str]) -> None:
    write_license_file(home / ".Amber.license", {"default": profile})


def test_seed_example_prints_the_version_with_wire_keys(amber_server: Any, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    _license(
        home,
        {
            "username": amber_server.license_key,
            "password": amber_server.secret_key,
            "server": amber_server.url,
        },
    )
    out = _run(tmp_path, home)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stderr == ""
    printed = json.loads(out.stdout)
    assert list(printed)[:2] == ["api-version", "release"]
    assert {
        "swagger-ui",
        "builder",
        "expert-api",
        "expert-common",
        "nano-secure",
        "amber-store",
        "mongolia",
    } <= set(printed)
    assert out.stdout.startswith('{\n    "api-version": ')


def test_seed_example_with_environment_credentials(amber_server: Any, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = {
        "AMBER_SERVER": amber_server.url,
        "AMBER_LICENSE_KEY": amber_server.license_key,
        "AMBER_SECRET_KEY": amber_server.secret_key,
    }
    out = _run(tmp_path, home, env)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "api-version" in json.loads(out.stdout)


def test_seed_example_reports_missing_credentials(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    out = _run(tmp_path, home)
    assert out.returncode == 1
    assert "no server configured" in out.stdout and ".Amber.license" in out.stdout
    assert "Traceback" not in out.stderr


def test_seed_example_reports_rejected_credentials(amber_server: Any, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    _license(
        home,
        {
            "username": amber_server.license_key,
            "password": "not-the-secret",
            "server": amber_server.url,
        },
    )
    out = _run(tmp_path, home)
    assert out.returncode == 1
    assert out.stdout.startswith("401: login rejected")
    assert "not-the-secret" not in out.stdout + out.stderr


def test_seed_example_reports_an_unreachable_server(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    _license(home, {"username": "k", "password": "s", "server": "http://127.0.0.1:9/v2"})
    out = _run(tmp_path, home, {})
    assert out.returncode == 1
    assert out.stdout.startswith("could not connect")
