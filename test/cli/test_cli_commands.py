"""Every ``boonamber`` subcommand against the local server (in-process, via ``main``)."""

from __future__ import annotations

import csv
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from helpers import write_license_file

from boonamber.cli import main
from boonamber.cli.demo_data import Fault, GroundTruth, load_truth, motor_current

if TYPE_CHECKING:
    from boonamber.local.embedded import EmbeddedServer


@dataclass
class Result:
    rc: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


Run = Callable[..., Result]


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No credentials leak in from the developer's environment or home folder."""
    for name in list(os.environ):
        if name.startswith("AMBER_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def write_license(path: Path, url: str, license_key: str, secret_key: str) -> Path:
    profile = {"server": url, "license-key": license_key, "secret-key": secret_key}
    return write_license_file(path, {"default": profile})


@pytest.fixture
def license_file(amber_server: EmbeddedServer, tmp_path: Path) -> Path:
    """A license file for a fresh account of the shared server (so the model list is ours)."""
    lk, sk = amber_server.create_account()
    return write_license(tmp_path / "amber.license", amber_server.url, lk, sk)


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str], license_file: Path) -> Run:
    """``run("models", "list")``: main() with ``--license-file`` appended; returns the output."""

    def _run(*args: str, creds: bool = True) -> Result:
        argv = [*args, "--license-file", str(license_file)] if creds else list(args)
        rc = main(argv)
        captured = capsys.readouterr()
        return Result(rc, captured.out, captured.err)

    return _run


@pytest.fixture
def model(run: Run) -> Iterator[str]:
    """A new model id (deleted afterwards if the test did not)."""
    res = run("models", "create", "cli-test", "--json")
    assert res.rc == 0, res.err
    model_id = str(res.json()["id"])
    yield model_id
    run("models", "delete", model_id)


def one_line_error(res: Result) -> str:
    assert res.rc == 1
    assert res.out == ""
    lines = res.err.strip().splitlines()
    assert len(lines) == 1, res.err
    assert lines[0].startswith("boonamber: error: ")
    return lines[0]


# --------------------------------------------------------------------------- models


def test_models_create_list_show_delete(run: Run, license_file: Path) -> None:
    res = run("models", "list")
    assert res.rc == 0 and res.out.strip() == "no models"

    res = run("models", "create", "pump-7")
    assert res.rc == 0
    model_id = re.fullmatch(r"created model (\w+) \(pump-7\)\n", res.out).group(1)  # type: ignore[union-attr]

    res = run("models", "list")
    assert model_id in res.out and "pump-7" in res.out and res.out.startswith("ID")
    assert re.search(rf"{model_id} +pump-7 +20\d\d-", res.out)  # with its creation time
    listed = run("models", "list", "--json").json()
    assert [m["id"] for m in listed["modelList"]] == [model_id]

    res = run("models", "show", model_id)
    assert res.rc == 0
    assert f"model     {model_id}  pump-7" in res.out
    assert "config    not configured" in res.out
    shown = run("models", "show", model_id, "--json").json()
    assert shown["model"]["label"] == "pump-7" and shown["config"] is None

    # Options before the subcommand work too.
    res = run(
        "--license-file", str(license_file), "--json", "models", "show", model_id, creds=False
    )
    assert res.rc == 0 and res.json()["model"]["id"] == model_id

    res = run("models", "delete", model_id)
    assert res.rc == 0 and res.out.strip() == f"deleted model {model_id}"
    assert run("models", "list").out.strip() == "no models"


def test_unknown_model_is_one_error_line(run: Run) -> None:
    line = one_line_error(run("status", "000000000000000000000000"))
    assert "404" in line
    line = one_line_error(run("models", "delete", "000000000000000000000000"))
    assert "404" in line


def test_no_credentials_suggests_local(capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["models", "list"])
    line = one_line_error(Result(rc, *capsys.readouterr()))
    assert "--local" in line


