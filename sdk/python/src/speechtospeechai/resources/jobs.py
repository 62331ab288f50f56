"""`client.jobs`: `GET /v1/jobs[/{id}]`, `GET /v1/jobs/{id}/result`, `DELETE /v1/jobs/{id}`, and polling."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from functools import cached_property
from typing import cast, overload

from .._base_client import (
    AsyncAPIResource,
    SyncAPIResource,
    Timeout,
    make_options,
    parse_model,
    parse_transcription,
    path_param,
)
from .._exceptions import JobFailedError, JobTimeoutError
from .._response import AudioResponse, async_to_streamed_response_wrapper, to_streamed_response_wrapper
from ..types import Job, JobKind, JobList, JobStatus, JsonFormat, TextFormat, Transcription, TranscriptionFormat

__all__ = ["AsyncJobs", "Jobs"]

ProgressCallback = Callable[[Job], object]


def _deadline(timeout: float | None) -> float | None:
    return None if timeout is None else time.monotonic() + timeout


def _next_poll(job: Job, deadline: float | None, timeout: float | None, poll_interval: float) -> float:
    """Seconds until the next poll of a running job; raises JobTimeoutError once the deadline has passed."""
    if deadline is None:
        return poll_interval
    left = deadline - time.monotonic()
    if left <= 0:
        raise JobTimeoutError(job, cast(float, timeout))
    return min(poll_interval, left)


def _succeeded(job: Job) -> Job:
    if job.status != "succeeded":
        raise JobFailedError(job)
    return job


class Jobs(SyncAPIResource):
    """Background jobs: state, progress, result download and cancellation."""

    def retrieve(self, job_id: str, *, extra_headers: Mapping[str, str] | None = None, timeout: Timeout = None) -> Job:
        """`GET /v1/jobs/{job_id}`."""
        options = make_options("GET", f"jobs/{path_param(job_id)}", extra_headers=extra_headers, timeout=timeout)
        return parse_model(self._client.request(options), Job)

    def list(
        self,
        *,
        limit: int | None = None,
        after: str | None = None,
        status: JobStatus | None = None,
        kind: JobKind | None = None,
        extra_headers: Mapping[str, str] | None = None,
        timeout: Timeout = None,
    ) -> JobList:
        """`GET /v1/jobs`: a page of the account's jobs, newest first (`after=page.last_id` for the next)."""
        params = {"limit": limit, "after": after, "status": status, "kind": kind}
        options = make_options("GET", "jobs", params=params, extra_headers=extra_headers, timeout=timeout)
        return parse_model(self._client.request(options), JobList)

    def cancel(self, job_id: str, *, extra_headers: Mapping[str, str] | None = None, timeout: Timeout = None) -> Job:
        """`DELETE /v1/jobs/{job_id}`: cancel a queued or running job; returns its new state."""
        options = make_options("DELETE", f"jobs/{path_param(job_id)}", extra_headers=extra_headers, timeout=timeout)
        return parse_model(self._client.request(options), Job)

    def result(
        self, job_id: str, *, extra_headers: Mapping[str, str] | None = None, timeout: Timeout = None
    ) -> AudioResponse:
        """`GET /v1/jobs/{job_id}/result`: the audio of a succeeded synthesis job."""
        options = make_options(
            "GET",
            f"jobs/{path_param(job_id)}/result",
            extra_headers=extra_headers,
            timeout=timeout,
            stream=self._stream,
        )
        # a `_streaming()` copy returns a StreamedAudioResponse, typed by `with_streaming_response`
        return cast(AudioResponse, self._client.audio_response(self._client.request(options), options))

    @overload
    def transcription(
        self,
        job_id: str,
        *,
        response_format: TextFormat,
        extra_headers: Mapping[str, str] | None = None,
        timeout: Timeout = None,
    ) -> str: ...

    @overload
    def transcription(
        self,
        job_id: str,
        *,
        response_format: JsonFormat | None = None,
        extra_headers: Mapping[str, str] | None = None,
        timeout: Timeout = None,
    ) -> Transcription: ...

    def transcription(
        self,
        job_id: str,
        *,
        response_format: TranscriptionFormat | None = None,
        extra_headers: Mapping[str, str] | None = None,
        timeout: Timeout = None,
    ) -> Transcription | str:
        """`GET /v1/jobs/{job_id}/result` of a succeeded speech-to-text job, rendered by the server in
        `response_format` (default json)."""
        response_format = response_format or "json"
        options = make_options(
            "GET",
            f"jobs/{path_param(job_id)}/result",
            params={"response_format": response_format},
            extra_headers=extra_headers,
            timeout=timeout,
        )
        return parse_transcription(self._client.request(options), response_format)

    def wait(
        self,
        job_id: str,
        *,
        timeout: float | None = None,
        poll_interval: float = 1.0,
        on_progress: ProgressCallback | None = None,
    ) -> Job:
        """Poll until the job succeeds, fails or is canceled, and return it (check `job.status`).

        `on_progress(job)` is called after every poll. Raises JobTimeoutError after `timeout` seconds (None: no
        limit); the job keeps running on the server.
        """
        deadline = _deadline(timeout)
        while True:
            job = self.retrieve(job_id)
            if on_progress is not None:
                on_progress(job)
            if job.done:
                return job
            self._client._sleep(_next_poll(job, deadline, timeout, poll_interval))

    def _wait_for_success(self, job_id: str) -> Job:
        return _succeeded(self.wait(job_id))

    @cached_property
    def with_streaming_response(self) -> JobsWithStreamingResponse:
        return JobsWithStreamingResponse(self)


