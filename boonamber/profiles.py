"""The license file (``~/.Amber.license``): a JSON object of named profiles of settings.

::

    {"default": {"server": "https://amber.boonlogic.com/v2",
                 "license-key": "...", "secret-key": "..."}}

One module holds the format for both sides: the client reads profiles
(``boonamber.facade.credentials``), the local server writes them (``boonamber serve``).
Standard library only, so that it stays cheap to import.
"""

from __future__ import annotations

import json
import os
import stat
import sys
import tempfile
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = [
    "DEFAULT_LICENSE_FILE",
    "DEFAULT_PROFILE",
    "KEYS",
    "LicenseFileError",
    "expand_path",
    "find",
    "load",
    "read_profile",
    "warn_if_exposed",
    "write_profile",
]

DEFAULT_LICENSE_FILE = "~/.Amber.license"
DEFAULT_PROFILE = "default"

#: setting -> the keys a profile may hold it under, in order of preference. The first key is
#: the one written; ``license`` / ``secret`` are the names the official Amber SDK 2.0 reads.
KEYS: dict[str, tuple[str, ...]] = {
    "server": ("server",),
    "oauth_server": ("oauth-server", "oauth_server"),
    "license_key": ("license-key", "license_key", "license", "username"),
    "secret_key": ("secret-key", "secret_key", "secret", "password"),
    "verify": ("ssl-verify", "ssl_verify", "verify"),
    "cert": ("ssl-cert", "ssl_cert", "cert"),
    "proxy": ("proxy",),
}


class LicenseFileError(ValueError):
    """The license file cannot be read or used; the message names the file."""


def expand_path(path: str | os.PathLike[str], env: Mapping[str, str] | None = None) -> Path:
    """``path`` with a leading ``~`` replaced by ``HOME`` of ``env`` (default ``os.environ``)."""
    env = os.environ if env is None else env
    text = os.fspath(path)
    if text == "~" or text.startswith(("~/", "~" + os.sep)):
        home = env.get("HOME") or (env.get("USERPROFILE") if sys.platform == "win32" else None)
        if home:
            return Path(home) / text[2:]
    return Path(text).expanduser()


def load(path: Path) -> dict[str, Any]:
    """All profiles of the license file at ``path``; :class:`LicenseFileError` if it cannot be
    read, is not JSON, or is not a JSON object."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise LicenseFileError(f"cannot read license file {path}: {e.strerror or e}") from e
    except UnicodeDecodeError:
        raise LicenseFileError(f"license file {path} is not UTF-8 text") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise LicenseFileError(
            f"license file {path} is not valid JSON: {e.msg} (line {e.lineno}, column {e.colno})"
        ) from None
    if not isinstance(data, dict):
        raise LicenseFileError(f"license file {path} must hold a JSON object of named profiles")
    return data


def find(profile: Mapping[str, Any], setting: str) -> tuple[str, Any] | None:
    """``(key, value)`` of ``setting`` in ``profile`` (first key of :data:`KEYS` holding a
    value that is not null or empty), or ``None``."""
    for key in KEYS[setting]:
        value = profile.get(key)
        if value not in (None, ""):
            return key, value
    return None


def read_profile(path: str | os.PathLike[str], name: str) -> dict[str, Any] | None:
    """The profile ``name`` of the license file at ``path``, or ``None`` if the file, or a
    usable profile of that name, is missing (a broken file counts as missing)."""
    file = expand_path(path)
    if not file.is_file():
        return None
    try:
        entry = load(file).get(name)
    except LicenseFileError:
        return None
    return entry if isinstance(entry, dict) else None


def warn_if_exposed(path: Path, stacklevel: int = 2) -> None:
    """Warn if the license file at ``path`` is readable by other users (POSIX only)."""
    if os.name != "posix":
        return
    try:
        mode = path.stat().st_mode
    except OSError:
        return
    if mode & (stat.S_IRGRP | stat.S_IROTH):
        warnings.warn(
            f"license file {path} is readable by other users; restrict it with 'chmod 600 {path}'",
            UserWarning,
            stacklevel=stacklevel + 1,
        )


def write_profile(
    path: str | os.PathLike[str], name: str, license_key: str, secret_key: str, server: str
) -> None:
    """Write (or update) profile ``name`` in the license file at ``path``, keeping the other
    profiles and the profile's other keys, except any OAuth server (it would point elsewhere).

    The file is replaced atomically and readable by its owner only (mode 0600). A file that
    is not a JSON object of profiles is not overwritten (:class:`LicenseFileError`).
    """
    file = expand_path(path)
    data: dict[str, Any] = load(file) if file.exists() else {}
    entry = data.get(name)
    entry = dict(entry) if isinstance(entry, dict) else {}
    for key in KEYS["oauth_server"]:
        entry.pop(key, None)
    entry.update(
        {
            "license-key": license_key,
            "secret-key": secret_key,
            "server": server,
            "license": license_key,
            "secret": secret_key,
        }
    )
    data[name] = entry
    directory = file.absolute().parent
    directory.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".amber-license-", dir=directory)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=2)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, file)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    os.chmod(file, 0o600)
