"""``boonamber stream`` and ``boonamber pretrain``: send a CSV file through a model."""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from boonamber.cli._common import (
    CliError,
    add_connection_options,
    add_progress_option,
    client_from,
    emit,
    progress_enabled,
)
from boonamber.cli.csvdata import Table, read_table
from boonamber.cli.report import (
    Event,
    Score,
    StreamRecord,
    find_events,
    format_report,
    jsonable,
    score,
    strongest,
    summary_dict,
)
from boonamber.wire import ANALYTIC_KEYS

if TYPE_CHECKING:
    from boonamber.cli.demo_data import GroundTruth
    from boonamber.facade import AmberClient

DEFAULT_BATCH = 1000


def register(sub: Any) -> None:
    """Add ``stream`` and ``pretrain``."""
    p = sub.add_parser(
        "stream",
        help="stream a CSV file through a model and report the anomalies",
        description="Stream FILE (a CSV file: optional header row, one vector per row) "
        "through MODEL in batches, then report the states reached, clusters, anomalies, "
        "warning levels and the root cause of the strongest anomaly.",
    )
    p.add_argument("model", metavar="MODEL", help="model id (configured)")
    p.add_argument("file", metavar="FILE.csv", help="the data")
    _data_options(p)
    p.add_argument(
        "--batch",
        type=int,
        default=DEFAULT_BATCH,
        metavar="N",
        help=f"vectors per request (default {DEFAULT_BATCH})",
    )
    p.add_argument("--plot", metavar="PNG", help="write a plot of signal and analytics")
    p.add_argument("--out", metavar="CSV", help="write every vector's analytics to a CSV file")
    p.add_argument(
        "--truth",
        metavar="JSON",
        help="ground-truth side file (*.truth.json) to score the anomalies against",
    )
    add_progress_option(p)
    add_connection_options(p, top_level=False)
    p.set_defaults(func=stream)

    p = sub.add_parser(
        "pretrain",
        help="pretrain a model with a CSV file",
        description="Upload FILE to MODEL in chunks (one progress bar), then wait while the "
        "server pretrains (a second one). The model ends in Monitoring.",
    )
    p.add_argument("model", metavar="MODEL", help="model id (configured)")
    p.add_argument("file", metavar="FILE.csv", help="the data")
    _data_options(p)
    p.add_argument(
        "--chunk-size",
        type=int,
        metavar="N",
        help="values per upload request (default: the client's, a few MB)",
    )
    p.add_argument(
        "--wait",
        type=float,
        default=600.0,
        metavar="S",
        help="give up waiting for pretraining after S seconds (default 600)",
    )
    add_progress_option(p)
    add_connection_options(p, top_level=False)
    p.set_defaults(func=pretrain)


def _data_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--columns",
        metavar="A,B,...",
        help="use these columns (names or 1-based numbers), in this order",
    )
    p.add_argument("--limit", type=int, metavar="N", help="use only the first N rows")


def load(args: argparse.Namespace) -> Table:
    """Read the CSV named on the command line, with ``--columns``/``--limit``."""
    columns = [c.strip() for c in args.columns.split(",")] if args.columns else None
    if args.limit is not None and args.limit < 1:
        raise CliError("--limit must be at least 1")
    return read_table(args.file, columns=columns, limit=args.limit)


def model_shape(amber: AmberClient, model_id: str, table: Table) -> tuple[int, list[str]]:
    """(streaming window, feature names) of the model; checks the table fits it."""
    from boonamber.facade import AmberCloudError

    try:
        cfg = jsonable(amber.get_config(model_id))
    except AmberCloudError as exc:
        if exc.status == 400:
            raise CliError(
                f"model {model_id} is not configured; run: boonamber config {model_id} "
                f"--features {len(table.names)} --window 25"
            ) from exc
        raise
    names = [str(f.get("name")) for f in cfg.get("features") or []]
    if names and len(names) != len(table.names):
        raise CliError(
            f"model {model_id} has {len(names)} feature(s) but the data has "
            f"{len(table.names)} column(s) ({', '.join(table.names)}); use --columns"
        )
    return int(cfg.get("streamingWindow") or 1), names


# --------------------------------------------------------------------------- streaming


