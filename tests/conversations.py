"""Synthetic conversations with an exact speaker reference, built from the single-speaker development clips of
tests/data: pieces of 2-4.5 s of each voice in turn, 0.3 s of silence between turns. Used by the diarization tests
and `bench.diarization` (development only; the holdout clips are never used for this). The reference marks whole
pieces, so the pauses inside a speaker's piece count as "missed" speech: compare pipelines on them, not to zero.
"""

from __future__ import annotations

import numpy as np

from tests.services import TESTDATA

SAMPLE_RATE = 16000
CONVERSATIONS = {  # name -> (clips, seed)
    "conversation_2spk": (("jfk.flac", "leopard_test_en.wav"), 0),
    "conversation_3spk": (("jfk.flac", "leopard_test_en.wav", "leopard_test_fr.wav"), 1),
    "conversation_4spk": (("leopard_test_de.wav", "leopard_test_en.wav", "leopard_test_es.wav",
                           "leopard_test_fr.wav"), 2),
}  # fmt: skip


def conversation(name: str) -> tuple[np.ndarray, list[tuple[float, float, str]]]:
    """(16 kHz mono samples, reference turns (start, end, clip name)) of one of CONVERSATIONS."""
    from shared import audio

    names, seed = CONVERSATIONS[name]
    clips = {n: audio.decode(str(TESTDATA / n), sample_rate=SAMPLE_RATE) for n in names}
    position = dict.fromkeys(names, 0)
    rng = np.random.default_rng(seed)
    pieces: list[np.ndarray] = []
    turns: list[tuple[float, float, str]] = []
    now = 0.0
    gap = np.zeros(int(0.3 * SAMPLE_RATE), dtype=np.float32)
    for _ in range(100):  # bounded: every clip is used up long before
        if all(position[n] >= clips[n].size for n in names):
            break
        for n in names:
            length = int((3.0 + rng.uniform(-1.0, 1.5)) * SAMPLE_RATE)
            piece = clips[n][position[n] : position[n] + length]
            position[n] += length
            if piece.size < SAMPLE_RATE // 2:
                continue
            pieces += [piece, gap]
            turns.append((round(now, 3), round(now + piece.size / SAMPLE_RATE, 3), n))
            now += (piece.size + gap.size) / SAMPLE_RATE
    return np.concatenate(pieces).astype(np.float32), turns
