"""POST /v1/audio/speech: text to speech, whole file, chunked audio stream, or SSE deltas."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from api.deps import AccountDep, SessionDep, SettingsDep, StateDep
from api.dispatch import accepted, audio_output, create_job, submit_and_wait, wants_async
from api.requests import speech_job
from api.streaming import stream_audio
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
        streamed = await stream_audio(
            state,
            session,
            job,
            settings.limits.sync_wait_seconds,
            sse_format=body.stream_format == "sse",
            media_type=fmt.content_type,
            done=_speech_done,
        )
        if not isinstance(streamed, Job):
            return streamed
        if streamed.state not in jobs.TERMINAL:
            return accepted(request, state, streamed)
        job, finished = streamed, True
    else:
        job, finished = await submit_and_wait(
            state, session, job, wait=not is_async, timeout=settings.limits.sync_wait_seconds, client=request
        )
    if not finished:
        return accepted(request, state, job)
    return await audio_output(state, job, fmt.content_type)


def _speech_done(job: Job) -> dict[str, Any]:
    result = SpeechResult.model_validate(job.result)
    usage = {"input_characters": result.characters, "duration": result.duration}
    return {"type": "speech.audio.done", "job_id": job.id, "usage": usage}
