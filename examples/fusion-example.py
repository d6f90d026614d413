"""Sensor fusion: update a model's feature vector one feature at a time, by name.

    python examples/fusion-example.py --local

A machine reports four values (``motor_current``, ``vibration_rms``, ``bearing_temp``,
``speed_rpm``) at different moments. The model keeps the latest value of each; a
``put_data`` updates the named features and, when the fusion rule says ``submit`` and
every feature has a value, analyses the whole vector.

Here only ``speed_rpm`` submits: updates of the other three are stored until the next
speed reading. The model learns from the first 4,000 rows of the bundled fusion data
(``examples/data/fusion.csv``), then rows around the injected imbalance fault are replayed
feature by feature, and the root cause of the first anomalous vector is printed.
"""

import argparse
import csv
import json
import sys

from boonamber import AmberClient, AmberCloudError, AmberUserError


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--local", action="store_true", help="use an embedded local server")
    parser.add_argument("--train", type=int, default=4000, help="rows to learn from")
    args = parser.parse_args()

    from boonamber.cli.demo_data import ensure_data

    csv_path, truth_path = ensure_data("fusion")
    with csv_path.open(newline="") as handle:
        reader = csv.reader(handle)
        names = next(reader)
        rows = [[float(v) for v in row] for row in reader if row]
    with truth_path.open() as handle:
        fault = next(f for f in json.load(handle)["faults"] if f["kind"] == "imbalance")

    try:
        amber = AmberClient.local() if args.local else AmberClient()
    except AmberUserError as e:
        print(f"error: {e} (no Amber account configured? try --local)", file=sys.stderr)
        return 1

    with amber:
        model_id = None
        try:
            model_id = amber.post_model("amber.sdk.example:fusion")["id"]
            print(f"created model {model_id}")
            features = [
                {"name": name, "fusion_rule": "submit" if name == "speed_rpm" else "nosubmit"}
                for name in names
            ]
            amber.configure(
                model_id,
                features=features,
                streaming_window=1,
                training={"buffering_samples": 1000, "learning_max_samples": args.train},
            )
            print(f"features: {', '.join(names)} (only speed_rpm submits)")

            # One feature known: the vector is incomplete, nothing is analysed.
            resp = amber.put_data(model_id, {"vibration_rms": 1.21})
            print(f"vector after one update: {resp['vector']}")
            print(f"analytics: {resp['analytics']}")

            # Learn from whole rows (post_data sends complete vectors).
            for _ in amber.stream(model_id, rows[: args.train], batch_size=500):
                pass
            status = amber.get_status(model_id)
            print(
                f"trained on {args.train} rows: {status['state']}, "
                f"{status['clusterCount']} clusters"
            )

            # Replay rows around the fault, one feature update at a time.
            first_negative = None
            for i in range(fault["start"] - 5, fault["start"] + 20):
                row = dict(zip(names, rows[i], strict=True))
                speed = row.pop("speed_rpm")
                amber.put_data(model_id, row)  # stored, not analysed (nosubmit)
                resp = amber.put_data(model_id, {"speed_rpm": speed})  # analysed
                a = resp["analytics"]
                cid, si, ad = a["ID"][-1], a["SI"][-1], a["AD"][-1]
                vector = ", ".join(f"{k}={v:.2f}" for k, v in resp["vector"].items())
                print(f"row {i}: {vector} -> cluster {cid}, SI {si}, anomaly {ad}")
                if cid < 0 and first_negative is None:
                    first_negative = cid

            if first_negative is not None:
                rc = amber.get_root_cause(model_id, clusters=[first_negative])
                ranked = sorted(rc["rootCauseList"][0], key=lambda f: -f["value"])
                print(
                    f"root cause of cluster {first_negative} "
                    f"(injected fault: {fault['features'][0]}):"
                )
                for f in ranked:
                    print(f"  {f['name']:<14} {f['value']:.2f}")
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
