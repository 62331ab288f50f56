"""POST /v1/audio/transcriptions: speech to text (multipart upload), sync, async or streamed (SSE)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

import anyio
from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import Response, StreamingResponse

from api.deps import AccountDep, AppState, SessionDep, SettingsDep, StateDep
from api.dispatch import accepted, create_upload_job, new_job_id, raise_for_failed, submit_and_wait, wants_async
from api.errors import InvalidAudio, InvalidRequest
from api.streaming import SSE_HEADERS, sse_events, subscribe_and_enqueue
from api.validation import check_language, require_model
from shared import audio, jobs
from shared.catalog import DEFAULT_STT_MODEL
from shared.config import Settings
from shared.db.models import Job
from shared.pricing import stt_cost
from shared.schemas import ErrorResponse, JobPublic, TranscriptionPublic
from shared.storage import input_key
from shared.transcripts import render, to_json

router = APIRouter(prefix="/v1/audio", tags=["audio"])

ResponseFormat = Literal["json", "verbose_json", "text", "srt", "vtt", "diarized_json"]
STREAMABLE = ("json", "text")


def sync_budget(settings: Settings, duration: float) -> float:
    """Synchronous wait for a file of this duration: the base budget plus a share per audio second."""
    limits = settings.limits
    return min(limits.max_sync_wait_seconds, limits.sync_wait_seconds + limits.sync_wait_per_audio_second * duration)


def _extension(filename: str | None, info: audio.AudioInfo) -> str:
    if filename and "." in filename:
        ext = filename.rsplit(".", 1)[1].lower()
        if ext.isalnum() and len(ext) <= 5:
            return ext
    return info.container.split(",")[0] or "bin"


def _check_speakers(num: int | None, low: int | None, high: int | None) -> None:
    if low and high and low > high:
        raise InvalidRequest(f"min_speakers ({low}) is larger than max_speakers ({high}).", param="min_speakers")
    if num and ((low and num < low) or (high and num > high)):
        raise InvalidRequest("num_speakers must lie within min_speakers and max_speakers.", param="num_speakers")


def rendered(job: Job, fmt: str | None = None) -> Response:
    """A finished transcription job's result in the format the request asked for (or `fmt`)."""
    req = job.request
    body, media_type = render(job.result or {}, fmt or req.get("response_format", "json"), words=bool(req.get("words")))
    return Response(content=body, media_type=media_type, headers={"X-Job-Id": job.id})


