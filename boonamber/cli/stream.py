"""``boonamber stream`` and ``boonamber pretrain``: send a CSV file through a model."""

from __future__ import annotations

import argparse
import csv
import os
import re
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
from boonamber.cli.csvdata import CsvError, Table, open_csv
from boonamber.cli.report import (
    Event,
    Score,
    StreamRecord,
    find_events,
    format_report,
    jsonable,
    plural,
    score,
    strongest,
    summary_dict,
)
from boonamber.facade.csvfile import feature_names
from boonamber.wire import ANALYTIC_KEYS

if TYPE_CHECKING:
    from boonamber.cli.demo_data import GroundTruth
    from boonamber.facade import AmberClient

DEFAULT_BATCH = 1000
PROG = "boonamber"


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
        help="use these file columns (names or 1-based numbers) for the model's features, in "
        "order; or map features to columns with feature=column,... (default: the header's "
        "names matched to the model's feature names)",
    )
    p.add_argument("--limit", type=int, metavar="N", help="use only the first N rows")


def _columns(args: argparse.Namespace) -> list[str] | None:
    if args.limit is not None and args.limit < 1:
        raise CliError("--limit must be at least 1")
    return [c.strip() for c in args.columns.split(",")] if args.columns else None


def load(args: argparse.Namespace, features: list[str] | None = None, show: bool = False) -> Table:
    """Read the CSV named on the command line, matched to ``features``, with
    ``--columns``/``--limit`` (a progress bar on stderr while reading when ``show``)."""
    source = open_csv(args.file, columns=_columns(args), limit=args.limit, features=features)
    with _bar(total=source.size, desc="reading", unit="B", enabled=show) as bar:
        rows = source.rows(progress=_bytes_progress(bar))
    return Table(names=source.names, rows=rows)


def model_shape(amber: AmberClient, model_id: str, file: str) -> tuple[int, list[str] | None]:
    """(streaming window, feature names) of the model (``None``: names not reported)."""
    from boonamber.facade import AmberCloudError

    try:
        cfg = jsonable(amber.get_config(model_id))
    except AmberCloudError as exc:
        if exc.status == 400:
            try:
                width = len(open_csv(file).names)
            except CsvError:
                width = 1
            raise CliError(
                f"model {model_id} is not configured; run: boonamber config {model_id} "
                f"--features {width} --window 25"
            ) from exc
        raise
    return int(cfg.get("streamingWindow") or 1), feature_names(cfg)


# --------------------------------------------------------------------------- streaming


def stream_table(
    amber: AmberClient,
    model_id: str,
    table: Table,
    batch: int,
    show_progress: bool,
    desc: str = "streaming",
) -> StreamRecord:
    """Stream every row through the model in batches; returns the accumulated analytics.

    Ctrl-C stops after the batch in flight: ``record.interrupted`` is then set and the
    record holds what was sent.
    """
    if batch < 1:
        raise CliError("--batch must be at least 1")
    record = StreamRecord()
    rows = table.rows
    with _bar(total=len(rows), desc=desc, unit="vec", enabled=show_progress) as bar:
        width = len(table.names)
        try:
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
        except KeyboardInterrupt:
            record.interrupted = True
            return record
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
    _columns(args)
    truth = load_truth(args.truth) if args.truth else None
    show = progress_enabled(args)
    t0 = time.perf_counter()
    with client_from(args) as amber:
        window, names = model_shape(amber, args.model, args.file)
        table = load(args, names, show)
        record = stream_table(amber, args.model, table, args.batch, show)
        if record.interrupted:
            return _interrupted_stream(args, table, record, window, time.perf_counter() - t0)
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
        f"streamed {plural(record.vectors, 'vector')} of {os.path.basename(args.file)} to model "
        f"{args.model} in {plural(record.requests, 'request')} ({elapsed:.1f} s)"
    )
    data = report_data(
        record, an, {"model": args.model, "file": args.file, "seconds": round(elapsed, 3)}
    )
    data.update({"out": args.out, "plot": args.plot})
    emit(args, data, "\n".join([head, report_text(record, an), *notes]))
    return 0


def _interrupted_stream(
    args: argparse.Namespace, table: Table, record: StreamRecord, window: int, elapsed: float
) -> int:
    """After Ctrl-C: what was sent, and the anomalies found so far (no further requests)."""
    events = find_events(record.analytics, merge_gap=max(4 * window, 50))
    an = Analysis(events, strongest(events), None, None, None, None)
    head = (
        f"interrupted: streamed {plural(record.vectors, 'vector')} of {len(table.rows):,} "
        f"from {os.path.basename(args.file)} to model {args.model} in "
        f"{plural(record.requests, 'request')} ({elapsed:.1f} s); the rest was not sent "
        "(a batch in flight at Ctrl-C may have reached the server)"
    )
    extra = {"model": args.model, "file": args.file, "seconds": round(elapsed, 3)}
    data = report_data(record, an, {**extra, "interrupted": True, "total": len(table.rows)})
    if args.out and record.vectors:
        write_results(args.out, Table(table.names, table.rows[: record.vectors]), record)
        head += f"\nanalytics so far written to {args.out}"
    emit(args, data, "\n".join([head, report_text(record, an)]))
    return 130


