"""``boonamber demo``: one full run as a user would start it, plus the fusion set and a run
without matplotlib."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from boonamber.cli import main


def test_demo_full_run(tmp_path: Path) -> None:
    """The README's command, in a subprocess, from an empty folder: exits 0 well under a
    minute, prints the report, finds every injected fault, writes amber-demo.png."""
    pytest.importorskip("matplotlib")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AMBER_")}
    env["HOME"] = str(tmp_path)
    t0 = time.monotonic()
    res = subprocess.run(
        [sys.executable, "-m", "boonamber", "demo"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
        check=False,
    )
    elapsed = time.monotonic() - t0
    assert res.returncode == 0, res.stderr
    out = res.stdout
    assert elapsed < 45, f"demo took {elapsed:.1f} s"
    for text in (
        "boonamber demo: 30,000 samples of motor_current.csv",
        "Starting the embedded local Amber server",
        "States      Buffering (from the start) → Autotuning (from vector 4,000) → "
        "Learning (from vector 9,000) → Monitoring",
        "Clusters    ",
        "Anomalies   7 events",
        "Warnings    level 1: ",
        "Root cause  strongest anomaly",
        "Truth       recall 7/7 = 100%, false alarms 0 ",
        "Plot written to amber-demo.png",
        " deleted. Done in ",
    ):
        assert text in out, f"{text!r} missing from:\n{out}"
    png = tmp_path / "amber-demo.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert png.stat().st_size > 50_000


def test_demo_fusion_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    rc = main(["demo", "--dataset", "fusion", "--no-plot", "--json"])
    assert rc == 0
    data = json.loads(capsys.readouterr().out)
    truth = data["ground_truth"]
    assert (truth["detected"], truth["total"], truth["false_alarm_events"]) == (4, 4, 0)
    # Each anomaly's root cause points at the feature the fault was injected into.
    faulty = {
        "bearing_overheat": "bearing_temp",
        "imbalance": "vibration_rms",
        "overload": "motor_current",
        "speed_hunting": "speed_rpm",
    }
    assert {e["fault"]: e["top_feature"] for e in data["anomalies"]} == faulty
    assert data["plot"] is None and not list(tmp_path.iterdir())
    states = [s["state"] for s in data["states"]]
    assert states == ["Buffering", "Autotuning", "Learning", "Monitoring"]


def test_demo_without_matplotlib_still_reports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from boonamber.cli import plot

    def missing() -> None:
        raise plot.PlotUnavailable(plot.INSTALL_HINT)

    monkeypatch.setattr(plot, "check_available", missing)
    monkeypatch.chdir(tmp_path)
    rc = main(["demo", "--dataset", "fusion", "--limit", "3000", "--batch", "1000"])
    out, err = capsys.readouterr()
    assert rc == 0
    assert "pip install 'boonamber[plot]'" in err
    assert "Plot written" not in out and not (tmp_path / "amber-demo.png").exists()
    assert (
        "States      Buffering (from the start) → Autotuning (from vector 1,000) → "
        "Learning (from vector 2,250)"
    ) in out


def test_demo_regenerates_data_outside_a_checkout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import boonamber.cli.demo_data as dd

    monkeypatch.setattr(dd, "bundled_data_dir", lambda: None)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    rc = main(["demo", "--dataset", "fusion", "--no-plot", "--limit", "1500"])
    out = capsys.readouterr().out
    assert rc == 0
    assert "cache/boonamber/data-v1/fusion.csv" in out
    assert (tmp_path / "cache" / "boonamber" / "data-v1" / "fusion.truth.json").is_file()


def test_demo_bad_limit(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--limit", "0", "--no-plot"]) == 1
    assert capsys.readouterr().err.strip() == "boonamber: error: --limit must be at least 1"
