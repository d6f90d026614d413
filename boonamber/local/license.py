"""License profile files (``~/.Amber.license`` format): JSON of profile name -> credentials."""

from __future__ import annotations

import json
import os
import tempfile
from typing import Any


def read_profile(path: str, profile: str) -> dict[str, Any] | None:
    """The named profile of a license file, or None if the file or profile is missing."""
    try:
        with open(os.path.expanduser(path), encoding="utf-8") as f:
            data = json.load(f)
    except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError):
        return None
    entry = data.get(profile) if isinstance(data, dict) else None
    return entry if isinstance(entry, dict) else None


def write_profile(path: str, profile: str, license_key: str, secret_key: str, server: str) -> None:
    """Write (or update) ``profile`` in the license file at ``path``, keeping other profiles.

    The file is replaced atomically and readable by its owner only (mode 0600). Besides
    ``license-key``/``secret-key``/``server`` it carries ``license``/``secret``, the names the
    official Amber SDK 2.0 reads.
    """
    path = os.path.expanduser(path)
    data: dict[str, Any] = {}
    try:
        with open(path, encoding="utf-8") as f:
            loaded = json.load(f)
        if isinstance(loaded, dict):
            data = loaded
    except FileNotFoundError:
        pass
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"license file {path} is not valid JSON; not overwriting it") from exc
    entry = data.get(profile) if isinstance(data.get(profile), dict) else {}
    assert isinstance(entry, dict)
    entry.update(
        {
            "license-key": license_key,
            "secret-key": secret_key,
            "server": server,
            "license": license_key,
            "secret": secret_key,
        }
    )
    entry.pop("oauth-server", None)
    data[profile] = entry
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".amber-license-", dir=directory)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=2)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    os.chmod(path, 0o600)
