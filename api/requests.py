"""From a client's request to a job kind's contract: the checks every route and every batch line share.

A synchronous route and a batch line for the same endpoint go through the same function here, so they accept and
refuse exactly the same requests with the same errors. Routes also ask for a live worker (`live=True`); a batch
line only needs a model whose weights exist somewhere (its items wait for workers).
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import re
from dataclasses import dataclass
from typing import Any, Literal

import anyio
from fastapi import UploadFile
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import AppState
from api.errors import InvalidAudio, InvalidRequest, NotFound, VoiceNotFound
from api.validation import check_language, clean_text, require_model
from api.voices import default_clone_model, model_presets, resolve_voice
from shared import audio
from shared.catalog import DEFAULT_STT_MODEL, MODELS, ModelSpec
from shared.config import Settings
from shared.db.models import Account, StoredFile, Voice, utcnow
from shared.jobkinds.clone import CloneCreate, CloneJob
from shared.jobkinds.speech import SpeechCreate, SpeechJob
from shared.jobkinds.transcription import KnownSpeaker, TranscriptionCreate, TranscriptionJob
from shared.jobkinds.voice_conversion import (
    SAMPLE_RATES,
    TargetVoice,
    VoiceConversionCreate,
    VoiceConversionJob,
)
from shared.storage import input_key

STREAMABLE = ("json", "text")
MIN_CLONE_SECONDS, MAX_CLONE_SECONDS = 3.0, 120.0


@dataclass(frozen=True)
class AudioSource:
    """Audio a job reads: an upload made for it (deleted when it ends) or a stored file (kept)."""

    key: str
    duration: float
    channels: int
    uploaded: bool
    filename: str | None = None
    file_id: str | None = None  # a stored file's id


async def speech_job(
    state: AppState, session: AsyncSession, account: Account, body: SpeechCreate, *, live: bool = True
) -> tuple[ModelSpec, SpeechJob]:
    spec = await require_model(state, body.model, "tts", live=live)
    text = clean_text(body.input, max_chars=state.settings.limits.max_input_chars)
    language = check_language(spec, body.language)
    if body.emotion not in (None, "neutral") and not spec.emotions:
        raise InvalidRequest(
            f"Model '{spec.id}' has no emotion control; leave `emotion` unset or use a model with "
            "emotions (see GET /v1/models).",
            param="emotion",
        )
    voice = await resolve_voice(session, state, account, spec, body.voice)
    return spec, SpeechJob(
        input=text,
        voice=voice.preset,
        voice_id=voice.voice_id,
        requested_voice=body.voice,
        speed=body.speed,
        format=body.format,
        emotion=body.emotion,
        instructions=body.instructions,
        language=language or voice.language,
        stream=bool(body.stream),
    )


def _check_speakers(num: int | None, low: int | None, high: int | None) -> None:
    if low and high and low > high:
        raise InvalidRequest(f"min_speakers ({low}) is larger than max_speakers ({high}).", param="min_speakers")
    if num and ((low and num < low) or (high and num > high)):
        raise InvalidRequest("num_speakers must lie within min_speakers and max_speakers.", param="num_speakers")


async def known_speakers(session: AsyncSession, account: Account, ids: list[str] | None) -> list[KnownSpeaker]:
    """The account's ready voices named by `known_speakers`, in the order given."""
    if not ids:
        return []
    if len(set(ids)) != len(ids):
        raise InvalidRequest("known_speakers names a voice twice.", param="known_speakers")
    rows = (
        (await session.execute(select(Voice).where(Voice.id.in_(ids), Voice.account_id == account.id))).scalars().all()
    )
    found = {row.id: row for row in rows}
    out = []
    for voice_id in ids:
        row = found.get(voice_id)
        if row is None:
            raise VoiceNotFound(
                f"Voice '{voice_id}' does not exist; list yours with GET /v1/voices.", param="known_speakers"
            )
        if row.status != "ready" or not row.reference_key:
            raise InvalidRequest(f"Voice '{voice_id}' is {row.status}; wait until it is ready.", param="known_speakers")
        out.append(KnownSpeaker(voice_id=row.id, name=row.name, reference_key=row.reference_key))
    return out


