"""Request and response models of the public API (one family per resource)."""

from __future__ import annotations

from datetime import date as date_
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

AudioFormat = Literal["mp3", "wav", "ogg", "flac", "opus", "aac", "pcm"]
Emotion = Literal["neutral", "happy", "sad", "angry"]
JobState = Literal["queued", "running", "succeeded", "failed", "canceled"]


# --- errors -------------------------------------------------------------------------------------------
class ErrorDetail(BaseModel):
    code: str = Field(description="Stable machine-readable error code, e.g. `model_not_found`.")
    message: str = Field(description="What went wrong and what to do next.")
    param: str | None = Field(default=None, description="The request parameter at fault, when there is one.")
    request_id: str | None = Field(default=None, description="Quote this id when reporting a problem.")


class ErrorResponse(BaseModel):
    error: ErrorDetail


# --- speech ---------------------------------------------------------------------------------------------
class SpeechCreate(BaseModel):
    """Text to speech. `format` and OpenAI's `response_format` are the same field."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    model: str = Field(description="TTS model id, e.g. `piper` or `fish-speech-v1.5`.", examples=["piper"])
    voice: str = Field(description="Preset voice name or a cloned voice id (`voice_...`).", examples=["joe"])
    input: str = Field(description="Text to speak (1-5000 characters).", examples=["Hello, world!"])
    speed: float = Field(default=1.0, ge=0.5, le=2.0, description="Speed multiplier, 0.5-2.0.")
    format: AudioFormat = Field(
        default="mp3",
        validation_alias=AliasChoices("format", "response_format"),
        description="Output format: mp3, wav, ogg (Opus in Ogg), flac, opus, aac or pcm (16-bit mono).",
    )
    emotion: Emotion | None = Field(
        default=None,
        description="Emotion tag: neutral, happy, sad or angry (Piper realises it as prosody: pitch, range, rate, "
        "energy).",
    )
    instructions: str | None = Field(
        default=None, max_length=1000, description="Style instructions, for models that take them (OpenAI name)."
    )
    language: str | None = Field(default=None, description="Language of the text, for multilingual models.")
    stream: bool = Field(default=False, description="Stream the audio as it is synthesised (chunked HTTP).")
    stream_format: Literal["audio", "sse"] = Field(
        default="audio", description="`audio`: raw chunked audio; `sse`: Server-Sent Events with base64 deltas."
    )
    async_: bool = Field(
        default=False,
        alias="async",
        description="Return 202 with the job at once instead of waiting for the audio.",
    )


# --- voices ---------------------------------------------------------------------------------------------------
class VoicePublic(BaseModel):
    id: str = Field(description="`voice_...`; use it as `voice` in POST /v1/audio/speech.")
    object: Literal["voice"] = "voice"
    name: str
    model: str
    language: str | None = None
    status: Literal["processing", "ready", "failed"]
    created_at: datetime
    warnings: list[str] = Field(default_factory=list)
    error: str | None = Field(default=None, description="Why enrollment failed.")
    job_id: str | None = Field(default=None, description="The enrollment job.")


class PresetVoice(BaseModel):
    id: str
    object: Literal["voice"] = "voice"
    model: str
    name: str
    preset: bool = True
    aliases: list[str] = Field(default_factory=list, description="Other names that resolve to this voice.")


class VoiceList(BaseModel):
    object: Literal["list"] = "list"
    data: list[VoicePublic] = Field(description="This account's cloned voices.")
    presets: list[PresetVoice] = Field(description="Preset voices of the installed models.")


class VoiceDeleted(BaseModel):
    id: str
    object: Literal["voice"] = "voice"
    deleted: bool = True


# --- transcription --------------------------------------------------------------------------------------
class WordPublic(BaseModel):
    start: float
    end: float
    word: str
    probability: float | None = None
    speaker: str | None = None


class SegmentPublic(BaseModel):
    id: int | None = None
    start: float
    end: float
    text: str
    speaker: str | None = None
    words: list[WordPublic] | None = None


class TranscriptionPublic(BaseModel):
    text: str
    language: str | None = None
    language_probability: float | None = None
    duration: float | None = None
    segments: list[SegmentPublic] = Field(default_factory=list)


# --- jobs -----------------------------------------------------------------------------------------------
class JobError(BaseModel):
    code: str
    message: str


class JobPublic(BaseModel):
    id: str
    object: Literal["job"] = "job"
    kind: Literal["tts", "stt", "clone"]
    model: str
    status: JobState
    progress: float = Field(description="0-1; how much of the job is done.")
    attempts: int
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    error: JobError | None = None
    result: dict[str, Any] | None = Field(
        default=None, description="Transcription for speech-to-text jobs; audio metadata for synthesis jobs."
    )
    result_url: str | None = Field(default=None, description="Download the audio output here (same API key).")
    presigned_url: str | None = Field(
        default=None, description="Direct, time-limited download URL when the object store supports it."
    )


# --- models ---------------------------------------------------------------------------------------------
class ModelPrices(BaseModel):
    per_1k_characters: float | None = None
    per_audio_second: float | None = None
    per_clone: float | None = None


class ModelPublic(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str = "speechtospeechai"
    kind: Literal["tts", "stt"]
    family: str
    description: str
    installed: bool = Field(description="Whether this server has the model's weights.")
    bundled: bool = Field(description="Shipped with the default install.")
    languages: list[str] = Field(description="Supported language codes; empty means multilingual.")
    voices: list[str] = Field(default_factory=list, description="Preset voices (TTS models).")
    can_clone: bool = False
    emotions: bool = False
    install_hint: str | None = Field(default=None, description="How to install the weights when missing.")
    prices: ModelPrices


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelPublic]


# --- health ---------------------------------------------------------------------------------------------
class HealthPublic(BaseModel):
    status: Literal["ok", "unavailable"]
    checks: dict[str, str] = Field(default_factory=dict)


# --- accounts, keys, credits and usage ------------------------------------------------------------------
# Credit amounts are numbers of credits with at most 6 decimal places (stored as exact micro-credits).
class RateLimitsPublic(BaseModel):
    requests_per_minute: int = Field(
        description="Requests per minute (a bucket of this many refills each minute); 0 is unlimited."
    )
    max_concurrent_jobs: int = Field(description="Queued plus running jobs at once; 0 is unlimited.")


class ApiKeyPublic(BaseModel):
    id: str
    object: Literal["api_key"] = "api_key"
    account_id: str
    name: str
    prefix: str = Field(
        description="The key's visible part: keys look like `s2s-<prefix>-<secret>`. The secret is never shown again."
    )
    created_at: datetime
    revoked_at: datetime | None = None
    requests_per_minute: int | None = Field(
        default=None, description="This key's override; null inherits the account's."
    )
    max_concurrent_jobs: int | None = Field(
        default=None, description="This key's override; null inherits the account's."
    )


class ApiKeyCreated(ApiKeyPublic):
    key: str = Field(description="The API key. Shown only in this response; store it safely.")


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(default="", max_length=200, description="A label for the key.")
    requests_per_minute: int | None = Field(default=None, ge=0, description="Override of the account's limit.")
    max_concurrent_jobs: int | None = Field(default=None, ge=0, description="Override of the account's limit.")


class ApiKeyList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ApiKeyPublic]


class AccountPublic(BaseModel):
    """The caller's account, as `GET /v1/account` shows it."""

    id: str
    object: Literal["account"] = "account"
    name: str
    balance: float = Field(description="Credits available for new jobs.")
    reserved: float = Field(description="Credits held by queued and running jobs (settled when they end).")
    active_jobs: int = Field(description="This key's queued and running jobs.")
    limits: RateLimitsPublic = Field(description="The limits of the key making this request.")
    key: ApiKeyPublic = Field(description="The key making this request.")
    created_at: datetime


class AccountCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, description="Unique account name.")
    credits: Decimal | None = Field(
        default=None, ge=0, description="Initial credits; default: the server's CREDITS__DEFAULT_GRANT."
    )
    requests_per_minute: int | None = Field(
        default=None, ge=0, description="Default for its keys; null: server default."
    )
    max_concurrent_jobs: int | None = Field(
        default=None, ge=0, description="Default for its keys; null: server default."
    )


class AccountAdminPublic(BaseModel):
    id: str
    object: Literal["account"] = "account"
    name: str
    balance: float
    reserved: float
    requests_per_minute: int | None = Field(description="Default for its keys; null: the server default.")
    max_concurrent_jobs: int | None = Field(description="Default for its keys; null: the server default.")
    active_keys: int
    created_at: datetime


class AccountAdminList(BaseModel):
    object: Literal["list"] = "list"
    data: list[AccountAdminPublic]


class CreditsAdd(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: Decimal = Field(description="Credits to add; negative takes credits back (never below zero).")
    note: str = Field(default="", max_length=500, description="Why, for the ledger.")


class LedgerEntryPublic(BaseModel):
    id: int
    object: Literal["ledger_entry"] = "ledger_entry"
    account_id: str
    job_id: str | None
    amount: float = Field(description="Signed credits.")
    reason: Literal["grant", "adjust", "reserve", "release", "charge", "refund"]
    note: str
    created_at: datetime


class CreditsAdded(BaseModel):
    account: AccountAdminPublic
    entry: LedgerEntryPublic


class LedgerList(BaseModel):
    object: Literal["list"] = "list"
    data: list[LedgerEntryPublic]
    balance: float
    ledger_sum: float = Field(description="Sum of every entry of the account; always equals `balance`.")


class UsageDay(BaseModel):
    date: date_
    model: str
    kind: Literal["tts", "stt", "clone"]
    requests: int = Field(description="Jobs created.")
    succeeded: int = Field(description="Jobs that succeeded (the billed ones).")
    characters: int = Field(description="Characters synthesized by succeeded jobs.")
    audio_seconds: float = Field(description="Seconds of audio transcribed by succeeded jobs.")
    credits: float = Field(description="Credits charged.")


class UsageTotals(BaseModel):
    requests: int
    succeeded: int
    characters: int
    audio_seconds: float
    credits: float


class UsagePublic(BaseModel):
    object: Literal["usage"] = "usage"
    start: date_ = Field(description="First day (UTC), inclusive.")
    end: date_ = Field(description="Last day (UTC), inclusive.")
    data: list[UsageDay] = Field(description="One row per day and model, oldest first.")
    totals: UsageTotals
