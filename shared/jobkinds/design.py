"""Closest stock voice (`design`): POST /v1/voices/design, on the `design.<model>` queues of models whose voices
blend (Kokoro). Not cloning: the reference's speaker embedding picks the model's most similar stock voices, and
the voice is their blend; nothing of the reference is spoken."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.jobkinds import JobKind
from shared.pricing import Cost


class DesignCreate(BaseModel):
    """The form fields of POST /v1/voices/design (the reference is `file` or `file_id`)."""

    model_config = ConfigDict(populate_by_name=True)

    name: str = Field(min_length=1, max_length=200, description="Name for the designed voice.")
    model: str | None = Field(
        default=None, max_length=64, description="A model whose voices blend (default: `kokoro`)."
    )
    language: str | None = Field(
        default=None, max_length=35, description="Only stock voices of this language (default: every voice)."
    )
    gender: Literal["female", "male"] | None = Field(
        default=None, description="Only stock voices of this gender (default: both)."
    )
    blend: int = Field(default=2, ge=1, le=4, description="How many stock voices to mix (1: the closest alone).")
    file_id: str | None = Field(default=None, max_length=64, description="An uploaded audio file as the reference.")
    description: str | None = Field(default=None, max_length=1000)
    async_: bool = Field(default=False, alias="async", description="Return 202 at once.")


class DesignJob(BaseModel):
    model_config = ConfigDict(extra="ignore")

    voice_id: str
    name: str
    language: str | None = None
    gender: str | None = None
    blend: int = 2
    sample_keys: list[str] = Field(default_factory=list)
    input_keys: list[str] = Field(default_factory=list, description="Uploaded for this job alone.")


class Candidate(BaseModel):
    voice: str
    similarity: float = Field(description="CAM++ cosine similarity of the stock voice to the reference.")


class DesignResult(BaseModel):
    voice_id: str
    voice: str = Field(description="The stock voice or blend chosen, e.g. `af_bella(0.7)+af_sky(0.3)`.")
    similarity: dict[str, float] = Field(
        description="Similarity of speech in the chosen voice to the reference, per speaker encoder."
    )
    candidates: list[Candidate] = Field(description="The closest stock voices, most similar first.")
    processing_seconds: float | None = None


def _free(*_: object) -> Cost:
    return Cost(0)


KIND = JobKind(
    name="design",
    request=DesignJob,
    result=DesignResult,
    task="s2s.design",
    handler="workers.handlers.design:design",
    queue_family="design",
    serves=lambda spec: spec.voice_blends,
    estimate=_free,
    actual=_free,
)
