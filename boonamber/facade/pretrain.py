"""Chunked pretrain: split float32 data into chunks, upload them, wait for the result.

:func:`pretrain` is what ``AmberClient.post_pretrain`` runs; the client only supplies how to
send one chunk and how to read the pretrain status.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from typing import TYPE_CHECKING, Any

from boonamber.facade.convert import Float32Data, b64_chunk, to_float32
from boonamber.facade.errors import AmberCloudError, AmberPretrainTimeoutError, AmberUserError
from boonamber.facade.results import AmberResult

if TYPE_CHECKING:
    from boonamber.v2.models import GetPretrainResponse, PostPretrainResponse

__all__ = [
    "DEFAULT_CHUNK_VALUES",
    "DEFAULT_PRETRAIN_TIMEOUT",
    "DEFAULT_WORKERS",
    "Progress",
    "pretrain",
    "upload",
    "wait_until_pretrained",
]

#: Values per chunk by default: 500,000 float32 values = 2 MB, about 2.7 MB of base64.
DEFAULT_CHUNK_VALUES = 500_000
#: Chunks after the first are sent by this many threads at once.
DEFAULT_WORKERS = 4
#: Seconds ``post_pretrain(block=True)`` waits for the model to finish by default.
DEFAULT_PRETRAIN_TIMEOUT = 1800.0

#: ``progress(done, total)``: how many values have been sent (or, while waiting, ``total``).
Progress = Callable[[int, int | None], None]

# send(body, chunkspec, txn_id) -> generated ApiResponse[PostPretrainResponse]
Sender = Callable[[Any, str, str | None], Any]


def check_chunk_size(chunk_size: Any) -> int:
    """Validate a chunk size in values (an int >= 1)."""
    if chunk_size is None:
        return DEFAULT_CHUNK_VALUES
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise AmberUserError(
            f"chunk_size must be a whole number of values >= 1, got {chunk_size!r}"
        )
    return chunk_size


def txn_id(response: Any) -> str | None:
    """The transaction id in the answer to a first chunk (body or ``txnId`` header)."""
    txn = getattr(response.data, "txn_id", None)
    if not txn and response.headers is not None:
        txn = response.headers.get("txnId")
    return str(txn) if txn else None


def upload(
    send: Sender,
    data: Float32Data,
    chunk_values: int,
    *,
    workers: int = DEFAULT_WORKERS,
    progress: Progress | None = None,
) -> Any:
    """Upload ``data`` in chunks of ``chunk_values`` values; return the last chunk's response.

    Chunk 1 goes first (its answer carries the transaction id), the others follow
    concurrently on ``workers`` threads. Each chunk is base64-encoded only when its
    thread picks it up, so at most ``workers`` encoded chunks exist at once.
    """
    from boonamber.v2.models.post_pretrain_request import PostPretrainRequest

    total = data.count
    n = -(-total // chunk_values)

    def body(index: int) -> tuple[Any, int]:
        start = index * chunk_values
        stop = min(total, start + chunk_values)
        return PostPretrainRequest(
            data=b64_chunk(data, start, stop), format="b64float"
        ), stop - start

    lock = threading.Lock()
    done = 0

    def report(count: int) -> None:
        nonlocal done
        with lock:
            done += count
            current = done
        if progress is not None:
            progress(current, total)

    first_body, first_count = body(0)
    last = send(first_body, f"1:{n}", None)
    del first_body
    report(first_count)
    if n == 1:
        return last
    txn = txn_id(last)
    if not txn:
        raise AmberCloudError(
            "the server's answer to the first pretrain chunk carries no txnId",
            method="POST",
        )

    finished: list[Any] = []

    def task(index: int) -> None:
        chunk_body, count = body(index)
        response = send(chunk_body, f"{index + 1}:{n}", txn)
        del chunk_body
        with lock:
            finished.append(response)
        report(count)

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
    return most_advanced(finished)


_RANK = {"Chunking": 1, "Pretraining": 2, "Pretrained": 3}


def most_advanced(answers: list[Any]) -> Any:
    """The chunk answer that saw the most progress (answers to concurrent chunks can cross)."""
    return max(answers, key=lambda r: _RANK.get(getattr(r.data, "status", None) or "", 0))


def check_pretrain(status: Any, remaining: float, timeout: float) -> bool:
    """``True`` once ``status`` (a ``GetPretrainResponse``) is Pretrained, ``False`` to keep
    polling; raises when the job failed or ``remaining`` seconds of ``timeout`` ran out."""
    state = getattr(status, "status", None)
    if state == "Pretrained":
        return True
    if state == "None":  # the server dropped the job (it resets the status on failure)
        message = getattr(status, "message", None) or "no pretraining under way"
        raise AmberCloudError(f"pretraining did not complete: {message}")
    if remaining <= 0:
        message = getattr(status, "message", None)
        raise AmberPretrainTimeoutError(
            f"pretraining did not finish within {timeout:g} s "
            f"(status {state!r}{': ' + message if message else ''}); "
            "call get_pretrain() later, or pass a larger timeout="
        )
    return False


def wait_until_pretrained(
    get_status: Callable[[], Any],
    timeout: float,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Any:
    """Poll ``get_status()`` (a ``GetPretrainResponse`` result) with backoff until Pretrained.

    Raises :class:`AmberPretrainTimeoutError` after ``timeout`` seconds, and
    :class:`AmberCloudError` if the status falls back to ``None`` (the job failed).
    """
    deadline = clock() + timeout
    delay = 0.05
    while True:
        status = get_status()
        if check_pretrain(status, deadline - clock(), timeout):
            return status
        sleep(min(delay, max(0.0, deadline - clock())))
        delay = min(delay * 1.5, 2.0)


def pretrain(
    send: Sender,
    get_status: Callable[[], AmberResult[GetPretrainResponse]],
    data: Any,
    *,
    chunk_size: int | None,
    block: bool,
    timeout: float,
    progress: Progress | None,
    workers: int,
) -> AmberResult[GetPretrainResponse] | AmberResult[PostPretrainResponse]:
    """Validate the options and ``data``, upload it, and (``block``) wait until Pretrained.

    Returns the pretrain status when blocking, else the answer to the upload.
    """
    chunk_values = check_chunk_size(chunk_size)
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise AmberUserError(f"workers must be an integer >= 1, got {workers!r}")
    if block and (
        isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0
    ):
        raise AmberUserError(f"timeout must be a number of seconds > 0, got {timeout!r}")
    packed = to_float32(data)
    last = upload(send, packed, chunk_values, workers=workers, progress=progress)
    if not block:
        answer: AmberResult[PostPretrainResponse] = AmberResult(last.data)
        return answer
    if last.data.status == "Pretrained":
        return get_status()
    status: AmberResult[GetPretrainResponse] = wait_until_pretrained(get_status, float(timeout))
    return status