def stream_table(
    amber: AmberClient,
    model_id: str,
    table: Table,
    batch: int,
    show_progress: bool,
    desc: str = "streaming",
) -> StreamRecord:
    """Stream every row through the model in batches; returns the accumulated analytics."""
    if batch < 1:
        raise CliError("--batch must be at least 1")
    record = StreamRecord()
    rows = table.rows
    with _bar(total=len(rows), desc=desc, unit="vec", enabled=show_progress) as bar:
        width = len(table.names)
        for start, response in zip(
            range(0, len(rows), batch),
            amber.stream(model_id, rows, batch_size=batch * width),  # size in values
            strict=False,
        ):
            n = min(batch, len(rows) - start)
            record.add(response, n)
            bar.update(n)
            state = record.status.get("state")
            if state:
                bar.set_postfix_str(str(state), refresh=False)
    if record.vectors != len(rows):  # pragma: no cover - the facade streams every row
        raise CliError(f"streamed {record.vectors} of {len(rows)} rows")
    return record


@dataclass
class Analysis:
    """What the report shows beyond the raw analytics."""

    events: list[Event]
    top: Event | None
    root_cause: dict[str, float] | None
    threshold: int | None
    percent_variation: float | None
    scored: Score | None
    fault_features: dict[str, list[str]] | None = None


def analyse(
    amber: AmberClient,
    model_id: str,
    record: StreamRecord,
    window: int,
    truth: GroundTruth | None = None,
    n_features: int = 1,
) -> Analysis:
    """Find anomaly events, score them, ask the root cause of the strongest one.

    The extra queries (root cause, nano status, configuration) only enrich the report: a
    server that refuses one of them leaves that part out rather than failing the command.
    """
    from boonamber.facade import AmberCloudError

    events = find_events(record.analytics, merge_gap=max(4 * window, 50))
    monitoring = next((i for i, s in record.states if s == "Monitoring"), None)
    scored = score(record.analytics, truth, window, monitoring, events) if truth else None
    top = strongest(events)
    root_cause = None
    # One root-cause request: the strongest event, or every event when there are several
    # features (then each event is labelled with the feature ranked first).
    asked = [e for e in events if e.cluster_id != 0] if n_features > 1 else [top]
    asked = [e for e in asked if e is not None and e.cluster_id != 0]
    rc: dict[str, Any] = {}
    if asked:
        ids = [e.cluster_id for e in asked]
        try:
            rc = jsonable(amber.get_root_cause(model_id, clusters=ids))
        except AmberCloudError:
            rc = {}
        for ev, feats in zip(asked, rc.get("rootCauseList") or [], strict=False):
            ranking = {str(f["name"]): float(f["value"]) for f in feats}
            if ev is top:
                root_cause = ranking
            if n_features > 1 and ranking:
                ev.top_feature = max(ranking, key=lambda k: ranking[k])
    try:
        nano = jsonable(amber.get_nano_status(model_id))
    except AmberCloudError:
        nano = {}
    try:
        cfg = jsonable(amber.get_config(model_id))
    except AmberCloudError:
        cfg = {}
    thr = nano.get("anomalyThreshold")
    pv = cfg.get("percentVariation")
    return Analysis(
        events=events,
        top=top,
        root_cause=root_cause,
        threshold=int(thr) if thr is not None else None,
        percent_variation=float(pv) if pv is not None else None,
        scored=scored,
        fault_features={f.kind: list(f.features) for f in truth.faults} if truth else None,
    )


def report_text(record: StreamRecord, an: Analysis) -> str:
    """The human report of a streamed run."""
    return format_report(
        record,
        an.events,
        root_cause=an.root_cause,
        root_cause_event=an.top,
        scored=an.scored,
        threshold=an.threshold,
        percent_variation=an.percent_variation,
        fault_features=an.fault_features,
    )


def report_data(record: StreamRecord, an: Analysis, extra: dict[str, Any]) -> dict[str, Any]:
    """The JSON report of a streamed run."""
    data = summary_dict(record, an.events, an.root_cause, an.scored, extra)
    data["anomaly_threshold"] = an.threshold
    data["percent_variation"] = an.percent_variation
    data["strongest_anomaly"] = an.events.index(an.top) if an.top is not None else None
    return data


