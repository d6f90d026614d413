"""Seeded generator of the example sensor data (``examples/data/``) and its ground truth.

Two data sets, both fully determined by a seed (numpy ``default_rng``):

- ``motor_current``: one motor-current-like signal (~30k samples). A machine runs a duty
  cycle: an idle plateau, then a start-up with an inrush burst and damped ringing. The
  load drifts slowly. Seven faults are injected after the training portion.
- ``fusion``: four features of one machine (``motor_current``, ``vibration_rms``,
  ``bearing_temp``, ``speed_rpm``) across three speed regimes, with four faults that
  each break one feature away from the others.

Each set is a CSV with a header row plus a ``.truth.json`` side file that lists every
fault (``start`` inclusive, ``end`` exclusive, 0-based row indexes) and the features it
touches. ``examples/data/generate.py`` writes the committed copies; ``boonamber demo``
regenerates them into a cache folder when the checkout's copy is missing.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = [
    "DEFAULT_SEED",
    "GENERATOR_VERSION",
    "DataSet",
    "Fault",
    "GroundTruth",
    "bundled_data_dir",
    "ensure_data",
    "fusion",
    "load_truth",
    "motor_current",
    "write_dataset",
]

GENERATOR_VERSION = 1
DEFAULT_SEED = 20240611

#: Rows of the motor-current set and the end of its fault-free training portion.
MOTOR_SAMPLES = 30_000
MOTOR_TRAINING = 12_000
#: Rows of the fusion set and the end of its fault-free training portion.
FUSION_SAMPLES = 10_000
FUSION_TRAINING = 4_000


@dataclass(frozen=True)
class Fault:
    """One injected fault: rows ``start`` (inclusive) to ``end`` (exclusive)."""

    kind: str
    start: int
    end: int
    features: list[str]
    description: str


@dataclass
class GroundTruth:
    """What the generator injected, as stored in ``<name>.truth.json``."""

    name: str
    seed: int
    generator_version: int
    samples: int
    features: list[str]
    training_samples: int
    faults: list[Fault] = field(default_factory=list)
    notes: str = ""

    def to_json(self) -> str:
        """Serialise to the side-file format (stable key order, 2-space indent)."""
        return json.dumps(asdict(self), indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> GroundTruth:
        """Build from a parsed side file."""
        faults = [Fault(**f) for f in raw.get("faults", [])]
        rest = {k: v for k, v in raw.items() if k != "faults"}
        return cls(faults=faults, **rest)


@dataclass
class DataSet:
    """A generated data set: ``values`` has shape (samples, features)."""

    values: npt.NDArray[np.float64]
    truth: GroundTruth
    decimals: int

    def to_csv(self) -> str:
        """CSV text: a header of feature names, then one row per sample."""
        fmt = f"%.{self.decimals}f"
        lines = [",".join(self.truth.features)]
        lines.extend(",".join(fmt % v for v in row) for row in self.values.tolist())
        return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- motor current


def _cycle(
    rng: np.random.Generator, level: float, amp: float, stretch: float
) -> npt.NDArray[np.float64]:
    """One duty cycle without noise: idle plateau, then the start-up transient."""
    import numpy as np

    idle = np.full(int(rng.integers(50, 61)), level)
    run_len = round(45 * stretch)
    t = np.arange(run_len) / stretch  # time in "nominal" samples
    ramp = np.clip(t / 10.0, 0.0, 1.0)  # 10-sample rise to the running plateau
    plateau = level + amp * 0.25 * ramp
    ring_t = np.clip(t - 18.0, 0.0, None)
    ring = np.where(
        t >= 18.0, amp * 0.55 * np.exp(-ring_t / 9.0) * np.sin(2 * np.pi * ring_t / 7.0), 0.0
    )
    # After the burst the current dips below idle and relaxes back.
    dip_t = np.clip(t - 32.0, 0.0, None)
    dip = np.where(t >= 32.0, -amp * 1.2 * np.sin(np.pi * np.minimum(dip_t / 13.0, 1.0)), 0.0)
    settle = np.where(t >= 32.0, -(plateau - level) * np.minimum(dip_t / 6.0, 1.0), 0.0)
    run = plateau + ring + dip * 0.3 + settle
    return np.concatenate([idle, run])


def motor_current(seed: int = DEFAULT_SEED, samples: int = MOTOR_SAMPLES) -> DataSet:
    """Generate the single-signal motor-current set with seven injected faults.

    The first ``MOTOR_TRAINING`` rows are fault-free (buffering and learning); faults are
    spread over the rest. Values are amperes around 0.5-1.4 with Gaussian noise (σ 0.02).
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    name = "motor_current"
    # Fault plan: (kind, planned start, length in samples or cycles, description).
    span = samples - MOTOR_TRAINING
    starts = [MOTOR_TRAINING + int(span * f) for f in (0.08, 0.21, 0.34, 0.47, 0.60, 0.73, 0.86)]
    cycle_faults = {
        "inrush_surge": (starts[4], 2, "start-up inrush 70 % stronger for two cycles"),
        "slow_start": (starts[6], 3, "start-up takes twice as long for three cycles"),
    }

    # 1. Cycles, with the cycle-level faults applied as they come up.
    chunks: list[npt.NDArray[np.float64]] = []
    pos = 0
    done: dict[str, list[int]] = {k: [] for k in cycle_faults}
    while pos < samples:
        load = 1.0 + 0.04 * np.sin(2 * np.pi * pos / 7000.0) + 0.01 * rng.standard_normal()
        level = 0.83 * (0.97 + 0.03 * load)
        amp, stretch = load, 1.0
        for kind, (start, n_cycles, _) in cycle_faults.items():
            if pos >= start and len(done[kind]) < 2 * n_cycles:
                if kind == "inrush_surge":
                    amp = load * 1.7
                else:
                    stretch = 2.0
                cyc = _cycle(rng, level, amp, stretch)
                done[kind] += [pos, pos + len(cyc)]
                break
        else:
            cyc = _cycle(rng, level, amp, stretch)
        chunks.append(cyc)
        pos += len(cyc)
    clean = np.concatenate(chunks)[:samples]
    signal = clean + 0.02 * rng.standard_normal(samples)

    faults: list[Fault] = []
    for kind, (_, _, desc) in cycle_faults.items():
        faults.append(Fault(kind, done[kind][0], done[kind][-1], [name], desc))

    # 2. Sample-level faults.
    def add(kind: str, start: int, length: int, desc: str) -> slice:
        faults.append(Fault(kind, start, start + length, [name], desc))
        return slice(start, start + length)

    s = add("locked_rotor", starts[0], 200, "rotor locks: current stuck high at ~1.25 A")
    signal[s] = 1.25 + 0.02 * rng.standard_normal(200)
    s = add("supply_dropout", starts[1], 120, "supply drops out: current near zero")
    signal[s] = 0.05 + 0.01 * rng.standard_normal(120)
    s = add("noise_burst", starts[2], 250, "electrical noise burst (σ 0.12 A)")
    signal[s] += 0.12 * rng.standard_normal(250)
    s = add("rotor_oscillation", starts[3], 300, "6-sample oscillation of 0.16 A (broken bar)")
    signal[s] += 0.16 * np.sin(2 * np.pi * np.arange(300) / 6.0)
    s = add("load_offset", starts[5], 350, "sustained overload: +0.18 A offset")
    signal[s] += 0.18

    faults.sort(key=lambda f: f.start)
    truth = GroundTruth(
        name=name,
        seed=seed,
        generator_version=GENERATOR_VERSION,
        samples=samples,
        features=[name],
        training_samples=MOTOR_TRAINING,
        faults=faults,
        notes=(
            "Duty-cycle motor current (idle plateau, start-up inrush with damped ringing), "
            "slow load drift, Gaussian noise; rows before training_samples are fault-free."
        ),
    )
    return DataSet(values=signal.reshape(-1, 1), truth=truth, decimals=4)


