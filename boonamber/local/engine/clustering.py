"""Nearest-template clustering on scaled patterns (L1 distance, exact, vectorised).

Patterns are *scaled* so that the engine distance is a plain L1 norm: position j of a pattern
holds ``(clip(x) - min_f) * w_f / (sum(w) * range_f * window)``.

Exact L1 distances are only computed for a few candidates per pattern. Two lower bounds of the
L1 distance prune the rest:

* the L2 distance (``|v|_1 >= |v|_2``): one matrix product for all pattern/template pairs;
* the triangle inequality ``d(z, t) >= d(t, t0) - d(z, t0)`` through the pattern's best template
  so far t0, with template-to-template distances kept up to date (for up to a few thousand
  templates): decisive for wide patterns, where the L2 bound is weak;
* the L1 distance of block sums over consecutive lags of a feature (``|v|_1 >= sum_blocks
  |sum v|``), tight for smooth signals.

The last two are checked only for the pairs the first lets through.

A template can only be nearer than the best known one if both bounds allow it, so the result is
identical to a brute-force search whatever the chunking (every exact distance goes through
:func:`l1`).

Length-1 patterns (one feature, window 1) have their own exact paths: the nearest template on
the sorted template values (:func:`_nearest_on_line`, settled per bucket by :class:`LineTable`
for long runs) and a counting-only leader for autotuning (:class:`LineCounter`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

# Slack on the lower bounds: covers rounding in the bound formulas.
_ABS_SLACK = 1e-11
_REL_SLACK = 1e-9
_MAX_CELLS = 1 << 21  # chunk rows x templates (or x pattern length) held at once
_INITIAL_VALUES = 1 << 16  # values of the first template allocation (grown by doubling)
MIN_CHUNK, MAX_CHUNK = 64, 8192
BRUTE_CELLS = 1 << 15  # rows x templates x length up to which nearest() skips the bounds
PIVOT_MAX = 2048  # template-to-template distances are kept up to this many templates...
PIVOT_WORK = 2e9  # ... and while count^2 * pattern length stays below this


def l1(a: F64, b: F64) -> F64:
    """Row-wise L1 distance; the one place exact distances are computed (bit-stable)."""
    out: F64 = np.abs(a - b).sum(axis=-1)
    return out


def pair_l1(a: F64, b: F64, r: I64, c: I64) -> F64:
    """``l1(a[r], b[c])``, gathered in slices so at most ~_MAX_CELLS values are held at once."""
    step = max(1, _MAX_CELLS // max(1, a.shape[1]))
    if r.size <= step:
        return l1(a[r], b[c])
    out = np.empty(r.size)
    for i in range(0, r.size, step):
        out[i : i + step] = l1(a[r[i : i + step]], b[c[i : i + step]])
    return out


def sqnorm(a: F64) -> F64:
    """Row-wise squared L2 norm."""
    out: F64 = np.einsum("ij,ij->i", a, a)
    return out


class Blocks:
    """Block sums of ~sqrt(window) consecutive lags per feature (none when window < 4).

    Computed by a reduction over lags, so the memory is that of the sums (not a dense
    (window x features)^2 matrix)."""

    def __init__(self, feature_count: int, window: int) -> None:
        b = round(math.sqrt(window))
        self.feature_count = feature_count
        self.window = window
        self.starts: I64 | None = None
        if b >= 2:
            self.starts = np.arange(0, window, b, dtype=np.int64)

    @property
    def width(self) -> int:
        """Number of block sums per pattern (0 when unused)."""
        return 0 if self.starts is None else len(self.starts) * self.feature_count

    def sums(self, z: F64) -> F64:
        """Block sums of rows ``z`` (shape (m, width))."""
        if self.starts is None:
            return np.zeros((len(z), 0))
        lags = z.reshape(len(z), self.window, self.feature_count)
        out: F64 = np.add.reduceat(lags, self.starts, axis=1).reshape(len(z), -1)
        return out


class TemplateStore:
    """Growable array of scaled templates, their bound data and (optionally) raw patterns."""

    def __init__(self, blocks: Blocks, length: int, keep_raw: bool = True) -> None:
        self.blocks = blocks
        self.length = length
        self.keep_raw = keep_raw
        self.pivot_max = int(min(PIVOT_MAX, math.sqrt(PIVOT_WORK / max(1, length))))
        self.count = 0
        self._line: tuple[int, F64, I64] | None = None  # (count, values, indices): see line()
        self._line_table: tuple[tuple[int, float], LineTable] | None = None  # see line_table()
        self._alloc(max(1, min(64, _INITIAL_VALUES // max(1, length))))

    def _alloc(self, cap: int) -> None:
        self._z = np.zeros((cap, self.length))
        self._zm2 = np.zeros((cap, self.length))  # -2 z (for the L2 bound product)
        self._zn = np.zeros(cap)  # |z|^2
        self._bs = np.zeros((cap, self.blocks.width))  # block sums
        self._raw = np.zeros((cap, self.length if self.keep_raw else 0))
        tcap = min(cap, self.pivot_max)
        self._td = np.zeros((tcap, tcap))  # template-to-template L1 distances
        self._line = self._line_table = None

    @property
    def pivots(self) -> bool:
        """True while template-to-template distances are available."""
        return self.count <= self.pivot_max

    @property
    def z(self) -> F64:
        """Scaled templates, shape (count, length)."""
        return self._z[: self.count]

    @property
    def raw(self) -> F64:
        """Raw (clipped) templates, shape (count, length); empty columns if not kept."""
        return self._raw[: self.count]

    def line(self) -> tuple[F64, I64]:
        """Length-1 templates as a line: the distinct values ascending and, for each, the
        lowest template index holding it (cached until the templates change)."""
        if self._line is None or self._line[0] != self.count:
            values, first = np.unique(self._z[: self.count, 0], return_index=True)
            self._line = (self.count, values, first.astype(np.int64))
        return self._line[1], self._line[2]

    def line_table(self, pv: float) -> LineTable:
        """The :class:`LineTable` of the length-1 templates at ``pv`` (cached until the
        templates change)."""
        key = (self.count, pv)
        if self._line_table is None or self._line_table[0] != key:
            values, first = self.line()
            table = LineTable(values, first, pv, line_buckets(len(values)))
            self._line_table = (key, table)
        return self._line_table[1]

    def add(self, z: F64, raw: F64 | None = None) -> int:
        """Append one template; returns its 0-based index."""
        k = self.count
        if k == len(self._zn):
            old = (self._z, self._zm2, self._zn, self._bs, self._raw)
            old_td = self._td
            self._alloc(2 * k)
            for new, prev in zip(
                (self._z, self._zm2, self._zn, self._bs, self._raw), old, strict=True
            ):
                new[:k] = prev
            kt = min(k, len(self._td))
            self._td[:kt, :kt] = old_td[:kt, :kt]
        self._z[k] = z
        self._zm2[k] = -2.0 * z
        self._zn[k] = float(np.dot(z, z))
        self._bs[k] = self.blocks.sums(z[None, :])[0]
        if self.keep_raw and raw is not None:
            self._raw[k] = raw
        if k < self.pivot_max:
            dk = l1(self._z[:k], z)
            self._td[k, :k] = dk
            self._td[:k, k] = dk
        self.count = k + 1
        return k

    def set_all(self, z: F64, raw: F64 | None) -> None:
        """Replace every template (used on restore and re-normalisation)."""
        n = len(z)
        self._alloc(max(1, n))
        self.count = 0
        self._line = self._line_table = None
        for i in range(n):
            self.add(z[i], None if raw is None else raw[i])


def chunk_rows(n_templates: int, length: int = 1) -> int:
    """Rows per chunk so that rows x templates and rows x pattern length stay bounded."""
    rows = max(MIN_CHUNK, min(MAX_CHUNK, _MAX_CELLS // max(1, n_templates)))
    return int(max(1, min(rows, _MAX_CELLS // max(1, length))))


def _slack(b: F64) -> F64:
    """A bound on distances, loosened for rounding."""
    out: F64 = b * (1.0 + _REL_SLACK) + _ABS_SLACK
    return out


def _sq_slack(b: F64) -> F64:
    """The square of a distance bound, loosened for rounding (negative bounds admit nothing)."""
    out: F64 = np.where(b < 0, -np.inf, b * b * (1.0 + _REL_SLACK) + _ABS_SLACK)
    return out


def nearest(
    zc: F64,
    store: TemplateStore,
    pv: float = np.inf,
    exact: bool = True,
    any_within: bool = False,
) -> tuple[I64, F64]:
    """Nearest template (L1; ties -> lowest index) for each row of ``zc`` (contiguous).

    Rows whose nearest template lies within ``pv`` get the exact nearest, unless ``any_within``
    (then some template within pv will do: for counting clusters). For the other rows,
    ``exact`` asks for the exact nearest too (needed for NI); otherwise they only get some
    distance > pv (enough to know they match nothing). Returns (index, distance); index -1 and
    distance +inf when there are no templates.
    """
    m, k = len(zc), store.count
    if k == 0:
        return np.full(m, -1, dtype=np.int64), np.full(m, np.inf)
    if m == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    if store.length == 1:
        found = _nearest_on_line(zc[:, 0], store)
        if found is not None:
            return found
    if m * k * store.length <= BRUTE_CELLS:  # small request: every exact distance is cheaper
        every = np.abs(zc[:, None, :] - store.z[None, :, :]).sum(axis=-1)  # rows as in l1()
        best = every.argmin(axis=1)  # first minimum: ties -> lowest index
        return best.astype(np.int64), every[np.arange(m), best]
    g = zc @ store._zm2[:k].T  # (m, k)
    g += store._zn[:k]  # = |z - t|^2 - |z|^2
    k0 = g.argmin(axis=1)
    t = store.z
    d0 = l1(zc, t[k0])
    bound = d0 if exact else np.minimum(d0, pv)
    if any_within:
        bound = np.where(d0 <= pv, -1.0, bound)
    mask = g <= (_sq_slack(bound) - sqnorm(zc))[:, None]
    rows = np.arange(m)
    mask[rows, k0] = False
    r, c = np.nonzero(mask)
    if r.size and store.pivots:
        keep = store._td[k0[r], c] <= _slack(bound[r] + d0[r])
        r, c = r[keep], c[keep]
    if r.size and store.blocks.width:
        bz = store.blocks.sums(zc)
        keep = pair_l1(bz, store._bs, r, c) <= _slack(bound[r])
        r, c = r[keep], c[keep]
    if r.size == 0:
        return k0.astype(np.int64), d0
    dc = pair_l1(zc, t, r, c)
    all_r = np.concatenate((rows, r))
    all_c = np.concatenate((k0, c))
    all_d = np.concatenate((d0, dc))
    order = np.lexsort((all_c, all_d, all_r))
    first = np.ones(order.size, dtype=bool)
    sr = all_r[order]
    first[1:] = sr[1:] != sr[:-1]
    pick = order[first]  # one per row, rows ascending
    return all_c[pick].astype(np.int64), all_d[pick]


def _nearest_on_line(v: F64, store: TemplateStore) -> tuple[I64, F64] | None:
    """Exact nearest template for length-1 patterns ``v``: only the two templates around each
    value (np.searchsorted on the sorted values) can be nearest; ties -> lowest index.

    The distance is ``|v - t|`` as :func:`l1` computes it. That rounding is monotone in ``t``,
    so beyond each neighbour distances only grow, and strictly once neighbouring values differ
    by more than the rounding can absorb; None (use the general search) when they don't."""
    values, first = store.line()
    ku = len(values)
    if ku > 1:
        scale = 2.0 * max(float(np.abs(values).max()), float(np.abs(v).max()))
        if float(np.diff(values).min()) <= 4.0 * float(np.spacing(scale)):
            return None
    pos = np.searchsorted(values, v)  # values[pos - 1] < v <= values[pos]
    right = np.minimum(pos, ku - 1)
    left = np.maximum(pos - 1, 0)
    dr = np.abs(v - values[right])
    dl = np.abs(v - values[left])
    ir, il = first[right], first[left]
    take_right = (dr < dl) | ((dr == dl) & (ir < il))
    idx: I64 = np.where(take_right, ir, il)
    d: F64 = np.where(take_right, dr, dl)
    return idx, d


