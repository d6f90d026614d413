"""``stream(...).to_pandas()`` over real HTTP: one DataFrame for every batch, aligned to the
input's index; the same from the async client."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from boonamber import AsyncAmberClient
from boonamber.facade import AmberUserError

pd = pytest.importorskip("pandas")


def frame(n: int) -> Any:
    index = pd.date_range("2026-01-01", periods=n, freq="s", name="time")
    return pd.DataFrame(
        {"a": [float(i % 9) for i in range(n)], "b": [float(i % 4) for i in range(n)]},
        index=index,
    )


def test_stream_to_pandas_joins_batches_on_the_inputs_index(client: Any, new_model: Any) -> None:
    mid = new_model(client, ["a", "b"], streaming_window=1)
    df = frame(1000)
    out = client.stream(mid, df, batch_size=300).to_pandas()  # 150 rows a batch: 7 batches
    assert len(out) == 1000 and out.index.equals(df.index)
    assert {"ID", "SI", "AD", "AW"} <= set(out.columns)
    joined = client.stream_analytics(new_model(client, ["a", "b"], streaming_window=1), df)
    assert list(out["SI"]) == list(joined["analytics"]["SI"])
    plain = client.stream(mid, df.to_numpy().tolist(), batch_size=500).to_pandas()
    assert list(plain.index) == list(range(1000))


def test_to_pandas_after_iterating_is_refused(client: Any, new_model: Any) -> None:
    mid = new_model(client, 1)
    stream = client.stream(mid, [1.0, 2.0, 3.0], batch_size=1)
    next(stream)
    with pytest.raises(AmberUserError, match="not been iterated"):
        stream.to_pandas()


def test_async_stream_to_pandas(amber_server: Any, clean_env: Any) -> None:
    async def scenario() -> Any:
        async with AsyncAmberClient(
            server=amber_server.url,
            license_key=amber_server.license_key,
            secret_key=amber_server.secret_key,
        ) as amber:
            mid = (await amber.post_model("pd"))["id"]
            await amber.configure(mid, ["a", "b"], streaming_window=1)
            return await amber.stream(mid, frame(400), batch_size=200).to_pandas()

    out = asyncio.run(scenario())
    assert len(out) == 400 and "SI" in out.columns
    assert out.index.equals(frame(400).index)


def test_public_plot_takes_frames_and_results(client: Any, new_model: Any, tmp_path: Any) -> None:
    pytest.importorskip("matplotlib")
    import boonamber

    mid = new_model(client, ["a", "b"], streaming_window=1)
    df = frame(300)
    analytics = client.stream(mid, df, batch_size=200).to_pandas()
    png = tmp_path / "run.png"
    figure = boonamber.plot(df, analytics, png, threshold=500)
    assert png.read_bytes()[:4] == b"\x89PNG"
    assert [ax.get_ylabel() for ax in figure.axes][:2] == ["a", "b"]
    result = client.post_data(mid, df.iloc[:50])
    assert len(boonamber.plot(df.iloc[:50], result).axes) == 5  # 2 features + SI, AD, AW
    with pytest.raises(TypeError, match="analytics must be"):
        boonamber.plot(df, {"x": [1]})
