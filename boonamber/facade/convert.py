"""Turn user data into what the wire carries, rejecting bad input before anything is sent.

Accepted data: a CSV string (one row per line), a number, a list / tuple / generator (flat,
or of rows) of numbers or of numeric strings, a numpy array (1-D or 2-D), a pandas Series or
DataFrame. numpy and pandas are optional and only touched when the data already is one of
their objects (or, for pretrain, to check floats).

Numbers never go through text on the way: ``post_data`` text is rendered straight from the
values (``orjson`` when installed: one pass that also proves every value a finite number),
pretrain floats are packed straight to little-endian float32 (``struct``). Anything the fast
paths do not vouch for takes the careful path, which names the first bad value.

Rejected with :class:`AmberUserError`: empty input, NaN or infinity, booleans, non-numbers
(strings mixed with numbers, ``None``, ...), rows of different lengths, nesting deeper than
rows.
"""

from __future__ import annotations

import array
import itertools
import math
import numbers
import os
import re
import struct
import sys
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any

from boonamber import b64, wire
from boonamber.facade.errors import AmberUserError

__all__ = [
    "Float32Data",
    "Table",
    "b64_chunk",
    "format_clusters",
    "format_vectors",
    "iter_csv_file",
    "pandas_index",
    "to_float32",
    "to_table",
]

_INT_RE = re.compile(r"[+-]?\d+")
#: What orjson may print for a list (of rows) of finite numbers; anything else in its output
#: (``null`` for NaN / infinity / None, ``true``, quotes, braces) sends the data down the
#: careful path.
_JSON_NUMBER_BYTES = b"0123456789.,-+eE[]"
_NUMPY_JSON_DTYPES = frozenset("f2 f4 f8 i1 i2 i4 i8 u1 u2 u4 u8".split())


def _orjson() -> Any:
    """The orjson module, or None when it is not installed."""
    try:
        import orjson
    except ImportError:  # pragma: no cover - orjson is a default dependency
        return None
    return orjson


_Encoder = Callable[[int, int], str]


@dataclass(frozen=True)
class Table:
    """Validated numeric data: ``rows`` rows of ``width`` values (``width`` 1 for flat data).

    ``encode(start, stop)`` renders rows ``start:stop`` as comma-separated numbers.
    """

    rows: int
    width: int
    flat: bool
    _encode: _Encoder

    @property
    def count(self) -> int:
        """The number of values."""
        return self.rows * self.width

    def encode(self, start: int = 0, stop: int | None = None) -> str:
        """Rows ``start:stop`` as one comma-separated string."""
        return self._encode(start, self.rows if stop is None else stop)


def _module_object(value: Any, module: str, names: tuple[str, ...]) -> bool:
    mod = sys.modules.get(module)
    if mod is None:
        return False
    classes = tuple(getattr(mod, n) for n in names if hasattr(mod, n))
    return bool(classes) and isinstance(value, classes)


def _is_ndarray(value: Any) -> bool:
    return _module_object(value, "numpy", ("ndarray",))


def _is_pandas(value: Any) -> bool:
    return _module_object(value, "pandas", ("Series", "DataFrame"))


def _is_number(value: Any) -> bool:
    """Real numbers: int, float, numpy numbers, Fraction, Decimal; never bool.

    numpy's bool_ is not registered as numbers.Real, so it is rejected like bool.
    """
    if isinstance(value, bool):
        return False
    if isinstance(value, numbers.Real):
        return True
    return _module_object(value, "decimal", ("Decimal",))


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool) or _module_object(value, "numpy", ("bool_",))


def _where(index: int, width: int, flat: bool) -> str:
    return f"data[{index}]" if flat else f"data[{index // width}][{index % width}]"


def _fmt_value(value: Any, where: str) -> str:
    if type(value) is int:
        return str(value)
    if type(value) is float:
        if not math.isfinite(value):
            raise AmberUserError(f"{where} {wire.not_finite(value)}")
        return repr(value)
    if not _is_number(value):
        raise AmberUserError(f"{where} is not a number: {wire.show(value)}")
    if isinstance(value, numbers.Integral):
        return str(int(value))
    number = float(value)  # numpy floats, Fraction, Decimal
    if not math.isfinite(number):
        raise AmberUserError(f"{where} {wire.not_finite(number)}")
    return repr(number)


