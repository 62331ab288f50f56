"""POST /v1/audio/transcriptions: speech to text (multipart upload), sync, async or streamed (SSE); and
POST /v1/audio/diarization: the same job with speaker turns only (no text decoded)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

import anyio
from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import Response, StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import AccountDep, AppState, SessionDep, SettingsDep, StateDep
from api.dispatch import accepted, create_upload_job, new_job_id, raise_for_failed, submit_and_wait, wants_async
from api.errors import APIError, InvalidRequest
from api.requests import (
    MAX_KNOWN_SPEAKERS,
    file_source,
    known_speakers,
    reference_speakers,
    transcription_job,
    upload_source,
)
from api.streaming import SSE_HEADERS, sse_events, subscribe_and_enqueue
from api.validation import require_model
from api.webhook_urls import checked_webhook_url
from shared import jobs
from shared.config import Settings
from shared.db.models import Account, Job
from shared.jobkinds.transcription import DiarizationCreate, TranscriptionJob, TranslationCreate
from shared.schemas import ErrorResponse, JobPublic, TranscriptionCreate
from shared.transcripts import (
    DiarizationPublic,
    Transcript,
    TranscriptionBody,
    render,
    render_model,
    to_diarization,
    to_json,
)

router = APIRouter(prefix="/v1/audio", tags=["audio"])

JSON_FORMATS = ("json", "verbose_json", "diarized_json")
# what every upload-to-job route may answer besides its 200 (the OpenAPI lists them all)
UPLOAD_JOB_RESPONSES: dict[int | str, dict[str, Any]] = {
    202: {"description": "Accepted: the job runs in the background (async).", "model": JobPublic},
    400: {"model": ErrorResponse},
    401: {"model": ErrorResponse},
    402: {"model": ErrorResponse},
    404: {"model": ErrorResponse},
    413: {"model": ErrorResponse},
    429: {"model": ErrorResponse},
    503: {"model": ErrorResponse, "description": "No live worker serves the model (`model_unavailable`)."},
}


def sync_budget(settings: Settings, duration: float) -> float:
    """Synchronous wait for a file of this duration: the base budget plus a share per audio second."""
    limits = settings.limits
    return min(limits.max_sync_wait_seconds, limits.sync_wait_seconds + limits.sync_wait_per_audio_second * duration)


def transcript_of(job: Job) -> tuple[TranscriptionJob, Transcript]:
    return TranscriptionJob.model_validate(job.request), Transcript.model_validate(job.result)


def rendered(job: Job, fmt: str | None = None) -> Response | TranscriptionBody | DiarizationPublic:
    """A finished transcription job's result in the format the request asked for (or `fmt`): the public model
    for the JSON formats (validated by the route's response_model), the text itself for the others."""
    request, transcript = transcript_of(job)
    fmt = fmt or request.response_format
    if request.speakers_only and fmt == "json":
        return to_diarization(transcript)
    if fmt in JSON_FORMATS:
        return render_model(transcript, fmt, words=request.words)
    body, media_type = render(transcript, fmt, words=request.words, uri=request.rttm_uri)
    return Response(content=body, media_type=media_type, headers={"X-Job-Id": job.id})


@router.post(
    "/transcriptions",
    operation_id="audio-transcriptions",
    summary="Transcribe audio to text",
    response_model=TranscriptionBody,
    response_model_exclude_none=True,
    responses={
        200: {
            "description": "The transcription: JSON (json, verbose_json, diarized_json), plain text, SRT, VTT or "
            "RTTM (the speaker turns); "
            "or Server-Sent Events with `stream=true`.",
            "content": {
                "text/plain": {},
                "application/x-subrip": {},
                "text/vtt": {},
                "text/event-stream": {},
            },
        },
        **UPLOAD_JOB_RESPONSES,
    },
)
async def create_transcription(
    request: Request,
    response: Response,
    account: AccountDep,
    session: SessionDep,
    settings: SettingsDep,
    state: StateDep,
    form: Annotated[TranscriptionCreate, Form()],
    file: Annotated[
        UploadFile | None, File(description="Audio or video file (any format FFmpeg reads); or give `file_id`.")
    ] = None,
) -> Response | TranscriptionBody | DiarizationPublic:
    return await _transcription(request, response, account, session, settings, state, form, file)


async def _transcription(
    request: Request,
    response: Response,
    account: Account,
    session: AsyncSession,
    settings: Settings,
    state: AppState,
    form: TranscriptionCreate,
    file: UploadFile | None,
    *,
    speakers_only: bool = False,
    task: Literal["transcribe", "translate"] = "transcribe",
) -> Response | TranscriptionBody | DiarizationPublic:
    """A transcription job from the form (or, `speakers_only`, a diarization job): sync, async or streamed."""
    job_id = new_job_id()
    webhook_url = await checked_webhook_url(state, session, account, form.webhook_url)
    if (file is None) == (form.file_id is None):
        raise InvalidRequest(
            "Send the audio as `file`, or the id of an uploaded file as `file_id` (one of them).", param="file"
        )
    await require_model(state, form.model, "stt")  # the model is checked before the upload is read and stored
    known = await known_speakers(session, account, form.known_speakers)
    if len(known) + len(form.known_speaker_names or []) > MAX_KNOWN_SPEAKERS:
        raise InvalidRequest(
            f"At most {MAX_KNOWN_SPEAKERS} known speakers in all (known_speakers and known_speaker_names[]).",
            param="known_speakers",
        )
    known += await reference_speakers(state, account, form.known_speaker_names, form.known_speaker_references, job_id)
    references = [k.reference_key for k in known if not k.voice_id]
    try:
        if form.file_id is not None:
            source = await file_source(session, account, form.file_id)
        else:
            assert file is not None
            source = await upload_source(state, account, file, job_id, "The uploaded file")
    except APIError:
        await delete_objects(state, references)
        raise
    try:
        spec, job_request = await transcription_job(
            state, form, source, speakers_only=speakers_only, task=task, known=known
        )
    except APIError:
        await delete_objects(state, references + ([source.key] if source.uploaded else []))
        raise
    key = source.key
    is_async = wants_async(request, form.async_) and not form.stream
    job = await create_upload_job(
        state,
        session,
        account,
        uploads=job_request.input_keys,
        kind="stt",
        spec=spec,
        request=job_request,
        latency="batch" if is_async else "interactive",
        job_id=job_id,
        input_key=key if source.uploaded else None,
        webhook_url=webhook_url,
    )
    budget = sync_budget(settings, source.duration)
    if form.stream:
        pubsub = await subscribe_and_enqueue(state, session, job)
        return StreamingResponse(
            _sse_events(state, job.id, pubsub, budget, form.response_format),
            media_type="text/event-stream",
            headers={"X-Job-Id": job.id, **SSE_HEADERS},
        )
    job, finished = await submit_and_wait(state, session, job, wait=not is_async, timeout=budget, client=request)
    if not finished:
        return accepted(request, state, job)
    if job.state != jobs.SUCCEEDED:
        raise_for_failed(job)
    response.headers["X-Job-Id"] = job.id
    return rendered(job)


async def delete_objects(state: AppState, keys: list[str]) -> None:
    """Delete these objects of the store (a refused request's uploads)."""
    for key in keys:
        await anyio.to_thread.run_sync(state.store.delete, key)


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
        request, transcript = transcript_of(job)
        event: dict[str, Any] = {"type": "transcript.text.done", "text": transcript.text, "job_id": job_id}
        if response_format == "json":
            event.update(to_json(transcript, words=request.words).model_dump(mode="json", exclude_none=True))
        return event

    return sse_events(state, job_id, pubsub, budget, delta=delta, done=done)


@router.post(
    "/diarization",
    operation_id="audio-diarization",
    summary="Who spoke when: speaker turns, no transcript",
    response_model=DiarizationPublic,
    response_model_exclude_none=True,
    responses={
        200: {
            "description": "The speaker turns (overlaps included): JSON, or NIST RTTM with response_format=rttm.",
            "content": {"text/plain": {}},
        },
        **UPLOAD_JOB_RESPONSES,
    },
)
async def create_diarization(
    request: Request,
    response: Response,
    account: AccountDep,
    session: SessionDep,
    settings: SettingsDep,
    state: StateDep,
    form: Annotated[DiarizationCreate, Form()],
    file: Annotated[UploadFile | None, File(description="Audio or video file; or give `file_id`.")] = None,
) -> Response | DiarizationPublic | TranscriptionBody:
    """Speaker diarization alone, on the STT workers (billed like a transcription of the same audio)."""
    return await _transcription(
        request, response, account, session, settings, state, form.as_transcription(), file, speakers_only=True
    )


@router.post(
    "/translations",
    operation_id="audio-translations",
    summary="Translate speech in any language to English text (OpenAI's route)",
    response_model=TranscriptionBody,
    response_model_exclude_none=True,
    responses={
        200: {
            "description": "The English text: JSON (json, verbose_json), plain text, SRT or VTT.",
            "content": {"text/plain": {}, "application/x-subrip": {}, "text/vtt": {}},
        },
        **UPLOAD_JOB_RESPONSES,
    },
)
async def create_translation(
    request: Request,
    response: Response,
    account: AccountDep,
    session: SessionDep,
    settings: SettingsDep,
    state: StateDep,
    form: Annotated[TranslationCreate, Form()],
    file: Annotated[UploadFile | None, File(description="Audio or video file; or give `file_id`.")] = None,
) -> Response | TranscriptionBody | DiarizationPublic:
    """Whisper's translate task: the source language is detected (reported as `language`), the text is English."""
    return await _transcription(
        request, response, account, session, settings, state, form.as_transcription(), file, task="translate"
    )
