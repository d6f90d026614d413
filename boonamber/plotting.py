"""``boonamber.plot``: signal, anomaly index SI, anomaly flags and warning level of a run.

matplotlib is optional (extra ``boonamber[plot]``) and imported only when a plot is drawn.
The figure is rendered with the Agg canvas directly, so no GUI backend or global
``matplotlib.use`` call is involved. The CLI's ``--plot`` draws with this function.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["INSTALL_HINT", "Fault", "PlotUnavailable", "check_available", "plot"]

INSTALL_HINT = "matplotlib is not installed; install it with: pip install 'boonamber[plot]'"

_STATE_COLOURS = {
    "Buffering": "#d9d9d9",
    "Autotuning": "#c6dbef",
    "Learning": "#fdd0a2",
    "Monitoring": "#ffffff",
}


class Fault(Protocol):
    """A known fault to shade: vectors ``start:end``, a label, the features it affects."""

    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...
    @property
    def kind(self) -> str: ...
    @property
    def features(self) -> Sequence[str]: ...


class PlotUnavailable(RuntimeError):
    """matplotlib is missing; the message says how to install it."""


def check_available() -> None:
    """Raise :class:`PlotUnavailable` when matplotlib cannot be imported."""
    try:
        import matplotlib  # noqa: F401
    except ImportError as exc:
        raise PlotUnavailable(INSTALL_HINT) from exc


def plot(
    data: Any,
    analytics: Any,
    path: str | os.PathLike[str] | None = None,
    *,
    names: Sequence[str] | None = None,
    states: Sequence[tuple[int, str]] = (),
    threshold: int | None = None,
    faults: Sequence[Fault] = (),
    title: str = "Amber analytics",
    offset: int = 0,
) -> Figure:
    """Plot ``data`` and its Amber ``analytics``; write a PNG to ``path`` if given.

    ``data``: rows of values, one flat feature, a numpy array or a pandas DataFrame (its
    column names label the panels). ``analytics``: a ``post_data`` / ``stream_analytics``
    result, its ``"analytics"`` mapping, or a DataFrame from ``to_pandas()``. One panel per
    feature (up to 5), then SI, AD and AW on a shared x axis; ``states`` is the (vector
    index, state) history, shaded behind every panel; ``faults`` are shaded red; an SI
    ``threshold`` is drawn dashed. Returns the matplotlib ``Figure``.
    """
    columns, labels = _columns(data, names)
    series = _analytics(analytics)
    return _draw(
        path,
        columns,
        labels,
        series,
        states=states,
        threshold=threshold,
        faults=faults,
        title=title,
        offset=offset,
    )


def _columns(data: Any, names: Sequence[str] | None) -> tuple[list[list[float]], list[str]]:
    if hasattr(data, "columns") and hasattr(data, "to_numpy"):  # pandas DataFrame
        labels = [str(c) for c in data.columns]
        values = data.to_numpy().tolist()
    elif hasattr(data, "to_numpy"):  # pandas Series
        labels = [str(data.name)] if data.name is not None else []
        values = [[v] for v in data.to_numpy().tolist()]
    else:
        values = data.tolist() if hasattr(data, "tolist") else list(data)
        values = [list(r) if isinstance(r, Sequence) else [r] for r in values]
        labels = []
    width = len(values[0]) if values else 0
    if names is not None:
        labels = list(names)
    if len(labels) != width:
        labels = [f"feature-{i}" for i in range(width)]
    return [list(c) for c in zip(*values, strict=True)], labels


def _analytics(analytics: Any) -> dict[str, list[float]]:
    if hasattr(analytics, "columns") and hasattr(analytics, "to_dict"):  # DataFrame
        return {str(k): list(v) for k, v in analytics.to_dict(orient="list").items()}
    if isinstance(analytics, Mapping) and isinstance(analytics.get("analytics"), Mapping):
        analytics = analytics["analytics"]
    if not isinstance(analytics, Mapping) or "SI" not in analytics:
        raise TypeError(
            "analytics must be a post_data result, its 'analytics' mapping, or a DataFrame"
        )
    return {str(k): list(v) for k, v in analytics.items() if isinstance(v, Sequence)}


def _draw(
    path: str | os.PathLike[str] | None,
    columns: Sequence[Sequence[float]],
    names: Sequence[str],
    analytics: Mapping[str, Sequence[float]],
    *,
    states: Sequence[tuple[int, str]],
    threshold: int | None,
    faults: Sequence[Fault],
    title: str,
    offset: int,
) -> Figure:
    check_available()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    n = len(analytics.get("SI", []))
    x = list(range(offset, offset + n))
    shown = list(zip(names, columns, strict=True))[:5]
    ratios = [2.0] * len(shown) + [1.5, 0.8, 0.9]
    fig = Figure(figsize=(13, 2.0 + 1.35 * sum(ratios)), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(ratios), 1, sharex=True, gridspec_kw={"height_ratios": ratios})
    fig.suptitle(title, fontsize=13)

    spans: list[tuple[int, int, str]] = []
    for k, (start, state) in enumerate(states):
        end = states[k + 1][0] if k + 1 < len(states) else n
        spans.append((start + offset, end + offset, state))

    def shade(ax: Any) -> None:
        for lo, hi, state in spans:
            colour = _STATE_COLOURS.get(state)
            if colour and state != "Monitoring":
                ax.axvspan(lo, hi, color=colour, alpha=0.45, lw=0, zorder=0)

    for ax, (name, col) in zip(axes, shown, strict=False):
        shade(ax)
        ax.plot(x, list(col)[:n], lw=0.5, color="#1f4e79")
        for fault in faults:
            if not offset <= fault.start < offset + n:
                continue
            if name in fault.features or len(shown) == 1:
                ax.axvspan(fault.start, fault.end, color="#e41a1c", alpha=0.18, lw=0)
                ax.annotate(
                    fault.kind.replace("_", " "),
                    xy=(fault.start, 1.0),
                    xycoords=("data", "axes fraction"),
                    xytext=(0, 2),
                    textcoords="offset points",
                    fontsize=7,
                    color="#b2182b",
                    ha="center",
                    va="bottom",
                )
        ax.set_ylabel(name, fontsize=9)
    si_ax, ad_ax, aw_ax = axes[len(shown) :]
    shade(si_ax)
    si_ax.plot(x, analytics.get("SI", []), lw=0.6, color="#6a3d9a")
    if threshold is not None:
        si_ax.axhline(threshold, color="#e41a1c", ls="--", lw=0.8)
    si_ax.set_ylim(-20, 1050)
    si_ax.set_ylabel("anomaly index\nSI (0–1000)", fontsize=9)
    shade(ad_ax)
    ad = analytics.get("AD", [])
    ad_ax.fill_between(x, ad, step="mid", color="#e41a1c", lw=0)
    ad_ax.set_ylim(0, 1.1)
    ad_ax.set_yticks([0, 1])
    ad_ax.set_ylabel("anomaly\nflag AD", fontsize=9)
    shade(aw_ax)
    aw_ax.step(x, analytics.get("AW", []), where="mid", color="#ff7f00", lw=0.9)
    aw_ax.set_ylim(-0.1, 2.3)
    aw_ax.set_yticks([0, 1, 2])
    aw_ax.set_ylabel("warning\nlevel AW", fontsize=9)
    aw_ax.set_xlabel("sample (input vector)")
    if n:
        aw_ax.set_xlim(offset, offset + n)

    handles: list[Any] = [
        Patch(color=_STATE_COLOURS[s], alpha=0.45, label=s)
        for s in ("Buffering", "Autotuning", "Learning")
        if any(state == s for _, _, state in spans)
    ]
    if any(state == "Monitoring" for _, _, state in spans):
        handles.append(Patch(facecolor="white", edgecolor="#999999", lw=0.5, label="Monitoring"))
    if faults:
        handles.append(Patch(color="#e41a1c", alpha=0.18, label="injected fault (truth)"))
    if threshold is not None:
        handles.append(Line2D([], [], color="#e41a1c", ls="--", label=f"SI threshold {threshold}"))
    if handles:
        fig.legend(handles=handles, loc="outside lower center", fontsize=8, ncol=len(handles))
    if path is not None:
        fig.savefig(os.fspath(path), dpi=110)
    return fig
