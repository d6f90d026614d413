"""Accumulate streamed analytics, find anomaly events, score them and format a report.

Everything here is pure Python (no numpy, no server): the CLI, the demo and the examples
feed it the responses they get and print what it returns.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from boonamber.wire import ANALYTIC_KEYS

if TYPE_CHECKING:
    from boonamber.cli.demo_data import GroundTruth

#: The SI filter spans 9 patterns, so a detection can trail the end of a fault by that much.
SI_TAPS = 9


def plural(count: int, word: str, many: str | None = None) -> str:
    """``"1 event"``, ``"2 events"``, ``"1,000 vectors"``."""
    return f"{count:,} {word if count == 1 else (many or word + 's')}"


def jsonable(obj: Any) -> Any:
    """Turn a facade/generated result (or nested containers of them) into plain JSON data."""
    if obj is None or isinstance(obj, str | int | float | bool):
        return obj
    if isinstance(obj, Mapping):  # facade results are mappings keyed by wire names
        return {str(k): jsonable(v) for k, v in obj.items()}
    to_dict = getattr(obj, "to_dict", None)
    if callable(to_dict):
        return jsonable(to_dict())
    dump = getattr(obj, "model_dump", None)
    if callable(dump):
        return jsonable(dump(by_alias=True, exclude_none=True))
    if isinstance(obj, Iterable) and not isinstance(obj, bytes | bytearray):
        return [jsonable(v) for v in obj]
    return str(obj)


def get_field(obj: Any, name: str, wire: str | None = None, default: Any = None) -> Any:
    """Read ``name`` (Python attribute) or ``wire`` (JSON key) from a model or a mapping."""
    if obj is None:
        return default
    if isinstance(obj, Mapping):
        for key in (wire, name):
            if key is not None and key in obj:
                return obj[key]
        return default
    value = getattr(obj, name, None)
    if value is None and wire is not None:
        value = getattr(obj, wire, None)
    return default if value is None else value


@dataclass
class StreamRecord:
    """Per-vector analytics and the state history of one streamed run.

    ``add`` takes each data response in order with the number of vectors it carried.
    Analytic arrays shorter than that (the service sends empty arrays while Buffering) are
    padded with zeros at the front, so index ``i`` is always input vector ``i``.
    """

    analytics: dict[str, list[float]] = field(
        default_factory=lambda: {k: [] for k in ANALYTIC_KEYS}
    )
    #: (vector index at which the state was first seen, state), in order.
    states: list[tuple[int, str]] = field(default_factory=list)
    status: dict[str, Any] = field(default_factory=dict)
    vectors: int = 0
    requests: int = 0
    #: Set when the run was stopped (Ctrl-C) before every vector was sent.
    interrupted: bool = False

    def add(self, response: Any, n_vectors: int) -> None:
        """Append one data response covering ``n_vectors`` input vectors."""
        analytics = jsonable(get_field(response, "analytics")) or {}
        status = jsonable(get_field(response, "status")) or {}
        for key in ANALYTIC_KEYS:
            values = list(analytics.get(key) or [])[-n_vectors:] if n_vectors else []
            pad = n_vectors - len(values)
            self.analytics[key].extend([0] * pad + values)
        state = status.get("state")
        if state and (not self.states or self.states[-1][1] != state):
            self.states.append((self._state_start(str(state), n_vectors), str(state)))
        self.status = status
        self.vectors += n_vectors
        self.requests += 1

    def _state_start(self, state: str, n_vectors: int) -> int:
        """Where in the request that first reports ``state`` the state began.

        A response carries the status at its end. Learning starts at the first vector with
        a cluster id after Buffering/Autotuning; Autotuning after Buffering and Monitoring are
        placed at the end of the request (Buffering ends when its count is reached, exact when
        the count is a multiple of the batch; graduation is checked at the end of a request);
        any other change (``post_learning``) precedes the request.
        """
        if not self.states:
            ids = self.analytics["ID"][self.vectors :]
            if self.vectors == 0 and (
                state == "Autotuning" or (state == "Learning" and ids and not ids[0])
            ):
                # The first request finished buffering (zeros, then Autotuning or cluster ids).
                self.states.append((0, "Buffering"))
            else:
                return 0
        previous = self.states[-1][1]
        if state == "Learning" and previous in ("Buffering", "Autotuning"):
            ids = self.analytics["ID"][self.vectors :]
            first = next((i for i, v in enumerate(ids) if v), n_vectors)
            return self.vectors + first
        if (state, previous) in (("Monitoring", "Learning"), ("Autotuning", "Buffering")):
            return self.vectors + n_vectors
        return self.vectors

    def state_at(self, index: int) -> str | None:
        """The state reported by the request that carried vector ``index``."""
        current = None
        for start, state in self.states:
            if start > index:
                break
            current = state
        return current


@dataclass
class Event:
    """A run of anomaly detections (AD = 1), gaps shorter than ``merge_gap`` merged."""

    start: int
    end: int  # exclusive: one past the last flagged vector
    flagged: int
    peak_si: int
    max_aw: int
    cluster_id: int  # a representative cluster id (negative: fitted no cluster)
    fault: str | None = None  # the ground-truth fault it overlaps, when known
    top_feature: str | None = None  # the feature its root cause ranks first, when asked

    @property
    def length(self) -> int:
        """Vectors from the first to the last detection."""
        return self.end - self.start


def find_events(analytics: Mapping[str, Sequence[float]], merge_gap: int = 25) -> list[Event]:
    """Group AD flags into events; ``cluster_id`` is the middle negative id of the event."""
    ad = analytics.get("AD", [])
    si = analytics.get("SI", [])
    aw = analytics.get("AW", [])
    ids = analytics.get("ID", [])
    flagged = [i for i, v in enumerate(ad) if v]
    runs: list[list[int]] = []
    for i in flagged:
        if runs and i - runs[-1][-1] <= merge_gap:
            runs[-1].append(i)
        else:
            runs.append([i])
    events = []
    for run in runs:
        lo, hi = run[0], run[-1] + 1
        negative = [int(ids[i]) for i in range(lo, hi) if i < len(ids) and ids[i] < 0]
        rep = negative[len(negative) // 2] if negative else int(ids[run[len(run) // 2]])
        events.append(
            Event(
                start=lo,
                end=hi,
                flagged=len(run),
                peak_si=int(max(si[lo:hi], default=0)),
                max_aw=int(max(aw[lo:hi], default=0)),
                cluster_id=rep,
            )
        )
    return events


def strongest(events: Sequence[Event]) -> Event | None:
    """The event with the highest warning level, then the most detections."""
    return max(events, key=lambda e: (e.max_aw, e.flagged, e.peak_si), default=None)


@dataclass
class FaultResult:
    """How one ground-truth fault was detected."""

    kind: str
    start: int
    end: int
    detected: bool
    first_flag: int | None
    latency: int | None  # vectors from the fault start to the first detection


@dataclass
class Score:
    """Detections against the ground truth (faults inside the streamed range only)."""

    faults: list[FaultResult]
    detected: int
    total: int
    recall: float
    false_alarm_events: int
    false_alarm_samples: int
    monitored_samples: int
    false_alarms_per_10k: float
    flagged_samples: int
    precision: float  # share of flagged vectors that lie inside a fault's tolerance span
    tolerance: int


def score(
    analytics: Mapping[str, Sequence[float]],
    truth: GroundTruth,
    window: int,
    monitoring_start: int | None = None,
    events: Sequence[Event] | None = None,
    offset: int = 0,
) -> Score:
    """Score detections against ground truth.

    A fault counts as detected when any vector in ``[start, end + window + 9)`` is flagged
    (a pattern spans ``window`` vectors and SI lags by up to 9 patterns). A false-alarm
    event is an event that overlaps no such span. ``offset`` is the row of the data file
    that the first analytic belongs to.
    """
    ad = analytics.get("AD", [])
    n = len(ad)
    tol = window + SI_TAPS
    events = list(events) if events is not None else find_events(analytics)
    spans: list[tuple[int, int]] = []
    results: list[FaultResult] = []
    for fault in truth.faults:
        lo, hi = fault.start - offset, min(n, fault.end - offset + tol)
        if lo < 0 or lo >= n:
            continue  # not streamed
        spans.append((lo, hi))
        first = next((i for i in range(lo, hi) if ad[i]), None)
        results.append(
            FaultResult(
                kind=fault.kind,
                start=fault.start,
                end=fault.end,
                detected=first is not None,
                first_flag=None if first is None else first + offset,
                latency=None if first is None else first - lo,
            )
        )
    in_fault = [False] * n
    for lo, hi in spans:
        for i in range(lo, hi):
            in_fault[i] = True
    for ev in events:
        for (lo, hi), res in zip(spans, results, strict=True):
            if ev.start < hi and ev.end > lo:
                ev.fault = res.kind
                break
    flagged = sum(1 for v in ad if v)
    fa_samples = sum(1 for i, v in enumerate(ad) if v and not in_fault[i])
    fa_events = sum(1 for ev in events if ev.fault is None)
    mon_start = monitoring_start if monitoring_start is not None else 0
    monitored = max(0, n - mon_start)
    detected = sum(1 for r in results if r.detected)
    return Score(
        faults=results,
        detected=detected,
        total=len(results),
        recall=detected / len(results) if results else 0.0,
        false_alarm_events=fa_events,
        false_alarm_samples=fa_samples,
        monitored_samples=monitored,
        false_alarms_per_10k=fa_events * 10_000 / monitored if monitored else 0.0,
        flagged_samples=flagged,
        precision=(flagged - fa_samples) / flagged if flagged else 0.0,
        tolerance=tol,
    )


def warning_counts(analytics: Mapping[str, Sequence[float]]) -> dict[int, int]:
    """How many vectors reached each warning level (AW 0, 1, 2)."""
    counts = {0: 0, 1: 0, 2: 0}
    for v in analytics.get("AW", []):
        counts[int(v)] = counts.get(int(v), 0) + 1
    return counts


def _fmt_states(states: Sequence[tuple[int, str]], graduation: str | None) -> str:
    parts = []
    for start, state in states:
        where = "from the start" if start == 0 else f"from vector {start:,}"
        extra = f", graduation: {graduation}" if state == "Monitoring" and graduation else ""
        parts.append(f"{state} ({where}{extra})")
    return " → ".join(parts) if parts else "(no status received)"


def summary_dict(
    record: StreamRecord,
    events: Sequence[Event],
    root_cause: Mapping[str, float] | None = None,
    scored: Score | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The report as plain JSON data (what ``--json`` prints)."""
    out: dict[str, Any] = dict(extra or {})
    out.update(
        {
            "vectors": record.vectors,
            "requests": record.requests,
            "states": [{"state": s, "from_vector": i} for i, s in record.states],
            "status": record.status,
            "anomalies": [asdict(e) for e in events],
            "warning_levels": {str(k): v for k, v in warning_counts(record.analytics).items()},
        }
    )
    if root_cause is not None:
        out["root_cause"] = dict(root_cause)
    if scored is not None:
        out["ground_truth"] = asdict(scored)
    return out


