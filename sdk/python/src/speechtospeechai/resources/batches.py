"""`client.batches`: create, retrieve, list, cancel, retry, items, wait (with progress) and download outputs."""

from __future__ import annotations

import json
import re
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from .._base_client import (
    AsyncAPIResource,
    RequestOptions,
    SyncAPIResource,
    Timeout,
    make_options,
    parse_model,
    path_param,
)
from .._exceptions import BatchTimeoutError
from ..types import Batch, BatchEndpoint, BatchItem, BatchItemList, BatchItemStatus, BatchList

__all__ = ["AsyncBatches", "Batches", "DownloadedBatch"]

BatchProgress = Callable[[Batch], object]
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class DownloadedBatch:
    """What `batches.download` wrote: the output and error JSONL files and, for speech batches, the audio."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.output: Path | None = None
        self.errors: Path | None = None
        self.audio: list[Path] = []

    def __repr__(self) -> str:
        return f"DownloadedBatch({self.directory}, audio={len(self.audio)})"


def _create_options(
    endpoint: BatchEndpoint,
    input_file_id: str | None,
    requests: Sequence[Mapping[str, Any]] | None,
    completion_window: str,
    max_concurrency: int | None,
    metadata: Mapping[str, str] | None,
    webhook_url: str | None,
    extra_headers: Mapping[str, str] | None,
    timeout: Timeout,
) -> RequestOptions:
    if (input_file_id is None) == (requests is None):
        raise ValueError("Give the requests as input_file_id=... (an uploaded JSONL file) or requests=[...].")
    body = {
        "endpoint": endpoint,
        "input_file_id": input_file_id,
        "requests": [dict(r) for r in requests] if requests is not None else None,
        "completion_window": completion_window,
        "max_concurrency": max_concurrency,
        "metadata": dict(metadata) if metadata else None,
        "webhook_url": webhook_url,
    }
    return make_options("POST", "batches", json=body, extra_headers=extra_headers, timeout=timeout)


def _items_options(
    batch_id: str, status: BatchItemStatus | None, after: str | None, limit: int | None
) -> RequestOptions:
    params = {"status": status, "after": after, "limit": limit}
    return make_options("GET", f"batches/{path_param(batch_id)}/items", params=params)


def _audio_name(custom_id: str, fmt: str, taken: set[str]) -> str:
    stem = _UNSAFE.sub("_", custom_id).strip("._") or "item"
    name, n = f"{stem}.{fmt}", 1
    while name in taken:
        n += 1
        name = f"{stem}-{n}.{fmt}"
    taken.add(name)
    return name


def _audio_items(output: bytes) -> Iterator[tuple[str, str, str]]:
    """(custom_id, job id, format) of every speech item in an output file."""
    for raw in output.splitlines():
        if not raw.strip():
            continue
        line = json.loads(raw)
        body = ((line.get("response") or {}).get("body")) or {}
        if body.get("job_id") and body.get("format"):
            yield str(line.get("custom_id")), str(body["job_id"]), str(body["format"])


class Batches(SyncAPIResource):
    """Batches of speech, transcription or clone requests; each item runs as its own job."""

    def create(
        self,
        *,
        endpoint: BatchEndpoint,
        input_file_id: str | None = None,
        requests: Sequence[Mapping[str, Any]] | None = None,
        completion_window: str = "24h",
        max_concurrency: int | None = None,
        metadata: Mapping[str, str] | None = None,
        webhook_url: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
        timeout: Timeout = None,
    ) -> Batch:
        """`POST /v1/batches`: from an uploaded JSONL file (OpenAI's `{custom_id, method, url, body}` lines) or
        inline `requests=[{"custom_id": ..., "body": {...}}]`. Invalid lines are listed in `batch.errors`."""
        options = _create_options(
            endpoint,
            input_file_id,
            requests,
            completion_window,
            max_concurrency,
            metadata,
            webhook_url,
            extra_headers,
            timeout,
        )
        return parse_model(self._client.request(options), Batch)

    def retrieve(self, batch_id: str, *, extra_headers: Mapping[str, str] | None = None) -> Batch:
        options = make_options("GET", f"batches/{path_param(batch_id)}", extra_headers=extra_headers)
        return parse_model(self._client.request(options), Batch)

    def list(self, *, limit: int | None = None, after: str | None = None) -> BatchList:
        """A page of the account's batches, newest first."""
        options = make_options("GET", "batches", params={"limit": limit, "after": after})
        return parse_model(self._client.request(options), BatchList)

    def cancel(self, batch_id: str) -> Batch:
        """Queued items are canceled and refunded, running ones stopped."""
        return parse_model(self._client.request(make_options("POST", f"batches/{path_param(batch_id)}/cancel")), Batch)

    def retry(self, batch_id: str) -> Batch:
        """Run the batch's failed items again."""
        return parse_model(self._client.request(make_options("POST", f"batches/{path_param(batch_id)}/retry")), Batch)

    def items(
        self,
        batch_id: str,
        *,
        status: BatchItemStatus | None = None,
        after: str | None = None,
        limit: int | None = None,
    ) -> BatchItemList:
        """One page of the batch's items, in line order."""
        return parse_model(self._client.request(_items_options(batch_id, status, after, limit)), BatchItemList)

    def iter_items(self, batch_id: str, *, status: BatchItemStatus | None = None) -> Iterator[BatchItem]:
        """Every item of the batch, page after page."""
        after = None
        while True:
            page = self.items(batch_id, status=status, after=after, limit=1000)
            yield from page.data
            if not page.has_more or not page.data:
                return
            after = page.last_id

    def wait(
        self,
        batch_id: str,
        *,
        timeout: float | None = None,
        poll_interval: float = 2.0,
        on_progress: BatchProgress | None = None,
    ) -> Batch:
        """Poll until the batch ends; `on_progress(batch)` after every poll (its `request_counts` say how far)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            batch = self.retrieve(batch_id)
            if on_progress is not None:
                on_progress(batch)
            if batch.done:
                return batch
            if deadline is not None and time.monotonic() >= deadline:
                raise BatchTimeoutError(batch, float(timeout or 0))
            self._client._sleep(poll_interval)

    def download(self, batch_id: str, directory: str | Path, *, audio: bool = True) -> DownloadedBatch:
        """Write the batch's `output.jsonl` and `errors.jsonl` into `directory`, and (speech batches) each item's
        audio as `<custom_id>.<format>`."""
        target = Path(directory)
        target.mkdir(parents=True, exist_ok=True)
        batch = self.retrieve(batch_id)
        done = DownloadedBatch(target)
        files = self._client.files
        if batch.error_file_id:
            done.errors = files.download(batch.error_file_id, target / "errors.jsonl")
        if batch.output_file_id:
            output = files.content(batch.output_file_id)
            done.output = target / "output.jsonl"
            done.output.write_bytes(output)
            taken: set[str] = set()
            for custom_id, job_id, fmt in _audio_items(output) if audio else ():
                path = target / _audio_name(custom_id, fmt, taken)
                self._client.jobs.result(job_id).save(path)
                done.audio.append(path)
        return done


class AsyncBatches(AsyncAPIResource):
    """The async twin of `Batches`."""

    async def create(
        self,
        *,
        endpoint: BatchEndpoint,
        input_file_id: str | None = None,
        requests: Sequence[Mapping[str, Any]] | None = None,
        completion_window: str = "24h",
        max_concurrency: int | None = None,
        metadata: Mapping[str, str] | None = None,
        webhook_url: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
        timeout: Timeout = None,
    ) -> Batch:
        options = _create_options(
            endpoint,
            input_file_id,
            requests,
            completion_window,
            max_concurrency,
            metadata,
            webhook_url,
            extra_headers,
            timeout,
        )
        return parse_model(await self._client.request(options), Batch)

    async def retrieve(self, batch_id: str, *, extra_headers: Mapping[str, str] | None = None) -> Batch:
        options = make_options("GET", f"batches/{path_param(batch_id)}", extra_headers=extra_headers)
        return parse_model(await self._client.request(options), Batch)

    async def list(self, *, limit: int | None = None, after: str | None = None) -> BatchList:
        options = make_options("GET", "batches", params={"limit": limit, "after": after})
        return parse_model(await self._client.request(options), BatchList)

    async def cancel(self, batch_id: str) -> Batch:
        options = make_options("POST", f"batches/{path_param(batch_id)}/cancel")
        return parse_model(await self._client.request(options), Batch)

    async def retry(self, batch_id: str) -> Batch:
        options = make_options("POST", f"batches/{path_param(batch_id)}/retry")
        return parse_model(await self._client.request(options), Batch)

    async def items(
        self,
        batch_id: str,
        *,
        status: BatchItemStatus | None = None,
        after: str | None = None,
        limit: int | None = None,
    ) -> BatchItemList:
        return parse_model(await self._client.request(_items_options(batch_id, status, after, limit)), BatchItemList)

    async def iter_items(self, batch_id: str, *, status: BatchItemStatus | None = None) -> AsyncIterator[BatchItem]:
        after = None
        while True:
            page = await self.items(batch_id, status=status, after=after, limit=1000)
            for item in page.data:
                yield item
            if not page.has_more or not page.data:
                return
            after = page.last_id

    async def wait(
        self,
        batch_id: str,
        *,
        timeout: float | None = None,
        poll_interval: float = 2.0,
        on_progress: BatchProgress | None = None,
    ) -> Batch:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            batch = await self.retrieve(batch_id)
            if on_progress is not None:
                on_progress(batch)
            if batch.done:
                return batch
            if deadline is not None and time.monotonic() >= deadline:
                raise BatchTimeoutError(batch, float(timeout or 0))
            await self._client._sleep(poll_interval)

    async def download(self, batch_id: str, directory: str | Path, *, audio: bool = True) -> DownloadedBatch:
        target = Path(directory)
        target.mkdir(parents=True, exist_ok=True)
        batch = await self.retrieve(batch_id)
        done = DownloadedBatch(target)
        files = self._client.files
        if batch.error_file_id:
            done.errors = await files.download(batch.error_file_id, target / "errors.jsonl")
        if batch.output_file_id:
            output = await files.content(batch.output_file_id)
            done.output = target / "output.jsonl"
            done.output.write_bytes(output)
            taken: set[str] = set()
            for custom_id, job_id, fmt in _audio_items(output) if audio else ():
                path = target / _audio_name(custom_id, fmt, taken)
                (await self._client.jobs.result(job_id)).save(path)
                done.audio.append(path)
        return done
