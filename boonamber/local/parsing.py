"""Parsers for the text formats of the wire: CSV values, packed float32, root-cause lists."""

from __future__ import annotations

import contextlib
import re

import numpy as np
import numpy.typing as npt

from boonamber import b64, wire
from boonamber.local.errors import BadRequest

FloatArray = npt.NDArray[np.float64]

#: Largest number of chunks a chunked pretrain may announce.
MAX_CHUNKS = 100_000

_CLUSTER_RE = re.compile(r"[+-]?[0-9]{1,18}")
_COUNT_RE = re.compile(r"[0-9]{1,9}")
_INNER_LIST_RE = re.compile(r"\[([^\[\]]*)\]")


def _show(token: str, limit: int = 40) -> str:
    token = token.strip()
    return repr(token if len(token) <= limit else token[:limit] + "...")


def parse_csv(text: str, what: str = "data") -> FloatArray:
    """Parse comma-separated numbers (the rule of :func:`boonamber.wire.number_problem`);
    reject empty input, non-numbers and ``nan``/``inf`` naming the 0-based position."""
    if not text.strip():
        raise BadRequest(f"{what} is empty: send comma-separated numbers")
    tokens = text.split(",")
    values = None
    # On ASCII text without "_", numpy's parser accepts exactly the wire's numbers plus
    # nan/inf/overflow, which the finiteness check below rejects: the fast path.
    if text.isascii() and "_" not in text:
        with contextlib.suppress(ValueError):
            values = np.array(tokens, dtype=np.float64)
    if values is None:
        bad = wire.first_number_problem(tokens)
        if bad is not None:
            raise BadRequest(f"{what} value at position {bad[0]} {bad[1]}")
        values = np.array([float(t) for t in tokens], dtype=np.float64)
    finite = np.isfinite(values)
    if not finite.all():
        pos = int(np.argmin(finite))
        problem = wire.number_problem(tokens[pos]) or wire.not_finite(tokens[pos])
        raise BadRequest(f"{what} value at position {pos} {problem}")
    return values


def parse_packed_float32(text: str, what: str = "data") -> FloatArray:
    """Decode base64 of little-endian float32 values (formats ``b64float``/``packed-float``)."""
    try:
        raw = b64.decode(text.strip())
    except ValueError:
        raise BadRequest(f"{what} is not valid base64") from None
    if not raw:
        raise BadRequest(f"{what} is empty")
    if len(raw) % 4:
        raise BadRequest(
            f"{what} holds {len(raw)} bytes, which is not a whole number of float32 values"
        )
    values = np.frombuffer(raw, dtype="<f4").astype(np.float64)
    finite = np.isfinite(values)
    if not finite.all():
        pos = int(np.argmin(finite))
        raise BadRequest(f"{what} value at position {pos} {wire.not_finite(float(values[pos]))}")
    return values


def parse_data(text: str, fmt: str, what: str = "data") -> FloatArray:
    """Parse ``text`` in the pretrain ``format`` (``csv``, ``b64float`` or ``packed-float``)."""
    if fmt == "csv":
        return parse_csv(text, what)
    if fmt in ("b64float", "packed-float"):
        return parse_packed_float32(text, what)
    raise BadRequest(f"format must be one of csv, b64float, packed-float; got {_show(fmt)}")


def parse_clusters(text: str) -> list[int]:
    """Parse cluster ids given as ``[1,2,3]`` or a bare ``1,2,3``."""
    s = text.strip()
    if s.startswith("[") and s.endswith("]"):
        s = s[1:-1].strip()
    if not s:
        return []
    ids: list[int] = []
    for tok in s.split(","):
        tok = tok.strip()
        if not _CLUSTER_RE.fullmatch(tok):
            raise BadRequest(
                f"{wire.CLUSTERS_FORMAT}: clusters must be a list of integer cluster ids; "
                f"got {_show(text)}"
            )
        ids.append(int(tok))
    return ids


def parse_vectors(text: str) -> list[list[float]]:
    """Parse patterns given as a bracketed list of bracketed lists, ``[[0.1,0.2],[0.3,0.4]]``."""
    expected = f"{wire.VECTORS_FORMAT}: vectors must be a bracketed list of bracketed patterns"
    s = text.strip()
    if not (s.startswith("[") and s.endswith("]")):
        raise BadRequest(f"{expected}; got {_show(text)}")
    inner = s[1:-1].strip()
    if not inner:
        return []
    groups = _INNER_LIST_RE.findall(inner)
    rest = _INNER_LIST_RE.sub("", inner)
    if not groups or rest.replace(",", "").strip() or rest.count(",") != len(groups) - 1:
        raise BadRequest(f"{expected}; got {_show(text)}")
    vectors: list[list[float]] = []
    for k, group in enumerate(groups):
        vectors.append(parse_csv(group, what=f"vectors[{k}]").tolist())
    return vectors


def parse_chunkspec(text: str | None) -> tuple[int, int]:
    """Parse the ``chunkspec`` header ``i:n`` (1-based chunk i of n); absent means ``1:1``."""
    if text is None or not text.strip():
        return 1, 1
    parts = text.strip().split(":")
    bad = BadRequest(f"chunkspec must be 'i:n' with 1 <= i <= n, e.g. '1:3'; got {_show(text)}")
    if len(parts) != 2 or not all(_COUNT_RE.fullmatch(p.strip()) for p in parts):
        raise bad
    index, count = int(parts[0]), int(parts[1])
    if count < 1 or index < 1:
        raise bad
    if index > count:
        raise BadRequest(f"chunk index {index} is out of range for {count} chunks")
    if count > MAX_CHUNKS:
        raise BadRequest(f"chunkspec announces {count} chunks; at most {MAX_CHUNKS} are allowed")
    return index, count
