"""``AmberV2Client``: :class:`AmberClient` with the surface of the official ``boonamber`` 2.x.

Code written for the official client (``from boonamber import AmberV2Client, ApiException``)
runs unchanged: the same constructor keywords and attributes, the same method names and
positional orders, results whose ``to_dict()`` has the official shape, and every error an
``ApiException``. Everything else is :class:`AmberClient`'s (one implementation): retries,
timeouts on every call, token refresh, data validation. Where the official client is buggy
we do the right thing instead; ``docs/compat.md`` lists each difference.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar, overload

from pydantic import BaseModel

from boonamber import profiles
from boonamber.facade import pretrain
from boonamber.facade.client import AmberClient
from boonamber.facade.compat_results import OfficialResult
from boonamber.facade.convert import to_table
from boonamber.facade.credentials import Cert, parse_verify
from boonamber.facade.errors import AmberUserError
from boonamber.facade.results import AmberResult
from boonamber.facade.retry import RetryPolicy
from boonamber.facade.transport import Timeout

if TYPE_CHECKING:
    from boonamber.v2.models import (
        AutotuneConfig,
        GetPretrainResponse,
        PostDataResponse,
        PostLearningRequest,
        PostLearningResponse,
        PostModelCopyRequest,
        PostModelRequest,
        PostModelResponse,
        PostPretrainResponse,
        PutDataRequest,
        PutDataResponse,
        TrainingConfig,
    )

__all__ = ["OFFICIAL_CHUNK_BYTES", "AmberV2Client", "chunk_values", "float_list_to_csv_string"]

#: The official client's ``post_pretrain`` default ``chunk_size``: bytes of float32 data.
OFFICIAL_CHUNK_BYTES = 400_000
_FLOAT32_BYTES = 4

M = TypeVar("M", bound=BaseModel)

# profile setting -> AmberClient keyword, for the settings a ``profile=`` dict may hold
_PROFILE_SETTINGS = ("server", "oauth_server", "license_key", "secret_key", "verify", "cert")


def chunk_values(chunk_size: Any) -> int:
    """The official ``chunk_size`` (bytes of float32 data per request) in whole values.

    Rounded down to whole float32 values, at least one; anything but an integer >= 1 is an
    :class:`AmberUserError` (the official client divides by zero or splits a value).
    """
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise AmberUserError(
            f"chunk_size must be a whole number of bytes >= 1 (4 per value), got {chunk_size!r}"
        )
    return max(1, chunk_size // _FLOAT32_BYTES)


def float_list_to_csv_string(float_list: Any) -> tuple[str, int]:
    """``(csv text, number of values)`` of a number, a list (flat or rows) or an array, as
    the official helper: each value as ``str(float(v))``, rows flattened.

    Bad input (empty, ragged, NaN, non-numbers) is an :class:`AmberUserError` naming the
    problem, where the official helper raises a bare ``ValueError``.
    """
    tokens = to_table(float_list).encode().split(",")
    return ",".join([str(float(token)) for token in tokens]), len(tokens)


def _either(primary: Any, alias: Any, primary_name: str, alias_name: str) -> Any:
    if primary is not None and alias is not None and primary != alias:
        raise AmberUserError(f"{primary_name} and {alias_name} disagree: pass only one of them")
    return primary if primary is not None else alias


def _profile_settings(profile: Any) -> dict[str, Any]:
    """The settings of a ``profile=`` dict (license-file keys such as ``license-key``)."""
    if not isinstance(profile, Mapping):
        raise AmberUserError(
            f"profile must be a dict of license-file settings, got {type(profile).__name__}"
        )
    found: dict[str, Any] = {}
    for name in _PROFILE_SETTINGS:
        hit = profiles.find(dict(profile), name)
        if hit is not None:
            found[name] = hit[1]
    return found


def _official(result: AmberResult[M]) -> OfficialResult[M]:
    """``result``, known to be an :class:`OfficialResult` (``AmberV2Client._result_type``)."""
    if not isinstance(result, OfficialResult):  # pragma: no cover - every call makes one
        raise TypeError(f"expected an OfficialResult, got {type(result).__name__}")
    return result


def _as_official(result: AmberResult[M]) -> OfficialResult[M]:
    """``result`` as an :class:`OfficialResult` (the pretrain module builds plain results)."""
    if isinstance(result, OfficialResult):
        return result
    return _official(OfficialResult.from_wire(dict(result), result.model_type))


class AmberV2Client(AmberClient):
    """The official ``boonamber`` 2.x client's surface on :class:`AmberClient`.

    Every keyword is optional; what is not given comes from the environment (``AMBER_*``),
    then the license-file profile (``~/.Amber.license``, profile ``"default"``). Unlike the
    official client, explicit keywords always win (then ``profile``, then the environment,
    then the file), and a license file is not read when the keywords already name the server
    and both keys.

    Args:
        server, oauth_server, license_key, secret_key: as :class:`AmberClient`.
        timeout: seconds (or a ``(connect, read)`` pair) for *every* request.
        license_file: the license file; profile_name (alias ``license_id``): its profile.
        profile: a dict holding a license-file profile (``{"server": ..., "license-key": ...}``).
        verify_ssl (alias ``verify``): ``True``/``False``, ``"true"``/``"false"``, or the
            path of a CA bundle. TLS certificates are verified by default.
        cert, proxy, max_retries: as :class:`AmberClient`.

    Results are :class:`~boonamber.facade.compat_results.OfficialResult`: attribute access
    (``status.cluster_count``), ``to_dict()`` keyed by python names, and the wire-keyed dict.
    """

    _result_type = OfficialResult

    def __init__(
        self,
        *,
        server: str | None = None,
        oauth_server: str | None = None,
        license_key: str | None = None,
        secret_key: str | None = None,
        timeout: Timeout | None = None,
        license_file: str | os.PathLike[str] | None = None,
        profile_name: str | None = None,
        license_id: str | None = None,
        profile: Mapping[str, Any] | None = None,
        verify_ssl: bool | str | None = None,
        verify: bool | str | None = None,
        cert: Cert | None = None,
        proxy: str | None = None,
        max_retries: int | RetryPolicy | None = None,
        **unknown: Any,
    ) -> None:
        if unknown:
            raise AmberUserError(
                f"AmberV2Client() got unknown keyword argument(s): {', '.join(sorted(unknown))}"
            )
        if verify_ssl == "":  # the official default meaning "not set"
            verify_ssl = None
        given: dict[str, Any] = {
            "server": server,
            "oauth_server": oauth_server,
            "license_key": license_key,
            "secret_key": secret_key,
            "verify": _either(
                None if verify_ssl is None else parse_verify(verify_ssl, "argument verify_ssl"),
                None if verify is None else parse_verify(verify, "argument verify"),
                "verify_ssl",
                "verify",
            ),
            "cert": cert,
        }
        if profile is not None:
            for name, value in _profile_settings(profile).items():
                if given[name] is None:
                    given[name] = value
        super().__init__(
            _either(profile_name, license_id, "profile_name", "license_id"),
            license_file,
            proxy=proxy,
            timeout=timeout,
            max_retries=max_retries,
            **given,
        )

    # ------------------------------------------------------------------ attributes
    @property
    def oauth_server(self) -> str:
        """The URL of the OAuth endpoints."""
        return self._transport.settings.oauth_server

    @property
    def license_key(self) -> str:
        """The license key in use (the secret key is never exposed)."""
        return self._transport.settings.license_key

    @property
    def profile_name(self) -> str:
        """The license-file profile consulted."""
        return self._transport.settings.profile_name

    @property
    def license_file(self) -> str | None:
        """The license file consulted."""
        return self._transport.settings.license_file

    @property
    def access_token(self) -> str:
        """The current bearer token (``""`` before the first call)."""
        state = self._transport.tokens.snapshot()
        return state.id_token if state is not None else ""

    @property
    def refresh_token(self) -> str:
        """The current refresh token (``""`` before the first call)."""
        state = self._transport.tokens.snapshot()
        return (state.refresh_token or "") if state is not None else ""

    @property
    def expires_in(self) -> int:
        """Lifetime in seconds of the current token, as the server gave it (0 before login)."""
        state = self._transport.tokens.snapshot()
        return int(state.expires_in) if state is not None else 0

    @property
    def reauth_time(self) -> float:
        """When (``time.time()`` seconds) the token is renewed; 0 before the first call.

        Setting it reschedules the renewal: ``amber.reauth_time = 0`` renews (with the
        refresh token) before the next call.
        """
        state = self._transport.tokens.snapshot()
        return time.time() + state.renew_in if state is not None else 0.0

    @reauth_time.setter
    def reauth_time(self, when: float) -> None:
        self._transport.tokens.renew_in(float(when) - time.time())

    # ------------------------------------------------------------------ official methods
    def post_model(  # type: ignore[override]  # official name of the argument: metadata
        self,
        metadata: PostModelRequest | str | None = None,
        *,
        label: str | None = None,
        request_timeout: Timeout | None = None,
    ) -> OfficialResult[PostModelResponse]:
        """Create a model: ``post_model(PostModelRequest(label="x"))`` (or a label)."""
        if metadata is not None and label is not None:
            raise AmberUserError("post_model: pass either metadata or label=, not both")
        result = super().post_model(
            metadata if metadata is not None else label, request_timeout=request_timeout
        )
        return _official(result)

    # OfficialResult mixed into PostModelResult at run time (results.with_result_type)
    def copy_model(  # type: ignore[override]
        self,
        model_id: str,
        label: str | PostModelCopyRequest | None = None,
        *,
        request_timeout: Timeout | None = None,
    ) -> OfficialResult[PostModelResponse]:
        """Copy a model; without a label the copy keeps the source model's label."""
        from boonamber.v2.models import PostModelCopyRequest

        if isinstance(label, PostModelCopyRequest):
            label = label.label
        result = super().copy_model(model_id, label, request_timeout=request_timeout)
        return _official(result)

    def update_label(
        self, model_id: str, label: str, *, request_timeout: Timeout | None = None
    ) -> OfficialResult[PostModelResponse]:
        """Rename a model (``put_model``)."""
        result = self.put_model(model_id, label=label, request_timeout=request_timeout)
        return _official(result)

    # OfficialResult mixed into PostDataResult at run time (results.with_result_type)
    def post_data(  # type: ignore[override]
        self,
        model_id: str,
        data: Any,
        save_image: bool | None = None,
        *,
        request_timeout: Timeout | None = None,
    ) -> OfficialResult[PostDataResponse]:
        """Send data (a CSV string, numbers, numeric strings, rows, arrays) to a model."""
        result = super().post_data(
            model_id, data, save_image=save_image, request_timeout=request_timeout
        )
        return _official(result)

    def enable_learning(
        self,
        model_id: str,
        body: PostLearningRequest | Mapping[str, Any] | None = None,
        *,
        state: Literal["Learning", "Buffering"] | None = None,
        training: TrainingConfig | Mapping[str, Any] | None = None,
        autotuning: AutotuneConfig | Mapping[str, Any] | bool | None = None,
        request_timeout: Timeout | None = None,
    ) -> OfficialResult[PostLearningResponse]:
        """Re-enable learning (``post_learning``): a ``PostLearningRequest`` or its fields."""
        result = self.post_learning(
            model_id,
            body,
            state=state,
            training=training,
            autotuning=autotuning,
            request_timeout=request_timeout,
        )
        return _official(result)

    def put_data(  # type: ignore[override]  # official name of the argument: body
        self,
        model_id: str,
        body: PutDataRequest | Mapping[str, float] | Any = None,
        *,
        vector: PutDataRequest | Mapping[str, float] | Any = None,
        fusion_rule: Literal["default", "submit", "nosubmit"] | None = None,
        request_timeout: Timeout | None = None,
    ) -> OfficialResult[PutDataResponse]:
        """Update the fusion vector: ``put_data(model_id, PutDataRequest(vector=[...]))``."""
        if body is not None and vector is not None:
            raise AmberUserError("put_data: pass either body or vector=, not both")
        result = super().put_data(
            model_id,
            body if body is not None else vector,
            fusion_rule=fusion_rule,
            request_timeout=request_timeout,
        )
        return _official(result)

    def get_diagnostic(  # type: ignore[override]  # the official call writes a file
        self,
        model_id: str,
        dir: str | os.PathLike[str],
        *,
        request_timeout: Timeout | None = None,
    ) -> str:
        """Write the model's diagnostic archive to ``{dir}/{model_id}-diagnostic.tar``.

        Returns the path. ``dir`` must be an existing directory (``~`` is expanded).
        """
        folder = profiles.expand_path(dir)
        if not folder.is_dir():
            raise AmberUserError(f"get_diagnostic: target directory does not exist: {folder}")
        data = super().get_diagnostic(model_id, request_timeout=request_timeout)
        path = Path(folder) / f"{model_id}-diagnostic.tar"
        path.write_bytes(data)
        return str(path)

    @overload  # type: ignore[override]  # chunk_size counts bytes, as the official client's
    def post_pretrain(
        self,
        model_id: str,
        data: Any,
        chunk_size: int = ...,
        block: Literal[True] = ...,
        *,
        timeout: float = ...,
        progress: pretrain.Progress | None = ...,
        workers: int = ...,
        request_timeout: Timeout | None = ...,
    ) -> OfficialResult[GetPretrainResponse]: ...

    @overload
    def post_pretrain(
        self,
        model_id: str,
        data: Any,
        chunk_size: int = ...,
        *,
        block: Literal[False],
        timeout: float = ...,
        progress: pretrain.Progress | None = ...,
        workers: int = ...,
        request_timeout: Timeout | None = ...,
    ) -> OfficialResult[PostPretrainResponse]: ...

    @overload
    def post_pretrain(
        self,
        model_id: str,
        data: Any,
        chunk_size: int,
        block: Literal[False],
        *,
        timeout: float = ...,
        progress: pretrain.Progress | None = ...,
        workers: int = ...,
        request_timeout: Timeout | None = ...,
    ) -> OfficialResult[PostPretrainResponse]: ...

    def post_pretrain(
        self,
        model_id: str,
        data: Any,
        chunk_size: int = OFFICIAL_CHUNK_BYTES,
        block: bool = True,
        *,
        timeout: float = pretrain.DEFAULT_PRETRAIN_TIMEOUT,
        progress: pretrain.Progress | None = None,
        workers: int = pretrain.DEFAULT_WORKERS,
        request_timeout: Timeout | None = None,
    ) -> OfficialResult[GetPretrainResponse] | OfficialResult[PostPretrainResponse]:
        """Pretrain on historical data; ``chunk_size`` is in bytes of float32 data per
        request (4 per value; default 400,000 = 100,000 values), as the official client's.

        With ``block=True`` wait (at most ``timeout`` seconds) and return the final
        pretrain status; else return the upload's last answer.
        """
        options: dict[str, Any] = {
            "chunk_size": chunk_values(chunk_size),
            "timeout": timeout,
            "progress": progress,
            "workers": workers,
            "request_timeout": request_timeout,
        }
        if block:
            return _as_official(super().post_pretrain(model_id, data, block=True, **options))
        return _as_official(super().post_pretrain(model_id, data, block=False, **options))
