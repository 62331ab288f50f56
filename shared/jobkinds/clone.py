"""Voice cloning (`clone`): POST /v1/voices/clone enrolls a voice, on the `clone.<model>` queues.

Enrollment does the model-independent work once per voice (checks, loudness normalisation, transcript, speaker
embedding), then computes the clone model's own conditioning; other clone-capable models compute theirs the first
time they speak the voice.
"""

from __future__ import annotations

from typing import Any

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
    description: str | None = Field(default=None, max_length=1000, description="What the voice is, for whom.")
    labels: str | None = Field(
        default=None,
        max_length=2000,
        description='Labels as a JSON object of short strings, e.g. `{"accent": "Irish", "age": "middle aged", '
        '"gender": "female", "use_case": "narration"}`.',
    )
    consent: bool = Field(
        default=False,
        description="Attests that the speaker agreed to have their voice cloned (this or `consent_statement` is "
        "required).",
    )
    consent_statement: str | None = Field(
        default=None,
        max_length=1000,
        description="How and when the speaker agreed (stored with the voice); it also attests consent.",
    )
    consent_file_id: str | None = Field(
        default=None,
        max_length=64,
        description="The consent recording as an uploaded file (instead of the `consent_recording` upload), where "
        "the server asks for one (CLONE_CONSENT=recording).",
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
    description: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    samples: list[dict[str, Any]] = Field(default_factory=list, description="Name, seconds and file id per sample.")
    consent: dict[str, Any] | None = Field(default=None, description="How the speaker's consent was given.")
    consent_key: str | None = Field(default=None, description="The consent recording (CLONE_CONSENT=recording).")
    consent_phrase: str | None = Field(default=None, description="What the consent recording must say.")

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
    consent: dict[str, Any] | None = Field(default=None, description="The consent recording's check, when one ran.")
    preview: bool = Field(default=False, description="Whether a preview sample was generated.")
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
