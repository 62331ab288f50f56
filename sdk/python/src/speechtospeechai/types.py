"""Typed objects the API returns. Unknown fields from newer servers are kept (`extra="allow"`), never dropped."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "AudioFormat",
    "Emotion",
    "Job",
    "JobError",
    "JobStatus",
    "Model",
    "ModelList",
    "ModelPrices",
    "Segment",
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
TimestampGranularity = Literal["word", "segment"]
TranscriptionFormat = Literal["json", "verbose_json", "text", "srt", "vtt"]

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
    words: list[Word] | None = None


class Transcription(_Object):
    """Speech to text: the whole text, the language, the duration and timed segments (with speakers and words
    when asked for)."""

    text: str
    language: str | None = None
    language_probability: float | None = None
    duration: float | None = None
    segments: list[Segment] = Field(default_factory=list)

    @property
    def words(self) -> list[Word]:
        """Every word of every segment, in order (empty unless word timestamps were requested)."""
        return [w for s in self.segments for w in (s.words or [])]

    def to_text(self) -> str:
        return self.text.strip()

    def to_srt(self) -> str:
        """SubRip subtitles, one cue per segment (speaker labels as a `[SPEAKER_00]` prefix)."""
        cues = [
            f"{i}\n{_timestamp(s.start, ',')} --> {_timestamp(s.end, ',')}\n{_cue_text(s)}\n"
            for i, s in enumerate(self._cue_segments(), start=1)
        ]
        return "\n".join(cues)

    def to_vtt(self) -> str:
        """WebVTT subtitles, one cue per segment (speaker labels as voice spans)."""
        cues = [
            f"{_timestamp(s.start, '.')} --> {_timestamp(s.end, '.')}\n"
            + (f"<v {s.speaker}>{s.text.strip()}" if s.speaker else s.text.strip())
            + "\n"
            for s in self._cue_segments()
        ]
        return "\n".join(["WEBVTT\n", *cues])

    def render(self, response_format: TranscriptionFormat) -> str:
        """The transcription in one of the text formats (`text`, `srt`, `vtt`) or as JSON."""
        if response_format == "text":
            return self.to_text()
        if response_format == "srt":
            return self.to_srt()
        if response_format == "vtt":
            return self.to_vtt()
        return self.model_dump_json(indent=2, exclude_none=True)

    def _cue_segments(self) -> list[Segment]:
        if self.segments:
            return self.segments
        return [Segment(start=0.0, end=self.duration or 0.0, text=self.text)] if self.text.strip() else []


def _timestamp(seconds: float, separator: str) -> str:
    millis = max(0, round(seconds * 1000))
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def _cue_text(segment: Segment) -> str:
    text = segment.text.strip()
    return f"[{segment.speaker}] {text}" if segment.speaker else text


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


class VoicePreset(_Object):
    """A preset voice that comes with a model (e.g. `joe` of `piper`)."""

    id: str
    model: str
    name: str | None = None
    language: str | None = None


class VoiceList(_Object):
    object: Literal["list"] = "list"
    data: list[Voice] = Field(default_factory=list, description="The account's cloned voices.")
    presets: list[VoicePreset] = Field(default_factory=list, description="Preset voices of the installed models.")


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
