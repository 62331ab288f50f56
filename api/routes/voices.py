"""Voices: preset voices per model, and the account's cloned voices (POST /v1/voices/clone, list, get, delete)."""

from __future__ import annotations

from typing import Annotated

import anyio
from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import JSONResponse
from sqlalchemy import select

from api.deps import AccountDep, SessionDep, SettingsDep, StateDep
from api.dispatch import create_upload_job, new_job_id, raise_for_failed, submit_and_wait, wants_async
from api.errors import InvalidAudio, InvalidRequest, VoiceNotFound
from api.validation import check_language, require_model
from api.voices import aliases_for, default_clone_model, presets
from shared import audio, jobs
from shared.catalog import MODELS, is_installed
from shared.db.models import Account, Job, Voice, new_id
from shared.pricing import clone_cost
from shared.schemas import ErrorResponse, PresetVoice, VoiceDeleted, VoiceList, VoicePublic
from shared.storage import input_key

router = APIRouter(prefix="/v1/voices", tags=["voices"])

MIN_SECONDS, MAX_SECONDS = 3.0, 120.0


def voice_public(voice: Voice, job: Job | None = None) -> VoicePublic:
    warnings = list(((job.result or {}).get("warnings") or []) if job else [])
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
        404: {"model": ErrorResponse},
        413: {"model": ErrorResponse},
    },
)
async def clone_voice(
    request: Request,
    account: AccountDep,
    session: SessionDep,
    settings: SettingsDep,
    state: StateDep,
    name: Annotated[str, Form(min_length=1, max_length=200, description="Name for the cloned voice.")],
    file: Annotated[UploadFile | None, File(description="Audio sample (10-30 seconds recommended).")] = None,
    files: Annotated[list[UploadFile] | None, File(description="Several samples of the same speaker.")] = None,
    model: Annotated[str | None, Form(description="Model to use (default: the best installed one).")] = None,
    language: Annotated[str | None, Form(description="Language code (auto-detected if not given).")] = None,
    async_: Annotated[bool, Form(alias="async", description="Return 202 at once.")] = False,
) -> JSONResponse:
    spec = require_model(settings, model or default_clone_model(settings), "tts")
    if not spec.can_clone:
        cloners = ", ".join(m.id for m in MODELS.values() if m.can_clone)
        raise InvalidRequest(f"Model '{spec.id}' cannot clone voices; use one of {cloners}.", param="model")
    lang = check_language(spec, language)
    uploads = [u for u in ([file] if file else []) + list(files or [])]
    if not uploads:
        raise InvalidRequest("Send the voice sample as `file` (or several as `files`).", param="file")
    total = 0.0
    for upload in uploads:
        if upload.size == 0:
            raise InvalidRequest(f"'{upload.filename}' is empty.", param="file")
        try:
            info = await anyio.to_thread.run_sync(audio.probe, upload.file)
        except audio.AudioDecodeError as exc:
            raise InvalidAudio(f"'{upload.filename}' is not usable audio: {exc}.", param="file") from exc
        total += info.duration
    if not MIN_SECONDS <= total <= MAX_SECONDS:
        raise InvalidRequest(
            f"The sample is {total:.1f} s long; send {MIN_SECONDS:.0f}-{MAX_SECONDS:.0f} s of one "
            "person speaking (10-30 s works best).",
            param="file",
        )
    job_id = new_job_id()
    keys = [
        input_key(account.id, f"{job_id}-{i}", (u.filename or "x.bin").rsplit(".", 1)[-1][:5].lower())
        for i, u in enumerate(uploads)
    ]

    def _store() -> None:
        for key, upload in zip(keys, uploads, strict=True):
            upload.file.seek(0)
            state.store.put_file(key, upload.file)

    await anyio.to_thread.run_sync(_store)
    voice = Voice(
        id=new_id("voice"), account_id=account.id, name=name, model=spec.id, language=lang, status="processing"
    )
    session.add(voice)
    job = await create_upload_job(
        state,
        session,
        account,
        uploads=keys,
        kind="clone",
        model=spec.id,
        job_id=job_id,
        request={"voice_id": voice.id, "input_keys": keys, "language": lang, "name": name},
        input_key=keys[0],
        cost=clone_cost(spec),
    )
    job, finished = await submit_and_wait(
        state, session, job, wait=not wants_async(request, async_), timeout=settings.limits.sync_wait_seconds
    )
    await session.refresh(voice)
    if not finished:
        return JSONResponse(voice_public(voice, job).model_dump(mode="json"), status_code=202)
    if job.state != jobs.SUCCEEDED:
        raise_for_failed(job)
    return JSONResponse(voice_public(voice, job).model_dump(mode="json"))


@router.get("", operation_id="voices-list", summary="List preset and cloned voices", response_model=VoiceList)
async def list_voices(account: AccountDep, session: SessionDep, settings: SettingsDep) -> VoiceList:
    rows = (
        (await session.execute(select(Voice).where(Voice.account_id == account.id).order_by(Voice.created_at.desc())))
        .scalars()
        .all()
    )
    preset_rows: list[PresetVoice] = []
    for spec in MODELS.values():
        if spec.kind != "tts" or not is_installed(spec, settings.resolved_model_dir):
            continue
        aliases = aliases_for(settings, spec)
        for name in presets(settings, spec):
            preset_rows.append(
                PresetVoice(
                    id=name, model=spec.id, name=name, aliases=sorted(a for a, t in aliases.items() if t == name)
                )
            )
    return VoiceList(data=[voice_public(v) for v in rows], presets=preset_rows)


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
    if voice.reference_key:  # enrollment already removed the uploads it normalised
        await anyio.to_thread.run_sync(state.store.delete, voice.reference_key)
    await session.delete(voice)
    await session.commit()
    return VoiceDeleted(id=voice_id)
