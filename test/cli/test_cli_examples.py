"""Every example in ``examples/``: with the account of a license file (then nothing is left
behind), with ``--local``, and with no credentials at all (one line suggesting ``--local``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from helpers import ROOT

if TYPE_CHECKING:
    from boonamber.local.embedded import EmbeddedServer

EXAMPLES = ROOT / "examples"

#: example -> (extra arguments for the test, text the output must contain)
CASES: dict[str, tuple[list[str], list[str]]] = {
    "connect-example.py": ([], ['"api-version": "2.1.0"', '"expert-api"']),
    "full-example.py": (
        [],
        [
            "== get_version",
            "== get_models",
            "== post_model",
            "== get_model",
            "== put_model",
            "== post_config (configure)",
            "== get_config",
            "== post_data (800 vectors",
            "== put_data",
            "== get_status",
            "== get_nano_status",
            "== get_summary",
            "== get_root_cause",
            "== post_learning",
            "== post_outage",
            "== get_usage",
            "== copy_model",
            "== post_pretrain",
            "== get_pretrain",
            "== get_diagnostic",
            "== migrate_model\nexpected error: HTTP 404",
            "== delete_model",
            'state: "Monitoring"',
            'status: "Pretrained"',
        ],
    ),
    "fusion-example.py": (
        [],
        [
            "only speed_rpm submits",
            "'vibration_rms': 1.21, 'bearing_temp': None",
            "trained on 4000 rows: Monitoring",
            "anomaly 1",
            "(injected fault: vibration_rms):\n  vibration_rms  1.00",
        ],
    ),
    "stream-advanced.py": (
        ["--limit", "14000", "--batch", "500"],
        [
            "State: Buffering(",
            "State: Learning(",
            "State: Monitoring(100%)",
            "\nSI: ",
            "\nAD: ",
            "Root Cause:\n\t-1: motor_current=1.000000",
        ],
    ),
    "official-style.py": (
        [],
        [
            "read 3000 rows of motor_current, vibration_rms, bearing_temp, speed_rpm",
            "features: ['motor_current', 'feature-1', 'bearing_temp', 'speed_rpm']",
            "state Monitoring",
            "status: Monitoring, ",
            "root cause of cluster 1: ",
            "pretrain: Pretrained in 4 chunks of 12000 bytes",
            "pretrained model state: Monitoring",
            "enable_learning: state Learning",
            "'feature-1': 1.4",
            "copy: amber.sdk.example:official (source: amber.sdk.example:official)",
            "-diagnostic.tar",
            "deleted; models left: 0",
        ],
    ),
    "pretrain-example.py": (
        ["--chunk-size", "4000"],
        [
            "pretraining with 12000 samples in 3 chunks",
            "sent 12000 of 12000 values",
            "pretrain status: Pretrained",
            "model state: Monitoring (pretrain)",
            "found 7 of 7 injected faults",
        ],
    ),
    "learning-example.py": (
        [],
        [
            "training: 2000 vectors -> Monitoring, 10 clusters, 0 without a cluster",
            "new mode (monitoring): 100 vectors -> Monitoring, 10 clusters, 100 without a cluster",
            "post_learning: state Learning",
            "new mode (monitoring): 100 vectors -> Monitoring, 11 clusters, 0 without a cluster",
        ],
    ),
}


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment minus any Amber settings, with a throw-away home and cache."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AMBER_")}
    env.update(HOME=str(tmp_path / "home"), XDG_CACHE_HOME=str(tmp_path / "cache"), **extra)
    return env


def run_example(
    name: str, args: list[str], env: dict[str, str], cwd: Path
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=120,
        check=False,
    )


def test_every_example_is_covered() -> None:
    assert sorted(p.name for p in EXAMPLES.glob("*.py")) == sorted(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_example_with_configured_account(
    name: str, amber_server: EmbeddedServer, tmp_path: Path
) -> None:
    """Credentials from the license file, unchanged; everything created is deleted."""
    from boonamber import AmberClient

    lk, sk = amber_server.create_account()
    lic = tmp_path / "amber.license"
    lic.write_text(
        json.dumps({"default": {"server": amber_server.url, "license-key": lk, "secret-key": sk}})
    )
    lic.chmod(0o600)
    args, expected = CASES[name]
    res = run_example(name, args, clean_env(tmp_path, AMBER_LICENSE_FILE=str(lic)), tmp_path)
    assert res.returncode == 0, res.stderr
    for text in expected:
        assert text in res.stdout, f"{text!r} missing from the output of {name}"
    with AmberClient(license_file=lic) as amber:
        assert amber.get_models()["modelList"] == []


@pytest.mark.parametrize(
    "name", ["connect-example.py", "full-example.py", "learning-example.py", "official-style.py"]
)
def test_example_local(name: str, tmp_path: Path) -> None:
    args, expected = CASES[name]
    res = run_example(name, [*args, "--local"], clean_env(tmp_path), tmp_path)
    assert res.returncode == 0, res.stderr
    for text in expected:
        assert text in res.stdout


@pytest.mark.parametrize("name", sorted(CASES))
def test_example_without_credentials_suggests_local(name: str, tmp_path: Path) -> None:
    res = run_example(name, CASES[name][0], clean_env(tmp_path), tmp_path)
    assert res.returncode != 0
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert "--local" in lines[0]
    assert "Traceback" not in res.stderr
