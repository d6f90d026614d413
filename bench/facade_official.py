"""The official boonamber==2.0.20 side of bench/facade.py.

Runs inside bench/.venvs/boonamber-2.0.20 (never with our package importable) and prints
one JSON object of timings. Arguments: a JSON file written by bench/facade.py.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any


def best(fn: Any, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    with open(sys.argv[1]) as handle:
        job = json.load(handle)
    import numpy as np
    import urllib3

    import boonamber
    from boonamber import AmberV2Client
    from boonamber.v2.rest import RESTResponse

    assert "site-packages" in boonamber.__file__, boonamber.__file__
    amber = AmberV2Client(
        server=job["url"], license_key=job["license_key"], secret_key=job["secret_key"]
    )
    floats = np.load(job["floats_100k"])
    pretrain_data = np.load(job["floats_1m"])
    with open(job["response_100k"], "rb") as handle:
        raw = handle.read()
    results: dict[str, float] = {}

    # encode: post_data's whole client-side path, data -> JSON body (the HTTP call stubbed)
    amber.access_token = "stub"
    amber.reauth_time = time.time() + 1e9
    real_post = amber.api.post_model_data
    amber.api.post_model_data = lambda model_id, body: json.dumps(  # type: ignore[method-assign]
        amber.api.api_client.sanitize_for_serialization(body)
    )
    results["encode"] = best(lambda: amber.post_data(job["model_id"], floats), job["repeat"])
    amber.api.post_model_data = real_post  # type: ignore[method-assign]
    amber.access_token = ""
    amber.reauth_time = 0

    # decode: the HTTP answer's bytes -> PostDataResponse, the client's own path
    def decode() -> Any:
        resp = RESTResponse(
            urllib3.HTTPResponse(body=raw, status=200, headers={"Content-Type": "application/json"})
        )
        result = amber.api.api_client.deserialize(resp, "PostDataResponse")
        assert len(result.analytics.id) == job["patterns"]
        return result

    results["decode"] = best(decode, job["repeat"])

    # pretrain end to end (blocking until Pretrained), one fresh model per run
    models = iter(job["pretrain_models"])

    def pretrain() -> None:
        answer = amber.post_pretrain(next(models), pretrain_data)
        assert answer.status == "Pretrained", answer

    results["pretrain"] = best(pretrain, len(job["pretrain_models"]))
    print(json.dumps(results))


if __name__ == "__main__":
    main()