_DATA_URL = re.compile(r"^data:(?P<mime>[\w.+-]+/[\w.+-]+)?(?P<params>(;[\w.+-]+=[^;,]*)*);base64,(?P<data>.*)$", re.S)
MAX_REFERENCE_BYTES = 700_000  # base64 of it stays under the 1 MB a form field may hold
MAX_KNOWN_SPEAKERS = 8
REFERENCE_SECONDS = (1.0, 30.0)


async def reference_speakers(
    state: AppState, account: Account, names: list[str] | None, references: list[str] | None, key_stem: str
) -> list[KnownSpeaker]:
    """known_speaker_names[] with their known_speaker_references[] (data URLs), each checked to be 1-30 s of audio
    and stored for the job (deleted with its other uploads)."""
    names, references = names or [], references or []
    param = "known_speaker_references[]"
    if len(names) != len(references):
        raise InvalidRequest(
            f"known_speaker_names[] has {len(names)} entries and known_speaker_references[] {len(references)}; "
            "send one reference recording per name, in the same order.",
            param=param,
        )
    if len({n.strip() for n in names}) != len(names) or any(not n.strip() or len(n) > 64 for n in names):
        raise InvalidRequest(
            "known_speaker_names[] must be distinct names of 1-64 characters.", param="known_speaker_names[]"
        )
    parsed: list[tuple[str, bytes, audio.AudioInfo]] = []
    for i, (name, url) in enumerate(zip(names, references, strict=True)):
        match = _DATA_URL.match(url.strip())
        if match is None or (match["mime"] and not match["mime"].startswith(("audio/", "video/", "application/"))):
            raise InvalidRequest(
                f"Reference {i} ({name}) is not a base64 data URL of audio; send `data:audio/wav;base64,<bytes>`.",
                param=param,
            )
        try:
            data = base64.b64decode(match["data"], validate=True)
        except binascii.Error as exc:
            raise InvalidRequest(f"Reference {i} ({name}) is not valid base64: {exc}.", param=param) from exc
        if not data or len(data) > MAX_REFERENCE_BYTES:
            raise InvalidRequest(
                f"Reference {i} ({name}) holds {len(data)} bytes; send at most 700 kB "
                "(20 s of 16 kHz 16-bit mono WAV).",
                param=param,
            )
        try:
            info = await anyio.to_thread.run_sync(audio.probe, io.BytesIO(data))
        except audio.AudioDecodeError as exc:
            raise InvalidAudio(f"Reference {i} ({name}) is not usable audio: {exc}.", param=param) from exc
        low, high = REFERENCE_SECONDS
        if not low <= info.duration <= high:
            raise InvalidRequest(
                f"Reference {i} ({name}) lasts {info.duration:.1f} s; "
                f"send {low:.0f}-{high:.0f} s of that speaker alone.",
                param=param,
            )
        parsed.append((name.strip(), data, info))
    out = []
    for i, (name, data, info) in enumerate(parsed):
        key = input_key(account.id, f"{key_stem}-known{i}", _extension(info))
        await anyio.to_thread.run_sync(state.store.put_bytes, key, data)
        out.append(KnownSpeaker(name=name, reference_key=key))
    return out