def format_report(
    record: StreamRecord,
    events: Sequence[Event],
    *,
    root_cause: Mapping[str, float] | None = None,
    root_cause_event: Event | None = None,
    scored: Score | None = None,
    threshold: int | None = None,
    percent_variation: float | None = None,
    offset: int = 0,
    max_events: int = 12,
    fault_features: Mapping[str, Sequence[str]] | None = None,
) -> str:
    """The human-readable report: states, clusters, anomalies, warnings, root cause, score."""
    st = record.status
    lines = [f"States      {_fmt_states(record.states, st.get('graduation'))}"]
    clusters = f"{st.get('clusterCount', 0)}"
    if percent_variation is not None:
        clusters += f" (percent variation {percent_variation:.3f})"
    lines.append(f"Clusters    {clusters}")
    flagged = sum(1 for v in record.analytics.get("AD", []) if v)
    thr = f", anomaly threshold SI ≥ {threshold}" if threshold is not None else ""
    lines.append(
        f"Anomalies   {plural(len(events), 'event')}, {plural(flagged, 'vector')} flagged{thr}"
    )
    if events:
        top = any(e.top_feature for e in events)
        lines.append(
            "              #      start        end   length  peak SI  warning  fault"
            + (f"{'':<14}root cause" if top else "")
        )
        for n, ev in enumerate(events[:max_events], 1):
            cause = f"{ev.fault or '-':<19}{ev.top_feature or '-'}" if top else ev.fault or "-"
            lines.append(
                f"            {n:>3} {ev.start + offset:>10,} {ev.end + offset:>10,} "
                f"{ev.length:>8,} {ev.peak_si:>8} {ev.max_aw:>8}  {cause}"
            )
        if len(events) > max_events:
            lines.append(f"            … and {len(events) - max_events} more (see --json)")
    wc = warning_counts(record.analytics)
    lines.append(
        f"Warnings    level 1: {plural(wc.get(1, 0), 'vector')}, "
        f"level 2: {plural(wc.get(2, 0), 'vector')}; "
        f"last warning level {st.get('warningLevel', 0)}"
    )
    if root_cause is not None and root_cause_event is not None:
        rc = ", ".join(f"{k} {v:.2f}" for k, v in sorted(root_cause.items(), key=lambda kv: -kv[1]))
        num = str(events.index(root_cause_event) + 1) if root_cause_event in events else "?"
        lines.append(
            f"Root cause  strongest anomaly (#{num}, cluster {root_cause_event.cluster_id}): {rc}"
        )
    if scored is not None:
        lat = [r.latency for r in scored.faults if r.latency is not None]
        mean_lat = f", mean latency {sum(lat) / len(lat):.0f} vectors" if lat else ""
        if not scored.total:
            lines.append(
                f"Truth       no injected fault in the streamed rows; "
                f"false alarms {scored.false_alarm_events}"
            )
            return "\n".join(lines)
        lines.append(
            f"Truth       recall {scored.detected}/{scored.total} = {scored.recall:.0%}, "
            f"false alarms {scored.false_alarm_events} "
            f"({scored.false_alarms_per_10k:.2f} per 10k monitored vectors), "
            f"precision {scored.precision:.1%} of flagged vectors{mean_lat}"
        )
        checked = [e for e in events if e.fault and e.top_feature]
        if checked and fault_features:
            hits = sum(1 for e in checked if e.top_feature in fault_features.get(str(e.fault), ()))
            lines.append(
                f"            root cause ranks the faulty feature first for {hits} of "
                f"{plural(len(checked), 'anomaly event')}"
            )
        for r in scored.faults:
            mark = (
                f"found at {r.first_flag:,} (+{r.latency})"
                if r.detected and r.first_flag is not None
                else "MISSED"
            )
            lines.append(f"            {r.kind:<20} {r.start:>8,}-{r.end:<8,} {mark}")
    return "\n".join(lines)
