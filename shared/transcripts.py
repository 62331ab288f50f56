"""A transcript's one stored shape, and every public shape rendered from it.

The worker stores a `Transcript` (segments with their words, speakers and decoder statistics) in the job row; the
API renders it as `json` (the contract's shape, `TranscriptionPublic`), `verbose_json` (OpenAI's), `diarized_json`,
`text`, `srt`, `vtt` or `rttm` (the diarization's speaker turns, NIST RTTM), synchronously or later from the job
row. `GET /v1/jobs/{id}` shows the `json` rendering,
never the storage shape.
"""

from __future__ import annotations

import json
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ResponseFormat = Literal["json", "verbose_json", "text", "srt", "vtt", "diarized_json", "rttm"]
RESPONSE_FORMATS: tuple[str, ...] = ("json", "verbose_json", "text", "srt", "vtt", "diarized_json", "rttm")
MEDIA_TYPES = {
    "json": "application/json",
    "verbose_json": "application/json",
    "diarized_json": "application/json",
    "text": "text/plain; charset=utf-8",
    "srt": "application/x-subrip; charset=utf-8",
    "vtt": "text/vtt; charset=utf-8",
    "rttm": "text/plain; charset=utf-8",
}


# --- the stored shape -------------------------------------------------------------------------------------------
class Word(BaseModel):
    start: float
    end: float
    word: str
    probability: float | None = None
    speaker: str | None = None


class Segment(BaseModel):
    id: int
    start: float
    end: float
    text: str
    speaker: str | None = None
    channel: int | None = None
    words: list[Word] | None = None  # None when word timestamps were not asked for
    avg_logprob: float | None = None
    no_speech_prob: float | None = None
    compression_ratio: float | None = None
    temperature: float | None = None
    seek: int | None = None

    def shifted(self, offset: float) -> Segment:
        """The same segment on the file's timeline when it was decoded from a chunk starting at `offset`."""
        if offset:
            self.start = round(self.start + offset, 3)
            self.end = round(self.end + offset, 3)
            for w in self.words or []:
                w.start = round(w.start + offset, 3)
                w.end = round(w.end + offset, 3)
        return self


class SpeakerSummary(BaseModel):
    id: str
    speaking_seconds: float


class SpeakerTurn(BaseModel):
    """Who spoke when, as the diarization heard it in the audio (turns of different speakers may overlap)."""

    start: float
    end: float
    speaker: str


class Transcript(BaseModel):
    """What a transcription job stores: the complete result, whatever format the client asked for."""

    text: str
    language: str | None = None
    language_probability: float | None = None
    duration: float = Field(description="Seconds of audio decoded (what is billed).")
    segments: list[Segment] = Field(default_factory=list)
    speakers: list[SpeakerSummary] | None = None
    turns: list[SpeakerTurn] | None = None  # the diarization's own turns (None: no diarization, or split channels)
    coverage: float | None = Field(
        default=None, description="Share of the VAD speech some decoded segment overlaps (after one retry)."
    )
    diarization: str | None = Field(default=None, description="How speakers were found: a pipeline or `channels`.")
    processing_seconds: float | None = None

    def words(self) -> list[Word]:
        return [w for seg in self.segments for w in (seg.words or [])]


# --- public shapes --------------------------------------------------------------------------------------------
class _Public(BaseModel):
    model_config = ConfigDict(extra="forbid")


class WordPublic(_Public):
    start: float
    end: float
    word: str
    probability: float | None = None
    speaker: str | None = None


class SegmentPublic(_Public):
    id: int
    start: float
    end: float
    text: str
    speaker: str | None = None
    channel: int | None = Field(default=None, description="The channel it was heard on (`channels=split`).")
    words: list[WordPublic] | None = Field(default=None, description="With word timestamps: this segment's words.")


class TranscriptionPublic(_Public):
    """The contract's transcription (`response_format=json`)."""

    text: str
    language: str | None = None
    language_probability: float | None = None
    duration: float | None = None
    segments: list[SegmentPublic] = Field(default_factory=list)
    words: list[WordPublic] | None = Field(default=None, description="With word timestamps: every word, in order.")
    speakers: list[SpeakerSummary] | None = Field(default=None, description="With diarization: who spoke how long.")


