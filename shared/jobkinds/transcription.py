"""Speech to text (`stt`): POST /v1/audio/transcriptions, on the `stt.<model>` queues; the result is a Transcript."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.catalog import DEFAULT_STT_MODEL, ModelSpec
from shared.jobkinds import JobKind
from shared.pricing import Cost, stt_cost
from shared.transcripts import ResponseFormat, Transcript, TranscriptionPublic, to_json

Granularity = Literal["word", "segment"]


class TranscriptionOptions(BaseModel):
    """How to transcribe: the fields a transcription request and its stored job share."""

    language: str | None = Field(default=None, max_length=35, description="ISO 639-1 code; detected when unset.")
    diarization: bool = Field(default=False, description="Label segments and words with speakers.")
    response_format: ResponseFormat = Field(
        default="json",
        description="json, verbose_json, text, srt, vtt, diarized_json, or rttm (the speaker turns as NIST RTTM; "
        "implies diarization).",
    )
    prompt: str | None = Field(default=None, max_length=2000, description="Text to guide style and vocabulary.")
    temperature: float | None = Field(default=None, ge=0.0, le=1.0, description="Sampling temperature.")
    stream: bool = Field(default=False, description="Stream text deltas as Server-Sent Events.")
    num_speakers: int | None = Field(default=None, ge=1, le=32, description="Exact number of speakers.")
    min_speakers: int | None = Field(default=None, ge=1, le=32, description="At least this many speakers.")
    max_speakers: int | None = Field(default=None, ge=1, le=32, description="At most this many speakers.")
    channels: Literal["mix", "split"] = Field(
        default="mix", description="mix: downmix to mono; split: transcribe each channel apart."
    )
    chinese_script: Literal["simplified", "traditional"] | None = Field(
        default=None,
        description="Script of Chinese text: simplified or traditional (default: traditional for zh-TW, zh-HK, "
        "zh-MO and zh-Hant, else simplified).",
    )
    known_speakers: list[str] | None = Field(
        default=None,
        max_length=8,
        description="Up to 8 voice ids of your voice library: a detected speaker who sounds like one is labelled "
        "with that voice's name instead of SPEAKER_NN (implies diarization).",
    )
    known_speaker_names: list[str] | None = Field(
        default=None,
        alias="known_speaker_names[]",
        max_length=8,
        description="OpenAI-style: names of the speakers in known_speaker_references[], in the same order.",
    )
    known_speaker_references: list[str] | None = Field(
        default=None,
        alias="known_speaker_references[]",
        max_length=8,
        description="OpenAI-style: a short recording (1-30 s) of each named speaker as a data URL "
        "(`data:audio/wav;base64,...`, at most 700 kB decoded); matching speakers get the name (implies diarization).",
    )


class TranscriptionCreate(TranscriptionOptions):
    """The form fields of POST /v1/audio/transcriptions (the audio is `file`)."""

    model_config = ConfigDict(populate_by_name=True)

    model: str = Field(default=DEFAULT_STT_MODEL, max_length=64, description="STT model id (default: whisper-base).")
    timestamps: Granularity | None = Field(default=None, description="Timestamp granularity: word or segment.")
    timestamp_granularities: list[Granularity] | None = Field(
        default=None, alias="timestamp_granularities[]", description="OpenAI-style: word and/or segment."
    )
    async_: bool = Field(default=False, alias="async", description="Return 202 with the job at once.")
    file_id: str | None = Field(
        default=None, max_length=64, description="An uploaded file (purpose `audio`) to transcribe instead of `file`."
    )
    webhook_url: str | None = Field(
        default=None, max_length=2000, description="Also send this job's `job.*` event here (signed, like endpoints)."
    )

    @property
    def words(self) -> bool:
        return self.timestamps == "word" or "word" in (self.timestamp_granularities or [])


class KnownSpeaker(BaseModel):
    """A voice a transcription may recognise: one of the account's library, or a reference sent with the request."""

    voice_id: str | None = None
    name: str
    reference_key: str


class _UploadJob(BaseModel):
    """Fields every upload-to-job form shares beside the audio."""

    model_config = ConfigDict(populate_by_name=True)

    async_: bool = Field(default=False, alias="async", description="Return 202 with the job at once.")
    file_id: str | None = Field(
        default=None, max_length=64, description="An uploaded file (purpose `audio`) instead of `file`."
    )
    webhook_url: str | None = Field(
        default=None, max_length=2000, description="Also send this job's `job.*` event here (signed, like endpoints)."
    )


