"""Pretrain a model in chunks, then stream new data through it and list the anomalies.

    python examples/pretrain-example.py --local

Pretraining uploads the first 12,000 samples of the bundled motor-current signal in
chunks (``chunk_size`` values per request, sent concurrently after the first), waits
until the server has run them through buffering, autotuning and learning, and leaves the
model in Monitoring. The rest of the file is then streamed, and the anomalies found are
compared with the injected faults listed in ``motor_current.truth.json``.
"""

import argparse
import csv
import json
import sys
from pathlib import Path

from boonamber import AmberClient, AmberCloudError, AmberUserError


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--local", action="store_true", help="use an embedded local server")
    parser.add_argument("--train", type=int, default=12000, help="samples to pretrain with")
    parser.add_argument("--chunk-size", type=int, default=3000, help="values per chunk")
    parser.add_argument("--batch", type=int, default=1000, help="vectors per stream request")
    args = parser.parse_args()

    from boonamber.cli.demo_data import ensure_data

    csv_path, truth_path = ensure_data("motor_current")
    with csv_path.open(newline="") as handle:
        reader = csv.reader(handle)
        next(reader)  # header
        values = [float(row[0]) for row in reader if row]
    truth = json.loads(Path(truth_path).read_text())

    try:
        amber = AmberClient.local() if args.local else AmberClient()
    except AmberUserError as e:
        print(f"error: {e} (no Amber account configured? try --local)", file=sys.stderr)
        return 1

    with amber:
        model_id = None
        try:
            model_id = amber.post_model("amber.sdk.example:pretrain")["id"]
            print(f"created model {model_id}")
            amber.configure(model_id, features=1, streaming_window=25)

            train = values[: args.train]
            chunks = -(-len(train) // args.chunk_size)
            print(f"pretraining with {len(train)} samples in {chunks} chunks ...")

            def progress(sent: int, total: int | None) -> None:
                print(f"  sent {sent} of {total} values")

            result = amber.post_pretrain(
                model_id, train, chunk_size=args.chunk_size, block=True, progress=progress
            )
            print(f"pretrain status: {result['status']}")
            status = amber.get_status(model_id)
            print(
                f"model state: {status['state']} ({status.get('graduation')}), "
                f"{status['clusterCount']} clusters"
            )

            # Stream the rest and collect the anomaly flags (AD) per sample.
            flags: list[int] = []
            rest = values[args.train :]
            for response in amber.stream(model_id, rest, batch_size=args.batch):
                flags.extend(response["analytics"]["AD"])
            events = runs(flags, offset=args.train, gap=100)
            print(f"streamed {len(rest)} samples: {len(events)} anomalies")
            for start, end in events:
                print(f"  anomaly at samples {start}-{end}")

            found = 0
            for fault in truth["faults"]:
                hit = any(s < fault["end"] + 40 and e > fault["start"] for s, e in events)
                found += hit
                print(
                    f"  {fault['kind']:<18} {fault['start']}-{fault['end']}: "
                    f"{'found' if hit else 'missed'}"
                )
            print(f"found {found} of {len(truth['faults'])} injected faults")
        except (AmberCloudError, AmberUserError) as e:
            print(f"error: {e}", file=sys.stderr)
            return 1
        finally:
            if model_id is not None:
                amber.delete_model(model_id)
                print(f"deleted model {model_id}")
    return 0


def runs(flags: list[int], offset: int, gap: int) -> list[tuple[int, int]]:
    """(first, last + 1) sample of each run of flags, runs closer than ``gap`` merged."""
    out: list[list[int]] = []
    for i, flag in enumerate(flags):
        if flag:
            if out and i - out[-1][1] <= gap:
                out[-1][1] = i + 1
            else:
                out.append([i, i + 1])
    return [(s + offset, e + offset) for s, e in out]


if __name__ == "__main__":
    sys.exit(main())
