"""What ``stream`` returns: the batch results one by one, or all of them as one DataFrame."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any, Generic, TypeVar

from boonamber.facade.errors import AmberUserError

__all__ = ["AsyncResultStream", "ResultStream"]

R = TypeVar("R")


def _concat(frames: list[Any]) -> Any:
    """One DataFrame of the batches' frames (the input's index kept when it had one)."""
    import pandas as pd

    if not frames:
        raise AmberUserError("to_pandas(): the stream sent no batch")
    keep_index = not all(isinstance(f.index, pd.RangeIndex) for f in frames)
    return pd.concat(frames, ignore_index=not keep_index)


class ResultStream(Iterator[R], Generic[R]):
    """The results of :meth:`AmberClient.stream`, one per ``post_data`` batch, sent as
    they are iterated; or :meth:`to_pandas` for all of them as one DataFrame."""

    def __init__(self, results: Iterator[R]) -> None:
        self._results = results
        self._started = False

    def __iter__(self) -> ResultStream[R]:
        return self

    def __next__(self) -> R:
        self._started = True
        return next(self._results)

    def to_pandas(self) -> Any:
        """Send every batch and return all analytics as one ``pandas.DataFrame``: a row per
        vector, a column per analytic, the input's index when the data was a pandas object
        (else 0, 1, ...). Call it instead of iterating, not after."""
        if self._started:
            raise AmberUserError("to_pandas() needs a stream that has not been iterated yet")
        self._started = True
        return _concat([r.to_pandas() for r in self._results])  # type: ignore[attr-defined]


class AsyncResultStream(AsyncIterator[R], Generic[R]):
    """:class:`ResultStream` of :meth:`AsyncAmberClient.stream`: ``async for`` it, or
    ``await stream.to_pandas()``."""

    def __init__(self, results: AsyncIterator[R]) -> None:
        self._results = results
        self._started = False

    def __aiter__(self) -> AsyncResultStream[R]:
        return self

    async def __anext__(self) -> R:
        self._started = True
        return await self._results.__anext__()

    async def to_pandas(self) -> Any:
        """Send every batch; all analytics as one ``pandas.DataFrame`` (see
        :meth:`ResultStream.to_pandas`)."""
        if self._started:
            raise AmberUserError("to_pandas() needs a stream that has not been iterated yet")
        self._started = True
        return _concat([r.to_pandas() async for r in self._results])  # type: ignore[attr-defined]
