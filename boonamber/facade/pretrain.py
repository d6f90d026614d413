"""Chunked pretrain: pack the data as float32, upload it in chunks, wait for the server.

:func:`pretrain` is what ``AmberClient.post_pretrain`` runs; the client only supplies how to
send one chunk and how to read the pretrain status. The work overlaps: each chunk is
base64-encoded by the worker thread that sends it, while other chunks are on the wire or
being stored by the server; the wait that follows polls with backoff and hands the server's
own percentage to the progress callback.

A chunk whose answer was lost (the connection dropped or timed out after the request was
sent, or a gateway answered 502 / 504) is never sent again blindly: the pretrain status is
read first (``GET /pretrain``). If the upload is already complete the chunk counts as
delivered; otherwise it is sent again (a server acknowledges a repeated chunk without
effect). Answers that prove the chunk was not processed (429, 503) are retried with the
client's backoff; connection failures before sending are retried by the transport.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from boonamber.facade.answers import Answer
from boonamber.facade.convert import Float32Data, b64_chunk, to_float32
from boonamber.facade.errors import (
    AmberCloudError,
    AmberConnectionError,
    AmberPretrainTimeoutError,
    AmberUserError,
)
from boonamber.facade.results import GetPretrainResult, PostPretrainResult
from boonamber.facade.retry import RetryPolicy

if TYPE_CHECKING:
    pass

__all__ = [
    "DEFAULT_CHUNK_VALUES",
    "DEFAULT_PRETRAIN_TIMEOUT",
    "DEFAULT_WORKERS",
    "PretrainProgress",
    "Progress",
    "chunk_bounds",
    "pretrain",
    "server_percent",
    "txn_id",
    "upload",
    "wait_until_pretrained",
]

#: Values per chunk by default: 500,000 float32 values = 2 MB, about 2.7 MB of base64.
DEFAULT_CHUNK_VALUES = 500_000
#: Without an explicit ``chunk_size`` the first chunk is this small, so that its answer
#: (which carries the transaction id the other chunks need) comes back at once.
FIRST_CHUNK_VALUES = 65_536
#: Chunks after the first are sent by this many threads at once (each holds about four
#: copies of its base64 text while in flight: ~11 MB with the default chunk size).
DEFAULT_WORKERS = 3
#: Seconds ``post_pretrain(block=True)`` waits for the model to finish by default.
DEFAULT_PRETRAIN_TIMEOUT = 1800.0
#: Polling of ``get_pretrain`` while waiting: first after this many seconds, growing 1.5x
#: per poll, never more than an eighth of the time waited so far nor ``MAX_POLL``.
MIN_POLL = 0.05
MAX_POLL = 2.0

#: ``progress(done, total)``: how many values have been sent (``total`` None for files).
Progress = Callable[[int, int | None], None]
#: ``progress(sent, total)`` while uploading; a callback that takes a third argument is
#: also called ``progress(total, total, percent)`` with the server's percentage while it
#: pretrains (``block=True``).
PretrainProgress = Callable[..., None]

# send(body, chunkspec, txn_id) -> the decoded answer of one postPretrain request
Sender = Callable[[Any, str, str | None], Answer]
StatusReader = Callable[[], GetPretrainResult]

_PERCENT_RE = re.compile(r"(\d+(?:\.\d+)?)\s*%")
_RANK = {"Chunking": 1, "Pretraining": 2, "Pretrained": 3}
# errors after which the chunk may or may not have been stored: look before resending
_LOST_STATUSES = frozenset({502, 504})
# answers that say the chunk was not processed: send it again after the backoff
_BUSY_STATUSES = frozenset({429, 503})


def check_chunk_size(chunk_size: Any) -> int:
    """Validate a chunk size in values (an int >= 1)."""
    if chunk_size is None:
        return DEFAULT_CHUNK_VALUES
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise AmberUserError(
            f"chunk_size must be a whole number of values >= 1, got {chunk_size!r}"
        )
    return chunk_size


def server_percent(message: object) -> int | None:
    """The percentage in a pretrain status message (``"Pretraining: 40% done"`` -> 40)."""
    if not isinstance(message, str):
        return None
    match = _PERCENT_RE.search(message)
    return None if match is None else max(0, min(100, int(float(match.group(1)))))


def _takes_percent(progress: Callable[..., None]) -> bool:
    import inspect

    try:
        inspect.signature(progress).bind(0, 0, 0)
    except (TypeError, ValueError):
        return False
    return True


def _field(data: Any, name: str) -> Any:
    """A field of a status: a mapping (results, decoded answers) or a generated model."""
    return data.get(name) if isinstance(data, dict) else getattr(data, name, None)


def _answer_status(response: Any) -> str | None:
    state = _field(response.data, "status")
    return None if state is None else str(state)


def txn_id(response: Any) -> str | None:
    """The transaction id in the answer to a first chunk (body or ``txnId`` header): an
    :class:`~boonamber.facade.answers.Answer` or a generated ``ApiResponse``."""
    data = response.data
    txn = data.get("txnId") if isinstance(data, dict) else getattr(data, "txn_id", None)
    if not txn and response.headers is not None:
        txn = response.headers.get("txnId")
    return str(txn) if txn else None


def most_advanced(answers: list[Any]) -> Any:
    """The chunk answer that saw the most progress (answers to concurrent chunks can cross)."""
    return max(answers, key=lambda r: _RANK.get(_answer_status(r) or "", 0))


def check_pretrain(status: Any, remaining: float, timeout: float) -> bool:
    """``True`` once ``status`` (a ``GetPretrainResponse`` result) is Pretrained, ``False``
    to keep polling; raises when the job failed or ``remaining`` seconds of ``timeout`` ran
    out."""
    state = _field(status, "status")
    if state == "Pretrained":
        return True
    message = _field(status, "message")
    if state == "None":  # the server dropped the job (it resets the status on failure)
        raise AmberCloudError(
            f"pretraining did not complete: {message or 'no pretraining under way'}"
        )
    if remaining <= 0:
        raise AmberPretrainTimeoutError(
            f"pretraining did not finish within {timeout:g} s "
            f"(status {state!r}{': ' + message if message else ''}); "
            "call get_pretrain() later, or pass a larger timeout="
        )
    return False


def _answer_lost(error: AmberCloudError) -> bool:
    if isinstance(error, AmberConnectionError):
        return error.request_sent
    return error.status in _LOST_STATUSES


def _resend_after(error: AmberCloudError, attempt: int, retry: RetryPolicy) -> bool:
    """After a failed chunk: True if its answer was lost (look at the status before
    resending), False to resend after the backoff; re-raises ``error`` otherwise."""
    lost = _answer_lost(error)
    if attempt >= retry.max_retries or not (lost or error.status in _BUSY_STATUSES):
        raise error
    return lost


def _delivered(
    status: Any, spec: str, txn: str | None, only_chunk: bool, error: AmberCloudError
) -> Answer | None:
    """After a lost answer, the pretrain ``status`` decides: the chunk's answer if the
    upload is complete (the chunk reached the server), None to send it again."""
    state = status.get("status")
    # complete: every chunk (this one too) reached the server. Without a txnId (chunk 1)
    # an earlier pretraining could also read so: resend unless alone.
    if state in ("Pretraining", "Pretrained") and (txn is not None or only_chunk):
        reply = dict(status)
        reply.update({"txnId": txn, "chunkspec": spec} if txn else {})
        return Answer(202 if state == "Pretraining" else 200, {}, reply)
    if state == "None" and txn is not None:
        raise AmberCloudError(
            f"the server dropped the pretrain upload after chunk {spec} was sent "
            f"({status.get('message') or 'no message'})",
            method="POST",
        ) from error
    return None


def _send_chunk(
    send: Sender,
    get_status: StatusReader,
    body: Callable[[], Any],
    spec: str,
    txn: str | None,
    retry: RetryPolicy,
    *,
    only_chunk: bool,
) -> Answer:
    """Send one chunk; after a lost answer look at the pretrain status before resending."""
    attempt = 0
    while True:
        try:
            return send(body(), spec, txn)
        except AmberCloudError as error:
            if _resend_after(error, attempt, retry):
                reply = _delivered(get_status(), spec, txn, only_chunk, error)
                if reply is not None:
                    return reply
            else:
                time.sleep(retry.delay(error, attempt))
            attempt += 1


async def send_chunk_async(
    send: Callable[[Any, str, str | None], Awaitable[Answer]],
    get_status: Callable[[], Awaitable[GetPretrainResult]],
    body: Callable[[], Any],
    spec: str,
    txn: str | None,
    retry: RetryPolicy,
    *,
    only_chunk: bool,
) -> Answer:
    """:func:`_send_chunk` for the async client (the same rules)."""
    import asyncio

    attempt = 0
    while True:
        try:
            return await send(body(), spec, txn)
        except AmberCloudError as error:
            if _resend_after(error, attempt, retry):
                reply = _delivered(await get_status(), spec, txn, only_chunk, error)
                if reply is not None:
                    return reply
            else:
                await asyncio.sleep(retry.delay(error, attempt))
            attempt += 1


def chunk_bounds(total: int, chunk_values: int, first: int | None = None) -> list[tuple[int, int]]:
    """``(start, stop)`` of each chunk: ``first`` values, then ``chunk_values`` at a time."""
    bounds = []
    start = 0
    size = chunk_values if first is None else min(first, chunk_values)
    while start < total:
        stop = min(total, start + size)
        bounds.append((start, stop))
        start, size = stop, chunk_values
    return bounds


@dataclass(frozen=True)
class Uploaded:
    """The most advanced answer of an upload, and when its last chunk was sent."""

    answer: Answer
    last_sent: float


def upload(
    send: Sender,
    data: Float32Data,
    bounds: list[tuple[int, int]],
    *,
    get_status: StatusReader,
    retry: RetryPolicy,
    workers: int = DEFAULT_WORKERS,
    progress: Callable[..., None] | None = None,
) -> Uploaded:
    """Upload ``data`` in the chunks ``bounds`` (see :func:`chunk_bounds`).

    Chunk 1 goes first (its answer carries the transaction id), the others follow
    concurrently on ``workers`` threads. Each chunk is base64-encoded only when its
    thread picks it up, so at most ``workers`` encoded chunks exist at once.
    """
    from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait

    from boonamber.v2.models.post_pretrain_request import PostPretrainRequest

    total = data.count
    n = len(bounds)

    def body(index: int) -> Callable[[], Any]:
        start, stop = bounds[index]
        return lambda: PostPretrainRequest(data=b64_chunk(data, start, stop), format="b64float")

    lock = threading.Lock()
    done = 0
    last_sent = time.monotonic()

    def report(index: int) -> None:
        nonlocal done
        start, stop = bounds[index]
        with lock:
            done += stop - start
            current = done
        if progress is not None:
            progress(current, total)

    def sending(index: int) -> Callable[[], Any]:
        make = body(index)

        def build() -> Any:
            nonlocal last_sent
            value = make()
            with lock:
                last_sent = max(last_sent, time.monotonic())
            return value

        return build

    first = _send_chunk(send, get_status, sending(0), f"1:{n}", None, retry, only_chunk=n == 1)
    report(0)
    if n == 1:
        return Uploaded(first, last_sent)
    txn = txn_id(first)
    if not txn:
        raise AmberCloudError(
            "the server's answer to the first pretrain chunk carries no txnId",
            method="POST",
        )

    finished: list[Answer] = []

    def task(index: int) -> None:
        answer = _send_chunk(
            send, get_status, sending(index), f"{index + 1}:{n}", txn, retry, only_chunk=False
        )
        with lock:
            finished.append(answer)
        report(index)

    pool = ThreadPoolExecutor(
        max_workers=max(1, min(workers, n - 1)), thread_name_prefix="amber-pretrain"
    )
    try:
        futures: list[Future[None]] = [pool.submit(task, i) for i in range(1, n)]
        wait(futures, return_when=FIRST_EXCEPTION)
        for future in futures:
            error = future.exception() if future.done() else None
            if error is not None:
                raise error
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return Uploaded(most_advanced(finished), last_sent)


class PollSchedule:
    """When to poll ``get_pretrain`` next (see :func:`wait_until_pretrained`)."""

    def __init__(
        self,
        timeout: float,
        now: float,
        *,
        on_percent: Callable[[int], None] | None = None,
        since: float | None = None,
    ) -> None:
        self.timeout = timeout
        self.deadline = now + timeout
        self.started = now if since is None else min(since, now)
        self.on_percent = on_percent
        self.delay = MIN_POLL
        self.seen: tuple[float, int] | None = None  # (when, percent) of the first percentage

    def next_wait(self, status: Any, now: float) -> float | None:
        """Seconds until the next poll after reading ``status`` at ``now``; None once
        Pretrained. Raises as :func:`check_pretrain` does."""
        finished = check_pretrain(status, self.deadline - now, self.timeout)
        percent = 100 if finished else server_percent(_field(status, "message"))
        if percent is not None and self.on_percent is not None:
            self.on_percent(percent)
        if finished:
            return None
        wait = min(self.delay, max(MIN_POLL, (now - self.started) / 8), MAX_POLL)
        if percent is not None:
            if self.seen is None or percent < self.seen[1]:
                self.seen = (now, percent)
            elif percent > self.seen[1]:
                eta = (100 - percent) * (now - self.seen[0]) / (percent - self.seen[1])
                wait = min(wait, max(MIN_POLL, eta))
        self.delay = min(self.delay * 1.5, MAX_POLL)
        return min(wait, self.deadline - now)


def wait_until_pretrained(
    get_status: Callable[[], Any],
    timeout: float,
    *,
    on_percent: Callable[[int], None] | None = None,
    since: float | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Any:
    """Poll ``get_status()`` (a ``GetPretrainResponse`` result) with backoff until Pretrained.

    The wait between polls starts at ``MIN_POLL`` and grows 1.5x, capped at an eighth of
    the time waited so far (so the answer is seen at most ~12 % late) and ``MAX_POLL``,
    and shortened to the finish the server's percentage predicts. ``on_percent(p)`` gets
    the server's percentage. ``since`` is when the server could start (the last chunk's
    sending; default now). Raises :class:`AmberPretrainTimeoutError` after ``timeout``
    seconds, and :class:`AmberCloudError` if the status falls back to ``None`` (failed).
    """
    schedule = PollSchedule(timeout, clock(), on_percent=on_percent, since=since)
    while True:
        status = get_status()
        wait = schedule.next_wait(status, clock())
        if wait is None:
            return status
        sleep(wait)


def check_options(chunk_size: Any, workers: Any, block: bool, timeout: Any) -> int:
    """Validate the options of a pretrain call; returns the chunk size in values."""
    chunk_values = check_chunk_size(chunk_size)
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise AmberUserError(f"workers must be an integer >= 1, got {workers!r}")
    if block and (
        isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0
    ):
        raise AmberUserError(f"timeout must be a number of seconds > 0, got {timeout!r}")
    return chunk_values


def percent_callback(progress: PretrainProgress | None, total: int) -> Callable[[int], None] | None:
    """``progress`` as an ``on_percent(p)`` callback, if it takes a percentage."""
    if progress is None or not _takes_percent(progress):
        return None
    callback = progress

    def on_percent(percent: int) -> None:
        callback(total, total, percent)

    return on_percent


def already_pretrained(
    last: Answer, on_percent: Callable[[int], None] | None
) -> GetPretrainResult | None:
    """The pretrain status when the answer to the last chunk already says Pretrained (no
    need to ask again), else None."""
    from boonamber.v2.models import GetPretrainResponse

    if last.data.get("status") != "Pretrained":
        return None
    if on_percent is not None:
        on_percent(100)
    fields: dict[str, Any] = {k: last.data[k] for k in ("status", "message") if k in last.data}
    return GetPretrainResult.from_wire(fields, GetPretrainResponse)


def first_chunk(chunk_size: int | None) -> int | None:
    """The size of chunk 1: small (FIRST_CHUNK_VALUES) unless ``chunk_size`` was given."""
    return FIRST_CHUNK_VALUES if chunk_size is None else None


def pretrain(
    send: Sender,
    get_status: StatusReader,
    data: Any,
    *,
    chunk_size: int | None,
    block: bool,
    timeout: float,
    progress: PretrainProgress | None,
    workers: int,
    retry: RetryPolicy,
) -> GetPretrainResult | PostPretrainResult:
    """Validate the options and ``data``, upload it, and (``block``) wait until Pretrained.

    Returns the pretrain status when blocking, else the answer to the upload.
    """
    from boonamber.v2.models import PostPretrainResponse

    chunk_values = check_options(chunk_size, workers, block, timeout)
    packed = to_float32(data)
    first = first_chunk(chunk_size)
    uploaded = upload(
        send,
        packed,
        chunk_bounds(packed.count, chunk_values, first),
        get_status=get_status,
        retry=retry,
        workers=workers,
        progress=progress,
    )
    last = uploaded.answer
    if not block:
        return PostPretrainResult.from_wire(last.data, PostPretrainResponse)
    on_percent = percent_callback(progress, packed.count)
    done = already_pretrained(last, on_percent)
    if done is not None:
        return done
    status: GetPretrainResult = wait_until_pretrained(
        get_status, float(timeout), on_percent=on_percent, since=uploaded.last_sent
    )
    return status
