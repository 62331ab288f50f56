"""Server-Sent Events of a streamed job (`stream_format=sse` on speech and voice conversions, `stream=true` on
transcriptions), parsed by httpx-sse and typed per event: iterate a `Stream` (or `AsyncStream`) to get each event
as it arrives. An `error` event raises `StreamError` (code `timeout`: the job is still running, `job_id` says
which to wait for). Leaving the loop early, or `close()`, closes the connection (the server cancels the job)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import replace
from typing import Any, Generic, Self, TypeVar

import httpx
from httpx_sse import EventSource

from ._base_client import EVENT_STREAM, RequestOptions, is_event_stream
from ._exceptions import SpeechToSpeechAIError, StreamError
from .types import (
    ConversionAudioDelta,
    ConversionAudioDone,
    SpeechAudioDelta,
    SpeechAudioDone,
    StreamEvent,
    TranscriptTextDelta,
    TranscriptTextDone,
    _Object,
)

EventT = TypeVar("EventT", bound=_Object)

# what each stream yields; an event type newer than this SDK comes as a StreamEvent (every field kept)
SpeechStreamEvent = SpeechAudioDelta | SpeechAudioDone | StreamEvent
TranscriptionStreamEvent = TranscriptTextDelta | TranscriptTextDone | StreamEvent
ConversionStreamEvent = ConversionAudioDelta | ConversionAudioDone | StreamEvent
SPEECH_EVENTS: dict[str, type[SpeechStreamEvent]] = {
    "speech.audio.delta": SpeechAudioDelta, "speech.audio.done": SpeechAudioDone
}  # fmt: skip
TRANSCRIPTION_EVENTS: dict[str, type[TranscriptionStreamEvent]] = {
    "transcript.text.delta": TranscriptTextDelta, "transcript.text.done": TranscriptTextDone
}  # fmt: skip
CONVERSION_EVENTS: dict[str, type[ConversionStreamEvent]] = {
    "conversion.audio.delta": ConversionAudioDelta, "conversion.audio.done": ConversionAudioDone
}  # fmt: skip


def sse_options(options: RequestOptions) -> RequestOptions:
    """The request, asking for (and leaving unread) an event stream."""
    return replace(options, stream=True, headers={"Accept": EVENT_STREAM, **options.headers})


class _EventStreamBase(Generic[EventT]):
    def __init__(self, response: httpx.Response, models: Mapping[str, type[EventT]]) -> None:
        self.response = response
        self.job_id: str | None = response.headers.get("x-job-id")
        self.request_id: str | None = response.headers.get("x-request-id")
        self._models = models

    def _not_events(self, body: bytes) -> SpeechToSpeechAIError:
        """What an answer that is no event stream says instead."""
        content_type = self.response.headers.get("content-type", "")
        return SpeechToSpeechAIError(
            f"Expected Server-Sent Events, got HTTP {self.response.status_code} "
            f"{content_type or 'without a content type'}: {body.decode(errors='replace')[:200]}"
        )

    def _event(self, data: str) -> EventT:
        try:
            payload: Any = json.loads(data)
        except json.JSONDecodeError as exc:
            raise SpeechToSpeechAIError(f"An event of the stream is not JSON: {data[:200]}") from exc
        kind = payload.get("type") if isinstance(payload, dict) else None
        if kind == "error":
            error = payload.get("error") or {}
            raise StreamError(
                error.get("message") or "The stream ended with an error.",
                code=error.get("code"),
                job_id=error.get("job_id") or self.job_id,
                request_id=self.request_id,
                body=payload,
            )
        model = self._models.get(str(kind))
        if model is None:  # an event type newer than this SDK: kept, untyped
            return StreamEvent.model_validate(payload)  # type: ignore[return-value]  # each union holds it
        return model.model_validate(payload)


class Stream(_EventStreamBase[EventT]):
    """`for event in stream: ...` (each event once; `with stream:` closes the connection on the way out)."""

    def __iter__(self) -> Iterator[EventT]:
        try:
            if not is_event_stream(self.response):
                raise self._not_events(self.response.read())
            for sse in EventSource(self.response).iter_sse():
                if sse.data:
                    yield self._event(sse.data)
        finally:
            self.response.close()

    def close(self) -> None:
        self.response.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class AsyncStream(_EventStreamBase[EventT]):
    """`async for event in stream: ...` (`async with stream:` closes the connection on the way out)."""

    async def __aiter__(self) -> AsyncIterator[EventT]:
        try:
            if not is_event_stream(self.response):
                raise self._not_events(await self.response.aread())
            async for sse in EventSource(self.response).aiter_sse():
                if sse.data:
                    yield self._event(sse.data)
        finally:
            await self.response.aclose()

    async def close(self) -> None:
        await self.response.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()