LINE_SCAN = 64  # LineCounter: values in its first look for the next uncovered one ...
LINE_MAX_SCAN = 1 << 16  # ... doubling while they are all covered, up to this many


class LineCounter:
    """Leader clustering of fixed length-1 patterns ``v``, counting only, at any pv: the
    templates and patterns processed of :func:`leader_assign` with ``count_only`` from an
    empty store (see :meth:`count`).

    Leader clustering makes a template of the first pattern that no template matches. So
    the templates are found one after the other, each at the first value left uncovered by
    those before it, and only they cost work: each one marks the values it matches
    (``|v - t| <= pv`` as :func:`l1` rounds it) on the values sorted once, and the scan for
    the next uncovered value only moves forward. The sort is shared by all the pv a tuning
    tries.
    """

    def __init__(self, v: F64) -> None:
        self._v = v
        self._order = np.argsort(v, kind="stable")
        self._sorted = v[self._order]

    def _matched(self, t: float, pv: float) -> tuple[int, int]:
        """Sorted positions [lo, hi) of the values template ``t`` matches: a contiguous run,
        as the rounding of ``|v - t|`` is monotone on each side of t. The searches are
        corrected for the rounding of ``t +- pv``, a distinct value at a time."""
        sv = self._sorted
        n = len(sv)
        hi = int(sv.searchsorted(t + pv, "right"))
        while hi < n and abs(sv[hi] - t) <= pv:
            hi = int(sv.searchsorted(sv[hi], "right"))
        while abs(sv[hi - 1] - t) > pv:
            hi = int(sv.searchsorted(sv[hi - 1], "left"))
        lo = int(sv.searchsorted(t - pv, "left"))
        while lo > 0 and abs(sv[lo - 1] - t) <= pv:
            lo = int(sv.searchsorted(sv[lo - 1], "left"))
        while abs(sv[lo] - t) > pv:
            lo = int(sv.searchsorted(sv[lo], "right"))
        return lo, hi

    def count(self, pv: float, cap: int) -> tuple[int, int]:
        """(templates created, patterns processed) at ``pv``, stopping right after the
        ``cap``-th template."""
        n = len(self._v)
        if cap <= 0:
            return 0, 0
        covered = np.zeros(n, dtype=bool)
        i, created, window = 0, 0, LINE_SCAN
        while i < n:
            part = covered[i : i + window]
            j = int(part.argmin())  # the first uncovered value, if any
            if part[j]:
                i += len(part)
                window = min(2 * window, LINE_MAX_SCAN)
                continue
            i += j
            lo, hi = self._matched(float(self._v[i]), pv)
            covered[self._order[lo:hi]] = True
            created += 1
            if created >= cap:
                return created, i + 1
            i += 1
        return created, n