async def transcription_job(
    state: AppState,
    form: TranscriptionCreate,
    source: AudioSource,
    *,
    live: bool = True,
    speakers_only: bool = False,
    task: Literal["transcribe", "translate"] = "transcribe",
    known: list[KnownSpeaker] | None = None,
) -> tuple[ModelSpec, TranscriptionJob]:
    spec = await require_model(state, form.model, "stt", live=live)
    region = (form.language or "").lower().replace("_", "-").split("-")[1:]
    script = form.chinese_script or ("traditional" if set(region) & {"tw", "hk", "mo", "hant"} else "simplified")
    if task == "translate" and spec.languages == ("en",):
        multilingual = ", ".join(m.id for m in MODELS.values() if m.kind == "stt" and not m.languages)
        raise InvalidRequest(
            f"Model '{spec.id}' only knows English and cannot translate; use a multilingual one: {multilingual}.",
            param="model",
        )
    language = check_language(spec, form.language)
    if form.stream and form.response_format not in STREAMABLE:
        raise InvalidRequest("Streaming supports response_format json or text.", param="response_format")
    _check_speakers(form.num_speakers, form.min_speakers, form.max_speakers)
    if (form.known_speakers or form.known_speaker_names) and form.channels == "split":
        raise InvalidRequest(
            "known_speakers needs diarization of the mix; with channels=split each channel is its own speaker.",
            param="known_speakers",
        )
    if form.channels == "split" and source.channels < 2:
        raise InvalidRequest(
            "channels=split needs a file with two or more channels; this one is mono.", param="channels"
        )
    references = {"known_speaker_names", "known_speaker_references"}  # resolved into `known`, never stored as sent
    return spec, TranscriptionJob(
        **form.model_dump(include=set(TranscriptionJob.model_fields) - {"language", "chinese_script"} - references),
        language=language,
        words=form.words,
        filename=source.filename,
        header_duration=source.duration,
        audio_key=source.key,
        input_keys=([source.key] if source.uploaded else []) + [k.reference_key for k in known or [] if not k.voice_id],
        speakers_only=speakers_only,
        task=task,
        known=known or [],
        chinese_script=script,
    )


async def clone_model(state: AppState, form: CloneCreate, *, live: bool = True) -> ModelSpec:
    """The model that clones for this request (named, or the default), checked before any sample is read."""
    named = MODELS.get(form.model) if form.model else None
    if named is not None and named.kind == "tts" and not named.can_clone:  # the capability decides, first
        cloners = ", ".join(m.id for m in MODELS.values() if m.can_clone)
        raise InvalidRequest(f"Model '{named.id}' cannot clone voices; use one of {cloners}.", param="model")
    spec = await require_model(state, form.model or await default_clone_model(state), "tts", live=live)
    if not spec.can_clone:
        raise InvalidRequest(f"Model '{spec.id}' cannot clone voices.", param="model")
    return spec


def sample_records(sources: list[AudioSource]) -> list[dict[str, Any]]:
    """What a voice keeps of the recordings it was made from: name, length and the stored file, if any."""
    return [{"name": s.filename, "seconds": round(s.duration, 2), "file_id": s.file_id} for s in sources]


_LABEL_KEY = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
MAX_LABELS = 12


def voice_labels(text: str | None, param: str = "labels") -> dict[str, str]:
    """`labels` as a form sends it (a JSON object of short strings), checked."""
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise InvalidRequest(
            'labels must be a JSON object, e.g. {"accent": "Irish", "gender": "female"}.', param=param
        ) from exc
    return checked_labels(value, param)


def checked_labels(value: object, param: str = "labels") -> dict[str, str]:
    """At most 12 labels, keys like `use_case`, values of 1-100 characters."""
    if not isinstance(value, dict) or len(value) > MAX_LABELS:
        raise InvalidRequest(f"labels must be a JSON object of at most {MAX_LABELS} labels.", param=param)
    for key, item in value.items():
        if not _LABEL_KEY.match(key) or not isinstance(item, str) or not 0 < len(item) <= 100:
            raise InvalidRequest(
                f"Label '{key[:40]}' must be a lowercase name (letters, digits, _) with a string of 1-100 characters.",
                param=param,
            )
    return dict(value)


