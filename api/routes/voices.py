"""Voices: preset voices per model, and the account's cloned voices (POST /v1/voices/clone, list, get, delete)."""

from __future__ import annotations

from typing import Annotated

import anyio
from fastapi import APIRouter, File, Form, Query, Request, Response, UploadFile
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import AccountDep, AppState, SessionDep, SettingsDep, StateDep
from api.dispatch import create_upload_job, new_job_id, raise_for_failed, submit_and_wait, wants_async
from api.errors import APIError, InvalidRequest, NotFound, VoiceNotFound
from api.pages import page
from api.requests import (
    checked_labels,
    clone_consent,
    clone_job,
    clone_model,
    file_source,
    sample_records,
    upload_source,
    voice_labels,
)
from api.routes.transcriptions import UPLOAD_JOB_RESPONSES
from api.validation import check_language, require_model
from api.voices import new_voice, preset_voices
from api.webhook_urls import checked_webhook_url
from shared import jobs
from shared.catalog import MODELS, ModelSpec
from shared.db.models import Account, Job, Voice, VoiceConditioning, new_id
from shared.jobkinds.clone import CloneCreate, CloneJob, CloneResult
from shared.jobkinds.design import DesignCreate, DesignJob
from shared.schemas import ErrorResponse, VoiceConsent, VoiceDeleted, VoiceList, VoicePublic, VoiceSample, VoiceUpdate

router = APIRouter(prefix="/v1/voices", tags=["voices"])


def voice_public(voice: Voice, job: Job | None = None) -> VoicePublic:
    designed = "design" in (voice.profile or {})  # POST /v1/voices/design made it
    result = CloneResult.model_validate(job.result) if job is not None and job.kind == "clone" and job.result else None
    warnings = result.warnings if result is not None else []
    return VoicePublic(
        id=voice.id,
        name=voice.name,
        model=voice.model,
        language=voice.language,
        status=voice.status,  # type: ignore[arg-type]
        created_at=voice.created_at,
        warnings=warnings,
        error=voice.error_message,
        job_id=job.id if job else None,
        description=voice.description,
        labels=voice.labels or {},
        samples=[VoiceSample.model_validate(s) for s in voice.samples or []],
        consent=VoiceConsent.model_validate(voice.consent) if voice.consent else None,
        preview_url=f"/v1/voices/{voice.id}/preview" if voice.preview_key else None,
        models=[voice.model] if designed else [m.id for m in MODELS.values() if m.can_clone],
        type="designed" if designed else "cloned",
        preset=voice.preset,
    )


async def _own_voice(session: SessionDep, account: Account, voice_id: str) -> Voice:
    voice = (
        await session.execute(select(Voice).where(Voice.id == voice_id, Voice.account_id == account.id))
    ).scalar_one_or_none()
    if voice is None:
        raise VoiceNotFound(f"Voice '{voice_id}' does not exist.", param="voice_id")
    return voice


@router.post(
    "/clone",
    operation_id="voices-clone",
    summary="Clone a voice from an audio sample",
    response_model=VoicePublic,
    responses={
        **UPLOAD_JOB_RESPONSES,  # an upload that becomes a job, like a transcription; its 202 is the voice
        202: {"model": VoicePublic, "description": "Accepted: enrollment runs in the background (async)."},
    },
)
async def clone_voice(
    request: Request,
    response: Response,
    account: AccountDep,
    session: SessionDep,
    settings: SettingsDep,
    state: StateDep,
    form: Annotated[CloneCreate, Form()],
    file: Annotated[UploadFile | None, File(description="Audio sample (10-30 seconds recommended).")] = None,
    files: Annotated[list[UploadFile] | None, File(description="Several samples of the same speaker.")] = None,
    consent_recording: Annotated[
        UploadFile | None,
        File(description="The speaker reading the consent phrase (required where CLONE_CONSENT=recording)."),
    ] = None,
) -> VoicePublic:
    job_id = new_job_id()
    webhook_url = await checked_webhook_url(state, session, account, form.webhook_url)
    await clone_model(state, form)  # the model is checked before any sample is read and stored
    uploads = [u for u in ([file] if file else []) + list(files or [])]
    voice_labels(form.labels)  # the form's fields are checked before any sample is read and stored
    if uploads or form.file_id:
        clone_consent(settings, form, has_recording=consent_recording is not None or bool(form.consent_file_id))
    sources = [await file_source(session, account, file_id) for file_id in form.file_id or []]
    recording = None
    try:
        for index, upload in enumerate(uploads):
            sources.append(await upload_source(state, account, upload, f"{job_id}-{index}", f"Sample {index + 1}"))
        if consent_recording is not None and settings.clone_consent == "recording":
            recording = await upload_source(
                state, account, consent_recording, f"{job_id}-consent", "The consent recording"
            )
        elif form.consent_file_id and settings.clone_consent == "recording":
            recording = await file_source(session, account, form.consent_file_id, param="consent_file_id")
        voice_id = new_id("voice")
        spec, clone_request = await clone_job(state, form, sources, voice_id, consent_recording=recording)
    except APIError:
        for source in [*sources, *([recording] if recording else [])]:
            if source.uploaded:
                await anyio.to_thread.run_sync(state.store.delete, source.key)
        raise
    voice = new_voice(clone_request, account.id, spec.id)
    return await _enroll(
        request,
        response,
        state,
        session,
        account,
        voice,
        kind="clone",
        spec=spec,
        job_id=job_id,
        job_request=clone_request,
        is_async=wants_async(request, form.async_),
        webhook_url=webhook_url,
    )


