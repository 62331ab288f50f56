"""Typed objects the API returns. Unknown fields from newer servers are kept (`extra="allow"`), never dropped."""

from __future__ import annotations

import base64
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "Account",
    "ApiKey",
    "ApiKeyCreated",
    "ApiKeyList",
    "AudioFormat",
    "Batch",
    "BatchEndpoint",
    "BatchErrors",
    "BatchItem",
    "BatchItemList",
    "BatchItemStatus",
    "BatchLineError",
    "BatchList",
    "BatchRequestCounts",
    "BatchStatus",
    "ChannelMode",
    "ConversionAudioDelta",
    "ConversionAudioDone",
    "Emotion",
    "FileDeleted",
    "FileList",
    "FileObject",
    "FilePurpose",
    "Job",
    "JobError",
    "JobKind",
    "JobList",
    "JobStatus",
    "JsonFormat",
    "Model",
    "ModelList",
    "ModelPrices",
    "RateLimits",
    "Segment",
    "SpeechAudioDelta",
    "SpeechAudioDone",
    "StreamEvent",
    "TextFormat",
    "TimestampGranularity",
    "TranscriptTextDelta",
    "TranscriptTextDone",
    "Transcription",
    "TranscriptionFormat",
    "Usage",
    "UsageDay",
    "UsageTotals",
    "Voice",
    "VoiceConversionPhrase",
    "VoiceConversionResult",
    "VoiceDeleted",
    "VoiceList",
    "VoicePreset",
    "WebhookDelivery",
    "WebhookDeliveryList",
    "WebhookEndpoint",
    "WebhookEndpointList",
    "WebhookEvent",
    "Word",
]

AudioFormat = Literal["mp3", "wav", "ogg", "flac", "opus", "aac", "pcm"]
Emotion = Literal["neutral", "happy", "sad", "angry"]
JobStatus = Literal["queued", "running", "succeeded", "failed", "canceled"]
JobKind = Literal["tts", "stt", "clone", "design", "vc"]
TimestampGranularity = Literal["word", "segment"]
ChannelMode = Literal["mix", "split"]
JsonFormat = Literal["json", "verbose_json", "diarized_json"]
TextFormat = Literal["text", "srt", "vtt", "rttm"]
TranscriptionFormat = Literal["json", "verbose_json", "diarized_json", "text", "srt", "vtt", "rttm"]

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


# --- streamed events (Server-Sent Events; `client.audio.*.stream(...)`) -------------------------------------
class StreamEvent(_Object):
    """An event of a type this SDK does not know yet (every field kept)."""

    type: str


class _AudioDelta(_Object):
    audio: str  # base64 audio bytes, in order

    @property
    def data(self) -> bytes:
        """This piece of the audio file."""
        return base64.b64decode(self.audio)


class SpeechAudioDelta(_AudioDelta):
    type: Literal["speech.audio.delta"]


class SpeechAudioDone(_Object):
    type: Literal["speech.audio.done"]
    job_id: str
    usage: dict[str, float] = Field(default_factory=dict)  # input_characters, duration


class TranscriptTextDelta(_Object):
    type: Literal["transcript.text.delta"]
    delta: str  # the new text (with a leading space after the first segment)
    segment: Segment | None = None


class TranscriptTextDone(_Object):
    """The whole text; with response_format json, the transcription's fields too (segments, language, ...)."""

    type: Literal["transcript.text.done"]
    text: str
    job_id: str | None = None
    language: str | None = None
    duration: float | None = None
    segments: list[Segment] | None = None


class ConversionAudioDelta(_AudioDelta):
    type: Literal["conversion.audio.delta"]


class ConversionAudioDone(_Object):
    type: Literal["conversion.audio.done"]
    job_id: str
    usage: dict[str, float] = Field(default_factory=dict)  # input_seconds, duration
    text: str | None = None  # what the output says


class SpeakerTurn(_Object):
    start: float
    end: float
    speaker: str


class SpeakerTime(_Object):
    id: str
    speaking_seconds: float


class Diarization(_Object):
    """Who spoke when (POST /v1/audio/diarization): turns of different speakers may overlap."""

    duration: float
    speakers: list[SpeakerTime] = Field(default_factory=list)
    turns: list[SpeakerTurn] = Field(default_factory=list)
    diarization: str | None = None


TranslationFormat = Literal["json", "text", "srt", "verbose_json", "vtt"]


