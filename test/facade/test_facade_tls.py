"""TLS: verification on by default, CA bundle, verify=False, client certificate (mutual TLS).

An HTTPS front (the test proxy with a certificate made by ``openssl``) relays to the server.
"""

from __future__ import annotations

import shutil
import subprocess
import warnings
from pathlib import Path
from typing import Any

import pytest

from boonamber.facade import AmberConnectionError

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl CLI")


def _certificate(folder: Path, name: str) -> tuple[str, str]:
    cert, key = folder / f"{name}.pem", folder / f"{name}.key"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    return str(cert), str(key)


@pytest.fixture
def tls_files(tmp_path: Path) -> dict[str, tuple[str, str]]:
    return {"server": _certificate(tmp_path, "server"), "client": _certificate(tmp_path, "client")}


def test_verification_is_on_by_default(
    amber_server: Any, make_proxy: Any, make_client: Any, tls_files: Any
) -> None:
    front = make_proxy(amber_server.url, tls=tls_files["server"])
    assert front.url.startswith("https://")
    client = make_client(front.url, amber_server.license_key, amber_server.secret_key)
    with pytest.raises(AmberConnectionError) as info:
        client.get_version()
    assert "TLS" in str(info.value) and "CERTIFICATE_VERIFY_FAILED" in str(info.value)
    assert front.requests() == []


def test_ca_bundle_and_verify_false(
    amber_server: Any, make_proxy: Any, make_client: Any, tls_files: Any
) -> None:
    front = make_proxy(amber_server.url, tls=tls_files["server"])
    key, secret = amber_server.license_key, amber_server.secret_key
    trusted = make_client(front.url, key, secret, verify=tls_files["server"][0])
    assert trusted.get_version()["api-version"]
    insecure = make_client(front.url, key, secret, verify=False)
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        assert insecure.get_models()["modelList"] is not None


def test_client_certificate(
    amber_server: Any, make_proxy: Any, make_client: Any, tls_files: Any
) -> None:
    front = make_proxy(amber_server.url, tls=tls_files["server"], client_ca=tls_files["client"][0])
    key, secret, ca = amber_server.license_key, amber_server.secret_key, tls_files["server"][0]
    without = make_client(front.url, key, secret, verify=ca, max_retries=0)
    with pytest.raises(AmberConnectionError):
        without.get_version()
    with_cert = make_client(front.url, key, secret, verify=ca, cert=tls_files["client"])
    assert with_cert.get_version()["api-version"]