async def _enroll(
    request: Request,
    response: Response,
    state: AppState,
    session: AsyncSession,
    account: Account,
    voice: Voice,
    *,
    kind: str,
    spec: ModelSpec,
    job_id: str,
    job_request: CloneJob | DesignJob,
    is_async: bool,
    webhook_url: str | None = None,
) -> VoicePublic:
    """The voice's row and the job that makes it, then its state: ready (200), still running (202), or the job's
    error."""
    session.add(voice)
    job = await create_upload_job(
        state,
        session,
        account,
        uploads=job_request.input_keys,
        kind=kind,
        latency="batch" if is_async else "interactive",
        spec=spec,
        job_id=job_id,
        request=job_request,
        input_key=job_request.input_keys[0] if job_request.input_keys else None,  # uploads to clean up
        webhook_url=webhook_url,
    )
    job, finished = await submit_and_wait(
        state, session, job, wait=not is_async, timeout=state.settings.limits.sync_wait_seconds, client=request
    )
    await session.refresh(voice)
    if not finished:
        response.status_code = 202
        return voice_public(voice, job)
    if job.state != jobs.SUCCEEDED:
        raise_for_failed(job)
    return voice_public(voice, job)


@router.post(
    "/design",
    operation_id="voices-design",
    summary="Closest stock voice: a blend of a model's stock voices that sounds most like a reference",
    response_model=VoicePublic,
    responses={
        **UPLOAD_JOB_RESPONSES,
        202: {"model": VoicePublic, "description": "Accepted: the design runs in the background (async)."},
    },
)
async def design_voice(
    request: Request,
    response: Response,
    account: AccountDep,
    session: SessionDep,
    state: StateDep,
    form: Annotated[DesignCreate, Form()],
    file: Annotated[UploadFile | None, File(description="A recording of the voice to approach (3-120 s).")] = None,
) -> VoicePublic:
    """Not cloning: the reference's CAM++ speaker embedding ranks the model's stock voices (each described once by a
    calibration sentence it speaks), and the voice is the closest one or a blend of the `blend` closest, kept
    only where the blend sounds closer. For models that cannot clone (Kokoro); speak it with that model."""
    spec = await require_model(state, form.model or "kokoro", "tts")
    if not spec.voice_blends:
        blendable = ", ".join(m.id for m in MODELS.values() if m.voice_blends)
        raise InvalidRequest(
            f"Model '{spec.id}' has no blendable stock voices; design voices with {blendable}.", param="model"
        )
    language = check_language(spec, form.language)
    job_id = new_job_id()
    sources = [await file_source(session, account, form.file_id)] if form.file_id else []
    if file is not None:
        sources.append(await upload_source(state, account, file, f"{job_id}-0", "The reference"))
    if not sources:
        raise InvalidRequest("Send the reference recording as `file` (or `file_id`).", param="file")
    voice_id = new_id("voice")
    design = DesignJob(
        voice_id=voice_id,
        name=form.name,
        language=language,
        gender=form.gender,
        blend=form.blend,
        sample_keys=[s.key for s in sources],
        input_keys=[s.key for s in sources if s.uploaded],
    )
    voice = Voice(
        id=voice_id,
        account_id=account.id,
        name=form.name,
        model=spec.id,
        language=language,
        status="processing",
        description=form.description,
        labels={"type": "closest stock voice"},
        profile={"design": {}},
        samples=sample_records(sources),
    )
    return await _enroll(
        request,
        response,
        state,
        session,
        account,
        voice,
        kind="design",
        spec=spec,
        job_id=job_id,
        job_request=design,
        is_async=wants_async(request, form.async_),
    )


