"""Base64 of packed float32 data, shared by the client and the local server: ``pybase64``
(SIMD, ~50x the standard library's speed, a default dependency) when it is installed, else the
standard ``base64`` module; both give the same text and bytes. It matters for pretraining: a
10M-value upload is 53 MB of base64.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_B64: tuple[Callable[[Any], bytes], Callable[[Any], bytes]] | None = None


def _b64() -> tuple[Callable[[Any], bytes], Callable[[Any], bytes]]:
    """(encode, strict decode): pybase64's when it is installed, else the standard library's."""
    global _B64
    if _B64 is None:
        try:
            import pybase64

            _B64 = (pybase64.b64encode, lambda text: pybase64.b64decode(text, validate=True))
        except ImportError:  # pragma: no cover - pybase64 is a default dependency
            import base64

            _B64 = (base64.b64encode, lambda text: base64.b64decode(text, validate=True))
    return _B64


def encode(data: bytes | memoryview) -> str:
    """``data`` as base64 text (the standard alphabet, padded)."""
    return _b64()[0](data).decode("ascii")


def decode(text: str) -> bytes:
    """The bytes of base64 ``text``; ``ValueError`` (``binascii.Error`` is one) unless it is
    strictly base64: the standard alphabet only, padded, nothing else (no blanks, no newlines,
    no other characters)."""
    return _b64()[1](text)
