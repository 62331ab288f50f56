"""Speech to speech (`vc`): POST /v1/audio/voice-conversions (and ElevenLabs' /v1/speech-to-speech/{voice_id}), on
the `vc.<model>` queues: speech in, the same speech out in another voice, on the source's timeline.

Two models serve it: `revoice` (every machine: the words are transcribed with their times and re-spoken by a TTS
voice, phrase by phrase, each phrase fitted to the time its source took) and `openvoice-v2` (tone-colour
conversion of the audio itself, where its weights are installed). Priced per second of input audio.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.catalog import ModelSpec
from shared.jobkinds import JobKind
from shared.jobkinds.speech import AudioFormat
from shared.pricing import Cost, stt_cost
from shared.transcripts import Transcript

DEFAULT_VC_MODEL = "revoice"
SAMPLE_RATES = (8000, 16000, 22050, 24000, 32000, 44100, 48000)
TARGET_LANGUAGES = ("en",)  # Whisper's translate task: speech in any language to English


class VoiceConversionOptions(BaseModel):
    """How to convert: the fields a conversion request and its stored job share."""

    response_format: AudioFormat = Field(
        default="mp3", description="Output format: mp3, wav, ogg (Opus in Ogg), flac, opus, aac or pcm (16-bit mono)."
    )
    sample_rate: int | None = Field(
        default=None, description="Output sample rate in Hz (8000-48000; default: the voice's own)."
    )
    diarization: bool = Field(
        default=False, description="Find the speakers and give each one its own voice (`voices`, or `auto`)."
    )
    num_speakers: int | None = Field(default=None, ge=1, le=32, description="Exact number of speakers.")
    min_speakers: int | None = Field(default=None, ge=1, le=32, description="At least this many speakers.")
    max_speakers: int | None = Field(default=None, ge=1, le=32, description="At most this many speakers.")
    language: str | None = Field(default=None, max_length=35, description="Language of the input; detected if unset.")
    target_language: Literal["en"] | None = Field(
        default=None,
        description="Dub into this language (`en`: Whisper's translate task, re-spoken on the source's timeline).",
    )
    stream: bool = Field(default=False, description="Send the audio phrase by phrase as it is produced.")


class VoiceConversionCreate(VoiceConversionOptions):
    """The form fields of POST /v1/audio/voice-conversions (the audio is `file`)."""

    model_config = ConfigDict(populate_by_name=True)

    voice: str | None = Field(
        default=None,
        max_length=200,
        description="Target voice: a preset (e.g. `af_bella`, `nova`) or a cloned voice id (`voice_...`). With "
        "diarization, the voice of every speaker `voices` does not name.",
    )
    voices: str | None = Field(
        default=None,
        max_length=4000,
        description='With diarization: a JSON object speaker -> voice, e.g. {"SPEAKER_00": "af_bella", '
        '"SPEAKER_01": "voice_abc"}, or `auto` (distinct preset voices chosen by each speaker\'s pitch).',
    )
    model: str = Field(
        default=DEFAULT_VC_MODEL,
        max_length=64,
        description="`revoice` (re-spoken by a TTS voice; every machine) or `openvoice-v2` (tone-colour conversion).",
    )
    tts_model: str | None = Field(
        default=None,
        max_length=64,
        description="revoice: the TTS model that speaks (default: the model whose voice `voice` names).",
    )
    stream_format: Literal["audio", "sse"] = Field(
        default="audio", description="`audio`: raw chunked audio; `sse`: Server-Sent Events with base64 deltas."
    )
    async_: bool = Field(default=False, alias="async", description="Return 202 with the job at once.")
    file_id: str | None = Field(
        default=None, max_length=64, description="An uploaded file (purpose `audio`) to convert instead of `file`."
    )
    webhook_url: str | None = Field(
        default=None, max_length=2000, description="Also send this job's `job.*` event here (signed, like endpoints)."
    )


class TargetVoice(BaseModel):
    """A voice resolved for the worker: the TTS model's preset (or base voice) and the cloned voice, if any."""

    model: str = Field(description="The TTS model that speaks it.")
    preset: str
    voice_id: str | None = None
    requested: str = Field(description="The voice as the client named it.")


class VoiceConversionJob(VoiceConversionOptions):
    """A conversion job as stored in its row."""

    model_config = ConfigDict(extra="ignore")

    voice: TargetVoice | None = Field(default=None, description="The voice of every speaker `voices` does not map.")
    voices: dict[str, TargetVoice] = Field(default_factory=dict, description="Speaker label -> its voice.")
    auto_voices: list[TargetVoice] = Field(
        default_factory=list, description="voices=auto: the candidate presets (with `gender` picked per speaker)."
    )
    auto_genders: dict[str, str] = Field(default_factory=dict, description="voices=auto: preset -> gender label.")
    filename: str | None = None
    header_duration: float = Field(default=0.0, description="Duration the container claims: the estimate reserved.")
    audio_key: str = Field(default="", description="The audio in the object store (an upload or a stored file).")
    input_keys: list[str] = Field(default_factory=list, description="Uploads made for this job alone.")


class Phrase(BaseModel):
    """One phrase of the output: what was said (or its translation) in which voice, where in the source and where
    it was placed."""

    start: float = Field(description="Seconds into the output where the phrase starts (its source start).")
    end: float = Field(description="Where it ends in the output.")
    source_start: float
    source_end: float
    text: str = Field(description="What the voice says (English when dubbing).")
    speaker: str | None = None
    voice: str = Field(description="The voice that speaks it (as the client named it).")
    tempo: float = Field(description="Time-stretch applied to fit the source span (1.0: none; >1: faster).")


class VoiceConversionResult(BaseModel):
    """What a finished conversion produced (the audio itself is the job's output object)."""

    duration: float = Field(description="Seconds of output audio.")
    input_duration: float = Field(description="Seconds of input audio (what is billed).")
    sample_rate: int
    format: AudioFormat
    bytes: int
    sha256: str | None = None
    method: Literal["revoice", "tone-color"] = Field(
        description="`revoice`: words re-spoken (prosody not carried over); `tone-color`: timbre converted."
    )
    language: str | None = Field(default=None, description="Language of the input (detected or given).")
    target_language: str | None = None
    voices: dict[str, str] = Field(
        default_factory=dict,
        description="Speaker -> the voice that speaks for them (without diarization: one entry, the empty name).",
    )
    pitches: dict[str, float] = Field(
        default_factory=dict,
        description="voices=auto: each speaker's median pitch (Hz); from 165 Hz up a female voice is picked.",
    )
    phrases: list[Phrase] = Field(default_factory=list)
    transcript: Transcript | None = Field(
        default=None, description="What the output says with its times (GET /v1/jobs/{id}/result?response_format=srt)."
    )
    processing_seconds: float | None = None


def _estimate(spec: ModelSpec, job: VoiceConversionJob) -> Cost:
    return stt_cost(spec, job.header_duration)


def _actual(spec: ModelSpec, job: VoiceConversionJob, result: VoiceConversionResult | None) -> Cost:
    return stt_cost(spec, result.input_duration if result is not None else job.header_duration)


KIND = JobKind(
    name="vc",
    request=VoiceConversionJob,
    result=VoiceConversionResult,
    task="s2s.convert",
    handler="workers.handlers.voice_conversion:convert",
    queue_family="vc",
    serves=lambda spec: spec.kind == "vc" or spec.converts,
    estimate=_estimate,
    actual=_actual,
)