# ---------------------------------------------------------------- CSV text
def _csv_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def _check_csv_line(line: str, row: int, flat: bool) -> list[str]:
    """Tokens of one CSV line, or AmberUserError naming the first bad one."""
    bad = wire.line_problem(line)
    if bad is not None:
        col, problem = bad
        where = f"value {col + 1}" if flat else f"row {row + 1}, value {col + 1}"
        raise AmberUserError(f"{where} of the CSV data {problem}")
    return [t.strip() for t in line.split(",")]


def _csv_table(text: str) -> Table:
    lines = _csv_lines(text)
    if not lines:
        raise AmberUserError("no data: the CSV string is empty")
    flat = len(lines) == 1
    rows = [_check_csv_line(line, i, flat) for i, line in enumerate(lines)]
    width = len(rows[0])
    for i, tokens in enumerate(rows):
        if len(tokens) != width:
            raise AmberUserError(
                f"ragged rows: row {i + 1} of the CSV data has {len(tokens)} values, row 1 has {width}"
            )
    if flat:
        tokens = rows[0]
        return Table(len(tokens), 1, True, lambda a, b: ",".join(tokens[a:b]))
    return Table(len(rows), width, False, lambda a, b: ",".join(",".join(r) for r in rows[a:b]))


def iter_csv_file(
    source: str | os.PathLike[str] | IO[str], batch_values: int
) -> Iterator[tuple[str, int]]:
    """Yield ``(csv, count)`` batches of whole lines (about ``batch_values`` values each).

    Every batch is validated before it is yielded; rows must keep one width throughout.
    """
    if isinstance(source, str | os.PathLike):
        with open(source, encoding="utf-8") as handle:
            yield from iter_csv_file(handle, batch_values)
        return
    width: int | None = None
    parts: list[str] = []
    count = 0
    row = 0
    for line in source:
        if not line.strip():
            continue
        tokens = _check_csv_line(line.rstrip("\r\n"), row, False)
        if width is None:
            width = len(tokens)
        elif len(tokens) != width:
            raise AmberUserError(
                f"ragged rows: line {row + 1} of the CSV file has {len(tokens)} values, "
                f"the first has {width}"
            )
        row += 1
        parts.append(",".join(tokens))
        count += len(tokens)
        if count >= batch_values:
            yield ",".join(parts), count
            parts, count = [], 0
    if parts:
        yield ",".join(parts), count
    if width is None:
        raise AmberUserError("no data: the CSV file is empty")


# ---------------------------------------------------------------- numpy / pandas
def _numpy_json(arr: Any) -> Callable[[int, int], str] | None:
    """An orjson encoder of rows ``a:b`` of a finite 2-D numeric array, or None."""
    orjson = _orjson()
    if orjson is None:
        return None
    dtype = arr.dtype
    if not dtype.isnative or f"{dtype.kind}{dtype.itemsize}" not in _NUMPY_JSON_DTYPES:
        return None
    option = orjson.OPT_SERIALIZE_NUMPY

    def encode(a: int, b: int) -> str:
        import numpy as np

        part = np.ascontiguousarray(arr[a:b]).reshape(-1)
        return orjson.dumps(part, option=option)[1:-1].decode("ascii")  # type: ignore[no-any-return]

    return encode


