"""Shared builders for the engine tests (real engine, synthetic seeded data)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from boonamber.local.engine import AmberModel, EngineConfig
from boonamber.local.wire import parse_config

ModelFactory = Callable[..., AmberModel]


def motor_trace(n: int, seed: int = 0, noise: float = 0.01) -> np.ndarray:
    """Smooth single-sensor motor-current-like trace: idle / ramp / loaded (with ripple) cycles."""
    rng = np.random.default_rng(seed)
    x = np.zeros(n)
    i = 0
    while i < n:
        idle, ramp, load = rng.integers(40, 80), rng.integers(10, 20), rng.integers(150, 300)
        level = rng.uniform(8, 12)
        seg = np.concatenate(
            [
                np.full(idle, 0.5),
                np.linspace(0.5, level * 1.4, ramp),
                level + 0.6 * np.sin(np.arange(load) * 2 * np.pi / 37),
                np.linspace(level, 0.5, ramp),
            ]
        )
        x[i : i + len(seg)] = seg[: n - i]
        i += len(seg)
    k = np.exp(-0.5 * (np.arange(-8, 9) / 3) ** 2)
    x = np.convolve(x, k / k.sum(), "same")
    return x + rng.normal(0.0, noise * (x.max() - x.min()), n)


def sine_vectors(n: int, features: int = 1, seed: int = 0, noise: float = 0.01) -> np.ndarray:
    """(n, features) smooth quasi-periodic signal in about [-1, 1]."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)[:, None]
    x = np.zeros((n, features))
    for k, period in enumerate((97.0, 231.0)):
        x += np.sin(2 * np.pi * t / period + rng.uniform(0, 2 * np.pi, (1, features))) / (k + 1)
    return x / 1.5 + rng.normal(0.0, noise, (n, features))


def centroid_stream(
    n: int, features: int = 3, k: int = 10, seed: int = 0, dwell: int = 60, noise: float = 0.01
) -> tuple[np.ndarray, np.ndarray]:
    """(n, features) vectors dwelling ~``dwell`` steps at one of ``k`` centroids in [0, 1]^F
    (noisy), and the centroid index per vector. Centroids are fixed by ``k`` and ``features``."""
    centroids = np.random.default_rng(1000 + k).uniform(0.1, 0.9, (k, features))
    rng = np.random.default_rng(seed)
    labels = np.empty(n, dtype=np.int64)
    i = 0
    while i < n:
        run = int(rng.integers(dwell // 2, dwell * 3 // 2))
        labels[i : i + run] = rng.integers(k)
        i += run
    x = centroids[labels] + rng.normal(0.0, noise, (n, features))
    return x, labels


def config(
    features: int = 1,
    window: int = 25,
    *,
    pv: float | None = None,
    lo: float | None = None,
    hi: float | None = None,
    **training: Any,
) -> EngineConfig:
    """An EngineConfig with features f0..fN and the given training fields (wire names)."""
    feats: list[dict[str, Any]] = []
    for i in range(features):
        f: dict[str, Any] = {"name": f"f{i}"}
        if lo is not None:
            f["minVal"] = lo
        if hi is not None:
            f["maxVal"] = hi
        feats.append(f)
    body: dict[str, Any] = {"streamingWindow": window, "features": feats}
    if pv is not None:
        body["percentVariation"] = pv
    if training:
        body["training"] = training
    return parse_config(body)


@pytest.fixture
def make_model() -> ModelFactory:
    """Factory: make_model(features, window, pv=, lo=, hi=, **training) -> AmberModel."""

    def make(*args: Any, **kwargs: Any) -> AmberModel:
        return AmberModel(config(*args, **kwargs))

    return make


@pytest.fixture
def motor() -> Callable[..., np.ndarray]:
    """motor(n, seed=0, noise=0.01) -> 1-D trace."""
    return motor_trace


@pytest.fixture
def centroids() -> Callable[..., tuple[np.ndarray, np.ndarray]]:
    """centroids(n, features=3, k=10, seed=0, dwell=60, noise=0.01) -> (vectors, labels)."""
    return centroid_stream


@pytest.fixture
def sines() -> Callable[..., np.ndarray]:
    """sines(n, features=1, seed=0, noise=0.01) -> (n, features) array."""
    return sine_vectors