class LineTable:
    """Bucket lookup of the nearest length-1 template for the values a bucket table can settle.

    The span [first template - pv, last template + pv] is cut into equal buckets. A bucket
    holds a template index when no nearest-template boundary (midpoint of neighbouring
    template values) comes within ``margin`` of it and both its ends lie within ``pv`` of that
    template (then so does everything between: ``|v - t|`` is monotone on each side of t);
    else -1 (those values take the exact search). ``margin`` dwarfs the rounding of the
    bucket arithmetic and of ``|v - t|``, so a settled bucket's index is the exact answer.
    """

    def __init__(self, values: F64, first: I64, pv: float, buckets: int) -> None:
        lo, hi = float(values[0]) - pv, float(values[-1]) + pv
        self.buckets = buckets
        self.inv = buckets / (hi - lo)
        self.off = 1.0 - lo * self.inv  # bucket j (1-based) covers [lo + (j-1) w, lo + j w)
        margin = 1e-9 * max(1.0, abs(lo), abs(hi))
        edges = lo + (hi - lo) * np.arange(buckets + 1) / buckets
        x0, x1 = edges[:-1] - margin, edges[1:] + margin
        mids = (values[:-1] + values[1:]) / 2.0
        p = np.searchsorted(mids, x0, side="left")
        clean = p == np.searchsorted(mids, x1, side="right")
        t = values[p]
        clean &= (np.abs(x0 - t) <= pv - margin) & (np.abs(x1 - t) <= pv - margin)
        entry = np.full(buckets + 2, -1, dtype=np.int64)  # 0 and buckets+1: outside the span
        entry[1:-1] = np.where(clean, first[p], -1)
        self.entry = entry

    def lookup(self, v: F64) -> I64:
        """Template index per value, -1 where the exact search must decide."""
        t = v * self.inv
        t += self.off
        np.clip(t, 0.0, self.buckets + 1.0, out=t)
        out: I64 = self.entry[t.astype(np.intp)]
        return out


