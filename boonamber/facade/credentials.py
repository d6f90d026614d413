"""Where the client's server, credentials and connection settings come from.

Each setting is resolved on its own, first match wins:

1. the constructor argument,
2. the environment (``AMBER_*``),
3. the profile of the license file (``~/.Amber.license`` by default),
4. the default.

See ``docs/facade.md`` for the full table.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from boonamber import profiles
from boonamber.facade.errors import AmberUserError
from boonamber.profiles import DEFAULT_LICENSE_FILE, DEFAULT_PROFILE

__all__ = [
    "DEFAULT_LICENSE_FILE",
    "DEFAULT_PROFILE",
    "Settings",
    "parse_verify",
    "resolve_settings",
]

Cert = str | tuple[str, str]

# setting -> environment variables, in order of preference (license-file keys: profiles.KEYS)
_ENVIRONMENT: dict[str, tuple[str, ...]] = {
    "server": ("AMBER_SERVER",),
    "oauth_server": ("AMBER_OAUTH_SERVER",),
    "license_key": ("AMBER_LICENSE_KEY", "AMBER_USERNAME"),
    "secret_key": ("AMBER_SECRET_KEY", "AMBER_PASSWORD"),
    "verify": ("AMBER_SSL_VERIFY",),
    "cert": ("AMBER_SSL_CERT",),
    "proxy": ("AMBER_PROXY",),
}
_REQUIRED = ("server", "license_key", "secret_key")
_ARGUMENT_NAMES = {
    "server": "server=",
    "oauth_server": "oauth_server=",
    "license_key": "license_key= (or username=)",
    "secret_key": "secret_key= (or password=)",
}
_TRUE = {"1", "true", "t", "yes", "y", "on"}
_FALSE = {"0", "false", "f", "no", "n", "off"}


@dataclass(frozen=True, repr=False)
class Settings:
    """The resolved connection settings of one client (secrets never shown by ``repr``)."""

    server: str
    oauth_server: str
    license_key: str
    secret_key: str
    verify: bool | str = True
    cert: Cert | None = None
    proxy: str | None = None
    no_proxy: str | None = None
    profile_name: str = DEFAULT_PROFILE
    license_file: str | None = None
    sources: Mapping[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:
        return (
            f"Settings(server={self.server!r}, oauth_server={self.oauth_server!r}, "
            f"license_key='***', secret_key='***', verify={self.verify!r}, "
            f"profile_name={self.profile_name!r}, license_file={self.license_file!r})"
        )

    def secrets(self) -> tuple[str, ...]:
        """The values that must never appear in messages."""
        return (self.license_key, self.secret_key)


def _env_value(env: Mapping[str, str], names: tuple[str, ...]) -> tuple[str, str] | None:
    for name in names:
        value = env.get(name)
        if value:
            return value, f"environment variable {name}"
    return None


def parse_verify(value: Any, origin: str) -> bool | str:
    """A TLS ``verify`` setting: a bool, a true/false word (``"true"``, ``"0"``, ...) or a CA
    bundle path; ``origin`` names where it came from in the error."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        if not lowered:
            raise AmberUserError(f"{origin}: expected true, false or a CA bundle path")
        return value
    raise AmberUserError(f"{origin}: expected true, false or a CA bundle path, got {value!r}")


def _parse_cert(value: Any, origin: str) -> Cert:
    if isinstance(value, str | os.PathLike):
        return os.fspath(value)
    if (
        isinstance(value, tuple | list)
        and len(value) == 2
        and all(isinstance(v, str | os.PathLike) for v in value)
    ):
        return (os.fspath(value[0]), os.fspath(value[1]))
    raise AmberUserError(
        f"{origin}: expected a client certificate path or a (cert, key) pair, got {value!r}"
    )


def _is_loopback(server: str) -> bool:
    host = (urlsplit(server).hostname or "").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _standard_proxy(env: Mapping[str, str], server: str) -> tuple[str | None, str | None]:
    """``HTTPS_PROXY`` / ``HTTP_PROXY`` / ``ALL_PROXY`` (never for a loopback server)."""
    no_proxy = env.get("no_proxy") or env.get("NO_PROXY")
    if _is_loopback(server):
        return None, no_proxy or None
    scheme = server.split("://", 1)[0].lower() if "://" in server else "https"
    proxy = None
    for name in (f"{scheme}_proxy", "all_proxy"):
        proxy = env.get(name) or env.get(name.upper())
        if proxy:
            break
    return proxy or None, no_proxy or None


def _pick_alias(
    primary: Any, alias: Any, primary_name: str, alias_name: str
) -> tuple[Any, str] | None:
    if primary is not None and alias is not None and primary != alias:
        raise AmberUserError(f"{primary_name} and {alias_name} disagree: pass only one of them")
    if primary is not None:
        return primary, f"argument {primary_name}"
    if alias is not None:
        return alias, f"argument {alias_name}"
    return None


