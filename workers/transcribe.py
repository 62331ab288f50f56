"""The speech-to-text pipeline: one streamed decode -> one VAD pass -> silence-aligned chunks -> the STT engine
(speech only) -> diarization -> the stored Transcript.

The file is decoded once, as a stream, whatever the number of passes (the mix, or each channel with
`channels=split`); every decoded block is mapped by the VAD once (workers/speech_map.py) and that speech map feeds
the chunk cuts, the decoder (which sees only the speech regions, as faster-whisper's own VAD filter would give
it) and the diarizer. Memory stays bounded whatever the file's length: audio is processed in chunks of about
`chunk_seconds`, cut inside a pause so no word is split. The duration is what was decoded, not what the container
claims: that is what the transcript reports, what clamps its timestamps and what is billed.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from shared import audio
from shared.transcripts import Segment, SpeakerSummary, SpeakerTurn, Transcript
from workers.engines.base import InvalidInput, STTEngine, TranscribeOptions, TranscriptionInfo
from workers.engines.diarize import Diarizer, SpeakerConstraints, Turn, assign_speakers
from workers.speech_map import DIARIZATION, SAMPLE_RATE, WHISPER, SpeechMap, cut_point

BLOCK_SECONDS = 60.0
CUT_SEARCH_SECONDS = 30.0
MAX_REPEATS = 2  # identical consecutive segments kept before the rest of the run is dropped as a loop


@dataclass
class STTRequest:
    language: str | None = None
    words: bool = False
    diarization: bool = False
    constraints: SpeakerConstraints = field(default_factory=SpeakerConstraints)
    split_channels: bool = False
    prompt: str | None = None
    temperature: float | None = None
    transcribe: bool = True  # False: speaker turns only (POST /v1/audio/diarization), no decoding
    task: str = "transcribe"  # or "translate": Whisper's translation to English (POST /v1/audio/translations)
    known: dict[str, np.ndarray] = field(default_factory=dict)  # known_speakers: name -> 16 kHz reference audio
    chinese_script: str = "simplified"  # Chinese output in this script, whatever Whisper wrote


log = logging.getLogger(__name__)

# speech the VAD found that no decoded segment covers is decoded once more with these settings before giving up
RETRY_MIN_SECONDS = 1.0
RETRY_TEMPERATURE = 0.4

_NORMALIZE = re.compile(r"[^\w]+", re.UNICODE)


def _looping(segment: Segment, history: list[Segment]) -> bool:
    """A hallucination loop: the same text already came MAX_REPEATS times in a row."""
    key = _NORMALIZE.sub(" ", segment.text.lower()).strip()
    if not key:
        return True
    recent = history[-MAX_REPEATS:]
    return len(recent) == MAX_REPEATS and all(_NORMALIZE.sub(" ", s.text.lower()).strip() == key for s in recent)


@dataclass
class _Pass:
    """One transcription pass over the file (the mix, or one channel), with its own speech map."""

    channel: int | None
    options: TranscribeOptions
    speech: SpeechMap = field(default_factory=SpeechMap)
    info: TranscriptionInfo | None = None
    segments: list[Segment] = field(default_factory=list)
    speech_seconds: float = 0.0  # VAD speech sent to the decoder
    covered_seconds: float = 0.0  # of which some decoded segment overlaps
    retried: int = 0  # uncovered regions decoded a second time

    def signal(self, block: np.ndarray) -> np.ndarray:
        return block[self.channel] if self.channel is not None else block.mean(axis=0)


def _decoded_blocks(source: str | Path, mono: bool) -> Iterator[np.ndarray]:
    for block in audio.iter_decode(source, sample_rate=SAMPLE_RATE, mono=mono, chunk_seconds=BLOCK_SECONDS):
        yield block.reshape(1, -1) if block.ndim == 1 else block


def transcribe_file(
    engine: STTEngine,
    source: str | Path,
    request: STTRequest,
    *,
    expected_duration: float,
    chunk_seconds: float = 600.0,
    diarizer: Diarizer | None = None,
    on_segment: Callable[[Segment], None] | None = None,
    on_progress: Callable[[float], None] | None = None,
) -> Transcript:
    """Transcribe a whole file. `expected_duration` (the container's claim) only scales the progress."""
    base = TranscribeOptions(
        language=request.language,
        word_timestamps=request.words or request.diarization,
        initial_prompt=request.prompt,
        temperature=request.temperature,
        task=request.task,
    )
    diarizer = None if request.split_channels else diarizer
    if diarizer is not None:
        diarizer.reset()
    # the mix needs no channels unless the diarizer uses where a voice was heard as a cue
    mono = not request.split_channels and diarizer is None
    target = max(SAMPLE_RATE, int(chunk_seconds * SAMPLE_RATE))
    search = int(min(CUT_SEARCH_SECONDS, chunk_seconds / 2) * SAMPLE_RATE)
    passes: list[_Pass] = []
    pending: list[np.ndarray] = []
    pending_len = 0
    chunk_start = 0  # sample where the pending audio starts
    decoded = 0
    scale = max(expected_duration, 1e-3)

    def run_chunk(block: np.ndarray) -> None:
        nonlocal chunk_start
        offset = chunk_start / SAMPLE_RATE
        end = chunk_start + block.shape[1]
        for index, current in enumerate(passes):

            def reached(seconds: float, index: int = index) -> None:
                if on_progress:  # the file may turn out longer than its header claimed: never past 99 %
                    on_progress(min(0.99, (index + min(1.0, seconds / scale)) / len(passes)))

            speech = current.speech.view(WHISPER, chunk_start, end)
            if speech and request.transcribe:
                _decode_chunk(engine, current, current.signal(block), offset, speech, on_segment, reached)
            reached(end / SAMPLE_RATE)
        if diarizer is not None:
            mix = passes[0]
            regions = mix.speech.view(DIARIZATION, chunk_start, end)
            diarizer.add_chunk(mix.signal(block), offset, block if block.shape[0] > 1 else None, regions)
        chunk_start = end

    for block in _decoded_blocks(source, mono):
        if not passes:
            if request.split_channels and block.shape[0] < 2:
                raise InvalidInput("channels=split needs a file with two or more channels; this one is mono.")
            channels = range(block.shape[0]) if request.split_channels else [None]
            passes = [_Pass(channel=c, options=replace(base)) for c in channels]
        for current in passes:
            current.speech.extend(current.signal(block))
        decoded += block.shape[1]
        pending.append(block)
        pending_len += block.shape[1]
        while pending_len >= target + search:
            buffer = np.concatenate(pending, axis=1)
            cut = cut_point([p.speech for p in passes], chunk_start, target, search) - chunk_start
            run_chunk(buffer[:, :cut])
            rest = buffer[:, cut:]
            pending, pending_len = [rest], rest.shape[1]
    if pending_len:
        run_chunk(np.concatenate(pending, axis=1))
    duration = round(decoded / SAMPLE_RATE, 3)
    return _transcript(passes, request, duration, diarizer)


def _uncovered(speech: list[tuple[float, float]], segments: list[Segment], offset: float) -> list[tuple[float, float]]:
    """The speech regions (seconds from the chunk's start) that no segment overlaps."""
    spans = [(s.start - offset, s.end - offset) for s in segments]
    return [(a, b) for a, b in speech if not any(s < b and e > a for s, e in spans)]


def _decode_chunk(
    engine: STTEngine,
    current: _Pass,
    samples: np.ndarray,
    offset: float,
    speech: list[tuple[float, float]],
    on_segment: Callable[[Segment], None] | None,
    reached: Callable[[float], None],
) -> None:
    segments_iter, chunk_info = engine.transcribe(samples, replace(current.options, speech=speech))
    if current.info is None:
        current.info = chunk_info
        # later chunks keep the language found at the start, and the prompt only guides the start
        current.options = replace(current.options, language=chunk_info.language, initial_prompt=None)
    first = len(current.segments)
    _take(current, segments_iter, offset, on_segment, reached)
    missed = [(a, b) for a, b in _uncovered(speech, current.segments[first:], offset) if b - a >= RETRY_MIN_SECONDS]
    for a, b in missed:  # once, with fallback settings: a warmer start and no prompt
        retry, _ = engine.transcribe(
            samples, replace(current.options, speech=[(a, b)], temperature=RETRY_TEMPERATURE, initial_prompt=None)
        )
        _take(current, retry, offset, on_segment, reached)
        current.retried += 1
    current.speech_seconds += sum(b - a for a, b in speech)
    uncovered = _uncovered(speech, current.segments[first:], offset)
    current.covered_seconds += sum(b - a for a, b in speech) - sum(b - a for a, b in uncovered)


def _take(
    current: _Pass,
    segments_iter: Iterator[Segment],
    offset: float,
    on_segment: Callable[[Segment], None] | None,
    reached: Callable[[float], None],
) -> None:
    for segment in segments_iter:
        segment = segment.shifted(offset)
        if _looping(segment, current.segments):
            continue
        segment.channel = current.channel
        if current.channel is not None:
            segment.speaker = f"SPEAKER_{current.channel:02d}"
        current.segments.append(segment)
        if on_segment:
            on_segment(segment)
        reached(segment.end)


def _transcript(passes: list[_Pass], request: STTRequest, duration: float, diarizer: Diarizer | None) -> Transcript:
    segments = sorted((s for p in passes for s in p.segments), key=lambda s: (s.start, s.channel or 0))
    backend = None
    turns: list[Turn] | None = None
    if request.split_channels:
        backend = "channels"
    elif diarizer is not None:
        turns = diarizer.finish(request.constraints)
        identify = getattr(diarizer, "identify", None)
        if request.known and identify is not None:  # speakers who sound like a known voice take its name
            named = identify(request.known)
            turns = [replace(t, speaker=named[t.speaker][0]) if t.speaker in named else t for t in turns]
        segments = assign_speakers(segments, turns)
        backend = diarizer.name
    for i, segment in enumerate(segments):
        segment.id = i
        # Whisper's 20 ms timestamp grid can overshoot the end of the audio a little
        segment.end = min(segment.end, duration)
        segment.start = min(segment.start, segment.end)
        for word in segment.words or []:
            word.end = min(word.end, duration)
            word.start = min(word.start, word.end)
        if not request.words:
            segment.words = None
    first = next((p.info for p in passes if p.info is not None), None)
    speech = sum(p.speech_seconds for p in passes)
    coverage = round(sum(p.covered_seconds for p in passes) / speech, 4) if speech > 0 else None
    if any(p.retried for p in passes):
        log.info("retried %d uncovered speech regions; coverage %s", sum(p.retried for p in passes), coverage)
    if (first.language if first else request.language) == "zh":
        _convert_script(segments, request.chinese_script)
    return Transcript(
        text=" ".join(s.text for s in segments if s.text).strip(),
        language=first.language if first else request.language,
        language_probability=first.language_probability if first else None,
        duration=duration,
        segments=segments,
        diarization=backend,
        speakers=_speaker_summary(segments, turns) if backend else None,
        turns=[SpeakerTurn(start=float(t.start), end=float(t.end), speaker=t.speaker) for t in turns]
        if turns
        else None,
        coverage=coverage,
    )


def _convert_script(segments: list[Segment], script: str) -> None:
    """Whisper writes Chinese in either script, even within a file: convert every text to the one asked for
    (OpenCC's character and phrase tables)."""
    try:
        import opencc
    except ImportError:  # the cpu extra carries it; without it the text stays as decoded
        log.warning("opencc is not installed: Chinese text is left in the script Whisper wrote")
        return
    converter = opencc.OpenCC("s2t" if script == "traditional" else "t2s")
    for segment in segments:
        segment.text = converter.convert(segment.text)
        for word in segment.words or []:
            word.word = converter.convert(word.word)


def _speaker_summary(segments: list[Segment], turns: list[Turn] | None = None) -> list[SpeakerSummary]:
    """Who spoke and for how long: from the diarization's turns (heard in the audio, overlaps included) when there
    are any, else from the labelled segments (split channels)."""
    totals: dict[str, float] = {}
    for speaker, start, end in (
        [(t.speaker, t.start, t.end) for t in turns] if turns else [(s.speaker, s.start, s.end) for s in segments]
    ):
        if speaker:
            totals[speaker] = totals.get(speaker, 0.0) + max(0.0, end - start)
    return [SpeakerSummary(id=name, speaking_seconds=round(seconds, 3)) for name, seconds in sorted(totals.items())]
