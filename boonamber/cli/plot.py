"""The CLI's ``--plot``: a streamed run drawn with the public :func:`boonamber.plot`."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from boonamber.plotting import INSTALL_HINT, PlotUnavailable, check_available, plot

if TYPE_CHECKING:
    from boonamber.cli.demo_data import GroundTruth

__all__ = ["INSTALL_HINT", "PlotUnavailable", "check_available", "plot_run"]


def plot_run(
    path: str | os.PathLike[str],
    columns: Sequence[Sequence[float]],
    names: Sequence[str],
    analytics: Mapping[str, Sequence[float]],
    *,
    states: Sequence[tuple[int, str]] = (),
    truth: GroundTruth | None = None,
    threshold: int | None = None,
    title: str = "Amber analytics",
    offset: int = 0,
) -> None:
    """Write the PNG of a run: ``columns`` (one sequence per feature) and its analytics;
    the faults of ``truth`` are shaded."""
    check_available()
    rows = [list(r) for r in zip(*columns, strict=True)]
    plot(
        rows,
        dict(analytics),
        path,
        names=list(names),
        states=states,
        threshold=threshold,
        faults=list(truth.faults) if truth is not None else [],
        title=title,
        offset=offset,
    )
