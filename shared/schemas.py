"""Request and response models of the public API (one family per resource)."""

from __future__ import annotations

from datetime import date as date_
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.jobkinds.clone import CloneResult
from shared.jobkinds.design import DesignResult
from shared.jobkinds.speech import SpeechCreate, SpeechResult
from shared.jobkinds.transcription import TranscriptionCreate
from shared.jobkinds.voice_conversion import VoiceConversionResult
from shared.transcripts import TranscriptionPublic
from shared.types import CreditAmount, StrictBool, StrictCount

# The request and result models of each job kind live with the kind (shared/jobkinds); routes import them here.
__all__ = ["CloneResult", "SpeechCreate", "SpeechResult", "TranscriptionCreate", "TranscriptionPublic"]

JobState = Literal["queued", "running", "succeeded", "failed", "canceled"]
# tts: speech, stt: transcription (and diarization, translation), clone, design: voices, vc: voice conversion
JobKindName = Literal["tts", "stt", "clone", "design", "vc"]


# --- errors -------------------------------------------------------------------------------------------
class ErrorDetail(BaseModel):
    code: str = Field(description="Stable machine-readable error code, e.g. `model_not_found`.")
    message: str = Field(description="What went wrong and what to do next.")
    param: str | None = Field(default=None, description="The request parameter at fault, when there is one.")
    request_id: str | None = Field(default=None, description="Quote this id when reporting a problem.")


class ErrorResponse(BaseModel):
    error: ErrorDetail


# --- voices ---------------------------------------------------------------------------------------------------
class VoiceSample(BaseModel):
    name: str | None = Field(default=None, description="The sample's file name, as uploaded.")
    seconds: float
    file_id: str | None = Field(default=None, description="The stored file it came from, if any.")


class VoiceConsent(BaseModel):
    type: Literal["none", "attestation", "recording"] = Field(
        description="`attestation`: the caller attested the speaker's consent; `recording`: a consent recording was "
        "also checked (the phrase transcribed, its voice compared with the samples); `none`: the server asks for "
        "no consent (CLONE_CONSENT=none)."
    )
    statement: str | None = None
    given_at: str | None = None
    verified: bool | None = Field(default=None, description="For a recording: whether it passed the checks.")
    phrase_wer: float | None = None
    speaker_similarity: float | None = None


