"""POST /v1/audio/speech: text to speech, whole file, chunked audio stream, or SSE deltas."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any

import anyio
from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse

from api.deps import AccountDep, AppState, SessionDep, SettingsDep, StateDep
from api.dispatch import accepted, create_job, raise_for_failed, submit_and_wait, wants_async
from api.requests import speech_job
from api.streaming import SSE_HEADERS, JobStreamTimeout, final_job, relay, sse_events, subscribe_and_enqueue
from api.webhook_urls import checked_webhook_url
from shared import jobs
from shared.audio import OUTPUT_FORMATS
from shared.db.models import Job
from shared.jobkinds.speech import SpeechResult
from shared.schemas import ErrorResponse, JobPublic, SpeechCreate

router = APIRouter(prefix="/v1/audio", tags=["audio"])

AUDIO_CONTENT = {
    fmt.content_type: {"schema": {"type": "string", "format": "binary"}} for fmt in OUTPUT_FORMATS.values()
}


@router.post(
    "/speech",
    operation_id="audio-speech",
    summary="Convert text to speech",
    response_class=Response,
    responses={
        200: {
            "description": "The audio in the requested format; with `stream=true` it arrives chunk by chunk "
            "(or as Server-Sent Events with `stream_format=sse`).",
            "content": {**AUDIO_CONTENT, "text/event-stream": {}},
        },
        202: {"description": "Accepted: the job runs in the background (async).", "model": JobPublic},
        400: {"model": ErrorResponse},
        401: {"model": ErrorResponse},
        402: {"model": ErrorResponse},
        404: {"model": ErrorResponse},
        429: {"model": ErrorResponse},
        503: {"model": ErrorResponse, "description": "No live worker serves the model (`model_unavailable`)."},
    },
)
async def create_speech(
    body: SpeechCreate,
    request: Request,
    account: AccountDep,
    session: SessionDep,
    settings: SettingsDep,
    state: StateDep,
) -> Response:
    # OpenAI's speech route streams: a sync request gets its audio as it is synthesised unless it asks
    # `stream=false`; `stream_format=sse` alone asks for the SSE stream. A WAV streams only when asked: streamed,
    # its header cannot carry the length, and the whole file (as stored and replayed) does
    stream_asked = body.stream is True or (body.stream is None and body.stream_format == "sse")
    is_async = wants_async(request, body.async_) and not stream_asked
    streaming = stream_asked or (body.stream is None and not is_async and body.format != "wav")
    spec, request_ = await speech_job(state, session, account, body.model_copy(update={"stream": streaming}))
    webhook_url = await checked_webhook_url(state, session, account, body.webhook_url)
    job = await create_job(
        session,
        account,
        kind="tts",
        spec=spec,
        request=request_,
        latency="batch" if is_async else "interactive",
        webhook_url=webhook_url,
    )
    fmt = OUTPUT_FORMATS[body.format]
    if streaming:
        pubsub = await subscribe_and_enqueue(state, session, job)
        budget = settings.limits.sync_wait_seconds
        if body.stream_format == "sse":
            return StreamingResponse(
                _sse_audio(state, job.id, pubsub, budget),
                media_type="text/event-stream",
                headers={"X-Job-Id": job.id, **SSE_HEADERS},
            )
        chunks = _raw_audio(state, job.id, pubsub, budget)
        # the status line waits for the first audio, so a job that fails before speaking still answers with its
        # error and status (and one past the budget with 202), as a whole-file request would
        first = await anext(chunks, None)
        if first is not None:
            return StreamingResponse(
                _prepend(first, chunks),
                media_type=fmt.content_type,
                headers={"X-Job-Id": job.id, "Cache-Control": "no-cache"},
            )
        finished_job = await final_job(state, job.id)
        if finished_job is None or finished_job.state not in jobs.TERMINAL:
            return accepted(request, state, finished_job or job)
        job, finished = finished_job, True
    else:
        job, finished = await submit_and_wait(
            state, session, job, wait=not is_async, timeout=settings.limits.sync_wait_seconds, client=request
        )
    if not finished:
        return accepted(request, state, job)
    if job.state != jobs.SUCCEEDED:
        raise_for_failed(job)
    assert job.output_key
    data = await anyio.to_thread.run_sync(state.store.get_bytes, job.output_key)
    return Response(content=data, media_type=job.output_content_type or fmt.content_type, headers={"X-Job-Id": job.id})


async def _prepend(first: bytes, rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    yield first
    async for chunk in rest:
        yield chunk


async def _raw_audio(state: AppState, job_id: str, pubsub: Any, budget: float) -> AsyncIterator[bytes]:
    """Encoded audio bytes as the worker produces them (a wav header first, then samples)."""
    try:
        async for item in relay(state, job_id, pubsub, budget):
            if item.get("type") == "audio":
                yield base64.b64decode(item["b64"])
    except JobStreamTimeout:
        return  # the connection ends; the finished audio stays available at GET /v1/jobs/{id}/result


def _sse_audio(state: AppState, job_id: str, pubsub: Any, budget: float) -> AsyncIterator[bytes]:
    """OpenAI-style `speech.audio.delta` events with base64 audio, then `speech.audio.done`."""

    def delta(item: dict[str, Any]) -> dict[str, Any] | None:
        return {"type": "speech.audio.delta", "audio": item["b64"]} if item.get("type") == "audio" else None

    def done(job: Job) -> dict[str, Any]:
        result = SpeechResult.model_validate(job.result)
        usage = {"input_characters": result.characters, "duration": result.duration}
        return {"type": "speech.audio.done", "job_id": job_id, "usage": usage}

    return sse_events(state, job_id, pubsub, budget, delta=delta, done=done)