def line_buckets(n_values: int) -> int:
    """Buckets of a :class:`LineTable` over ``n_values`` distinct template values (it pays off
    for runs of at least that many patterns)."""
    return min(LINE_BUCKETS[1], max(LINE_BUCKETS[0], LINE_BUCKETS_PER_TEMPLATE * n_values))


def match_rows(z: F64, store: TemplateStore, pv: float) -> tuple[I64, npt.NDArray[np.bool_]]:
    """For each row of ``z``: whether some template lies within ``pv`` and, where one does, the
    exact nearest (as :func:`nearest` gives it; elsewhere the index is only some template, and
    no distance is returned). Long runs of length-1 patterns are mostly settled by the store's
    cached :class:`LineTable` (one pass, no memory per template); the other rows go through
    :func:`nearest` in chunks of :func:`chunk_rows` (``z`` may be a strided view)."""
    n = len(z)
    idx = np.zeros(n, dtype=np.int64)
    matched = np.zeros(n, dtype=bool)
    todo: I64 | None = None  # rows left for nearest(); None: all of them
    if store.length == 1 and store.count and pv > 0:
        table = store.line_table(pv)
        if n >= table.buckets:
            idx = table.lookup(z[:, 0])
            matched = idx >= 0
            todo = np.flatnonzero(~matched)
    left = n if todo is None else len(todo)
    step = chunk_rows(store.count, store.length)
    for c0 in range(0, left, step):
        rows = slice(c0, c0 + step) if todo is None else todo[c0 : c0 + step]
        ie, de = nearest(np.ascontiguousarray(z[rows]), store, pv, exact=False)
        idx[rows] = ie
        matched[rows] = de <= pv
    return idx, matched


