"""Every setting of the platform, in one pydantic-settings class.

Values come from the environment (or a `.env` file); nested groups use `__`, e.g. `STORE__BACKEND=s3`.
This is the only module that reads the environment.
"""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRETS = {"", "change-me", "changeme", "admin", "secret", "dev-admin-token"}


class StoreSettings(BaseModel):
    """Where audio inputs and outputs are kept."""

    backend: Literal["local", "s3"] = "local"
    """`local` keeps objects under `local_root`; `s3` talks to any S3-compatible server."""
    local_root: Path | None = None
    """Root folder of the local store (default: `<data_dir>/store`)."""
    s3_endpoint_url: str | None = None
    """S3 endpoint, e.g. `http://127.0.0.1:8333` for SeaweedFS or `http://minio:9000`; empty for AWS."""
    s3_public_endpoint_url: str | None = None
    """Endpoint used in presigned URLs handed to clients, when it differs from `s3_endpoint_url`."""
    s3_bucket: str = "s2s"
    """Bucket holding every object; created on start when missing."""
    s3_access_key: str | None = None
    """S3 access key id."""
    s3_secret_key: SecretStr | None = None
    """S3 secret access key."""
    s3_region: str = "us-east-1"
    """S3 region name used for signing."""
    presign_ttl_seconds: int = 3600
    """Lifetime of presigned download URLs."""
    input_retention_seconds: int = Field(default=0, ge=0)
    """Uploaded inputs (transcription files, clone samples) are deleted when their job ends; this keeps them so many
    seconds longer (then the API's housekeeping deletes them). Outputs are kept."""


class LimitSettings(BaseModel):
    """Request limits enforced by the API."""

    max_upload_bytes: int = 200 * 1024 * 1024
    """Largest accepted upload; bigger requests get 413 file_too_large."""
    max_input_chars: int = 5000
    """Longest text accepted for synthesis (the contract's limit)."""
    sync_wait_seconds: float = 120.0
    """How long a synchronous request waits for its job before answering 202 with the job id."""
    sync_wait_per_audio_second: float = 0.5
    """Extra synchronous wait granted per second of uploaded audio (long files take longer)."""
    max_sync_wait_seconds: float = 600.0
    """Upper bound of the synchronous wait, whatever the audio duration."""


class CelerySettings(BaseModel):
    """Queue and worker behaviour."""

    visibility_timeout_seconds: int = 6 * 3600
    """Redis redelivers an unacknowledged job after this long; must exceed the longest job."""
    task_time_limit_seconds: int = 4 * 3600
    """Hard time limit of one job."""
    max_attempts: int = 3
    """A job redelivered after a worker crash is failed after this many starts."""
    max_memory_per_child_mb: int = Field(default=8192, ge=256)
    """A worker child whose resident memory passed this after a job is replaced by a fresh one."""


class CreditSettings(BaseModel):
    """Credits: what new accounts start with."""

    default_grant: Decimal = Field(default=Decimal(10), ge=0, decimal_places=6)
    """Credits granted (a ledger `grant` row) to each new account, unless its creator says otherwise; 0 for none."""
    local_account_credits: Decimal = Field(default=Decimal(1_000_000), ge=0, decimal_places=6)
    """`s2s run` tops its local account up to this balance on start, so the printed key always works."""


class RateLimitSettings(BaseModel):
    """Per-API-key limits; each account may override them, and each key may override its account's."""

    requests_per_minute: int = Field(default=600, ge=0)
    """Requests per minute per key (a token bucket in Redis: bursts up to this many); 0 means unlimited."""
    max_concurrent_jobs: int = Field(default=16, ge=0)
    """Queued plus running jobs per key; a new job beyond it gets 429; 0 means unlimited."""
    unauthenticated_requests_per_minute: int = Field(default=300, ge=0)
    """Requests per minute per client address that carry no valid API key; 0 means unlimited."""


class FileSettings(BaseModel):
    """Uploaded files (`POST /v1/files`)."""

    max_bytes: int = Field(default=512 * 1024 * 1024, ge=1)
    """Largest file accepted (the request body limit LIMITS__MAX_UPLOAD_BYTES applies too)."""
    retention_days: float = Field(default=30.0, gt=0)
    """Files expire (and are deleted) this many days after upload, batch outputs as well."""


