"""Voice cloning (`clone`): POST /v1/voices/clone enrolls a voice, on the `clone.<model>` queues.

Enrollment does the model-independent work once per voice (checks, loudness normalisation, transcript, speaker
embedding), then computes the clone model's own conditioning; other clone-capable models compute theirs the first
time they speak the voice.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.catalog import ModelSpec
from shared.jobkinds import JobKind
from shared.pricing import Cost, clone_cost


class CloneCreate(BaseModel):
    """The form fields of POST /v1/voices/clone (the samples are `file` or `files`)."""

    model_config = ConfigDict(populate_by_name=True)

    name: str = Field(min_length=1, max_length=200, description="Name for the cloned voice.")
    model: str | None = Field(default=None, max_length=64, description="Model to use (default: the best one live).")
    language: str | None = Field(default=None, max_length=35, description="Language code (auto-detected if unset).")
    async_: bool = Field(default=False, alias="async", description="Return 202 at once.")
    file_id: list[str] | None = Field(
        default=None, description="Uploaded files (purpose `audio`) to clone from, instead of or besides uploads."
    )
    webhook_url: str | None = Field(
        default=None, max_length=2000, description="Also send `job.*` and `voice.*` events here (signed)."
    )


class CloneJob(BaseModel):
    model_config = ConfigDict(extra="ignore")

    voice_id: str
    name: str
    language: str | None = None
    sample_keys: list[str] = Field(default_factory=list, description="The samples in the object store.")
    input_keys: list[str] = Field(
        default_factory=list, description="Samples uploaded for this job alone: deleted when it ends (files are not)."
    )

    @model_validator(mode="after")
    def _complete(self) -> CloneJob:
        if not self.sample_keys:  # rows written before sample_keys existed
            self.sample_keys = list(self.input_keys)
        return self


class CloneResult(BaseModel):
    voice_id: str
    language: str | None = None
    duration: float = Field(description="Seconds of reference audio.")
    speech_seconds: float
    transcript: str | None = None
    warnings: list[str] = Field(default_factory=list)
    conditioned: list[str] = Field(default_factory=list, description="Models whose conditioning was computed.")
    processing_seconds: float | None = None


def _flat(spec: ModelSpec, *_: object) -> Cost:
    return clone_cost(spec)


KIND = JobKind(
    name="clone",
    request=CloneJob,
    result=CloneResult,
    task="s2s.clone",
    handler="workers.handlers.clone:enroll",
    queue_family="clone",
    serves=lambda spec: spec.can_clone,
    estimate=_flat,
    actual=_flat,
)
