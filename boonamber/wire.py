"""Facts of the Amber v2 wire shared by the client, the CLI and the local server.

A light module (standard library only): the analytic keys of a data answer, the name the
service gives a feature configured without one, the wording of root-cause format errors, and the one rule for what counts as a number
in data (CSV text, CSV files, Python values) with the wording of its errors.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

#: The twelve per-pattern analytics of a ``postData``/``putData`` answer, in wire order.
ANALYTIC_KEYS: tuple[str, ...] = (
    "ID", "RI", "SI", "AD", "AH", "AW", "NI", "NS", "NW", "OM", "CS", "PI",
)  # fmt: skip


#: The service's wording of a root-cause format error; a precise detail follows it.
CLUSTERS_FORMAT = "must specify cluster ID(s) in the format [1,2,3]"
VECTORS_FORMAT = "must specify patterns(s) in the format [[0.1,0.2],[0.3,0.4]]"


def default_feature_name(index: int) -> str:
    """The name of the ``index``-th (0-based) feature when none was configured."""
    return f"feature-{index}"


def default_feature_names(count: int) -> list[str]:
    """Default names for ``count`` features: ``feature-0`` … ``feature-{count-1}``."""
    return [default_feature_name(i) for i in range(count)]


# ---------------------------------------------------------------- numbers
#: A number of the wire: ASCII decimal digits with an optional sign, point and exponent
#: (``12``, ``-0.5``, ``.5``, ``1.``, ``3e-7``). Blanks around it are allowed. Not numbers:
#: ``nan``, ``inf``, hex, ``1_000``, non-ASCII digits. A number must also be finite, so a
#: value that overflows to infinity (``1e999``) is rejected like ``inf``.
NUMBER_PATTERN = r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
_NUMBER_RE = re.compile(NUMBER_PATTERN)
# A fast screen for whole lines: numbers that cannot overflow (at most 200 integer digits, an
# exponent of one or two digits), separated by commas. What fails it is checked token by token.
_SAFE = r"[ \t]*[+-]?(?:[0-9]{1,200}(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,2})?[ \t]*"
_SAFE_LINE_RE = re.compile(rf"{_SAFE}(?:,{_SAFE})*")
_NON_FINITE_WORDS = frozenset({"nan", "inf", "infinity"})


def show(value: object, limit: int = 40) -> str:
    """``repr`` of a value in an error message, cut to about ``limit`` characters."""
    if isinstance(value, str):
        value = value.strip()
        return repr(value if len(value) <= limit else value[:limit] + "...")
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def not_finite(value: object) -> str:
    """The problem of a NaN or infinite value, worded to follow its place: ``"data[3] " + …``."""
    return f"is not a finite number: {show(value)} (NaN and infinity are not allowed)"


def number_problem(token: str) -> str | None:
    """``None`` if ``token`` is a finite number of the wire, else what is wrong with it,
    worded to follow its place (``f"{where} {problem}"``): ``is empty``,
    ``is not a number: 'abc'`` or ``is not a finite number: 'nan' (...)``."""
    text = token.strip()
    if _NUMBER_RE.fullmatch(text) is None:
        if not text:
            return "is empty"
        if text.lower().lstrip("+-") in _NON_FINITE_WORDS:
            return not_finite(text)
        return f"is not a number: {show(text)}"
    if math.isinf(float(text)):
        return f"is not a finite number: {show(text)} (it overflows to infinity)"
    return None


def is_numeric(token: str) -> bool:
    """Whether ``token`` is meant as a number, finite or not (``1``, ``nan``, ``1e999``);
    a CSV header cell is not."""
    text = token.strip()
    return _NUMBER_RE.fullmatch(text) is not None or text.lower().lstrip("+-") in _NON_FINITE_WORDS


def first_number_problem(tokens: Sequence[str]) -> tuple[int, str] | None:
    """``(index, problem)`` of the first token that is not a finite number, or ``None``."""
    for index, token in enumerate(tokens):
        problem = number_problem(token)
        if problem is not None:
            return index, problem
    return None


def line_problem(line: str) -> tuple[int, str] | None:
    """Like :func:`first_number_problem` for one comma-separated line, fast when it is fine."""
    if _SAFE_LINE_RE.fullmatch(line) is not None:
        return None
    return first_number_problem(line.split(","))
