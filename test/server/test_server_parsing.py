"""Unit tests of the wire text parsers (CSV, packed float32, root-cause lists, chunkspec)."""

from __future__ import annotations

import base64
import sys

import numpy as np
import pytest

from boonamber import b64
from boonamber.local.errors import BadRequest
from boonamber.local.parsing import (
    parse_chunkspec,
    parse_clusters,
    parse_csv,
    parse_data,
    parse_packed_float32,
    parse_vectors,
)


def message(fn: object, *args: object) -> str:
    with pytest.raises(BadRequest) as info:
        fn(*args)  # type: ignore[operator]
    assert info.value.status == 400
    return info.value.message


def test_csv_accepts_python_and_numpy_number_formats() -> None:
    text = "1.0, 1e-05, 2 ,-3,+4,.5,6.,1E3,\n7"
    assert parse_csv(text).tolist() == [1.0, 1e-05, 2.0, -3.0, 4.0, 0.5, 6.0, 1000.0, 7.0]
    values = np.array([0.1, 2.5e-7, 3.0], dtype=np.float32)
    assert parse_csv(",".join(str(v) for v in values)).tolist() == pytest.approx(values.tolist())


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("1,nan,3", "position 1 is not a finite number"),
        ("1,2,-inf", "position 2 is not a finite number"),
        ("Infinity", "position 0 is not a finite number"),
        ("1,two", "position 1 is not a number: 'two'"),
        ("1,,3", "position 1 is empty"),
        ("1,2,", "position 2 is empty"),
        ("1_000", "position 0 is not a number"),
        ("0x10", "position 0 is not a number"),
        ("  ", "empty"),
        ("", "empty"),
    ],
)
def test_csv_rejections_name_the_position(text: str, needle: str) -> None:
    assert needle in message(parse_csv, text)


def test_packed_float32() -> None:
    values = np.array([1.5, -2.25, 3e6], dtype="<f4")
    encoded = base64.b64encode(values.tobytes()).decode()
    assert parse_packed_float32(encoded).tolist() == values.tolist()
    assert parse_data(encoded, "b64float").tolist() == parse_data(encoded, "packed-float").tolist()
    assert "base64" in message(parse_packed_float32, "***")
    assert "float32" in message(parse_packed_float32, base64.b64encode(b"12345").decode())
    bad = base64.b64encode(np.array([1.0, np.nan], dtype="<f4").tobytes()).decode()
    assert "position 1" in message(parse_packed_float32, bad)
    assert "format" in message(parse_data, "1", "xml")


NOT_BASE64 = ["AAA", "AA=A", "AA\nAA", "AA AA", "A-_A", "\u00ff\u00ff\u00ff\u00ff", "AB=C"]


@pytest.mark.parametrize("fast", [True, False])
def test_base64_is_strict_and_the_same_with_or_without_pybase64(
    fast: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """boonamber.b64 (pybase64, else the standard library) round-trips like base64 and rejects
    anything but padded standard-alphabet text; the server names it (400)."""
    if not fast:
        monkeypatch.setattr(b64, "_B64", None)
        monkeypatch.setitem(sys.modules, "pybase64", None)  # import fails
    raw = np.random.default_rng(3).random(1001).astype("<f4").tobytes()
    text = b64.encode(raw)
    assert text == base64.b64encode(raw).decode("ascii")
    assert b64.decode(text) == raw and b64.decode("") == b""
    for bad in NOT_BASE64:
        with pytest.raises(ValueError):
            b64.decode(bad)
        assert "not valid base64" in message(parse_packed_float32, bad + "AAAA")
    monkeypatch.setattr(b64, "_B64", None)  # the next user picks the library again


def test_clusters_bracketed_or_bare() -> None:
    assert parse_clusters("[1,2,3]") == [1, 2, 3]
    assert parse_clusters(" [ 1 , -2 ] ") == [1, -2]
    assert parse_clusters("1,2,3") == [1, 2, 3]
    assert parse_clusters("7") == [7]
    assert parse_clusters("[]") == []
    for text in ("[1,a]", "[1.5]", "[[1]]", "1,,2", "[1,2"):
        assert message(parse_clusters, text).startswith(
            "must specify cluster ID(s) in the format [1,2,3]: "
        )


def test_vectors_bracketed_only() -> None:
    assert parse_vectors("[[0.1,0.2],[0.3,0.4]]") == [[0.1, 0.2], [0.3, 0.4]]
    assert parse_vectors(" [ [1, 2] , [3,4] ] ") == [[1.0, 2.0], [3.0, 4.0]]
    assert parse_vectors("[[1e-05,2.0]]") == [[1e-05, 2.0]]
    assert parse_vectors("[]") == []
    for text in ("0.1,0.2", "[0.1,0.2]", "[[1,2][3,4]]", "[[1,2],3]", "[[1,2]", "[[1,2]],"):
        text_of = message(parse_vectors, text)
        assert text_of.startswith("must specify patterns(s) in the format [[0.1,0.2],[0.3,0.4]]: ")
        assert "bracketed" in text_of
    assert "vectors[1] value at position 0" in message(parse_vectors, "[[1],[nan]]")


def test_chunkspec() -> None:
    assert parse_chunkspec(None) == (1, 1)
    assert parse_chunkspec("") == (1, 1)
    assert parse_chunkspec(" 2:5 ") == (2, 5)
    assert "out of range" in message(parse_chunkspec, "6:5")
    for text in ("0:5", "1:0", "a:b", "1", "1:2:3", "-1:2", "1.0:2", "²:3"):
        assert "chunkspec" in message(parse_chunkspec, text)
    assert "at most" in message(parse_chunkspec, "1:999999999")
