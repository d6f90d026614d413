"""The one reader of sensor CSV files, for ``AmberClient.stream/post_pretrain(Path)`` and the CLI.

A file is an optional header row, then one vector per row. Its columns are matched to the
model's feature names (reordered by name), or selected / mapped with ``columns``; every
problem raises :class:`CsvError` naming the file, the line and the column. Rows are read in
blocks (parsed with numpy when it is installed, else in Python), so memory is bounded by
the block size plus what the caller keeps.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from boonamber import wire
from boonamber.facade.errors import AmberUserError

__all__ = ["BLOCK_ROWS", "CsvError", "CsvFile", "Progress", "feature_names", "is_csv_path"]

#: Rows parsed at a time.
BLOCK_ROWS = 65_536

#: ``progress(bytes_read, file_size)`` while reading.
Progress = Callable[[int, int], None]


class CsvError(AmberUserError):
    """The file cannot be used as data; the message names the file, line and column."""


@dataclass(frozen=True)
class _Block:
    first_line: int  # 1-based number of the first line in ``lines``
    lines: list[str]
    size: int  # characters read


def _fast_parse(text: str) -> Any:
    """A block of numeric CSV lines as a 2-D float64 array (raises ``ValueError`` on any
    line these fast parsers cannot take)."""
    import io

    import numpy as np

    try:
        import pandas as pd
    except ImportError:
        return np.loadtxt(io.StringIO(text), delimiter=",", dtype=np.float64, ndmin=2)
    frame = pd.read_csv(
        io.StringIO(text), header=None, dtype=np.float64, na_filter=False, engine="c"
    )
    return frame.to_numpy()


def _has_numpy() -> bool:
    try:
        import numpy  # noqa: F401
    except ImportError:
        return False
    return True


class CsvFile:
    """A CSV file of vectors, its columns matched to ``features`` or chosen by ``columns``.

    ``features``: the model's feature names (``None``: take the file's columns as they
    are). ``columns``: file columns to use in this order (names or 1-based numbers), or
    ``feature=column`` pairs mapping a feature to a differently named column.
    ``hint`` ends the message of a header that does not match (how to fix it).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        features: Sequence[str] | None = None,
        columns: Sequence[str] | None = None,
        limit: int | None = None,
        hint: str = "choose or map the columns with columns=['name', ...] or ['feature=column']",
    ) -> None:
        self.path = Path(path)
        self.limit = limit
        try:
            self.size = self.path.stat().st_size
            handle = self._open()
        except OSError as exc:
            raise CsvError(f"cannot read {self.path}: {exc.strerror or exc}") from exc
        with handle:
            first = self._first_row(handle)
        if first is None:
            raise CsvError(f"{self.path}: no data rows")
        self._header_line, cells = first
        self.header: list[str] | None = None
        if not all(map(wire.is_numeric, cells)):
            self.header = cells
        self.width = len(cells)
        self.keep, self.names = _select(self, self.header, features, columns, hint)

    # ------------------------------------------------------------------ reading
    def _open(self) -> IO[str]:
        return self.path.open(newline="", encoding="utf-8-sig")

    @staticmethod
    def _first_row(handle: IO[str]) -> tuple[int, list[str]] | None:
        for lineno, raw in enumerate(csv.reader(handle), 1):
            cells = [c.strip() for c in raw]
            if any(cells):
                return lineno, cells
        return None

    def _blocks(self, rows: int) -> Iterator[_Block]:
        with self._open() as handle:
            lineno = 0
            if self.header is not None:
                skipped = 0
                while lineno < self._header_line:
                    skipped += len(handle.readline())
                    lineno += 1
                if skipped:
                    yield _Block(lineno + 1, [], skipped)
            while True:
                lines = handle.readlines(rows * 8 * max(1, self.width))
                if not lines:
                    return
                yield _Block(lineno + 1, lines, sum(map(len, lines)))
                lineno += len(lines)

    def blocks(self, rows: int = BLOCK_ROWS, progress: Progress | None = None) -> Iterator[Any]:
        """The data in blocks of about ``rows`` rows: numpy float64 arrays (rows x features,
        in the order of :attr:`names`) when numpy is installed, else lists of rows."""
        numpy = _has_numpy()
        done = 0
        left = self.limit
        found = False
        for block in self._blocks(rows):
            done += block.size
            if block.lines:
                parsed = self._parse(block, numpy)
                if left is not None:
                    parsed = parsed[:left]
                    left -= len(parsed)
                if len(parsed):
                    found = True
                    yield parsed
            if progress is not None:
                progress(min(done, self.size), self.size)
            if left == 0:
                return
        if not found:
            raise CsvError(f"{self.path}: no data rows")

    def _parse(self, block: _Block, numpy: bool) -> Any:
        if numpy:
            fast = self._parse_numpy(block.lines)
            if fast is not None:
                return fast
        rows = self._parse_python(block)
        if numpy:
            import numpy as np

            return np.asarray(rows, dtype=np.float64).reshape(len(rows), len(self.keep))
        return rows

    def _parse_numpy(self, lines: list[str]) -> Any:
        """The block parsed by pandas' C parser (or numpy's ``loadtxt`` without pandas), or
        ``None`` when it needs the careful parser (a bad value, a ragged or odd row): that
        one finds and names the problem."""
        import numpy as np

        text = "".join(lines)
        if not text.strip():
            return np.empty((0, len(self.keep)))
        try:
            table = _fast_parse(text)
        except (ValueError, IndexError):
            return None
        if table.ndim != 2 or table.shape[1] != self.width or not np.isfinite(table).all():
            return None
        if self.keep != list(range(self.width)):
            table = table[:, self.keep]
        return table

    def _parse_python(self, block: _Block) -> list[list[float]]:
        rows: list[list[float]] = []
        names = self.header or wire.default_feature_names(self.width)
        for lineno, raw in enumerate(csv.reader(block.lines), block.first_line):
            cells = [c.strip() for c in raw]
            if not any(cells):
                continue
            if len(cells) != self.width:
                got = f"{len(cells)} value{'' if len(cells) == 1 else 's'}"
                raise CsvError(f"{self.path}, line {lineno}: {got}, expected {self.width}")
            row: list[float] = []
            for i in self.keep:
                problem = wire.number_problem(cells[i])
                if problem is not None:
                    raise CsvError(f"{self.path}, line {lineno}, column {names[i]!r} {problem}")
                row.append(float(cells[i]))
            rows.append(row)
        return rows

    # ------------------------------------------------------------------ whole-file views
    def rows(self, progress: Progress | None = None) -> list[list[float]]:
        """Every row as a list of floats."""
        out: list[list[float]] = []
        for block in self.blocks(progress=progress):
            out.extend(block.tolist() if hasattr(block, "tolist") else block)
        return out

    def float32(self, progress: Progress | None = None) -> Any:
        """Every value, row by row, as one float32 numpy array (or a list without numpy):
        4 bytes a value, what ``post_pretrain`` uploads."""
        if not _has_numpy():
            return [v for row in self.rows(progress) for v in row]
        import numpy as np

        parts = [np.asarray(b, dtype="<f4").reshape(-1) for b in self.blocks(progress=progress)]
        return np.concatenate(parts) if parts else np.empty(0, dtype="<f4")

    def csv_batches(
        self, batch_values: int, progress: Progress | None = None
    ) -> Iterator[tuple[str, int]]:
        """``(csv text, number of values)`` of about ``batch_values`` values each."""
        rows_per_batch = max(1, batch_values // max(1, len(self.keep)))
        pending: list[str] = []
        count = 0
        for block in self.blocks(rows=rows_per_batch, progress=progress):
            for row in block.tolist() if hasattr(block, "tolist") else block:
                pending.append(",".join(map(repr, row)))
                count += len(row)
                if count >= batch_values:
                    yield ",".join(pending), count
                    pending, count = [], 0
        if pending:
            yield ",".join(pending), count


def _select(
    source: CsvFile,
    header: list[str] | None,
    features: Sequence[str] | None,
    columns: Sequence[str] | None,
    hint: str,
) -> tuple[list[int], list[str]]:
    """(file column indexes, names) of the data, in the model's feature order."""
    path = source.path
    names = header or wire.default_feature_names(source.width)
    if columns:
        pairs = [c.split("=", 1) for c in columns if "=" in c]
        if pairs and len(pairs) != len(columns):
            raise CsvError(
                "columns: give either column names/numbers or feature=column pairs, not both"
            )
        if pairs:
            mapping = {f.strip(): c.strip() for f, c in pairs}
            return _mapped(path, names, features, mapping)
        keep = [_index(path, names, c.strip()) for c in columns]
        picked = [names[i] for i in keep]
        if features is not None and len(keep) != len(features):
            raise CsvError(
                f"{path}: {_n(len(keep), 'column')} chosen ({', '.join(picked)}) but the model "
                f"has {_n(len(features), 'feature')} ({', '.join(features)})"
            )
        return keep, list(features) if features is not None else picked
    if features is None:
        return list(range(source.width)), list(names)
    if header is not None and not _default_names(features):
        missing = [f for f in features if f not in header]
        unknown = [h for h in header if h not in features]
        if missing or unknown:
            parts = []
            if missing:
                parts.append("missing " + ", ".join(map(repr, missing)))
            if unknown:
                parts.append("unknown " + ", ".join(map(repr, unknown)))
            raise CsvError(
                f"{path}: the header does not match the model's features "
                f"({'; '.join(parts)}; the model has {', '.join(features)}); {hint}"
            )
        return [header.index(f) for f in features], list(features)
    if source.width != len(features):
        raise CsvError(
            f"{path}: {_n(source.width, 'column')} but the model has "
            f"{_n(len(features), 'feature')} ({', '.join(features)}); {hint}"
        )
    # the model's names are the generated ones: the header (if any) names the columns
    return list(range(source.width)), list(header) if header else list(features)


def _mapped(
    path: Path,
    names: list[str],
    features: Sequence[str] | None,
    mapping: dict[str, str],
) -> tuple[list[int], list[str]]:
    wanted = list(features) if features is not None else list(mapping)
    unknown = [f for f in mapping if f not in wanted]
    if unknown:
        raise CsvError(
            f"columns: no feature {', '.join(map(repr, unknown))} in the model "
            f"(features: {', '.join(wanted)})"
        )
    keep = []
    for feature in wanted:
        column = mapping.get(feature, feature)
        if column not in names and not (column.isdigit() and 1 <= int(column) <= len(names)):
            raise CsvError(
                f"{path}: no column {column!r} for feature {feature!r} "
                f"(columns: {', '.join(names)})"
            )
        keep.append(_index(path, names, column))
    return keep, wanted


def _index(path: Path, names: list[str], column: str) -> int:
    if column in names:
        return names.index(column)
    if column.isdigit() and 1 <= int(column) <= len(names):
        return int(column) - 1
    raise CsvError(f"{path}: no column {column!r} (columns: {', '.join(names)})")


def _n(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _default_names(features: Sequence[str]) -> bool:
    """Whether the model's names are the generated ``feature-0``... (configured by count)."""
    return list(features) == wire.default_feature_names(len(features))


def is_csv_path(data: Any) -> bool:
    """Whether ``data`` names a file (``pathlib.Path`` or other ``os.PathLike``)."""
    return isinstance(data, os.PathLike)


def feature_names(config: Any) -> list[str] | None:
    """The feature names of a ``get_config`` answer (``None`` if it has none)."""
    features = config.get("features") if hasattr(config, "get") else None
    names = [f.get("name") for f in features or [] if isinstance(f, dict)]
    return [str(n) for n in names] if names and all(names) else None
