"""Versioned, pickle-free container: a JSON header plus named numpy arrays in a stored zip."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import numpy as np
import numpy.typing as npt

from .errors import EngineError

MAGIC = "boonamber-engine"
VERSION = 2  # 2: configuration stored under python names (was: wire names)
_HEADER = "header.json"


def encode(header: dict[str, Any], arrays: dict[str, npt.NDArray[Any]]) -> bytes:
    """Serialise ``header`` (JSON-able) and ``arrays`` into bytes (deterministic layout)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        meta = {"magic": MAGIC, "version": VERSION, **header}
        _write(zf, _HEADER, json.dumps(meta, sort_keys=True, allow_nan=False).encode())
        for name in sorted(arrays):
            npy = io.BytesIO()
            np.save(npy, np.ascontiguousarray(arrays[name]), allow_pickle=False)
            _write(zf, f"{name}.npy", npy.getvalue())
    return buf.getvalue()


def _write(zf: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    zf.writestr(info, data)


def decode(data: bytes) -> tuple[dict[str, Any], dict[str, npt.NDArray[Any]]]:
    """Inverse of :func:`encode`; raises EngineError on corrupt data or an unknown version."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            header = json.loads(zf.read(_HEADER))
            if not isinstance(header, dict) or header.get("magic") != MAGIC:
                raise EngineError("not a boonamber engine snapshot")
            if header.get("version") != VERSION:
                raise EngineError(f"unsupported snapshot version {header.get('version')!r}")
            arrays: dict[str, npt.NDArray[Any]] = {}
            for name in zf.namelist():
                if name.endswith(".npy"):
                    arrays[name[:-4]] = np.load(io.BytesIO(zf.read(name)), allow_pickle=False)
    except EngineError:
        raise
    except Exception as exc:  # zipfile/json/numpy raise many types on corrupt input
        raise EngineError(f"corrupt engine snapshot: {exc}") from None
    return header, arrays