def test_bad_license_file_and_profile(run: Run, tmp_path: Path, license_file: Path) -> None:
    line = one_line_error(run("models", "list", "--profile", "nope"))
    assert "nope" in line
    bad = tmp_path / "bad.license"
    bad.write_text("{not json")
    bad.chmod(0o600)
    line = one_line_error(run("models", "list", "--license-file", str(bad), creds=False))
    assert "bad.license" in line
    # Secrets never appear in the error.
    secret = json.loads(license_file.read_text())["default"]["secret-key"]
    assert secret not in line


def test_local_flag_conflicts_with_server(run: Run) -> None:
    line = one_line_error(run("models", "list", "--local", "--server", "http://x/v2", creds=False))
    assert "--local cannot be combined" in line


def test_models_list_local(run: Run) -> None:
    res = run("models", "list", "--local", creds=False)
    assert res.rc == 0 and res.out.strip() == "no models"


# --------------------------------------------------------------------------- config, status


def test_config_show_and_set(run: Run, model: str) -> None:
    res = run(
        "config",
        model,
        "--features",
        "temp,pressure",
        "--window",
        "3",
        "--range",
        "0:100",
        "--range",
        "1:5",
        "--weights",
        "2,1",
        "--buffering-samples",
        "100",
        "--learning-max-samples",
        "400",
        "--history-window",
        "50",
        "--no-autotune-pv",
        "--percent-variation",
        "0.07",
    )
    assert res.rc == 0, res.err
    assert res.out.startswith(f"configured model {model}\n")
    assert "2 features (temp, pressure), streaming window 3, percent variation 0.07" in res.out
    assert "temp: range 0.0 .. 100.0 (configured), weight 2" in res.out
    assert "pressure: range 1.0 .. 5.0 (configured), weight 1" in res.out

    cfg = run("config", model, "--json").json()
    assert cfg["streamingWindow"] == 3
    assert [f["name"] for f in cfg["features"]] == ["temp", "pressure"]
    assert cfg["training"]["bufferingSamples"] == 100
    assert cfg["training"]["historyWindow"] == 50
    assert cfg["autotuning"]["percentVariation"] is False

    res = run("config", model)
    assert res.rc == 0 and "streaming window 3" in res.out

    shown = run("models", "show", model)
    assert "config    2 features" in shown.out and "status    Buffering" in shown.out

    res = run("config", model, "--features", "3")
    assert res.rc == 0 and "feature-0, feature-1, feature-2" in res.out
    assert "feature-0: range autotuned (after buffering)" in res.out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--window", "5"], "needs --features"),
        (["--features", "0"], "at least 1"),
        (["--features", "2", "--range", "1:0"], "MIN must be below MAX"),
        (["--features", "2", "--range", "a:b"], "expected MIN:MAX"),
        (["--features", "3", "--range", "0:1", "--range", "0:2"], "one per feature"),
        (["--features", "2", "--weights", "x"], "comma-separated integers"),
        (
            ["--features", "2", "--window", "0"],
            "--window: input should be greater than or equal to 1",
        ),
    ],
)
def test_config_errors(run: Run, model: str, args: list[str], message: str) -> None:
    line = one_line_error(run("config", model, *args))
    assert message.lower() in line.lower()


def test_status(run: Run, model: str) -> None:
    run("config", model, "--features", "1", "--window", "5")
    res = run("status", model)
    assert res.rc == 0
    assert res.out.startswith(f"model {model}: Buffering (0 %)")
    st = run("status", model, "--json").json()
    assert st["state"] == "Buffering" and st["clusterCount"] == 0


def test_version(run: Run, amber_server: EmbeddedServer) -> None:
    import boonamber

    res = run("version")
    assert res.rc == 0
    assert res.out.startswith(f"boonamber {boonamber.__version__}\nserver at {amber_server.url}:")
    assert "api-version: " in res.out
    data = run("version", "--json").json()
    assert data["client"] == boonamber.__version__ and "api-version" in data["server"]

    # Nothing configured: the client version and a note, still success.
    res = run("version", creds=False)
    assert res.rc == 0
    assert res.out.startswith(f"boonamber {boonamber.__version__}\nserver: not configured")

    res = run("version", "--local", creds=False)
    assert res.rc == 0 and "api-version" in res.out