def write_results(path: str | os.PathLike[str], table: Table, record: StreamRecord) -> None:
    """Write one CSV row per vector: its index, its values and all its analytics."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["index", *table.names, *ANALYTIC_KEYS])
        cols = [record.analytics[k] for k in ANALYTIC_KEYS]
        for i, row in enumerate(table.rows):
            writer.writerow([i, *row, *(c[i] for c in cols)])


def stream(args: argparse.Namespace) -> int:
    """``stream MODEL FILE.csv``."""
    from boonamber.cli.demo_data import load_truth

    if args.plot:
        from boonamber.cli.plot import check_available

        check_available()  # fail before streaming, not after
    table = load(args)
    truth = load_truth(args.truth) if args.truth else None
    t0 = time.perf_counter()
    with client_from(args) as amber:
        window, _ = model_shape(amber, args.model, table)
        record = stream_table(amber, args.model, table, args.batch, progress_enabled(args))
        an = analyse(amber, args.model, record, window, truth, len(table.names))
    elapsed = time.perf_counter() - t0
    notes = []
    if args.out:
        write_results(args.out, table, record)
        notes.append(f"analytics written to {args.out}")
    if args.plot:
        from boonamber.cli.plot import plot_run

        plot_run(
            args.plot,
            table.columns,
            table.names,
            record.analytics,
            states=record.states,
            truth=truth,
            threshold=an.threshold,
            title=f"{os.path.basename(args.file)} through model {args.model}",
        )
        notes.append(f"plot written to {args.plot}")
    head = (
        f"streamed {record.vectors:,} vectors of {os.path.basename(args.file)} to model "
        f"{args.model} in {record.requests} requests ({elapsed:.1f} s)"
    )
    data = report_data(
        record, an, {"model": args.model, "file": args.file, "seconds": round(elapsed, 3)}
    )
    data.update({"out": args.out, "plot": args.plot})
    emit(args, data, "\n".join([head, report_text(record, an), *notes]))
    return 0


# --------------------------------------------------------------------------- pretraining


def pretrain(args: argparse.Namespace) -> int:
    """``pretrain MODEL FILE.csv``: chunked upload, then wait for the pretraining."""
    from boonamber.facade import AmberPretrainTimeoutError

    if args.chunk_size is not None and args.chunk_size < 1:
        raise CliError("--chunk-size must be at least 1")
    table = load(args)
    show = progress_enabled(args)
    t0 = time.perf_counter()
    with client_from(args) as amber:
        model_shape(amber, args.model, table)
        values = table.flat()
        kwargs: dict[str, Any] = {}
        if args.chunk_size is not None:
            kwargs["chunk_size"] = args.chunk_size
        with _bar(total=len(values), desc="uploading", unit="val", enabled=show) as bar:
            result = amber.post_pretrain(
                args.model, values, block=False, progress=_chunk_progress(bar), **kwargs
            )
        status = jsonable(result).get("status")
        with _bar(total=None, desc="pretraining", unit="s", enabled=show) as bar:
            deadline = time.monotonic() + args.wait
            while status != "Pretrained":
                if time.monotonic() > deadline:
                    raise AmberPretrainTimeoutError(
                        f"pretraining of model {args.model} did not finish in {args.wait:g} s "
                        f"(last status {status})"
                    )
                time.sleep(0.2)
                status = jsonable(amber.get_pretrain(args.model)).get("status")
                bar.set_postfix_str(str(status), refresh=False)
                bar.update(0.2)
        st = jsonable(amber.get_status(args.model))
    elapsed = time.perf_counter() - t0
    text = (
        f"pretrained model {args.model} with {len(table.rows):,} vectors "
        f"({len(values):,} values) in {elapsed:.1f} s\n"
        f"state {st.get('state')}, {st.get('clusterCount', 0)} clusters, "
        f"{st.get('sampleCount', 0):,} patterns"
    )
    data = {
        "model": args.model,
        "vectors": len(table.rows),
        "values": len(values),
        "seconds": round(elapsed, 3),
        "status": st,
    }
    emit(args, data, text)
    return 0


def _chunk_progress(bar: Any) -> Callable[..., None]:
    """Adapt the facade's pretrain callback ``progress(values_sent, total)`` to a tqdm bar."""

    def update(done: int, total: int | None = None, *_: Any) -> None:
        if total is not None and bar.total != total:
            bar.total = total
        bar.n = done
        bar.refresh()

    return update


class _NoBar:
    """Stands in for tqdm when progress is off."""

    total: float | None = None
    n: float = 0

    def __enter__(self) -> _NoBar:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def update(self, n: float = 1) -> None:
        self.n += n

    def set_postfix_str(self, s: str = "", refresh: bool = True) -> None:
        return None

    def refresh(self) -> None:
        return None


def _bar(total: float | None, desc: str, unit: str, enabled: bool) -> Any:
    if not enabled:
        return _NoBar()
    try:
        from tqdm import tqdm
    except ImportError:  # tqdm comes with boonamber[local]; without it, no bar
        return _NoBar()
    return tqdm(
        total=total,
        desc=desc,
        unit=unit,
        unit_scale=unit in ("vec", "val"),
        file=sys.stderr,
        dynamic_ncols=True,
        leave=True,
    )
