"""The ``serve`` command: argument parsing, license files and a clean stop on SIGTERM."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import urllib3

from boonamber.local.cli import add_serve_arguments, default_license_path
from boonamber.profiles import read_profile, write_profile


def test_serve_arguments_defaults() -> None:
    parser = argparse.ArgumentParser()
    add_serve_arguments(parser)
    args = parser.parse_args([])
    assert args.host == "127.0.0.1" and args.token_ttl == 3600.0 and args.profile == "default"
    args = parser.parse_args(["--port", "9", "--db", "x.db", "--token-ttl", "60"])
    assert (args.port, args.db, args.token_ttl) == (9, "x.db", 60.0)
    assert default_license_path("x.db") == "x.db.license"


def test_write_profile_keeps_other_profiles(tmp_path: Path) -> None:
    path = str(tmp_path / "lic.json")
    Path(path).write_text(json.dumps({"cloud": {"license-key": "a", "secret-key": "b"}}))
    write_profile(path, "local", "lk", "sk", "http://127.0.0.1:1/v2")
    data = json.loads(Path(path).read_text())
    assert data["cloud"] == {"license-key": "a", "secret-key": "b"}
    assert data["local"]["license-key"] == "lk" and data["local"]["server"].endswith("/v2")
    assert read_profile(path, "local") == data["local"]
    assert os.stat(path).st_mode & 0o777 == 0o600


def test_serve_first_start_writes_credentials_without_printing_the_secret(tmp_path: Path) -> None:
    db = str(tmp_path / "first.db")
    proc = subprocess.Popen(
        [sys.executable, "-m", "boonamber.local", "serve", "--port", "0", "--db", db],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while not os.path.exists(db + ".license") and time.monotonic() < deadline:
            time.sleep(0.02)
        profile = read_profile(db + ".license", "default")
        assert profile is not None
        r = urllib3.request(
            "POST",
            profile["server"] + "/oauth2/access",
            body=json.dumps(
                {"licenseKey": profile["license-key"], "secretKey": profile["secret-key"]}
            ),
        )
        assert r.status == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert profile["license-key"].encode() in out
    assert profile["secret-key"].encode() not in out + err
