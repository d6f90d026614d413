"""Request bodies over the configured limit are refused with 413 ``{code, message}``."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
import urllib3

import boonamber.v2 as v2
from boonamber.v2.exceptions import ApiException


def test_bodies_over_the_limit_get_413(
    fresh_server: Any, amber_login: Any, spec_instrument: Any
) -> None:
    server = fresh_server(max_body_bytes=4096)
    api = spec_instrument(amber_login(server))
    token = api.api_client.configuration.api_key["Authorization"]
    model_id = api.post_model(v2.PostModelRequest(label="limits")).id
    api.post_config(
        v2.PostConfigRequest.from_dict({"streamingWindow": 1, "features": [{"name": "x"}]}),
        model_id,
    )
    small = ",".join(["1.5"] * 500)  # about 2 KB
    assert len(api.post_data(v2.PostDataRequest(data=small), model_id).analytics.id) == 500
    big = ",".join(["1.5"] * 5000)  # about 20 KB
    for call in (
        lambda: api.post_data(v2.PostDataRequest(data=big), model_id),
        lambda: api.post_pretrain(v2.PostPretrainRequest(data=big), model_id),
    ):
        with pytest.raises(ApiException) as info:
            call()
        assert info.value.status == 413
        body = orjson.loads(info.value.body)
        assert body["code"] == 413 and "4096" in body["message"]
    # Without Content-Length (chunked transfer encoding) the limit holds too.
    payload = orjson.dumps({"data": big})
    r = urllib3.PoolManager().request(
        "POST",
        f"{server.url}/models/{model_id}/data",
        body=(payload[i : i + 1000] for i in range(0, len(payload), 1000)),
        headers={"Authorization": f"Bearer {token}"},
        chunked=True,
    )
    assert r.status == 413 and orjson.loads(r.data)["code"] == 413
    # Nothing of the refused requests reached the model.
    assert api.get_status(model_id).sample_count == 500
    assert api.get_usage(model_id).total_samples == 500
