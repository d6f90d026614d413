"""Every accepted input kind, on the fast paths and on the careful ones, over real HTTP too."""

from __future__ import annotations

import array
import base64
import decimal
import fractions
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

from boonamber import AmberClient, AmberUserError
from boonamber.facade import convert


class F32(list[float]):
    """Values compared as float32 (float32 text is exact as float32, not as float64)."""


# (id, data, the values in order, values per row)
ACCEPTED: list[tuple[str, Callable[[], Any], list[float], int]] = [
    ("list-floats", lambda: [0.1, -2.5, 1e-05, 5e30], [0.1, -2.5, 1e-05, 5e30], 1),
    ("list-ints", lambda: [1, -2, 3], [1.0, -2.0, 3.0], 1),
    ("list-mixed", lambda: [1, 2.5, -3], [1.0, 2.5, -3.0], 1),
    ("tuple", lambda: (0.5, 1.5), [0.5, 1.5], 1),
    ("generator", lambda: (i / 4 for i in range(4)), [0.0, 0.25, 0.5, 0.75], 1),
    ("range", lambda: range(3), [0.0, 1.0, 2.0], 1),
    ("rows", lambda: [[1, 2.5], [3, 4]], [1.0, 2.5, 3.0, 4.0], 2),
    ("tuple-rows", lambda: ((1.0, 2.0, 3.0), (4.0, 5.0, 6.0)), [1, 2, 3, 4, 5, 6], 3),
    ("generator-rows", lambda: ([i, i + 1] for i in (0, 10)), [0, 1, 10, 11], 2),
    ("numpy-rows", lambda: [np.array([1.0, 2.0]), np.array([3.0, 4.0])], [1, 2, 3, 4], 2),
    ("numpy-1d", lambda: np.array([0.1, 0.2, 0.3]), [0.1, 0.2, 0.3], 1),
    ("numpy-2d", lambda: np.array([[1.0, 2.0], [3.0, 4.0]]), [1, 2, 3, 4], 2),
    ("numpy-f32", lambda: np.array([0.1, 1.5], dtype=np.float32), F32([0.1, 1.5]), 1),
    ("numpy-int", lambda: np.array([[1, 2], [3, 4]], dtype=np.uint8), [1, 2, 3, 4], 2),
    ("numpy-strided", lambda: np.arange(12.0).reshape(3, 4)[:, ::2], [0, 2, 4, 6, 8, 10], 2),
    ("numpy-big-endian", lambda: np.array([1.5, 2.5], dtype=">f8"), [1.5, 2.5], 1),
    ("numpy-scalars", lambda: [np.float64(1.5), np.int32(2)], [1.5, 2.0], 1),
    ("series", lambda: pd.Series([1.5, 2.5, 3.5]), [1.5, 2.5, 3.5], 1),
    ("dataframe", lambda: pd.DataFrame({"a": [1.0, 2.0], "b": [3, 4]}), [1, 3, 2, 4], 2),
    ("strings", lambda: ["1.0", "2", " -3e2 "], [1.0, 2.0, -300.0], 1),
    ("string-rows", lambda: [["1", "2"], ["3.5", "4"]], [1.0, 2.0, 3.5, 4.0], 2),
    ("decimal", lambda: [decimal.Decimal("1.25"), 2], [1.25, 2.0], 1),
    ("fraction", lambda: [fractions.Fraction(1, 4)], [0.25], 1),
    ("big-int", lambda: [2**70, 1], [float(2**70), 1.0], 1),
    ("zeros-and-ones", lambda: [0, 1, 0.0, 1.0] * 400, [0.0, 1.0, 0.0, 1.0] * 400, 1),
    ("csv", lambda: "1,2\n3,4", [1, 2, 3, 4], 2),
    ("number", lambda: 7.5, [7.5], 1),
]


