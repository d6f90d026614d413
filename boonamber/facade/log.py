"""The ``boonamber`` logger: what the clients report, and ``AMBER_LOG``.

Records (never a secret: no keys, tokens or request bodies):

- DEBUG, one per HTTP request: method, path, status (or the failure) and time;
- DEBUG, one per retry: why, and how long the client waits;
- DEBUG, one per token login or refresh.

Like any library, boonamber configures no logging of its own, with one exception: when the
environment variable ``AMBER_LOG`` is ``debug`` or ``info`` at the time the first client is
made, a stderr handler at that level is added to the ``boonamber`` logger.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Final

__all__ = ["ENV_VAR", "logger", "setup_from_env"]

ENV_VAR: Final = "AMBER_LOG"
logger: Final = logging.getLogger("boonamber")

_LEVELS: Final = {"debug": logging.DEBUG, "info": logging.INFO}
_lock = threading.Lock()
_handler: logging.Handler | None = None


def setup_from_env() -> None:
    """Add a stderr handler to the ``boonamber`` logger if ``AMBER_LOG`` asks for one (once)."""
    global _handler
    value = os.environ.get(ENV_VAR, "").strip().lower()
    level = _LEVELS.get(value)
    if level is None:
        if value and value not in ("0", "off", "none", "false"):
            logger.warning("%s=%r is not one of: debug, info, off (ignored)", ENV_VAR, value)
        return
    with _lock:
        if _handler is not None:
            return
        _handler = logging.StreamHandler()
        _handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
        logger.addHandler(_handler)
        logger.setLevel(level)