def clone_consent(settings: Settings, form: CloneCreate, *, has_recording: bool) -> dict[str, Any]:
    """The consent record kept with a voice; refuses a clone without the speaker's consent."""
    statement = (form.consent_statement or "").strip() or None
    if settings.clone_consent == "none" and not form.consent and statement is None:
        return {"type": "none"}
    if not form.consent and statement is None:
        raise InvalidRequest(
            "Cloning a voice needs the speaker's consent: send consent=true to attest that the speaker agreed, or "
            "a consent_statement saying how and when they did.",
            param="consent",
        )
    record: dict[str, Any] = {"type": "attestation", "statement": statement, "given_at": utcnow().isoformat()}
    if settings.clone_consent == "recording":
        if not has_recording:
            raise InvalidRequest(
                f"This server also needs a consent recording: the speaker reading '{settings.consent_phrase}', "
                "sent as `consent_recording` (or `consent_file_id`).",
                param="consent_recording",
            )
        record.update(type="recording", verified=False)
    return record


async def clone_job(
    state: AppState,
    form: CloneCreate,
    samples: list[AudioSource],
    voice_id: str,
    *,
    live: bool = True,
    consent_recording: AudioSource | None = None,
) -> tuple[ModelSpec, CloneJob]:
    spec = await clone_model(state, form, live=live)
    language = check_language(spec, form.language)
    labels = voice_labels(form.labels)
    if not samples:
        raise InvalidRequest("Send the voice sample as `file` (or several as `files`, or `file_id`).", param="file")
    consent = clone_consent(state.settings, form, has_recording=consent_recording is not None)
    total = sum(s.duration for s in samples)
    if not MIN_CLONE_SECONDS <= total <= MAX_CLONE_SECONDS:
        raise InvalidRequest(
            f"The sample is {total:.1f} s long; send {MIN_CLONE_SECONDS:.0f}-{MAX_CLONE_SECONDS:.0f} s of one "
            "person speaking (10-30 s works best).",
            param="file",
        )
    recording = consent_recording if state.settings.clone_consent == "recording" else None
    uploaded = [s.key for s in samples if s.uploaded] + ([recording.key] if recording and recording.uploaded else [])
    return spec, CloneJob(
        voice_id=voice_id,
        name=form.name,
        language=language,
        sample_keys=[s.key for s in samples],
        input_keys=uploaded,
        description=form.description,
        labels=labels,
        samples=sample_records(samples),
        consent=consent,
        consent_key=recording.key if recording else None,
        consent_phrase=state.settings.consent_phrase if recording else None,
    )


def _extension(info: audio.AudioInfo) -> str:
    """The stored upload's extension, from what the decoder found (never from the client's file name)."""
    ext = info.container.split(",")[0].lower()
    return ext if ext.isalnum() and len(ext) <= 8 else "bin"


async def upload_source(
    state: AppState, account: Account, upload: UploadFile, key_stem: str, label: str
) -> AudioSource:
    """Probe an upload (refusing what is not audio) and put it in the store."""
    if upload.size == 0:
        raise InvalidRequest(f"{label} is empty; send an audio or video file.", param="file")
    try:
        info = await anyio.to_thread.run_sync(audio.probe, upload.file)
    except audio.AudioDecodeError as exc:
        raise InvalidAudio(f"{label} is not usable audio: {exc}.", param="file") from exc
    key = input_key(account.id, key_stem, _extension(info))

    def store() -> None:
        upload.file.seek(0)
        state.store.put_file(key, upload.file)

    await anyio.to_thread.run_sync(store)
    return AudioSource(key, info.duration, info.channels, uploaded=True, filename=(upload.filename or "")[:255] or None)