def _array_table(value: Any) -> Table:
    import numpy as np

    arr = np.asarray(value)
    if arr.ndim > 2:
        raise AmberUserError(f"data has {arr.ndim} dimensions; at most 2 (rows of values)")
    if arr.size == 0:
        raise AmberUserError("no data: the array is empty")
    flat = arr.ndim <= 1
    arr2 = arr.reshape(-1, 1) if flat else arr
    rows, width = int(arr2.shape[0]), int(arr2.shape[1])
    kind = arr.dtype.kind
    if kind in "iuf":
        if kind == "f":
            finite = np.isfinite(arr2)
            if not finite.all():
                bad = int(np.flatnonzero(~finite.ravel())[0])
                raise AmberUserError(
                    f"{_where(bad, width, flat)} {wire.not_finite(float(arr2.ravel()[bad]))}"
                )
        fast = _numpy_json(arr2)
        if fast is not None:
            return Table(rows, width, flat, fast)
    if kind in "iu":

        def enc_int(a: int, b: int) -> str:
            return ",".join(map(str, arr2[a:b].ravel().tolist()))

        return Table(rows, width, flat, enc_int)
    if kind == "f":
        if arr.dtype.itemsize <= 4:
            # 9 significant digits round-trip any float32 exactly
            def enc_f32(a: int, b: int) -> str:
                return ",".join([f"{v:.9g}" for v in arr2[a:b].ravel().tolist()])

            return Table(rows, width, flat, enc_f32)

        def enc_f64(a: int, b: int) -> str:
            values = arr2[a:b].astype(np.float64, copy=False).ravel().tolist()
            return ",".join(map(float.__repr__, values))

        return Table(rows, width, flat, enc_f64)
    if kind == "O":
        return _list_table(arr.tolist())
    if kind == "b":
        raise AmberUserError("data is an array of booleans, not numbers")
    raise AmberUserError(f"data is an array of {arr.dtype}, not of real numbers")


# ---------------------------------------------------------------- Python values
def _is_row(value: Any) -> bool:
    return isinstance(value, list | tuple | range) or _is_ndarray(value)


def _json_numbers(items: Sequence[Any], brackets: int) -> bytes | None:
    """orjson's text of ``items`` if it is nothing but finite numbers in ``brackets`` lists."""
    orjson = _orjson()
    if orjson is None:
        return None
    try:
        text: bytes = orjson.dumps(items)
    except TypeError:  # numpy scalars, Decimal, huge ints, ...: the careful path
        return None
    if text.translate(None, _JSON_NUMBER_BYTES) or text.count(b"[") != brackets:
        return None
    return text


def _fast_list_table(items: Sequence[Any]) -> Table | None:
    """The table of a flat list of numbers or of a list of equal rows, without a Python loop
    over the values; None when anything needs a closer look."""
    if not isinstance(items, list | tuple):
        return None
    n = len(items)
    if not _is_row(items[0]):
        text = _json_numbers(items, 1)
        if text is None:
            return None
        whole = text[1:-1].decode("ascii")
        orjson = _orjson()

        def enc_flat(a: int, b: int) -> str:
            if a == 0 and b >= n:
                return whole
            return orjson.dumps(items[a:b])[1:-1].decode("ascii")  # type: ignore[no-any-return]

        return Table(n, 1, True, enc_flat)
    if not set(map(type, items)) <= {list, tuple}:
        return None
    widths = set(map(len, items))
    if len(widths) != 1 or 0 in widths:
        return None
    text = _json_numbers(items, n + 1)
    if text is None:
        return None
    whole = text.translate(None, b"[]").decode("ascii")
    orjson = _orjson()

    def enc_rows(a: int, b: int) -> str:
        if a == 0 and b >= n:
            return whole
        return orjson.dumps(items[a:b]).translate(None, b"[]").decode("ascii")  # type: ignore[no-any-return]

    return Table(n, widths.pop(), False, enc_rows)


def _number_text(value: str, where: str) -> str:
    problem = wire.number_problem(value)
    if problem is not None:
        raise AmberUserError(f"{where} {problem}")
    return value.strip()


def _all_strings(items: Sequence[Any]) -> bool:
    return all(isinstance(v, str) for v in items)


