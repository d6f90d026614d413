"""AsyncAmberClient over real HTTP: same methods, results, errors, retries and tokens as the
sync client, single-flight login across tasks, and an event loop that never stalls."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from boonamber import AmberClient, AsyncAmberClient
from boonamber.facade import (
    AmberAuthenticationError,
    AmberCloudError,
    AmberConnectionError,
    AmberResult,
    AmberUserError,
    RetryPolicy,
)
from boonamber.profiles import read_profile

T = TypeVar("T")
FAST_RETRY = RetryPolicy(max_retries=3, initial_backoff=0.01, max_backoff=0.05)
BUSY = (503, {}, b'{"code": 503, "message": "busy"}')


def run(coro: Awaitable[T]) -> T:
    return asyncio.run(coro)  # type: ignore[arg-type]


def client_of(server: Any, **kwargs: Any) -> AsyncAmberClient:
    return AsyncAmberClient(
        server=kwargs.pop("url", server.url),
        license_key=server.license_key,
        secret_key=server.secret_key,
        **kwargs,
    )


def test_every_method_matches_the_sync_client(amber_server: Any, clean_env: Any) -> None:
    sync = AmberClient(
        server=amber_server.url,
        license_key=amber_server.license_key,
        secret_key=amber_server.secret_key,
    )
    data = [[float(i % 7), float(i % 5)] for i in range(600)]

    async def scenario() -> dict[str, Any]:
        async with client_of(amber_server) as amber:
            out: dict[str, Any] = {"version": await amber.get_version()}
            made = await amber.post_model("async-model")
            mid = made["id"]
            out["renamed"] = await amber.put_model(mid, label="renamed")
            out["config"] = await amber.configure(
                mid, ["a", "b"], streaming_window=1, training={"bufferingSamples": 100}
            )
            out["get_config"] = await amber.get_config(mid)
            out["data"] = await amber.post_data(mid, data[:300])
            joined = await amber.stream_analytics(mid, data[300:], batch_size=100)
            out["joined"] = joined
            batches = [r async for r in amber.stream(mid, data[:60], batch_size=40)]
            out["batches"] = len(batches)
            out["put"] = await amber.put_data(mid, {"a": 1.0, "b": 2.0})
            out["status"] = await amber.get_status(mid)
            out["usage"] = await amber.get_usage(mid)
            out["summary"] = await amber.get_summary(mid)
            out["nano"] = await amber.get_nano_status(mid)
            out["outage"] = await amber.post_outage(mid)
            out["learning"] = await amber.post_learning(mid, state="Learning")
            out["diagnostic"] = await amber.get_diagnostic(mid)
            out["models"] = await amber.get_models()
            copy = await amber.copy_model(mid, "the-copy")
            out["deleted"] = await amber.delete_model(copy["id"])
            out["pretrain"] = await amber.post_pretrain(mid, data * 4, chunk_size=700)
            out["get_pretrain"] = await amber.get_pretrain(mid)
            out["mid"] = mid
            return out

    out = run(scenario())
    mid = out["mid"]
    assert dict(out["version"]) == dict(sync.get_version())
    assert out["renamed"]["label"] == "renamed"
    assert [f["name"] for f in out["get_config"]["features"]] == ["a", "b"]
    assert all(isinstance(v, AmberResult) for v in out.values() if isinstance(v, dict))
    from boonamber.facade.results import GetPretrainResult, PostDataResult, PostModelResult

    # the same typed result classes as AmberClient
    assert type(out["data"]) is PostDataResult and type(out["joined"]) is PostDataResult
    assert type(out["renamed"]) is PostModelResult
    assert type(out["get_pretrain"]) is GetPretrainResult
    assert len(out["data"]["analytics"]["ID"]) == 300
    assert len(out["joined"]["analytics"]["ID"]) == 300
    assert out["batches"] == 3  # 60 rows of 2 values in batches of 40 values
    assert out["data"].status.state == "Learning"  # past 100 buffering samples
    assert isinstance(out["diagnostic"], bytes) and len(out["diagnostic"]) > 0
    assert mid in [m["id"] for m in out["models"]["modelList"]]
    assert out["pretrain"]["status"] == "Pretrained" == out["get_pretrain"]["status"]
    # the sync client sees what the async one did
    assert [f["name"] for f in sync.get_config(mid)["features"]] == ["a", "b"]
    assert sync.get_model(mid)["label"] == "renamed"
    sync.close()


def test_errors_are_the_sync_clients(amber_server: Any, clean_env: Any) -> None:
    async def scenario() -> None:
        async with client_of(amber_server) as amber:
            with pytest.raises(AmberCloudError) as info:
                await amber.get_model("000000000000000000000000")
            assert info.value.status == 404 and info.value.method == "GET"
            with pytest.raises(AmberUserError, match="model_id"):
                await amber.get_status("")
            with pytest.raises(AmberUserError, match="NaN"):
                await amber.post_data("x", [1.0, float("nan")])
        wrong = AsyncAmberClient(server=amber_server.url, license_key="nope", secret_key="nope")
        with pytest.raises(AmberAuthenticationError):
            await wrong.get_models()
        await wrong.aclose()
        with pytest.raises(AmberUserError, match="closed"):
            await wrong.get_models()

    run(scenario())


def test_one_login_for_many_concurrent_tasks(amber_server: Any, clean_env: Any) -> None:
    async def scenario() -> tuple[int, int]:
        async with client_of(amber_server) as amber:
            results = await asyncio.gather(*(amber.get_models() for _ in range(20)))
            assert all("modelList" in r for r in results)
            return amber._transport.tokens.logins, amber._transport.tokens.refreshes

    assert run(scenario()) == (1, 0)


def test_tokens_are_refreshed_once_before_expiry(fresh_server: Any, clean_env: Any) -> None:
    server = fresh_server(token_ttl=1.0)  # margin min(60, ttl/2): renewed after 0.5 s

    async def scenario() -> tuple[int, int]:
        async with client_of(server) as amber:
            await amber.get_models()
            await asyncio.sleep(0.6)
            await asyncio.gather(*(amber.get_models() for _ in range(10)))
            return amber._transport.tokens.logins, amber._transport.tokens.refreshes

    assert run(scenario()) == (1, 1)


def test_retries_are_the_sync_rules(amber_server: Any, proxy: Any, clean_env: Any) -> None:
    async def scenario() -> None:
        async with client_of(amber_server, url=proxy.url, max_retries=FAST_RETRY) as amber:
            mid = (await amber.post_model("r"))["id"]
            await amber.configure(mid, 1)
            proxy.add_rule(lambda s: s.path.endswith("/models"), respond=BUSY, times=2)
            assert "modelList" in await amber.get_models()
            assert [s.status for s in proxy.requests("GET", "/models")] == [503, 503, 200]
            proxy.add_rule(lambda s: s.path.endswith("/data"), respond=BUSY, times=1)
            with pytest.raises(AmberCloudError) as info:
                await amber.post_data(mid, [1.0, 2.0])
            assert info.value.status == 503 and info.value.attempts == 1
            assert len(proxy.requests("POST", "/data")) == 1  # never replayed

    run(scenario())


def test_a_refused_connection_fails_fast_and_says_it_was_retried(clean_env: Any) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there

    async def scenario() -> AmberConnectionError:
        amber = AsyncAmberClient(
            server=f"http://127.0.0.1:{port}/v2", license_key="k" * 8, secret_key="s" * 8
        )
        try:
            with pytest.raises(AmberConnectionError) as info:
                await amber.get_models()
            return info.value
        finally:
            await amber.aclose()

    started = time.monotonic()
    error = run(scenario())
    took = time.monotonic() - started
    assert error.attempts == 4 and "4 attempts" in str(error)
    assert not error.request_sent
    assert took < 3.0, took


def test_local_and_async_with(clean_env: Any) -> None:
    async def scenario() -> str:
        async with AsyncAmberClient.local() as amber:
            server = amber._local_server
            assert server is not None
            mid = (await amber.post_model("local"))["id"]
            assert (await amber.get_model(mid))["label"] == "local"
        assert amber._local_server is None
        return mid

    assert run(scenario())


# --------------------------------------------------------------------- event loop stall


@pytest.fixture
def server_process(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A local server in its own process, so that only the client shares our GIL."""
    db = str(tmp_path / "stall.db")
    proc = subprocess.Popen(
        [sys.executable, "-m", "boonamber.local", "serve", "--port", "0", "--db", db],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        profile = None
        while profile is None and time.monotonic() < deadline:
            if os.path.exists(db + ".license"):
                try:
                    profile = read_profile(db + ".license", "default")
                except (ValueError, json.JSONDecodeError):
                    profile = None
            time.sleep(0.05)
        assert profile is not None, "the server did not start"
        yield profile
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)