async def file_source(session: AsyncSession, account: Account, file_id: str, param: str = "file_id") -> AudioSource:
    """A stored audio file of the account (purpose `audio`), as a job's source."""
    row = (
        await session.execute(select(StoredFile).where(StoredFile.id == file_id, StoredFile.account_id == account.id))
    ).scalar_one_or_none()
    if row is None:
        raise NotFound(f"File '{file_id}' does not exist; upload it with POST /v1/files.", param=param)
    if row.purpose != "audio" or row.audio_seconds is None:
        raise InvalidRequest(f"File '{file_id}' is not an audio file (upload it with purpose=audio).", param=param)
    return AudioSource(
        row.object_key, row.audio_seconds, row.channels or 1, uploaded=False, filename=row.filename, file_id=row.id
    )


_SPEAKER_LABEL = re.compile(r"^[\w .'()-]{1,64}$", re.UNICODE)
MAX_VOICE_MAP = 32


async def _speech_models(state: AppState, *, live: bool) -> list[ModelSpec]:
    """Speech models a conversion can speak with, preferred first: live ones (a batch line: installed ones too)."""
    fleet = await state.fleet.current()
    specs = sorted((m for m in MODELS.values() if m.kind == "tts"), key=lambda m: -m.preference)
    return [m for m in specs if fleet.is_live(m.id) or (not live and state.fleet.installed(fleet, m))]


async def target_voice(
    state: AppState,
    session: AsyncSession,
    account: Account,
    name: str,
    tts: ModelSpec | None,
    *,
    live: bool,
    param: str = "voice",
) -> TargetVoice:
    """A conversion's target voice, resolved as a speech request would: on `tts`, else on the model of the
    cloned voice, else on the first live speech model that has a preset (or alias) of that name."""
    name = name.strip()
    if tts is None and name.startswith("voice_"):
        row = (
            await session.execute(select(Voice).where(Voice.id == name, Voice.account_id == account.id))
        ).scalar_one_or_none()
        if row is None:
            raise VoiceNotFound(f"Voice '{name}' does not exist; list yours with GET /v1/voices.", param=param)
        tts = await require_model(state, row.model, "tts", live=live)
    candidates = [tts] if tts is not None else await _speech_models(state, live=live)
    for spec in candidates:
        try:
            voice = await resolve_voice(session, state, account, spec, name)
        except VoiceNotFound:
            if tts is not None:
                raise
            continue
        return TargetVoice(model=spec.id, preset=voice.preset, voice_id=voice.voice_id, requested=name)
    raise VoiceNotFound(
        f"Voice '{name}' is not a voice of any live speech model ({', '.join(m.id for m in candidates) or 'none'}); "
        "list them with GET /v1/voices, name the model with `tts_model`, or use a cloned voice id (voice_...).",
        param=param,
    )


def _voice_map(text: str | None) -> dict[str, str] | Literal["auto"] | None:
    if text is None or not text.strip():
        return None
    if text.strip().lower() == "auto":
        return "auto"
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise InvalidRequest(
            'voices must be `auto` or a JSON object speaker -> voice, e.g. {"SPEAKER_00": "af_bella"}.',
            param="voices",
        ) from exc
    if not isinstance(value, dict) or not value or len(value) > MAX_VOICE_MAP:
        raise InvalidRequest(
            f"voices must be `auto` or a JSON object of 1-{MAX_VOICE_MAP} speaker -> voice entries.", param="voices"
        )
    for speaker, voice in value.items():
        if not _SPEAKER_LABEL.match(speaker) or not isinstance(voice, str) or not 0 < len(voice) <= 200:
            raise InvalidRequest(
                f"voices: '{str(speaker)[:40]}' must be a speaker label (e.g. SPEAKER_00, at most 64 characters) "
                "mapped to a voice name.",
                param="voices",
            )
    return dict(value)


