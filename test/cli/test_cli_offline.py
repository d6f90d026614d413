"""The CLI's server-free parts: data generator, CSV reader, report, plot, argument parsing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import ROOT

from boonamber.cli import build_parser, main
from boonamber.cli.csvdata import CsvError, read_table
from boonamber.cli.demo_data import (
    DEFAULT_SEED,
    GroundTruth,
    ensure_data,
    fusion,
    load_truth,
    motor_current,
    write_dataset,
)
from boonamber.cli.report import (
    StreamRecord,
    find_events,
    format_report,
    jsonable,
    score,
    strongest,
    summary_dict,
)

DATA = ROOT / "examples" / "data"


# --------------------------------------------------------------------------- data generator


def test_generator_is_deterministic() -> None:
    a, b = motor_current(), motor_current()
    assert a.to_csv() == b.to_csv()
    assert a.truth == b.truth
    assert motor_current(seed=DEFAULT_SEED + 1).to_csv() != a.to_csv()


@pytest.mark.parametrize("make", [motor_current, fusion])
def test_generated_faults_are_after_training_and_inside(make) -> None:  # type: ignore[no-untyped-def]
    ds = make()
    t = ds.truth
    assert ds.values.shape == (t.samples, len(t.features))
    assert t.faults, "no faults injected"
    for f in t.faults:
        assert t.training_samples <= f.start < f.end <= t.samples
        assert set(f.features) <= set(t.features)
    starts = [f.start for f in t.faults]
    assert starts == sorted(starts)
    # Faults do not overlap.
    for f, g in zip(t.faults, t.faults[1:], strict=False):
        assert f.end <= g.start


def test_committed_example_data_matches_the_generator() -> None:
    script = DATA / "generate.py"
    out = subprocess.run(
        [sys.executable, str(script), "--check"], capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr
    sizes = sum(p.stat().st_size for p in DATA.glob("*.csv"))
    assert sizes < 3_000_000


def test_generate_script_writes_files(tmp_path: Path) -> None:
    script = DATA / "generate.py"
    out = subprocess.run(
        [sys.executable, str(script), "--out", str(tmp_path), "--seed", "7"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "motor_current.csv" in out.stdout
    truth = load_truth(tmp_path / "motor_current.truth.json")
    assert truth.seed == 7 and len(truth.faults) == 7
    table = read_table(tmp_path / "fusion.csv")
    assert table.names == ["motor_current", "vibration_rms", "bearing_temp", "speed_rpm"]
    assert len(table.rows) == 10_000
    # --check against another seed's files fails with a hint.
    bad = subprocess.run(
        [sys.executable, str(script), "--out", str(tmp_path), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 1 and "out of date" in bad.stderr


def test_ensure_data_regenerates_into_cache_when_no_checkout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import boonamber.cli.demo_data as dd

    monkeypatch.setattr(dd, "bundled_data_dir", lambda: None)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    csv_path, truth_path = ensure_data("motor_current")
    assert csv_path.is_relative_to(tmp_path)
    assert csv_path.read_text() == (DATA / "motor_current.csv").read_text()
    assert truth_path.read_text() == (DATA / "motor_current.truth.json").read_text()
    # Second call reuses the cached copy.
    assert ensure_data("motor_current") == (csv_path, truth_path)
    with pytest.raises(ValueError, match="unknown data set"):
        ensure_data("nope")


def test_ensure_data_prefers_the_checkout() -> None:
    csv_path, truth_path = ensure_data("fusion")
    assert csv_path == DATA / "fusion.csv"
    assert truth_path == DATA / "fusion.truth.json"


def test_truth_round_trip(tmp_path: Path) -> None:
    ds = fusion()
    _, truth_path = write_dataset(ds, tmp_path)
    assert load_truth(truth_path) == ds.truth
    raw = json.loads(truth_path.read_text())
    assert GroundTruth.from_dict(raw) == ds.truth


# --------------------------------------------------------------------------- CSV reader


def test_read_table_header_columns_and_limit(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("a,b,c\n1,2,3\n\n4,5,6\n7,8,9\n")
    t = read_table(path)
    assert t.names == ["a", "b", "c"] and t.rows == [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
    assert read_table(path, columns=["c", "1"], limit=2).rows == [[3, 1], [6, 4]]
    assert t.flat() == [1, 2, 3, 4, 5, 6, 7, 8, 9]
    assert t.columns[1] == [2, 5, 8]


def test_read_table_without_header(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("1.5\n-2e-3\n")
    t = read_table(path)
    assert t.names == ["feature-0"] and t.rows == [[1.5], [-0.002]]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a,b\n1,2\n3\n", "line 3: 1 value, expected 2"),
        ("a,b\n1,x\n", "line 2, column 'b' is not a number: 'x'"),
        ("a\nnan\n", "line 2, column 'a' is not a finite number: 'nan'"),
        ("a\n1e999\n", "line 2, column 'a' is not a finite number: '1e999'"),
        ("1,nan\n", "line 1, column 'feature-1' is not a finite number"),
        ("a,b\n", "no data rows"),
        ("", "no data rows"),
    ],
)
def test_read_table_rejects(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "d.csv"
    path.write_text(text)
    with pytest.raises(CsvError, match=message):
        read_table(path)


def test_read_table_unknown_column_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(CsvError, match="no column 'z'"):
        read_table(path, columns=["z"])
    with pytest.raises(CsvError, match="cannot read"):
        read_table(tmp_path / "missing.csv")


# --------------------------------------------------------------------------- report


def _response(state: str, ad: list[int], ids: list[int] | None = None) -> dict[str, object]:
    n = len(ad)
    return {
        "analytics": {
            "ID": ids or [1] * n,
            "SI": [1000 if v else 10 for v in ad],
            "AD": ad,
            "AW": [2 if v else 0 for v in ad],
        },
        "status": {"state": state, "clusterCount": 3, "warningLevel": 0},
    }


def test_stream_record_pads_empty_buffering_analytics() -> None:
    rec = StreamRecord()
    rec.add({"analytics": {}, "status": {"state": "Buffering"}}, 4)
    rec.add(_response("Learning", [0, 0]), 2)
    rec.add(_response("Monitoring", [0, 1, 1, 0], [1, -1, -2, 1]), 4)
    assert rec.vectors == 10 and rec.requests == 3
    assert rec.analytics["AD"] == [0, 0, 0, 0, 0, 0, 0, 1, 1, 0]
    assert rec.analytics["NI"] == [0] * 10
    # Learning from its first cluster id; Monitoring after the request that graduated.
    assert rec.states == [(0, "Buffering"), (4, "Learning"), (10, "Monitoring")]
    assert rec.state_at(5) == "Learning" and rec.state_at(10) == "Monitoring"


def test_events_score_and_report() -> None:
    from boonamber.cli.demo_data import Fault

    ad = [0] * 100
    for i in [*range(20, 25), *range(28, 30), *range(70, 72)]:
        ad[i] = 1
    ids = [-(i + 1) if ad[i] else 1 for i in range(100)]
    analytics = {"AD": ad, "SI": [1000 * v for v in ad], "AW": [2 * v for v in ad], "ID": ids}
    events = find_events(analytics, merge_gap=5)
    assert [(e.start, e.end, e.flagged) for e in events] == [(20, 30, 7), (70, 72, 2)]
    assert events[0].cluster_id < 0
    assert strongest(events) is events[0]
    truth = GroundTruth(
        name="t",
        seed=1,
        generator_version=1,
        samples=100,
        features=["x"],
        training_samples=10,
        faults=[Fault("spike", 15, 22, ["x"], ""), Fault("quiet", 40, 45, ["x"], "")],
    )
    sc = score(analytics, truth, window=1, monitoring_start=10, events=events)
    assert (sc.detected, sc.total) == (1, 2)
    assert sc.false_alarm_events == 1 and sc.false_alarm_samples == 2
    assert sc.faults[0].latency == 5 and not sc.faults[1].detected
    assert events[0].fault == "spike" and events[1].fault is None

    rec = StreamRecord()
    rec.add(_response("Monitoring", ad, ids), 100)
    text = format_report(
        rec, events, root_cause={"x": 1.0}, root_cause_event=events[0], scored=sc, threshold=990
    )
    assert "recall 1/2 = 50%" in text and "false alarms 1" in text
    assert "Root cause  strongest anomaly (#1" in text and "MISSED" in text
    data = summary_dict(rec, events, {"x": 1.0}, sc)
    json.dumps(data)
    assert data["ground_truth"]["recall"] == 0.5


def test_jsonable_handles_models_and_mappings() -> None:
    from boonamber.v2.models import ModelStatus

    st = ModelStatus.from_dict({"state": "Learning", "clusterCount": 3})
    assert jsonable(st) == {"state": "Learning", "clusterCount": 3}
    assert jsonable({"a": (1, st)}) == {"a": [1, {"state": "Learning", "clusterCount": 3}]}


# --------------------------------------------------------------------------- plot


def test_plot_writes_png(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from boonamber.cli.plot import plot_run

    n = 300
    analytics = {
        "SI": [i % 1000 for i in range(n)],
        "AD": [0] * n,
        "AW": [i // 150 for i in range(n)],
    }
    path = tmp_path / "p.png"
    plot_run(
        path,
        [[float(i) for i in range(n)], [1.0] * n],
        ["a", "b"],
        analytics,
        states=[(0, "Buffering"), (100, "Learning"), (200, "Monitoring")],
        truth=fusion().truth,
        threshold=900,
    )
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_missing_matplotlib_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    from boonamber.cli import plot

    real_import = builtins.__import__

    def fake_import(name: str, *args, **kwargs):  # type: ignore[no-untyped-def]
        if name == "matplotlib" or name.startswith("matplotlib."):
            raise ImportError("No module named 'matplotlib'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(plot.PlotUnavailable, match=r"pip install 'boonamber\[plot\]'"):
        plot.check_available()


# --------------------------------------------------------------------------- parsing


def test_parser_lists_every_subcommand() -> None:
    parser = build_parser()
    help_text = parser.format_help()
    for cmd in ("serve", "demo", "models", "config", "stream", "pretrain", "status", "version"):
        assert cmd in help_text


def test_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["models"])
    assert exc.value.code == 2
    assert "ACTION" in capsys.readouterr().err


def test_version_flag(capsys: pytest.CaptureFixture[str]) -> None:
    import boonamber

    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"boonamber {boonamber.__version__}"


def test_python_dash_m_boonamber() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "boonamber", "--help"], capture_output=True, text=True, check=True
    )
    assert "usage: boonamber" in out.stdout