def _list_table(items: Sequence[Any]) -> Table:
    if len(items) == 0:
        raise AmberUserError("no data: the list is empty")
    fast = _fast_list_table(items)
    if fast is not None:
        return fast
    first = items[0]
    if not _is_row(first):
        values = items
        if all(type(v) is float for v in values):
            if not all(map(math.isfinite, values)):
                bad = next(i for i, v in enumerate(values) if not math.isfinite(v))
                raise AmberUserError(f"data[{bad}] {wire.not_finite(values[bad])}")
            texts = list(map(float.__repr__, values))
        elif _all_strings(values):  # numeric strings, as the official client takes them
            texts = [_number_text(v, f"data[{i}]") for i, v in enumerate(values)]
        else:
            texts = []
            for i, v in enumerate(values):
                if _is_row(v):
                    raise AmberUserError(f"data[{i}] is a row but data[0] is a value")
                texts.append(_fmt_value(v, f"data[{i}]"))
        return Table(len(texts), 1, True, lambda a, b: ",".join(texts[a:b]))

    width = len(first)
    if width == 0:
        raise AmberUserError("no data: data[0] is an empty row")
    strings = all(_is_row(row) and _all_strings(row) for row in items)
    rows_text: list[str] = []
    for r, row in enumerate(items):
        if not _is_row(row):
            raise AmberUserError(f"data[{r}] is a value but data[0] is a row")
        if len(row) != width:
            raise AmberUserError(
                f"ragged rows: data[{r}] has {len(row)} values, data[0] has {width}"
            )
        if _is_ndarray(row):
            row = row.tolist()
        cells = []
        for c, v in enumerate(row):
            if _is_row(v):
                raise AmberUserError(f"data[{r}][{c}] is nested too deep (at most rows of values)")
            where = f"data[{r}][{c}]"
            cells.append(_number_text(v, where) if strings else _fmt_value(v, where))
        rows_text.append(",".join(cells))
    return Table(len(rows_text), width, False, lambda a, b: ",".join(rows_text[a:b]))


def pandas_index(data: Any) -> Any:
    """The index of a pandas Series / DataFrame (one entry per row), else None."""
    return data.index if _is_pandas(data) else None


def to_table(data: Any) -> Table:
    """Validate ``data`` and return it as a :class:`Table`; raise ``AmberUserError`` if bad."""
    if isinstance(data, str):
        return _csv_table(data)
    if isinstance(data, bytes | bytearray | memoryview):
        raise AmberUserError("data is bytes; pass a CSV string (decode it) or numbers")
    if _is_pandas(data):
        return _array_table(data.to_numpy())
    if _is_ndarray(data):
        return _array_table(data)
    if _is_number(data):
        text = _fmt_value(data, "data")
        return Table(1, 1, True, lambda a, b: text if a < 1 <= b else "")
    if isinstance(data, list | tuple | range):
        return _list_table(data)
    if isinstance(data, dict | set | frozenset):
        raise AmberUserError(f"data is a {type(data).__name__}; pass values in order (a list)")
    if isinstance(data, Iterable):
        return _list_table(list(data))
    if isinstance(data, bool) or data is None:
        raise AmberUserError(f"data is not a number: {data!r}")
    raise AmberUserError(f"data of type {type(data).__name__} is not supported")


# ---------------------------------------------------------------- float32 packing
@dataclass(frozen=True)
class Float32Data:
    """Little-endian float32 values, viewed as bytes without copying."""

    buffer: memoryview
    count: int


def _bytes_view(arr: Any) -> memoryview:
    """A byte view of a contiguous numpy array (no copy)."""
    view: memoryview = memoryview(arr)
    return view.cast("B")


def _f32_problem(index: int, value: float) -> AmberUserError:
    return AmberUserError(
        f"value {index} of the data is {value!r} as float32: "
        "NaN and infinity (or values beyond the float32 range) are not allowed"
    )


def _check_finite_f32(arr: Any) -> None:
    import numpy as np

    step = 1 << 20
    for start in range(0, arr.size, step):
        part = arr[start : start + step]
        finite = np.isfinite(part)
        if not finite.all():
            bad = start + int(np.flatnonzero(~finite)[0])
            raise _f32_problem(bad, float(arr[bad]))


def _check_finite_floats(values: Iterable[float]) -> None:
    """:func:`_check_finite_f32` without numpy, on float32 values one at a time."""
    for i, v in enumerate(values):
        if not math.isfinite(v):
            raise _f32_problem(i, v)


def _numpy_or_none() -> Any:
    try:
        import numpy
    except ImportError:
        return None
    return numpy


_NOT_SEQUENCES = (str, list, tuple, range, dict, set, frozenset, bytes, bytearray, memoryview)

