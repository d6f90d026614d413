"""Every Amber API call once, on a throw-away model.

    python examples/full-example.py --local     # embedded local server
    python examples/full-example.py             # your Amber account

Each result is printed as JSON (facade results are plain mappings with the wire keys).
Everything the example creates is deleted at the end, also when a call fails.
"""

import argparse
import json
import math
import sys

from boonamber import AmberClient, AmberCloudError, AmberUserError


def show(title: str, result: object, width: int = 110) -> None:
    """Print a result: one line per top-level key, long values cut at ``width``."""
    print(f"== {title}")
    items = result.items() if isinstance(result, dict) else [("", result)]
    for key, value in items:
        text = json.dumps(value)
        if len(text) > width:
            text = text[: width - 3] + "..."
        print(f"  {key}: {text}" if key else f"  {text}")
    print()


def main() -> int:
    parser = argparse.ArgumentParser(description="Call every Amber API operation once.")
    parser.add_argument("--local", action="store_true", help="use an embedded local server")
    args = parser.parse_args()
    try:
        amber = AmberClient.local() if args.local else AmberClient()
    except AmberUserError as e:
        print(f"error: {e} (no Amber account configured? try --local)", file=sys.stderr)
        return 1

    created: list[str] = []
    with amber:
        try:
            show("get_version", amber.get_version())
            show("get_models", amber.get_models())

            model = amber.post_model("amber.sdk.example:full")
            model_id = model["id"]
            created.append(model_id)
            show("post_model", model)
            show("get_model", amber.get_model(model_id))
            show("put_model", amber.put_model(model_id, label="amber.sdk.example:full-updated"))

            # Three features, patterns of 5 vectors; learn quickly so that the calls
            # below have clusters to talk about.
            show(
                "post_config (configure)",
                amber.configure(
                    model_id,
                    features=["feature-1", "feature-2", "feature-3"],
                    streaming_window=5,
                    training={"buffering_samples": 200, "learning_max_samples": 600},
                ),
            )
            show("get_config", amber.get_config(model_id))

            # 800 vectors of three slow sine waves: Buffering -> Learning -> Monitoring.
            data = [[math.sin(i / 10), math.cos(i / 15), math.sin(i / 25) * 2] for i in range(800)]
            result = amber.post_data(model_id, data)
            last = {key: values[-8:] for key, values in result["analytics"].items()}
            show("post_data (800 vectors; analytics of the last 8)", last)
            show("post_data status", result["status"])

            show(
                "put_data (fusion update by feature name)",
                amber.put_data(model_id, {"feature-1": 0.5, "feature-2": 0.2, "feature-3": 1.0}),
            )
            show("get_status", amber.get_status(model_id))
            show("get_nano_status", amber.get_nano_status(model_id))
            show("get_summary", amber.get_summary(model_id))
            show(
                "get_root_cause (clusters 1 and 2)", amber.get_root_cause(model_id, clusters=[1, 2])
            )
            show("post_learning (learn again)", amber.post_learning(model_id, state="Learning"))
            show("post_outage", amber.post_outage(model_id))
            show("get_usage", amber.get_usage(model_id))

            copy = amber.copy_model(model_id, label="amber.sdk.example:full-copy")
            created.append(copy["id"])
            show("copy_model", copy)

            # Pretrain the copy with 600 vectors in chunks of 900 values (2 chunks).
            show(
                "post_pretrain (chunked, blocking)",
                amber.post_pretrain(copy["id"], data[:600], chunk_size=900),
            )
            show("get_pretrain", amber.get_pretrain(copy["id"]))

            archive = amber.get_diagnostic(model_id)
            print(f"== get_diagnostic\n{len(archive)} bytes (a tar archive)\n")

            # Migration needs a model of the older v1 API; a made-up id shows the error.
            try:
                amber.migrate_model("000000000000000000000000")
            except AmberCloudError as e:
                print(f"== migrate_model\nexpected error: HTTP {e.status}: {e.message}\n")
        except (AmberCloudError, AmberUserError) as e:
            print(f"error: {e}", file=sys.stderr)
            return 1
        finally:
            for mid in reversed(created):
                show(f"delete_model {mid}", amber.delete_model(mid))
    return 0


if __name__ == "__main__":
    sys.exit(main())