class BatchSettings(BaseModel):
    """Batches (`POST /v1/batches`)."""

    max_lines: int = Field(default=50_000, ge=1)
    """Most requests one batch may hold."""
    default_concurrency: int = Field(default=8, ge=1)
    """Items of one batch running at once when the batch does not say (`max_concurrency`)."""
    tick_seconds: float = Field(default=1.0, gt=0)
    """How often each API process dispatches batch items and finishes batches."""


class WebhookSettings(BaseModel):
    """Outgoing webhooks (Standard Webhooks signatures)."""

    allow_http: bool = False
    """Accept plain `http://` webhook URLs (https only by default)."""
    allowlist: list[str] = Field(default_factory=list)
    """Addresses (CIDRs like `10.1.2.0/24`, or host names) webhooks may reach although they are private, loopback or
    link-local; everything else in those ranges is refused (SSRF guard), at registration and at each delivery."""
    timeout_seconds: float = Field(default=10.0, gt=0)
    """Per delivery attempt."""
    secret_grace_hours: float = Field(default=24.0, ge=0)
    """After `rotate_secret`, deliveries are signed with the old secret too for this long."""
    disable_after_days: float = Field(default=5.0, gt=0)
    """An endpoint whose deliveries all failed for this long is disabled (and says why)."""
    retry_schedule_seconds: list[float] = Field(
        default_factory=lambda: [5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0], min_length=1
    )
    """Wait before each retry after a failed attempt (each ±20 % jitter): 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h,
    eight attempts over about 27 hours; then the delivery is `failed` (redeliver it by hand)."""
    poll_seconds: float = Field(default=1.0, gt=0)
    """How often each API process looks for due deliveries."""
    concurrency: int = Field(default=16, ge=1)
    """Deliveries one API process sends at once."""


OPENAI_VOICES = ("alloy", "ash", "ballad", "coral", "echo", "fable", "nova", "onyx", "sage", "shimmer", "verse")
DEFAULT_VOICE_ALIASES: dict[str, dict[str, str]] = {
    "piper": dict.fromkeys(OPENAI_VOICES, "joe"),
    # same name where Kokoro has the voice; otherwise a voice of the same gender
    "kokoro": {
        "alloy": "af_alloy", "echo": "am_echo", "fable": "bm_fable", "nova": "af_nova", "onyx": "am_onyx",
        "ash": "am_adam", "ballad": "bm_george", "coral": "af_kore", "sage": "af_sarah", "shimmer": "af_sky",
        "verse": "am_michael",
    },
}  # fmt: skip
DEFAULT_MODEL_ALIASES: dict[str, str] = {
    "tts-1": "piper",
    "tts-1-hd": "kokoro",
    "gpt-4o-mini-tts": "kokoro",
    "whisper-1": "auto:whisper",
    "gpt-4o-transcribe": "auto:whisper",
    "gpt-4o-mini-transcribe": "auto:whisper",
}


