"""Binary (audio) results: read whole (`AudioResponse`) or streamed as they arrive (`StreamedAudioResponse`)."""

from __future__ import annotations

import functools
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any, Generic, TypeVar

import anyio
import httpx
from typing_extensions import ParamSpec

__all__ = [
    "AsyncStreamedAudioResponse",
    "AsyncStreamedResponseContextManager",
    "AudioResponse",
    "StreamedAudioResponse",
    "StreamedResponseContextManager",
    "async_to_streamed_response_wrapper",
    "to_streamed_response_wrapper",
]

PathLike = str | os.PathLike[str]


class _AudioResponseBase:
    """What every audio result knows from the response headers."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response

    @property
    def headers(self) -> httpx.Headers:
        return self.response.headers

    @property
    def status_code(self) -> int:
        return self.response.status_code

    @property
    def content_type(self) -> str | None:
        value: str | None = self.response.headers.get("content-type")
        return value

    @property
    def job_id(self) -> str | None:
        """The id of the job that produced the audio (`GET /v1/jobs/{id}` shows its details)."""
        value: str | None = self.response.headers.get("x-job-id")
        return value

    @property
    def request_id(self) -> str | None:
        value: str | None = self.response.headers.get("x-request-id")
        return value

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.content_type} job={self.job_id}>"


class AudioResponse(_AudioResponseBase):
    """Audio already read into memory: `.content`, `.save(path)` / `.write_to_file(path)`."""

    @property
    def content(self) -> bytes:
        return self.response.content

    def read(self) -> bytes:
        return self.response.content

    def __bytes__(self) -> bytes:
        return self.response.content

    def __len__(self) -> int:
        return len(self.response.content)

    def iter_bytes(self, chunk_size: int | None = None) -> Iterator[bytes]:
        return self.response.iter_bytes(chunk_size)

    def write_to_file(self, path: PathLike) -> Path:
        """Write the audio to `path` (overwriting it) and return the path."""
        target = Path(path)
        target.write_bytes(self.response.content)
        return target

    save = write_to_file


class StreamedAudioResponse(_AudioResponseBase):
    """Audio read from the network chunk by chunk; use inside `with ...with_streaming_response.create(...)`."""

    def iter_bytes(self, chunk_size: int | None = None) -> Iterator[bytes]:
        return self.response.iter_bytes(chunk_size)

    def read(self) -> bytes:
        return self.response.read()

    def stream_to_file(self, path: PathLike, *, chunk_size: int | None = None) -> Path:
        """Write each chunk to `path` as it arrives (flushed, so readers see it at once) and return the path."""
        target = Path(path)
        with target.open("wb") as fh:
            for chunk in self.response.iter_bytes(chunk_size):
                fh.write(chunk)
                fh.flush()
        return target

    def close(self) -> None:
        self.response.close()


class AsyncStreamedAudioResponse(_AudioResponseBase):
    """The async twin of `StreamedAudioResponse`."""

    def iter_bytes(self, chunk_size: int | None = None) -> AsyncIterator[bytes]:
        return self.response.aiter_bytes(chunk_size)

    async def read(self) -> bytes:
        return await self.response.aread()

    async def stream_to_file(self, path: PathLike, *, chunk_size: int | None = None) -> Path:
        target = Path(path)
        async with await anyio.open_file(target, "wb") as fh:
            async for chunk in self.response.aiter_bytes(chunk_size):
                await fh.write(chunk)
                await fh.flush()
        return target

    async def close(self) -> None:
        await self.response.aclose()


R = TypeVar("R", bound=_AudioResponseBase)


def _expect_streamed(result: Any, kind: type[R]) -> R:
    if not isinstance(result, kind):
        raise TypeError(
            f"with_streaming_response needs an audio result, but the call returned {type(result).__name__}; "
            "do not combine it with wait=False."
        )
    return result


class StreamedResponseContextManager(Generic[R]):
    """Makes the request on enter and closes the connection on exit."""

    def __init__(self, call: Callable[[], Any], kind: type[R]) -> None:
        self._call = call
        self._kind = kind
        self._response: R | None = None

    def __enter__(self) -> R:
        self._response = _expect_streamed(self._call(), self._kind)
        return self._response

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._response is not None:
            self._response.response.close()


class AsyncStreamedResponseContextManager(Generic[R]):
    """The async twin of `StreamedResponseContextManager`."""

    def __init__(self, call: Callable[[], Awaitable[Any]], kind: type[R]) -> None:
        self._call = call
        self._kind = kind
        self._response: R | None = None

    async def __aenter__(self) -> R:
        self._response = _expect_streamed(await self._call(), self._kind)
        return self._response

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._response is not None:
            await self._response.response.aclose()


P = ParamSpec("P")


def to_streamed_response_wrapper(
    func: Callable[P, object],
) -> Callable[P, StreamedResponseContextManager[StreamedAudioResponse]]:
    """`func` with the same parameters, returning a context manager around its streamed audio result.

    `func` must be bound to a resource copy made by `_streaming()`, so its request leaves the body unread.
    """

    @functools.wraps(func)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> StreamedResponseContextManager[StreamedAudioResponse]:
        return StreamedResponseContextManager(lambda: func(*args, **kwargs), StreamedAudioResponse)

    return wrapped


def async_to_streamed_response_wrapper(
    func: Callable[P, Awaitable[object]],
) -> Callable[P, AsyncStreamedResponseContextManager[AsyncStreamedAudioResponse]]:
    """The async twin of `to_streamed_response_wrapper`."""

    @functools.wraps(func)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> AsyncStreamedResponseContextManager[AsyncStreamedAudioResponse]:
        return AsyncStreamedResponseContextManager(lambda: func(*args, **kwargs), AsyncStreamedAudioResponse)

    return wrapped