# --------------------------------------------------------------------------- stream, pretrain


@pytest.fixture(scope="module")
def small_data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """3,000 normal rows of the motor signal, then the locked-rotor fault with context."""
    ds = motor_current()
    values = ds.values[:, 0]
    fault = ds.truth.faults[0]

    def before_cycle(pos: int) -> int:
        """An index 5 samples before the next start-up ramp: splicing there is seamless."""
        while not (values[pos] > 0.95 and values[pos + 1 : pos + 6].min() > 0.9):
            pos += 1
        return pos - 5

    cut, resume = before_cycle(2990), before_cycle(fault.start - 210)
    rows = list(values[:cut]) + list(values[resume : fault.end + 300])
    shift = resume - cut
    folder = tmp_path_factory.mktemp("data")
    csv_path = folder / "small.csv"
    csv_path.write_text("motor_current\n" + "".join(f"{v:.4f}\n" for v in rows))
    truth = GroundTruth(
        name="small",
        seed=ds.truth.seed,
        generator_version=ds.truth.generator_version,
        samples=len(rows),
        features=["motor_current"],
        training_samples=cut,
        faults=[Fault(fault.kind, fault.start - shift, fault.end - shift, ["motor_current"], "")],
    )
    truth_path = folder / "small.truth.json"
    truth_path.write_text(truth.to_json())
    return csv_path, truth_path


def configure_small(run: Run, model: str) -> None:
    res = run(
        "config",
        model,
        "--features",
        "1",
        "--window",
        "25",
        "--buffering-samples",
        "1000",
        "--learning-max-samples",
        "3000",
    )
    assert res.rc == 0, res.err


def test_stream_reports_the_fault(
    run: Run, model: str, small_data: tuple[Path, Path], tmp_path: Path
) -> None:
    pytest.importorskip("matplotlib")
    csv_path, truth_path = small_data
    configure_small(run, model)
    out_csv, png = tmp_path / "results.csv", tmp_path / "run.png"
    res = run(
        "stream",
        model,
        str(csv_path),
        "--batch",
        "500",
        "--truth",
        str(truth_path),
        "--out",
        str(out_csv),
        "--plot",
        str(png),
    )
    assert res.rc == 0, res.err
    truth = load_truth(truth_path)
    n, fault = truth.samples, truth.faults[0]
    assert f"streamed {n:,} vectors of small.csv to model {model} in 8 requests" in res.out
    # Buffering 1,000 vectors, then Autotuning waits 1,250 more
    assert (
        "States      Buffering (from the start) → Autotuning (from vector 1,000) → "
        "Learning (from vector 2,250)"
    ) in res.out
    assert "Monitoring (from vector 3,000" in res.out
    assert "recall 1/1 = 100%, false alarms 0" in res.out
    assert "locked_rotor" in res.out and "Root cause  strongest anomaly (#1" in res.out
    assert f"analytics written to {out_csv}" in res.out and f"plot written to {png}" in res.out
    assert png.read_bytes()[:4] == b"\x89PNG"
    with out_csv.open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == n and rows[0]["index"] == "0"
    assert set(rows[0]) >= {"motor_current", "ID", "SI", "AD", "AW", "PI"}
    flagged = [int(r["index"]) for r in rows if r["AD"] == "1"]
    assert flagged and fault.start <= flagged[0] < fault.start + 50


def test_stream_json_and_limits(run: Run, model: str, small_data: tuple[Path, Path]) -> None:
    csv_path, _ = small_data
    configure_small(run, model)
    data = run("stream", model, str(csv_path), "--limit", "1200", "--batch", "300", "--json").json()
    assert data["vectors"] == 1200 and data["requests"] == 4
    assert [s["state"] for s in data["states"]] == ["Buffering", "Autotuning"]
    assert data["anomalies"] == [] and "ground_truth" not in data
    assert data["status"]["state"] == "Autotuning"


