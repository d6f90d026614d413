"""``AmberClient``: the handwritten client of the Amber v2 API."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, TypeVar, overload

from boonamber.facade import pretrain, requests
from boonamber.facade.answers import Answer, response_model
from boonamber.facade.convert import pandas_index, to_table
from boonamber.facade.credentials import Cert, Settings, resolve_settings
from boonamber.facade.csvfile import CsvFile, feature_names, is_csv_path
from boonamber.facade.errors import AmberUserError
from boonamber.facade.requests import DEFAULT_BATCH_VALUES
from boonamber.facade.requests import model_id as _model_id
from boonamber.facade.results import (
    AmberResult,
    DeleteModelResult,
    ErrorResult,
    GetModelsResult,
    GetNanoStatusResult,
    GetPretrainResult,
    GetRootCauseResult,
    GetStatusResult,
    GetSummaryResult,
    GetUsageResult,
    GetVersionResult,
    PostConfigResult,
    PostDataResult,
    PostLearningResult,
    PostModelResult,
    PostPretrainResult,
    PutDataResult,
    with_result_type,
)
from boonamber.facade.retry import DEFAULT_MAX_RETRIES, RetryPolicy
from boonamber.facade.streams import ResultStream
from boonamber.facade.transport import DEFAULT_TIMEOUT, Timeout, Transport, normalize_timeout

if TYPE_CHECKING:
    from boonamber.local.embedded import EmbeddedServer
    from boonamber.v2 import (
        AutotuneConfig,
        DefaultApi,
        PostConfigRequest,
        PostLearningRequest,
        PostModelRequest,
        PutDataRequest,
        PutModelRequest,
        TrainingConfig,
    )

__all__ = ["DEFAULT_BATCH_VALUES", "AmberClient", "connection"]

R = TypeVar("R", bound="AmberResult[Any]")


def connection(
    *, max_retries: int | RetryPolicy | None, **settings: Any
) -> tuple[Settings, RetryPolicy]:
    """The resolved settings and retry policy of a client (sync or async) from its arguments."""
    resolved = resolve_settings(**settings)
    if isinstance(max_retries, RetryPolicy):
        return resolved, max_retries
    count = DEFAULT_MAX_RETRIES if max_retries is None else max_retries
    return resolved, RetryPolicy(max_retries=count)


class AmberClient:
    """A client of one Amber server with one account.

    Settings come, each on its own, from the arguments, then the environment
    (``AMBER_*``), then the license-file profile, then defaults (see ``docs/facade.md``)::

        amber = AmberClient()                        # ~/.Amber.license, profile "default"
        amber = AmberClient(server="https://amber.boonlogic.com/v2",
                            license_key="...", secret_key="...")
        with AmberClient.local() as amber: ...       # in-process local server

    Every call returns an :class:`~boonamber.facade.results.AmberResult`: the generated
    model (``.model``, attribute access) that is also a JSON-ready ``dict`` with wire keys.
    Errors: :class:`AmberUserError` for misuse (nothing sent), :class:`AmberCloudError`
    for every error answer, connection failure and timeout. ``client.api`` is the generated
    ``DefaultApi`` for anything else (its calls are authenticated, not retried/translated).

    Args:
        profile_name: license-file profile (default ``"default"``, or ``AMBER_PROFILE_NAME``).
        license_file: license file (default ``~/.Amber.license``, or ``AMBER_LICENSE_FILE``).
        server: the API URL including ``/v2``.
        oauth_server: the URL of the OAuth endpoints (default: ``server``).
        license_key, secret_key: the credentials (``username`` / ``password`` are aliases).
        verify: ``True`` (default), ``False``, or the path of a CA bundle.
        cert: client certificate: a PEM path, or a ``(cert, key)`` pair of paths.
        timeout: seconds, or a ``(connect, read)`` pair; default ``(10, 60)``.
        proxy: proxy URL (default: ``AMBER_PROXY``, then ``HTTPS_PROXY`` / ``HTTP_PROXY``).
        max_retries: retries of failed requests (default 3), or a :class:`RetryPolicy`.
    """

    #: The type of every result (``AmberV2Client`` returns a subclass).
    _result_type: type[AmberResult[Any]] = AmberResult

    def __init__(
        self,
        profile_name: str | None = None,
        license_file: str | os.PathLike[str] | None = None,
        *,
        server: str | None = None,
        oauth_server: str | None = None,
        license_key: str | None = None,
        secret_key: str | None = None,
        username: str | None = None,
        password: str | None = None,
        verify: bool | str | None = None,
        cert: Cert | None = None,
        timeout: Timeout | None = None,
        proxy: str | None = None,
        max_retries: int | RetryPolicy | None = None,
    ) -> None:
        settings, policy = connection(
            profile_name=profile_name,
            license_file=license_file,
            server=server,
            oauth_server=oauth_server,
            license_key=license_key,
            secret_key=secret_key,
            username=username,
            password=password,
            verify=verify,
            cert=cert,
            proxy=proxy,
            max_retries=max_retries,
        )
        self._transport = Transport(
            settings, timeout=normalize_timeout(timeout, DEFAULT_TIMEOUT), retry=policy
        )
        self._local_server: EmbeddedServer | None = None

    @classmethod
    def local(
        cls,
        *,
        db_path: str = ":memory:",
        token_ttl: float = 3600.0,
        timeout: Timeout | None = None,
        max_retries: int | RetryPolicy | None = None,
    ) -> AmberClient:
        """A client bound to a local Amber server started in this process.

        The server (``boonamber.local``, extra ``boonamber[local]``) stops when the client
        is closed. ``db_path`` is its SQLite file (``":memory:"`` by default).
        """
        try:
            from boonamber.local.embedded import EmbeddedServer
        except ImportError as e:
            raise AmberUserError(
                f"the local server is not available ({e}); install 'boonamber[local]'"
            ) from e
        server = EmbeddedServer(db_path=db_path, token_ttl=token_ttl)
        server.start()
        try:
            client = cls(
                server=server.url,
                license_key=server.license_key,
                secret_key=server.secret_key,
                timeout=timeout,
                max_retries=max_retries,
            )
        except BaseException:
            server.stop()
            raise
        client._local_server = server
        return client

    # ------------------------------------------------------------------ plumbing
    @property
    def api(self) -> DefaultApi:
        """The generated ``DefaultApi`` of this client (authenticated with its token)."""
        return self._transport.api

    @property
    def server(self) -> str:
        """The API URL this client talks to."""
        return self._transport.settings.server

    @property
    def timeout(self) -> tuple[float, float]:
        """The default (connect, read) timeout in seconds."""
        return self._transport.timeout

    @property
    def retry_policy(self) -> RetryPolicy:
        """How failed requests are retried."""
        return self._transport.retry

    def close(self) -> None:
        """Release connections (and stop the local server of :meth:`local`)."""
        self._transport.close()
        server, self._local_server = self._local_server, None
        if server is not None:
            server.stop()

    def __enter__(self) -> AmberClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        settings = self._transport.settings
        name = type(self).__name__
        return f"{name}(server={settings.server!r}, profile_name={settings.profile_name!r})"

    def _get(
        self,
        result: type[R],
        fn: Callable[..., Any],
        *args: Any,
        request_timeout: Timeout | None = None,
        **kw: Any,
    ) -> R:
        return self._send(result, fn, *args, replayable=True, request_timeout=request_timeout, **kw)

    def _send(
        self,
        result: type[R],
        fn: Callable[..., Any],
        *args: Any,
        replayable: bool,
        request_timeout: Timeout | None = None,
        index: Any = None,
        **kw: Any,
    ) -> R:
        # The generated method names the request and its answer's model; the answer is
        # decoded once and the model built from it on demand (facade/answers.py).
        answer = self._transport.call_json(
            fn, *args, replayable=replayable, request_timeout=request_timeout, **kw
        )
        return with_result_type(result, self._result_type).from_wire(
            answer.data, response_model(fn), index=index
        )

    # ------------------------------------------------------------------ service
    def get_version(self, *, request_timeout: Timeout | None = None) -> GetVersionResult:
        """Version information of the server (``"api-version"``, ``"release"``, ...)."""
        return self._get(
            GetVersionResult, self.api.get_version_with_http_info, request_timeout=request_timeout
        )

    # ------------------------------------------------------------------ models
    def get_models(
        self, verbose: bool = False, *, request_timeout: Timeout | None = None
    ) -> GetModelsResult:
        """The account's models (``"modelList"``); ``verbose`` adds full metadata."""
        return self._get(
            GetModelsResult,
            self.api.get_models_with_http_info,
            verbose="true" if verbose else None,
            request_timeout=request_timeout,
        )

    def post_model(
        self,
        label: str | PostModelRequest | None = None,
        *,
        request_timeout: Timeout | None = None,
    ) -> PostModelResult:
        """Create a model: ``post_model("my-label")``. Returns its ``"id"``."""
        return self._send(
            PostModelResult,
            self.api.post_model_with_http_info,
            requests.post_model(label),
            replayable=False,
            request_timeout=request_timeout,
        )

    def get_model(
        self, model_id: str, *, request_timeout: Timeout | None = None
    ) -> PostModelResult:
        """A model's metadata (``"id"``, ``"label"``, ``"created"``, ``"modified"``)."""
        return self._get(
            PostModelResult,
            self.api.get_model_with_http_info,
            _model_id(model_id),
            request_timeout=request_timeout,
        )

    def put_model(
        self,
        model_id: str,
        body: PutModelRequest | str | None = None,
        *,
        label: str | None = None,
        request_timeout: Timeout | None = None,
    ) -> PostModelResult:
        """Rename a model: ``put_model(model_id, label="new")``."""
        return self._send(
            PostModelResult,
            self.api.put_model_with_http_info,
            requests.put_model(body, label),
            _model_id(model_id),
            replayable=True,
            request_timeout=request_timeout,
        )

    def delete_model(
        self, model_id: str, *, request_timeout: Timeout | None = None
    ) -> DeleteModelResult:
        """Delete a model for good."""
        return self._send(
            DeleteModelResult,
            self.api.delete_model_with_http_info,
            _model_id(model_id),
            replayable=True,
            request_timeout=request_timeout,
        )

    def copy_model(
        self, model_id: str, label: str | None = None, *, request_timeout: Timeout | None = None
    ) -> PostModelResult:
        """Copy a model (configuration and learned state); returns the new model."""
        return self._send(
            PostModelResult,
            self.api.post_model_copy_with_http_info,
            _model_id(model_id),
            requests.copy_model(label),
            replayable=False,
            request_timeout=request_timeout,
        )

    def migrate_model(
        self, v1_model_id: str, *, request_timeout: Timeout | None = None
    ) -> PostModelResult:
        """Create a v2 model from an Amber v1 model (sensor) of the same account."""
        return self._send(
            PostModelResult,
            self.api.post_model_migrate_with_http_info,
            _model_id(v1_model_id, "v1_model_id"),
            replayable=False,
            request_timeout=request_timeout,
        )

    # ------------------------------------------------------------------ configuration
    def post_config(
        self,
        model_id: str,
        body: PostConfigRequest | Mapping[str, Any] | None = None,
        *,
        streaming_window: int | None = None,
        percent_variation: float | None = None,
        features: int | Sequence[Any] | None = None,
        training: TrainingConfig | Mapping[str, Any] | None = None,
        autotuning: AutotuneConfig | Mapping[str, Any] | bool | None = None,
        request_timeout: Timeout | None = None,
    ) -> PostConfigResult:
        """Configure a model (wipes what it learned and restarts it in Buffering).

        Pass a ``PostConfigRequest`` (or a mapping), or the fields as keywords; see
        :meth:`configure` for what ``features`` accepts.
        """
        request = requests.post_config(
            body,
            streaming_window=streaming_window,
            percent_variation=percent_variation,
            features=features,
            training=training,
            autotuning=autotuning,
        )
        return self._send(
            PostConfigResult,
            self.api.post_config_with_http_info,
            request,
            _model_id(model_id),
            replayable=True,
            request_timeout=request_timeout,
        )

    def configure(
        self,
        model_id: str,
        features: int | Sequence[Any] = 1,
        *,
        streaming_window: int = 25,
        percent_variation: float | None = None,
        training: TrainingConfig | Mapping[str, Any] | None = None,
        autotune: AutotuneConfig | Mapping[str, Any] | bool | None = None,
        request_timeout: Timeout | None = None,
    ) -> PostConfigResult:
        """Configure a model the friendly way.

        ``features`` is a count (``3`` -> ``feature-0`` .. ``feature-2``), a list of names,
        or a list of ``FeatureConfig`` / dicts (``{"name": "t", "minVal": 0, "maxVal": 1}``).
        ``training`` is a ``TrainingConfig`` or dict (``{"bufferingSamples": 1000}`` or
        ``{"buffering_samples": 1000}``); ``autotune`` a bool, dict or ``AutotuneConfig``.
        """
        return self.post_config(
            model_id,
            streaming_window=streaming_window,
            percent_variation=percent_variation,
            features=features,
            training=training,
            autotuning=autotune,
            request_timeout=request_timeout,
        )

    def get_config(
        self, model_id: str, *, request_timeout: Timeout | None = None
    ) -> PostConfigResult:
        """A model's configuration (autotuned values included)."""
        return self._get(
            PostConfigResult,
            self.api.get_config_with_http_info,
            _model_id(model_id),
            request_timeout=request_timeout,
        )

    def post_learning(
        self,
        model_id: str,
        body: PostLearningRequest | Mapping[str, Any] | None = None,
        *,
        state: Literal["Learning", "Buffering"] | None = None,
        training: TrainingConfig | Mapping[str, Any] | None = None,
        autotuning: AutotuneConfig | Mapping[str, Any] | bool | None = None,
        request_timeout: Timeout | None = None,
    ) -> PostLearningResult:
        """Re-enable learning (``state="Learning"``) or restart buffering (``"Buffering"``)."""
        request = requests.post_learning(
            body, state=state, training=training, autotuning=autotuning
        )
        return self._send(
            PostLearningResult,
            self.api.post_learning_with_http_info,
            request,
            _model_id(model_id),
            replayable=True,
            request_timeout=request_timeout,
        )

    # ------------------------------------------------------------------ data
    def post_data(
        self,
        model_id: str,
        data: Any,
        *,
        save_image: bool | None = None,
        request_timeout: Timeout | None = None,
    ) -> PostDataResult:
        """Send data to a model; returns one analytics entry per pattern, and the status.

        ``data``: a CSV string, a number, a list / tuple (flat or rows), a numpy array or a
        pandas Series / DataFrame. Bad data raises ``AmberUserError`` before sending.
        Never retried once it may have reached the server.
        """
        mid = _model_id(model_id)
        text = to_table(data).encode()
        return self._post_csv(mid, text, save_image, request_timeout, pandas_index(data))

    def _post_csv(
        self,
        model_id: str,
        text: str,
        save_image: bool | None,
        request_timeout: Timeout | None,
        index: Any = None,
    ) -> PostDataResult:
        return self._send(
            PostDataResult,
            self.api.post_data_with_http_info,
            requests.post_data(text, save_image),
            model_id,
            replayable=False,
            request_timeout=request_timeout,
            index=index,
        )

    def put_data(
        self,
        model_id: str,
        vector: PutDataRequest | Mapping[str, float] | Sequence[Any],
        *,
        fusion_rule: Literal["default", "submit", "nosubmit"] | None = None,
        request_timeout: Timeout | None = None,
    ) -> PutDataResult:
        """Update feature values of the fusion vector: ``put_data(id, {"temp": 21.5})``.

        ``vector`` is a ``PutDataRequest``, a mapping name -> value, or a list of
        ``FusionFeature`` / ``{"name", "value"}`` dicts / ``(name, value)`` pairs.
        """
        mid = _model_id(model_id)
        request = requests.put_data(vector, fusion_rule)
        return self._send(
            PutDataResult,
            self.api.put_data_with_http_info,
            request,
            mid,
            replayable=False,
            request_timeout=request_timeout,
        )

    def stream(
        self,
        model_id: str,
        data: Any,
        *,
        batch_size: int = DEFAULT_BATCH_VALUES,
        progress: pretrain.Progress | None = None,
        save_image: bool | None = None,
        request_timeout: Timeout | None = None,
    ) -> ResultStream[PostDataResult]:
        """Send large data in ``post_data`` batches, yielding each batch's result
        (``amber.stream(...).to_pandas()``: all of them as one DataFrame).

        ``data`` is anything :meth:`post_data` takes (validated whole before the first
        batch), or a CSV file: a path (``pathlib.Path``: an optional header row whose names
        are matched to the model's features, see ``docs/streaming-and-pretraining.md``) or
        an open text file of numbers (validated batch by batch). ``batch_size`` is in values, rounded to whole rows.
        ``progress(done, total)`` is called after each batch (``total`` is ``None`` for files).
        """
        mid = _model_id(model_id)
        if is_csv_path(data):
            requests.data_batches([0.0], batch_size)  # validates batch_size
            csv = CsvFile(data, features=self._feature_names(mid, request_timeout))
            batches: requests.Batches = csv.csv_batches(batch_size)
            total = None
        else:
            batches, total = requests.data_batches(data, batch_size)
        index = pandas_index(data)
        return ResultStream(
            self._stream(mid, batches, total, progress, save_image, request_timeout, index)
        )

    def _feature_names(self, model_id: str, request_timeout: Timeout | None) -> list[str] | None:
        """The model's feature names, to match a CSV file's header against."""
        from boonamber.facade.errors import AmberCloudError

        try:
            return feature_names(self.get_config(model_id, request_timeout=request_timeout))
        except AmberCloudError as e:
            if e.status == 400:  # not configured yet: the data request will say so
                return None
            raise

    def _stream(
        self,
        model_id: str,
        batches: requests.Batches,
        total: int | None,
        progress: pretrain.Progress | None,
        save_image: bool | None,
        request_timeout: Timeout | None,
        index: Any = None,
    ) -> Iterator[PostDataResult]:
        done = 0
        # one index entry per row: each batch's result gets its rows' part of the index
        width = total // len(index) if index is not None and total and len(index) else 0
        for text, count in batches:
            part = index[done // width : (done + count) // width] if width else None
            result = self._post_csv(model_id, text, save_image, request_timeout, part)
            done += count
            if progress is not None:
                progress(done, total)
            yield result

    def stream_analytics(
        self,
        model_id: str,
        data: Any,
        *,
        batch_size: int = DEFAULT_BATCH_VALUES,
        progress: pretrain.Progress | None = None,
        save_image: bool | None = None,
        request_timeout: Timeout | None = None,
    ) -> PostDataResult:
        """Like :meth:`stream`, but return one result: all analytics joined, the last status."""
        results = self.stream(
            model_id,
            data,
            batch_size=batch_size,
            progress=progress,
            save_image=save_image,
            request_timeout=request_timeout,
        )
        joined = requests.join_analytics(results)
        return with_result_type(PostDataResult, self._result_type)(joined, index=pandas_index(data))

    def get_status(
        self, model_id: str, *, request_timeout: Timeout | None = None
    ) -> GetStatusResult:
        """A model's state, progress and counts."""
        return self._get(
            GetStatusResult,
            self.api.get_status_with_http_info,
            _model_id(model_id),
            request_timeout=request_timeout,
        )

    def post_outage(self, model_id: str, *, request_timeout: Timeout | None = None) -> ErrorResult:
        """Tell a model its data stream was interrupted (clears the streaming window)."""
        return self._send(
            ErrorResult,
            self.api.post_outage_with_http_info,
            _model_id(model_id),
            replayable=True,
            request_timeout=request_timeout,
        )

    # ------------------------------------------------------------------ pretrain
    @overload
    def post_pretrain(
        self,
        model_id: str,
        data: Any,
        *,
        chunk_size: int | None = ...,
        block: Literal[True] = ...,
        timeout: float = ...,
        progress: pretrain.PretrainProgress | None = ...,
        workers: int = ...,
        request_timeout: Timeout | None = ...,
    ) -> GetPretrainResult: ...

    @overload
    def post_pretrain(
        self,
        model_id: str,
        data: Any,
        *,
        chunk_size: int | None = ...,
        block: Literal[False],
        timeout: float = ...,
        progress: pretrain.PretrainProgress | None = ...,
        workers: int = ...,
        request_timeout: Timeout | None = ...,
    ) -> PostPretrainResult: ...

    def post_pretrain(
        self,
        model_id: str,
        data: Any,
        *,
        chunk_size: int | None = None,
        block: bool = True,
        timeout: float = pretrain.DEFAULT_PRETRAIN_TIMEOUT,
        progress: pretrain.PretrainProgress | None = None,
        workers: int = pretrain.DEFAULT_WORKERS,
        request_timeout: Timeout | None = None,
    ) -> GetPretrainResult | PostPretrainResult:
        """Pretrain a model on historical data, uploaded as float32 in chunks.

        ``data``: anything :meth:`post_data` takes, or a CSV file (``pathlib.Path``, read
        in blocks, its header matched to the model's features as in :meth:`stream`).
        ``chunk_size`` is in values (default 500,000, about 2.7 MB per request); chunk 1
        goes first, the rest on ``workers`` threads, each retried on transient failures
        (after a lost answer only once :meth:`get_pretrain` shows it is needed).
        With ``block=True`` (default) wait, polling :meth:`get_pretrain` with backoff, until
        the model is ``Pretrained`` and return that status; give up after ``timeout`` seconds
        with ``AmberPretrainTimeoutError``. With ``block=False`` return the upload's last
        answer. ``progress(sent, total)`` follows the upload; a callback taking a third
        argument also gets ``progress(total, total, percent)`` while the server pretrains.
        """
        mid = _model_id(model_id)
        if is_csv_path(data):
            pretrain.check_chunk_size(chunk_size)
            csv = CsvFile(data, features=self._feature_names(mid, request_timeout))
            data = csv.float32()

        def send(body: Any, chunkspec: str, txn_id: str | None) -> Answer:
            # not replayable: after a lost answer pretrain.py looks before it resends
            return self._transport.call_json(
                self.api.post_pretrain_with_http_info,
                body,
                mid,
                chunkspec=chunkspec,
                txn_id=txn_id,
                replayable=False,
                request_timeout=request_timeout,
            )

        return pretrain.pretrain(
            send,
            lambda: self.get_pretrain(mid, request_timeout=request_timeout),
            data,
            chunk_size=chunk_size,
            block=block,
            timeout=timeout,
            progress=progress,
            workers=workers,
            retry=self._transport.retry,
        )

    def get_pretrain(
        self, model_id: str, *, request_timeout: Timeout | None = None
    ) -> GetPretrainResult:
        """A model's pretrain status (``None``, ``Chunking``, ``Pretraining``, ``Pretrained``)."""
        return self._get(
            GetPretrainResult,
            self.api.get_pretrain_with_http_info,
            _model_id(model_id),
            request_timeout=request_timeout,
        )

    # ------------------------------------------------------------------ analysis
    def get_root_cause(
        self,
        model_id: str,
        clusters: Any = None,
        vectors: Any = None,
        *,
        request_timeout: Timeout | None = None,
    ) -> GetRootCauseResult:
        """Feature contributions for clusters (``clusters=[1, 2]``, ``3``, ``"1,2"``) or for
        patterns (``vectors=`` one pattern or a 2-D list/array); give exactly one of the two.
        """
        mid = _model_id(model_id)
        kwargs = requests.root_cause_query(clusters, vectors)
        return self._get(
            GetRootCauseResult,
            self.api.get_root_cause_with_http_info,
            mid,
            request_timeout=request_timeout,
            **kwargs,
        )

    def get_usage(self, model_id: str, *, request_timeout: Timeout | None = None) -> GetUsageResult:
        """Call counts per endpoint and the number of samples processed by a model."""
        return self._get(
            GetUsageResult,
            self.api.get_usage_with_http_info,
            _model_id(model_id),
            request_timeout=request_timeout,
        )

    def get_summary(
        self,
        model_id: str,
        training_samples: bool | None = None,
        *,
        request_timeout: Timeout | None = None,
    ) -> GetSummaryResult:
        """A free-form description of the model's engine internals."""
        if training_samples is not None and not isinstance(training_samples, bool):
            raise AmberUserError(f"training_samples must be a bool, got {training_samples!r}")
        return self._get(
            GetSummaryResult,
            self.api.get_summary_with_http_info,
            _model_id(model_id),
            training_samples=training_samples,
            request_timeout=request_timeout,
        )

    def get_nano_status(
        self, model_id: str, *, request_timeout: Timeout | None = None
    ) -> GetNanoStatusResult:
        """Per-cluster details of a model (PCA coordinates, sizes, anomaly indexes...)."""
        return self._get(
            GetNanoStatusResult,
            self.api.get_nano_status_with_http_info,
            _model_id(model_id),
            request_timeout=request_timeout,
        )

    def get_diagnostic(self, model_id: str, *, request_timeout: Timeout | None = None) -> bytes:
        """A diagnostic archive of the model (the bytes of a tar file)."""
        response = self._transport.invoke(
            self.api.get_diagnostic_with_http_info,
            _model_id(model_id),
            replayable=True,
            request_timeout=request_timeout,
        )
        data = response.data
        return bytes(data) if data is not None else b""