class DiarizationCreate(_UploadJob):
    """The form fields of POST /v1/audio/diarization: who spoke when, no transcript (the audio is `file`)."""

    model_config = ConfigDict(populate_by_name=True)

    model: str = Field(
        default=DEFAULT_STT_MODEL, max_length=64, description="STT model whose workers run it (no text is decoded)."
    )
    response_format: Literal["json", "rttm"] = Field(default="json", description="json (turns) or rttm (NIST RTTM).")
    num_speakers: int | None = Field(default=None, ge=1, le=32, description="Exact number of speakers.")
    min_speakers: int | None = Field(default=None, ge=1, le=32, description="At least this many speakers.")
    max_speakers: int | None = Field(default=None, ge=1, le=32, description="At most this many speakers.")
    known_speakers: list[str] | None = Field(
        default=None, max_length=8, description="Up to 8 voice ids: matching speakers get the voice's name."
    )
    known_speaker_names: list[str] | None = Field(
        default=None, alias="known_speaker_names[]", max_length=8, description="Names for known_speaker_references[]."
    )
    known_speaker_references: list[str] | None = Field(
        default=None,
        alias="known_speaker_references[]",
        max_length=8,
        description="A 1-30 s recording of each named speaker as a data URL (`data:audio/wav;base64,...`, <= 700 kB).",
    )

    def as_transcription(self) -> TranscriptionCreate:
        return TranscriptionCreate(  # type: ignore[call-arg]  # populate_by_name: async_ is the field's name
            model=self.model,
            diarization=True,
            response_format="rttm" if self.response_format == "rttm" else "json",
            num_speakers=self.num_speakers,
            min_speakers=self.min_speakers,
            max_speakers=self.max_speakers,
            known_speakers=self.known_speakers,
            known_speaker_names=self.known_speaker_names,
            known_speaker_references=self.known_speaker_references,
            async_=self.async_,
            file_id=self.file_id,
            webhook_url=self.webhook_url,
        )


class TranslationCreate(_UploadJob):
    """The form fields of POST /v1/audio/translations (OpenAI's): speech in any language to English text."""

    model_config = ConfigDict(populate_by_name=True)

    model: str = Field(default=DEFAULT_STT_MODEL, max_length=64, description="A multilingual STT model.")
    prompt: str | None = Field(default=None, max_length=2000, description="Text (in English) to guide the style.")
    response_format: Literal["json", "text", "srt", "verbose_json", "vtt"] = Field(
        default="json", description="json, text, srt, verbose_json or vtt."
    )
    temperature: float | None = Field(default=None, ge=0.0, le=1.0, description="Sampling temperature.")

    def as_transcription(self) -> TranscriptionCreate:
        return TranscriptionCreate(  # type: ignore[call-arg]  # populate_by_name: async_ is the field's name
            model=self.model,
            prompt=self.prompt,
            response_format=self.response_format,
            temperature=self.temperature,
            async_=self.async_,
            file_id=self.file_id,
            webhook_url=self.webhook_url,
        )


class TranscriptionJob(TranscriptionOptions):
    """A transcription job as stored in its row."""

    model_config = ConfigDict(extra="ignore")

    words: bool = Field(default=False, description="Word timestamps were asked for.")
    filename: str | None = None
    header_duration: float = Field(
        default=0.0, description="Duration the container claims: the estimate reserved and the progress scale."
    )
    audio_key: str = Field(default="", description="The audio in the object store (an upload or a stored file).")
    speakers_only: bool = Field(default=False, description="Diarization only: speaker turns, no transcript.")
    known: list[KnownSpeaker] = Field(default_factory=list, description="The known_speakers, resolved.")
    task: Literal["transcribe", "translate"] = Field(
        default="transcribe", description="translate: English text from speech in any language (Whisper's task)."
    )
    input_keys: list[str] = Field(
        default_factory=list, description="Uploads made for this job alone: deleted when it ends (a file is not)."
    )

    @property
    def rttm_uri(self) -> str:
        """The file id of its RTTM lines: the upload's name without folder or extension."""
        return self.filename.rsplit("/", 1)[-1].rsplit(".", 1)[0] if self.filename else "audio"

    @model_validator(mode="after")
    def _complete(self) -> TranscriptionJob:
        if self.response_format in ("diarized_json", "rttm") or self.known_speakers or self.known:
            self.diarization = True
        if not self.audio_key and self.input_keys:  # rows written before audio_key existed
            self.audio_key = self.input_keys[0]
        return self


def _estimate(spec: ModelSpec, job: TranscriptionJob) -> Cost:
    return stt_cost(spec, job.header_duration)


def _actual(spec: ModelSpec, job: TranscriptionJob, result: Transcript | None) -> Cost:
    return stt_cost(spec, result.duration if result is not None else job.header_duration)


def _public(job: TranscriptionJob, result: Transcript) -> TranscriptionPublic:
    return to_json(result, words=job.words)


KIND = JobKind(
    name="stt",
    request=TranscriptionJob,
    result=Transcript,
    task="s2s.transcribe",
    handler="workers.handlers.transcription:transcribe",
    queue_family="stt",
    serves=lambda spec: spec.kind == "stt",
    estimate=_estimate,
    actual=_actual,
    public_result=_public,
)
