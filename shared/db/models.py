"""SQLAlchemy 2 models: accounts, API keys, jobs, voices, the credit ledger and idempotency keys.

The job row is the source of truth. Money is integer micro-credits (1 credit = 1,000,000), never floats.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id(prefix: str) -> str:
    """Short, URL-safe, unguessable ids such as `job_3k9f...` and `voice_abc123xyz`."""
    return f"{prefix}_{secrets.token_hex(12)}"


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every database: SQLite hands back naive values, read here as UTC, so
    every timestamp the API shows is RFC 3339 with `Z`."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC) if value is not None else None


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON, datetime: UTCDateTime()}


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("acct"))
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # available credits in micro-credits; always equals the sum of the account's ledger rows
    balance: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    # the account's default limits for its keys; NULL: the server default (RATE_LIMITS__...)
    requests_per_minute: Mapped[int | None] = mapped_column(Integer, default=None)
    max_concurrent_jobs: Mapped[int | None] = mapped_column(Integer, default=None)


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("key"))
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    prefix: Mapped[str] = mapped_column(String(32), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    # per-key overrides of the account's limits; NULL: inherit
    requests_per_minute: Mapped[int | None] = mapped_column(Integer, default=None)
    max_concurrent_jobs: Mapped[int | None] = mapped_column(Integer, default=None)


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_account_created", "account_id", "created_at"),
        Index("ix_jobs_api_key_state", "api_key_id", "state"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("job"))
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    # the key that created the job (its concurrent-jobs limit counts the key's active jobs)
    api_key_id: Mapped[str | None] = mapped_column(ForeignKey("api_keys.id", ondelete="SET NULL"), default=None)
    kind: Mapped[str] = mapped_column(String(16))  # tts | stt | clone
    model: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    # the queue its task goes to (model, job kind and latency class): where the reconciler re-sends it
    queue: Mapped[str | None] = mapped_column(String(160), default=None)
    # the broker (Redis) its message went to: each broker's reconciler looks after its own jobs
    broker: Mapped[str | None] = mapped_column(String(64), default=None)
    # a batch item's job: its batch (outputs go under the batch's prefix)
    batch_id: Mapped[str | None] = mapped_column(String(40), default=None, index=True)
    # where its job.* events are delivered besides the account's endpoints (checked against SSRF when it was given)
    webhook_url: Mapped[str | None] = mapped_column(String(2000), default=None)
    # the worker process (its heartbeat id) that claimed it last: the reconciler requeues it when that one is gone
    worker_id: Mapped[str | None] = mapped_column(String(200), default=None)
    request: Mapped[dict[str, Any]] = mapped_column(default=dict)
    result: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    input_key: Mapped[str | None] = mapped_column(String(400), default=None)
    output_key: Mapped[str | None] = mapped_column(String(400), default=None)
    output_content_type: Mapped[str | None] = mapped_column(String(100), default=None)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error_code: Mapped[str | None] = mapped_column(String(64), default=None)
    error_message: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    # billing, in micro-credits: held when the job was created; charged when it succeeded (0 otherwise)
    reserved_credits: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    charged_credits: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    # billed units: estimated at creation, replaced by the actual ones on success
    characters: Mapped[int | None] = mapped_column(Integer, default=None)
    audio_seconds: Mapped[float | None] = mapped_column(Float, default=None)


class Voice(Base):
    __tablename__ = "voices"

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("voice"))
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    model: Mapped[str] = mapped_column(String(64))
    language: Mapped[str | None] = mapped_column(String(16), default=None)
    status: Mapped[str] = mapped_column(String(16), default="processing")  # processing | ready | failed
    reference_key: Mapped[str | None] = mapped_column(String(400), default=None)
    # sha256 of the normalised reference: engines' conditioning is stored and cached under it
    reference_sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    transcript: Mapped[str | None] = mapped_column(Text, default=None)
    profile: Mapped[dict[str, Any] | None] = mapped_column(default=None)  # speaker embedding, durations
    error_message: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    description: Mapped[str | None] = mapped_column(Text, default=None)
    labels: Mapped[dict[str, Any] | None] = mapped_column(default=None)  # accent, age, gender, use_case, ...
    samples: Mapped[list[Any] | None] = mapped_column(default=None)  # [{name, seconds, file_id}] it was made from
    # how the speaker's consent was given: attestation (a statement) or a verified consent recording
    consent: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    preview_key: Mapped[str | None] = mapped_column(String(400), default=None)  # a short sample in the voice
    # a designed voice (POST /v1/voices/design): the stock voice or blend of its model that it speaks with
    preset: Mapped[str | None] = mapped_column(String(400), default=None)


class VoiceConditioning(Base):
    """One engine's conditioning for one cloned voice (computed once per voice, model and reference), stored as an
    .npz object in the store."""

    __tablename__ = "voice_conditionings"
    __table_args__ = (UniqueConstraint("voice_id", "model", "digest", name="uq_voice_conditionings_voice_model"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    voice_id: Mapped[str] = mapped_column(ForeignKey("voices.id", ondelete="CASCADE"), index=True)
    model: Mapped[str] = mapped_column(String(64))
    digest: Mapped[str] = mapped_column(String(64))
    object_key: Mapped[str] = mapped_column(String(400))
    bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LedgerEntry(Base):
    """One change of an account's balance; the balance always equals the sum of its entries.

    Reasons: `grant` and `adjust` (operator), `reserve` (a job's estimated cost held at creation), `release`
    and `charge` (its settlement on success: the hold returned, the actual cost taken), `refund` (the hold
    returned when the job failed or was canceled).
    """

    __tablename__ = "credit_ledger"
    __table_args__ = (Index("ix_credit_ledger_account_created", "account_id", "created_at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    job_id: Mapped[str | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"), default=None, index=True)
    amount: Mapped[int] = mapped_column(BigInteger)  # signed micro-credits
    reason: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class IdempotencyKey(Base):
    """A POST's `Idempotency-Key`: who used it, for which request, and the response to replay."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("scope", "key", name="uq_idempotency_keys_scope_key"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    scope: Mapped[str] = mapped_column(String(64))  # an account id, or "admin" for the admin API
    key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), default="in_progress")  # in_progress | completed
    job_id: Mapped[str | None] = mapped_column(String(40), default=None)
    status_code: Mapped[int | None] = mapped_column(Integer, default=None)
    content_type: Mapped[str | None] = mapped_column(String(200), default=None)
    response_headers: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    completed_at: Mapped[datetime | None] = mapped_column(default=None)


