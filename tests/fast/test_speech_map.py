"""Reading the one VAD pass: silero's rule applied to stored probabilities, and where long files are cut."""

from __future__ import annotations

import numpy as np

from workers.speech_map import DIARIZATION, PAUSES, SAMPLE_RATE, WHISPER, WINDOW, SpeechMap, cut_point, regions_from


def probs_for(spans: list[tuple[float, float]], seconds: float, level: float = 0.9) -> np.ndarray:
    """VAD probabilities with speech (level) in the given spans, silence (0.01) elsewhere."""
    n = int(seconds * SAMPLE_RATE) // WINDOW
    probs = np.full(n, 0.01, dtype=np.float32)
    for start, end in spans:
        probs[int(start * SAMPLE_RATE) // WINDOW : int(end * SAMPLE_RATE) // WINDOW] = level
    return probs


def mapped(spans: list[tuple[float, float]], seconds: float) -> SpeechMap:
    return SpeechMap(blocks=[probs_for(spans, seconds)], samples=int(seconds * SAMPLE_RATE))


def test_each_view_bridges_its_own_pauses() -> None:
    speech = mapped([(1.0, 2.0), (2.5, 3.5), (6.0, 7.0)], 10.0)
    whisper = speech.view(WHISPER)  # pauses under 2 s kept inside a region, 0.4 s of padding
    assert len(whisper) == 2 and abs(whisper[0][0] - 0.6) < 0.04 and abs(whisper[1][1] - 7.4) < 0.04
    diarization = speech.view(DIARIZATION)  # the 0.5 s pause splits turns
    assert len(diarization) == 3


def test_lower_threshold_holds_a_region_open() -> None:
    """Between the two thresholds, a region neither ends nor starts: silero's hysteresis."""
    probs = probs_for([(1.0, 2.0), (3.0, 4.0)], 6.0)
    probs[int(2.0 * SAMPLE_RATE) // WINDOW : int(3.0 * SAMPLE_RATE) // WINDOW] = 0.4  # above 0.35, below 0.5
    assert len(regions_from(probs, 6 * SAMPLE_RATE, PAUSES)) == 1
    probs[int(2.0 * SAMPLE_RATE) // WINDOW : int(3.0 * SAMPLE_RATE) // WINDOW] = 0.2
    assert len(regions_from(probs, 6 * SAMPLE_RATE, PAUSES)) == 2


def test_views_of_a_range_are_relative_to_it() -> None:
    speech = mapped([(1.0, 2.0), (12.0, 13.0)], 20.0)
    inner = speech.view(PAUSES, 10 * SAMPLE_RATE, 15 * SAMPLE_RATE)
    assert len(inner) == 1 and abs(inner[0][0] - 2.0) < 0.04 and abs(inner[0][1] - 3.0) < 0.04


def test_chunks_are_cut_in_the_longest_pause_silent_on_every_channel() -> None:
    left = mapped([(0.0, 11.0), (12.0, 14.0), (16.5, 20.0)], 20.0)  # pauses 11-12 and 14-16.5
    right = mapped([(0.0, 11.0), (12.0, 20.0)], 20.0)  # speaks through left's longer pause
    cut = cut_point([left], 0, 20 * SAMPLE_RATE, 10 * SAMPLE_RATE)
    assert abs(cut / SAMPLE_RATE - 15.25) < 0.1
    both = cut_point([left, right], 0, 20 * SAMPLE_RATE, 10 * SAMPLE_RATE)
    assert abs(both / SAMPLE_RATE - 11.5) < 0.1
    assert cut_point([mapped([(0.0, 20.0)], 20.0)], 0, 20 * SAMPLE_RATE, 10 * SAMPLE_RATE) == 20 * SAMPLE_RATE
