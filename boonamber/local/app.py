"""The Starlette application: every operation of ``openapi/amber-v2.yaml`` under ``/v2``.

Request bodies are parsed with orjson and validated with the generated pydantic models of
``boonamber.v2``; answers (built by :mod:`boonamber.local.wire`) are serialised once, straight
from the engine's arrays, and checked against the same spec by the contract tests.
Every error is answered as ``{code, message}``; unexpected ones are logged here and answered
500 without details.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import anyio
import anyio.to_thread
import orjson
from pydantic import BaseModel, ValidationError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers, QueryParams
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route

from boonamber.local.batching import LoopCommits
from boonamber.local.defaults import DEFAULT_MAX_BODY_BYTES, INLINE_MAX_BODY_BYTES, WORKER_THREADS
from boonamber.local.engine import EngineError
from boonamber.local.errors import ApiError, BadRequest, TooLarge, TooManyRequests
from boonamber.local.inflight import SHUTTING_DOWN, InFlight, working_for
from boonamber.local.models import NotInline, inline_call
from boonamber.local.parsing import parse_clusters, parse_csv, parse_vectors
from boonamber.local.service import Service
from boonamber.local.storage import Write
from boonamber.local.wire import CLIPPED_HEADER, CLIPPED_KEY, dumps, token_answer
from boonamber.v2.models.post_config_request import PostConfigRequest
from boonamber.v2.models.post_data_request import PostDataRequest
from boonamber.v2.models.post_learning_request import PostLearningRequest
from boonamber.v2.models.post_model_copy_request import PostModelCopyRequest
from boonamber.v2.models.post_model_request import PostModelRequest
from boonamber.v2.models.post_oauth2_access_request import PostOauth2AccessRequest
from boonamber.v2.models.post_oauth2_refresh_request import PostOauth2RefreshRequest
from boonamber.v2.models.post_pretrain_request import PostPretrainRequest
from boonamber.v2.models.put_data_request import PutDataRequest
from boonamber.v2.models.put_model_request import PutModelRequest

log = logging.getLogger("boonamber.local")

_DIGITS = re.compile(r"[0-9]{1,20}")


def error_response(status: int, message: str, headers: Mapping[str, str] | None = None) -> Response:
    """A ``{code, message}`` JSON answer."""
    return Response(
        orjson.dumps({"code": status, "message": message}),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )


class Call:
    """What a handler gets: the caller's account, path, query, headers and validated body
    (query, headers and address are read from the request only when asked for)."""

    __slots__ = ("_request", "account", "body")

    def __init__(self, account: int, request: Request, body: Any = None) -> None:
        self.account = account
        self.body = body
        self._request = request

    @property
    def path(self) -> Mapping[str, str]:
        """The path parameters (e.g. ``modelId``)."""
        return self._request.path_params

    @property
    def query(self) -> QueryParams:
        """The query parameters."""
        return self._request.query_params

    @property
    def headers(self) -> Headers:
        """The request headers."""
        return self._request.headers

    @property
    def client(self) -> str | None:
        """The client's address."""
        client = self._request.client
        return client.host if client else None


@dataclass
class Reply:
    """What a handler returns: a JSON-able body (numpy arrays allowed) or bytes."""

    body: Any
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    media_type: str = "application/json"


Handler = Callable[[Call], Reply]


def _validation_message(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:3]:
        loc = ".".join(str(p) for p in err.get("loc", ())) or "body"
        msg = str(err.get("msg", "invalid value"))
        parts.append(f"{loc}: {msg}")
    more = len(exc.errors()) - 3
    suffix = f" (and {more} more)" if more > 0 else ""
    return "invalid request body: " + "; ".join(parts) + suffix


def _find_null(model: BaseModel, path: str = "") -> str | None:
    """The wire path of the first declared property sent as JSON null (none is nullable in the
    spec; unknown extra properties are ignored)."""
    for name in model.model_fields_set:
        info = type(model).model_fields.get(name)
        if info is None:
            continue
        where = f"{path}.{info.alias or name}" if path else str(info.alias or name)
        value = getattr(model, name)
        if value is None:
            return where
        items = value if isinstance(value, list) else [value]
        for i, item in enumerate(items):
            if isinstance(item, BaseModel):
                found = _find_null(item, f"{where}.{i}" if isinstance(value, list) else where)
                if found is not None:
                    return found
    return None


