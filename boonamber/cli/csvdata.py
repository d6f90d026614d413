"""Sensor CSV files for the commands, read by the facade's one CSV reader
(:mod:`boonamber.facade.csvfile`): an optional header row, then one vector per row."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

from boonamber.facade.csvfile import CsvError, CsvFile, Progress

__all__ = ["COLUMNS_HINT", "CsvError", "Table", "open_csv", "read_table"]

#: How to fix a header that does not match the model, on the command line.
COLUMNS_HINT = "choose or map the columns with --columns a,b or --columns feature=column,..."


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


def open_csv(
    path: str | os.PathLike[str],
    columns: Sequence[str] | None = None,
    limit: int | None = None,
    features: Sequence[str] | None = None,
) -> CsvFile:
    """The CSV file, its columns matched to ``features`` (or chosen with ``columns``)."""
    return CsvFile(path, features=features, columns=columns, limit=limit, hint=COLUMNS_HINT)


def read_table(
    path: str | os.PathLike[str],
    columns: list[str] | None = None,
    limit: int | None = None,
    features: Sequence[str] | None = None,
    progress: Progress | None = None,
) -> Table:
    """Read ``path`` whole; see :class:`~boonamber.facade.csvfile.CsvFile` for the rules.

    Raises :class:`CsvError` on ragged rows, values that are not finite numbers, unknown or
    missing columns, or no data.
    """
    source = open_csv(path, columns=columns, limit=limit, features=features)
    return Table(names=source.names, rows=source.rows(progress))
