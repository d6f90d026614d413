"""Benchmark the facade (AmberClient) against the official boonamber==2.0.20.

    .venv/bin/python bench/facade.py [--repeat N]

Both clients talk to the same local server (boonamber.local, started here) with the same
data. The official package is installed by this script into its own virtual environment,
bench/.venvs/boonamber-2.0.20 (gitignored), and runs in a subprocess of that environment:
it is never a dependency of ours and never imported by our code.

Cases (best of N runs each):
  encode   post_data's client-side path for 100k float64 values: data -> JSON request body
           (the HTTP call itself is left out).
  decode   one real 100k-pattern postData answer (bytes) -> the client's result object
           (ours: generated model + AmberResult mapping; official: its generated model).
  pretrain 1M float64 values end to end: upload in each client's default chunks, wait until
           Pretrained (a fresh 1-feature model per run).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path
from typing import Any

import numpy as np
import urllib3

from boonamber import AmberClient
from boonamber.facade import convert
from boonamber.facade.results import AmberResult
from boonamber.local.embedded import EmbeddedServer
from boonamber.v2.models.post_data_request import PostDataRequest
from boonamber.v2.rest import RESTResponse

HERE = Path(__file__).resolve().parent
OFFICIAL = "boonamber==2.0.20"
VENV = HERE / ".venvs" / "boonamber-2.0.20"


def official_python() -> Path:
    """The interpreter of the official package's venv, created on first use."""
    python = VENV / "bin" / "python"
    marker = VENV / ".installed"
    if not marker.exists():
        print(f"creating {VENV} with {OFFICIAL} ...", file=sys.stderr)
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", OFFICIAL],
            check=True,
        )
        marker.write_text(OFFICIAL + "\n")
    return python


def best(fn: Any, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def new_model(client: AmberClient, *, stream_at_once: bool = False) -> str:
    """A 1-feature model; ``stream_at_once``: range and threshold fixed, no buffering, so
    that every value sent makes a pattern with analytics."""
    model_id = str(client.post_model("bench")["id"])
    if stream_at_once:
        client.configure(
            model_id,
            [{"name": "x", "minVal": 0.0, "maxVal": 1.0}],
            streaming_window=1,
            percent_variation=0.05,
            training={"bufferingSamples": 0},
        )
    else:
        client.configure(model_id, 1, streaming_window=1)
    return model_id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs of encode/decode (best kept)")
    parser.add_argument("--pretrain-runs", type=int, default=3, help="runs of pretrain")
    args = parser.parse_args()
    python = official_python()
    rng = np.random.default_rng(0)
    floats_100k = rng.random(100_000)
    floats_1m = rng.random(1_000_000)

    with EmbeddedServer() as server, tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        client = AmberClient(
            server=server.url, license_key=server.license_key, secret_key=server.secret_key
        )
        # a real 100k-pattern answer, captured as bytes
        model_id = new_model(client, stream_at_once=True)
        http = urllib3.PoolManager()
        token = client._transport.tokens.get()
        answer = http.request(
            "POST",
            f"{server.url}/models/{model_id}/data",
            body=json.dumps({"data": convert.to_table(floats_100k).encode()}),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            timeout=600,
        )
        assert answer.status == 200, answer.data[:200]
        raw = answer.data
        patterns = len(json.loads(raw)["analytics"]["ID"])
        assert patterns == 100_000, patterns

        ours: dict[str, float] = {}
        api_client = client.api.api_client

        def encode() -> str:
            body = PostDataRequest(data=convert.to_table(floats_100k).encode())
            return json.dumps(api_client.sanitize_for_serialization(body))

        ours["encode"] = best(encode, args.repeat)

        def decode() -> Any:
            resp = RESTResponse(
                urllib3.HTTPResponse(
                    body=raw, status=200, headers={"Content-Type": "application/json"}
                )
            )
            resp.read()
            result = AmberResult(
                api_client.response_deserialize(resp, {"200": "PostDataResponse"}).data
            )
            assert len(result["analytics"]["ID"]) == patterns
            return result

        ours["decode"] = best(decode, args.repeat)

        def pretrain() -> None:
            result = client.post_pretrain(new_model(client), floats_1m)
            assert result["status"] == "Pretrained"

        ours["pretrain"] = best(pretrain, args.pretrain_runs)

        np.save(work / "f100k.npy", floats_100k)
        np.save(work / "f1m.npy", floats_1m)
        (work / "response.json").write_bytes(raw)
        job = {
            "url": server.url,
            "license_key": server.license_key,
            "secret_key": server.secret_key,
            "model_id": model_id,
            "floats_100k": str(work / "f100k.npy"),
            "floats_1m": str(work / "f1m.npy"),
            "response_100k": str(work / "response.json"),
            "patterns": patterns,
            "repeat": args.repeat,
            "pretrain_models": [new_model(client) for _ in range(args.pretrain_runs)],
        }
        (work / "job.json").write_text(json.dumps(job))
        out = subprocess.run(
            [str(python), "-I", str(HERE / "facade_official.py"), str(work / "job.json")],
            capture_output=True,
            text=True,
            cwd=work,
            env={"HOME": str(work), "PATH": "/usr/bin:/bin"},
            check=False,
        )
        if out.returncode != 0:
            sys.exit(f"the official client failed:\n{out.stderr}")
        official = json.loads(out.stdout.strip().splitlines()[-1])
        client.close()

    labels = {
        "encode": "encode 100k floats (post_data body)",
        "decode": "decode 100k-pattern postData answer",
        "pretrain": "pretrain 1M values end to end",
    }
    print(f"{'case':40} {'ours':>10} {'official':>10} {'official/ours':>14}")
    for key, label in labels.items():
        ratio = official[key] / ours[key]
        print(f"{label:40} {ours[key]:9.3f}s {official[key]:9.3f}s {ratio:13.1f}x")


if __name__ == "__main__":
    main()