def test_stream_errors(run: Run, model: str, small_data: tuple[Path, Path], tmp_path: Path) -> None:
    csv_path, _ = small_data
    line = one_line_error(run("stream", model, str(csv_path)))
    assert "not configured" in line and "boonamber config" in line
    run("config", model, "--features", "1")
    two = tmp_path / "two.csv"
    two.write_text("a,b\n1,2\n3,4\n")
    line = one_line_error(run("stream", model, str(two)))
    assert "two.csv: 2 columns but the model has 1 feature (feature-0)" in line
    assert "--columns" in line
    res = run("stream", model, str(two), "--columns", "b", "--json")
    assert res.rc == 0 and res.json()["vectors"] == 2
    line = one_line_error(run("stream", model, str(tmp_path / "missing.csv")))
    assert "missing.csv" in line
    bad = tmp_path / "bad.csv"
    bad.write_text("x\n1\nfoo\n")
    line = one_line_error(run("stream", model, str(bad)))
    assert "line 3" in line
    line = one_line_error(run("stream", model, str(two), "--columns", "b", "--batch", "0"))
    assert "--batch" in line


def test_pretrain_then_status(run: Run, model: str, small_data: tuple[Path, Path]) -> None:
    csv_path, _ = small_data
    run("config", model, "--features", "1", "--window", "25")
    res = run("pretrain", model, str(csv_path), "--limit", "3000", "--chunk-size", "700")
    assert res.rc == 0, res.err
    assert f"pretrained model {model} with 3,000 vectors (3,000 values)" in res.out
    assert "state Monitoring" in res.out
    st = run("status", model, "--json").json()
    assert st["state"] == "Monitoring" and st["graduation"] == "pretrain"
    data = run("pretrain", model, str(csv_path), "--limit", "1000", "--json").json()
    assert data["status"]["state"] == "Monitoring" and data["values"] == 1000
    line = one_line_error(run("pretrain", model, str(csv_path), "--chunk-size", "0"))
    assert "--chunk-size" in line


def test_progress_bars_go_to_stderr(run: Run, model: str, small_data: tuple[Path, Path]) -> None:
    pytest.importorskip("tqdm")
    csv_path, _ = small_data
    configure_small(run, model)
    res = run("stream", model, str(csv_path), "--limit", "600", "--batch", "200", "--progress")
    assert res.rc == 0
    assert "streaming" in res.err and "600/600" in res.err
    assert "streaming:" not in res.out
    res = run("pretrain", model, str(csv_path), "--limit", "900", "--progress")
    assert res.rc == 0 and "uploading" in res.err and "pretraining" in res.err


def test_stream_plot_without_matplotlib_fails_first(
    run: Run, model: str, small_data: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from boonamber.cli import plot

    def missing() -> None:
        raise plot.PlotUnavailable(plot.INSTALL_HINT)

    monkeypatch.setattr(plot, "check_available", missing)
    csv_path, _ = small_data
    configure_small(run, model)
    line = one_line_error(run("stream", model, str(csv_path), "--plot", "x.png"))
    assert "pip install 'boonamber[plot]'" in line
    assert run("status", model, "--json").json()["sampleCount"] == 0  # nothing was sent


# --------------------------------------------------------------------------- serve


def test_serve_creates_a_license_and_serves(tmp_path: Path) -> None:
    db = tmp_path / "amber.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AMBER_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "boonamber", "serve", "--port", "0", "--db", str(db)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    try:
        assert proc.stdout is not None
        lines: list[str] = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "license profile" in line:
                break
        text = "".join(lines)
        url = re.search(r"listening on (http://\S+/v2)", text)
        lic = re.search(r"is in (\S+)", text)
        assert url and lic, text
        license_path = Path(lic.group(1))
        if not license_path.is_absolute():
            license_path = tmp_path / license_path
        profile = json.loads(license_path.read_text())["default"]
        assert profile["server"] == url.group(1)
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "boonamber",
                "models",
                "list",
                "--license-file",
                str(license_path),
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        assert out.returncode == 0, out.stderr
        assert out.stdout.strip() == "no models"
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:  # pragma: no cover
            proc.kill()
            raise