async def _auto_candidates(
    state: AppState, session: AsyncSession, account: Account, tts: ModelSpec | None, *, live: bool
) -> tuple[list[TargetVoice], dict[str, str]]:
    """`voices=auto`: the presets of `tts` (else of the first live speech model with gendered presets) in the
    order they are handed out, with their gender labels."""
    specs = [tts] if tts is not None else await _speech_models(state, live=live)
    for spec in specs:
        names = await model_presets(state, spec)
        labels = {n: (spec.describe_voice(n) if spec.describe_voice else {}) for n in names}
        if tts is None and not any(label.get("gender") for label in labels.values()):
            continue
        # the model's own language first (a Kokoro voice's prefix), so English speech gets English voices
        names = sorted(names, key=lambda n: (labels[n].get("language") not in (None, "en"), n))
        voices = [TargetVoice(model=spec.id, preset=n, requested=n) for n in names]
        return voices, {n: g for n, label in labels.items() if (g := label.get("gender"))}
    raise InvalidRequest(
        "voices=auto needs a live speech model whose presets are labelled by gender (e.g. kokoro); name the voices "
        "instead.",
        param="voices",
    )


async def voice_conversion_job(
    state: AppState,
    session: AsyncSession,
    account: Account,
    form: VoiceConversionCreate,
    source: AudioSource,
    *,
    live: bool = True,
) -> tuple[ModelSpec, VoiceConversionJob]:
    spec = await require_model(state, form.model, "vc", live=live)
    if form.sample_rate is not None and form.sample_rate not in SAMPLE_RATES:
        raise InvalidRequest(f"sample_rate must be one of {', '.join(map(str, SAMPLE_RATES))}.", param="sample_rate")
    _check_speakers(form.num_speakers, form.min_speakers, form.max_speakers)
    mapping = _voice_map(form.voices)
    diarization = form.diarization or mapping is not None
    if spec.converts:  # tone-colour conversion: one voice for the whole recording
        unsupported = [
            name for name, asked in (("diarization", diarization), ("target_language", form.target_language)) if asked
        ]
        if unsupported or form.tts_model:
            asked = ", ".join(unsupported) or "tts_model"
            raise InvalidRequest(
                f"Model '{spec.id}' converts the whole recording into one voice; {asked} needs model=revoice.",
                param=(unsupported or ["tts_model"])[0],
            )
        if not form.voice:
            raise InvalidRequest("Send the target voice as `voice`.", param="voice")
        resolved = await resolve_voice(session, state, account, spec, form.voice)
        voice: TargetVoice | None = TargetVoice(
            model=spec.id, preset=resolved.preset, voice_id=resolved.voice_id, requested=form.voice
        )
        voices: dict[str, TargetVoice] = {}
        auto: tuple[list[TargetVoice], dict[str, str]] = ([], {})
    else:
        tts = await require_model(state, form.tts_model, "tts", live=live) if form.tts_model else None
        if not form.voice and mapping is None:
            raise InvalidRequest(
                "Send the target voice as `voice` (or, with diarization, `voices`: a speaker -> voice map or auto).",
                param="voice",
            )
        voice = await target_voice(state, session, account, form.voice, tts, live=live) if form.voice else None
        voices = {}
        if isinstance(mapping, dict):
            for speaker, name in mapping.items():
                voices[speaker] = await target_voice(state, session, account, name, tts, live=live, param="voices")
        auto = await _auto_candidates(state, session, account, tts, live=live) if mapping == "auto" else ([], {})
    if form.language and not spec.converts:
        check_language(MODELS[DEFAULT_STT_MODEL], form.language)
    return spec, VoiceConversionJob(
        response_format=form.response_format,
        sample_rate=form.sample_rate,
        diarization=diarization,
        num_speakers=form.num_speakers,
        min_speakers=form.min_speakers,
        max_speakers=form.max_speakers,
        language=form.language,
        target_language=form.target_language,
        stream=form.stream,
        voice=voice,
        voices=voices,
        auto_voices=auto[0],
        auto_genders=auto[1],
        filename=source.filename,
        header_duration=source.duration,
        audio_key=source.key,
        input_keys=[source.key] if source.uploaded else [],
    )