def resolve_settings(
    *,
    profile_name: str | None = None,
    license_file: str | os.PathLike[str] | None = None,
    server: str | None = None,
    oauth_server: str | None = None,
    license_key: str | None = None,
    secret_key: str | None = None,
    username: str | None = None,
    password: str | None = None,
    verify: bool | str | None = None,
    cert: Cert | None = None,
    proxy: str | None = None,
    env: Mapping[str, str] | None = None,
) -> Settings:
    """Resolve the settings of a client; see the module docstring for the order.

    ``env`` defaults to ``os.environ`` (injectable for tests; ``HOME`` in it locates ``~``).
    Raises :class:`AmberUserError` naming the file, the profile and the missing key.
    """
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}

    def put(name: str, found: tuple[Any, str] | None) -> None:
        if found is not None and name not in values:
            values[name], sources[name] = found

    # 1. explicit arguments
    for name, value in (("server", server), ("oauth_server", oauth_server), ("proxy", proxy)):
        if value is not None:
            if not isinstance(value, str) or not value:
                raise AmberUserError(f"{name} must be a non-empty string")
            put(name, (value, f"argument {name}"))
    put("license_key", _pick_alias(license_key, username, "license_key", "username"))
    put("secret_key", _pick_alias(secret_key, password, "secret_key", "password"))
    for name in ("license_key", "secret_key"):
        if name in values and (not isinstance(values[name], str) or not values[name]):
            raise AmberUserError(f"{_ARGUMENT_NAMES[name]} must be a non-empty string")
    if verify is not None:
        put("verify", (verify, "argument verify"))
    if cert is not None:
        put("cert", (cert, "argument cert"))

    # 2. environment
    for name, env_names in _ENVIRONMENT.items():
        put(name, _env_value(env, env_names))

    # 3. license-file profile (skipped when the arguments already name server and keys)
    if profile_name is not None:
        profile_named = True
    else:
        profile_env = _env_value(env, ("AMBER_PROFILE_NAME", "AMBER_LICENSE_ID"))
        profile_named = profile_env is not None
        profile_name = profile_env[0] if profile_env else DEFAULT_PROFILE
    if license_file is None:
        license_file = env.get("AMBER_LICENSE_FILE") or DEFAULT_LICENSE_FILE
    path = profiles.expand_path(license_file, env)

    all_explicit = all(sources.get(n, "").startswith("argument") for n in _REQUIRED)
    file_note = ""
    if not all_explicit:
        if path.is_file():
            try:
                known_profiles = profiles.load(path)
            except profiles.LicenseFileError as e:
                raise AmberUserError(str(e)) from None
            profiles.warn_if_exposed(path, stacklevel=3)
            profile = known_profiles.get(profile_name)
            missing = [n for n in _REQUIRED if n not in values]
            if profile is None:
                if profile_named or missing:
                    known = ", ".join(sorted(map(repr, known_profiles))) or "none"
                    raise AmberUserError(
                        f"profile {profile_name!r} not found in license file {path} "
                        f"(profiles: {known})"
                    )
            elif not isinstance(profile, dict):
                raise AmberUserError(
                    f"profile {profile_name!r} in license file {path} must be a JSON object"
                )
            else:
                for name in _ENVIRONMENT:
                    found = profiles.find(profile, name)
                    if found is not None:
                        key, value = found
                        origin = f"key {key!r} of profile {profile_name!r} in {path}"
                        if name not in ("verify", "cert") and not isinstance(value, str):
                            raise AmberUserError(f"{origin} must be a string")
                        put(name, (value, origin))
        else:
            file_note = " (file not found)"

    # 4. defaults and checks
    for name in _REQUIRED:
        if name not in values:
            env_names, keys = _ENVIRONMENT[name], profiles.KEYS[name]
            raise AmberUserError(
                f"no {name.replace('_', ' ')} configured: pass {_ARGUMENT_NAMES[name]}, "
                f"set {' or '.join(env_names)}, or add {' / '.join(map(repr, keys[:2]))} to "
                f"profile {profile_name!r} of license file {path}{file_note}"
            )
    if "verify" in values:
        values["verify"] = parse_verify(values["verify"], sources["verify"])
    if "cert" in values:
        values["cert"] = _parse_cert(values["cert"], sources["cert"])
    if isinstance(values.get("verify"), str):
        bundle = profiles.expand_path(values["verify"], env)
        if not bundle.exists():
            raise AmberUserError(f"CA bundle {bundle} ({sources['verify']}) does not exist")
        values["verify"] = str(bundle)

    server_url = str(values["server"]).rstrip("/")
    oauth_url = str(values.get("oauth_server") or server_url).rstrip("/")
    std_proxy, no_proxy = _standard_proxy(env, server_url)
    if "proxy" not in values and std_proxy:
        put("proxy", (std_proxy, "standard proxy environment variable"))

    return Settings(
        server=server_url,
        oauth_server=oauth_url,
        license_key=values["license_key"],
        secret_key=values["secret_key"],
        verify=values.get("verify", True),
        cert=values.get("cert"),
        proxy=values.get("proxy"),
        no_proxy=no_proxy,
        profile_name=profile_name,
        license_file=str(path),
        sources=sources,
    )
