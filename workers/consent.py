"""The stronger consent mode of voice cloning (CLONE_CONSENT=recording): the speaker reads a fixed phrase, and the
recording is accepted only when Whisper hears that phrase and its voice matches the samples being cloned.

Thresholds (measured by `python -m bench.consent` on ten Kokoro voices standing in for people and five real
development clips split in two; see the README):
- the phrase: word error rate against CONSENT_PHRASE at most MAX_PHRASE_WER (whisper-base read every voice's
  reading of it at 0.0; a different sentence scored 0.94);
- the speaker: CAM++ cosine similarity between the consent recording and the samples at least
  MIN_SPEAKER_SIMILARITY. Same speaker, other words: 0.63-0.96 (the real clips' 3-5 s halves lowest); different
  speakers: 95 % below 0.50, highest 0.74 (two near-identical Kokoro voices). At 0.62 no genuine recording was
  refused and 2 of 210 impostor pairs (that one pair of voices) were accepted; resemblyzer, measured beside it,
  separated worse (0 refused and 4 accepted at its best threshold, 0.78).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from shared import audio
from workers.engines.base import InvalidInput
from workers.enroll import cosine

MAX_PHRASE_WER = 0.35
MIN_SPEAKER_SIMILARITY = 0.62
MIN_SECONDS, MAX_SECONDS = 1.0, 30.0


@dataclass(frozen=True)
class ConsentCheck:
    transcript: str
    phrase_wer: float
    speaker_similarity: float

    @property
    def passed(self) -> bool:
        return self.phrase_wer <= MAX_PHRASE_WER and self.speaker_similarity >= MIN_SPEAKER_SIMILARITY

    def record(self, phrase: str) -> dict[str, Any]:
        return {
            "type": "recording",
            "phrase": phrase,
            "transcript": self.transcript,
            "phrase_wer": round(self.phrase_wer, 4),
            "speaker_similarity": round(self.speaker_similarity, 4),
            "verified": self.passed,
        }


def phrase_error(phrase: str, heard: str) -> float:
    """Word error rate of what was heard against the phrase, ignoring case and punctuation."""
    import jiwer

    def words(text: str) -> str:
        kept = "".join(ch.lower() if ch.isalnum() or ch.isspace() or ch == "'" else " " for ch in text)
        return " ".join(kept.split())

    reference = words(phrase)
    return float(jiwer.wer(reference, words(heard) or "-")) if reference else 1.0


def check_recording(
    path: Path, phrase: str, samples_16k: np.ndarray, embed: Callable[[np.ndarray], np.ndarray], transcribe: Any
) -> ConsentCheck:
    """Transcribe the consent recording (`transcribe(samples_16k) -> text`) and compare its speaker embedding
    (`embed`, CAM++) with the samples'; raises InvalidInput when it cannot be checked."""
    try:
        samples = audio.decode(path, sample_rate=16000, mono=True)
    except audio.AudioDecodeError as exc:
        raise InvalidInput(f"The consent recording is not usable audio: {exc}.", code="invalid_audio") from exc
    seconds = samples.size / 16000
    if not MIN_SECONDS <= seconds <= MAX_SECONDS:
        raise InvalidInput(
            f"The consent recording lasts {seconds:.1f} s; record the phrase in {MIN_SECONDS:.0f}-{MAX_SECONDS:.0f} s.",
            code="invalid_audio",
        )
    heard = str(transcribe(samples)).strip()
    embedding = np.asarray(embed(samples), dtype=np.float64)
    reference = np.asarray(embed(samples_16k), dtype=np.float64)
    return ConsentCheck(
        transcript=heard, phrase_wer=phrase_error(phrase, heard), speaker_similarity=cosine(embedding, reference)
    )
