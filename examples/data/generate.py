"""Regenerate the example sensor data in this folder from its seed.

Writes, next to this script (or into ``--out``):

- ``motor_current.csv`` + ``motor_current.truth.json``: one motor-current-like signal,
  30,000 samples, seven injected faults after a fault-free training portion.
- ``fusion.csv`` + ``fusion.truth.json``: four features of one machine (current,
  vibration, bearing temperature, speed), 10,000 rows, four single-feature faults.

The data comes from ``boonamber.cli.demo_data`` (numpy ``default_rng`` seeded with
``--seed``, default ``boonamber.cli.demo_data.DEFAULT_SEED``); the same seed always gives the
same files. ``--check`` regenerates in memory and fails if the files differ, which is how
the tests make sure the committed files match the generator.

Usage::

    python examples/data/generate.py            # rewrite the files in examples/data/
    python examples/data/generate.py --check    # verify them
    python examples/data/generate.py --out /tmp/data --seed 7
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from boonamber.cli.demo_data import DEFAULT_SEED, GENERATORS, write_dataset


def main(argv: list[str] | None = None) -> int:
    """Write (or with --check, verify) every data set; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--check", action="store_true", help="verify instead of writing")
    args = parser.parse_args(argv)
    stale = []
    for name, generate in GENERATORS.items():
        ds = generate(seed=args.seed)
        csv_path = args.out / f"{name}.csv"
        truth_path = args.out / f"{name}.truth.json"
        if args.check:
            for path, text in ((csv_path, ds.to_csv()), (truth_path, ds.truth.to_json())):
                if not path.is_file() or path.read_text(encoding="utf-8") != text:
                    stale.append(path)
            continue
        for path in write_dataset(ds, args.out):
            print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KiB)")
        print(f"  {ds.truth.samples} rows, {len(ds.truth.faults)} faults, seed {args.seed}")
    if stale:
        for path in stale:
            print(f"out of date: {path}", file=sys.stderr)
        print("regenerate with: python examples/data/generate.py", file=sys.stderr)
        return 1
    if args.check:
        print("example data matches the generator")
    return 0


if __name__ == "__main__":
    sys.exit(main())