LINE_CHUNK = 1024  # _leader_on_line: first chunk; chunks adapt to the creation rate ...
LINE_MAX_STEP = 1 << 16  # ... up to this many values
LINE_BUCKETS_PER_TEMPLATE = 64  # bucket table size: this many per template value ...
LINE_BUCKETS = (1024, 1 << 16)  # ... within these bounds; built only for chunks at least as big


def _leader_on_line(
    store: TemplateStore,
    v: F64,
    pv: float,
    cap: int | None,
    raw_rows: F64 | None,
) -> LeaderResult:
    """:func:`leader_assign` for length-1 patterns ``v`` (1-D): the exact nearest template
    per value (bucket table, else :func:`nearest`), a template created at the first value
    matching none, and the rest of the chunk searched again with it."""
    n = len(v)
    index = np.zeros(n, dtype=np.int64)
    created: list[int] = []
    a, step = 0, LINE_CHUNK
    while a < n:
        b = min(n, a + step)
        c = v[a:b]
        idx: I64 | None = None
        if store.count and pv > 0 and b - a >= line_buckets(len(store.line()[0])):
            idx = store.line_table(pv).lookup(c)
        if idx is None:
            idx, d = nearest(c[:, None], store, pv, exact=False)
            over = np.flatnonzero(d > pv)
        else:
            open_ = np.flatnonzero(idx < 0)
            over = open_[:0]
            if open_.size:
                ie, de = nearest(np.ascontiguousarray(c[open_, None]), store, pv, exact=False)
                idx[open_] = ie
                over = open_[de > pv]
        if over.size == 0:
            index[a:b] = idx
            a, step = b, min(LINE_MAX_STEP, 4 * step)
            continue
        i = int(over[0])
        index[a : a + i] = idx[:i]
        if cap is not None and store.count >= cap:  # full: stop before this pattern
            return LeaderResult(index, np.asarray(created, dtype=np.int64), a + i)
        raw = None if raw_rows is None else raw_rows[a + i]
        index[a + i] = store.add(c[i : i + 1], raw)
        created.append(a + i)
        if cap is not None and store.count >= cap:
            return LeaderResult(index, np.asarray(created, dtype=np.int64), a + i + 1)
        a, step = a + i + 1, min(LINE_MAX_STEP, max(MIN_CHUNK, 4 * (i + 1)))
    return LeaderResult(index, np.asarray(created, dtype=np.int64), n)


@dataclass
class LeaderResult:
    """Outcome of sequential leader clustering of a run of patterns."""

    index: I64  # 0-based template index per pattern (new templates included)
    created: I64  # positions (in the run) of the patterns that created a template
    stop: int  # number of patterns processed (< len when the template cap was reached)


