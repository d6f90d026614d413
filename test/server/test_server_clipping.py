"""The X-Amber-Clipped header: values outside the learned range, counted per data request."""

from __future__ import annotations

from typing import Any

import numpy as np

import boonamber.v2 as v2
from boonamber.local.wire import CLIPPED_HEADER


def clipped(reply: Any) -> int:
    """The header's value in a ``*_with_http_info`` answer (names are case-insensitive)."""
    headers = {k.lower(): v for k, v in (reply.headers or {}).items()}
    return int(headers[CLIPPED_HEADER.lower()])


def post(api: Any, model_id: str, values: list[float]) -> Any:
    body = v2.PostDataRequest(data=",".join(str(v) for v in values))
    return api.post_data_with_http_info(body, model_id)


def test_fixed_range_counts_values_outside_it(checked_api: Any, make_model: Any) -> None:
    model_id = make_model("clip")
    config = {
        "streamingWindow": 1,
        "percentVariation": 0.05,
        "features": [
            {"name": "a", "minVal": 0.0, "maxVal": 1.0},
            {"name": "b", "minVal": -1.0, "maxVal": 1.0},
        ],
        "training": {"bufferingSamples": 0},
    }
    checked_api.post_config(v2.PostConfigRequest.from_dict(config), model_id)
    inside = post(checked_api, model_id, [0.0, -1.0, 0.5, 0.0, 1.0, 1.0])
    assert clipped(inside) == 0 and len(inside.data.analytics.id) == 3
    # a: 2.0 (over), -0.1 (under); b: -3 (under); bounds themselves are not clipped
    outside = post(checked_api, model_id, [2.0, 1.0, -0.1, -3.0, 1.0, -1.0])
    assert clipped(outside) == 3
    # a clipped value matches the bound's cluster: it is no anomaly by itself
    assert outside.data.analytics.id[0] == inside.data.analytics.id[2]


def test_buffered_values_count_when_autotuning_sets_the_range(
    checked_api: Any, make_model: Any
) -> None:
    model_id = make_model("clip-auto", features=1, window=1, buffering=200)
    rng = np.random.default_rng(4)
    data = rng.uniform(0.0, 1.0, 200)
    data[[10, 20]] = [5.0, -5.0]  # beyond the 0.5 / 99.5 percentiles of the buffer
    first = post(checked_api, model_id, list(data[:150]))
    assert clipped(first) == 0  # still buffering: no range yet
    second = post(checked_api, model_id, list(data[150:]))
    assert second.data.status.state == "Autotuning" and clipped(second) == 0
    # Autotuning waits 250 vectors (1.25 x bufferingSamples): they are buffered too
    later = rng.uniform(-0.5, 1.5, 250)
    third = post(checked_api, model_id, list(later))
    assert third.data.status.state == "Learning"
    lo, hi = np.percentile(data, [0.5, 99.5])  # the range comes from the first 200 only
    replayed = np.concatenate((data, later))
    expected = int(np.count_nonzero((replayed < lo) | (replayed > hi)))
    assert expected >= 2 + 50
    assert clipped(third) == expected  # the whole buffer is clipped when it is replayed
    fourth = post(checked_api, model_id, [float(hi) + 1.0, float(lo) - 1.0, float(lo)])
    assert clipped(fourth) == 2


def test_put_data_reports_clipping_only_when_it_inferences(
    checked_api: Any, make_model: Any
) -> None:
    model_id = make_model("clip-fusion")
    config = {
        "streamingWindow": 1,
        "features": [
            {"name": "a", "minVal": 0.0, "maxVal": 1.0},
            {"name": "b", "minVal": 0.0, "maxVal": 1.0},
        ],
        "training": {"bufferingSamples": 0},
    }
    checked_api.post_config(v2.PostConfigRequest.from_dict(config), model_id)
    held = checked_api.put_data_with_http_info(
        v2.PutDataRequest(vector=[v2.FusionFeature(name="a", value=7.0)]), model_id
    )
    assert held.data.analytics.id == [] and clipped(held) == 0
    sent = checked_api.put_data_with_http_info(
        v2.PutDataRequest(vector=[v2.FusionFeature(name="b", value=0.5)], fusionRule="submit"),
        model_id,
    )
    assert len(sent.data.analytics.id) == 1 and clipped(sent) == 1
