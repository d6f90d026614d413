"""AmberModel: one model's state machine (Buffering -> Autotuning -> Learning -> Monitoring)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import numpy.typing as npt

from . import analytics as an
from . import fusion as fu
from .autotune import tune_pv, tune_range
from .clustering import Blocks, TemplateStore, chunk_rows, leader_assign, match_rows, nearest
from .config import DEFAULT_PV, EngineConfig, TrainingConfig
from .errors import ConfigError, EngineError, InputError, StateError
from .patterns import MAX_ABS_VALUE, OUT_OF_RANGE, Scaler, as_vectors, windows
from .reports import Analytics, ConfigInForce, EngineStatus, EngineSummary, NanoStatus
from .rootcause import MSG_BOTH, MSG_NEITHER, root_cause
from .snapshot import decode, encode

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

BUFFERING, AUTOTUNING, LEARNING, MONITORING = "Buffering", "Autotuning", "Learning", "Monitoring"
#: Unmatched Monitoring patterns ("ghosts") kept for root cause: the newest
#: max(MIN_GHOSTS, MAX_GHOST_VALUES / pattern length), in a ring (at most ~8 MB per model
#: with the server's pattern-length limit).
MAX_GHOST_VALUES = 500_000
MIN_GHOSTS = 100
PRETRAIN_CHUNK = 65_536  # vectors per step of pretraining (for progress reports)
#: While streaming, Autotuning lasts this many further vectors per buffered one (the service
#: tunes in the background while data keeps arriving; see docs/local-server.md).
AUTOTUNE_WAIT = 1.25


def _i64(n: int = 0) -> I64:
    return np.zeros(n, dtype=np.int64)


@dataclass
class _State:
    """Everything that changes as data flows; serialised field by field by to_bytes."""

    training: TrainingConfig
    autotune_range: bool
    autotune_pv: bool
    state: str = BUFFERING
    graduation: str = ""
    lo: F64 = field(default_factory=lambda: np.zeros(0))  # resolved ranges (empty = not yet)
    hi: F64 = field(default_factory=lambda: np.zeros(0))
    pv: float = 0.0  # 0 = not resolved yet
    sample_count: int = 0  # patterns since configuration
    phase_vectors: int = 0  # vectors since configuration / re-buffering / re-enabled learning
    ctx: F64 = field(default_factory=lambda: np.zeros((0, 0)))  # last (<= window-1) raw vectors
    buf: F64 = field(default_factory=lambda: np.zeros((0, 0)))  # buffered raw vectors (+ context)
    buf_valid: npt.NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, dtype=bool))
    buf_n: int = 0
    buf_ctx: int = 0  # leading context rows of buf (not buffered samples)
    tune_n: int = 0  # rows of buf (context included) that autotuning tunes on
    tune_end: int = 0  # phase_vectors at which Autotuning ends
    sizes: I64 = field(default_factory=_i64)
    growth: I64 = field(default_factory=_i64)  # training-pattern number at creation (1-based)
    ghost_next: int = 0  # negative ids issued so far
    ghost_ids: I64 = field(default_factory=_i64)
    ghost_raw: F64 = field(default_factory=lambda: np.zeros((0, 0)))
    ri_hist: I64 = field(default_factory=lambda: _i64(an.FIR_TAPS - 1))
    ni_hist: I64 = field(default_factory=lambda: _i64(an.FIR_TAPS - 1))
    om_hist: I64 = field(default_factory=_i64)
    ad_hist: I64 = field(default_factory=_i64)  # the last historyWindow AD values, a ring:
    ad_pos: int = 0  # ad_hist[ad_pos] is the oldest (snapshots store it oldest first, pos 0)
    ah: int = 0
    last_ad: int = 0
    last_aw: int = 0
    last_cs: int = 100
    n_train: int = 0  # training patterns (replay included) since configuration
    g0: int = 0  # n_train when the current learning period began
    si_train: I64 = field(default_factory=lambda: _i64(1001))  # histogram of training SI
    threshold: int = 1000
    lam: float = 0.0
    k1: int = 1
    k2: int = 1
    n_grad: int = 0  # n_train at graduation
    fus_val: F64 = field(default_factory=lambda: np.zeros(0))
    fus_time: F64 = field(default_factory=lambda: np.zeros(0))


class AmberModel:
    """An Amber-compatible anomaly detection model (pure numpy, deterministic)."""

    def __init__(self, config: EngineConfig) -> None:
        """A fresh model in Buffering."""
        self.config = config
        f, length = config.feature_count, config.pattern_length
        self._s = _State(config.training, config.autotune_range, config.autotune_pv)
        s = self._s
        s.ctx = np.zeros((0, f))
        s.buf = np.zeros((0, f))
        s.ghost_raw = np.zeros((0, length))
        s.fus_val = np.full(f, np.nan)
        s.fus_time = np.full(f, np.nan)
        self._store = TemplateStore(Blocks(f, config.streaming_window), length)
        self._scaler: Scaler | None = None
        self._tables: tuple[I64, I64] | None = None
        self.last_clipped = 0  # values clipped by the last process() call (not persisted)
        # False while pretraining: no Autotuning wait and no count of clipped values
        self._streaming = True
        # False while pretraining: learning and monitoring compute only what the state needs,
        # not the answers nobody reads (both not persisted)
        self._answers = True
        if self._tr("buffering_samples") == 0:
            self._start_autotuning(None)

    # ------------------------------------------------------------------ helpers

    def _tr(self, name: str) -> int:
        return self._s.training.get(name)

    @property
    def _window(self) -> int:
        return self.config.streaming_window

    def _set_ranges(self, lo: F64, hi: F64) -> None:
        self._s.lo, self._s.hi = lo, hi
        w = [f.weight for f in self.config.features]
        self._scaler = Scaler.build(lo, hi, w, self._window)

    def _scaler_or_raise(self) -> Scaler:
        if self._scaler is None:
            raise StateError("the model has no feature ranges yet (still Buffering)")
        return self._scaler

    def _lookup_tables(self) -> tuple[I64, I64]:
        """RI and PI per cluster with frozen sizes (Monitoring)."""
        if self._tables is None:
            s = self._s
            smax = int(s.sizes.max()) if len(s.sizes) else 0
            full = np.full(len(s.sizes), smax, dtype=np.int64)
            self._tables = (
                an.raw_index(s.sizes, full),
                an.prob_index(s.sizes, full, np.full(len(s.sizes), s.n_grad, dtype=np.int64)),
            )
        return self._tables

    # ------------------------------------------------------------------ streaming

    def process(
        self, values: npt.NDArray[Any] | Sequence[float]
    ) -> dict[str, list[int] | list[float]]:
        """Stream values (a multiple of featureCount); one analytics entry per input vector.

        Raises InputError (model unchanged) on non-finite values or a wrong count.
        """
        return {k: v.tolist() for k, v in self.process_array(values).items()}

    def process_array(self, values: npt.NDArray[Any] | Sequence[float]) -> Analytics:
        """Like :meth:`process` but returns numpy arrays (int64, NW/OM float64)."""
        x = as_vectors(values, self.config.feature_count)
        self.last_clipped = 0
        out = self._ingest(x)
        if self._s.state == LEARNING:
            self._check_graduation(None)
        return out

    def _ingest(
        self,
        x: F64,
        progress: Callable[[float], None] | None = None,
        exact_max: str | None = None,
    ) -> Analytics:
        """Run validated vectors through the state machine (no end-of-request graduation check).

        ``exact_max``: graduate (with this reason) exactly when learningMaxSamples is reached.
        """
        s = self._s
        w = self._window
        n = len(x)
        out = an.empty_analytics(n) if self._answers else {}
        m = len(s.ctx)
        ext = np.concatenate((s.ctx, x)) if m else x
        first = max(0, w - 1 - m)  # first batch index whose vector completes a pattern
        s.sample_count += max(0, n - first)
        i = 0
        while i < n:
            if s.state in (BUFFERING, AUTOTUNING):
                goal = self._tr("buffering_samples") if s.state == BUFFERING else s.tune_end
                take = min(n - i, goal - s.phase_vectors)
                self._buffer(x[i : i + take], np.arange(i, i + take) >= first)
                i += take
                s.phase_vectors += take
                if s.state == BUFFERING and s.phase_vectors >= goal:
                    self._start_autotuning(progress)
                elif s.state == AUTOTUNING and s.phase_vectors >= goal:
                    self._finish_autotuning(progress)
            elif s.state == LEARNING:
                end = n
                if exact_max is not None:
                    end = min(n, i + max(0, self._tr("learning_max_samples") - s.phase_vectors))
                j = self._learn(ext, m, i, end, first, out)
                if self._streaming:
                    self._count_clipped(x[i:j])
                s.phase_vectors += j - i
                i = j
                if (
                    s.state == LEARNING
                    and exact_max is not None
                    and s.phase_vectors >= self._tr("learning_max_samples")
                ):
                    self._graduate(exact_max)
            else:
                self._monitor(ext, m, i, n, first, out)
                if self._streaming:
                    self._count_clipped(x[i:n])
                s.phase_vectors += n - i
                i = n
        keep = w - 1
        s.ctx = (
            ext[max(0, len(ext) - keep) :].copy()
            if keep
            else np.zeros((0, self.config.feature_count))
        )
        return out

    def _count_clipped(self, x: F64) -> None:
        """Add the values of ``x`` outside the feature ranges to ``last_clipped``."""
        if self._scaler is not None and len(x):
            self.last_clipped += self._scaler.outside(x)

    def _buffer(self, x: F64, valid: npt.NDArray[np.bool_]) -> None:
        s = self._s
        need = s.buf_n + len(x)
        if need > len(s.buf):
            cap = max(need, 2 * len(s.buf), 256)
            s.buf = np.resize(s.buf, (cap, self.config.feature_count))
            s.buf_valid = np.resize(s.buf_valid, cap)
        s.buf[s.buf_n : need] = x
        s.buf_valid[s.buf_n : need] = valid
        s.buf_n = need

    def _start_buffering(self) -> None:
        s = self._s
        s.state, s.graduation, s.phase_vectors = BUFFERING, "", 0
        s.buf = s.ctx.copy()
        s.buf_valid = np.zeros(len(s.ctx), dtype=bool)
        s.buf_n = s.buf_ctx = len(s.ctx)
        if self._tr("buffering_samples") == 0:
            self._start_autotuning(None)

    def _autotune_wait(self) -> int:
        """Vectors Autotuning lasts: AUTOTUNE_WAIT per buffered vector while streaming (0 when
        pretraining), never reaching past learningMaxSamples."""
        if not self._streaming:
            return 0
        bs = self._tr("buffering_samples")
        room = max(0, self._tr("learning_max_samples") - bs)
        return min(round(AUTOTUNE_WAIT * bs), room)

    def _start_autotuning(self, progress: Callable[[float], None] | None) -> None:
        """Buffering is over: autotuning tunes on the buffer so far; data keeps being buffered
        (answered with zeros) for _autotune_wait() vectors, then autotuning completes."""
        s = self._s
        s.state, s.tune_n = AUTOTUNING, s.buf_n
        s.tune_end = s.phase_vectors + self._autotune_wait()
        if s.phase_vectors >= s.tune_end:
            self._finish_autotuning(progress)

    def _finish_autotuning(self, progress: Callable[[float], None] | None) -> None:
        """Autotune range and PV on the first buffered vectors, then replay every buffered
        pattern as learning (SI/NS filters start afresh after the replay)."""
        s = self._s
        w = self._window
        data = s.buf[: s.buf_n]
        tuned = data[s.buf_ctx : s.tune_n]
        prev = (s.lo, s.hi) if len(s.lo) else (None, None)
        lo, hi = tune_range(tuned, self.config.features, s.autotune_range, *prev)
        self._set_ranges(lo, hi)
        scaler = self._scaler_or_raise()
        self._count_clipped(data[s.buf_ctx :])  # every buffered vector is replayed
        if self._store.count:  # re-normalise kept templates to the new ranges
            self._store.set_all(scaler.patterns(self._store.raw), self._store.raw)
        view = windows(scaler.vectors(data), w)
        rows = (np.flatnonzero(s.buf_valid[: s.buf_n]) - (w - 1)).astype(np.int64)
        tune_rows = rows[rows + (w - 1) < s.tune_n]
        if self.config.percent_variation is not None:
            s.pv = self.config.percent_variation
        elif s.autotune_pv and len(tune_rows) >= 2:
            s.pv, _ = tune_pv(view, tune_rows, self._store.blocks, progress)
        elif s.pv == 0.0:
            s.pv = DEFAULT_PV
        s.state, s.g0 = LEARNING, s.n_train
        self._tables = None
        if len(rows):
            raw_view = windows(scaler.clip(data), w)
            self._learn_rows(view, rows, raw_view, answers=False)  # the replay answers nothing
        s.ri_hist, s.ni_hist = _i64(an.FIR_TAPS - 1), _i64(an.FIR_TAPS - 1)
        s.buf = np.zeros((0, self.config.feature_count))
        s.buf_valid = np.zeros(0, dtype=bool)
        s.buf_n = s.buf_ctx = s.tune_n = s.tune_end = 0

    # ------------------------------------------------------------------ learning

    def _learn(self, ext: F64, m: int, i: int, end: int, first: int, out: Analytics) -> int:
        """Learn batch vectors [i, end); returns the batch index where learning stopped."""
        s = self._s
        w = self._window
        cap = self._tr("learning_max_clusters")
        if self._store.count >= cap:
            self._graduate("maxClusters")
            return i
        a = max(i, first)
        if a >= end:
            return end
        scaler = self._scaler_or_raise()
        clipped = scaler.clip(ext[m + a - w + 1 : m + end])
        view = windows(scaler.scale_clipped(clipped), w)
        raw_view = windows(clipped, w)
        res = self._learn_rows(view, None, raw_view, answers=self._answers)
        if self._answers:
            for k, v in res.items():
                out[k][a : a + len(v)] = v
        stop = a + len(res["ID"])
        return stop if s.state != LEARNING else end

    def _learn_rows(
        self, view: F64, rows: I64 | None, raw_view: F64, answers: bool = True
    ) -> Analytics:
        """Cluster patterns in learning mode and compute their analytics (sizes grow); without
        ``answers`` only the state is updated and the result holds ``ID`` alone."""
        s = self._s
        cap = self._tr("learning_max_clusters")
        k_before = self._store.count
        res = leader_assign(self._store, view, rows, s.pv, cap, raw_view)
        ids0 = res.index[: res.stop]
        p = len(ids0)
        k_new = self._store.count - k_before
        sizes_before = np.concatenate((s.sizes, _i64(k_new)))
        smax_before = int(s.sizes.max()) if len(s.sizes) else 0
        counts = None if answers or not p else np.bincount(ids0, minlength=len(sizes_before))
        if counts is not None and self._below_top(sizes_before, counts, smax_before):
            # no SI of this run can reach the training top: only RI's history is needed
            taps = an.FIR_TAPS - 1
            sc, smax = an.growth_tail(ids0, sizes_before, counts, smax_before, min(p, taps))
            s.ri_hist = np.concatenate((s.ri_hist, an.learned_ri(sc, smax)))[-taps:]
        else:
            sc, smax, counts = an.cluster_growth(ids0, sizes_before, smax_before)
            ri = an.learned_ri(sc, smax) if p else _i64()
            si, s.ri_hist = an.fir9(ri, s.ri_hist)
            s.si_train += np.bincount(si, minlength=1001).astype(np.int64)
            an.keep_top(s.si_train)
        ids = ids0 + 1
        if answers:
            ns, s.ni_hist = an.fir9(_i64(p), s.ni_hist)
            ntr = s.n_train + np.arange(1, p + 1, dtype=np.int64)
            om, s.om_hist = an.op_mode(ids, s.om_hist)
        else:  # the histories fir9 / op_mode keep: the last inputs (learned ids are all > 0)
            taps = an.FIR_TAPS - 1
            s.ni_hist = np.concatenate((s.ni_hist, _i64(min(p, taps))))[-taps:]
            s.om_hist = np.concatenate((s.om_hist, ids[-an.OM_SPAN :]))[-an.OM_SPAN :]
        s.growth = np.concatenate((s.growth, s.n_train + res.created + 1))
        s.sizes = sizes_before + counts
        s.n_train += p
        self._tables = None
        if not answers:
            if self._store.count >= cap:
                self._graduate("maxClusters")
            return {"ID": ids}
        res_out: Analytics = {
            "ID": ids,
            "RI": ri,
            "SI": si,
            "AD": _i64(p),
            "AH": _i64(p),
            "AW": _i64(p),
            "NI": _i64(p),
            "NS": ns,
            "NW": ns / 500.0,
            "OM": om,
            "CS": np.full(p, 100, dtype=np.int64),
            "PI": an.prob_index(sc, smax, ntr),
        }
        if self._store.count >= cap:
            self._graduate("maxClusters")
        return res_out

    def _below_top(self, sizes_before: I64, counts: I64, smax_before: int) -> bool:
        """Whether every SI of a learned run (``counts`` patterns per cluster) stays below the
        highest training SI so far: an SI is a weighted mean of the last nine RI, and neither
        the eight RI before the run nor any of the run (see learned_ri_bound) gets there."""
        top = an.top_si(self._s.si_train)
        before = int(self._s.ri_hist.max())
        return max(before, an.learned_ri_bound(sizes_before, counts, smax_before)) < top

    def _learning_rate_met(self) -> bool:
        s = self._s
        num, den = self._tr("learning_rate_numerator"), self._tr("learning_rate_denominator")
        if num == 0 or den == 0 or s.n_train - s.g0 < den:
            return False
        recent = len(s.growth) - int(np.searchsorted(s.growth, s.n_train - den, side="right"))
        return recent < num

    def _check_graduation(self, reason: str | None) -> None:
        """End-of-request check; ``reason`` overrides the recorded reason (pretrain)."""
        s = self._s
        why = ""
        if s.phase_vectors >= self._tr("learning_max_samples"):
            why = "maxSamples"
        elif self._store.count >= self._tr("learning_max_clusters"):
            why = "maxClusters"
        elif self._learning_rate_met():
            why = "learningRate"
        if why:
            self._graduate(reason or why)

    def _graduate(self, reason: str) -> None:
        """Freeze clusters; fix the anomaly threshold, lambda and warning levels."""
        s = self._s
        s.state, s.graduation = MONITORING, reason
        s.threshold = self._provisional_thr()
        hits = int(s.si_train[s.threshold :].sum())
        s.n_grad = s.n_train
        hw = self._tr("history_window")
        s.lam = max(hits, 1) * hw / (10.0 * max(s.n_train, 1))
        s.k1 = an.poisson_level(s.lam, an.AW1_P)
        s.k2 = max(s.k1, an.poisson_level(s.lam, an.AW2_P))
        s.ad_hist, s.ad_pos = _i64(hw), 0
        s.ah = s.last_ad = s.last_aw = 0
        s.last_cs = 100
        self._tables = None

    # ------------------------------------------------------------------ monitoring

    def _monitor(self, ext: F64, m: int, i: int, end: int, first: int, out: Analytics) -> None:
        s = self._s
        w = self._window
        a = max(i, first)
        if a >= end:
            return
        scaler = self._scaler_or_raise()
        clipped = scaler.clip(ext[m + a - w + 1 : m + end])
        view = windows(scaler.scale_clipped(clipped), w)
        p = len(view)
        if p <= an.SMALL_BATCH and self._answers:
            idx, dist = nearest(np.ascontiguousarray(view), self._store, s.pv)
            self._monitor_small(idx, dist, clipped, a, end, out)
            return
        if not self._answers:
            idx, matched = match_rows(view, self._store, s.pv)
            self._monitor_state(idx, matched, view, clipped)
            return
        step = chunk_rows(self._store.count, self._store.length)
        idx = np.empty(p, dtype=np.int64)
        dist = np.empty(p)
        for c0 in range(0, p, step):
            zc = np.ascontiguousarray(view[c0 : c0 + step])
            idx[c0 : c0 + len(zc)], dist[c0 : c0 + len(zc)] = nearest(zc, self._store, s.pv)
        matched = dist <= s.pv
        unmatched = np.flatnonzero(~matched)
        ids = np.where(matched, idx + 1, 0).astype(np.int64)
        ids[unmatched] = -(s.ghost_next + 1 + np.arange(len(unmatched), dtype=np.int64))
        if len(unmatched):
            self._add_ghosts(ids, unmatched, clipped)
        ri_t, pi_t = self._lookup_tables()
        safe = np.maximum(idx, 0)
        has = idx >= 0
        ri_near = np.where(has, ri_t[safe] if len(ri_t) else 0, 1000).astype(np.int64)
        ri = np.where(matched, ri_near, 1000).astype(np.int64)
        pi = np.where(matched, pi_t[safe] if len(pi_t) else 0, 1000).astype(np.int64)
        ni = np.where(matched, 0, an.novelty_index(dist, s.pv, ri_near)).astype(np.int64)
        si, s.ri_hist = an.fir9(ri, s.ri_hist)
        ns, s.ni_hist = an.fir9(ni, s.ni_hist)
        ad = (si >= s.threshold).astype(np.int64)
        reset = s.last_aw == 2 and s.last_ad == 0
        ah, s.ad_hist = an.anomaly_history(
            ad, an.oldest_first(s.ad_hist, s.ad_pos), s.ah, reset, s.k2
        )
        s.ad_pos = 0
        aw = an.warning_level(ah, s.k1, s.k2)
        cs = an.compliance(ah, s.k2)
        om, s.om_hist = an.op_mode(ids, s.om_hist)
        s.ah, s.last_ad, s.last_aw, s.last_cs = int(ah[-1]), int(ad[-1]), int(aw[-1]), int(cs[-1])
        res: Analytics = {
            "ID": ids, "RI": ri, "SI": si, "AD": ad, "AH": ah, "AW": aw, "NI": ni,
            "NS": ns, "NW": ns / 500.0, "OM": om, "CS": cs, "PI": pi,
        }  # fmt: skip
        for k, v in res.items():
            out[k][a:end] = v

    def _monitor_small(
        self, idx: I64, dist: F64, clipped: F64, a: int, end: int, out: Analytics
    ) -> None:
        """The analytics of ``_monitor`` for up to ``an.SMALL_BATCH`` patterns, in plain Python
        (numpy's per-call cost dominates there): the same integer and float operations in the
        same order, so the results are identical (test_engine_streaming)."""
        s = self._s
        pv = s.pv
        ri_t, pi_t = self._lookup_tables()
        ri_list, pi_list = ri_t.tolist(), pi_t.tolist()
        ids: list[int] = []
        ri: list[int] = []
        pi: list[int] = []
        ni: list[int] = []
        unmatched: list[int] = []
        for j, (c, d) in enumerate(zip(idx.tolist(), dist.tolist(), strict=True)):
            near = (ri_list[c] if ri_list else 0) if c >= 0 else 1000
            if d <= pv:
                ids.append(c + 1)
                ri.append(near)
                pi.append(pi_list[c] if pi_list else 0)
                ni.append(0)
            else:
                unmatched.append(j)
                ids.append(-(s.ghost_next + len(unmatched)))
                ri.append(1000)
                pi.append(1000)
                ni.append(an.novelty_one(d, pv, near))
        id_arr = np.array(ids, dtype=np.int64)
        if unmatched:
            self._add_ghosts(id_arr, np.array(unmatched, dtype=np.int64), clipped)
        si, s.ri_hist = an.fir9_small(ri, s.ri_hist)
        ns, s.ni_hist = an.fir9_small(ni, s.ni_hist)
        thr, k1, k2 = s.threshold, s.k1, s.k2
        ad = [1 if v >= thr else 0 for v in si]
        reset = s.last_aw == 2 and s.last_ad == 0
        ah, s.ad_hist, s.ad_pos = an.anomaly_history_ring(ad, s.ad_hist, s.ad_pos, s.ah, reset, k2)
        aw = [2 if v >= k2 else 1 if v >= k1 else 0 for v in ah]
        cs = [an.compliance_one(v, k2) for v in ah]
        om, s.om_hist = an.op_mode(id_arr, s.om_hist)
        s.ah, s.last_ad, s.last_aw, s.last_cs = ah[-1], ad[-1], aw[-1], cs[-1]
        res: dict[str, Any] = {
            "ID": id_arr, "RI": ri, "SI": si, "AD": ad, "AH": ah, "AW": aw, "NI": ni,
            "NS": ns, "NW": [v / 500.0 for v in ns], "OM": om, "CS": cs, "PI": pi,
        }  # fmt: skip
        for k, v in res.items():
            out[k][a:end] = v

    def _monitor_state(
        self, idx: I64, matched: npt.NDArray[np.bool_], view: F64, clipped: F64
    ) -> None:
        """The state changes of ``_monitor`` without its answers (pretraining), from each
        pattern's match (``match_rows``): the same ghosts, histories, AH and last values, but
        SI, OM, NI, AW and CS only where the state keeps them (test_engine_pretrain_feed
        compares the two paths)."""
        s = self._s
        taps = an.FIR_TAPS - 1
        unmatched = np.flatnonzero(~matched)
        if len(unmatched):
            ids = _i64(len(idx))
            ids[unmatched] = -(s.ghost_next + 1 + np.arange(len(unmatched), dtype=np.int64))
            self._add_ghosts(ids, unmatched, clipped)
        ri_t, _ = self._lookup_tables()
        ri = np.where(matched, ri_t[idx] if len(ri_t) else 0, 1000).astype(np.int64)
        if max(int(ri.max()), int(s.ri_hist.max(initial=0))) < s.threshold:
            # SI is a weighted mean of the last 9 RI: below the threshold, AD is 0 throughout
            ad = _i64(len(ri))
            s.ri_hist = np.concatenate((s.ri_hist, ri[-taps:]))[-taps:]
        else:
            si, s.ri_hist = an.fir9(ri, s.ri_hist)
            ad = (si >= s.threshold).astype(np.int64)
        tail = slice(max(0, len(ri) - taps), None)  # NS keeps the last 8 NI values
        t_idx, t_dist = nearest(np.ascontiguousarray(view[tail]), self._store, s.pv)
        t_near = np.where(t_idx >= 0, ri_t[np.maximum(t_idx, 0)] if len(ri_t) else 0, 1000)
        ni_tail = np.where(
            matched[tail], 0, an.novelty_index(t_dist, s.pv, t_near.astype(np.int64))
        ).astype(np.int64)
        s.ni_hist = np.concatenate((s.ni_hist, ni_tail))[-taps:]
        reset = s.last_aw == 2 and s.last_ad == 0
        ah, s.ad_hist = an.anomaly_history(
            ad, an.oldest_first(s.ad_hist, s.ad_pos), s.ah, reset, s.k2
        )
        s.ad_pos = 0
        positive = idx[np.flatnonzero(matched)[-an.OM_SPAN :]] + 1  # OM keeps the last 15 ids
        s.om_hist = np.concatenate((s.om_hist, positive))[-an.OM_SPAN :]
        last = ah[-1:]
        s.ah, s.last_ad = int(ah[-1]), int(ad[-1])
        s.last_aw = int(an.warning_level(last, s.k1, s.k2)[0])
        s.last_cs = int(an.compliance(last, s.k2)[0])

    def _ghost_cap(self) -> int:
        """How many unmatched Monitoring patterns are kept for root cause."""
        return max(MIN_GHOSTS, MAX_GHOST_VALUES // max(1, self.config.pattern_length))

    def _add_ghosts(self, ids: I64, unmatched: I64, clipped: F64) -> None:
        """Keep the patterns ``unmatched`` (rows of this segment's windows) in the ghost ring:
        ghost -g lives in slot (g - 1) % cap; the ring grows by doubling up to cap, so a post
        costs what it adds, not what is kept."""
        s = self._s
        cap = self._ghost_cap()
        tail = unmatched[-cap:]  # older ones would be overwritten within this call
        raw = windows(clipped, self._window)[tail]
        s.ghost_next += len(unmatched)
        need = min(s.ghost_next, cap)
        if need > len(s.ghost_ids):
            rows = min(cap, max(need, 2 * len(s.ghost_ids), 64))
            grown_ids, grown_raw = _i64(rows), np.zeros((rows, self.config.pattern_length))
            grown_ids[: len(s.ghost_ids)] = s.ghost_ids
            grown_raw[: len(s.ghost_raw)] = s.ghost_raw
            s.ghost_ids, s.ghost_raw = grown_ids, grown_raw
        slots = (-ids[tail] - 1) % cap
        s.ghost_ids[slots] = ids[tail]
        s.ghost_raw[slots] = raw

    def _place_ghosts(self) -> None:
        """Put restored ghosts in their ring slots (snapshots of older versions kept them in
        arrival order, possibly more than the cap)."""
        s = self._s
        cap = self._ghost_cap()
        n = min(s.ghost_next, cap)
        ids, raw = s.ghost_ids, s.ghost_raw
        order = np.argsort(-ids, kind="stable")  # oldest (smallest g) first: newer overwrite
        new_ids, new_raw = _i64(n), np.zeros((n, self.config.pattern_length))
        keep = order[(ids[order] < 0) & (-ids[order] > s.ghost_next - n)]
        slots = (-ids[keep] - 1) % cap
        new_ids[slots] = ids[keep]
        new_raw[slots] = raw[keep]
        s.ghost_ids, s.ghost_raw = new_ids, new_raw

    # ------------------------------------------------------------------ control

    def outage(self) -> None:
        """Clear the streaming window only; the next window-1 vectors make no pattern."""
        self._s.ctx = np.zeros((0, self.config.feature_count))

    def set_learning(
        self,
        state: str | None = None,
        training: TrainingConfig | None = None,
        autotune_range: bool | None = None,
        autotune_pv: bool | None = None,
    ) -> None:
        """postLearning: 'Learning' re-enables learning (clusters, range and PV kept, graduation
        counters restarted); 'Buffering' re-buffers and re-autotunes on new data (configuration
        and clusters kept). ``state`` None means 'Learning'. Raises StateError unless the model
        is Learning or Monitoring, ConfigError on bad fields (model unchanged)."""
        s = self._s
        if s.state not in (LEARNING, MONITORING):
            raise StateError(
                f"learning can only be changed in Learning or Monitoring (model is {s.state})"
            )
        target = LEARNING if state is None else state
        if target not in (LEARNING, BUFFERING):
            raise ConfigError("state", f"must be 'Learning' or 'Buffering', got {state!r}")
        new_training = s.training if training is None else s.training.merged(training)
        auto_range = s.autotune_range if autotune_range is None else autotune_range
        auto_pv = s.autotune_pv if autotune_pv is None else autotune_pv
        if (
            target == BUFFERING
            and auto_range
            and self.config.range_to_tune()
            and new_training.get("buffering_samples") < 1
        ):
            raise ConfigError(
                "training.buffering_samples", "must be at least 1 when the range is autotuned"
            )
        s.training, s.autotune_range, s.autotune_pv = new_training, auto_range, auto_pv
        if target == BUFFERING:
            self._start_buffering()
        else:
            s.state, s.graduation, s.phase_vectors, s.g0 = LEARNING, "", 0, s.n_train
            s.ah = s.last_ad = s.last_aw = 0
            s.last_cs = 100

    def pretrain(
        self,
        values: npt.NDArray[Any] | Sequence[float],
        progress: Callable[[float], None] | None = None,
        target_state: str = "Monitoring",
    ) -> None:
        """Restart from the configuration and run ``values`` through Buffering, Autotuning and
        Learning. With ``target_state`` "Monitoring" (the service's behaviour) it ends in
        Monitoring (graduation 'pretrain') unless configured counts exceed the data; with
        "Learning" it stays in Learning, and the graduation rules are next checked at the end
        of the next streamed request. (:class:`PretrainFeed` does the same with the data
        arriving in pieces.)
        InputError on bad data or an unknown target (model unchanged)."""
        feed = PretrainFeed(self.config, target_state, progress)
        x = as_vectors(values, self.config.feature_count)
        if len(x) == 0:
            raise InputError("pretraining needs at least one vector of data")
        feed.add(x, last=True)
        self.adopt(feed.result())

    def adopt(self, other: AmberModel) -> None:
        """Take over the state of ``other`` (a model of the same configuration)."""
        self._s, self._store, self._scaler, self._tables = (
            other._s,
            other._store,
            other._scaler,
            None,
        )

    # ------------------------------------------------------------------ fusion

    def put_fusion(
        self,
        vector: Sequence[tuple[str, float] | Mapping[str, Any]],
        rule: str = "default",
        now: float | None = None,
    ) -> tuple[dict[str, float | None], Analytics | None]:
        """Fusion PUT: update named features; inference the fused vector when complete and the
        rule says submit. Returns (current vector, analytics or None)."""
        s = self._s
        names = self.config.feature_names
        upd = fu.parse_update(vector, names, rule)
        t = time.time() if now is None else float(now)
        for i, v in upd.items():
            s.fus_val[i], s.fus_time[i] = v, t
        live = fu.live_mask(s.fus_time, self.config.features, t)
        current: dict[str, float | None] = {
            n: float(s.fus_val[i]) if live[i] else None for i, n in enumerate(names)
        }
        if not live.all() or not fu.wants_submit(rule, list(upd), self.config.features):
            return current, None
        return current, self.process_array(s.fus_val.copy())

    # ------------------------------------------------------------------ root cause

    def root_cause(
        self,
        clusters: Sequence[int] | None = None,
        vectors: Sequence[Sequence[float]] | None = None,
    ) -> F64:
        """Per-feature root cause (0..1) for each requested cluster id or pattern: an array
        (requested items, features), columns in configuration order."""
        if clusters is None and vectors is None:
            raise InputError(MSG_NEITHER)
        if clusters is not None and vectors is not None:
            raise InputError(MSG_BOTH)
        nf, length = self.config.feature_count, self.config.pattern_length
        items: list[tuple[F64, int]] = []  # (raw pattern, own template index or -1)
        if clusters is not None:
            if isinstance(clusters, str | bytes) or not isinstance(clusters, Sequence):
                raise InputError("clusters must be a list of cluster ids, e.g. [1,2,3]")
            for pos, cid in enumerate(clusters):
                if isinstance(cid, bool) or not isinstance(cid, int | np.integer):
                    raise InputError(f"clusters[{pos}] must be an integer cluster id, got {cid!r}")
                items.append(self._cluster_pattern(int(cid)))
        else:
            assert vectors is not None
            if isinstance(vectors, str | bytes) or not isinstance(vectors, Sequence):
                raise InputError("vectors must be a list of patterns, e.g. [[0.1,0.2],[0.3,0.4]]")
            for pos, vec in enumerate(vectors):
                try:
                    arr = np.asarray(vec, dtype=np.float64)
                except (TypeError, ValueError):
                    raise InputError(f"vectors[{pos}] must be a list of numbers") from None
                if arr.ndim != 1 or arr.size != length:
                    raise InputError(
                        f"vectors[{pos}] must hold {length} values (featureCount {nf} x "
                        f"streamingWindow {self._window}), got {arr.size}"
                    )
                if not np.isfinite(arr).all():
                    raise InputError(f"vectors[{pos}] holds a value that is not a finite number")
                if (np.abs(arr) > MAX_ABS_VALUE).any():
                    raise InputError(f"vectors[{pos}] holds a value {OUT_OF_RANGE}")
                items.append((arr, -1))
        if not items:
            return np.zeros((0, nf))
        scaler = self._scaler_or_raise()
        result = np.zeros((len(items), nf))
        for row, (raw, own) in enumerate(items):
            z = scaler.patterns(raw[None, :])[0]
            result[row] = root_cause(z, self._store.z, own, nf)
        return result

    def _cluster_pattern(self, cid: int) -> tuple[F64, int]:
        s = self._s
        if 1 <= cid <= self._store.count:
            return self._store.raw[cid - 1], cid - 1
        if 0 < -cid <= s.ghost_next:
            cap = self._ghost_cap()
            slot = (-cid - 1) % cap
            if slot < len(s.ghost_ids) and s.ghost_ids[slot] == cid:
                return s.ghost_raw[slot], -1
            newest = -s.ghost_next
            oldest = -max(1, s.ghost_next - cap + 1)
            raise InputError(
                f"cluster id {cid} is an unmatched pattern that is no longer kept: root cause "
                f"keeps the newest {cap} (ids {oldest} to {newest})"
            )
        raise InputError(f"unknown cluster id {cid}")

    # ------------------------------------------------------------------ reporting

    def _progress(self) -> int:
        s = self._s
        if s.state == MONITORING:
            return 100
        if s.state == BUFFERING:
            bs = self._tr("buffering_samples")
            return min(99, 100 * s.phase_vectors // bs) if bs else 0
        if s.state == AUTOTUNING:
            bs, wait = self._tr("buffering_samples"), s.tune_end - self._tr("buffering_samples")
            return min(99, 100 * (s.phase_vectors - bs) // wait) if wait > 0 else 0
        parts = [s.phase_vectors / max(1, self._tr("learning_max_samples"))]
        parts.append(self._store.count / max(1, self._tr("learning_max_clusters")))
        den = self._tr("learning_rate_denominator")
        if den and self._tr("learning_rate_numerator"):
            parts.append((s.n_train - s.g0) / den)
        return min(99, math.floor(100 * max(parts)))

    @property
    def state(self) -> str:
        """Buffering, Autotuning, Learning or Monitoring."""
        return self._s.state

    @property
    def template_values(self) -> int:
        """Values held by the cluster templates (clusters x pattern length): what matching
        one pattern against them costs."""
        return self._store.count * self._store.length

    def status(self) -> EngineStatus:
        """Where the model is (the server adds lastModified/lastModifiedDelta)."""
        s = self._s
        if s.state == BUFFERING:
            msg = f"Buffering: {s.phase_vectors} of {self._tr('buffering_samples')} samples"
        elif s.state == LEARNING:
            msg = (
                f"Learning: {self._store.count} clusters from {s.n_train - s.g0} patterns "
                f"since learning began"
            )
        elif s.state == MONITORING:
            msg = f"Monitoring (learning ended: {s.graduation})"
        else:
            bs = self._tr("buffering_samples")
            msg = f"Autotuning: {s.phase_vectors - bs} of {s.tune_end - bs} samples"
        return EngineStatus(
            state=s.state,
            warning_level=s.last_aw,
            compliance_score=s.last_cs,
            sample_count=s.sample_count,
            cluster_count=self._store.count,
            progress=self._progress(),
            message=msg,
            graduation=s.graduation,
        )

    def config_in_force(self) -> ConfigInForce:
        """The configuration with resolved ranges, percent variation and training."""
        s = self._s
        feats = self.config.features
        if len(s.lo):
            lo, hi = s.lo.copy(), s.hi.copy()
        else:
            lo = np.array([0.0 if f.min_val is None else f.min_val for f in feats])
            hi = np.array([0.0 if f.max_val is None else f.max_val for f in feats])
        return ConfigInForce(
            config=self.config,
            min_vals=lo,
            max_vals=hi,
            percent_variation=float(s.pv or (self.config.percent_variation or DEFAULT_PV)),
            training=s.training.resolved(),
            autotune_range=s.autotune_range,
            autotune_pv=s.autotune_pv,
        )

    def nano_status(self) -> NanoStatus:
        """Per-cluster internals; index 0 is the 'no cluster' slot (unmatched Monitoring patterns)."""
        s = self._s
        k = self._store.count
        sizes = s.sizes
        smax = int(sizes.max()) if k else 0
        ri = an.raw_index(sizes, np.full(k, smax, dtype=np.int64)) if k else _i64()
        freq = sizes / sizes.mean() * 1000.0 if k else np.zeros(0)
        z = self._store.z
        if k:
            dmean = np.abs(z - z.mean(axis=0)).sum(axis=1)
            top = float(dmean.max())
            dist = dmean / top * 1000.0 if top > 0 else np.zeros(k)
        else:
            dist = np.zeros(0)
        return NanoStatus(
            pca=np.concatenate((np.zeros((1, 2)), _pca2(z))),
            cluster_growth=np.concatenate((_i64(1), s.growth)),
            cluster_sizes=np.concatenate((np.array([s.ghost_next], dtype=np.int64), sizes)),
            anomaly_indexes=np.concatenate((np.array([1000], dtype=np.int64), ri)),
            frequency_indexes=np.concatenate((np.zeros(1), freq)),
            distance_indexes=np.concatenate((np.zeros(1), dist)),
            sample_count=s.sample_count,
            cluster_count=k,
            anomaly_threshold=s.threshold if s.state == MONITORING else self._provisional_thr(),
            state=s.state,
        )

    def _provisional_thr(self) -> int:
        """The anomaly threshold graduation would fix now: the highest training SI, at least
        the RI of a 2-pattern cluster, within 1..1000."""
        s = self._s
        smax = int(s.sizes.max()) if len(s.sizes) else 0
        ri2 = an.ri_of_size(2, smax) if smax >= 2 else 1000
        return max(1, min(1000, max(an.top_si(s.si_train), ri2)))

    def summary(self) -> EngineSummary:
        """A description of the engine internals."""
        s = self._s
        return EngineSummary(
            state=s.state,
            graduation=s.graduation,
            feature_count=self.config.feature_count,
            streaming_window=self._window,
            pattern_length=self.config.pattern_length,
            percent_variation=s.pv or None,
            feature_names=tuple(self.config.feature_names),
            min_vals=s.lo.copy(),
            max_vals=s.hi.copy(),
            sample_count=s.sample_count,
            training_patterns=s.n_train,
            phase_vectors=s.phase_vectors,
            buffered_vectors=s.buf_n - s.buf_ctx,
            cluster_count=self._store.count,
            largest_cluster=int(s.sizes.max()) if len(s.sizes) else 0,
            unmatched_patterns=s.ghost_next,
            ghosts_kept=int(np.count_nonzero(s.ghost_ids)),
            anomaly_threshold=s.threshold,
            lam=s.lam,
            warning_levels=(s.k1, s.k2),
            anomaly_history=s.ah,
            training=s.training.resolved(),
            autotune_range=s.autotune_range,
            autotune_pv=s.autotune_pv,
        )

    # ------------------------------------------------------------------ snapshot

    def to_bytes(self) -> bytes:
        """The whole model state in a versioned, pickle-free format."""
        s = self._s
        header: dict[str, Any] = {"config": self.config.to_dict()}
        arrays: dict[str, npt.NDArray[Any]] = {
            "templates": self._store.z,
            "templates_raw": self._store.raw,
        }
        scalars: dict[str, Any] = {}
        for f in fields(s):
            v = getattr(s, f.name)
            if isinstance(v, np.ndarray):
                if f.name in ("buf", "buf_valid"):
                    v = v[: s.buf_n]
                elif f.name in ("ghost_ids", "ghost_raw"):
                    v = v[: min(s.ghost_next, self._ghost_cap())]
                elif f.name == "ad_hist":
                    v = an.oldest_first(v, s.ad_pos)
                arrays[f.name] = v
            elif f.name == "ad_pos":
                scalars[f.name] = 0  # ad_hist is stored oldest first
            elif isinstance(v, TrainingConfig):
                scalars[f.name] = v.to_dict()
            else:
                scalars[f.name] = v
        header["state"] = scalars
        return encode(header, arrays)

    @classmethod
    def from_bytes(cls, data: bytes) -> AmberModel:
        """Restore a model saved by :meth:`to_bytes`; EngineError on corrupt/unknown data."""
        header, arrays = decode(data)
        try:
            cfg = EngineConfig.from_dict(header["config"])
            model = cls.__new__(cls)
            model.config = cfg
            sc = dict(header["state"])
            kw: dict[str, Any] = {}
            for f in fields(_State):
                if f.name in sc:
                    v = sc[f.name]
                    kw[f.name] = TrainingConfig(**v) if f.name == "training" else v
                elif f.name in arrays:
                    kw[f.name] = np.array(arrays[f.name])
                # else: a field newer than the snapshot keeps its default
            model._s = _State(**kw)
            store = TemplateStore(
                Blocks(cfg.feature_count, cfg.streaming_window), cfg.pattern_length
            )
            store.set_all(np.array(arrays["templates"]), np.array(arrays["templates_raw"]))
            model._store = store
            model._scaler = None
            model._tables = None
            model.last_clipped = 0
            model._streaming = model._answers = True
            if len(model._s.lo):
                model._set_ranges(model._s.lo, model._s.hi)
            model._place_ghosts()
        except EngineError:
            raise
        except Exception as exc:
            raise EngineError(f"corrupt engine snapshot: {exc!r}") from None
        return model


def _pca2(z: F64) -> F64:
    """2-D PCA coordinates of the rows of ``z`` (deterministic signs)."""
    k = len(z)
    if k == 0:
        return np.zeros((0, 2))
    c = z - z.mean(axis=0)
    if k < 2 or not np.any(c):
        return np.zeros((k, 2))
    u, sv, _vt = np.linalg.svd(c, full_matrices=False)
    out = np.zeros((k, 2))
    r = min(2, len(sv))
    for j in range(r):
        col = u[:, j] * sv[j]
        if col[int(np.argmax(np.abs(col)))] < 0:
            col = -col
        out[:, j] = col
    return out


class PretrainFeed:
    """A pretraining whose data arrives in pieces: the same result as
    :meth:`AmberModel.pretrain` of all the pieces at once, with the work done as they come.

    Pretraining runs the data in blocks of ``PRETRAIN_CHUNK`` vectors; a block is run as soon
    as its vectors are in and the total (still unknown) cannot change how it runs: when
    bufferingSamples / learningMaxSamples are not configured, pretraining uses
    min(default, total), so blocks wait until the default bufferingSamples is reached, and the
    end of the data (where a total below learningMaxSamples graduates) is only handled by the
    ``last`` piece. ``progress(fraction)`` is called per block (0 until the total is known).
    """

    def __init__(
        self,
        config: EngineConfig,
        target_state: str = "Monitoring",
        progress: Callable[[float], None] | None = None,
    ) -> None:
        """Raises InputError for an unknown ``target_state``."""
        if target_state not in ("Learning", "Monitoring"):
            raise InputError(
                f"target_state must be 'Learning' or 'Monitoring', got {target_state!r}"
            )
        self._monitoring = target_state == "Monitoring"
        self._progress = progress
        self._model = AmberModel(config)
        self._model._streaming = self._model._answers = False
        tr = config.training
        # blocks before the total is known wait for this many vectors (see the class doc)
        self._early = tr.get("buffering_samples") if tr.buffering_samples is None else 0
        self._pending: list[F64] = []
        self._received = 0  # vectors added
        self._done = 0  # vectors run
        self._total: int | None = None
        if progress is not None:
            progress(0.0)

    @property
    def received(self) -> int:
        """Vectors added so far."""
        return self._received

    def add(self, vectors: F64, last: bool = False) -> None:
        """Add the next validated vectors (an (n, featureCount) array, see ``as_vectors``) and
        run the blocks they complete; ``last`` when no more follow (the data then holds at
        least one vector)."""
        if self._total is not None:
            raise StateError("pretraining data was already complete")
        if len(vectors):
            self._pending.append(vectors)
            self._received += len(vectors)
        if last:
            self._total = n = self._received
            if n == 0:
                raise InputError("pretraining needs at least one vector of data")
            tr = self._model.config.training
            over: dict[str, int] = {}
            if tr.buffering_samples is None:
                over["buffering_samples"] = min(tr.get("buffering_samples"), n)
            if tr.learning_max_samples is None and self._monitoring:
                over["learning_max_samples"] = min(tr.get("learning_max_samples"), n)
            self._model._s.training = tr.merged(TrainingConfig(**over)) if over else tr
        self._run()

    def result(self) -> AmberModel:
        """The pretrained model (after the ``last`` piece), ready to stream."""
        if self._total is None:
            raise StateError("pretraining data is not complete yet")
        self._model._streaming = self._model._answers = True
        return self._model

    def _take(self, n: int) -> F64:
        """The next ``n`` pending vectors."""
        parts: list[F64] = []
        while n:
            head = self._pending[0]
            if len(head) <= n:
                parts.append(self._pending.pop(0))
                n -= len(head)
            else:
                parts.append(head[:n])
                self._pending[0] = head[n:]
                n = 0
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    def _run(self) -> None:
        model, total, progress = self._model, self._total, self._progress
        while True:
            left = self._received - self._done
            if total is None and (left < PRETRAIN_CHUNK or self._received < self._early):
                break
            if left == 0:
                break
            c0, chunk = self._done, self._take(min(PRETRAIN_CHUNK, left))
            sub = None
            if progress is not None and total is not None:
                base, span = c0 / total, len(chunk) / total

                def sub(f: float, base: float = base, span: float = span) -> None:
                    progress(min(1.0, base + span * f))

            model._ingest(chunk, sub, exact_max="pretrain" if self._monitoring else None)
            self._done += len(chunk)
            if progress is not None:
                progress(0.0 if total is None else min(1.0, self._done / total))
        if total is not None:
            if model._s.state == LEARNING and self._monitoring:
                model._check_graduation("pretrain")
            if progress is not None:
                progress(1.0)
