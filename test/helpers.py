"""Helpers shared by test files (importable as ``helpers``: ``pythonpath`` in pyproject.toml)."""

from __future__ import annotations

import ast
import json
import time
from pathlib import Path
from typing import Any

#: The root of the checkout.
ROOT = Path(__file__).resolve().parents[1]

# ---------------------------------------------------------------- client


def write_license_file(path: Path, profiles: dict[str, dict[str, Any]], mode: int = 0o600) -> Path:
    """Write a license file holding ``profiles`` (name -> keys) at ``path`` with ``mode``."""
    path.write_text(json.dumps(profiles))
    path.chmod(mode)
    return path


def imported_modules(path: Path) -> set[str]:
    """The modules a Python file imports (``import x`` and ``from x import y`` give ``x``)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


# ---------------------------------------------------------------- server

#: The nine keys of a getVersion answer.
VERSION_KEYS = frozenset(
    {
        "api-version",
        "release",
        "swagger-ui",
        "builder",
        "expert-api",
        "expert-common",
        "nano-secure",
        "amber-store",
        "mongolia",
    }
)


def wait_pretrained(api: Any, model_id: str, timeout: float = 60.0) -> Any:
    """Poll getPretrain (generated client ``api``) until the model is no longer Pretraining or
    ``timeout`` seconds passed; returns the last getPretrain answer."""
    deadline = time.monotonic() + timeout
    while True:
        state = api.get_pretrain(model_id)
        if state.status != "Pretraining" or time.monotonic() > deadline:
            return state
        time.sleep(0.05)