class VerboseSegment(_Public):
    id: int
    seek: int = 0
    start: float
    end: float
    text: str
    tokens: list[int] = Field(default_factory=list)
    temperature: float | None = None
    avg_logprob: float | None = None
    compression_ratio: float | None = None
    no_speech_prob: float | None = None
    speaker: str | None = None
    channel: int | None = None
    words: list[WordPublic] | None = None


class VerboseTranscription(_Public):
    """OpenAI's `verbose_json`, plus speaker labels and the language probability."""

    task: Literal["transcribe"] = "transcribe"
    language: str | None = None
    language_probability: float | None = None
    duration: float | None = None
    text: str
    segments: list[VerboseSegment] = Field(default_factory=list)
    words: list[WordPublic] | None = None
    speakers: list[SpeakerSummary] | None = None
    coverage: float | None = Field(
        default=None, description="Share of the detected speech that some segment covers (1.0: nothing skipped)."
    )


class DiarizedSegment(_Public):
    type: Literal["transcript.text.segment"] = "transcript.text.segment"
    id: int
    start: float
    end: float
    text: str
    speaker: str | None = None


class DiarizedTranscription(_Public):
    """`diarized_json`: segments labelled with speakers, as OpenAI's diarizing transcription model returns."""

    task: Literal["transcribe"] = "transcribe"
    language: str | None = None
    duration: float | None = None
    text: str
    segments: list[DiarizedSegment] = Field(default_factory=list)
    speakers: list[SpeakerSummary] = Field(default_factory=list)


# --- rendering ------------------------------------------------------------------------------------------------
def _word(w: Word) -> WordPublic:
    return WordPublic(start=w.start, end=w.end, word=w.word, probability=w.probability, speaker=w.speaker)


def to_json(transcript: Transcript, *, words: bool) -> TranscriptionPublic:
    """The contract's shape; with `words`, every word at the top level and each segment's under it."""
    segments = [
        SegmentPublic(
            id=s.id,
            start=s.start,
            end=s.end,
            text=s.text,
            speaker=s.speaker,
            channel=s.channel,
            words=[_word(w) for w in (s.words or [])] if words else None,
        )
        for s in transcript.segments
    ]
    return TranscriptionPublic(
        text=transcript.text,
        language=transcript.language,
        language_probability=transcript.language_probability,
        duration=transcript.duration,
        segments=segments,
        words=[_word(w) for w in transcript.words()] if words else None,
        speakers=transcript.speakers,
    )


def to_verbose_json(transcript: Transcript, *, words: bool) -> VerboseTranscription:
    segments = [
        VerboseSegment(
            id=s.id,
            seek=s.seek or 0,
            start=s.start,
            end=s.end,
            text=s.text,
            temperature=s.temperature,
            avg_logprob=s.avg_logprob,
            compression_ratio=s.compression_ratio,
            no_speech_prob=s.no_speech_prob,
            speaker=s.speaker,
            channel=s.channel,
            words=[_word(w) for w in (s.words or [])] if words else None,
        )
        for s in transcript.segments
    ]
    return VerboseTranscription(
        language=transcript.language,
        language_probability=transcript.language_probability,
        duration=transcript.duration,
        text=transcript.text,
        segments=segments,
        words=[_word(w) for w in transcript.words()] if words else None,
        speakers=transcript.speakers,
        coverage=transcript.coverage,
    )


def to_diarized_json(transcript: Transcript) -> DiarizedTranscription:
    return DiarizedTranscription(
        language=transcript.language,
        duration=transcript.duration,
        text=transcript.text,
        segments=[
            DiarizedSegment(id=s.id, start=s.start, end=s.end, text=s.text, speaker=s.speaker)
            for s in transcript.segments
        ],
        speakers=transcript.speakers or [],
    )


def to_text(transcript: Transcript) -> str:
    segments = transcript.segments
    if not any(s.speaker for s in segments):
        return transcript.text.strip() + "\n"
    lines: list[str] = []
    for seg in segments:
        if lines and lines[-1].startswith(f"{seg.speaker}: "):
            lines[-1] += " " + seg.text
        else:
            lines.append(f"{seg.speaker}: {seg.text}")
    return "\n".join(lines) + "\n"


