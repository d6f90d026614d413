"""Client memory and wall time of pretraining from a 5M-value CSV file, three ways.

    .venv/bin/python bench/cli_pretrain.py [--rows 1000000] [--features 5] [--repeat 3]

A local server runs in its own process (so only the client is measured), and each client
runs in a fresh process under ``/usr/bin/time -f %M`` (peak RSS in KB):

  cli      boonamber pretrain MODEL FILE.csv            (what a shell user runs)
  api-path amber.post_pretrain(MODEL, Path(FILE.csv))   (the facade reading the file)
  pandas   amber.post_pretrain(MODEL, pd.read_csv(FILE)) (the Python user's own path)

Runs are interleaved (cli, api-path, pandas, cli, ...); medians are printed. Every run
pretrains a fresh model configured with the file's feature names and waits until the
server says Pretrained, so wall time includes the server's work (the same for all three).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from boonamber import AmberClient
from boonamber.profiles import read_profile

API_PATH = """
import sys
from pathlib import Path
from boonamber import AmberClient
amber = AmberClient(license_file=sys.argv[1])
amber.post_pretrain(sys.argv[2], Path(sys.argv[3]), timeout=1800)
"""

PANDAS = """
import sys
import pandas as pd
from boonamber import AmberClient
amber = AmberClient(license_file=sys.argv[1])
amber.post_pretrain(sys.argv[2], pd.read_csv(sys.argv[3]), timeout=1800)
"""


def write_csv(path: Path, rows: int, features: int) -> list[str]:
    names = [f"s{i}" for i in range(features)]
    rng = np.random.default_rng(7)
    t = np.arange(rows)[:, None]
    data = np.sin(t / (50 + 13 * np.arange(features))) + 0.05 * rng.normal(size=(rows, features))
    with path.open("w") as handle:
        handle.write(",".join(names) + "\n")
        np.savetxt(handle, data, fmt="%.5f", delimiter=",")
    return names


def start_server(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    db = folder / "bench.db"
    proc = subprocess.Popen(
        [sys.executable, "-m", "boonamber.local", "serve", "--port", "0", "--db", str(db)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    license_file = str(db) + ".license"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if os.path.exists(license_file):
            try:
                if read_profile(license_file, "default"):
                    return proc, license_file
            except (ValueError, json.JSONDecodeError):
                pass
        time.sleep(0.05)
    proc.kill()
    raise SystemExit("the local server did not start")


def timed(cmd: list[str]) -> tuple[float, int]:
    """(wall seconds, peak RSS in MB) of ``cmd`` run under /usr/bin/time."""
    started = time.perf_counter()
    done = subprocess.run(
        ["/usr/bin/time", "-f", "%M", *cmd], capture_output=True, text=True, timeout=3600
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{cmd[:4]} failed:\n{done.stderr[-2000:]}")
    peak_kb = int(done.stderr.strip().splitlines()[-1])
    return wall, peak_kb // 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--features", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="amber-bench-"))
    csv_path = folder / "history.csv"
    names = write_csv(csv_path, args.rows, args.features)
    size_mb = csv_path.stat().st_size / 2**20
    print(
        f"{csv_path.name}: {args.rows:,} rows x {args.features} = "
        f"{args.rows * args.features:,} values, {size_mb:.0f} MB"
    )
    server, license_file = start_server(folder)
    try:
        amber = AmberClient(license_file=license_file)

        def fresh_model() -> str:
            mid = str(amber.post_model("bench")["id"])
            amber.configure(mid, names, streaming_window=1)
            return mid

        py = sys.executable
        cases = {
            "cli": lambda m: [
                py,
                "-m",
                "boonamber",
                "pretrain",
                m,
                str(csv_path),
                "--license-file",
                license_file,
                "--no-progress",
                "--wait",
                "1800",
            ],
            "api-path": lambda m: [py, "-c", API_PATH, license_file, m, str(csv_path)],
            "pandas": lambda m: [py, "-c", PANDAS, license_file, m, str(csv_path)],
        }
        results: dict[str, list[tuple[float, int]]] = {k: [] for k in cases}
        for _ in range(args.repeat):
            for name, cmd in cases.items():
                results[name].append(timed(cmd(fresh_model())))
        print(f"{'case':<10}{'wall s (median)':>18}{'peak RSS MB (median)':>24}   runs")
        for name, runs in results.items():
            wall = statistics.median(w for w, _ in runs)
            rss = statistics.median(r for _, r in runs)
            detail = ", ".join(f"{w:.1f}s/{r}MB" for w, r in runs)
            print(f"{name:<10}{wall:>18.2f}{rss:>24.0f}   {detail}")
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)


if __name__ == "__main__":
    main()
