"""Words meet speaker turns through an interval index: same answers as a scan of every turn, without the scan."""

from __future__ import annotations

import random

from shared.transcripts import Segment, Word
from workers.engines.diarize import Turn, TurnIndex, assign_speakers


def scan(turns: list[Turn], start: float, end: float) -> set[str]:
    """The speakers a full scan allows: most overlap; else a turn around the middle; else the nearest ones."""
    best, overlap = None, 0.0
    for t in sorted(turns, key=lambda t: (t.start, t.end)):
        o = min(end, t.end) - max(start, t.start)
        if o > overlap:
            best, overlap = t.speaker, o
    if best is not None:
        return {best}
    mid = (start + end) / 2
    around = [t for t in sorted(turns, key=lambda t: (t.start, t.end)) if t.start <= mid < t.end]
    if around:
        return {around[0].speaker}
    distance = min(min(abs(mid - t.start), abs(mid - t.end)) for t in turns)
    return {t.speaker for t in turns if min(abs(mid - t.start), abs(mid - t.end)) == distance}


def test_index_agrees_with_a_scan_on_overlapping_turns() -> None:
    rng = random.Random(7)
    for _ in range(400):
        turns = []
        for _ in range(rng.randint(1, 15)):
            start = round(rng.uniform(0, 60), 2)
            turns.append(Turn(start, round(start + rng.uniform(0.1, 6), 2), f"SPEAKER_{rng.randint(0, 3):02d}"))
        index = TurnIndex(turns)
        for _ in range(30):
            start = round(rng.uniform(-3, 70), 2)
            end = round(start + rng.choice([0.0, rng.uniform(0.01, 2.0)]), 2)
            assert index.speaker_at(start, end) in scan(turns, start, end), (turns, start, end)


def test_segments_split_where_the_speaker_changes() -> None:
    words = [Word(start=i * 0.5, end=i * 0.5 + 0.4, word=f" w{i}", probability=1.0) for i in range(8)]
    segment = Segment(id=0, start=0.0, end=3.9, text="".join(w.word for w in words).strip(), words=words)
    turns = [Turn(0.0, 1.95, "SPEAKER_00"), Turn(1.95, 4.0, "SPEAKER_01")]
    out = assign_speakers([segment], turns)
    assert [(s.speaker, s.text) for s in out] == [("SPEAKER_00", "w0 w1 w2 w3"), ("SPEAKER_01", "w4 w5 w6 w7")]
    assert [s.id for s in out] == [0, 1]