class Settings(BaseSettings):
    """Configuration of the API, the workers and the CLI."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", env_nested_delimiter="__", extra="ignore"
    )

    environment: Literal["development", "production"] = "development"
    """`production` refuses placeholder secrets."""
    data_dir: Path = Path("var")
    """Folder for the embedded mode's database, object store, models and logs."""
    database_url: str | None = None
    """SQLAlchemy URL (sync driver form), e.g. `postgresql+psycopg://u:p@host/db`; default SQLite in data_dir."""
    redis_url: str | None = None
    """Redis for the Celery broker and job notifications; `s2s run` starts an embedded one when unset."""
    model_dir: Path | None = None
    """Where model weights are installed (default: `<data_dir>/models`)."""
    host: str = "127.0.0.1"
    """Address the API binds."""
    port: int = 8000
    """Port the API binds."""
    public_base_url: str | None = None
    """Base URL clients use to reach the API (for printed examples and result links)."""
    admin_token: SecretStr | None = None
    """Token for the admin API; required (non-placeholder) in production."""
    metrics_token: SecretStr | None = None
    """Bearer token Prometheus sends to GET /metrics; unset, /metrics is off (403). `s2s run` generates one."""
    restart_backoff_seconds: list[float] = Field(default_factory=lambda: [1.0, 2.0, 4.0, 8.0, 16.0, 30.0])
    """`s2s run`: waits before restarting a child that died, the n-th wait for its n-th death in a row (the last
    repeats; a child that ran 60 s starts afresh), as a JSON list."""
    flower_port: int = 5555
    """Port of the Flower dashboard started by `s2s run`."""
    flower_basic_auth: SecretStr | None = None
    """`user:password` for Flower; generated by `s2s run` when unset."""
    worker_models: str | None = None
    """Comma-separated model ids a worker hosts (default: every installed model)."""
    model_ttl_seconds: int = 0
    """Unload a model after this many idle seconds in a worker, checked on a timer (0 keeps models warm)."""
    preload_models: bool = True
    """Workers load their models in the background as soon as they start (not blocking their start-up), so the
    first job pays no load time; false: each model loads on its first job."""
    worker_heartbeat_seconds: float = Field(default=5.0, gt=0)
    """How often each worker process advertises itself in Redis; it counts as gone after three missed beats."""
    random_seed: int | None = None
    """Seed each worker process's random generators (Python, NumPy, ONNX Runtime, torch, CTranslate2) with this at
    start and again before each job: a job's transcript then does not depend on what ran before it (Whisper's
    fallback temperatures sample), and the same jobs in the same order give the same audio (Piper samples noise in
    its ONNX session, which keeps its own stream). Unset: random."""
    reconcile_interval_seconds: float = Field(default=10.0, gt=0)
    """How often each API process reconciles the broker with SQL (re-sends lost and orphaned jobs)."""
    reconcile_queued_after_seconds: float = Field(default=30.0, ge=0)
    """A job queued this long whose message was never marked sent (or the broker lost) is sent again."""
    onnx_threads: int = Field(default=0, ge=0)
    """Threads one ONNX Runtime synthesis uses (Kokoro); 0: every core of the machine."""
    conditioning_cache_mb: int = Field(default=256, ge=0)
    """Per worker process: memory for cloned voices' conditioning (latents, prompts, embeddings) kept warm."""
    voice_aliases: dict[str, dict[str, str]] = Field(default_factory=lambda: dict(DEFAULT_VOICE_ALIASES))
    """Preset voice names (OpenAI's and the contract's) per model: `{"model": {"alias": "voice"}}`, as JSON. A flat
    `{"alias": "voice"}` applies to every model that has that voice. An alias resolves only on the model it is
    given for; Kokoro's default maps OpenAI's names to its voices of the same name (nova -> af_nova)."""
    model_aliases: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_MODEL_ALIASES))
    """Other model names (OpenAI's) -> a model id, as JSON. `auto` picks the preferred live (else installed) model
    of the kind the route serves, `auto:FAMILY` the same within one engine family (whisper-1 -> the best Whisper
    running). Listed in GET /v1/models with `alias_of`."""
    clone_consent: Literal["none", "attestation", "recording"] = "attestation"
    """What cloning a voice requires. `attestation`: `consent=true` or a `consent_statement`, stored with the voice;
    `recording`: that and a consent recording of the speaker reading CONSENT_PHRASE, which the clone job transcribes
    and compares with the samples' voice (thresholds in workers/consent.py and the README); `none`: nothing (a
    server whose callers collect consent themselves)."""
    consent_phrase: str = "I am the speaker of these recordings and I agree to the cloning of my voice."
    """The sentence a consent recording must say (CLONE_CONSENT=recording)."""
    default_clone_model: str | None = None
    """Model used by POST /v1/voices/clone without `model` (default: the best installed clone-capable one)."""
    stt_chunk_seconds: float = 600.0
    """Long audio is transcribed in chunks of about this many seconds (cut in pauses); bounds worker memory."""
    log_level: str = "INFO"
    """Log level of the API and workers."""
    models_on_demand: list[str] = Field(default_factory=list)
    """Models whose worker pools scale to zero (KEDA): while no worker serves one, its requests are queued (the
    autoscaler starts a worker on the queue's depth; sync requests wait their budget, then answer 202) instead of
    503 `model_unavailable`. JSON list, e.g. `["whisper-large-v3"]`."""

    secrets_key: SecretStr | None = None
    """Key (Fernet, urlsafe base64 of 32 bytes) that encrypts webhook signing secrets at rest; `s2s run` generates
    one. Without it, webhook endpoints cannot be created."""

    store: StoreSettings = Field(default_factory=StoreSettings)
    files: FileSettings = Field(default_factory=FileSettings)
    batches: BatchSettings = Field(default_factory=BatchSettings)
    webhooks: WebhookSettings = Field(default_factory=WebhookSettings)
    limits: LimitSettings = Field(default_factory=LimitSettings)
    celery: CelerySettings = Field(default_factory=CelerySettings)
    credits: CreditSettings = Field(default_factory=CreditSettings)
    rate_limits: RateLimitSettings = Field(default_factory=RateLimitSettings)

    @field_validator("voice_aliases", mode="before")
    @classmethod
    def _flat_aliases_apply_to_every_model(cls, value: object) -> object:
        if isinstance(value, str):
            import json

            value = json.loads(value)
        if isinstance(value, dict) and value and all(isinstance(v, str) for v in value.values()):
            return {"*": value}
        return value

    @model_validator(mode="after")
    def _refuse_placeholders_in_production(self) -> Settings:
        if self.environment == "production":
            token = self.admin_token.get_secret_value() if self.admin_token else ""
            if token.lower() in PLACEHOLDER_SECRETS or len(token) < 16:
                raise ValueError("ADMIN_TOKEN must be set to a real secret (16+ characters) in production")
            if self.redis_url is None:
                raise ValueError("REDIS_URL must be set in production")
        if self.secrets_key is not None and self.secrets_key.get_secret_value():
            from cryptography.fernet import Fernet

            try:
                Fernet(self.secrets_key.get_secret_value().encode())
            except ValueError as exc:
                raise ValueError(
                    "SECRETS_KEY must be a Fernet key (urlsafe base64 of 32 bytes); make one with: python -c "
                    "'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
                ) from exc
        return self

    # Derived locations -------------------------------------------------------------------------
    @property
    def resolved_data_dir(self) -> Path:
        return self.data_dir.expanduser().resolve()

    @property
    def resolved_model_dir(self) -> Path:
        return (self.model_dir or self.resolved_data_dir / "models").expanduser().resolve()

    @property
    def resolved_store_root(self) -> Path:
        return (self.store.local_root or self.resolved_data_dir / "store").expanduser().resolve()

    @property
    def sync_database_url(self) -> str:
        if self.database_url:
            return _with_driver(self.database_url, sync=True)
        return f"sqlite:///{self.resolved_data_dir / 's2s.db'}"

    @property
    def async_database_url(self) -> str:
        return _with_driver(self.sync_database_url, sync=False)

    @property
    def broker_url(self) -> str:
        if not self.redis_url:
            raise RuntimeError("REDIS_URL is not set; start with `s2s run` or point REDIS_URL at a Redis server")
        return self.redis_url

    @property
    def broker_id(self) -> str:
        """A stable name of the broker (its address and database, never its password), recorded on each job."""
        from hashlib import sha256
        from urllib.parse import urlsplit

        parts = urlsplit(self.broker_url)
        return sha256(f"{parts.hostname}:{parts.port}{parts.path}".encode()).hexdigest()[:16]

    @property
    def base_url(self) -> str:
        return (self.public_base_url or f"http://{self.host}:{self.port}").rstrip("/")


def _with_driver(url: str, *, sync: bool) -> str:
    """Map a database URL onto the driver each side uses (psycopg both ways, sqlite vs aiosqlite)."""
    scheme, sep, rest = url.partition("://")
    base = scheme.split("+", 1)[0]
    if base in ("postgres", "postgresql"):
        return f"postgresql+psycopg{sep}{rest}"
    if base == "sqlite":
        return f"sqlite{sep}{rest}" if sync else f"sqlite+aiosqlite{sep}{rest}"
    return url


@lru_cache
def get_settings() -> Settings:
    """Settings from the environment, read once per process."""
    return Settings()