def test_the_event_loop_never_stalls_during_concurrent_post_data(
    server_process: dict[str, Any], clean_env: Any
) -> None:
    values = [float((i * 37) % 101) for i in range(40_000)]

    async def scenario() -> tuple[float, int]:
        amber = AsyncAmberClient(
            server=server_process["server"],
            license_key=server_process["license-key"],
            secret_key=server_process["secret-key"],
        )
        async with amber:
            ids = []
            for i in range(4):
                mid = (await amber.post_model(f"stall-{i}"))["id"]
                await amber.configure(mid, 1, streaming_window=1)
                ids.append(mid)
            worst = 0.0
            beats = 0
            done = asyncio.Event()

            async def heartbeat() -> None:
                nonlocal worst, beats
                loop = asyncio.get_running_loop()
                last = loop.time()
                while not done.is_set():
                    await asyncio.sleep(0.005)
                    now = loop.time()
                    worst = max(worst, now - last)
                    beats += 1
                    last = now

            beat = asyncio.create_task(heartbeat())
            await asyncio.sleep(0.02)
            results = await asyncio.gather(*(amber.post_data(m, values) for m in ids))
            done.set()
            await beat
            assert all(len(r["analytics"]["ID"]) == 40_000 for r in results)
            return worst, beats

    worst, beats = run(scenario())
    assert beats > 10
    assert worst < 0.150, f"the event loop stalled {worst * 1000:.0f} ms"


