"""Turn user data into what the wire carries, rejecting bad input before anything is sent.

Accepted data: a CSV string (one row per line), a number, a list / tuple (flat, or of rows),
a numpy array (1-D or 2-D), a pandas Series or DataFrame. numpy and pandas are optional and
only touched when the data already is one of their objects (or, for pretrain, to pack floats).

Rejected with :class:`AmberUserError`: empty input, NaN or infinity, booleans, strings or
other non-numbers, rows of different lengths, nesting deeper than rows.
"""

from __future__ import annotations

import array
import base64
import math
import numbers
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any

from boonamber import wire
from boonamber.facade.errors import AmberUserError

__all__ = [
    "Float32Data",
    "Table",
    "b64_chunk",
    "format_clusters",
    "format_vectors",
    "iter_csv_file",
    "to_float32",
    "to_table",
]

_INT_RE = re.compile(r"[+-]?\d+")


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
    # numpy's bool_ is not registered as numbers.Real, so it is rejected like bool
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


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
    number = float(value)
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
    if kind in "iu":

        def enc_int(a: int, b: int) -> str:
            return ",".join(map(str, arr2[a:b].ravel().tolist()))

        return Table(rows, width, flat, enc_int)
    if kind == "f":
        finite = np.isfinite(arr2)
        if not finite.all():
            bad = int(np.flatnonzero(~finite.ravel())[0])
            raise AmberUserError(
                f"{_where(bad, width, flat)} {wire.not_finite(float(arr2.ravel()[bad]))}"
            )
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


def _list_table(items: Sequence[Any]) -> Table:
    if len(items) == 0:
        raise AmberUserError("no data: the list is empty")
    first = items[0]
    if not _is_row(first):
        values = items
        if all(type(v) is float for v in values):
            if not all(map(math.isfinite, values)):
                bad = next(i for i, v in enumerate(values) if not math.isfinite(v))
                raise AmberUserError(f"data[{bad}] {wire.not_finite(values[bad])}")
            texts = list(map(float.__repr__, values))
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
            cells.append(_fmt_value(v, f"data[{r}][{c}]"))
        rows_text.append(",".join(cells))
    return Table(len(rows_text), width, False, lambda a, b: ",".join(rows_text[a:b]))


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


def _check_finite_f32(arr: Any) -> None:
    import numpy as np

    step = 1 << 20
    for start in range(0, arr.size, step):
        part = arr[start : start + step]
        finite = np.isfinite(part)
        if not finite.all():
            bad = start + int(np.flatnonzero(~finite)[0])
            raise AmberUserError(
                f"value {bad} of the data is {float(arr[bad])!r} as float32: "
                "NaN and infinity (or values beyond the float32 range) are not allowed"
            )


def _numpy_or_none() -> Any:
    try:
        import numpy
    except ImportError:
        return None
    return numpy


def _float32_from_numbers(values: Sequence[float]) -> Float32Data:
    np = _numpy_or_none()
    if np is not None:
        with np.errstate(over="ignore"):
            arr = np.asarray(values, dtype="<f4")
        _check_finite_f32(arr)
        return Float32Data(_bytes_view(arr), int(arr.size))
    packed = array.array("f", values)
    for i, v in enumerate(packed):
        if not math.isfinite(v):
            raise AmberUserError(
                f"value {i} of the data is {v!r} as float32: "
                "NaN and infinity (or values beyond the float32 range) are not allowed"
            )
    if sys.byteorder == "big":
        packed.byteswap()
    return Float32Data(memoryview(packed).cast("B"), len(packed))


def to_float32(data: Any) -> Float32Data:
    """Validate ``data`` and pack it as little-endian float32 (rows are flattened).

    A C-contiguous little-endian float32 numpy array is used in place, without a copy.
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
    table = to_table(data)
    text = table.encode()
    return _float32_from_numbers([float(t) for t in text.split(",")])


def b64_chunk(data: Float32Data, start: int, stop: int) -> str:
    """Values ``start:stop`` of ``data`` as base64 text (the ``b64float`` wire format)."""
    return base64.b64encode(data.buffer[start * 4 : stop * 4]).decode("ascii")


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
                raise AmberUserError(f"clusters: {wire.show(t)} is not a cluster id (an integer)")
        ids = [int(t) for t in tokens]
    else:
        if _is_ndarray(clusters):
            clusters = clusters.tolist()
        items = [clusters] if not isinstance(clusters, list | tuple | range) else list(clusters)
        ids = []
        for i, c in enumerate(items):
            if isinstance(c, bool) or not isinstance(c, numbers.Integral):
                raise AmberUserError(
                    f"clusters[{i}] is {wire.show(c)}, not a cluster id (an integer)"
                )
            ids.append(int(c))
    if not ids:
        raise AmberUserError("clusters: give at least one cluster id")
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
                "vectors: a string must hold a bracketed list such as '[[0.1,0.2]]'"
            ) from None
        if not isinstance(vectors, list):
            raise AmberUserError("vectors: a string must hold a bracketed list")
    table = to_table(vectors)
    if table.flat:
        return "[[" + table.encode() + "]]"
    rows = ["[" + table.encode(r, r + 1) + "]" for r in range(table.rows)]
    return "[" + ",".join(rows) + "]"