@router.get("", operation_id="voices-list", summary="List preset and cloned voices", response_model=VoiceList)
async def list_voices(
    account: AccountDep,
    session: SessionDep,
    state: StateDep,
    limit: Annotated[int, Query(ge=1, le=100, description="Cloned voices per page.")] = 100,
    after: Annotated[str | None, Query(max_length=64, description="The last voice id of the previous page.")] = None,
) -> VoiceList:
    rows, has_more = await page(
        session, select(Voice).where(Voice.account_id == account.id), Voice, limit=limit, after=after
    )
    data = [voice_public(v) for v in rows]
    return VoiceList(
        data=data,
        has_more=has_more,
        first_id=data[0].id if data else None,
        last_id=data[-1].id if data else None,
        presets=await preset_voices(state),
    )


@router.get(
    "/{voice_id}",
    operation_id="voices-retrieve",
    summary="Get a cloned voice",
    response_model=VoicePublic,
    responses={404: {"model": ErrorResponse}},
)
async def get_voice(voice_id: str, account: AccountDep, session: SessionDep) -> VoicePublic:
    return voice_public(await _own_voice(session, account, voice_id))


@router.patch(
    "/{voice_id}",
    operation_id="voices-update",
    summary="Edit a cloned voice's name, description and labels",
    response_model=VoicePublic,
    responses={400: {"model": ErrorResponse}, 404: {"model": ErrorResponse}},
)
async def update_voice(voice_id: str, body: VoiceUpdate, account: AccountDep, session: SessionDep) -> VoicePublic:
    voice = await _own_voice(session, account, voice_id)
    if body.name is not None:
        voice.name = body.name
    if body.description is not None:
        voice.description = body.description or None
    if body.labels is not None:
        voice.labels = checked_labels(body.labels) or None
    await session.commit()
    await session.refresh(voice)
    return voice_public(voice)


@router.get(
    "/{voice_id}/preview",
    operation_id="voices-preview",
    summary="A short sample of a cloned voice (mp3)",
    response_class=Response,
    responses={
        200: {"description": "The preview made at enrollment.", "content": {"audio/mpeg": {}}},
        404: {"model": ErrorResponse, "description": "No such voice, or it has no preview (yet)."},
    },
)
async def voice_preview(voice_id: str, account: AccountDep, session: SessionDep, state: StateDep) -> Response:
    voice = await _own_voice(session, account, voice_id)
    if not voice.preview_key:
        raise NotFound(
            f"Voice '{voice_id}' has no preview"
            + (" yet; it is made when enrollment ends." if voice.status == "processing" else "."),
            param="voice_id",
        )
    data = await anyio.to_thread.run_sync(state.store.get_bytes, voice.preview_key)
    return Response(content=data, media_type="audio/mpeg")


@router.delete(
    "/{voice_id}",
    operation_id="voices-delete",
    summary="Delete a cloned voice and its audio",
    response_model=VoiceDeleted,
    responses={404: {"model": ErrorResponse}},
)
async def delete_voice(voice_id: str, account: AccountDep, session: SessionDep, state: StateDep) -> VoiceDeleted:
    voice = await _own_voice(session, account, voice_id)
    conditionings = (
        (await session.execute(select(VoiceConditioning.object_key).where(VoiceConditioning.voice_id == voice_id)))
        .scalars()
        .all()
    )
    # the uploads went when enrollment ended
    keys = [k for k in (voice.reference_key, voice.preview_key, *conditionings) if k]

    def _delete() -> None:
        for key in keys:
            state.store.delete(key)

    await anyio.to_thread.run_sync(_delete)
    await session.delete(voice)
    await session.commit()
    return VoiceDeleted(id=voice_id)