def leader_assign(
    store: TemplateStore,
    source: F64,
    rows: I64 | None,
    pv: float,
    cap: int | None = None,
    raw_source: F64 | None = None,
    count_only: bool = False,
) -> LeaderResult:
    """Assign each pattern to its nearest template within ``pv``, creating a template otherwise.

    ``source`` is a (possibly strided) 2-D array of scaled patterns; ``rows`` selects and orders
    the rows to use (all when None). ``raw_source`` gives the raw clipped patterns in the same
    row numbering. Stops right after the template count reaches ``cap`` (or before the first
    unmatched pattern when it is reached already). ``count_only`` skips
    finding the *nearest* template (any within pv will do): for counting clusters.
    """
    if store.length == 1 and not count_only:
        v = source[:, 0] if rows is None else source[rows, 0]
        raw_rows = None
        if raw_source is not None:
            raw_rows = raw_source if rows is None else raw_source[rows]
        return _leader_on_line(store, np.ascontiguousarray(v), pv, cap, raw_rows)
    n = len(source) if rows is None else len(rows)
    index = np.zeros(n, dtype=np.int64)
    created: list[int] = []
    step = 1024
    a = 0
    while a < n:
        b = min(n, a + min(step, chunk_rows(store.count, store.length)))
        sel = slice(a, b) if rows is None else rows[a:b]
        zc = np.ascontiguousarray(source[sel])
        idx, d = nearest(zc, store, pv, exact=False, any_within=count_only)
        zn = sqnorm(zc)
        bz = store.blocks.sums(zc)
        new_here = 0
        pos = 0
        m = b - a
        while pos < m:
            over = np.flatnonzero(d[pos:] > pv)
            if over.size == 0:
                break
            i = pos + int(over[0])
            if cap is not None and store.count >= cap:  # full: stop before this pattern
                index[a : a + i] = idx[:i]
                return LeaderResult(index, np.asarray(created, dtype=np.int64), a + i)
            raw = None
            if raw_source is not None:
                raw = raw_source[i + a if rows is None else int(rows[a + i])]
            k = store.add(zc[i], raw)
            idx[i], d[i] = k, 0.0
            created.append(a + i)
            new_here += 1
            if cap is not None and store.count >= cap:
                index[a : a + i + 1] = idx[: i + 1]
                return LeaderResult(index, np.asarray(created, dtype=np.int64), a + i + 1)
            if i + 1 < m:
                _update_with_new(store, zc, zn, bz, idx, d, i, k, pv, count_only)
            pos = i + 1
        index[a:b] = idx
        a = b
        if new_here > m // 32:
            step = max(MIN_CHUNK, step // 2)
        elif new_here < 4:
            step = min(MAX_CHUNK, step * 2)
    return LeaderResult(index, np.asarray(created, dtype=np.int64), n)


def _update_with_new(
    store: TemplateStore,
    zc: F64,
    zn: F64,
    bz: F64,
    idx: I64,
    d: F64,
    i: int,
    k: int,
    pv: float,
    count_only: bool,
) -> None:
    """Let rows after ``i`` switch to the new template ``zc[i]`` (index ``k``) where strictly
    nearer. Only rows whose best distance matters are refined (bounds prune the rest)."""
    lo = i + 1
    if count_only:
        cand = lo + np.flatnonzero(d[lo:] > pv)
        bound = np.full(cand.size, pv)
    else:
        cand = np.arange(lo, len(zc))
        bound = np.minimum(d[lo:], pv)
    lb2 = zn[cand] + zn[i] - 2.0 * (zc[cand] @ zc[i])
    keep = lb2 <= _sq_slack(bound)
    cand, bound = cand[keep], bound[keep]
    if cand.size and store.pivots:
        cur = idx[cand]
        known = cur >= 0  # d is the distance to template cur: triangle inequality through it
        gap = np.abs(store._td[np.maximum(cur, 0), k] - d[cand])
        keep = ~known | (gap <= _slack(bound))
        cand, bound = cand[keep], bound[keep]
    if cand.size and bz.shape[1]:
        keep = l1(bz[cand], bz[i]) <= _slack(bound)
        cand = cand[keep]
    if cand.size == 0:
        return
    dn = l1(zc[cand], zc[i])
    better = dn < d[cand]
    if better.any():
        j = cand[better]
        idx[j] = k
        d[j] = dn[better]