#: Above this many values that are exactly 0 or 1, bools are looked for by a type survey of
#: the whole input rather than one value at a time.
_BOOL_SURVEY_AT = 1024


def _zeros_and_ones(np: Any, values: Any) -> Any:
    """Indexes of the values that are exactly 0 or 1 (where a bool may hide), up to
    ``_BOOL_SURVEY_AT + 1`` of them; computed in slices to keep memory flat."""
    found = []
    count = 0
    step = 1 << 20
    for start in range(0, values.size, step):
        part = values[start : start + step]
        zeros, ones = part == 0, part == 1
        if not (zeros.any() or ones.any()):  # the usual case: no 0 or 1 at all
            continue
        hits = np.flatnonzero(zeros | ones) + start
        found.append(hits)
        count += hits.size
        if count > _BOOL_SURVEY_AT:
            break
    return np.concatenate(found) if found else np.empty(0, dtype=np.intp)


#: Values packed per ``struct`` call: big enough to amortise the call, small enough that its
#: argument tuple stays small next to the packed bytes.
_PACK_STEP = 8192
_PACK_FULL = struct.Struct(f"<{_PACK_STEP}f")


def _pack_f32(flat: Sequence[Any]) -> bytearray:
    """``flat`` packed as little-endian float32 by ``struct``, which converts each value as
    ``array('f')`` does (``float(v)``, rounded to float32) at about half its cost. Raises
    ``struct.error`` / TypeError for a value that is not a real number and OverflowError for
    one beyond the float32 range."""
    n = len(flat)
    buf = bytearray(4 * n)
    whole = n - n % _PACK_STEP
    for start in range(0, whole, _PACK_STEP):
        _PACK_FULL.pack_into(buf, 4 * start, *flat[start : start + _PACK_STEP])
    if whole < n:
        struct.pack_into(f"<{n - whole}f", buf, 4 * whole, *flat[whole:])
    return buf


def _pack_list(items: Sequence[Any]) -> Float32Data | None:
    """Numbers of a flat list, or of a list of equal rows, packed straight to float32.

    The packing refuses anything that is not a real number (strings, None, rows inside
    values...) and values beyond the float32 range; bools, which it takes as 0 and 1, are
    looked for among the 0s and 1s. None when the data needs the careful path (which then
    names what is wrong).
    """
    if not isinstance(items, list | tuple):
        return None
    rows = _is_row(items[0])
    if rows:
        if not set(map(type, items)) <= {list, tuple}:
            return None
        widths = set(map(len, items))
        if len(widths) != 1 or 0 in widths:
            return None
        flat: Sequence[Any] = list(itertools.chain.from_iterable(items))
    else:
        flat = items
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # numpy complex scalars warn as they lose a part
            packed = _pack_f32(flat)
    except (struct.error, TypeError, OverflowError, Warning):
        return None
    np = _numpy_or_none()
    if np is not None:
        values = np.frombuffer(packed, dtype="<f4")
        _check_finite_f32(values)
        suspects = _zeros_and_ones(np, values)
        if suspects.size > _BOOL_SURVEY_AT:
            kinds = set(map(type, flat))
            if bool in kinds or np.bool_ in kinds:
                return None
        elif any(_is_bool(flat[int(i)]) for i in suspects):
            return None
    else:
        _check_finite_floats(v for (v,) in struct.iter_unpack("<f", packed))
        if bool in set(map(type, flat)):
            return None
    return Float32Data(memoryview(packed), len(flat))


def _float32_from_numbers(values: Sequence[float]) -> Float32Data:
    np = _numpy_or_none()
    if np is not None:
        with np.errstate(over="ignore"):
            arr = np.asarray(values, dtype="<f4")
        _check_finite_f32(arr)
        return Float32Data(_bytes_view(arr), int(arr.size))
    packed = array.array("f", values)
    _check_finite_floats(packed)
    if sys.byteorder == "big":
        packed.byteswap()
    return Float32Data(memoryview(packed).cast("B"), len(packed))


