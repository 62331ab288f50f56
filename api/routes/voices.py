"""Voices: preset voices per model, and the account's cloned voices (POST /v1/voices/clone, list, get, delete)."""

from __future__ import annotations

from typing import Annotated

import anyio
from fastapi import APIRouter, File, Form, Query, Request, Response, UploadFile
from sqlalchemy import select

from api.deps import AccountDep, SessionDep, SettingsDep, StateDep
from api.dispatch import create_upload_job, new_job_id, raise_for_failed, submit_and_wait, wants_async
from api.errors import InvalidAudio, InvalidRequest, VoiceNotFound
from api.pages import page
from api.validation import check_language, require_model
from api.voices import default_clone_model, preset_voices
from shared import audio, jobs
from shared.catalog import MODELS
from shared.db.models import Account, Job, Voice, VoiceConditioning, new_id
from shared.jobkinds.clone import CloneCreate, CloneJob, CloneResult
from shared.schemas import ErrorResponse, VoiceDeleted, VoiceList, VoicePublic
from shared.storage import input_key

router = APIRouter(prefix="/v1/voices", tags=["voices"])

MIN_SECONDS, MAX_SECONDS = 3.0, 120.0


def voice_public(voice: Voice, job: Job | None = None) -> VoicePublic:
    result = CloneResult.model_validate(job.result) if job is not None and job.result else None
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
        202: {"model": VoicePublic, "description": "Accepted: enrollment runs in the background (async)."},
        400: {"model": ErrorResponse},
        401: {"model": ErrorResponse},
        402: {"model": ErrorResponse},
        404: {"model": ErrorResponse},
        413: {"model": ErrorResponse},
        429: {"model": ErrorResponse},
        503: {"model": ErrorResponse, "description": "No live worker serves the model (`model_unavailable`)."},
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
) -> VoicePublic:
    spec = MODELS.get(form.model) if form.model else None
    if spec is not None and spec.kind == "tts" and not spec.can_clone:  # before liveness: the capability decides
        cloners = ", ".join(m.id for m in MODELS.values() if m.can_clone)
        raise InvalidRequest(f"Model '{spec.id}' cannot clone voices; use one of {cloners}.", param="model")
    spec = await require_model(state, form.model or await default_clone_model(state), "tts")
    if not spec.can_clone:
        raise InvalidRequest(f"Model '{spec.id}' cannot clone voices.", param="model")
    lang = check_language(spec, form.language)
    uploads = [u for u in ([file] if file else []) + list(files or [])]
    if not uploads:
        raise InvalidRequest("Send the voice sample as `file` (or several as `files`).", param="file")
    total = 0.0
    for index, upload in enumerate(uploads):
        if upload.size == 0:
            raise InvalidRequest(f"Sample {index + 1} is empty.", param="file")
        try:
            info = await anyio.to_thread.run_sync(audio.probe, upload.file)
        except audio.AudioDecodeError as exc:
            raise InvalidAudio(f"Sample {index + 1} is not usable audio: {exc}.", param="file") from exc
        total += info.duration
    if not MIN_SECONDS <= total <= MAX_SECONDS:
        raise InvalidRequest(
            f"The sample is {total:.1f} s long; send {MIN_SECONDS:.0f}-{MAX_SECONDS:.0f} s of one "
            "person speaking (10-30 s works best).",
            param="file",
        )
    job_id = new_job_id()
    keys = [input_key(account.id, f"{job_id}-{i}", "bin") for i in range(len(uploads))]

    def _store() -> None:
        for key, upload in zip(keys, uploads, strict=True):
            upload.file.seek(0)
            state.store.put_file(key, upload.file)

    await anyio.to_thread.run_sync(_store)
    voice = Voice(
        id=new_id("voice"), account_id=account.id, name=form.name, model=spec.id, language=lang, status="processing"
    )
    session.add(voice)
    is_async = wants_async(request, form.async_)
    job = await create_upload_job(
        state,
        session,
        account,
        uploads=keys,
        kind="clone",
        latency="batch" if is_async else "interactive",
        spec=spec,
        job_id=job_id,
        request=CloneJob(voice_id=voice.id, name=form.name, language=lang, input_keys=keys),
        input_key=keys[0],
    )
    job, finished = await submit_and_wait(
        state, session, job, wait=not is_async, timeout=settings.limits.sync_wait_seconds, client=request
    )
    await session.refresh(voice)
    if not finished:
        response.status_code = 202
        return voice_public(voice, job)
    if job.state != jobs.SUCCEEDED:
        raise_for_failed(job)
    return voice_public(voice, job)


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
    keys = [k for k in (voice.reference_key, *conditionings) if k]  # the uploads went when enrollment ended

    def _delete() -> None:
        for key in keys:
            state.store.delete(key)

    await anyio.to_thread.run_sync(_delete)
    await session.delete(voice)
    await session.commit()
    return VoiceDeleted(id=voice_id)
