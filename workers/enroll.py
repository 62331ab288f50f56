"""Voice enrollment's model-independent part: check a reference recording, normalise it, measure its speaker.

A reference must be real, unclipped speech of 3-120 s (10-30 s recommended). Enrollment stores a normalised
24 kHz mono WAV and its speaker embedding (resemblyzer); the language and transcript come from Whisper
(workers/handlers/clone.py), and each engine's own conditioning from its `enroll`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from shared import audio
from workers.engines.base import InvalidAudio, InvalidInput
from workers.speech_map import speech_regions

REFERENCE_RATE = 24000
MIN_SECONDS, MAX_SECONDS = 3.0, 120.0
RECOMMENDED = (10.0, 30.0)
MIN_SPEECH_SECONDS = 2.0
MIN_SPEECH_FRACTION = 0.3
CLIP_LEVEL = 0.995
MAX_CLIPPED_FRACTION = 0.002
TARGET_RMS_DB = -20.0
QUIET_RMS_DB = -50.0


@dataclass
class Reference:
    samples: np.ndarray  # float32 mono at REFERENCE_RATE, loudness-normalised
    duration: float
    speech_seconds: float
    warnings: list[str] = field(default_factory=list)


def load_reference(paths: list[Path]) -> Reference:
    """Decode, join and check the uploaded recordings; raise InvalidInput saying what is wrong."""
    parts: list[np.ndarray] = []
    for path in paths:
        try:
            parts.append(audio.decode(path, sample_rate=REFERENCE_RATE))
        except audio.AudioDecodeError as exc:
            raise InvalidAudio(f"A sample is not usable audio: {exc}") from exc
    gap = np.zeros(int(0.3 * REFERENCE_RATE), dtype=np.float32)
    samples = np.concatenate([p for part in parts for p in (part, gap)][:-1]).astype(np.float32)
    duration = samples.size / REFERENCE_RATE
    if duration < MIN_SECONDS:
        raise InvalidInput(
            f"The reference is {duration:.1f} s long; send at least {MIN_SECONDS:.0f} s of speech "
            f"({RECOMMENDED[0]:.0f}-{RECOMMENDED[1]:.0f} s works best)."
        )
    if duration > MAX_SECONDS:
        raise InvalidInput(
            f"The reference is {duration:.0f} s long; the limit is {MAX_SECONDS:.0f} s. Trim it to "
            f"{RECOMMENDED[0]:.0f}-{RECOMMENDED[1]:.0f} s of clean speech."
        )
    clipped = float(np.mean(np.abs(samples) >= CLIP_LEVEL))
    if clipped > MAX_CLIPPED_FRACTION:
        raise InvalidInput(
            f"The reference is clipped ({clipped:.1%} of samples at full scale); record it again "
            "with a lower input level."
        )
    rms_db = 20 * np.log10(float(np.sqrt(np.mean(np.square(samples)))) + 1e-9)
    if rms_db < QUIET_RMS_DB:
        raise InvalidInput("The reference is (nearly) silent; send a recording of one person speaking.")
    mono16k = audio.resample(samples, REFERENCE_RATE, 16000)
    speech = sum(end - start for start, end in speech_regions(mono16k))
    if speech < MIN_SPEECH_SECONDS or speech < MIN_SPEECH_FRACTION * duration:
        raise InvalidInput(
            f"The reference holds only {speech:.1f} s of speech in {duration:.1f} s; send a "
            "recording with at least a few seconds of clear speech and little silence or music."
        )
    warnings = []
    if not RECOMMENDED[0] <= duration <= RECOMMENDED[1]:
        warnings.append(
            f"The reference is {duration:.1f} s long; {RECOMMENDED[0]:.0f}-{RECOMMENDED[1]:.0f} s gives the best clone."
        )
    gain = 10 ** ((TARGET_RMS_DB - rms_db) / 20)
    normalised = samples * gain
    peak = float(np.max(np.abs(normalised)))
    if peak > 0.98:
        normalised *= 0.98 / peak
    return Reference(normalised.astype(np.float32), round(duration, 3), round(speech, 3), warnings)


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine similarity of two speaker embeddings."""
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-12))


def measure(reference: Reference, encoder: Any | None) -> dict[str, Any]:
    """Speaker embedding (when an encoder is given) and the durations of the reference."""
    profile: dict[str, Any] = {}
    if encoder is not None:
        embedding = encoder.embed_utterance(audio.resample(reference.samples, REFERENCE_RATE, 16000))
        profile["embedding"] = [round(float(v), 6) for v in embedding]
    profile["duration"] = reference.duration
    profile["speech_seconds"] = reference.speech_seconds
    return profile