# --------------------------------------------------------------------------- pretraining


def pretrain(args: argparse.Namespace) -> int:
    """``pretrain MODEL FILE.csv``: read in blocks, chunked upload, wait for the pretraining."""
    if args.chunk_size is not None and args.chunk_size < 1:
        raise CliError("--chunk-size must be at least 1")
    columns = _columns(args)
    show = progress_enabled(args)
    t0 = time.perf_counter()
    with client_from(args) as amber:
        _, names = model_shape(amber, args.model, args.file)
        source = open_csv(args.file, columns=columns, limit=args.limit, features=names)
        with _bar(total=source.size, desc="reading", unit="B", enabled=show) as bar:
            values = source.float32(progress=_bytes_progress(bar))
        count = len(values)
        vectors = count // max(1, len(source.names))
        kwargs: dict[str, Any] = {}
        if args.chunk_size is not None:
            kwargs["chunk_size"] = args.chunk_size
        sent = [0]
        try:
            with _bar(total=count, desc="uploading", unit="val", enabled=show) as bar:
                result = amber.post_pretrain(
                    args.model,
                    values,
                    block=False,
                    progress=_chunk_progress(bar, sent),
                    **kwargs,
                )
        except KeyboardInterrupt:
            print(
                f"{PROG}: upload interrupted after {sent[0]:,} of {count:,} values: model "
                f"{args.model} is not pretrained (the server discards an incomplete upload "
                f"when a new one starts); run the command again to pretrain it",
                file=sys.stderr,
            )
            raise
        del values
        status = jsonable(result).get("status")
        try:
            _wait_pretrained(amber, args.model, status, args.wait, show)
        except KeyboardInterrupt:
            print(
                f"{PROG}: stopped waiting; the server keeps pretraining model {args.model}. "
                f"Check it with: boonamber status {args.model}",
                file=sys.stderr,
            )
            raise
        st = jsonable(amber.get_status(args.model))
    elapsed = time.perf_counter() - t0
    text = (
        f"pretrained model {args.model} with {plural(vectors, 'vector')} "
        f"({plural(count, 'value')}) in {elapsed:.1f} s\n"
        f"state {st.get('state')}, {plural(st.get('clusterCount', 0), 'cluster')}, "
        f"{plural(st.get('sampleCount', 0), 'pattern')}"
    )
    data = {
        "model": args.model,
        "vectors": vectors,
        "values": count,
        "seconds": round(elapsed, 3),
        "status": st,
    }
    emit(args, data, text)
    return 0


_PERCENT = re.compile(r"(\d+(?:\.\d+)?)\s*%")


def _wait_pretrained(
    amber: AmberClient, model_id: str, status: Any, wait: float, show: bool
) -> None:
    """Poll ``get_pretrain`` until Pretrained: a bar of the server's percentage when its
    message carries one (``Pretraining: 37% done``), else the state and time waited."""
    from boonamber.facade import AmberPretrainTimeoutError

    fmt = "{desc}: {n:.0f}% |{bar}| {elapsed}"
    with _bar(total=100, desc="pretraining", unit="%", enabled=show, bar_format=fmt) as bar:
        deadline = time.monotonic() + wait
        while status != "Pretrained":
            if time.monotonic() > deadline:
                raise AmberPretrainTimeoutError(
                    f"pretraining of model {model_id} did not finish in {wait:g} s "
                    f"(last status {status}); the server keeps going: check it with "
                    f"boonamber status {model_id}"
                )
            time.sleep(0.2)
            answer = jsonable(amber.get_pretrain(model_id))
            status = answer.get("status")
            match = _PERCENT.search(str(answer.get("message") or ""))
            if match is not None:
                bar.n = min(100.0, float(match.group(1)))
            bar.set_postfix_str(str(status), refresh=False)
            bar.refresh()
        bar.n = 100
        bar.refresh()


def _chunk_progress(bar: Any, sent: list[int]) -> Callable[..., None]:
    """Adapt the facade's pretrain callback ``progress(values_sent, total)`` to a tqdm bar
    (``sent[0]`` keeps the count for an interruption message)."""

    def update(done: int, total: int | None = None, *_: Any) -> None:
        sent[0] = done
        if total is not None and bar.total != total:
            bar.total = total
        bar.n = done
        bar.refresh()

    return update


def _bytes_progress(bar: Any) -> Callable[[int, int], None]:
    """Adapt the CSV reader's ``progress(bytes_read, size)`` to a tqdm bar."""

    def update(done: int, total: int) -> None:
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


def _bar(
    total: float | None, desc: str, unit: str, enabled: bool, bar_format: str | None = None
) -> Any:
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
        unit_scale=unit in ("vec", "val", "B"),
        unit_divisor=1024 if unit == "B" else 1000,
        file=sys.stderr,
        dynamic_ncols=True,
        leave=True,
        bar_format=bar_format,
    )
