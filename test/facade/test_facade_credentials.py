"""Where settings come from: arguments > environment > license-file profile > defaults."""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import Any

import pytest
from helpers import write_license_file

from boonamber import AmberClient, AmberUserError
from boonamber.facade.credentials import resolve_settings
from boonamber.profiles import LicenseFileError, read_profile, write_profile

FIELDS = ["server", "oauth_server", "license_key", "secret_key", "verify", "cert", "proxy"]

# field -> (argument value, environment variable and value, license-file key and value)
LEVELS: dict[str, tuple[Any, tuple[str, str], tuple[str, Any]]] = {
    "server": ("http://arg/v2", ("AMBER_SERVER", "http://env/v2"), ("server", "http://file/v2")),
    "oauth_server": (
        "http://arg-oauth/v2",
        ("AMBER_OAUTH_SERVER", "http://env-oauth/v2"),
        ("oauth-server", "http://file-oauth/v2"),
    ),
    "license_key": ("arg-key", ("AMBER_LICENSE_KEY", "env-key"), ("license-key", "file-key")),
    "secret_key": ("arg-secret", ("AMBER_SECRET_KEY", "env-secret"), ("secret-key", "file-secret")),
    "verify": (False, ("AMBER_SSL_VERIFY", "false"), ("ssl-verify", False)),
    "cert": ("/arg/cert.pem", ("AMBER_SSL_CERT", "/env/cert.pem"), ("ssl-cert", "/file/cert.pem")),
    "proxy": (
        "http://arg-proxy:1",
        ("AMBER_PROXY", "http://env-proxy:1"),
        ("proxy", "http://file-proxy:1"),
    ),
}
EXPECTED = {
    "server": ("http://arg/v2", "http://env/v2", "http://file/v2", None),
    "oauth_server": (
        "http://arg-oauth/v2",
        "http://env-oauth/v2",
        "http://file-oauth/v2",
        "=server",
    ),
    "license_key": ("arg-key", "env-key", "file-key", None),
    "secret_key": ("arg-secret", "env-secret", "file-secret", None),
    "verify": (False, False, False, True),
    "cert": ("/arg/cert.pem", "/env/cert.pem", "/file/cert.pem", None),
    "proxy": ("http://arg-proxy:1", "http://env-proxy:1", "http://file-proxy:1", None),
}
BASE_PROFILE = {"server": "http://base/v2", "license-key": "base-key", "secret-key": "base-secret"}


def _write(home: Path, data: Any, name: str = ".Amber.license", mode: int = 0o600) -> Path:
    if not isinstance(data, str):
        return write_license_file(home / name, data, mode)
    path = home / name
    path.write_text(data)
    path.chmod(mode)
    return path


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize("level", ["argument", "environment", "file", "default"])
def test_precedence_table(tmp_path: Path, field: str, level: str) -> None:
    """For each field, the highest level that sets it wins over every lower one."""
    arg_value, (env_name, env_value), (file_key, file_value) = LEVELS[field]
    profile = dict(BASE_PROFILE)
    env = {"HOME": str(tmp_path)}
    kwargs: dict[str, Any] = {}
    order = ["argument", "environment", "file", "default"]
    present = order[order.index(level) :]  # the winning level and every level below it
    if "file" in present:
        profile[file_key] = file_value
    if "environment" in present:
        env[env_name] = env_value
    if "argument" in present:
        kwargs[field] = arg_value
    _write(tmp_path, {"default": profile})
    settings = resolve_settings(env=env, **kwargs)
    expected = EXPECTED[field][order.index(level)]
    if expected is None:  # required fields fall back to the base profile, others to None
        expected = {
            "server": "http://base/v2",
            "license_key": "base-key",
            "secret_key": "base-secret",
        }.get(field)
    if expected == "=server":
        expected = settings.server
    assert getattr(settings, field) == expected
    if level != "default":
        assert settings.sources[field].startswith(level if level != "file" else "key")


def test_seed_license_file_format(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "default": {"username": "seed-user", "password": "seed-pass", "server": "https://s/v2"},
            "other": {"license": "old-key", "secret": "old-secret", "server": "https://o/v2/"},
            "v2": {
                "license_key": "k",
                "secret_key": "s",
                "server": "https://v/v2",
                "oauth_server": "https://a/v2",
            },
        },
    )
    seed = resolve_settings(env={"HOME": str(tmp_path)})
    assert (seed.license_key, seed.secret_key, seed.server) == (
        "seed-user",
        "seed-pass",
        "https://s/v2",
    )
    assert seed.oauth_server == "https://s/v2"
    old = resolve_settings(profile_name="other", env={"HOME": str(tmp_path)})
    assert (old.license_key, old.secret_key, old.server) == (
        "old-key",
        "old-secret",
        "https://o/v2",
    )
    v2 = resolve_settings(env={"HOME": str(tmp_path), "AMBER_PROFILE_NAME": "v2"})
    assert (v2.license_key, v2.oauth_server) == ("k", "https://a/v2")
    legacy_env = resolve_settings(env={"HOME": str(tmp_path), "AMBER_LICENSE_ID": "other"})
    assert legacy_env.license_key == "old-key"


