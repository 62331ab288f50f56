"""The speech-to-text pipeline: streamed decode -> silence-aligned chunks -> Whisper -> diarization -> result.

Memory stays bounded whatever the file's length: audio is decoded in blocks and processed in chunks of about
`chunk_seconds`, cut inside a pause so no word is split. Segments are handed to `on_segment` as soon as they
are decoded (streaming), progress to `on_progress`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from shared import audio
from workers.engines.base import InvalidInput, Segment, STTEngine, TranscribeOptions, TranscriptionInfo
from workers.engines.diarize import Diarizer, SpeakerConstraints, assign_speakers, speech_regions

SAMPLE_RATE = 16000
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


def silence_aligned_chunks(
    source: str | Path, *, chunk_seconds: float, mono: bool = False
) -> Iterator[tuple[float, np.ndarray]]:
    """(offset seconds, samples (channels, n)) chunks of about chunk_seconds, cut in the longest nearby pause."""
    target = int(chunk_seconds * SAMPLE_RATE)
    buffer: np.ndarray | None = None
    offset = 0
    block_seconds = min(60.0, chunk_seconds)
    for block in audio.iter_decode(source, sample_rate=SAMPLE_RATE, mono=mono, chunk_seconds=block_seconds):
        block = block.reshape(1, -1) if block.ndim == 1 else block
        buffer = block if buffer is None else np.concatenate([buffer, block], axis=1)
        while buffer.shape[1] >= target:
            cut = _cut_point(buffer[:, :target].mean(axis=0))
            yield offset / SAMPLE_RATE, buffer[:, :cut]
            offset += cut
            buffer = buffer[:, cut:]
    if buffer is not None and buffer.shape[1]:
        yield offset / SAMPLE_RATE, buffer


def _cut_point(mono: np.ndarray) -> int:
    """Sample index to cut at: the middle of the longest pause in the last CUT_SEARCH_SECONDS, else the end."""
    search = min(len(mono), int(CUT_SEARCH_SECONDS * SAMPLE_RATE))
    start = len(mono) - search
    regions = speech_regions(mono[start:], min_silence_ms=300, pad_ms=0)
    edges = [0.0] + [t for r in regions for t in r] + [search / SAMPLE_RATE]
    gaps = [(edges[i + 1] - edges[i], (edges[i] + edges[i + 1]) / 2) for i in range(0, len(edges) - 1, 2)]
    if not regions or not gaps:
        return len(mono)
    length, middle = max(gaps)
    if length < 0.2:
        return len(mono)
    return start + int(middle * SAMPLE_RATE)


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
    """One transcription pass over the file (the mix, or one channel)."""

    channel: int | None
    options: TranscribeOptions
    info: TranscriptionInfo | None = None
    segments: list[Segment] = field(default_factory=list)


def transcribe_file(
    engine: STTEngine,
    source: str | Path,
    request: STTRequest,
    *,
    duration: float,
    chunk_seconds: float = 600.0,
    diarizer: Diarizer | None = None,
    on_segment: Callable[[Segment], None] | None = None,
    on_progress: Callable[[float], None] | None = None,
) -> dict[str, Any]:
    """Transcribe a whole file; returns the stored result (text, language, duration, segments, speakers)."""
    base = TranscribeOptions(
        language=request.language,
        word_timestamps=request.words or request.diarization,
        initial_prompt=request.prompt,
        temperature=request.temperature,
    )
    # only a per-channel pass needs the layout up front; the mix is decoded straight away
    channels = audio.probe(source).channels if request.split_channels else 1
    if request.split_channels and channels < 2:
        raise InvalidInput("channels=split needs a file with two or more channels; this one is mono.")
    passes = [_Pass(channel=c if request.split_channels else None, options=replace(base)) for c in range(channels)]
    total = max(duration, 1e-3) * len(passes)
    if diarizer is not None and not request.split_channels:
        diarizer.reset()

    for index, current in enumerate(passes):
        done_before = index * max(duration, 1e-3)
        for offset, block in silence_aligned_chunks(source, chunk_seconds=chunk_seconds):
            samples = block[current.channel] if current.channel is not None else block.mean(axis=0)
            segments_iter, chunk_info = engine.transcribe(samples, current.options)
            if current.info is None:
                current.info = chunk_info
                # later chunks keep the language found at the start, and the prompt only guides the start
                current.options = replace(current.options, language=chunk_info.language, initial_prompt=None)
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
                if on_progress:
                    on_progress(min(0.99, (done_before + segment.end) / total))
            if diarizer is not None and current.channel is None:
                diarizer.add_chunk(samples, offset, block if block.shape[0] > 1 else None)
            if on_progress:
                on_progress(min(0.99, (done_before + offset + block.shape[1] / SAMPLE_RATE) / total))

    segments = sorted((s for p in passes for s in p.segments), key=lambda s: (s.start, s.channel or 0))
    backend = None
    if request.split_channels:
        backend = "channels"
    elif diarizer is not None:
        turns = diarizer.finish(request.constraints)
        segments = assign_speakers(segments, turns)
        backend = diarizer.name
    for i, segment in enumerate(segments):
        segment.id = i
        # Whisper's 20 ms timestamp grid can overshoot the end of the audio a little
        segment.end = min(segment.end, round(duration, 3))
        segment.start = min(segment.start, segment.end)
        for word in segment.words or []:
            word.end = min(word.end, round(duration, 3))
            word.start = min(word.start, word.end)
        if not request.words:
            segment.words = None
    first = passes[0].info or TranscriptionInfo(
        language=request.language or "en", language_probability=0.0, duration=duration
    )
    result: dict[str, Any] = {
        "text": " ".join(s.text for s in segments if s.text).strip(),
        "language": first.language,
        "language_probability": first.language_probability,
        "duration": round(duration, 3),
        "segments": [s.to_dict() for s in segments],
    }
    if backend:
        result["diarization"] = backend
        result["speakers"] = _speaker_summary(segments)
    return result


def _speaker_summary(segments: list[Segment]) -> list[dict[str, Any]]:
    totals: dict[str, float] = {}
    for seg in segments:
        if seg.speaker:
            totals[seg.speaker] = totals.get(seg.speaker, 0.0) + max(0.0, seg.end - seg.start)
    return [{"id": name, "speaking_seconds": round(seconds, 3)} for name, seconds in sorted(totals.items())]
