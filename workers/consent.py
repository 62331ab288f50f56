"""The stronger consent mode of voice cloning (CLONE_CONSENT=recording): the speaker reads a fixed phrase, and the
recording is accepted only when Whisper hears that phrase and its voice matches the samples being cloned.

Thresholds (measured by `python -m bench.consent` on the development clips and Kokoro's voices; see the README):
- the phrase: word error rate against CONSENT_PHRASE at most MAX_PHRASE_WER (whisper-base reads a clear reading
  of it at 0-0.1; a different sentence scores near 1);
- the speaker: resemblyzer cosine similarity between the consent recording and the samples at least
  MIN_SPEAKER_SIMILARITY (same speaker, different words: 0.80-0.95; different speakers: mostly below 0.75).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from shared import audio
from workers.engines.base import InvalidInput

MAX_PHRASE_WER = 0.35
MIN_SPEAKER_SIMILARITY = 0.75
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
    path: Path, phrase: str, sample_embedding: list[float] | None, encoder: Any, transcribe: Any
) -> ConsentCheck:
    """Transcribe the consent recording (`transcribe(samples_16k) -> text`) and compare its speaker with the
    samples' embedding; raises InvalidInput when it cannot be checked."""
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
    if sample_embedding is None:
        raise InvalidInput("The samples have no speaker embedding to compare the consent recording with.")
    heard = str(transcribe(samples)).strip()
    embedding = np.asarray(encoder.embed_utterance(samples), dtype=np.float64)
    reference = np.asarray(sample_embedding, dtype=np.float64)
    similarity = float(embedding @ reference / (np.linalg.norm(embedding) * np.linalg.norm(reference) + 1e-12))
    return ConsentCheck(transcript=heard, phrase_wer=phrase_error(phrase, heard), speaker_similarity=similarity)
