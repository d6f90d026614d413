"""Nearest-template clustering on scaled patterns (L1 distance, exact, vectorised).

Patterns are *scaled* so that the engine distance is a plain L1 norm: position j of a pattern
holds ``(clip(x) - min_f) * w_f / (sum(w) * range_f * window)``.  Exact L1 distances are only
computed for a few candidates per pattern: the squared-L2 distance (one matrix product) is a lower
bound of L1², so every template whose L1 can beat the best known one passes a cheap L2 test.
Results are therefore identical to a brute-force search, whatever the chunking.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

# Slack on the L2 lower bound: covers rounding of the |z|^2 + |t|^2 - 2 z.t formula.
_ABS_SLACK = 1e-11
_REL_SLACK = 1e-9
_MAX_CELLS = 1 << 21  # chunk rows x templates held at once


def l1(a: F64, b: F64) -> F64:
    """Row-wise L1 distance; the one place exact distances are computed (bit-stable)."""
    return np.abs(a - b).sum(axis=-1)


def sqnorm(a: F64) -> F64:
    """Row-wise squared L2 norm."""
    return np.einsum("ij,ij->i", a, a)


class TemplateStore:
    """Growable array of scaled templates (and optionally their raw clipped patterns)."""

    def __init__(self, length: int, keep_raw: bool = True, capacity: int = 64) -> None:
        self.length = length
        self.count = 0
        self._z = np.zeros((capacity, length))
        self._zn = np.zeros(capacity)
        self._raw: F64 | None = np.zeros((capacity, length)) if keep_raw else None

    @property
    def z(self) -> F64:
        """Scaled templates, shape (count, length)."""
        return self._z[: self.count]

    @property
    def zn(self) -> F64:
        """Squared norms of the scaled templates."""
        return self._zn[: self.count]

    @property
    def raw(self) -> F64:
        """Raw (clipped) templates, shape (count, length)."""
        assert self._raw is not None
        return self._raw[: self.count]

    def add(self, z: F64, raw: F64 | None = None) -> int:
        """Append one template; returns its 0-based index."""
        if self.count == len(self._z):
            cap = 2 * len(self._z)
            self._z = np.resize(self._z, (cap, self.length))
            self._zn = np.resize(self._zn, cap)
            if self._raw is not None:
                self._raw = np.resize(self._raw, (cap, self.length))
        k = self.count
        self._z[k] = z
        self._zn[k] = float(np.dot(z, z))
        if self._raw is not None and raw is not None:
            self._raw[k] = raw
        self.count += 1
        return k

    def set_all(self, z: F64, raw: F64 | None) -> None:
        """Replace every template (used on restore and re-normalisation)."""
        n = len(z)
        cap = max(64, n)
        self._z = np.zeros((cap, self.length))
        self._z[:n] = z
        self._zn = np.zeros(cap)
        self._zn[:n] = sqnorm(z) if n else 0.0
        if self._raw is not None:
            self._raw = np.zeros((cap, self.length))
            if raw is not None:
                self._raw[:n] = raw
        self.count = n


def chunk_rows(n_templates: int) -> int:
    """Rows per chunk so that rows x templates stays bounded."""
    return int(max(64, min(8192, _MAX_CELLS // max(1, n_templates))))


def nearest(zc: F64, zcn: F64, t: F64, tn: F64) -> tuple[I64, F64]:
    """Exact nearest template (L1; ties -> lowest index) for each row of ``zc``.

    Returns (index, distance); index -1 and distance +inf when there are no templates.
    """
    m, k = len(zc), len(t)
    if k == 0:
        return np.full(m, -1, dtype=np.int64), np.full(m, np.inf)
    if m == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    g = zc @ t.T  # (m, k)
    np.multiply(g, -2.0, out=g)
    g += tn  # g = |t|^2 - 2 z.t  ==  d2 - |z|^2
    k0 = g.argmin(axis=1)
    d0 = l1(zc, t[k0])
    thr = d0 * d0 * (1.0 + _REL_SLACK) + _ABS_SLACK - zcn
    mask = g <= thr[:, None]
    rows = np.arange(m)
    mask[rows, k0] = False
    r, c = np.nonzero(mask)
    if r.size == 0:
        return k0.astype(np.int64), d0
    dc = l1(zc[r], t[c])
    all_r = np.concatenate((rows, r))
    all_c = np.concatenate((k0, c))
    all_d = np.concatenate((d0, dc))
    order = np.lexsort((all_c, all_d, all_r))
    first = np.ones(order.size, dtype=bool)
    sr = all_r[order]
    first[1:] = sr[1:] != sr[:-1]
    pick = order[first]  # one per row, rows ascending
    return all_c[pick].astype(np.int64), all_d[pick]


@dataclass
class LeaderResult:
    """Outcome of sequential leader clustering of a run of patterns."""

    index: I64  # 0-based template index per pattern (new templates included)
    dist: F64  # distance to the assigned template (0 for pattern that created one)
    created: I64  # positions (in the run) of the patterns that created a template
    stop: int  # number of patterns processed (< len when the template cap was reached)


def leader_assign(
    store: TemplateStore,
    source: F64,
    rows: I64 | None,
    pv: float,
    cap: int | None = None,
    raw_source: F64 | None = None,
) -> LeaderResult:
    """Assign each pattern to its nearest template within ``pv``, creating a template otherwise.

    ``source`` is a (possibly strided) 2-D array of scaled patterns; ``rows`` selects and orders
    the rows to use (all when None). ``raw_source`` gives the raw clipped patterns in the same
    row numbering. Stops right after the template count reaches ``cap``.
    """
    n = len(source) if rows is None else len(rows)
    index = np.zeros(n, dtype=np.int64)
    dist = np.zeros(n)
    created: list[int] = []
    step = 1024
    a = 0
    while a < n:
        b = min(n, a + min(step, chunk_rows(store.count)))
        sel = slice(a, b) if rows is None else rows[a:b]
        zc = np.ascontiguousarray(source[sel])
        zcn = sqnorm(zc)
        idx, d = nearest(zc, zcn, store.z, store.zn)
        new_here = 0
        pos = 0
        m = b - a
        while pos < m:
            over = np.flatnonzero(d[pos:] > pv)
            if over.size == 0:
                break
            i = pos + int(over[0])
            raw = None
            if raw_source is not None:
                raw = raw_source[i + a if rows is None else int(rows[a + i])]
            k = store.add(zc[i], raw)
            idx[i], d[i] = k, 0.0
            created.append(a + i)
            new_here += 1
            if cap is not None and store.count >= cap:
                index[a : a + i + 1] = idx[: i + 1]
                dist[a : a + i + 1] = d[: i + 1]
                return LeaderResult(index, dist, np.asarray(created, dtype=np.int64), a + i + 1)
            if i + 1 < m:
                _update_with_new(zc, zcn, idx, d, i, k, pv)
            pos = i + 1
        index[a:b] = idx
        dist[a:b] = d
        a = b
        if new_here > m // 32:
            step = max(64, step // 2)
        elif new_here < 4:
            step = min(8192, step * 2)
    return LeaderResult(index, dist, np.asarray(created, dtype=np.int64), n)


def _update_with_new(zc: F64, zcn: F64, idx: I64, d: F64, i: int, k: int, pv: float) -> None:
    """Let the rows after ``i`` switch to new template ``zc[i]`` (index ``k``) where strictly nearer.

    Only rows whose best distance matters (matched, or possibly matched now) are refined;
    the L2 bound prunes the rest.
    """
    rest = zc[i + 1 :]
    t = zc[i]
    bound = np.minimum(d[i + 1 :], pv)
    lb2 = zcn[i + 1 :] + zcn[i] - 2.0 * (rest @ t)
    cand = np.flatnonzero(lb2 <= bound * bound * (1.0 + _REL_SLACK) + _ABS_SLACK)
    if cand.size == 0:
        return
    dn = l1(rest[cand], t)
    better = dn < d[i + 1 :][cand]
    if better.any():
        j = cand[better] + i + 1
        idx[j] = k
        d[j] = dn[better]
