"""POST /v1/audio/transcriptions: speech to text (multipart upload)."""

from __future__ import annotations

from typing import Annotated, Literal

import anyio
from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import JSONResponse, Response

from api.deps import AccountDep, SessionDep, SettingsDep, StateDep
from api.dispatch import accepted, create_job, new_job_id, raise_for_failed, submit_and_wait, wants_async
from api.errors import InvalidAudio, InvalidRequest
from api.validation import check_language, require_model
from shared import audio, jobs
from shared.catalog import DEFAULT_STT_MODEL
from shared.config import Settings
from shared.pricing import stt_cost
from shared.schemas import ErrorResponse, JobPublic, TranscriptionPublic
from shared.storage import input_key

router = APIRouter(prefix="/v1/audio", tags=["audio"])


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


@router.post(
    "/transcriptions",
    operation_id="audio-transcriptions",
    summary="Transcribe audio to text",
    response_model=TranscriptionPublic,
    responses={
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
    file: Annotated[UploadFile, File(description="Audio or video file to transcribe.")],
    model: Annotated[str, Form(description="STT model id (default: whisper-base).")] = DEFAULT_STT_MODEL,
    language: Annotated[str | None, Form(description="ISO 639-1 code; auto-detected when unset.")] = None,
    diarization: Annotated[bool, Form(description="Label segments with speakers.")] = False,
    timestamps: Annotated[
        Literal["word", "segment"] | None, Form(description="Timestamp granularity: word or segment.")
    ] = None,
    prompt: Annotated[str | None, Form(description="Text to guide style and vocabulary.")] = None,
    temperature: Annotated[float | None, Form(ge=0.0, le=1.0, description="Sampling temperature.")] = None,
    async_: Annotated[bool, Form(alias="async", description="Return 202 with the job at once.")] = False,
) -> Response:
    spec = require_model(settings, model, "stt")
    lang = check_language(spec, language)
    if file.size == 0:
        raise InvalidRequest("The uploaded file is empty; send an audio or video file.", param="file")
    try:
        info = await anyio.to_thread.run_sync(audio.probe, file.file)
    except audio.AudioDecodeError as exc:
        raise InvalidAudio(f"The uploaded file is not usable audio: {exc}.", param="file") from exc
    job_id = new_job_id()
    key = input_key(account.id, job_id, _extension(file.filename, info))

    def _store_upload() -> None:
        file.file.seek(0)
        state.store.put_file(key, file.file)

    await anyio.to_thread.run_sync(_store_upload)
    payload = {
        "language": lang,
        "diarization": diarization,
        "timestamps": timestamps,
        "prompt": prompt,
        "temperature": temperature,
        "filename": file.filename,
        "audio_duration": info.duration,
    }
    cost = stt_cost(spec, info.duration)
    job = await create_job(
        session, account, kind="stt", model=spec.id, request=payload, job_id=job_id, input_key=key, cost=cost
    )
    is_async = wants_async(request, async_)
    job, finished = await submit_and_wait(
        state, session, job, wait=not is_async, timeout=sync_budget(settings, info.duration)
    )
    if not finished:
        return accepted(request, state, job)
    if job.state != jobs.SUCCEEDED:
        raise_for_failed(job)
    body = TranscriptionPublic.model_validate(job.result or {}).model_dump(mode="json", exclude_none=True)
    return JSONResponse(body, headers={"X-Job-Id": job.id})