class AsyncJobs(AsyncAPIResource):
    """The async twin of `Jobs`."""

    async def retrieve(
        self, job_id: str, *, extra_headers: Mapping[str, str] | None = None, timeout: Timeout = None
    ) -> Job:
        """`GET /v1/jobs/{job_id}`."""
        options = make_options("GET", f"jobs/{path_param(job_id)}", extra_headers=extra_headers, timeout=timeout)
        return parse_model(await self._client.request(options), Job)

    async def list(
        self,
        *,
        limit: int | None = None,
        after: str | None = None,
        status: JobStatus | None = None,
        kind: JobKind | None = None,
        extra_headers: Mapping[str, str] | None = None,
        timeout: Timeout = None,
    ) -> JobList:
        """`GET /v1/jobs`: a page of the account's jobs, newest first (`after=page.last_id` for the next)."""
        params = {"limit": limit, "after": after, "status": status, "kind": kind}
        options = make_options("GET", "jobs", params=params, extra_headers=extra_headers, timeout=timeout)
        return parse_model(await self._client.request(options), JobList)

    async def cancel(
        self, job_id: str, *, extra_headers: Mapping[str, str] | None = None, timeout: Timeout = None
    ) -> Job:
        """`DELETE /v1/jobs/{job_id}`: cancel a queued or running job; returns its new state."""
        options = make_options("DELETE", f"jobs/{path_param(job_id)}", extra_headers=extra_headers, timeout=timeout)
        return parse_model(await self._client.request(options), Job)

    async def result(
        self, job_id: str, *, extra_headers: Mapping[str, str] | None = None, timeout: Timeout = None
    ) -> AudioResponse:
        """`GET /v1/jobs/{job_id}/result`: the audio of a succeeded synthesis job."""
        options = make_options(
            "GET",
            f"jobs/{path_param(job_id)}/result",
            extra_headers=extra_headers,
            timeout=timeout,
            stream=self._stream,
        )
        return cast(AudioResponse, self._client.audio_response(await self._client.request(options), options))

    @overload
    async def transcription(
        self,
        job_id: str,
        *,
        response_format: TextFormat,
        extra_headers: Mapping[str, str] | None = None,
        timeout: Timeout = None,
    ) -> str: ...

    @overload
    async def transcription(
        self,
        job_id: str,
        *,
        response_format: JsonFormat | None = None,
        extra_headers: Mapping[str, str] | None = None,
        timeout: Timeout = None,
    ) -> Transcription: ...

    async def transcription(
        self,
        job_id: str,
        *,
        response_format: TranscriptionFormat | None = None,
        extra_headers: Mapping[str, str] | None = None,
        timeout: Timeout = None,
    ) -> Transcription | str:
        """`GET /v1/jobs/{job_id}/result` of a succeeded speech-to-text job, rendered by the server in
        `response_format` (default json)."""
        response_format = response_format or "json"
        options = make_options(
            "GET",
            f"jobs/{path_param(job_id)}/result",
            params={"response_format": response_format},
            extra_headers=extra_headers,
            timeout=timeout,
        )
        return parse_transcription(await self._client.request(options), response_format)

    async def wait(
        self,
        job_id: str,
        *,
        timeout: float | None = None,
        poll_interval: float = 1.0,
        on_progress: ProgressCallback | None = None,
    ) -> Job:
        """Poll until the job succeeds, fails or is canceled, and return it (see `Jobs.wait`)."""
        deadline = _deadline(timeout)
        while True:
            job = await self.retrieve(job_id)
            if on_progress is not None:
                on_progress(job)
            if job.done:
                return job
            await self._client._sleep(_next_poll(job, deadline, timeout, poll_interval))

    async def _wait_for_success(self, job_id: str) -> Job:
        return _succeeded(await self.wait(job_id))

    @cached_property
    def with_streaming_response(self) -> AsyncJobsWithStreamingResponse:
        return AsyncJobsWithStreamingResponse(self)


class JobsWithStreamingResponse:
    """`client.jobs.with_streaming_response.result(id)` as a context manager that streams the audio."""

    def __init__(self, jobs: Jobs) -> None:
        self.result = to_streamed_response_wrapper(jobs._streaming().result)


class AsyncJobsWithStreamingResponse:
    def __init__(self, jobs: AsyncJobs) -> None:
        self.result = async_to_streamed_response_wrapper(jobs._streaming().result)
