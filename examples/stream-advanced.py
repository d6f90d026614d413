"""Stream a CSV file through a model request by request and print every analytic.

    python examples/stream-advanced.py --local
    python examples/stream-advanced.py --local --batch 50 --limit 3000

For each request it prints the model's state, then (while Learning or Monitoring) every
analytic of every vector in the request, and for vectors that fit no cluster (negative
cluster ids, Monitoring only) the root cause of that id. The data defaults to the bundled
motor-current signal (``examples/data/motor_current.csv``); the model is deleted at the end.
"""

import argparse
import csv
import sys
import time
from pathlib import Path

from boonamber import AmberClient, AmberCloudError, AmberUserError


def read_csv(path: Path, limit: int | None) -> tuple[list[str], list[list[float]]]:
    """Header names and numeric rows of a CSV file."""
    with path.open(newline="") as handle:
        reader = csv.reader(handle)
        names = next(reader)
        rows = [[float(v) for v in row] for row in reader if row]
    return names, rows[:limit]


def default_data() -> Path:
    """The bundled motor-current CSV (regenerated into a cache folder when missing)."""
    from boonamber.cli.demo_data import ensure_data

    return ensure_data("motor_current")[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--local", action="store_true", help="use an embedded local server")
    parser.add_argument("--data", type=Path, help="CSV file (header row, one vector per row)")
    parser.add_argument("--limit", type=int, help="stream only the first N rows")
    parser.add_argument("--batch", type=int, default=100, help="vectors per request")
    parser.add_argument("--window", type=int, default=25, help="streaming window")
    parser.add_argument("--buffering", type=int, default=4000, help="buffering samples")
    parser.add_argument("--learning-max", type=int, default=12000, help="learning max samples")
    parser.add_argument("--max-root-causes", type=int, default=3, help="per request")
    args = parser.parse_args()

    names, rows = read_csv(args.data or default_data(), args.limit)
    try:
        amber = AmberClient.local() if args.local else AmberClient()
    except AmberUserError as e:
        print(f"error: {e} (no Amber account configured? try --local)", file=sys.stderr)
        return 1

    with amber:
        model_id = None
        try:
            model_id = amber.post_model("amber.sdk.example:stream-advanced")["id"]
            print(f"created model {model_id}")
            config = amber.configure(
                model_id,
                features=names,
                streaming_window=args.window,
                training={
                    "buffering_samples": args.buffering,
                    "learning_max_samples": args.learning_max,
                },
            )
            print(f"config: {dict(config)}")
            sent = 0
            for start in range(0, len(rows), args.batch):
                batch = rows[start : start + args.batch]
                t0 = time.perf_counter()
                results = amber.post_data(model_id, batch)
                ms = (time.perf_counter() - t0) * 1000
                sent += len(batch)
                status = results["status"]
                print(
                    f"State: {status['state']}({status['progress']}%), "
                    f"inferences: {status['sampleCount']}, clusters: {status['clusterCount']}, "
                    f"samples: {sent}, duration: {ms:.1f} ms"
                )
                if status.get("message"):
                    print(f"Message: {status['message']}")
                analytics = results["analytics"]
                if status["state"] in ("Learning", "Monitoring"):
                    for key, values in analytics.items():
                        pretty = ",".join(
                            f"{v:.6f}" if isinstance(v, float) else str(v) for v in values
                        )
                        print(f"{key}: {pretty}")
                negative = [i for i in analytics.get("ID", []) if i < 0]
                if negative:
                    shown = negative[: args.max_root_causes]
                    rc = amber.get_root_cause(model_id, clusters=shown)
                    print("Root Cause:")
                    for cid, features in zip(shown, rc["rootCauseList"], strict=True):
                        pretty = ", ".join(f"{f['name']}={f['value']:.6f}" for f in features)
                        print(f"\t{cid}: {pretty}")
                    if len(negative) > len(shown):
                        print(f"\t({len(negative) - len(shown)} more negative ids)")
        except (AmberCloudError, AmberUserError) as e:
            print(f"error: {e}", file=sys.stderr)
            return 1
        finally:
            if model_id is not None:
                amber.delete_model(model_id)
                print(f"deleted model {model_id}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