def _parse_body(
    raw: bytes,
    model: type[BaseModel],
    required: bool,
    prepare: Callable[[dict[str, Any]], None] | None,
) -> Any:
    if not raw.strip():
        if required:
            raise BadRequest("a JSON request body is required")
        return None
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise BadRequest("the request body is not valid JSON") from None
    if not isinstance(obj, dict):
        raise BadRequest("the request body must be a JSON object")
    if prepare is not None:
        prepare(obj)
    try:
        parsed = model.model_validate(obj)
    except ValidationError as exc:
        raise BadRequest(_validation_message(exc)) from None
    null_at = _find_null(parsed)
    if null_at is not None:
        raise BadRequest(f"invalid request body: {null_at}: must not be null")
    return parsed


def _data_reply(body: dict[str, Any]) -> Reply:
    """A data answer: the clipped-values count travels in CLIPPED_HEADER, not in the body."""
    clipped = int(body.pop(CLIPPED_KEY, 0))
    return Reply(body, headers={CLIPPED_HEADER: str(clipped)})


def _render(reply: Reply) -> Response:
    content = reply.body if isinstance(reply.body, bytes) else dumps(reply.body)
    response = Response(content, status_code=reply.status, media_type=reply.media_type)
    # Starlette lowercases header names; keep the spec's spelling (e.g. ``txnId``) for clients
    # that look headers up case-sensitively.
    for name, value in reply.headers.items():
        response.raw_headers.append((name.encode("latin-1"), value.encode("latin-1")))
    return response