def _timestamp(seconds: float, sep: str) -> str:
    ms = max(0, round(seconds * 1000))
    hours, ms = divmod(ms, 3_600_000)
    minutes, ms = divmod(ms, 60_000)
    secs, ms = divmod(ms, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{sep}{ms:03d}"


def to_srt(transcript: Transcript) -> str:
    cues = []
    for i, seg in enumerate(transcript.segments, start=1):
        label = f"[{seg.speaker}] " if seg.speaker else ""
        cues.append(f"{i}\n{_timestamp(seg.start, ',')} --> {_timestamp(seg.end, ',')}\n{label}{seg.text}\n")
    return "\n".join(cues)


def to_vtt(transcript: Transcript) -> str:
    cues = ["WEBVTT\n"]
    for seg in transcript.segments:
        text = f"<v {seg.speaker}>{seg.text}" if seg.speaker else seg.text
        cues.append(f"{_timestamp(seg.start, '.')} --> {_timestamp(seg.end, '.')}\n{text}\n")
    return "\n".join(cues)


def to_rttm(transcript: Transcript, uri: str = "audio") -> str:
    """NIST RTTM: one SPEAKER line per turn (the diarization's turns; else the speaker-labelled segments)."""
    turns = transcript.turns or [
        SpeakerTurn(start=s.start, end=s.end, speaker=s.speaker) for s in transcript.segments if s.speaker
    ]
    name = "".join(c if c.isalnum() or c in "-_." else "_" for c in uri) or "audio"
    return "".join(
        f"SPEAKER {name} 1 {t.start:.3f} {max(0.0, t.end - t.start):.3f} <NA> <NA> {t.speaker} <NA> <NA>\n"
        for t in sorted(turns, key=lambda t: (t.start, t.end))
        if t.end > t.start
    )


class SpeakerTurnPublic(_Public):
    start: float
    end: float
    speaker: str


class DiarizationPublic(_Public):
    """POST /v1/audio/diarization: who spoke when (turns of different speakers may overlap)."""

    duration: float
    speakers: list[SpeakerSummary]
    turns: list[SpeakerTurnPublic]
    diarization: str | None = Field(default=None, description="The pipeline that found the speakers.")


def to_diarization(transcript: Transcript) -> DiarizationPublic:
    return DiarizationPublic(
        duration=transcript.duration,
        speakers=list(transcript.speakers or []),
        turns=[SpeakerTurnPublic(start=t.start, end=t.end, speaker=t.speaker) for t in transcript.turns or []],
        diarization=transcript.diarization,
    )


TranscriptionBody = TranscriptionPublic | VerboseTranscription | DiarizedTranscription


def render_model(transcript: Transcript, fmt: str, *, words: bool = False) -> TranscriptionBody:
    """The JSON formats as their public models."""
    if fmt == "json":
        return to_json(transcript, words=words)
    if fmt == "verbose_json":
        return to_verbose_json(transcript, words=words)
    if fmt == "diarized_json":
        return to_diarized_json(transcript)
    raise ValueError(f"'{fmt}' is not a JSON response format")


def render(transcript: Transcript, fmt: str, *, words: bool = False, uri: str = "audio") -> tuple[str, str]:
    """(body, media type) of a transcript in one of RESPONSE_FORMATS."""
    if fmt in ("json", "verbose_json", "diarized_json"):
        body = render_model(transcript, fmt, words=words).model_dump(mode="json", exclude_none=True)
        return json.dumps(body, ensure_ascii=False), MEDIA_TYPES[fmt]
    if fmt == "text":
        return to_text(transcript), MEDIA_TYPES[fmt]
    if fmt == "srt":
        return to_srt(transcript), MEDIA_TYPES[fmt]
    if fmt == "vtt":
        return to_vtt(transcript), MEDIA_TYPES[fmt]
    if fmt == "rttm":
        return to_rttm(transcript, uri), MEDIA_TYPES[fmt]
    raise ValueError(f"unknown response format {fmt!r}")