# --- voice conversions ----------------------------------------------------------------------------------
class VoiceConversionPhrase(_Object):
    """One phrase of a conversion's output: what a voice says, where its source was and where it was placed."""

    start: float = Field(description="Seconds into the output where the phrase starts (its source start).")
    end: float
    source_start: float
    source_end: float
    text: str = Field(description="What the voice says (English when dubbing).")
    speaker: str | None = None
    voice: str
    tempo: float = Field(default=1.0, description="Time-stretch applied to fit the source span (>1: faster).")


class VoiceConversionResult(_Object):
    """What a finished voice conversion produced (`Job.voice_conversion`); the audio is `jobs.result(id)`."""

    duration: float = Field(description="Seconds of output audio.")
    input_duration: float = Field(description="Seconds of input audio (what is billed).")
    sample_rate: int
    format: str
    bytes: int
    method: str = Field(description="`revoice` (words re-spoken) or `tone-color` (timbre converted).")
    language: str | None = None
    target_language: str | None = None
    voices: dict[str, str] = Field(default_factory=dict, description="Speaker -> the voice that speaks for them.")
    pitches: dict[str, float] = Field(default_factory=dict, description="voices=auto: each speaker's median pitch.")
    phrases: list[VoiceConversionPhrase] = Field(default_factory=list)
    transcript: Transcription | None = Field(default=None, description="What the output says, with its times.")


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

    @property
    def voice_conversion(self) -> VoiceConversionResult | None:
        """The result of a succeeded voice-conversion job as a typed object."""
        if self.kind != "vc" or self.status != "succeeded" or self.result is None:
            return None
        return VoiceConversionResult.model_validate(self.result)


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
    description: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    samples: list[dict[str, Any]] = Field(default_factory=list, description="The recordings it was made from.")
    consent: dict[str, Any] | None = Field(default=None, description="How the speaker's consent was given.")
    preview_url: str | None = None
    models: list[str] = Field(default_factory=list, description="The models that can speak it.")
    type: Literal["cloned", "designed"] | str = "cloned"
    preset: str | None = Field(default=None, description="A designed voice's stock voice or blend.")


class VoicePreset(_Object):
    """A preset voice that comes with a model (e.g. `joe` of `piper`)."""

    id: str
    model: str
    name: str | None = None
    language: str | None = None
    labels: dict[str, str] = Field(default_factory=dict, description="accent and gender, where known.")
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


# --- account, keys, usage --------------------------------------------------------------------------------
class RateLimits(_Object):
    requests_per_minute: int = Field(description="0 is unlimited.")
    max_concurrent_jobs: int = Field(description="Queued plus running jobs at once; 0 is unlimited.")


class ApiKey(_Object):
    """An API key as the server lists it: its id and visible prefix (`s2s-<prefix>-...`), never its secret."""

    id: str
    object: Literal["api_key"] = "api_key"
    account_id: str
    name: str = ""
    prefix: str
    created_at: datetime
    revoked_at: datetime | None = None
    requests_per_minute: int | None = Field(default=None, description="This key's override; None inherits.")
    max_concurrent_jobs: int | None = Field(default=None, description="This key's override; None inherits.")


class ApiKeyCreated(ApiKey):
    key: str = Field(description="The secret API key: in this answer only, never shown again.")


class ApiKeyList(_Object):
    object: Literal["list"] = "list"
    data: list[ApiKey]


class Account(_Object):
    """`client.account.retrieve()`: the balance, credits held by running jobs, and the limits of the key in use."""

    id: str
    object: Literal["account"] = "account"
    name: str
    balance: float
    reserved: float
    active_jobs: int = 0
    limits: RateLimits
    key: ApiKey = Field(description="The key making the request.")
    created_at: datetime | None = None


class UsageDay(_Object):
    date: date
    model: str
    kind: str
    requests: int
    succeeded: int
    characters: int
    audio_seconds: float
    credits: float


class UsageTotals(_Object):
    requests: int
    succeeded: int
    characters: int
    audio_seconds: float
    credits: float


class Usage(_Object):
    """Usage per UTC day and model, oldest first, with totals over [start, end]."""

    object: Literal["usage"] = "usage"
    start: date
    end: date
    data: list[UsageDay] = Field(default_factory=list)
    totals: UsageTotals


