"""POST /v1/audio/voice-conversions: speech in, the same speech out in another voice (sync, async, streamed); and
ElevenLabs' shape of it, POST /v1/speech-to-speech/{voice_id} (and `/stream`)."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import AccountDep, AppState, SessionDep, SettingsDep, StateDep
from api.dispatch import accepted, audio_output, create_upload_job, new_job_id, submit_and_wait, wants_async
from api.errors import APIError, InvalidRequest
from api.requests import file_source, upload_source, voice_conversion_job
from api.routes.speech import AUDIO_CONTENT
from api.routes.transcriptions import UPLOAD_JOB_RESPONSES, delete_objects, sync_budget
from api.streaming import stream_audio
from api.webhook_urls import checked_webhook_url
from shared import jobs
from shared.audio import OUTPUT_FORMATS
from shared.config import Settings
from shared.db.models import Account, Job
from shared.jobkinds.voice_conversion import SAMPLE_RATES, VoiceConversionCreate, VoiceConversionResult

router = APIRouter(tags=["audio"])

CONVERSION_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The converted audio, as long as the input; with `stream=true` it arrives phrase by phrase "
        "(or as Server-Sent Events with `stream_format=sse`). `X-Job-Id` names the job: its result has the phrases, "
        "and GET /v1/jobs/{id}/result?response_format=srt what the output says with its times.",
        "content": {**AUDIO_CONTENT, "text/event-stream": {}},
    },
    **UPLOAD_JOB_RESPONSES,
}


@router.post(
    "/v1/audio/voice-conversions",
    operation_id="audio-voice-conversions",
    summary="Convert speech to another voice (re-voice, multi-speaker, dub into English)",
    response_class=Response,
    responses=CONVERSION_RESPONSES,
)
async def create_voice_conversion(
    request: Request,
    account: AccountDep,
    session: SessionDep,
    settings: SettingsDep,
    state: StateDep,
    form: Annotated[VoiceConversionCreate, Form()],
    file: Annotated[
        UploadFile | None, File(description="Speech to convert (any format FFmpeg reads); or give `file_id`.")
    ] = None,
) -> Response:
    return await _convert(request, account, session, settings, state, form, file)


# ElevenLabs' output formats: <codec>_<sample rate>[_<bitrate>]; bitrates are this server's own per codec
_ELEVEN_FORMAT = re.compile(r"^(?P<codec>mp3|pcm|opus|wav)_(?P<rate>\d{4,5})(?:_(?P<bitrate>\d{2,3}))?$")
ELEVEN_DEFAULT_FORMAT = "mp3_44100_128"


def eleven_output_format(value: str) -> tuple[str, int | None]:
    """(response_format, sample_rate) of an ElevenLabs `output_format`, e.g. mp3_44100_128 -> (mp3, 44100)."""
    match = _ELEVEN_FORMAT.match(value.strip().lower())
    if match is None or int(match["rate"]) not in SAMPLE_RATES:
        raise InvalidRequest(
            f"output_format '{value[:40]}' is not supported; use mp3_<rate>_<bitrate>, pcm_<rate>, wav_<rate> or "
            f"opus_48000_<bitrate>, with a rate of {', '.join(map(str, SAMPLE_RATES))} (u-law and a-law are not "
            "offered).",
            param="output_format",
        )
    codec, rate = match["codec"], int(match["rate"])
    if codec == "opus" and rate != 48000:
        raise InvalidRequest("Opus runs at 48 kHz: use opus_48000_<bitrate>.", param="output_format")
    return codec, None if codec == "opus" else rate


async def _eleven(
    request: Request,
    account: Account,
    session: AsyncSession,
    settings: Settings,
    state: AppState,
    voice_id: str,
    audio: UploadFile,
    model_id: str | None,
    output_format: str | None,
    stream: bool,
) -> Response:
    fmt, rate = eleven_output_format(output_format or ELEVEN_DEFAULT_FORMAT)
    # ElevenLabs' own model ids (eleven_english_sts_v2, ...) name no model here: the default serves them
    model = model_id if model_id and not model_id.startswith("eleven_") else None
    fields: dict[str, Any] = {"voice": voice_id, "response_format": fmt, "sample_rate": rate, "stream": stream}
    form = VoiceConversionCreate.model_validate({**fields, **({"model": model} if model else {})})
    return await _convert(request, account, session, settings, state, form, audio)


ELEVEN_PATH = Path(description="The target voice: a preset or a cloned voice id.", max_length=200)
ELEVEN_AUDIO = File(description="The speech to convert.")
ELEVEN_MODEL = Form(description="A voice-conversion model id (ElevenLabs' `eleven_*` ids pick the default).")
ELEVEN_FORMAT_FORM = Form(description="As the query parameter (ElevenLabs takes it in the query).")
ELEVEN_FORMAT_QUERY = Query(description="e.g. mp3_44100_128 (default), pcm_16000, wav_24000, opus_48000_64.")


@router.post(
    "/v1/speech-to-speech/{voice_id}",
    operation_id="speech-to-speech",
    summary="Voice changer (ElevenLabs' route): speech in, the same speech out in this voice",
    response_class=Response,
    responses=CONVERSION_RESPONSES,
)
@router.post(
    "/v1/speech-to-speech/{voice_id}/stream",
    operation_id="speech-to-speech-stream",
    summary="Voice changer, streamed: the audio arrives phrase by phrase",
    response_class=Response,
    responses=CONVERSION_RESPONSES,
)
async def speech_to_speech(
    request: Request,
    account: AccountDep,
    session: SessionDep,
    settings: SettingsDep,
    state: StateDep,
    voice_id: Annotated[str, ELEVEN_PATH],
    audio: Annotated[UploadFile, ELEVEN_AUDIO],
    model_id: Annotated[str | None, ELEVEN_MODEL] = None,
    output_format: Annotated[str | None, ELEVEN_FORMAT_QUERY] = None,
    output_format_form: Annotated[str | None, ELEVEN_FORMAT_FORM] = None,
) -> Response:
    """One handler for both routes: the route's own path (not the URL, whose voice id may be `stream`) says
    whether it streams."""
    stream = request.scope["route"].path.endswith("/stream")
    output_format = output_format or output_format_form
    return await _eleven(request, account, session, settings, state, voice_id, audio, model_id, output_format, stream)


def _conversion_done(job: Job) -> dict[str, Any]:
    result = VoiceConversionResult.model_validate(job.result)
    usage = {"input_seconds": result.input_duration, "duration": result.duration}
    text = result.transcript.text if result.transcript else None
    return {"type": "conversion.audio.done", "job_id": job.id, "usage": usage, "text": text}


async def _convert(
    request: Request,
    account: Account,
    session: AsyncSession,
    settings: Settings,
    state: AppState,
    form: VoiceConversionCreate,
    file: UploadFile | None,
) -> Response:
    job_id = new_job_id()
    webhook_url = await checked_webhook_url(state, session, account, form.webhook_url)
    if (file is None) == (form.file_id is None):
        raise InvalidRequest(
            "Send the speech as `file`, or the id of an uploaded file as `file_id` (one of them).", param="file"
        )
    if form.file_id is not None:
        source = await file_source(session, account, form.file_id)
    else:
        assert file is not None
        source = await upload_source(state, account, file, job_id, "The uploaded file")
    try:
        spec, job_request = await voice_conversion_job(state, session, account, form, source)
    except APIError:
        await delete_objects(state, [source.key] if source.uploaded else [])
        raise
    is_async = wants_async(request, form.async_) and not form.stream
    job = await create_upload_job(
        state,
        session,
        account,
        uploads=job_request.input_keys,
        kind="vc",
        spec=spec,
        request=job_request,
        latency="batch" if is_async else "interactive",
        job_id=job_id,
        input_key=source.key if source.uploaded else None,
        webhook_url=webhook_url,
    )
    budget = sync_budget(settings, source.duration)
    media_type = OUTPUT_FORMATS[form.response_format].content_type
    if form.stream:
        streamed = await stream_audio(
            state,
            session,
            job,
            budget,
            sse_format=form.stream_format == "sse",
            media_type=media_type,
            done=_conversion_done,
        )
        if not isinstance(streamed, Job):
            return streamed
        if streamed.state not in jobs.TERMINAL:
            return accepted(request, state, streamed)
        return await audio_output(state, streamed, media_type)
    job, finished = await submit_and_wait(state, session, job, wait=not is_async, timeout=budget, client=request)
    if not finished:
        return accepted(request, state, job)
    return await audio_output(state, job, media_type)
