"""Read numeric sensor CSV files: an optional header row, then one vector per row."""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

from boonamber import wire


class CsvError(ValueError):
    """The file cannot be used as sensor data; the message names the file and the line."""


@dataclass
class Table:
    """Feature names (from the header, or ``feature-0``…) and rows of floats."""

    names: list[str]
    rows: list[list[float]]

    @property
    def columns(self) -> list[list[float]]:
        """The data column by column."""
        return [list(col) for col in zip(*self.rows, strict=True)] if self.rows else []

    def flat(self) -> list[float]:
        """All values row by row (what a data request sends)."""
        return [v for row in self.rows for v in row]


def read_table(
    path: str | os.PathLike[str], columns: list[str] | None = None, limit: int | None = None
) -> Table:
    """Read ``path``; keep ``columns`` (names or 1-based numbers) in that order when given.

    Blank lines are skipped; a first row with any cell not meant as a number
    (:func:`boonamber.wire.is_numeric`) is the header. Raises :class:`CsvError` on ragged
    rows, values that are not finite numbers (:func:`boonamber.wire.number_problem`),
    unknown columns or no data.
    """
    p = Path(path)
    try:
        handle = p.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise CsvError(f"cannot read {p}: {exc.strerror or exc}") from exc
    names: list[str] | None = None
    rows: list[list[float]] = []
    keep: list[int] | None = None
    with handle:
        for lineno, raw in enumerate(csv.reader(handle), 1):
            cells = [c.strip() for c in raw]
            if not any(cells):
                continue
            if names is None and not rows and not all(map(wire.is_numeric, cells)):
                names = cells
                continue
            if names is None:
                names = wire.default_feature_names(len(cells))
            if keep is None:
                keep = _select(names, columns, p)
            if len(cells) != len(names):
                raise CsvError(f"{p}, line {lineno}: {len(cells)} values, expected {len(names)}")
            row: list[float] = []
            for i in keep:
                problem = wire.number_problem(cells[i])
                if problem is not None:
                    raise CsvError(f"{p}, line {lineno}, column {names[i]!r} {problem}")
                row.append(float(cells[i]))
            rows.append(row)
            if limit is not None and len(rows) >= limit:
                break
    if names is None or keep is None or not rows:
        raise CsvError(f"{p}: no data rows")
    return Table(names=[names[i] for i in keep], rows=rows)


def _select(names: list[str], columns: list[str] | None, path: Path) -> list[int]:
    if not columns:
        return list(range(len(names)))
    out = []
    for col in columns:
        if col in names:
            out.append(names.index(col))
        elif col.isdigit() and 1 <= int(col) <= len(names):
            out.append(int(col) - 1)
        else:
            raise CsvError(f"{path}: no column {col!r} (columns: {', '.join(names)})")
    return out