@router.post(
    "/transcriptions",
    operation_id="audio-transcriptions",
    summary="Transcribe audio to text",
    response_model=TranscriptionPublic,
    responses={
        200: {
            "description": "The transcription: JSON (json, verbose_json, diarized_json), plain text, SRT or VTT; "
            "or Server-Sent Events with `stream=true`.",
            "content": {
                "text/plain": {},
                "application/x-subrip": {},
                "text/vtt": {},
                "text/event-stream": {},
            },
        },
        202: {"description": "Accepted: the job runs in the background (async).", "model": JobPublic},
        400: {"model": ErrorResponse},
        401: {"model": ErrorResponse},
        404: {"model": ErrorResponse},
        413: {"model": ErrorResponse},
    },
)
async def create_transcription(
    request: Request,
    account: AccountDep,
    session: SessionDep,
    settings: SettingsDep,
    state: StateDep,
    file: Annotated[UploadFile, File(description="Audio or video file (any format FFmpeg reads).")],
    model: Annotated[str, Form(description="STT model id (default: whisper-base).")] = DEFAULT_STT_MODEL,
    language: Annotated[str | None, Form(description="ISO 639-1 code; auto-detected when unset.")] = None,
    diarization: Annotated[bool, Form(description="Label segments and words with speakers.")] = False,
    timestamps: Annotated[
        Literal["word", "segment"] | None, Form(description="Timestamp granularity: word or segment.")
    ] = None,
    response_format: Annotated[
        ResponseFormat, Form(description="json, verbose_json, text, srt, vtt or diarized_json.")
    ] = "json",
    timestamp_granularities: Annotated[
        list[Literal["word", "segment"]] | None,
        Form(alias="timestamp_granularities[]", description="OpenAI-style: word and/or segment."),
    ] = None,
    prompt: Annotated[str | None, Form(description="Text to guide style and vocabulary.")] = None,
    temperature: Annotated[float | None, Form(ge=0.0, le=1.0, description="Sampling temperature.")] = None,
    stream: Annotated[bool, Form(description="Stream text deltas as Server-Sent Events.")] = False,
    num_speakers: Annotated[int | None, Form(ge=1, le=32, description="Exact number of speakers.")] = None,
    min_speakers: Annotated[int | None, Form(ge=1, le=32, description="At least this many speakers.")] = None,
    max_speakers: Annotated[int | None, Form(ge=1, le=32, description="At most this many speakers.")] = None,
    channels: Annotated[
        Literal["mix", "split"], Form(description="mix: downmix to mono; split: transcribe each channel apart.")
    ] = "mix",
    async_: Annotated[bool, Form(alias="async", description="Return 202 with the job at once.")] = False,
) -> Response:
    spec = require_model(settings, model, "stt")
    lang = check_language(spec, language)
    if response_format == "diarized_json":
        diarization = True
    if stream and response_format not in STREAMABLE:
        raise InvalidRequest("Streaming supports response_format json or text.", param="response_format")
    _check_speakers(num_speakers, min_speakers, max_speakers)
    words = timestamps == "word" or "word" in (timestamp_granularities or [])
    if file.size == 0:
        raise InvalidRequest("The uploaded file is empty; send an audio or video file.", param="file")
    try:
        info = await anyio.to_thread.run_sync(audio.probe, file.file)
    except audio.AudioDecodeError as exc:
        raise InvalidAudio(f"The uploaded file is not usable audio: {exc}.", param="file") from exc
    if channels == "split" and info.channels < 2:
        raise InvalidRequest(
            "channels=split needs a file with two or more channels; this one is mono.", param="channels"
        )
    job_id = new_job_id()
    key = input_key(account.id, job_id, _extension(file.filename, info))

    def _store_upload() -> None:
        file.file.seek(0)
        state.store.put_file(key, file.file)

    await anyio.to_thread.run_sync(_store_upload)
    payload: dict[str, Any] = {
        "language": lang,
        "diarization": diarization,
        "words": words,
        "response_format": response_format,
        "num_speakers": num_speakers,
        "min_speakers": min_speakers,
        "max_speakers": max_speakers,
        "channels": channels,
        "prompt": prompt,
        "temperature": temperature,
        "stream": stream,
        "filename": file.filename,
        "audio_duration": info.duration,
    }
    cost = stt_cost(spec, info.duration)
    job = await create_upload_job(
        state,
        session,
        account,
        uploads=[key],
        kind="stt",
        model=spec.id,
        request=payload,
        job_id=job_id,
        input_key=key,
        cost=cost,
    )
    budget = sync_budget(settings, info.duration)
    if stream:
        pubsub = await subscribe_and_enqueue(state, session, job)
        return StreamingResponse(
            _sse_events(state, job.id, pubsub, budget, response_format),
            media_type="text/event-stream",
            headers={"X-Job-Id": job.id, **SSE_HEADERS},
        )
    is_async = wants_async(request, async_)
    job, finished = await submit_and_wait(state, session, job, wait=not is_async, timeout=budget)
    if not finished:
        return accepted(request, state, job)
    if job.state != jobs.SUCCEEDED:
        raise_for_failed(job)
    return rendered(job)


def _sse_events(state: AppState, job_id: str, pubsub: Any, budget: float, response_format: str) -> AsyncIterator[bytes]:
    """Text deltas as segments are decoded, then `transcript.text.done` with the whole result."""
    sent_any = False

    def delta(item: dict[str, Any]) -> dict[str, Any] | None:
        nonlocal sent_any
        if item.get("type") != "segment":
            return None
        segment = item["segment"]
        text = (" " if sent_any else "") + segment.get("text", "")
        sent_any = True
        return {"type": "transcript.text.delta", "delta": text, "segment": segment}

    def done(job: Job) -> dict[str, Any]:
        result = job.result or {}
        event: dict[str, Any] = {"type": "transcript.text.done", "text": result.get("text", ""), "job_id": job_id}
        if response_format == "json":
            event.update(to_json(result, words=bool(job.request.get("words"))))
        return event

    return sse_events(state, job_id, pubsub, budget, delta=delta, done=done)
