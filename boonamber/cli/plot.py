"""Plot a streamed run: signal, anomaly index SI, anomaly flags and warning level.

matplotlib is optional (extra ``boonamber[plot]``) and imported only when a plot is drawn.
The figure is rendered with the Agg canvas directly, so no GUI backend or global
``matplotlib.use`` call is involved.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from boonamber.cli.demo_data import GroundTruth

INSTALL_HINT = "matplotlib is not installed; install it with: pip install 'boonamber[plot]'"

_STATE_COLOURS = {
    "Buffering": "#d9d9d9",
    "Autotuning": "#c6dbef",
    "Learning": "#fdd0a2",
    "Monitoring": "#ffffff",
}


class PlotUnavailable(RuntimeError):
    """matplotlib is missing; the message says how to install it."""


def check_available() -> None:
    """Raise :class:`PlotUnavailable` when matplotlib cannot be imported."""
    try:
        import matplotlib  # noqa: F401
    except ImportError as exc:
        raise PlotUnavailable(INSTALL_HINT) from exc


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
    """Write a PNG with one panel per feature (up to 5), then SI, AD and AW on a shared x axis.

    ``columns`` holds one sequence per feature; ``states`` is the (vector index, state)
    history, shaded behind every panel; ``truth`` faults are shaded red in the signal panels.
    """
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
        if truth is not None:
            for fault in truth.faults:
                if not offset <= fault.start < offset + n:
                    continue
                if name in fault.features or len(truth.features) == 1:
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
    if truth is not None:
        handles.append(Patch(color="#e41a1c", alpha=0.18, label="injected fault (truth)"))
    if threshold is not None:
        handles.append(Line2D([], [], color="#e41a1c", ls="--", label=f"SI threshold {threshold}"))
    if handles:
        fig.legend(handles=handles, loc="outside lower center", fontsize=8, ncol=len(handles))
    fig.savefig(os.fspath(path), dpi=110)
