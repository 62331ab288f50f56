"""Long-form synthesis around any TTS engine: split text at sentence and clause boundaries, synthesise the pieces
in order, and join them without clicks or long gaps.

The first piece is kept short (a clause, or a few words) so streaming clients hear audio quickly.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

SENTENCE_PAUSE = 0.28  # seconds of silence between sentences
CLAUSE_PAUSE = 0.12  # ... between clauses of one sentence
FADE_SECONDS = 0.008
FIRST_PIECE_WORDS = 8
MAX_PIECE_CHARS = 280

_SENTENCE_END = re.compile(r"(?<=[.!?…。！？])[\"'”’)\]]*\s+|\n{2,}")
_CLAUSE_END = re.compile(r"(?<=[,;:—–])\s+")
_ABBREVIATION = re.compile(r"\b(?:Mr|Mrs|Ms|Dr|Prof|Sr|Jr|St|vs|etc|e\.g|i\.e|No|Fig)\.$", re.IGNORECASE)


@dataclass(frozen=True)
class Piece:
    text: str
    pause: float  # silence after this piece


def _sentences(text: str) -> list[str]:
    parts: list[str] = []
    for chunk in _SENTENCE_END.split(text):
        chunk = chunk.strip()
        if not chunk:
            continue
        # "Mr. Smith" and "D.C. yesterday" do not end a sentence
        if parts and (_ABBREVIATION.search(parts[-1]) or chunk[0].islower()):
            parts[-1] = f"{parts[-1]} {chunk}"
        else:
            parts.append(chunk)
    return parts


def _split_long(sentence: str, limit: int) -> list[str]:
    """Clauses of a sentence, packed up to `limit` characters; words as the last resort."""
    if len(sentence) <= limit:
        return [sentence]
    out: list[str] = []
    for clause in _CLAUSE_END.split(sentence):
        if out and len(out[-1]) + 1 + len(clause) <= limit:
            out[-1] = f"{out[-1]} {clause}"
        elif len(clause) <= limit:
            out.append(clause)
        else:
            words = clause.split()
            line = ""
            for word in words:
                if line and len(line) + 1 + len(word) > limit:
                    out.append(line)
                    line = word
                else:
                    line = f"{line} {word}".strip()
            if line:
                out.append(line)
    return out


def pack_sentences(text: str, max_chars: int) -> list[str]:
    """Sentences (long ones cut at clauses, then words) packed into pieces of at most `max_chars` characters,
    for engines whose context holds several sentences at once."""
    out: list[str] = []
    for sentence in _sentences(text):
        for clause in _split_long(sentence, max_chars):
            if out and len(out[-1]) + 1 + len(clause) <= max_chars:
                out[-1] = f"{out[-1]} {clause}"
            else:
                out.append(clause)
    return out


def split_text(text: str, *, max_chars: int = MAX_PIECE_CHARS, first_words: int = FIRST_PIECE_WORDS) -> list[Piece]:
    """Pieces to synthesise in order, each with the pause that follows it."""
    pieces: list[Piece] = []
    for sentence in _sentences(text):
        clauses = _split_long(sentence, max_chars)
        for i, clause in enumerate(clauses):
            pieces.append(Piece(clause, CLAUSE_PAUSE if i + 1 < len(clauses) else SENTENCE_PAUSE))
    if pieces:
        first = pieces[0]
        clause_parts = _CLAUSE_END.split(first.text, maxsplit=1)
        words = first.text.split()
        if len(clause_parts) == 2 and 2 <= len(clause_parts[0].split()) <= first_words * 2:
            head, tail = clause_parts  # stream the first clause on its own
        elif len(words) > first_words:
            head, tail = " ".join(words[:first_words]), " ".join(words[first_words:])
        else:
            head, tail = first.text, ""
        if tail:
            pieces[0:1] = [Piece(head, CLAUSE_PAUSE), Piece(tail, first.pause)]
    return pieces


def trim_silence(samples: np.ndarray, rate: int, threshold_db: float = -45.0, keep: float = 0.03) -> np.ndarray:
    """Drop leading and trailing silence (keeping `keep` seconds), so joins have controlled pauses."""
    if samples.size == 0:
        return samples
    frame = max(1, rate // 100)
    n = samples.size // frame
    if n == 0:
        return samples
    energy = np.sqrt(np.mean(np.square(samples[: n * frame].reshape(n, frame)), axis=1) + 1e-12)
    loud = np.nonzero(20 * np.log10(energy) > threshold_db)[0]
    if loud.size == 0:
        return samples[:0]
    pad = int(keep * rate)
    start = max(0, loud[0] * frame - pad)
    end = min(samples.size, (loud[-1] + 1) * frame + pad)
    return samples[start:end]


def fade(samples: np.ndarray, rate: int, seconds: float = FADE_SECONDS) -> np.ndarray:
    n = min(int(seconds * rate), samples.size // 2)
    if n <= 0:
        return samples
    out = samples.astype(np.float32, copy=True)
    ramp = np.linspace(0.0, 1.0, n, dtype=np.float32)
    out[:n] *= ramp
    out[-n:] *= ramp[::-1]
    return out


def synthesize_pieces(
    engine: Any, text: str, options: Any, *, on_progress: Callable[[float], None] | None = None
) -> Iterator[np.ndarray]:
    """Yield the whole utterance as float32 chunks: each piece (trimmed, faded) followed by its pause.

    `options` is the engine's SynthesisOptions (workers.engines.base), passed to every piece unchanged.
    """
    rate = int(engine.sample_rate)
    pause_scale = 1.0 / max(float(options.speed or 1.0), 1e-3)  # pauses follow the speaking rate
    pieces = split_text(text)
    total = sum(len(p.text) for p in pieces) or 1
    done = 0
    for index, piece in enumerate(pieces):
        chunks = [np.asarray(c, dtype=np.float32).reshape(-1) for c in engine.synthesize(piece.text, options)]
        samples = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)
        samples = fade(trim_silence(samples, rate), rate)
        if samples.size:
            yield samples
        done += len(piece.text)
        if on_progress:
            on_progress(min(0.99, done / total))
        if index + 1 < len(pieces):
            yield np.zeros(int(piece.pause * pause_scale * rate), dtype=np.float32)
