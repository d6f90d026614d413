"""Pretraining whose answer is lost: the data is applied once (the server and the facade).

A loopback proxy forwards each request to the server and, for the first request that matches a
rule, closes the client's connection instead of passing the answer on: the server did the work,
the client never hears of it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import orjson
import pytest
import urllib3
from helpers import Answer, FaultProxy, wait_pretrained

import boonamber.v2 as v2
from boonamber import AmberClient


class DroppingProxy(FaultProxy):
    """Forwards to ``upstream``; drops the answer of the first ``times`` matching requests."""

    def __init__(self, upstream: str, drop: Callable[[str, str, dict[str, str]], bool], times: int):
        self.drop, self.left = drop, times
        self.dropped: list[str] = []
        self.lock = threading.Lock()
        super().__init__(upstream, self._rule)

    def _rule(
        self, method: str, path: str, headers: dict[str, str], answer: Answer
    ) -> Answer | None:
        with self.lock:
            if self.left > 0 and self.drop(method, path, headers):
                self.left -= 1
                self.dropped.append(headers.get("chunkspec") or "1:1")
                return None  # the work is done upstream; the client gets no answer
        return answer


@pytest.fixture
def dropping(amber_server: Any) -> Iterator[Callable[..., DroppingProxy]]:
    made: list[DroppingProxy] = []

    def make(drop: Callable[[str, str, dict[str, str]], bool], times: int = 1) -> DroppingProxy:
        proxy = DroppingProxy(amber_server.url, drop, times)
        made.append(proxy)
        return proxy

    yield make
    for proxy in made:
        proxy.close()


def _is_pretrain_post(spec: str | None = None) -> Callable[[str, str, dict[str, str]], bool]:
    def match(method: str, path: str, headers: dict[str, str]) -> bool:
        lowered = {k.lower(): v for k, v in headers.items()}
        return (
            method == "POST"
            and path.endswith("/pretrain")
            and (spec is None or lowered.get("chunkspec") == spec)
        )

    return match


DATA = np.sin(np.arange(3000) / 9.0).round(5)
CONFIG = {"streamingWindow": 5, "features": [{"name": "x"}]}


def _model(amber_api: Any) -> str:
    model_id: str = amber_api.post_model(v2.PostModelRequest(label="lost")).id
    amber_api.post_config(v2.PostConfigRequest.from_dict(CONFIG), model_id)
    return model_id


def _client(url: str, server: Any) -> AmberClient:
    return AmberClient(
        server=url, license_key=server.license_key, secret_key=server.secret_key, timeout=(5, 30)
    )


def test_a_blindly_resent_single_chunk_pretrains_once(
    amber_api: Any, amber_server: Any, dropping: Any
) -> None:
    model_id = _model(amber_api)
    proxy = dropping(_is_pretrain_post())
    token = amber_api.api_client.configuration.api_key["Authorization"]
    body = orjson.dumps({"data": ",".join(map(repr, DATA.tolist())), "format": "csv"})
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    http = urllib3.PoolManager(retries=False)
    with pytest.raises(urllib3.exceptions.HTTPError):
        http.request("POST", f"{proxy.url}/models/{model_id}/pretrain", body=body, headers=headers)
    assert proxy.dropped == ["1:1"]
    # A client without the lost answer has no txnId: it sends the same chunk again.
    for _ in range(2):
        r = http.request(
            "POST", f"{amber_server.url}/models/{model_id}/pretrain", body=body, headers=headers
        )
        assert r.status in (200, 202), r.data
    wait_pretrained(amber_api, model_id)
    assert amber_api.get_usage(model_id).total_samples == len(DATA)
    first_txn = orjson.loads(r.data)["txnId"]
    # Once the model changed, the same data is a new pretraining.
    amber_api.post_data(v2.PostDataRequest(data="0.1,0.2"), model_id)
    r = http.request(
        "POST", f"{amber_server.url}/models/{model_id}/pretrain", body=body, headers=headers
    )
    assert orjson.loads(r.data)["txnId"] != first_txn
    wait_pretrained(amber_api, model_id)
    assert amber_api.get_usage(model_id).total_samples == 2 * len(DATA) + 2


def test_the_facade_pretrains_once_when_the_single_chunk_answer_is_lost(
    amber_api: Any, amber_server: Any, dropping: Any
) -> None:
    model_id = _model(amber_api)
    proxy = dropping(_is_pretrain_post())
    client = _client(proxy.url, amber_server)
    result = client.post_pretrain(model_id, DATA)
    assert result["status"] == "Pretrained"
    assert proxy.dropped == ["1:1"]
    assert amber_api.get_usage(model_id).total_samples == len(DATA)
    client.close()


@pytest.mark.parametrize("lost", ["1:3", "2:3", "3:3"])
def test_the_facade_pretrains_once_when_a_chunk_answer_is_lost(
    amber_api: Any, amber_server: Any, dropping: Any, lost: str
) -> None:
    model_id = _model(amber_api)
    proxy = dropping(_is_pretrain_post(lost))
    client = _client(proxy.url, amber_server)
    result = client.post_pretrain(model_id, DATA, chunk_size=1000, workers=1)
    assert result["status"] == "Pretrained"
    assert proxy.dropped == [lost]
    assert amber_api.get_usage(model_id).total_samples == len(DATA)
    assert amber_api.get_status(model_id).state == "Monitoring"
    client.close()
