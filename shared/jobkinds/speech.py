"""Text to speech (`tts`): POST /v1/audio/speech, one job per request, on the `tts.<model>` queues."""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from shared.catalog import ModelSpec
from shared.jobkinds import JobKind
from shared.pricing import Cost, tts_cost
from shared.types import StrictBool, StrictNumber

AudioFormat = Literal["mp3", "wav", "ogg", "flac", "opus", "aac", "pcm"]
Emotion = Literal["neutral", "happy", "sad", "angry"]


class SpeechOptions(BaseModel):
    """What to say and how: the fields a speech request and its stored job share."""

    input: str = Field(max_length=100_000, description="Text to speak (1-5000 characters).", examples=["Hello, world!"])
    speed: StrictNumber = Field(default=1.0, ge=0.5, le=2.0, description="Speed multiplier, 0.5-2.0.")
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
    language: str | None = Field(
        default=None, max_length=35, description="Language of the text, for multilingual models."
    )
    stream: StrictBool = Field(default=False, description="Stream the audio as it is synthesised (chunked HTTP).")


class _SpeechTarget(BaseModel):
    model: str = Field(
        max_length=64, description="TTS model id, e.g. `piper` or `fish-speech-v1.5`.", examples=["piper"]
    )
    voice: str = Field(
        max_length=200, description="Preset voice name or a cloned voice id (`voice_...`).", examples=["joe"]
    )


class SpeechCreate(SpeechOptions, _SpeechTarget):
    """Text to speech. `format` and OpenAI's `response_format` are the same field."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    stream: StrictBool | None = Field(  # type: ignore[assignment]
        default=None,
        description="Stream the audio as it is synthesised (chunked HTTP). Unset: true for a request that waits "
        "(as OpenAI's route does) in every format but `wav` (whose whole file carries its length), false with "
        "`async`; `false` returns the whole file at once.",
    )
    stream_format: Literal["audio", "sse"] = Field(
        default="audio",
        description="`audio`: raw chunked audio; `sse`: Server-Sent Events with base64 deltas (asking for `sse` "
        "is enough to stream).",
    )
    async_: StrictBool = Field(
        default=False,
        alias="async",
        description="Return 202 with the job at once instead of waiting for the audio.",
    )
    webhook_url: str | None = Field(
        default=None, max_length=2000, description="Also send this job's `job.*` event here (signed, like endpoints)."
    )


class SpeechJob(SpeechOptions):
    """A speech job as stored in its row: the request with its voice resolved."""

    model_config = ConfigDict(extra="ignore")

    voice: str = Field(description="The engine's preset voice (for a cloned voice, the base voice it adapts).")
    voice_id: str | None = Field(default=None, description="The cloned voice spoken, if any.")
    requested_voice: str | None = Field(default=None, description="The `voice` as the client sent it.")


class SpeechResult(BaseModel):
    """What a finished speech job produced (the audio itself is the job's output object)."""

    duration: float = Field(description="Seconds of audio.")
    sample_rate: int
    format: AudioFormat
    bytes: int
    sha256: str | None = Field(default=None, description="Of the audio file.")
    characters: int = Field(description="Characters spoken (what is billed).")
    processing_seconds: float | None = None


def _estimate(spec: ModelSpec, job: SpeechJob) -> Cost:
    return tts_cost(spec, job.input)


def _actual(spec: ModelSpec, job: SpeechJob, result: SpeechResult | None) -> Cost:
    return tts_cost(spec, result.characters if result is not None else job.input)


KIND = JobKind(
    name="tts",
    request=SpeechJob,
    result=SpeechResult,
    task="s2s.synthesize",
    handler="workers.handlers.speech:synthesize",
    queue_family="tts",
    serves=lambda spec: spec.kind == "tts",
    estimate=_estimate,
    actual=_actual,
)
