"""Durability: a restart keeps models and their exact state; ``kill -9`` during a stream loses
no acknowledged request (the server runs as ``python -m boonamber.local serve``)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from helpers import csv_values, login_api

import boonamber.v2 as v2
from boonamber.local.engine import AmberModel
from boonamber.local.wire import parse_config

DATA = np.round(np.sin(np.arange(8000) / 11.0) * 3 + np.sin(np.arange(8000) / 3.7), 4)
CONFIG = {
    "streamingWindow": 5,
    "features": [{"name": "a"}, {"name": "b"}],
    "training": {"bufferingSamples": 150, "learningMaxSamples": 1200},
}


def script() -> list[tuple[str, Any]]:
    """A mixed sequence of operations (data batches, outage, fusion, learning)."""
    pairs = np.column_stack([DATA[:4000], DATA[4000:]])
    steps: list[tuple[str, Any]] = []
    for i in range(0, 1600, 40):
        steps.append(("data", pairs[i : i + 40]))
        if i == 400:
            steps.append(("outage", None))
        if i == 800:
            steps.append(("fusion", [("a", 1.5)]))
            steps.append(("fusion", [("b", -0.5)]))
    steps.append(("learning", {"state": "Learning", "training": {"learningMaxSamples": 3000}}))
    for i in range(1600, 2400, 40):
        steps.append(("data", pairs[i : i + 40]))
    return steps


def run_step(api: Any, model_id: str, step: tuple[str, Any]) -> Any:
    kind, arg = step
    if kind == "data":
        return api.post_data(v2.PostDataRequest(data=csv_values(arg)), model_id).analytics.to_dict()
    if kind == "outage":
        return api.post_outage(model_id).to_dict()
    if kind == "fusion":
        body = v2.PutDataRequest(vector=[v2.FusionFeature(name=n, value=v) for n, v in arg])
        return api.put_data(body, model_id).analytics.to_dict()
    return api.post_learning(v2.PostLearningRequest.from_dict(arg), model_id).training.to_dict()


def test_restart_keeps_models_and_state(fresh_server: Any, tmp_path: Path) -> None:
    steps = script()
    reference = fresh_server()
    ref_api = login_api(reference.url, reference.license_key, reference.secret_key)
    ref_id = ref_api.post_model(v2.PostModelRequest(label="ref")).id
    ref_api.post_config(v2.PostConfigRequest.from_dict(CONFIG), ref_id)
    expected = [run_step(ref_api, ref_id, s) for s in steps]

    db = str(tmp_path / "restart.db")
    results = []
    cut = len(steps) // 2
    for part, (lo, hi) in enumerate([(0, 17), (17, cut), (cut, len(steps))]):
        server = fresh_server(db_path=db)
        server.service.models.journal_max_ops = 7  # snapshots and journal replay both in play
        if part == 0:
            lk, sk = server.license_key, server.secret_key
            api = login_api(server.url, lk, sk)
            model_id = api.post_model(v2.PostModelRequest(label="durable")).id
            api.post_config(v2.PostConfigRequest.from_dict(CONFIG), model_id)
        else:
            api = login_api(server.url, lk, sk)
        results += [run_step(api, model_id, s) for s in steps[lo:hi]]
        if part < 2:
            status_before = api.get_status(model_id).to_dict()
            server.stop()
    assert results == expected
    status_before.pop("lastModifiedDelta")
    final = api.get_status(model_id)
    assert final.to_dict()["sampleCount"] == ref_api.get_status(ref_id).sample_count
    assert api.get_config(model_id).to_dict() == ref_api.get_config(ref_id).to_dict()
    assert api.get_model(model_id).label == "durable"
    usage = api.get_usage(model_id)
    assert usage.endpoints.post_data.total_calls == sum(k == "data" for k, _ in steps)
    assert usage.total_samples == ref_api.get_usage(ref_id).total_samples


def _serve(db: str, license_file: str, *extra: str) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "boonamber.local", "serve", "--host", "127.0.0.1"]
    cmd += ["--port", "0", "--db", db, "--write-license", license_file, "--profile", "kill"]
    cmd += ["--log-level", "warning", *extra]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _wait_profile(path: str, proc: subprocess.Popen[bytes], after: int = 0) -> dict[str, str]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if os.path.exists(path) and os.stat(path).st_mtime_ns > after:
            profile: dict[str, str] = json.loads(Path(path).read_text())["kill"]
            return profile
        if proc.poll() is not None:
            raise AssertionError(f"server exited: {proc.stderr.read() if proc.stderr else ''!r}")
        time.sleep(0.02)
    raise AssertionError("the server did not write its license file")


def test_kill_9_loses_no_acknowledged_request(tmp_path: Path) -> None:
    db, license_file = str(tmp_path / "kill.db"), str(tmp_path / "amber.license")
    proc = _serve(db, license_file, "--journal-max-ops", "5")
    try:
        profile = _wait_profile(license_file, proc)
        assert oct(os.stat(license_file).st_mode & 0o777) == "0o600"
        api = login_api(profile["server"], profile["license-key"], profile["secret-key"])
        model_id = api.post_model(v2.PostModelRequest(label="kill")).id
        api.post_config(v2.PostConfigRequest.from_dict(CONFIG), model_id)
        pairs = np.column_stack([DATA[:4000], DATA[4000:]])
        batches = [pairs[i : i + 10] for i in range(0, 4000, 10)]
        acked: list[Any] = []
        killer = threading.Timer(0.002, os.kill, args=(proc.pid, signal.SIGKILL))

        def stream() -> None:
            for batch in batches:
                try:
                    reply = api.post_data(v2.PostDataRequest(data=csv_values(batch)), model_id)
                except Exception:
                    return  # the server is gone
                acked.append(reply)
                if len(acked) == 60:
                    killer.start()  # kill -9 while the stream goes on

        worker = threading.Thread(target=stream)
        worker.start()
        worker.join(120)
        proc.wait(10)
        n_acked = len(acked)
        assert 60 <= n_acked < len(batches)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)

    before = os.stat(license_file).st_mtime_ns
    proc = _serve(db, license_file)
    try:
        profile2 = _wait_profile(license_file, proc, after=before)
        assert profile2["license-key"] == profile["license-key"]  # the account was reused
        api = login_api(profile2["server"], profile2["license-key"], profile2["secret-key"])
        status = api.get_status(model_id)
        # Every acknowledged batch is there; at most the one in flight was applied too.
        last_acked = acked[-1].status.sample_count
        assert status.sample_count in (last_acked, last_acked + 10)
        applied = n_acked + (status.sample_count != last_acked)
        # Continue, and compare everything with an uninterrupted in-process engine.
        engine = AmberModel(parse_config(CONFIG))
        expected = [engine.process(b.ravel()) for b in batches[: applied + 40]]
        for i in range(n_acked):
            assert acked[i].analytics.to_dict() == expected[i]
        for i in range(applied, applied + 40):
            got = api.post_data(v2.PostDataRequest(data=csv_values(batches[i])), model_id)
            assert got.analytics.to_dict() == expected[i]
        assert api.get_status(model_id).sample_count == engine.status().sample_count
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def test_two_servers_never_share_a_database(fresh_server: Any, tmp_path: Path) -> None:
    db = str(tmp_path / "shared.db")
    first = fresh_server(db_path=db)
    with pytest.raises(RuntimeError, match="in use by another server"):
        fresh_server(db_path=db)
    first.stop()
    fresh_server(db_path=db)  # free again once the first one stopped


def _post_in_flight_at_sigterm(
    tmp_path: Path, features: int, values: int, after: float
) -> tuple[Any, float]:
    """Post ``values`` random values to a model of window 100 x ``features`` (a costly learning
    of one cluster per pattern), send SIGTERM ``after`` seconds later; returns the post's
    answer or error and the seconds the server took to exit, once a restarted server was seen
    to hold exactly what was acknowledged and to learn on."""
    db, license_file = str(tmp_path / "term.db"), str(tmp_path / "amber.license")
    proc = _serve(db, license_file)
    try:
        profile = _wait_profile(license_file, proc)
        api = login_api(profile["server"], profile["license-key"], profile["secret-key"])
        model_id = api.post_model(v2.PostModelRequest(label="term")).id
        config = {
            "streamingWindow": 100,
            "features": [{"name": f"f{i}"} for i in range(features)],
            "percentVariation": 0.01,
            "training": {"bufferingSamples": 200, "learningMaxClusters": 1000},
        }
        api.post_config(v2.PostConfigRequest.from_dict(config), model_id)
        noise = np.random.default_rng(5).uniform(size=values).round(3)
        body = v2.PostDataRequest(data=",".join(map(repr, noise.tolist())))
        outcome: list[Any] = []

        def post() -> None:
            try:
                outcome.append(api.post_data(body, model_id))
            except Exception as exc:
                outcome.append(exc)

        worker = threading.Thread(target=post)
        worker.start()
        time.sleep(after)  # the request is being worked on
        assert not outcome, "the request finished too soon to test an in-flight shutdown"
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
        took = time.monotonic() - started
        worker.join(30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    assert len(outcome) == 1
    before = os.stat(license_file).st_mtime_ns
    proc = _serve(db, license_file)
    try:
        profile = _wait_profile(license_file, proc, after=before)
        api = login_api(profile["server"], profile["license-key"], profile["secret-key"])
        acked = not isinstance(outcome[0], Exception)
        expected = outcome[0].status.sample_count if acked else 0
        assert api.get_status(model_id).sample_count == expected
        more = api.post_data(v2.PostDataRequest(data=csv_values(noise[: 100 * features])), model_id)
        assert more.status.sample_count > expected
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(20)
    return outcome[0], took


def test_sigterm_answers_503_for_work_still_running_after_the_grace_period(
    tmp_path: Path,
) -> None:
    # 1,401 patterns of 10,000 values: ~18 s of work, far beyond the 3 s grace period.
    outcome, took = _post_in_flight_at_sigterm(tmp_path, 100, 150_000, after=0.5)
    assert isinstance(outcome, v2.ApiException), outcome
    assert outcome.status == 503
    assert "shutting down" in str(outcome.body) and "not applied" in str(outcome.body)
    assert took < 8  # the grace period, not the request's length


def test_sigterm_waits_for_work_that_ends_within_the_grace_period(tmp_path: Path) -> None:
    # 501 patterns of 4,000 values: ~1 s of work.
    outcome, took = _post_in_flight_at_sigterm(tmp_path, 40, 24_000, after=0.3)
    assert not isinstance(outcome, Exception), outcome
    assert outcome.status.sample_count == 501
    assert took < 8