def test_username_password_environment_and_arguments(tmp_path: Path) -> None:
    env = {
        "HOME": str(tmp_path),
        "AMBER_USERNAME": "u",
        "AMBER_PASSWORD": "p",
        "AMBER_SERVER": "http://x/v2",
    }
    settings = resolve_settings(env=env)
    assert (settings.license_key, settings.secret_key) == ("u", "p")
    env["AMBER_LICENSE_KEY"] = "k"  # the v2 name wins over the seed alias
    assert resolve_settings(env=env).license_key == "k"
    by_args = resolve_settings(username="au", password="ap", env=env)
    assert (by_args.license_key, by_args.secret_key) == ("au", "ap")


def test_profile_and_file_selection(tmp_path: Path) -> None:
    other = _write(tmp_path, {"p2": BASE_PROFILE}, name="custom.license")
    env = {"HOME": str(tmp_path), "AMBER_LICENSE_FILE": str(other), "AMBER_PROFILE_NAME": "p2"}
    assert resolve_settings(env=env).license_key == "base-key"
    # arguments beat the environment for the file and the profile too
    _write(tmp_path, {"mine": {**BASE_PROFILE, "license-key": "mine"}}, name="arg.license")
    settings = resolve_settings(profile_name="mine", license_file=tmp_path / "arg.license", env=env)
    assert settings.license_key == "mine"
    assert settings.license_file == str(tmp_path / "arg.license")


def test_missing_file_is_fine_when_everything_comes_from_elsewhere(tmp_path: Path) -> None:
    env = {
        "HOME": str(tmp_path),
        "AMBER_SERVER": "http://e/v2",
        "AMBER_LICENSE_KEY": "k",
        "AMBER_SECRET_KEY": "s",
    }
    assert resolve_settings(env=env).server == "http://e/v2"
    # a file without the default profile is fine too
    _write(tmp_path, {"other": BASE_PROFILE})
    assert resolve_settings(env=env).license_key == "k"


def test_explicit_arguments_skip_the_license_file(tmp_path: Path) -> None:
    _write(tmp_path, "{ not json")
    settings = resolve_settings(
        server="http://a/v2", license_key="k", secret_key="s", env={"HOME": str(tmp_path)}
    )
    assert settings.server == "http://a/v2"


@pytest.mark.parametrize(
    ("content", "kwargs", "env", "words"),
    [
        ("{ not json", {}, {}, ["not valid JSON", "line 1"]),
        ("[1, 2]", {}, {}, ["JSON object"]),
        (
            {"default": BASE_PROFILE},
            {"profile_name": "nope"},
            {},
            ["profile 'nope' not found", "'default'"],
        ),
        (
            {"default": BASE_PROFILE},
            {},
            {"AMBER_PROFILE_NAME": "gone"},
            ["profile 'gone' not found"],
        ),
        ({"other": BASE_PROFILE}, {}, {}, ["profile 'default' not found"]),
        ({"default": "text"}, {}, {}, ["must be a JSON object"]),
        (
            {"default": {"server": "http://s/v2", "secret-key": "s"}},
            {},
            {},
            ["no license key", "AMBER_LICENSE_KEY", "'default'"],
        ),
        (
            {"default": {"server": "http://s/v2", "license-key": "k"}},
            {},
            {},
            ["no secret key", "'secret-key'"],
        ),
        (
            {"default": {"license-key": "k", "secret-key": "s"}},
            {},
            {},
            ["no server", "AMBER_SERVER", "'server'"],
        ),
        ({"default": {**BASE_PROFILE, "server": 5}}, {}, {}, ["'server'", "must be a string"]),
        ({"default": {**BASE_PROFILE, "ssl-verify": "maybe"}}, {}, {}, ["does not exist"]),
        (None, {}, {}, ["no server", "file not found"]),
    ],
)
def test_errors_name_the_file_profile_and_key(
    tmp_path: Path, content: Any, kwargs: dict[str, Any], env: dict[str, str], words: list[str]
) -> None:
    path = _write(tmp_path, content) if content is not None else tmp_path / ".Amber.license"
    with pytest.raises(AmberUserError) as info:
        resolve_settings(env={"HOME": str(tmp_path), **env}, **kwargs)
    message = str(info.value)
    assert str(path) in message
    for word in words:
        assert word in message, message