def _without_orjson(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(convert, "_orjson", lambda: None)


@pytest.mark.parametrize("fast", [True, False], ids=["orjson", "no-orjson"])
@pytest.mark.parametrize(
    ("make", "values", "width"),
    [(m, v, w) for _, m, v, w in ACCEPTED],
    ids=[i for i, _, _, _ in ACCEPTED],
)
def test_post_data_text_holds_exactly_the_values(
    monkeypatch: pytest.MonkeyPatch, fast: bool, make: Any, values: list[float], width: int
) -> None:
    if not fast:
        _without_orjson(monkeypatch)
    table = convert.to_table(make())
    assert (table.width, table.count) == (width, len(values))
    text = table.encode()
    dtype = np.float32 if isinstance(values, F32) else np.float64
    assert np.array_equal(np.array(text.split(","), dtype=dtype), np.array(values, dtype=dtype))
    # batches are whole rows and add up to the whole
    if table.rows > 1:
        half = table.rows // 2
        assert table.encode(0, half) + "," + table.encode(half) == text


@pytest.mark.parametrize(
    ("make", "values"), [(m, v) for _, m, v, _ in ACCEPTED], ids=[i for i, _, _, _ in ACCEPTED]
)
def test_pretrain_packs_exactly_the_values_as_float32(make: Any, values: list[float]) -> None:
    packed = convert.to_float32(make())
    got = np.frombuffer(packed.buffer, dtype="<f4")
    assert packed.count == len(values)
    assert np.array_equal(got, np.array(values, dtype=np.float32))


def test_float32_text_round_trips_float32_exactly() -> None:
    values = np.random.default_rng(3).normal(size=1000).astype(np.float32)
    text = convert.to_table(values).encode()
    assert np.array_equal(np.array(text.split(","), dtype=np.float32), values)


# Rejected on every path, with the wording of the careful path: (id, data, words)
REJECTED: list[tuple[str, Any, str]] = [
    ("nan-late", [1.0] * 5000 + [math.nan], "data[5000]"),
    ("inf-in-ints", [1, 2, math.inf], "data[2]"),
    ("none", [1.0, None], "data[1] is not a number: None"),
    ("bool-among-floats", [0.5, True, 0.25], "data[1] is not a number: True"),
    ("bool-among-many-ones", [1.0] * 3000 + [True], "data[3000] is not a number: True"),
    ("numpy-bool-scalar", [1.0, np.bool_(True)], "data[1] is not a number"),
    ("string-among-numbers", [1.0, "2"], "data[1] is not a number: '2'"),
    ("bad-numeric-string", ["1", "x"], "data[1] is not a number: 'x'"),
    ("nan-string", ["1", "nan"], "NaN and infinity"),
    ("comma-in-string", ["1,2", "3"], "data[0] is not a number"),
    ("string-row-bad", [["1", "2"], ["3", ""]], "data[1][1] is empty"),
    ("row-in-values", [1.0, [2.0]], "data[1] is a row"),
    ("value-in-rows", [[1.0], 2.0], "data[1] is a value"),
    ("deep-rows", [[1.0, [2.0]], [3.0, 4.0]], "nested too deep"),
    ("ragged", [[1.0, 2.0], [3.0]], "ragged"),
    ("dict-in-list", [{"a": 1}], "data[0] is not a number"),
    ("numpy-complex-scalar", [np.complex128(1 + 2j)], "data[0] is not a number"),
    ("decimal-nan", [decimal.Decimal("NaN")], "NaN and infinity"),
]


@pytest.mark.parametrize("fast", [True, False], ids=["orjson", "no-orjson"])
@pytest.mark.parametrize(
    ("data", "words"), [(d, w) for _, d, w in REJECTED], ids=[i for i, _, _ in REJECTED]
)
def test_post_data_rejects(
    monkeypatch: pytest.MonkeyPatch, fast: bool, data: Any, words: str
) -> None:
    if not fast:
        _without_orjson(monkeypatch)
    with pytest.raises(AmberUserError) as info:
        convert.to_table(data)
    assert words in str(info.value)


@pytest.mark.parametrize(
    "data",
    [d for _, d, _ in REJECTED],
    ids=[i for i, _, _ in REJECTED],
)
def test_pretrain_rejects(data: Any) -> None:
    with pytest.raises(AmberUserError):
        convert.to_float32(data)


def test_a_generator_is_checked_like_a_list() -> None:
    with pytest.raises(AmberUserError, match=r"data\[1\] is not a number: 'a'"):
        convert.to_table(x for x in [1.0, "a"])
    with pytest.raises(AmberUserError, match="not a number"):
        convert.to_float32(x for x in [1.0, None])


def test_pretrain_names_the_value_beyond_float32() -> None:
    with pytest.raises(AmberUserError, match="value 2 of the data is inf as float32"):
        convert.to_float32([1.0, 2.0, 1e300])


@pytest.mark.parametrize("n", [1, 8191, 8192, 8193, 20_000])
def test_pretrain_lists_pack_as_array_f_does(n: int) -> None:
    values: list[Any] = [((i * 7919) % 1000) / 7.0 - 70.0 for i in range(n)]
    values[n // 2] = n  # an int
    values[-1] = np.float32(0.1)  # a numpy scalar
    packed = convert.to_float32(values)
    assert packed.count == n
    assert bytes(packed.buffer) == array.array("f", values).tobytes()


@pytest.mark.parametrize("at", [0, 8191, 8192, 20_000 - 1])
@pytest.mark.parametrize(
    ("bad", "words"),
    [
        (1e39, "is inf as float32"),
        (-3.5e38, "is -inf as float32"),
        (float("nan"), "is nan as float32"),
        (True, "not a number: True"),
        ("x", "not a number"),
        (None, "not a number"),
    ],
)
def test_pretrain_names_a_bad_value_wherever_it_is(at: int, bad: Any, words: str) -> None:
    values: list[Any] = [0.25] * 20_000
    values[at] = bad
    with pytest.raises(AmberUserError, match=words) as info:
        convert.to_float32(values)
    if isinstance(bad, float):
        assert f"value {at} of the data" in str(info.value)


def test_what_the_server_receives(
    proxied: tuple[AmberClient, Any], new_model: Callable[..., str]
) -> None:
    client, proxy = proxied
    model_id = new_model(client, 2)
    frame = pd.DataFrame({"a": [0.1, 0.2, 0.3], "b": [1, 2, 3]}, index=["x", "y", "z"])
    for data in (frame, frame.to_numpy(), frame.to_numpy().tolist(), [["0.1", "1"]] * 3):
        client.post_data(model_id, data)
    bodies = [s.json()["data"] for s in proxy.requests("POST", "/data")]
    assert bodies[:3] == ["0.1,1.0,0.2,2.0,0.3,3.0"] * 3
    assert bodies[3] == "0.1,1,0.1,1,0.1,1"
    other = new_model(client, 2)
    result = client.post_pretrain(other, [[0.5, 1], [2, 3.25]] * 500)
    assert result["status"] == "Pretrained"
    chunk = proxy.requests("POST", "/pretrain")[0].json()
    got = np.frombuffer(base64.b64decode(chunk["data"]), dtype="<f4")
    assert np.array_equal(got, np.array([0.5, 1, 2, 3.25] * 500, dtype=np.float32))