def new_file_id() -> str:
    """`file-...` (OpenAI's shape for file ids); set it before the row is flushed when the id names an object."""
    return "file-" + secrets.token_hex(12)


class StoredFile(Base):
    """An uploaded file (`file-...`): batch input, audio to transcribe or clone from, or a batch's output."""

    __tablename__ = "files"
    __table_args__ = (Index("ix_files_account_created", "account_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_file_id())
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(32))  # batch | audio | batch_output
    filename: Mapped[str] = mapped_column(String(255), default="")  # shown back; never part of the object key
    bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    sha256: Mapped[str] = mapped_column(String(64), default="")
    object_key: Mapped[str] = mapped_column(String(400))
    # audio files: what the decoder found at upload (the estimate of a transcription's price, the channels)
    audio_seconds: Mapped[float | None] = mapped_column(Float, default=None)
    channels: Mapped[int | None] = mapped_column(Integer, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(default=None, index=True)


class Batch(Base):
    """A batch (`batch_...`) of speech, transcription or clone requests; each item becomes an ordinary job."""

    __tablename__ = "batches"
    __table_args__ = (Index("ix_batches_account_created", "account_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("batch"))
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    api_key_id: Mapped[str | None] = mapped_column(ForeignKey("api_keys.id", ondelete="SET NULL"), default=None)
    endpoint: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # the job kind of its items
    status: Mapped[str] = mapped_column(String(16), default="validating", index=True)
    input_file_id: Mapped[str | None] = mapped_column(String(40), default=None)
    output_file_id: Mapped[str | None] = mapped_column(String(40), default=None)
    error_file_id: Mapped[str | None] = mapped_column(String(40), default=None)
    completion_window: Mapped[str] = mapped_column(String(16), default="24h")
    max_concurrency: Mapped[int] = mapped_column(Integer, default=8)
    metadata_: Mapped[dict[str, Any] | None] = mapped_column("metadata", default=None)
    webhook_url: Mapped[str | None] = mapped_column(String(2000), default=None)
    broker: Mapped[str | None] = mapped_column(String(64), default=None)
    errors: Mapped[dict[str, Any] | None] = mapped_column(default=None)  # validation errors (the first ones)
    total: Mapped[int] = mapped_column(Integer, default=0)  # lines, valid or not
    invalid: Mapped[int] = mapped_column(Integer, default=0)  # lines refused by validation (never items)
    outcome: Mapped[str | None] = mapped_column(String(16), default=None)  # what finalizing ends in
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(default=utcnow)
    in_progress_at: Mapped[datetime | None] = mapped_column(default=None)
    finalizing_at: Mapped[datetime | None] = mapped_column(default=None)
    completed_at: Mapped[datetime | None] = mapped_column(default=None)
    failed_at: Mapped[datetime | None] = mapped_column(default=None)
    expired_at: Mapped[datetime | None] = mapped_column(default=None)
    cancelling_at: Mapped[datetime | None] = mapped_column(default=None)
    cancelled_at: Mapped[datetime | None] = mapped_column(default=None)


class BatchItem(Base):
    """One line of a batch: its validated request (a job kind's contract), then its job."""

    __tablename__ = "batch_items"
    __table_args__ = (
        UniqueConstraint("batch_id", "custom_id", name="uq_batch_items_custom_id"),
        Index("ix_batch_items_batch_state", "batch_id", "state"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    batch_id: Mapped[str] = mapped_column(ForeignKey("batches.id", ondelete="CASCADE"))
    line: Mapped[int] = mapped_column(Integer)
    custom_id: Mapped[str] = mapped_column(String(256))
    model: Mapped[str] = mapped_column(String(64))
    request: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # pending -> dispatched (its job's state is the item's) | failed (never ran: credits) | canceled | expired
    state: Mapped[str] = mapped_column(String(16), default="pending")
    job_id: Mapped[str | None] = mapped_column(String(40), default=None, index=True)
    error_code: Mapped[str | None] = mapped_column(String(64), default=None)
    error_message: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebhookEndpoint(Base):
    """Where an account wants events (`we_...`); its signing secret is kept encrypted (SECRETS_KEY)."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("we"))
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    events: Mapped[dict[str, Any]] = mapped_column(default=dict)  # {"types": [...]}; empty: every event
    description: Mapped[str] = mapped_column(String(500), default="")
    enabled: Mapped[bool] = mapped_column(default=True)
    disabled_reason: Mapped[str | None] = mapped_column(String(500), default=None)
    secret_encrypted: Mapped[str] = mapped_column(Text)
    previous_secret_encrypted: Mapped[str | None] = mapped_column(Text, default=None)
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(default=None)
    failing_since: Mapped[datetime | None] = mapped_column(default=None)
    default_for_requests: Mapped[bool] = mapped_column(default=False)  # signs per-request webhook_url deliveries
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebhookDelivery(Base):
    """One event for one destination (`msg_...`, the webhook-id every retry repeats), delivered at least once."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("msg"))
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    endpoint_id: Mapped[str | None] = mapped_column(
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), default=None, index=True
    )
    url: Mapped[str] = mapped_column(String(2000))
    event_type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | sending | succeeded | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(default=utcnow)
    last_status_code: Mapped[int | None] = mapped_column(Integer, default=None)
    last_error: Mapped[str | None] = mapped_column(String(1000), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(default=None)
