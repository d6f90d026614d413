"""One client's side of bench/facade.py: ``--side ours`` (AmberClient) or ``--side official``
(boonamber==2.0.20's AmberV2Client, run inside its own venv with ``python -I``).

Reads one JSON command per line on stdin, answers one JSON line per command on stdout.
Every timed call gets its data as a Python list built from the same seed on both sides;
client CPU is this process's CPU time (all threads), the server runs in another process.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import random
import sys
import threading
import time
from typing import Any


def values(n: int, seed: int) -> list[float]:
    """The same ``n`` floats in [0, 1) on both sides (the stdlib generator, not numpy)."""
    rng = random.Random(seed)
    return [rng.random() for _ in range(n)]


class RssPeak:
    """The largest resident set size seen while the block runs (sampled every 2 ms)."""

    def __init__(self) -> None:
        self.page = os.sysconf("SC_PAGE_SIZE")
        self.start = self.peak = 0
        self._stop = threading.Event()

    def rss(self) -> int:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[1]) * self.page

    def __enter__(self) -> RssPeak:
        self.start = self.peak = self.rss()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(0.002):
            self.peak = max(self.peak, self.rss())

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.rss())


def clock(fn: Any) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def timed(fn: Any) -> dict[str, Any]:
    wall, cpu = time.perf_counter(), time.process_time()
    with RssPeak() as memory:
        extra = fn()
    return {
        "wall": time.perf_counter() - wall,
        "cpu": time.process_time() - cpu,
        "rss_added": memory.peak - memory.start,
        **(extra or {}),
    }


class Ours:
    def __init__(self, license_file: str) -> None:
        from boonamber import AmberClient

        self.client = AmberClient(license_file=license_file)

    def new_model(self, stream_at_once: bool) -> str:
        model_id = str(self.client.post_model("bench")["id"])
        if stream_at_once:  # every value makes a pattern with analytics, at once
            self.client.configure(
                model_id,
                [{"name": "x", "minVal": 0.0, "maxVal": 1.0}],
                streaming_window=1,
                percent_variation=0.05,
                training={"bufferingSamples": 0},
            )
        else:
            self.client.configure(model_id, 1, streaming_window=1)
        return model_id

    def post_data(self, model_id: str, data: list[float]) -> int:
        return len(self.client.post_data(model_id, data)["analytics"]["ID"])

    def pretrain(self, model_id: str, data: list[float]) -> str:
        return str(self.client.post_pretrain(model_id, data)["status"])

    def decode(self, raw: bytes) -> Any:
        """The client's own path: the transport's decode of a urllib3 answer -> result."""
        import urllib3

        from boonamber.facade.answers import decode
        from boonamber.facade.operations import Operation
        from boonamber.facade.results import AmberResult
        from boonamber.v2.models import PostDataResponse

        response = urllib3.HTTPResponse(
            body=raw, status=200, headers={"Content-Type": "application/json"}
        )
        answer = decode(Operation(self.client.api, "post_data"), response)
        return AmberResult.from_wire(answer.data, PostDataResponse)


class Official:
    def __init__(self, license_file: str) -> None:
        import boonamber
        from boonamber import AmberV2Client

        assert "site-packages" in boonamber.__file__, boonamber.__file__
        self.client = AmberV2Client(license_file=license_file)

    def new_model(self, stream_at_once: bool) -> str:
        from boonamber.v2.models import (
            FeatureConfig,
            PostConfigRequest,
            PostModelRequest,
            TrainingConfig,
        )

        model = self.client.post_model(PostModelRequest(label="bench"))
        if stream_at_once:
            config = PostConfigRequest(
                streaming_window=1,
                percent_variation=0.05,
                features=[FeatureConfig(name="x", min_val=0.0, max_val=1.0)],
                training=TrainingConfig(buffering_samples=0),
            )
        else:
            config = PostConfigRequest(streaming_window=1, features=[FeatureConfig(name="x")])
        self.client.post_config(model.id, config)
        return str(model.id)

    def post_data(self, model_id: str, data: list[float]) -> int:
        return len(self.client.post_data(model_id, data).analytics.id)

    def pretrain(self, model_id: str, data: list[float]) -> str:
        return str(self.client.post_pretrain(model_id, data).status)

    def decode(self, raw: bytes) -> Any:
        import urllib3

        from boonamber.v2.rest import RESTResponse

        response = RESTResponse(
            urllib3.HTTPResponse(body=raw, status=200, headers={"Content-Type": "application/json"})
        )
        return self.client.api.api_client.deserialize(response, "PostDataResponse")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--side", choices=["ours", "official"], required=True)
    parser.add_argument("--license-file", required=True)
    args = parser.parse_args()
    side: Ours | Official = (Ours if args.side == "ours" else Official)(args.license_file)
    cache: dict[tuple[int, int], list[float]] = {}
    for line in sys.stdin:
        command = json.loads(line)
        op = command["op"]
        if op == "quit":
            break
        if op == "model":
            out: dict[str, Any] = {"model": side.new_model(command["stream_at_once"])}
        elif op in ("post_data", "pretrain"):
            key = (command["n"], command["seed"])
            if key not in cache:
                cache.clear()
                cache[key] = values(*key)
            data = cache[key]
            run = side.post_data if op == "post_data" else side.pretrain
            key_name = "patterns" if op == "post_data" else "status"
            out = timed(
                functools.partial(
                    lambda r, m, d, k: {k: r(m, d)}, run, command["model"], data, key_name
                )
            )
        elif op == "decode":
            with open(command["path"], "rb") as handle:
                raw = handle.read()
            out = {"times": [], "floor": [], "with_model": []}
            decode = functools.partial(side.decode, raw)
            for _ in range(command["repeat"]):
                out["times"].append(clock(decode))
                if isinstance(side, Ours):
                    import orjson

                    out["floor"].append(clock(functools.partial(orjson.loads, raw)))
                    out["with_model"].append(clock(lambda d=decode: d().model))
        else:
            raise SystemExit(f"unknown op {op!r}")
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
