"""Types are visible from the README's editable install: mypy, run outside the checkout
with the venv's interpreter, finds ``boonamber`` (py.typed) and its annotations."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

USER_CODE = """\
from boonamber import AmberClient, AsyncAmberClient

reveal_type(AmberClient.get_status)
reveal_type(AsyncAmberClient.post_data)
"""


def test_mypy_finds_boonamber_from_the_installed_package(tmp_path: Path) -> None:
    pytest.importorskip("mypy")
    script = tmp_path / "user_code.py"
    script.write_text(USER_CODE)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--python-executable",
            sys.executable,
            "--no-incremental",
            "--strict",
            str(script),
        ],
        cwd=tmp_path,  # outside the checkout: only the installed package can be found
        capture_output=True,
        text=True,
        timeout=300,
    )
    out = done.stdout
    assert "Cannot find implementation or library stub" not in out, (
        "mypy cannot see boonamber: install it with "
        "pip install -e '.[dev]' --config-settings editable_mode=compat\n" + out
    )
    assert 'Revealed type is "Any"' not in out, out
    assert "def (self: boonamber.facade.client.AmberClient, model_id: str" in out, out
    assert "GetStatusResult" in out, out
    assert "def (self: boonamber.facade.async_client.AsyncAmberClient" in out, out
