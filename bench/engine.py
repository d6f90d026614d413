"""Throughput of the local clustering engine (boonamber.local.engine).

Run: ``.venv/bin/python bench/engine.py`` -- prints one line per case, ``<case>: <patterns/s>``
(plus the cluster count it ran with). Data are synthetic and seeded; the models are prepared
first (warm-up, not timed) so each case measures steady-state Learning or Monitoring.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from boonamber.local.engine import AmberModel
from boonamber.local.wire import parse_config


def signal(n: int, features: int, noise: float, seed: int) -> np.ndarray:
    """Smooth quasi-periodic vectors (n, features), three incommensurate sines plus noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)[:, None]
    x = np.zeros((n, features))
    for k, period in enumerate((97.0, 231.0, 533.0)):
        x += np.sin(2 * np.pi * t / period + rng.uniform(0, 2 * np.pi, (1, features))) / (k + 1)
    return x / 1.5 + rng.normal(0.0, noise, (n, features))


def model(features: int, window: int, pv: float, learning: bool) -> AmberModel:
    """Fixed range and PV (no autotuning); learning never graduates on its own."""
    body: dict[str, Any] = {
        "streamingWindow": window,
        "percentVariation": pv,
        "features": [{"name": f"f{i}", "minVal": -1.5, "maxVal": 1.5} for i in range(features)],
        "training": {
            "bufferingSamples": 0,
            "learningMaxSamples": 10**12,
            "learningMaxClusters": 100_000,
            "learningRateNumerator": 0 if learning else 10,
            "learningRateDenominator": 10**12 if learning else 1000,
        },
    }
    return AmberModel(parse_config(body))


def timed(m: AmberModel, data: np.ndarray, repeat: int = 5) -> float:
    """Best patterns/s over ``repeat`` runs (after one untimed run) on copies of the model."""
    snap = m.to_bytes()
    AmberModel.from_bytes(snap).process_array(data.ravel())
    best = 0.0
    for _ in range(repeat):
        mm = AmberModel.from_bytes(snap)
        t0 = time.perf_counter()
        out = mm.process_array(data.ravel())
        dt = time.perf_counter() - t0
        best = max(best, len(out["ID"]) / dt)
    return best


def case_single_calls(n: int) -> tuple[float, int]:
    """One value per process() call (the HTTP streaming pattern), Monitoring, 1 feature x 25."""
    m = model(1, 25, 0.03, learning=False)
    x = signal(40_000 + n, 1, 0.01, seed=2).ravel()
    m.process_array(x[:40_000])
    values = [[float(v)] for v in x[40_000:]]
    t0 = time.perf_counter()
    for v in values:
        m.process(v)
    return n / (time.perf_counter() - t0), m.status().cluster_count


def case_learning(features: int, window: int, pv: float, noise: float, n: int) -> tuple[float, int]:
    m = model(features, window, pv, learning=True)
    x = signal(40_000 + n, features, noise, seed=1)
    m.process_array(x[:40_000].ravel())  # warm-up: create the clusters
    return timed(m, x[40_000:]), m.status().cluster_count


def case_monitoring(
    features: int, window: int, pv: float, noise: float, n: int
) -> tuple[float, int]:
    m = model(features, window, pv, learning=False)
    x = signal(40_000 + n, features, noise, seed=2)
    m.process_array(x[:40_000].ravel())
    assert m.status().state == "Monitoring", m.status()
    return timed(m, x[40_000:]), m.status().cluster_count


def case_autotune(window: int) -> tuple[float, int]:
    """Buffer-filling request (10,000 vectors): autotune range + PV, then replay.

    learningMaxSamples 10,000 leaves no room for the Autotuning wait, so the request that
    fills the buffer also tunes and replays it (the same work as before the wait existed)."""
    body = {
        "streamingWindow": window,
        "features": [{"name": "a"}],
        "training": {"learningMaxSamples": 10_000},
    }
    x = signal(10_000, 1, 0.02, seed=3).ravel()
    best = 0.0
    for _ in range(2):
        m = AmberModel(parse_config(body))
        t0 = time.perf_counter()
        m.process_array(x)
        best = max(best, (10_000 - window + 1) / (time.perf_counter() - t0))
    return best, m.status().cluster_count


def case_autotune_wait(window: int) -> tuple[float, int]:
    """Default training: the request that ends the Autotuning wait (12,500 vectors after a
    10,000-vector buffer) tunes on the buffer and replays all 22,500 vectors; patterns/s."""
    body = {"streamingWindow": window, "features": [{"name": "a"}]}
    x = signal(22_500, 1, 0.02, seed=3).ravel()
    best = 0.0
    for _ in range(2):
        m = AmberModel(parse_config(body))
        m.process_array(x[:10_000])
        t0 = time.perf_counter()
        m.process_array(x[10_000:])
        best = max(best, (22_500 - window + 1) / (time.perf_counter() - t0))
    return best, m.status().cluster_count


CASES: dict[str, Callable[[], tuple[float, int]]] = {
    "learning_1x25": lambda: case_learning(1, 25, 0.03, 0.01, 200_000),
    "monitoring_1x25": lambda: case_monitoring(1, 25, 0.03, 0.01, 1_000_000),
    "learning_10x1": lambda: case_learning(10, 1, 0.08, 0.01, 200_000),
    "monitoring_10x1": lambda: case_monitoring(10, 1, 0.08, 0.01, 1_000_000),
    "learning_1x25_1000clusters": lambda: case_learning(1, 25, 0.01, 0.003, 100_000),
    "monitoring_1x25_1000clusters": lambda: case_monitoring(1, 25, 0.01, 0.003, 200_000),
    "monitoring_1x25_single_calls": lambda: case_single_calls(20_000),
    "autotune_buffer_1x25": lambda: case_autotune(25),
    "autotune_buffer_1x100": lambda: case_autotune(100),
    "autotune_wait_1x25": lambda: case_autotune_wait(25),
}


def main(argv: list[str]) -> None:
    names = argv or list(CASES)
    for name in names:
        rate, clusters = CASES[name]()
        print(f"{name}: {rate:.0f}", flush=True)
        print(f"  ({name}: {clusters} clusters)", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