# --------------------------------------------------------------------------- fusion

FUSION_FEATURES = ["motor_current", "vibration_rms", "bearing_temp", "speed_rpm"]


def fusion(seed: int = DEFAULT_SEED, samples: int = FUSION_SAMPLES) -> DataSet:
    """Generate the 4-feature fusion set with four single-feature faults.

    Speed switches between 1200, 1500 and 1800 rpm; current, vibration and bearing
    temperature follow it. Each fault moves one feature away from what the speed implies;
    the first ``FUSION_TRAINING`` rows are fault-free.
    """
    import numpy as np

    rng = np.random.default_rng(seed + 1)
    speeds = np.empty(samples)
    segments: list[tuple[int, int, float]] = []  # (first steady row, end, speed) per regime
    pos = 0
    target_prev = 1500.0
    while pos < samples:
        target = float(rng.choice([t for t in (1200.0, 1500.0, 1800.0) if t != target_prev]))
        dwell = int(rng.integers(200, 500))
        ramp = np.linspace(target_prev, target, 5)
        seg = np.concatenate([ramp, np.full(dwell, target)])[: samples - pos]
        speeds[pos : pos + len(seg)] = seg
        segments.append((pos + 5, pos + len(seg), target))
        pos += len(seg)
        target_prev = target
    x = (speeds - 1200.0) / 600.0  # 0 .. 1
    current = 5.0 + 3.0 * x + 0.08 * rng.standard_normal(samples)
    vibration = 1.2 + 0.8 * x + 0.05 * rng.standard_normal(samples)
    temp = np.empty(samples)
    t = 40.0
    for i in range(samples):  # first-order lag towards the speed-dependent temperature
        t += (40.0 + 8.0 * x[i] - t) / 3.0
        temp[i] = t
    temp += 0.15 * rng.standard_normal(samples)
    speed = speeds + 5.0 * rng.standard_normal(samples)

    # Each fault goes into a steady regime after training, ``settle`` rows in (the bearing
    # temperature lags the speed), at a speed where the faulty value stays in the normal range.
    plan = [
        ("bearing_overheat", 200, 100, (1200.0, 1500.0), "bearing_temp",
         "bearing temperature 6 °C above what the speed implies"),
        ("imbalance", 150, 100, (1200.0,), "vibration_rms",
         "vibration doubles (rotor imbalance)"),
        ("overload", 150, 100, (1200.0, 1500.0), "motor_current",
         "current 1.5 A above what the speed needs"),
        ("speed_hunting", 180, 100, (1500.0,), "speed_rpm",
         "speed hunts ±280 rpm around the set point (60-row period)"),
    ]  # fmt: skip
    faults: list[Fault] = []
    earliest = FUSION_TRAINING
    for kind, length, settle, allowed, feature, desc in plan:
        for lo, hi, target in segments:
            start = max(lo + settle, earliest)
            if target in allowed and start + length + 30 <= hi:
                faults.append(Fault(kind, start, start + length, [feature], desc))
                earliest = start + length + 300
                break
        else:  # pragma: no cover - only with a different seed or size
            raise RuntimeError(f"no room for fault {kind!r}; use more samples")
    n = np.arange(200)
    f = faults[0]
    temp[f.start : f.end] += np.minimum(n[: f.end - f.start] / 20.0, 1.0) * 6.0
    f = faults[1]
    vibration[f.start : f.end] *= 2.0
    f = faults[2]
    current[f.start : f.end] += 1.5
    f = faults[3]
    speed[f.start : f.end] += 280.0 * np.sin(2 * np.pi * n[: f.end - f.start] / 60.0)

    values = np.column_stack([current, vibration, temp, speed])
    truth = GroundTruth(
        name="fusion",
        seed=seed,
        generator_version=GENERATOR_VERSION,
        samples=samples,
        features=list(FUSION_FEATURES),
        training_samples=FUSION_TRAINING,
        faults=faults,
        notes=(
            "One machine at three speeds; each fault moves one feature away from what the "
            "others imply. 'features' names the feature a root cause should point at."
        ),
    )
    return DataSet(values=values, truth=truth, decimals=3)


