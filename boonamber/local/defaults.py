"""Default settings of the local server (a light module: no heavy imports)."""

from __future__ import annotations

#: Largest accepted request body, in bytes (larger bodies are answered 413).
DEFAULT_MAX_BODY_BYTES = 64 * 2**20

#: Lifetime of ID tokens, in seconds.
DEFAULT_TOKEN_TTL = 3600.0
