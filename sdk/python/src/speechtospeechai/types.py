"""Typed objects the API returns. Unknown fields from newer servers are kept (`extra="allow"`), never dropped."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "AudioFormat",
    "ChannelMode",
    "Emotion",
    "Job",
    "JobError",
    "JobKind",
    "JobList",
    "JobStatus",
    "JsonFormat",
    "Model",
    "ModelList",
    "ModelPrices",
    "Segment",
    "TextFormat",
    "TimestampGranularity",
    "Transcription",
    "TranscriptionFormat",
    "Voice",
    "VoiceDeleted",
    "VoiceList",
    "VoicePreset",
    "Word",
]

AudioFormat = Literal["mp3", "wav", "ogg", "flac", "opus", "aac", "pcm"]
Emotion = Literal["neutral", "happy", "sad", "angry"]
JobStatus = Literal["queued", "running", "succeeded", "failed", "canceled"]
JobKind = Literal["tts", "stt", "clone"]
TimestampGranularity = Literal["word", "segment"]
ChannelMode = Literal["mix", "split"]
JsonFormat = Literal["json", "verbose_json", "diarized_json"]
TextFormat = Literal["text", "srt", "vtt"]
TranscriptionFormat = Literal["json", "verbose_json", "diarized_json", "text", "srt", "vtt"]

TERMINAL_STATUSES: frozenset[str] = frozenset({"succeeded", "failed", "canceled"})


class _Object(BaseModel):
    model_config = ConfigDict(extra="allow", protected_namespaces=())


# --- transcriptions -------------------------------------------------------------------------------------
class Word(_Object):
    start: float
    end: float
    word: str
    probability: float | None = None
    speaker: str | None = None


class Segment(_Object):
    id: int | None = None
    start: float
    end: float
    text: str
    speaker: str | None = None
    channel: int | None = None
    words: list[Word] | None = None


class Transcription(_Object):
    """Speech to text: the whole text, the language, the duration and timed segments (with speakers when
    diarization was asked for); `words` holds word timestamps when they were asked for."""

    text: str
    language: str | None = None
    language_probability: float | None = None
    duration: float | None = None
    segments: list[Segment] = Field(default_factory=list)
    words: list[Word] | None = None
    speakers: list[Any] | None = None

    @model_validator(mode="after")
    def _words_from_segments(self) -> Transcription:
        # `json` lists words at the top level; a job's stored result keeps them inside their segments
        if self.words is None and any(s.words for s in self.segments):
            self.words = [w for s in self.segments for w in (s.words or [])]
        return self


# --- jobs -----------------------------------------------------------------------------------------------
class JobError(_Object):
    code: str
    message: str = ""


class Job(_Object):
    """A background synthesis, transcription or cloning job."""

    id: str
    object: Literal["job"] = "job"
    kind: str
    model: str
    status: JobStatus
    progress: float = Field(default=0.0, description="0-1; how much of the job is done.")
    attempts: int = 0
    created_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    error: JobError | None = None
    result: dict[str, Any] | None = Field(
        default=None, description="The transcription of a speech-to-text job; audio metadata of a synthesis job."
    )
    result_url: str | None = None
    presigned_url: str | None = None

    @property
    def done(self) -> bool:
        """Whether the job reached a terminal state (succeeded, failed or canceled)."""
        return self.status in TERMINAL_STATUSES

    @property
    def transcription(self) -> Transcription | None:
        """The result of a succeeded speech-to-text job as a typed object."""
        if self.kind != "stt" or self.status != "succeeded" or self.result is None:
            return None
        return Transcription.model_validate(self.result)


class JobList(_Object):
    """A page of jobs, newest first; `has_more` with `last_id` fetch the next one (`after=last_id`)."""

    object: Literal["list"] = "list"
    data: list[Job] = Field(default_factory=list)
    has_more: bool = False
    first_id: str | None = None
    last_id: str | None = None


# --- voices ---------------------------------------------------------------------------------------------
class Voice(_Object):
    """A cloned voice; use its `id` as the `voice` of speech requests."""

    id: str
    object: Literal["voice"] = "voice"
    name: str
    model: str
    language: str | None = None
    status: Literal["ready", "processing", "failed"] | str = "ready"
    created_at: datetime | None = None
    warnings: list[str] = Field(default_factory=list)
    error: str | None = Field(default=None, description="Why enrollment failed.")
    job_id: str | None = Field(default=None, description="The enrollment job (see client.jobs).")


class VoicePreset(_Object):
    """A preset voice that comes with a model (e.g. `joe` of `piper`)."""

    id: str
    model: str
    name: str | None = None
    language: str | None = None
    aliases: list[str] = Field(default_factory=list, description="Other names that select this voice.")


class VoiceList(_Object):
    object: Literal["list"] = "list"
    data: list[Voice] = Field(default_factory=list, description="The account's cloned voices (a page, newest first).")
    has_more: bool = False
    first_id: str | None = None
    last_id: str | None = None
    presets: list[VoicePreset] = Field(default_factory=list, description="Preset voices of the live models.")


class VoiceDeleted(_Object):
    id: str
    object: Literal["voice"] = "voice"
    deleted: bool


# --- models ---------------------------------------------------------------------------------------------
class ModelPrices(_Object):
    per_1k_characters: float | None = None
    per_audio_second: float | None = None
    per_clone: float | None = None


class Model(_Object):
    """A model the server knows; `installed` says whether it has the weights, `install_hint` how to get them."""

    id: str
    object: Literal["model"] = "model"
    kind: Literal["tts", "stt"] | str
    family: str | None = None
    description: str | None = None
    installed: bool = True
    bundled: bool = False
    languages: list[str] = Field(default_factory=list)
    voices: list[str] = Field(default_factory=list)
    can_clone: bool = False
    emotions: bool = False
    install_hint: str | None = None
    prices: ModelPrices | None = None


class ModelList(_Object):
    object: Literal["list"] = "list"
    data: list[Model]