class VoiceUpdate(BaseModel):
    """PATCH /v1/voices/{id}: the fields to change (absent fields stay)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=1000, description="An empty string clears it.")
    labels: dict[str, str] | None = Field(default=None, description="Replaces the labels; `{}` clears them.")


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
    description: str | None = None
    labels: dict[str, str] = Field(default_factory=dict, description="accent, age, gender, use_case, ...")
    samples: list[VoiceSample] = Field(default_factory=list, description="The recordings it was made from.")
    consent: VoiceConsent | None = Field(default=None, description="How the speaker's consent was given.")
    preview_url: str | None = Field(default=None, description="A short sample in this voice (mp3), once ready.")
    models: list[str] = Field(default_factory=list, description="The models that can speak it.")
    type: Literal["cloned", "designed"] = Field(
        default="cloned",
        description="`cloned`: conditioned on the samples; `designed`: the closest stock voice (or blend) of a model "
        "to a reference (POST /v1/voices/design), not a clone.",
    )
    preset: str | None = Field(default=None, description="A designed voice's stock voice or blend.")


class PresetVoice(BaseModel):
    id: str
    object: Literal["voice"] = "voice"
    model: str
    name: str
    preset: bool = True
    language: str | None = Field(default=None, description="The language the voice speaks natively.")
    labels: dict[str, str] = Field(default_factory=dict, description="`accent` and `gender`, where known.")
    aliases: list[str] = Field(default_factory=list, description="Other names that resolve to this voice.")


class VoiceList(BaseModel):
    object: Literal["list"] = "list"
    data: list[VoicePublic] = Field(description="This account's cloned voices, newest first (a page of them).")
    has_more: bool = Field(default=False, description="More cloned voices follow: ask again with `after=last_id`.")
    first_id: str | None = None
    last_id: str | None = None
    presets: list[PresetVoice] = Field(description="Preset voices of the models live workers serve.")


class VoiceDeleted(BaseModel):
    id: str
    object: Literal["voice"] = "voice"
    deleted: bool = True


# --- jobs -----------------------------------------------------------------------------------------------
class JobError(BaseModel):
    code: str
    message: str


JobResult = TranscriptionPublic | SpeechResult | CloneResult | DesignResult | VoiceConversionResult


class JobPublic(BaseModel):
    id: str
    object: Literal["job"] = "job"
    kind: JobKindName
    model: str
    status: JobState
    progress: float = Field(description="0-1; how much of the job is done.")
    attempts: int
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    error: JobError | None = None
    result: JobResult | None = Field(
        default=None,
        description="Once succeeded: the transcription (speech to text, the `json` format), the audio's metadata "
        "(speech), the enrolled voice (clone) or the converted audio's metadata with its phrases (voice "
        "conversion).",
    )
    result_url: str | None = Field(default=None, description="Download the audio output here (same API key).")
    presigned_url: str | None = Field(
        default=None, description="Direct, time-limited download URL when the object store supports it."
    )


class JobList(BaseModel):
    """A page of jobs, newest first (OpenAI's list shape)."""

    object: Literal["list"] = "list"
    data: list[JobPublic]
    has_more: bool = Field(description="More jobs follow: ask again with `after=last_id`.")
    first_id: str | None = None
    last_id: str | None = None


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
    kind: Literal["tts", "stt", "vc", "diarization"] = Field(
        description="`vc`: speech in, speech out in another voice (POST /v1/audio/voice-conversions); "
        "`diarization`: a model the transcription workers run for speaker turns (no requests name it)."
    )
    family: str
    description: str
    license: str | None = Field(default=None, description="The weights' licence (SPDX id), where published.")
    installed: bool = Field(description="Whether the model's weights are installed on some worker (or this server).")
    live: bool = Field(description="Whether a live worker serves it now (requests for it can run).")
    workers: int = Field(description="Live workers (worker nodes) serving it.")
    loaded: bool = Field(description="Whether some worker has it in memory now (no load time on the next job).")
    bundled: bool = Field(description="Shipped with the default install.")
    languages: list[str] = Field(description="Supported language codes; empty means multilingual.")
    voices: list[str] = Field(default_factory=list, description="Preset voices (TTS models).")
    voice_labels: dict[str, dict[str, str]] = Field(
        default_factory=dict, description="Per preset voice: its `language`, `accent` and `gender`, where known."
    )
    voice_aliases: dict[str, str] = Field(
        default_factory=dict, description="Other voice names (OpenAI's) -> the preset they resolve to (VOICE_ALIASES)."
    )
    voice_blends: bool = Field(default=False, description="`voice` may mix presets: `a+b` or `a(2)+b(1)`.")
    alias_of: str | None = Field(
        default=None, description="This id is a configured alias (MODEL_ALIASES) of that model, which serves it."
    )
    can_clone: bool = False
    converts: bool = Field(
        default=False, description="Serves voice conversions (POST /v1/audio/voice-conversions) besides its own kind."
    )
    emotions: bool = Field(
        default=False, description="Takes `emotion` (false: only `neutral` or none is accepted, others get 400)."
    )
    streaming: bool = Field(default=False, description="Output arrives while the job runs (`stream=true`).")
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
    requests_per_minute: StrictCount | None = Field(default=None, description="Override of the account's limit.")
    max_concurrent_jobs: StrictCount | None = Field(default=None, description="Override of the account's limit.")


class AccountKeyCreate(BaseModel):
    """`POST /v1/account/keys`: a new key for the caller's own account, never with more than the calling key has."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, description="A label for the key, e.g. where it is used.")
    requests_per_minute: StrictCount | None = Field(
        default=None,
        description="This key's requests per minute, at most the calling key's (0, unlimited, only when the "
        "calling key is unlimited). Omitted: the account's limit, capped at the calling key's.",
    )
    max_concurrent_jobs: StrictCount | None = Field(
        default=None,
        description="This key's queued plus running jobs at once, at most the calling key's (0, unlimited, only "
        "when the calling key is unlimited). Omitted: the account's limit, capped at the calling key's.",
    )


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
    credits: CreditAmount | None = Field(
        default=None, ge=0, description="Initial credits; default: the server's CREDITS__DEFAULT_GRANT."
    )
    requests_per_minute: StrictCount | None = Field(
        default=None, description="Default for its keys; null: server default."
    )
    max_concurrent_jobs: StrictCount | None = Field(
        default=None, description="Default for its keys; null: server default."
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

    amount: CreditAmount = Field(description="Credits to add; negative takes credits back (never below zero).")
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
    kind: JobKindName
    requests: int = Field(description="Jobs created.")
    succeeded: int = Field(description="Jobs that succeeded (the billed ones).")
    characters: int = Field(description="Characters synthesized by succeeded jobs.")
    audio_seconds: float = Field(description="Seconds of audio transcribed or converted by succeeded jobs.")
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


# --- files and batches: OpenAI's shapes (Unix-second timestamps, as the official SDK expects) -------------------
class FilePublic(BaseModel):
    id: str = Field(description="`file-...`.")
    object: Literal["file"] = "file"
    bytes: int
    created_at: int = Field(description="Unix seconds (OpenAI's file object).")
    filename: str
    purpose: Literal["batch", "audio", "batch_output"]
    status: Literal["processed"] = "processed"
    expires_at: int | None = Field(default=None, description="Unix seconds; the file is deleted then.")
    audio_seconds: float | None = Field(default=None, description="Audio files: the decoded duration.")


class FileList(BaseModel):
    object: Literal["list"] = "list"
    data: list[FilePublic]
    has_more: bool = False
    first_id: str | None = None
    last_id: str | None = None


class FileDeleted(BaseModel):
    id: str
    object: Literal["file"] = "file"
    deleted: bool = True


BatchEndpoint = Literal[
    "/v1/audio/speech", "/v1/audio/transcriptions", "/v1/voices/clone", "/v1/audio/voice-conversions"
]


class BatchInlineRequest(BaseModel):
    custom_id: str = Field(min_length=1, max_length=256)
    body: dict[str, Any]


class BatchCreate(BaseModel):
    """OpenAI's batch request, plus inline requests, a concurrency cap and a webhook."""

    model_config = ConfigDict(extra="forbid")

    endpoint: BatchEndpoint
    input_file_id: str | None = Field(
        default=None, max_length=64, description="A file (purpose `batch`): {custom_id, method, url, body} per line."
    )
    requests: list[BatchInlineRequest] | None = Field(
        default=None, max_length=1000, description="Instead of a file: up to 1000 {custom_id, body}."
    )
    completion_window: str = Field(
        default="24h", pattern=r"^[1-9][0-9]{0,3}[mh]$", description="How long items may wait: `24h`, `90m`, ..."
    )
    max_concurrency: StrictCount | None = Field(default=None, ge=1, description="Items running at once.")
    metadata: dict[str, str] | None = Field(default=None, max_length=16)
    webhook_url: str | None = Field(default=None, max_length=2000, description="Where batch.* events go, too.")


class BatchErrorLine(BaseModel):
    code: str
    line: int | None = None
    message: str
    param: str | None = None


class BatchErrors(BaseModel):
    object: Literal["list"] = "list"
    data: list[BatchErrorLine] = Field(default_factory=list)


class BatchRequestCounts(BaseModel):
    total: int
    completed: int
    failed: int
    canceled: int = 0
    queued: int = 0
    running: int = 0


BatchStatus = Literal[
    "validating", "in_progress", "finalizing", "completed", "failed", "expired", "cancelling", "cancelled"
]


class BatchPublic(BaseModel):
    """OpenAI's batch object (Unix-second timestamps)."""

    id: str
    object: Literal["batch"] = "batch"
    endpoint: str
    errors: BatchErrors | None = None
    input_file_id: str | None = None
    completion_window: str
    status: BatchStatus
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
    request_counts: BatchRequestCounts
    metadata: dict[str, str] | None = None
    max_concurrency: int
    manifest_key: str | None = Field(default=None, description="Speech batches: the audio's manifest.json.")


class BatchList(BaseModel):
    object: Literal["list"] = "list"
    data: list[BatchPublic]
    has_more: bool = False
    first_id: str | None = None
    last_id: str | None = None


class BatchItemPublic(BaseModel):
    id: str = Field(description="`batch_req_...`.")
    object: Literal["batch.item"] = "batch.item"
    custom_id: str
    line: int
    status: Literal["pending", "queued", "running", "succeeded", "failed", "canceled", "expired"]
    job_id: str | None = None
    error: JobError | None = None
    result_url: str | None = None


class BatchItemList(BaseModel):
    object: Literal["list"] = "list"
    data: list[BatchItemPublic]
    has_more: bool = False
    last_id: str | None = None


# --- webhooks ------------------------------------------------------------------------------------------------------
WebhookEvent = Literal[
    "job.succeeded",
    "job.failed",
    "job.canceled",
    "voice.ready",
    "voice.failed",
    "batch.completed",
    "batch.failed",
    "batch.expired",
]


class WebhookEndpointCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(max_length=2000)
    events: list[WebhookEvent] = Field(default_factory=list, description="Empty: every event.")
    description: str = Field(default="", max_length=500)
    enabled: StrictBool = True
    default_for_requests: StrictBool = Field(
        default=False, description="Sign the deliveries to per-request `webhook_url`s with this endpoint's secret."
    )


class WebhookEndpointUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(default=None, max_length=2000)
    events: list[WebhookEvent] | None = None
    description: str | None = Field(default=None, max_length=500)
    enabled: StrictBool | None = None
    default_for_requests: StrictBool | None = None


class WebhookEndpointPublic(BaseModel):
    id: str
    object: Literal["webhook_endpoint"] = "webhook_endpoint"
    url: str
    events: list[str]
    description: str
    enabled: bool
    disabled_reason: str | None = None
    default_for_requests: bool
    created_at: datetime


class WebhookEndpointWithSecret(WebhookEndpointPublic):
    secret: str = Field(description="`whsec_...`: shown only in this response. Verify deliveries with it.")


class WebhookEndpointList(BaseModel):
    object: Literal["list"] = "list"
    data: list[WebhookEndpointPublic]


class WebhookDeliveryPublic(BaseModel):
    id: str = Field(description="`msg_...`: the `webhook-id` header of every attempt.")
    object: Literal["webhook_delivery"] = "webhook_delivery"
    endpoint_id: str | None
    url: str
    event_type: str
    status: Literal["pending", "sending", "succeeded", "failed"]
    attempts: int
    next_attempt_at: datetime | None = None
    last_status_code: int | None = None
    last_error: str | None = None
    created_at: datetime
    delivered_at: datetime | None = None


class WebhookDeliveryList(BaseModel):
    object: Literal["list"] = "list"
    data: list[WebhookDeliveryPublic]
    has_more: bool = False
    last_id: str | None = None