def to_float32(data: Any) -> Float32Data:
    """Validate ``data`` and pack it as little-endian float32 (rows are flattened).

    A C-contiguous little-endian float32 numpy array is used in place, without a copy;
    lists and tuples are packed without going through text.
    """
    if _is_pandas(data):
        data = data.to_numpy()
    if _is_ndarray(data) and data.dtype.kind in "iuf":
        import numpy as np

        if data.ndim > 2:
            raise AmberUserError(f"data has {data.ndim} dimensions; at most 2 (rows of values)")
        if data.size == 0:
            raise AmberUserError("no data: the array is empty")
        with np.errstate(over="ignore"):
            arr = np.ascontiguousarray(data, dtype="<f4").reshape(-1)
        _check_finite_f32(arr)
        return Float32Data(_bytes_view(arr), int(arr.size))
    if _is_ndarray(data):
        if data.dtype.kind != "O":
            to_table(data)  # not numbers: it names what they are
        data = data.tolist()
    elif isinstance(data, Iterable) and not isinstance(data, _NOT_SEQUENCES):
        data = list(data)  # a generator or another iterable of values
    if isinstance(data, list | tuple) and data:
        packed = _pack_list(data)
        if packed is not None:
            return packed
    table = to_table(data)  # the careful path: it names what is wrong, or renders the text
    text = table.encode()
    return _float32_from_numbers([float(t) for t in text.split(",")])


def b64_chunk(data: Float32Data, start: int, stop: int) -> str:
    """Values ``start:stop`` of ``data`` as base64 text (the ``b64float`` wire format)."""
    return b64.encode(data.buffer[start * 4 : stop * 4])


# ---------------------------------------------------------------- root cause
def format_clusters(clusters: Any) -> str:
    """Cluster ids as the wire's bracketed list, e.g. ``"[1,2,3]"``.

    Accepts an int, a list / tuple / array of ints, or a string ``"1,2"`` / ``"[1,2]"``.
    """
    if isinstance(clusters, str):
        text = clusters.strip()
        if text.startswith("[") and text.endswith("]"):
            text = text[1:-1]
        tokens = [t.strip() for t in text.split(",")] if text.strip() else []
        for t in tokens:
            if _INT_RE.fullmatch(t) is None:
                raise AmberUserError(
                    f"{wire.CLUSTERS_FORMAT}: {wire.show(t)} is not a cluster id (an integer)"
                )
        ids = [int(t) for t in tokens]
    else:
        if _is_ndarray(clusters):
            clusters = clusters.tolist()
        items = [clusters] if not isinstance(clusters, list | tuple | range) else list(clusters)
        ids = []
        for i, c in enumerate(items):
            if isinstance(c, bool) or not isinstance(c, numbers.Integral):
                raise AmberUserError(
                    f"{wire.CLUSTERS_FORMAT}: clusters[{i}] is {wire.show(c)}, "
                    "not a cluster id (an integer)"
                )
            ids.append(int(c))
    if not ids:
        raise AmberUserError(f"{wire.CLUSTERS_FORMAT}: give at least one cluster id")
    return "[" + ",".join(map(str, ids)) + "]"


def format_vectors(vectors: Any) -> str:
    """Patterns as the wire's bracketed list of lists, e.g. ``"[[0.1,0.2],[0.3,0.4]]"``.

    Accepts one pattern (1-D) or several (2-D): list, tuple, numpy array, or a string
    holding a bracketed list such as ``"[[0.1,0.2]]"`` (or ``"[0.1,0.2]"`` for one pattern).
    """
    if isinstance(vectors, str):
        import json

        try:
            vectors = json.loads(vectors)
        except ValueError:
            raise AmberUserError(
                f"{wire.VECTORS_FORMAT}: a string must hold a bracketed list of patterns"
            ) from None
        if not isinstance(vectors, list):
            raise AmberUserError(f"{wire.VECTORS_FORMAT}: a string must hold a bracketed list")
    try:
        table = to_table(vectors)
    except AmberUserError as e:
        raise AmberUserError(f"{wire.VECTORS_FORMAT}: vectors: {e.message}") from None
    if table.flat:
        return "[[" + table.encode() + "]]"
    rows = ["[" + table.encode(r, r + 1) + "]" for r in range(table.rows)]
    return "[" + ",".join(rows) + "]"
