"""Request and response models of the public API (one family per resource)."""

from __future__ import annotations

from datetime import datetime
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