def test_no_request_at_all_is_made_for_bad_input(
    amber_server: Any, proxy: Any, clean_env: Any
) -> None:
    async def scenario() -> None:
        async with client_of(amber_server, url=proxy.url) as amber:
            with pytest.raises(AmberUserError):
                await amber.post_data("abc", [[1, 2], [3]])

    run(scenario())
    assert proxy.requests() == []


def test_pretrain_keeps_the_sync_rules_for_lost_answers(
    amber_server: Any, proxy: Any, clean_env: Any
) -> None:
    from boonamber.facade.results import GetPretrainResult, PostPretrainResult

    percents: list[int] = []

    async def scenario() -> tuple[Any, Any]:
        async with client_of(amber_server, url=proxy.url, timeout=(5, 0.5)) as amber:
            mid = (await amber.post_model("async-pretrain"))["id"]
            await amber.configure(mid, 1, streaming_window=1)
            # the answer to the last chunk is lost: the status shows the upload complete,
            # so the chunk is not sent again
            proxy.add_rule(lambda s: s.header("chunkspec") == "3:3", hang=1.5, times=1)
            done = await amber.post_pretrain(
                mid,
                [float(i % 9) for i in range(30)],
                chunk_size=10,
                workers=1,
                progress=lambda sent, total, percent=None: percents.append(percent),
            )
            other = (await amber.post_model("async-pretrain-2"))["id"]
            await amber.configure(other, 1, streaming_window=1)
            started = await amber.post_pretrain(other, [0.5] * 20, block=False)
            return done, started

    done, started = run(scenario())
    assert type(done) is GetPretrainResult and done.status == "Pretrained"
    assert percents[-1] == 100
    specs = [s.header("chunkspec") for s in proxy.requests("POST", "/pretrain")]
    assert specs.count("3:3") == 1
    polls = proxy.requests("GET", "/pretrain")
    assert polls and polls[0].at > min(
        s.at for s in proxy.requests("POST", "/pretrain") if s.header("chunkspec") == "3:3"
    )  # looked before deciding
    assert type(started) is PostPretrainResult and started.txn_id