async def _read_body(request: Request, limit: int) -> bytes:
    declared = (request.headers.get("content-length") or "").strip()
    if _DIGITS.fullmatch(declared) and int(declared) > limit:
        raise TooLarge(f"the request body ({declared} bytes) exceeds the limit of {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLarge(f"the request body exceeds the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _dispatch(endpoints: dict[str, Callable[[Request], Any]]) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> Response:
        method = "GET" if request.method == "HEAD" else request.method
        response: Response = await endpoints[method](request)
        return response

    return endpoint


class AmberApp:
    """Builds the Starlette application around a :class:`Service`."""

    def __init__(self, service: Service, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        self.service = service
        self.max_body_bytes = max_body_bytes
        # Few request threads: the work holds the GIL, and more threads only contend for it.
        self.limiter = anyio.CapacityLimiter(WORKER_THREADS)
        self.commits = LoopCommits(service.store)
        self.in_flight = InFlight()

    def operation(
        self,
        handler: Handler,
        *,
        auth: bool = True,
        body: type[BaseModel] | None = None,
        body_required: bool = True,
        prepare: Callable[[dict[str, Any]], None] | None = None,
        inline: bool = False,
    ) -> Callable[[Request], Any]:
        """Wrap a synchronous handler: auth, body limit and validation, errors, rendering.

        ``inline``: the operation is cheap when its body is small, so such calls run on the
        event loop (no thread hand-off) with their commits queued to the store's writer thread
        and awaited before answering; a call whose model is busy, not loaded or too large for
        that (NotInline, raised before any change) runs on a worker thread like the others."""
        service = self.service
        limit = self.max_body_bytes
        commits = self.commits
        in_flight = self.in_flight

        async def endpoint(request: Request) -> Response:
            try:
                account = 0
                if auth:
                    header = request.headers.get("authorization")
                    cached = service.auth.authenticate_cached(header)
                    if cached is not None:
                        account = cached
                    else:
                        account = await run_in_threadpool(service.auth.authenticate, header)
                raw = await _read_body(request, limit) if body is not None else b""

                def run() -> Response:
                    # Parsing, the operation and rendering run off the event loop: big bodies
                    # and answers take a while to (de)serialise.
                    parsed = None
                    if body is not None:
                        parsed = _parse_body(raw, body, body_required, prepare)
                    return _render(handler(Call(account, request, parsed)))

                if inline and len(raw) <= INLINE_MAX_BODY_BYTES:
                    pending: list[Write] = []
                    try:
                        with inline_call() as pending:
                            return run()
                    except NotInline:
                        pass
                    finally:
                        # Acknowledge only what is durable (a failed commit raises here).
                        if pending:
                            await commits.commit(pending)

                # A shutdown that gives up on the request (see inflight) answers it 503 at
                # once; the thread runs on but can no longer commit.
                with anyio.CancelScope() as scope, in_flight.track(scope.cancel) as ticket:

                    def run_for_ticket() -> Response:
                        with working_for(ticket):
                            return run()

                    return await anyio.to_thread.run_sync(
                        run_for_ticket, limiter=self.limiter, abandon_on_cancel=True
                    )
                return error_response(503, SHUTTING_DOWN)
            except TooManyRequests as exc:
                return error_response(
                    exc.status, exc.message, {"Retry-After": str(exc.retry_after)}
                )
            except ApiError as exc:
                return error_response(exc.status, exc.message)
            except EngineError as exc:
                return error_response(400, str(exc))
            except ClientDisconnect:
                return error_response(400, "the client disconnected")
            except Exception:
                log.exception("internal error in %s %s", request.method, request.url.path)
                return error_response(500, "internal server error")

        return endpoint

    # ------------------------------------------------------------------ handlers

    def _version(self, call: Call) -> Reply:
        return Reply(self.service.get_version())

    def _access(self, call: Call) -> Reply:
        req: PostOauth2AccessRequest = call.body
        tokens = self.service.auth.login(req.license_key, req.secret_key, call.client)
        return Reply(token_answer(tokens.id_token, tokens.expires_in, tokens.refresh_token))

    def _refresh(self, call: Call) -> Reply:
        req: PostOauth2RefreshRequest = call.body
        tokens = self.service.auth.refresh(req.refresh_token)
        return Reply(token_answer(tokens.id_token, tokens.expires_in, tokens.refresh_token))

    def _models(self, call: Call) -> Reply:
        verbose = (call.headers.get("verbose") or "").strip().lower() == "true"
        return Reply(self.service.list_models(call.account, verbose))

    def _post_model(self, call: Call) -> Reply:
        req: PostModelRequest = call.body
        return Reply(self.service.create_model(call.account, req.label))

    def _get_model(self, call: Call) -> Reply:
        mid = call.path["modelId"]
        return Reply(self.service.get_model(call.account, mid))

    def _put_model(self, call: Call) -> Reply:
        req: PutModelRequest = call.body
        mid = call.path["modelId"]
        return Reply(self.service.put_model(call.account, mid, req.label))

    def _delete_model(self, call: Call) -> Reply:
        mid = call.path["modelId"]
        return Reply(self.service.delete_model(call.account, mid))

    def _copy_model(self, call: Call) -> Reply:
        req: PostModelCopyRequest | None = call.body
        label = req.label if req is not None else None
        mid = call.path["modelId"]
        return Reply(self.service.copy_model(call.account, mid, label))

    def _migrate(self, call: Call) -> Reply:
        mid = call.path["v1ModelId"]
        return Reply(self.service.migrate_model(call.account, mid))

    def _get_config(self, call: Call) -> Reply:
        mid = call.path["modelId"]
        return Reply(self.service.get_config(call.account, mid))

    def _post_config(self, call: Call) -> Reply:
        req: PostConfigRequest = call.body
        mid = call.path["modelId"]
        return Reply(self.service.post_config(call.account, mid, req.to_dict()))

    def _post_learning(self, call: Call) -> Reply:
        req: PostLearningRequest = call.body
        mid = call.path["modelId"]
        return Reply(self.service.post_learning(call.account, mid, req.to_dict()))

    def _post_data(self, call: Call) -> Reply:
        req: PostDataRequest = call.body
        values = parse_csv(req.data)
        mid = call.path["modelId"]
        return _data_reply(self.service.post_data(call.account, mid, values))

    def _put_data(self, call: Call) -> Reply:
        req: PutDataRequest = call.body
        vector = [(f.name, float(f.value)) for f in req.vector]
        rule = req.fusion_rule or "default"
        mid = call.path["modelId"]
        return _data_reply(self.service.put_data(call.account, mid, vector, rule))

    def _status(self, call: Call) -> Reply:
        mid = call.path["modelId"]
        return Reply(self.service.get_status(call.account, mid))

    def _nano_status(self, call: Call) -> Reply:
        mid = call.path["modelId"]
        return Reply(self.service.get_nano_status(call.account, mid))

    def _get_pretrain(self, call: Call) -> Reply:
        mid = call.path["modelId"]
        return Reply(self.service.pretrainer.get(call.account, mid))

    def _post_pretrain(self, call: Call) -> Reply:
        req: PostPretrainRequest = call.body
        mid = call.path["modelId"]
        status, body = self.service.pretrainer.post(
            call.account,
            mid,
            call.headers.get("chunkspec"),
            call.headers.get("txnid"),
            req.data,
            req.format or "csv",
        )
        return Reply(body, status=status, headers={"txnId": body["txnId"]})

    def _root_cause(self, call: Call) -> Reply:
        mid = call.path["modelId"]
        c_text, v_text = call.query.get("clusters"), call.query.get("vectors")
        clusters = parse_clusters(c_text) if c_text is not None and c_text.strip() else None
        vectors = parse_vectors(v_text) if v_text is not None and v_text.strip() else None
        result = self.service.get_root_cause(call.account, mid, clusters, vectors)
        return Reply(result)

    def _usage(self, call: Call) -> Reply:
        mid = call.path["modelId"]
        return Reply(self.service.get_usage(call.account, mid))

    def _outage(self, call: Call) -> Reply:
        mid = call.path["modelId"]
        return Reply(self.service.post_outage(call.account, mid))

    def _summary(self, call: Call) -> Reply:
        flag = call.query.get("trainingSamples")
        if flag is not None and flag not in ("true", "false"):
            raise BadRequest(f"trainingSamples must be true or false; got {flag[:40]!r}")
        mid = call.path["modelId"]
        return Reply(self.service.get_summary(call.account, mid))

    def _diagnostic(self, call: Call) -> Reply:
        mid = call.path["modelId"]
        data = self.service.get_diagnostic(call.account, mid)
        return Reply(
            data,
            media_type="application/x-tar",
            headers={"Content-Disposition": f'attachment; filename="{mid}-diagnostic.tar"'},
        )

    # ------------------------------------------------------------------ assembly

    def routes(self) -> list[BaseRoute]:
        """The ``/v2`` routes."""
        op = self.operation

        def access_compat(obj: dict[str, Any]) -> None:
            # Older clients send licenseId instead of licenseKey.
            if obj.get("licenseKey") is None and "licenseId" in obj:
                obj["licenseKey"] = obj["licenseId"]

        m = "/models/{modelId}"
        table: list[tuple[str, str, Callable[[Request], Any]]] = [
            ("/version", "GET", op(self._version, inline=True)),
            (
                "/oauth2/access",
                "POST",
                op(self._access, auth=False, body=PostOauth2AccessRequest, prepare=access_compat),
            ),
            (
                "/oauth2/refresh",
                "POST",
                op(self._refresh, auth=False, body=PostOauth2RefreshRequest),
            ),
            ("/models", "GET", op(self._models)),
            ("/models", "POST", op(self._post_model, body=PostModelRequest)),
            (m, "GET", op(self._get_model, inline=True)),
            (m, "PUT", op(self._put_model, body=PutModelRequest)),
            (m, "DELETE", op(self._delete_model)),
            (f"{m}/config", "GET", op(self._get_config, inline=True)),
            (f"{m}/config", "POST", op(self._post_config, body=PostConfigRequest)),
            (f"{m}/learning", "POST", op(self._post_learning, body=PostLearningRequest)),
            (f"{m}/data", "POST", op(self._post_data, body=PostDataRequest, inline=True)),
            (f"{m}/data", "PUT", op(self._put_data, body=PutDataRequest, inline=True)),
            (f"{m}/status", "GET", op(self._status, inline=True)),
            (f"{m}/status/nano", "GET", op(self._nano_status)),
            (f"{m}/pretrain", "GET", op(self._get_pretrain, inline=True)),
            (f"{m}/pretrain", "POST", op(self._post_pretrain, body=PostPretrainRequest)),
            (f"{m}/rootCause", "GET", op(self._root_cause)),
            (f"{m}/usage", "GET", op(self._usage)),
            (f"{m}/outage", "POST", op(self._outage, inline=True)),
            (
                f"{m}/copy",
                "POST",
                op(self._copy_model, body=PostModelCopyRequest, body_required=False),
            ),
            ("/models/{v1ModelId}/migrate", "POST", op(self._migrate)),
            (f"{m}/summary", "GET", op(self._summary)),
            (f"{m}/diagnostic", "GET", op(self._diagnostic)),
        ]
        # One route per path, dispatching on the method, so a 405 lists every allowed method.
        by_path: dict[str, dict[str, Callable[[Request], Any]]] = {}
        for path, method, endpoint in table:
            by_path.setdefault(path, {})[method] = endpoint
        # The router tries routes in order: the streaming ones first.
        hot = (f"{m}/data", "/version", f"{m}/status")
        order = sorted(by_path, key=lambda p: hot.index(p) if p in hot else len(hot))
        return [Route(p, _dispatch(by_path[p]), methods=list(by_path[p])) for p in order]

    def build(self) -> Starlette:
        """The ASGI application (the API mounted under ``/v2``)."""

        async def http_error(request: Request, exc: Exception) -> Response:
            status = exc.status_code if isinstance(exc, HTTPException) else 500
            messages = {404: "not found", 405: "method not allowed"}
            response = error_response(status, messages.get(status, "request failed"))
            if isinstance(exc, HTTPException) and exc.headers:
                response.headers.update(exc.headers)  # e.g. Allow on 405
            return response

        async def internal_error(request: Request, exc: Exception) -> Response:
            log.error("unhandled error in %s %s", request.method, request.url.path, exc_info=exc)
            return error_response(500, "internal server error")

        return Starlette(
            routes=[Mount("/v2", routes=self.routes())],
            exception_handlers={HTTPException: http_error, Exception: internal_error},
        )
