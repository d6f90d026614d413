"""``AsyncAmberClient``: :class:`~boonamber.facade.client.AmberClient` for asyncio.

The same methods with the same arguments, each a coroutine; requests are validated and
built by :mod:`boonamber.facade.requests`, sent and retried by the shared core
(:mod:`boonamber.facade.operations`) over httpx (extra ``boonamber[async]``), and return the
same :class:`~boonamber.facade.results.AmberResult` and errors. See ``docs/async.md``.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, TypeVar, overload

from pydantic import BaseModel

from boonamber.facade import pretrain as sync_pretrain
from boonamber.facade import requests
from boonamber.facade.answers import Answer, response_model
from boonamber.facade.async_transport import AsyncTransport
from boonamber.facade.client import connection
from boonamber.facade.convert import b64_chunk, pandas_index, to_float32, to_table
from boonamber.facade.credentials import Cert
from boonamber.facade.csvfile import CsvFile, feature_names, is_csv_path
from boonamber.facade.errors import AmberCloudError, AmberUserError
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
)
from boonamber.facade.retry import RetryPolicy
from boonamber.facade.streams import AsyncResultStream
from boonamber.facade.transport import DEFAULT_TIMEOUT, Timeout, normalize_timeout

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

__all__ = ["AsyncAmberClient"]

M = TypeVar("M", bound=BaseModel)
R = TypeVar("R", bound=AmberResult[Any])


#: Inputs with more items than this are converted on a worker thread.
OFFLOAD_ITEMS = 4096


def _data_body(data: Any, save_image: bool | None) -> Any:
    """The ``post_data`` request of ``data`` (validated and converted)."""
    return requests.post_data(to_table(data).encode(), save_image)


def _large(data: Any) -> bool:
    size = getattr(data, "size", None)  # numpy / pandas
    if isinstance(size, int):
        return size > OFFLOAD_ITEMS
    return isinstance(data, str | Sequence) and len(data) > OFFLOAD_ITEMS


class AsyncAmberClient:
    """An asyncio client of one Amber server with one account; see :class:`AmberClient`.

    ::

        async with AsyncAmberClient() as amber:                 # same settings as AmberClient
            result = await amber.post_data(model_id, values)
        async with AsyncAmberClient.local() as amber: ...       # in-process local server

    Calls from many tasks share one connection pool and one token (a single task logs in
    or refreshes while the others wait). The arguments are those of :class:`AmberClient`.
    """

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
        self._transport = AsyncTransport(
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
    ) -> AsyncAmberClient:
        """A client bound to a local Amber server started in this process (on its own
        thread); the server stops when the client is closed. Needs ``boonamber[local]``."""
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
        """The generated ``DefaultApi`` this client serializes with (its own calls are sync)."""
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

    async def aclose(self) -> None:
        """Release connections (and stop the local server of :meth:`local`)."""
        await self._transport.aclose()
        server, self._local_server = self._local_server, None
        if server is not None:
            await asyncio.to_thread(server.stop)

    async def __aenter__(self) -> AsyncAmberClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        settings = self._transport.settings
        return (
            f"AsyncAmberClient(server={settings.server!r}, profile_name={settings.profile_name!r})"
        )

    async def _send(
        self,
        result: type[R],
        fn: Callable[..., Any],
        *args: Any,
        replayable: bool = True,
        request_timeout: Timeout | None = None,
        index: Any = None,
        **kw: Any,
    ) -> R:
        # decoded once (on a worker thread when large), the model built on demand; the
        # same typed result classes as AmberClient
        answer = await self._transport.call_json(
            fn, *args, replayable=replayable, request_timeout=request_timeout, **kw
        )
        return result.from_wire(answer.data, response_model(fn), index=index)

    # ------------------------------------------------------------------ service
    async def get_version(self, *, request_timeout: Timeout | None = None) -> GetVersionResult:
        """Version information of the server."""
        return await self._send(
            GetVersionResult, self.api.get_version_with_http_info, request_timeout=request_timeout
        )

    # ------------------------------------------------------------------ models
    async def get_models(
        self, verbose: bool = False, *, request_timeout: Timeout | None = None
    ) -> GetModelsResult:
        """The account's models (``"modelList"``); ``verbose`` adds full metadata."""
        return await self._send(
            GetModelsResult,
            self.api.get_models_with_http_info,
            verbose="true" if verbose else None,
            request_timeout=request_timeout,
        )

    async def post_model(
        self,
        label: str | PostModelRequest | None = None,
        *,
        request_timeout: Timeout | None = None,
    ) -> PostModelResult:
        """Create a model: ``await post_model("my-label")``. Returns its ``"id"``."""
        return await self._send(
            PostModelResult,
            self.api.post_model_with_http_info,
            requests.post_model(label),
            replayable=False,
            request_timeout=request_timeout,
        )

    async def get_model(
        self, model_id: str, *, request_timeout: Timeout | None = None
    ) -> PostModelResult:
        """A model's metadata."""
        return await self._send(
            PostModelResult,
            self.api.get_model_with_http_info,
            _model_id(model_id),
            request_timeout=request_timeout,
        )

    async def put_model(
        self,
        model_id: str,
        body: PutModelRequest | str | None = None,
        *,
        label: str | None = None,
        request_timeout: Timeout | None = None,
    ) -> PostModelResult:
        """Rename a model: ``await put_model(model_id, label="new")``."""
        return await self._send(
            PostModelResult,
            self.api.put_model_with_http_info,
            requests.put_model(body, label),
            _model_id(model_id),
            request_timeout=request_timeout,
        )

    async def delete_model(
        self, model_id: str, *, request_timeout: Timeout | None = None
    ) -> DeleteModelResult:
        """Delete a model for good."""
        return await self._send(
            DeleteModelResult,
            self.api.delete_model_with_http_info,
            _model_id(model_id),
            request_timeout=request_timeout,
        )

    async def copy_model(
        self, model_id: str, label: str | None = None, *, request_timeout: Timeout | None = None
    ) -> PostModelResult:
        """Copy a model (configuration and learned state); returns the new model."""
        return await self._send(
            PostModelResult,
            self.api.post_model_copy_with_http_info,
            _model_id(model_id),
            requests.copy_model(label),
            replayable=False,
            request_timeout=request_timeout,
        )

    async def migrate_model(
        self, v1_model_id: str, *, request_timeout: Timeout | None = None
    ) -> PostModelResult:
        """Create a v2 model from an Amber v1 model (sensor) of the same account."""
        return await self._send(
            PostModelResult,
            self.api.post_model_migrate_with_http_info,
            _model_id(v1_model_id, "v1_model_id"),
            replayable=False,
            request_timeout=request_timeout,
        )

    # ------------------------------------------------------------------ configuration
    async def post_config(
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
        """Configure a model (wipes what it learned and restarts it in Buffering)."""
        request = requests.post_config(
            body,
            streaming_window=streaming_window,
            percent_variation=percent_variation,
            features=features,
            training=training,
            autotuning=autotuning,
        )
        return await self._send(
            PostConfigResult,
            self.api.post_config_with_http_info,
            request,
            _model_id(model_id),
            request_timeout=request_timeout,
        )

    async def configure(
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
        """Configure a model the friendly way (see :meth:`AmberClient.configure`)."""
        return await self.post_config(
            model_id,
            streaming_window=streaming_window,
            percent_variation=percent_variation,
            features=features,
            training=training,
            autotuning=autotune,
            request_timeout=request_timeout,
        )

    async def get_config(
        self, model_id: str, *, request_timeout: Timeout | None = None
    ) -> PostConfigResult:
        """A model's configuration (autotuned values included)."""
        return await self._send(
            PostConfigResult,
            self.api.get_config_with_http_info,
            _model_id(model_id),
            request_timeout=request_timeout,
        )

    async def post_learning(
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
        return await self._send(
            PostLearningResult,
            self.api.post_learning_with_http_info,
            request,
            _model_id(model_id),
            request_timeout=request_timeout,
        )

    # ------------------------------------------------------------------ data
    async def post_data(
        self,
        model_id: str,
        data: Any,
        *,
        save_image: bool | None = None,
        request_timeout: Timeout | None = None,
    ) -> PostDataResult:
        """Send data to a model (anything :meth:`AmberClient.post_data` takes); never
        retried once it may have reached the server."""
        mid = _model_id(model_id)
        if _large(data):  # converting and building a large request: not on the loop
            body = await asyncio.to_thread(_data_body, data, save_image)
        else:
            body = _data_body(data, save_image)
        return await self._post_body(mid, body, request_timeout, pandas_index(data))

    async def _post_csv(
        self,
        model_id: str,
        text: str,
        save_image: bool | None,
        request_timeout: Timeout | None,
        index: Any = None,
    ) -> PostDataResult:
        body = requests.post_data(text, save_image)
        return await self._post_body(model_id, body, request_timeout, index)

    async def _post_body(
        self, model_id: str, body: Any, request_timeout: Timeout | None, index: Any = None
    ) -> PostDataResult:
        return await self._send(
            PostDataResult,
            self.api.post_data_with_http_info,
            body,
            model_id,
            index=index,
            replayable=False,
            request_timeout=request_timeout,
        )

    async def put_data(
        self,
        model_id: str,
        vector: PutDataRequest | Mapping[str, float] | Sequence[Any],
        *,
        fusion_rule: Literal["default", "submit", "nosubmit"] | None = None,
        request_timeout: Timeout | None = None,
    ) -> PutDataResult:
        """Update feature values of the fusion vector: ``await put_data(id, {"t": 21.5})``."""
        mid = _model_id(model_id)
        request = requests.put_data(vector, fusion_rule)
        return await self._send(
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
        progress: sync_pretrain.Progress | None = None,
        save_image: bool | None = None,
        request_timeout: Timeout | None = None,
    ) -> AsyncResultStream[PostDataResult]:
        """Send large data in ``post_data`` batches: ``async for result in amber.stream(...)``
        (as :meth:`AmberClient.stream`; a file is read batch by batch), or
        ``await amber.stream(...).to_pandas()``."""
        return AsyncResultStream(
            self._stream(
                model_id,
                data,
                batch_size=batch_size,
                progress=progress,
                save_image=save_image,
                request_timeout=request_timeout,
            )
        )

    async def _stream(
        self,
        model_id: str,
        data: Any,
        *,
        batch_size: int = DEFAULT_BATCH_VALUES,
        progress: sync_pretrain.Progress | None = None,
        save_image: bool | None = None,
        request_timeout: Timeout | None = None,
    ) -> AsyncIterator[PostDataResult]:
        mid = _model_id(model_id)
        if is_csv_path(data):
            requests.data_batches([0.0], batch_size)  # validates batch_size
            csv = CsvFile(data, features=await self._feature_names(mid, request_timeout))
            batches: requests.Batches = csv.csv_batches(batch_size)
            total = None
        else:
            batches, total = requests.data_batches(data, batch_size)
        done = 0
        index = pandas_index(data)
        # one index entry per row: each batch's result gets its rows' part of the index
        width = total // len(index) if index is not None and total and len(index) else 0
        for text, count in batches:
            part = index[done // width : (done + count) // width] if width else None
            result = await self._post_csv(mid, text, save_image, request_timeout, part)
            done += count
            if progress is not None:
                progress(done, total)
            yield result

    async def _feature_names(
        self, model_id: str, request_timeout: Timeout | None
    ) -> list[str] | None:
        try:
            return feature_names(await self.get_config(model_id, request_timeout=request_timeout))
        except AmberCloudError as e:
            if e.status == 400:  # not configured yet: the data request will say so
                return None
            raise

    async def stream_analytics(
        self,
        model_id: str,
        data: Any,
        *,
        batch_size: int = DEFAULT_BATCH_VALUES,
        progress: sync_pretrain.Progress | None = None,
        save_image: bool | None = None,
        request_timeout: Timeout | None = None,
    ) -> PostDataResult:
        """Like :meth:`stream`, but return one result: all analytics joined, the last status."""
        results = [
            r
            async for r in self.stream(
                model_id,
                data,
                batch_size=batch_size,
                progress=progress,
                save_image=save_image,
                request_timeout=request_timeout,
            )
        ]
        return PostDataResult(requests.join_analytics(results), index=pandas_index(data))

    async def get_status(
        self, model_id: str, *, request_timeout: Timeout | None = None
    ) -> GetStatusResult:
        """A model's state, progress and counts."""
        return await self._send(
            GetStatusResult,
            self.api.get_status_with_http_info,
            _model_id(model_id),
            request_timeout=request_timeout,
        )

    async def post_outage(
        self, model_id: str, *, request_timeout: Timeout | None = None
    ) -> ErrorResult:
        """Tell a model its data stream was interrupted (clears the streaming window)."""
        return await self._send(
            ErrorResult,
            self.api.post_outage_with_http_info,
            _model_id(model_id),
            request_timeout=request_timeout,
        )

    # ------------------------------------------------------------------ pretrain
    @overload
    async def post_pretrain(
        self,
        model_id: str,
        data: Any,
        *,
        chunk_size: int | None = ...,
        block: Literal[True] = ...,
        timeout: float = ...,
        progress: sync_pretrain.PretrainProgress | None = ...,
        workers: int = ...,
        request_timeout: Timeout | None = ...,
    ) -> GetPretrainResult: ...

    @overload
    async def post_pretrain(
        self,
        model_id: str,
        data: Any,
        *,
        chunk_size: int | None = ...,
        block: Literal[False],
        timeout: float = ...,
        progress: sync_pretrain.PretrainProgress | None = ...,
        workers: int = ...,
        request_timeout: Timeout | None = ...,
    ) -> PostPretrainResult: ...

    async def post_pretrain(
        self,
        model_id: str,
        data: Any,
        *,
        chunk_size: int | None = None,
        block: bool = True,
        timeout: float = sync_pretrain.DEFAULT_PRETRAIN_TIMEOUT,
        progress: sync_pretrain.PretrainProgress | None = None,
        workers: int = sync_pretrain.DEFAULT_WORKERS,
        request_timeout: Timeout | None = None,
    ) -> GetPretrainResult | PostPretrainResult:
        """Pretrain a model on historical data (see :meth:`AmberClient.post_pretrain`: the
        same chunks, lost-answer rules, polling and progress); chunks after the first go
        ``workers`` at a time as concurrent tasks."""
        import time

        from boonamber.v2.models import PostPretrainResponse
        from boonamber.v2.models.post_pretrain_request import PostPretrainRequest

        mid = _model_id(model_id)
        chunk_values = sync_pretrain.check_options(chunk_size, workers, block, timeout)
        if is_csv_path(data):
            csv = CsvFile(data, features=await self._feature_names(mid, request_timeout))
            data = await asyncio.to_thread(csv.float32)
        packed = await asyncio.to_thread(to_float32, data)
        total = packed.count
        bounds = sync_pretrain.chunk_bounds(
            total, chunk_values, sync_pretrain.first_chunk(chunk_size)
        )
        n = len(bounds)
        done = 0
        last_sent = time.monotonic()

        async def post(body: Any, spec: str, txn: str | None) -> Answer:
            # not replayable: after a lost answer the status is read before resending
            return await self._transport.call_json(
                self.api.post_pretrain_with_http_info,
                body,
                mid,
                chunkspec=spec,
                txn_id=txn,
                replayable=False,
                request_timeout=request_timeout,
            )

        async def status() -> GetPretrainResult:
            return await self.get_pretrain(mid, request_timeout=request_timeout)

        async def send(index: int, txn: str | None) -> Answer:
            nonlocal done
            start, stop = bounds[index]

            def body() -> Any:
                nonlocal last_sent
                last_sent = max(last_sent, time.monotonic())
                return PostPretrainRequest(data=b64_chunk(packed, start, stop), format="b64float")

            answer = await sync_pretrain.send_chunk_async(
                post,
                status,
                body,
                f"{index + 1}:{n}",
                txn,
                self._transport.retry,
                only_chunk=n == 1,
            )
            done += stop - start
            if progress is not None:
                progress(done, total)
            return answer

        last = await send(0, None)
        if n > 1:
            txn = sync_pretrain.txn_id(last)
            if not txn:
                raise AmberCloudError(
                    "the server's answer to the first pretrain chunk carries no txnId",
                    method="POST",
                )
            gate = asyncio.Semaphore(workers)

            async def gated(index: int) -> Answer:
                async with gate:
                    return await send(index, txn)

            answers = await asyncio.gather(*(gated(i) for i in range(1, n)))
            last = sync_pretrain.most_advanced(answers)
        if not block:
            return PostPretrainResult.from_wire(last.data, PostPretrainResponse)
        on_percent = sync_pretrain.percent_callback(progress, total)
        finished = sync_pretrain.already_pretrained(last, on_percent)
        if finished is not None:
            return finished
        schedule = sync_pretrain.PollSchedule(
            float(timeout), time.monotonic(), on_percent=on_percent, since=last_sent
        )
        while True:
            current = await status()
            wait = schedule.next_wait(current, time.monotonic())
            if wait is None:
                return current
            await asyncio.sleep(wait)

    async def get_pretrain(
        self, model_id: str, *, request_timeout: Timeout | None = None
    ) -> GetPretrainResult:
        """A model's pretrain status (``None``, ``Chunking``, ``Pretraining``, ``Pretrained``)."""
        return await self._send(
            GetPretrainResult,
            self.api.get_pretrain_with_http_info,
            _model_id(model_id),
            request_timeout=request_timeout,
        )

    # ------------------------------------------------------------------ analysis
    async def get_root_cause(
        self,
        model_id: str,
        clusters: Any = None,
        vectors: Any = None,
        *,
        request_timeout: Timeout | None = None,
    ) -> GetRootCauseResult:
        """Feature contributions for clusters or patterns (give exactly one of the two)."""
        mid = _model_id(model_id)
        kwargs: dict[str, Any] = requests.root_cause_query(clusters, vectors)
        return await self._send(
            GetRootCauseResult,
            self.api.get_root_cause_with_http_info,
            mid,
            request_timeout=request_timeout,
            **kwargs,
        )

    async def get_usage(
        self, model_id: str, *, request_timeout: Timeout | None = None
    ) -> GetUsageResult:
        """Call counts per endpoint and the number of samples processed by a model."""
        return await self._send(
            GetUsageResult,
            self.api.get_usage_with_http_info,
            _model_id(model_id),
            request_timeout=request_timeout,
        )

    async def get_summary(
        self,
        model_id: str,
        training_samples: bool | None = None,
        *,
        request_timeout: Timeout | None = None,
    ) -> GetSummaryResult:
        """A free-form description of the model's engine internals."""
        if training_samples is not None and not isinstance(training_samples, bool):
            raise AmberUserError(f"training_samples must be a bool, got {training_samples!r}")
        return await self._send(
            GetSummaryResult,
            self.api.get_summary_with_http_info,
            _model_id(model_id),
            training_samples=training_samples,
            request_timeout=request_timeout,
        )

    async def get_nano_status(
        self, model_id: str, *, request_timeout: Timeout | None = None
    ) -> GetNanoStatusResult:
        """Per-cluster details of a model."""
        return await self._send(
            GetNanoStatusResult,
            self.api.get_nano_status_with_http_info,
            _model_id(model_id),
            request_timeout=request_timeout,
        )

    async def get_diagnostic(
        self, model_id: str, *, request_timeout: Timeout | None = None
    ) -> bytes:
        """A diagnostic archive of the model (the bytes of a tar file)."""
        response = await self._transport.invoke(
            self.api.get_diagnostic_with_http_info,
            _model_id(model_id),
            replayable=True,
            request_timeout=request_timeout,
        )
        data = response.data
        return bytes(data) if data is not None else b""
