"""``boonamber demo``: the whole tour in one command, offline.

Starts the embedded local server, creates a model, configures it, streams the bundled
sensor CSV through it, prints a report (states, clusters, anomalies with positions,
warning levels, root cause of the strongest anomaly, recall and false alarms against the
ground truth), writes ``amber-demo.png`` and deletes the model.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from boonamber.cli._common import CliError, add_progress_option, emit
from boonamber.cli.csvdata import read_table
from boonamber.cli.report import get_field, plural


@dataclass(frozen=True)
class DemoConfig:
    """Model configuration for one bundled data set (faults come after learning ends)."""

    streaming_window: int
    buffering_samples: int
    learning_max_samples: int
    batch: int


#: The motor-current faults start after row 13,000; learning ends by row 12,000 at the
#: latest (earlier when the learning rate drops). The fusion set's faults start after 4,000.
CONFIGS = {
    "motor_current": DemoConfig(
        streaming_window=25, buffering_samples=4000, learning_max_samples=12000, batch=1000
    ),
    "fusion": DemoConfig(
        streaming_window=1, buffering_samples=1000, learning_max_samples=4000, batch=500
    ),
}


def register(sub: Any) -> None:
    """Add the ``demo`` subcommand."""
    p = sub.add_parser(
        "demo",
        help="run the offline demo (embedded server, bundled data, report and plot)",
        description="Start an embedded local Amber server, stream the bundled sensor data "
        "through a new model, print a report, write a plot, delete the model.",
    )
    p.add_argument(
        "--dataset",
        choices=sorted(CONFIGS),
        default="motor_current",
        help="bundled data set (default motor_current; fusion has 4 features)",
    )
    p.add_argument(
        "--plot",
        metavar="PNG",
        default="amber-demo.png",
        help="where to write the plot (default amber-demo.png)",
    )
    p.add_argument("--no-plot", action="store_true", help="do not draw the plot")
    p.add_argument("--batch", type=int, metavar="N", help="vectors per request")
    p.add_argument("--limit", type=int, metavar="N", help="stream only the first N rows")
    p.add_argument(
        "--json",
        action="store_true",
        default=argparse.SUPPRESS,  # keep a --json given before "demo"
        help="print the report as JSON",
    )
    add_progress_option(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the demo; returns 0 on success."""
    from boonamber.cli.demo_data import ensure_data, load_truth
    from boonamber.cli.plot import PlotUnavailable, check_available, plot_run
    from boonamber.cli.stream import analyse, report_data, report_text, stream_table

    t0 = time.perf_counter()
    as_json = bool(getattr(args, "json", False))
    out = _Printer(quiet=as_json)
    plot_path = None if args.no_plot else args.plot
    if plot_path:
        try:
            check_available()
        except PlotUnavailable as exc:
            print(f"note: no plot: {exc}", file=sys.stderr)
            plot_path = None
    cfg = CONFIGS[args.dataset]
    batch = args.batch or cfg.batch
    if args.limit is not None and args.limit < 1:
        raise CliError("--limit must be at least 1")
    try:
        from boonamber.facade import AmberClient
    except ImportError as exc:  # pragma: no cover - the facade is part of the package
        raise CliError(f"cannot load the client: {exc}") from exc

    csv_path, truth_path = ensure_data(args.dataset)
    table = read_table(csv_path, limit=args.limit)
    truth = load_truth(truth_path)
    n_feat = len(table.names)
    out.line(
        f"boonamber demo: {len(table.rows):,} samples of {csv_path.name} "
        f"({n_feat} feature{'s' if n_feat > 1 else ''}: {', '.join(table.names)})"
    )
    out.line(f"  data: {_short(csv_path)}, ground truth: {truth_path.name}")
    out.line("Starting the embedded local Amber server …")
    try:
        amber = AmberClient.local()
    except ImportError as exc:
        raise CliError(
            f"the demo needs the local server's packages ({exc.name or exc}); "
            "install them with: pip install 'boonamber[local]'"
        ) from exc
    with amber:
        out.line(f"  server {_server_url(amber)}")
        model_id = str(amber.post_model("boonamber-demo")["id"])
        try:
            amber.configure(
                model_id,
                features=table.names,
                streaming_window=cfg.streaming_window,
                training={
                    "buffering_samples": cfg.buffering_samples,
                    "learning_max_samples": cfg.learning_max_samples,
                },
            )
            out.line(
                f"Model {model_id}: streaming window {cfg.streaming_window}, buffering "
                f"{cfg.buffering_samples:,} samples, learning until {cfg.learning_max_samples:,} "
                "at most (range and percent variation autotuned)"
            )
            out.line(f"Streaming in batches of {batch:,} samples …")
            t_stream = time.perf_counter()
            record = stream_table(amber, model_id, table, batch, _progress(args), "streaming")
            stream_s = time.perf_counter() - t_stream
            an = analyse(amber, model_id, record, cfg.streaming_window, truth, n_feat)
        finally:
            amber.delete_model(model_id)
    out.line(
        f"Streamed {plural(record.vectors, 'sample')} in {plural(record.requests, 'request')} "
        f"({stream_s:.1f} s, {record.vectors / max(stream_s, 1e-9):,.0f} samples/s)"
    )
    out.line("")
    out.line(report_text(record, an))
    out.line("")
    if plot_path:
        plot_run(
            plot_path,
            table.columns,
            table.names,
            record.analytics,
            states=record.states,
            truth=truth,
            threshold=an.threshold,
            title=f"boonamber demo: {csv_path.name} through the local Amber server",
        )
        out.line(f"Plot written to {plot_path}")
    elapsed = time.perf_counter() - t0
    out.line(f"Model {model_id} deleted. Done in {elapsed:.1f} s.")
    if as_json:
        data = report_data(
            record,
            an,
            {
                "dataset": args.dataset,
                "data_file": str(csv_path),
                "truth_file": str(truth_path),
                "model": model_id,
                "config": {
                    "streaming_window": cfg.streaming_window,
                    "buffering_samples": cfg.buffering_samples,
                    "learning_max_samples": cfg.learning_max_samples,
                    "batch": batch,
                },
                "plot": plot_path,
                "seconds": round(elapsed, 3),
                "stream_seconds": round(stream_s, 3),
            },
        )
        emit(args, data, "")
    return 0


class _Printer:
    """Prints progress lines unless the output is JSON."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet

    def line(self, text: str) -> None:
        if not self.quiet:
            print(text, flush=True)


def _progress(args: argparse.Namespace) -> bool:
    from boonamber.cli._common import progress_enabled

    return progress_enabled(args)


def _server_url(amber: Any) -> str:
    for name in ("server", "url", "host"):
        value = get_field(amber, name)
        if isinstance(value, str) and value:
            return value
    return "(in-process)"


def _short(path: Path) -> str:
    """``path`` relative to the working directory when it is below it."""
    try:
        rel = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)
    return str(path) if rel.startswith("..") else rel