# --- files, batches, webhooks -----------------------------------------------------------------------------
FilePurpose = Literal["batch", "audio", "batch_output"]
BatchEndpoint = Literal["/v1/audio/speech", "/v1/audio/transcriptions", "/v1/voices/clone"]
BatchStatus = Literal[
    "validating", "in_progress", "finalizing", "completed", "failed", "expired", "cancelling", "cancelled"
]
BatchItemStatus = Literal["pending", "queued", "running", "succeeded", "failed", "canceled", "expired"]
BATCH_TERMINAL_STATUSES: frozenset[str] = frozenset({"completed", "failed", "expired", "cancelled"})


class FileObject(_Object):
    """An uploaded file (`file-...`): batch input (JSONL), audio to use by `file_id`, or a batch's output."""

    id: str
    object: Literal["file"] = "file"
    bytes: int
    created_at: int = Field(description="Unix seconds (OpenAI's shape).")
    filename: str
    purpose: str
    expires_at: int | None = None
    audio_seconds: float | None = None


class FileList(_Object):
    object: Literal["list"] = "list"
    data: list[FileObject]
    has_more: bool = False
    first_id: str | None = None
    last_id: str | None = None


class FileDeleted(_Object):
    id: str
    object: Literal["file"] = "file"
    deleted: bool


class BatchLineError(_Object):
    code: str
    line: int | None = None
    message: str
    param: str | None = None


class BatchErrors(_Object):
    object: Literal["list"] = "list"
    data: list[BatchLineError] = Field(default_factory=list)


class BatchRequestCounts(_Object):
    total: int = 0
    completed: int = 0
    failed: int = 0
    canceled: int = 0
    queued: int = 0
    running: int = 0


class Batch(_Object):
    """A batch of requests to one endpoint (`batch_...`); its items are ordinary jobs."""

    id: str
    object: Literal["batch"] = "batch"
    endpoint: str
    status: BatchStatus
    errors: BatchErrors | None = None
    input_file_id: str | None = None
    completion_window: str
    output_file_id: str | None = None
    error_file_id: str | None = None
    created_at: int
    in_progress_at: int | None = None
    expires_at: int | None = None
    finalizing_at: int | None = None
    completed_at: int | None = None
    failed_at: int | None = None
    expired_at: int | None = None
    cancelling_at: int | None = None
    cancelled_at: int | None = None
    request_counts: BatchRequestCounts = Field(default_factory=BatchRequestCounts)
    metadata: dict[str, str] | None = None
    max_concurrency: int | None = None
    manifest_key: str | None = None

    @property
    def done(self) -> bool:
        """Whether the batch ended (completed, failed, expired or cancelled)."""
        return self.status in BATCH_TERMINAL_STATUSES


class BatchList(_Object):
    object: Literal["list"] = "list"
    data: list[Batch]
    has_more: bool = False
    first_id: str | None = None
    last_id: str | None = None


class BatchItem(_Object):
    """One request of a batch: its line, its job and how it ended."""

    id: str
    object: Literal["batch.item"] = "batch.item"
    custom_id: str
    line: int
    status: BatchItemStatus
    job_id: str | None = None
    error: JobError | None = None
    result_url: str | None = None


class BatchItemList(_Object):
    object: Literal["list"] = "list"
    data: list[BatchItem]
    has_more: bool = False
    last_id: str | None = None


class WebhookEndpoint(_Object):
    id: str
    object: Literal["webhook_endpoint"] = "webhook_endpoint"
    url: str
    events: list[str] = Field(default_factory=list)
    description: str = ""
    enabled: bool = True
    disabled_reason: str | None = None
    default_for_requests: bool = False
    created_at: datetime | None = None
    secret: str | None = Field(default=None, description="Only in the create and rotate_secret responses.")


class WebhookEndpointList(_Object):
    object: Literal["list"] = "list"
    data: list[WebhookEndpoint]


class WebhookDelivery(_Object):
    id: str = Field(description="`msg_...`: the `webhook-id` header of every attempt.")
    object: Literal["webhook_delivery"] = "webhook_delivery"
    endpoint_id: str | None = None
    url: str
    event_type: str
    status: Literal["pending", "sending", "succeeded", "failed"]
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_status_code: int | None = None
    last_error: str | None = None
    created_at: datetime | None = None
    delivered_at: datetime | None = None


class WebhookDeliveryList(_Object):
    object: Literal["list"] = "list"
    data: list[WebhookDelivery]
    has_more: bool = False
    last_id: str | None = None


class WebhookEvent(_Object):
    """A verified webhook: `type` (e.g. `batch.completed`), `timestamp` and thin `data` (ids, status, URLs)."""

    id: str
    type: str
    timestamp: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)
