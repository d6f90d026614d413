"""Code written for the official ``boonamber`` 2.x client, running on this package unchanged.

    python examples/official-style.py            # your Amber account (~/.Amber.license)
    python examples/official-style.py --local    # an embedded local server, no account

The style is the official SDK's: ``AmberV2Client``, request models built with positional
arguments, ``to_dict()`` on every answer, ``except ApiException``. The script creates a model,
configures it with named, nameless and positional features, streams the bundled fusion CSV
(four sensors) the way official code reads a CSV (lists of strings), reads the status and the
root cause of a cluster, pretrains a second model in chunks, re-enables learning, sends one
fusion update, copies the model, saves its diagnostic archive and deletes everything.
"""

import argparse
import csv
import json
import sys
import tempfile

import boonamber
from boonamber import AmberV2Client, ApiException

parser = argparse.ArgumentParser(description="An official-style Amber script.")
parser.add_argument("--local", action="store_true", help="use an embedded local server")
parser.add_argument("--rows", type=int, default=3000, help="CSV rows to stream")
args = parser.parse_args()

from boonamber.cli.demo_data import ensure_data  # noqa: E402  (the bundled example data)

csv_path, _ = ensure_data("fusion")
with csv_path.open(newline="") as f:
    reader = csv.reader(f)
    header = next(reader)
    rows = [row for row in reader if row][: args.rows]
print(f"read {len(rows)} rows of {', '.join(header)}")

try:
    # At initialization the client discovers Amber account credentials
    # under the "default" profile entry in the ~/.Amber.license file.
    amber = AmberV2Client.local() if args.local else AmberV2Client()
except ApiException as e:
    print(f"Error: {e} (no Amber account configured? try --local)", file=sys.stderr)
    sys.exit(1)

created = []
try:
    # create
    model = amber.post_model(boonamber.PostModelRequest(label="amber.sdk.example:official"))
    created.append(model.id)
    print("created:", json.dumps(model.to_dict()))

    # configure: a named, a nameless (the server names it feature-1), a positional and a
    # keyword feature; training and autotuning as the official examples build them
    features = [
        boonamber.FeatureConfig("motor_current"),
        boonamber.FeatureConfig(),
        boonamber.FeatureConfig("bearing_temp", None, None, 1),
        boonamber.FeatureConfig(name="speed_rpm"),
    ]
    training = boonamber.TrainingConfig(buffering_samples=1000, learning_max_samples=2500)
    autotuning = boonamber.AutotuneConfig(range=True, percent_variation=True)
    body = boonamber.PostConfigRequest(
        streaming_window=1, features=features, training=training, autotuning=autotuning
    )
    config = amber.post_config(model.id, body)
    print("features:", [f["name"] for f in config.to_dict()["features"]])

    # stream the CSV: 500 rows per request, the values as strings
    state = ""
    for start in range(0, len(rows), 500):
        data = [value for row in rows[start : start + 500] for value in row]
        results = amber.post_data(model.id, data, False)
        if results.status.state != state:
            state = results.status.state
            print(f"rows {start}+: state {state}")

    # status
    status = amber.get_status(model.id)
    print(f"status: {status.state}, {status.cluster_count} clusters, {status.sample_count} samples")

    # root cause of the first two clusters
    root_cause = amber.get_root_cause(model.id, clusters=[1, 2])
    for cluster, row in zip((1, 2), root_cause.to_dict()["root_cause_list"], strict=True):
        top = max(row, key=lambda feature: feature["value"])
        print(f"root cause of cluster {cluster}: {top['name']} leads ({top['value']:.2f})")

    # chunked pretrain of a second model on the same rows (chunk_size counts bytes)
    pretrained = amber.post_model(boonamber.PostModelRequest("amber.sdk.example:pretrained"))
    created.append(pretrained.id)
    amber.post_config(pretrained.id, body)
    flat = ",".join(value for row in rows for value in row)
    chunk_size = len(flat.split(","))  # 4 bytes per float32 value: a quarter of the data a chunk
    response = amber.post_pretrain(pretrained.id, flat, chunk_size, True)
    print(f"pretrain: {response.status} in 4 chunks of {chunk_size} bytes")
    print("pretrained model state:", amber.get_status(pretrained.id).state)

    # learning: re-enable it for 200 more samples
    more = boonamber.TrainingConfig(buffering_samples=0, learning_max_samples=200)
    learning = amber.enable_learning(model.id, boonamber.PostLearningRequest("Learning", more))
    print("enable_learning: state", learning.status.state)

    # fusion: update the nameless feature by the name the server gave it
    vector = [boonamber.FusionFeature("feature-1", 1.4)]
    fused = amber.put_data(model.id, boonamber.PutDataRequest(vector=vector))
    print("fusion vector:", fused.to_dict()["vector"])

    # copy: without a label the copy keeps the source's
    copy = amber.copy_model(model.id)
    created.append(copy.id)
    print(f"copy: {copy.label} (source: {model.label})")

    # diagnostic archive
    with tempfile.TemporaryDirectory() as folder:
        path = amber.get_diagnostic(model.id, folder)
        print("diagnostic:", path.rsplit("/", 1)[-1])

    # delete
    while created:
        amber.delete_model(created.pop())
    print("deleted; models left:", len(amber.get_models().to_dict()["model_list"]))
except ApiException as e:
    print(f"Error: {e}", file=sys.stderr)
    for model_id in created:
        amber.delete_model(model_id)
    sys.exit(1)
finally:
    amber.close()