# --------------------------------------------------------------------------- files

GENERATORS = {"motor_current": motor_current, "fusion": fusion}


def write_dataset(ds: DataSet, out_dir: str | os.PathLike[str]) -> tuple[Path, Path]:
    """Write ``<name>.csv`` and ``<name>.truth.json`` into ``out_dir``; return both paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    csv_path = out / f"{ds.truth.name}.csv"
    truth_path = out / f"{ds.truth.name}.truth.json"
    for path, text in ((csv_path, ds.to_csv()), (truth_path, ds.truth.to_json())):
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(text, encoding="utf-8", newline="\n")
        os.replace(tmp, path)  # atomic: a concurrent reader never sees half a file
    return csv_path, truth_path


def load_truth(path: str | os.PathLike[str]) -> GroundTruth:
    """Read a ``.truth.json`` side file."""
    return GroundTruth.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))


def bundled_data_dir() -> Path | None:
    """``examples/data`` of the source checkout this package runs from, if there is one."""
    candidate = Path(__file__).resolve().parents[2] / "examples" / "data"
    return candidate if candidate.is_dir() else None


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache")
    return Path(base) / "boonamber" / f"data-v{GENERATOR_VERSION}"


def ensure_data(name: str = "motor_current") -> tuple[Path, Path]:
    """Return (csv, truth) paths for a data set, generating them when needed.

    Uses the checkout's ``examples/data`` copy when present; otherwise generates the set
    with the default seed into ``$XDG_CACHE_HOME/boonamber`` (``~/.cache/boonamber``), or
    a temporary folder when the cache is not writable.
    """
    if name not in GENERATORS:
        raise ValueError(f"unknown data set {name!r} (known: {', '.join(GENERATORS)})")
    bundled = bundled_data_dir()
    if bundled is not None:
        csv_path, truth_path = bundled / f"{name}.csv", bundled / f"{name}.truth.json"
        if csv_path.is_file() and truth_path.is_file():
            return csv_path, truth_path
    cache = _cache_dir()
    csv_path, truth_path = cache / f"{name}.csv", cache / f"{name}.truth.json"
    if csv_path.is_file() and truth_path.is_file():
        return csv_path, truth_path
    ds = GENERATORS[name]()
    try:
        return write_dataset(ds, cache)
    except OSError:
        import tempfile

        return write_dataset(ds, tempfile.mkdtemp(prefix="boonamber-data-"))
