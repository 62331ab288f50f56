"""POST /v1/audio/speech: text to speech."""

from __future__ import annotations

import anyio
from fastapi import APIRouter, Request, Response

from api.deps import AccountDep, SessionDep, SettingsDep, StateDep
from api.dispatch import accepted, create_job, raise_for_failed, submit_and_wait, wants_async
from api.errors import VoiceNotFound
from api.validation import clean_text, require_model
from shared import jobs
from shared.audio import OUTPUT_FORMATS
from shared.catalog import piper_voices
from shared.pricing import tts_cost
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
        200: {"description": "The audio file, in the requested format.", "content": AUDIO_CONTENT},
        202: {"description": "Accepted: the job runs in the background (async).", "model": JobPublic},
        400: {"model": ErrorResponse},
        401: {"model": ErrorResponse},
        404: {"model": ErrorResponse},
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
    spec = require_model(settings, body.model, "tts")
    text = clean_text(body.input, max_chars=settings.limits.max_input_chars)
    if spec.family == "piper" and body.voice not in piper_voices(settings.resolved_model_dir):
        voices = ", ".join(piper_voices(settings.resolved_model_dir))
        raise VoiceNotFound(
            f"Voice '{body.voice}' does not exist for model '{spec.id}'. Voices: {voices}.", param="voice"
        )
    payload = {
        "input": text,
        "voice": body.voice,
        "speed": body.speed,
        "format": body.format,
        "emotion": body.emotion,
    }
    job = await create_job(session, account, kind="tts", model=spec.id, request=payload, cost=tts_cost(spec, text))
    is_async = wants_async(request, body.async_)
    job, finished = await submit_and_wait(
        state, session, job, wait=not is_async, timeout=settings.limits.sync_wait_seconds
    )
    if not finished:
        return accepted(request, state, job)
    if job.state != jobs.SUCCEEDED:
        raise_for_failed(job)
    assert job.output_key
    data = await anyio.to_thread.run_sync(state.store.get_bytes, job.output_key)
    return Response(
        content=data,
        media_type=job.output_content_type or OUTPUT_FORMATS[body.format].content_type,
        headers={"X-Job-Id": job.id},
    )