def test_a_profile_written_by_the_server_is_read_by_the_client(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        {
            "default": {
                **BASE_PROFILE,
                "oauth_server": "http://elsewhere/v2",
                "proxy": "http://p:1",
            },
            "other": {"license": "x"},
        },
    )
    write_profile(path, "default", "new-key", "new-secret", "http://127.0.0.1:5007/v2")
    assert path.stat().st_mode & 0o777 == 0o600
    data = json.loads(path.read_text())
    assert data["other"] == {"license": "x"}
    assert data["default"]["license"] == "new-key" and data["default"]["secret"] == "new-secret"
    settings = resolve_settings(env={"HOME": str(tmp_path)})
    # the stale OAuth server (any alias) is dropped, the profile's other keys are kept
    assert settings.oauth_server == settings.server == "http://127.0.0.1:5007/v2"
    assert (settings.license_key, settings.secret_key) == ("new-key", "new-secret")
    assert settings.proxy == "http://p:1"
    path.write_text("[1, 2]")
    with pytest.raises(LicenseFileError, match="JSON object"):
        write_profile(path, "default", "k", "s", "http://127.0.0.1:5007/v2")
    assert path.read_text() == "[1, 2]"
    assert read_profile(path, "default") is None


def test_warns_when_the_license_file_is_readable_by_others(tmp_path: Path) -> None:
    _write(tmp_path, {"default": BASE_PROFILE}, mode=0o644)
    with pytest.warns(UserWarning, match="readable by other users"):
        resolve_settings(env={"HOME": str(tmp_path)})
    _write(tmp_path, {"default": BASE_PROFILE}, mode=0o600)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        resolve_settings(env={"HOME": str(tmp_path)})


def test_verify_values_and_ca_bundle(tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    base = {
        "HOME": str(tmp_path),
        "AMBER_SERVER": "https://s/v2",
        "AMBER_LICENSE_KEY": "k",
        "AMBER_SECRET_KEY": "s",
    }
    for text, expected in [
        ("true", True),
        ("1", True),
        ("FALSE", False),
        ("no", False),
        (str(bundle), str(bundle)),
    ]:
        assert resolve_settings(env={**base, "AMBER_SSL_VERIFY": text}).verify == expected
    assert resolve_settings(env=base).verify is True
    assert resolve_settings(env=base, verify=str(bundle)).verify == str(bundle)
    assert resolve_settings(env=base, cert=("c.pem", "k.pem")).cert == ("c.pem", "k.pem")


def test_standard_proxy_variables_are_the_default(tmp_path: Path) -> None:
    base = {"HOME": str(tmp_path), "AMBER_LICENSE_KEY": "k", "AMBER_SECRET_KEY": "s"}
    https = {
        **base,
        "AMBER_SERVER": "https://s/v2",
        "HTTPS_PROXY": "http://p:3128",
        "NO_PROXY": "internal",
    }
    settings = resolve_settings(env=https)
    assert (settings.proxy, settings.no_proxy) == ("http://p:3128", "internal")
    http = {
        **base,
        "AMBER_SERVER": "http://s/v2",
        "HTTPS_PROXY": "http://p:3128",
        "http_proxy": "http://q:1",
    }
    assert resolve_settings(env=http).proxy == "http://q:1"
    assert (
        resolve_settings(env={**https, "AMBER_PROXY": "http://amber:1"}).proxy == "http://amber:1"
    )


def test_settings_and_client_repr_hide_secrets(clean_env: Path) -> None:
    settings = resolve_settings(
        server="http://127.0.0.1:1/v2", license_key="LK-visible?", secret_key="SK-secret!"
    )
    assert "SK-secret!" not in repr(settings) and "LK-visible?" not in repr(settings)
    client = AmberClient(
        server="http://127.0.0.1:1/v2", license_key="LK-visible?", secret_key="SK-secret!"
    )
    for text in (
        repr(client),
        str(client),
        repr(client._transport),
        repr(client._transport.tokens),
    ):
        assert "SK-secret!" not in text and "LK-visible?" not in text


def test_client_reads_license_file_from_home(clean_env: Path, amber_server: Any) -> None:
    _write(
        clean_env,
        {
            "default": {
                "username": amber_server.license_key,
                "password": amber_server.secret_key,
                "server": amber_server.url,
            }
        },
    )
    with AmberClient() as amber:
        assert amber.get_version()["api-version"]
        assert amber.server == amber_server.url


def test_client_environment_beats_the_file(
    clean_env: Path, amber_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(
        clean_env,
        {
            "default": {
                "license-key": "wrong",
                "secret-key": "wrong",
                "server": "http://127.0.0.1:1/v2",
            }
        },
    )
    monkeypatch.setenv("AMBER_SERVER", amber_server.url)
    monkeypatch.setenv("AMBER_LICENSE_KEY", amber_server.license_key)
    monkeypatch.setenv("AMBER_SECRET_KEY", amber_server.secret_key)
    with AmberClient() as amber:
        assert amber.get_models()["modelList"] is not None


def test_missing_everything_is_a_user_error(clean_env: Path) -> None:
    with pytest.raises(AmberUserError) as info:
        AmberClient()
    assert str(clean_env / ".Amber.license") in str(info.value)
    assert os.path.basename(str(clean_env)) in str(info.value)
