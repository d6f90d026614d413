"""CSV files through ``stream``/``pretrain`` and ``AmberClient.stream/post_pretrain(Path)``:
header matched to the model's feature names, ``--columns``, one wording for errors, the
pretrain wait bar, and Ctrl-C during a stream or a pretraining."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from helpers import Answer, FaultProxy

from boonamber import AmberClient
from boonamber.cli import main
from boonamber.facade import AmberUserError
from boonamber.facade.csvfile import CsvFile

NAMES = ["temp", "pressure", "flow"]


def rows(n: int, seed: int = 0) -> list[list[float]]:
    return [
        [
            round(20 + 5 * math.sin((i + seed) / 40), 4),
            round(3 + 0.5 * math.cos((i + seed) / 25), 4),
            round(10 + (i % 17) / 10, 4),
        ]
        for i in range(n)
    ]


def write_csv(
    path: Path, header: list[str] | None, data: list[list[float]], order: list[int]
) -> Path:
    lines = [",".join(header[i] for i in order)] if header else []
    lines += [",".join(repr(r[i]) for i in order) for r in data]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def amber(amber_server: Any, monkeypatch: pytest.MonkeyPatch) -> AmberClient:
    for name in list(os.environ):
        if name.startswith("AMBER_"):
            monkeypatch.delenv(name)
    lk, sk = amber_server.create_account()
    monkeypatch.setenv("AMBER_SERVER", amber_server.url)
    monkeypatch.setenv("AMBER_LICENSE_KEY", lk)
    monkeypatch.setenv("AMBER_SECRET_KEY", sk)
    return AmberClient(server=amber_server.url, license_key=lk, secret_key=sk)


@pytest.fixture
def new_model(amber: AmberClient) -> Callable[..., str]:
    def make(features: Any = NAMES, **config: Any) -> str:
        mid = str(amber.post_model("csv")["id"])
        config.setdefault("streaming_window", 1)
        config.setdefault("training", {"bufferingSamples": 200, "learningMaxSamples": 600})
        amber.configure(mid, features, **config)
        return mid

    return make


def test_a_header_in_another_order_is_reordered_by_name(
    amber: AmberClient, new_model: Callable[..., str], tmp_path: Path
) -> None:
    data = rows(900)
    shuffled = write_csv(tmp_path / "shuffled.csv", NAMES, data, [2, 0, 1])
    a, b = new_model(), new_model()
    by_path = amber.stream_analytics(a, shuffled, batch_size=600)
    by_list = amber.stream_analytics(b, data, batch_size=600)
    assert by_path["analytics"] == by_list["analytics"]
    assert amber.get_status(a)["sampleCount"] == 900


def test_unknown_or_missing_columns_are_named_and_nothing_is_sent(
    amber: AmberClient, new_model: Callable[..., str], tmp_path: Path
) -> None:
    mid = new_model()
    bad = write_csv(tmp_path / "bad.csv", ["temp", "pres", "flow"], rows(10), [0, 1, 2])
    with pytest.raises(AmberUserError) as info:
        amber.stream_analytics(mid, bad)
    text = str(info.value)
    assert "bad.csv: the header does not match the model's features" in text
    assert "missing 'pressure'" in text and "unknown 'pres'" in text
    with pytest.raises(AmberUserError, match="missing 'pressure'"):
        amber.post_pretrain(mid, bad)
    assert amber.get_status(mid)["sampleCount"] == 0  # the model is as it was


def test_stream_and_pretrain_take_a_headed_file(
    amber: AmberClient, new_model: Callable[..., str], tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "d.csv", NAMES, rows(3000), [1, 2, 0])
    mid = new_model()
    result = amber.post_pretrain(mid, path, chunk_size=2000)
    assert result["status"] == "Pretrained"
    headless = write_csv(tmp_path / "h.csv", None, rows(50), [0, 1, 2])
    assert len(amber.stream_analytics(mid, headless)["analytics"]["ID"]) == 50


def test_reader_errors_are_worded_once(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("temp,pressure,flow\n1,2,3\n4,5\n")
    with pytest.raises(AmberUserError, match=r"r.csv, line 3: 2 values, expected 3"):
        CsvFile(path, features=NAMES).rows()
    path.write_text("temp,pressure,flow\n1,2,3\n4,x,6\n")
    with pytest.raises(AmberUserError, match=r"line 3, column 'pressure' is not a number: 'x'"):
        CsvFile(path, features=["flow", "temp", "pressure"]).rows()
    with pytest.raises(AmberUserError, match=r"columns: no feature 'speed' in the model"):
        CsvFile(path, features=NAMES, columns=["speed=flow"])


def cli(*args: str) -> tuple[int, str, str]:
    import contextlib
    import io

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(list(args))
    return rc, out.getvalue(), err.getvalue()


def test_cli_stream_matches_columns_by_name_and_maps_with_columns(
    amber: AmberClient, new_model: Callable[..., str], tmp_path: Path
) -> None:
    data = rows(700)
    ordered = write_csv(tmp_path / "o.csv", NAMES, data, [0, 1, 2])
    shuffled = write_csv(tmp_path / "s.csv", NAMES, data, [1, 2, 0])
    renamed = write_csv(tmp_path / "n.csv", ["T", "P", "F"], data, [0, 1, 2])
    outs = []
    for path, extra in (
        (ordered, []),
        (shuffled, []),
        (renamed, ["--columns", "temp=T,pressure=P,flow=F"]),
    ):
        mid = new_model()
        rc, out, err = cli("stream", mid, str(path), "--json", *extra)
        assert rc == 0, err
        outs.append(json.loads(out))
    assert outs[0]["anomalies"] == outs[1]["anomalies"] == outs[2]["anomalies"]
    mid = new_model()
    rc, out, err = cli("stream", mid, str(renamed))
    assert rc == 1 and out == ""
    line = err.strip()
    assert line.startswith("boonamber: error: ") and "\n" not in line
    assert "missing 'temp', 'pressure', 'flow'" in line and "unknown 'T', 'P', 'F'" in line
    assert "--columns" in line
    assert amber.get_status(mid)["sampleCount"] == 0


def test_cli_pretrain_bars_show_reading_and_the_servers_percentage(
    amber: AmberClient, new_model: Callable[..., str], tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "p.csv", NAMES, rows(20_000), [0, 1, 2])
    mid = new_model()
    rc, out, err = cli("pretrain", mid, str(path), "--progress", "--chunk-size", "20000")
    assert rc == 0, err
    assert "reading" in err and "uploading" in err
    assert "pretraining: 100%" in err
    assert "9999999" not in err and "0000001" not in err  # no raw float noise
    assert f"pretrained model {mid} with 20,000 vectors (60,000 values)" in out


# --------------------------------------------------------------------- Ctrl-C


def _start(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "boonamber", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )


def _wait_for(proc: subprocess.Popen[bytes], needle: bytes, timeout: float = 60) -> bytes:
    """Read stderr until ``needle`` shows up (progress bars end lines with \\r)."""
    assert proc.stderr is not None
    seen = b""
    deadline = time.monotonic() + timeout
    os.set_blocking(proc.stderr.fileno(), False)
    while needle not in seen:
        assert time.monotonic() < deadline, seen[-500:]
        assert proc.poll() is None, seen[-500:]
        chunk = proc.stderr.read(4096)
        if chunk:
            seen += chunk
        else:
            time.sleep(0.02)
    return seen


def test_ctrl_c_during_a_stream_reports_what_was_sent(
    amber: AmberClient, new_model: Callable[..., str], tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "long.csv", NAMES, rows(20_000), [0, 1, 2])
    mid = new_model()
    proc = _start(["stream", mid, str(path), "--batch", "5", "--progress"], dict(os.environ))
    try:
        _wait_for(proc, b"vec")
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    text = out.decode()
    assert text.startswith("interrupted: streamed ") and "of 20,000 from long.csv" in text
    assert "Anomalies " in text
    sent = int(text.split("streamed ", 1)[1].split(" ", 1)[0].replace(",", ""))
    assert 0 < sent < 20_000
    assert amber.get_status(mid)["sampleCount"] >= sent


class _StillPretraining:
    """HTTP-level fault for a client that is waiting: the last chunk's answer says
    ``Pretraining`` (202, as the cloud answers at once), and every ``getPretrain`` is held until
    ``release()`` — so the client is certainly polling when Ctrl-C comes, however fast the
    server pretrains."""

    def __init__(self) -> None:
        self.released = threading.Event()
        self.polls = 0

    def rule(self, method: str, path: str, headers: dict[str, str], answer: Answer) -> Answer:
        if method == "POST" and path.endswith("/pretrain") and answer.status in (200, 202):
            body = json.loads(answer.body)
            body.update(status="Pretraining", message="Pretraining: 0% done")
            return Answer(202, answer.headers, json.dumps(body).encode())
        return answer

    def hold(self, method: str, path: str, headers: dict[str, str], body: bytes) -> None:
        if method == "GET" and path.endswith("/pretrain"):
            self.polls += 1
            self.released.wait(timeout=60)
        return None  # then forwarded

    def release(self) -> None:
        self.released.set()


def test_ctrl_c_while_waiting_says_the_server_keeps_pretraining(
    amber: AmberClient,
    amber_server: Any,
    new_model: Callable[..., str],
    tmp_path: Path,
) -> None:
    path = write_csv(tmp_path / "big.csv", NAMES, rows(20_000), [0, 1, 2])
    mid = new_model(training={"bufferingSamples": 1000, "learningMaxSamples": 20_000})
    fault = _StillPretraining()
    proxy = FaultProxy(amber_server.url, fault.rule, before=fault.hold)
    env = dict(os.environ, AMBER_SERVER=proxy.url)
    proc = _start(["pretrain", mid, str(path), "--progress"], env)
    try:
        _wait_for(proc, b"pretraining:", timeout=120)
        deadline = time.monotonic() + 30
        while fault.polls == 0:  # its first getPretrain is held: it is waiting
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.02)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
        fault.release()
        proxy.close()
    assert proc.returncode == 130
    text = err.decode()
    assert f"the server keeps pretraining model {mid}" in text
    assert f"boonamber status {mid}" in text
    deadline = time.monotonic() + 120
    while amber.get_pretrain(mid)["status"] != "Pretrained" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert amber.get_pretrain(mid)["status"] == "Pretrained"  # it did keep going
