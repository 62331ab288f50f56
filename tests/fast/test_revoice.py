"""Re-voicing's own parts: phrasing at pauses and speaker changes, fitting a rendition to its source's span,
placing phrases on the timeline and handing out what is final, auto voices by pitch, time-stretch, ElevenLabs'
output formats."""

from __future__ import annotations

import numpy as np
import pytest

from shared import audio
from shared.transcripts import Segment, Transcript, Word
from workers.engines.revoice import (
    COMFORT_TEMPO,
    FASTEST_TEMPO,
    SLOWEST_TEMPO,
    Revoicer,
    SourcePhrase,
    Timeline,
    fit,
    median_pitch,
    phrases_of,
    pick_voices,
)


def words(*items: tuple[float, float, str, str | None]) -> list[Word]:
    return [Word(start=s, end=e, word=w, speaker=spk) for s, e, w, spk in items]


def test_phrases_end_at_pauses_and_speaker_changes() -> None:
    segment = Segment(
        id=0,
        start=0.0,
        end=6.0,
        text="",
        words=words(
            (0.0, 0.4, " Hello", "A"),
            (0.45, 0.9, " there.", "A"),
            (1.5, 1.9, " Fine", "A"),  # a 0.6 s pause before: a new phrase
            (1.95, 2.3, " thanks.", "B"),  # another speaker: a new phrase
            (2.35, 2.8, " Good", "B"),
        ),
    )
    phrases = phrases_of(Transcript(text="", duration=6.0, segments=[segment]))
    assert [(p.text, p.speaker) for p in phrases] == [("Hello there.", "A"), ("Fine", "A"), ("thanks. Good", "B")]
    assert phrases[0].start == 0.0 and phrases[0].end == 0.9 and phrases[2].start == 1.95


def test_a_segment_without_words_is_one_phrase_and_noise_is_dropped() -> None:
    transcript = Transcript(
        text="",
        duration=5.0,
        segments=[
            Segment(id=0, start=0.5, end=2.0, text=" Buenos días.", speaker="SPEAKER_00"),
            Segment(id=1, start=2.5, end=3.0, text=" ...", speaker=None),
        ],
    )
    assert phrases_of(transcript) == [SourcePhrase(0.5, 2.0, "Buenos días.", "SPEAKER_00")]


def test_a_segment_without_words_takes_the_speaker_who_talks_most() -> None:
    from shared.transcripts import SpeakerTurn

    translation = Transcript(
        text="",
        duration=4.0,
        segments=[
            Segment(id=0, start=0.0, end=2.0, text=" Good morning."),
            Segment(id=1, start=2.0, end=4.0, text="!"),
        ],
        turns=[
            SpeakerTurn(start=0.0, end=0.5, speaker="SPEAKER_01"),
            SpeakerTurn(start=0.5, end=2.0, speaker="SPEAKER_00"),
        ],
    )
    assert phrases_of(translation) == [SourcePhrase(0.0, 2.0, "Good morning.", "SPEAKER_00")]


@pytest.mark.parametrize(
    ("length", "span", "room", "tempo"),
    [
        (1.0, 1.0, 2.0, 1.0),  # fits as it is
        (0.5, 1.0, 2.0, SLOWEST_TEMPO),  # short: slowed a little, then it ends early
        (1.2, 1.0, 2.0, 1.2),  # a little long: sped up to end with its source
        (2.0, 1.0, 1.8, COMFORT_TEMPO),  # long: sped up as far as is comfortable, running on into the pause
        (2.0, 1.0, 1.2, 2.0 / 1.2),  # long with a short pause after: faster, to end before the next phrase
        (2.0, 1.0, 1.0, 2.0),  # no room: as fast as it takes, within the limit
        (9.0, 1.0, 1.0, FASTEST_TEMPO),  # beyond the limit: the limit
    ],
)
def test_fit(length: float, span: float, room: float, tempo: float) -> None:
    rate = 8000
    samples = np.random.default_rng(0).normal(0, 0.1, int(length * rate)).astype(np.float32)
    fitted, used = fit(samples, rate, span, room)
    assert used == pytest.approx(tempo, abs=1e-3)
    assert fitted.size / rate == pytest.approx(length / tempo, abs=0.002)


def test_time_stretch_keeps_pitch() -> None:
    rate = 16000
    tone = np.sin(2 * np.pi * 200 * np.arange(rate) / rate).astype(np.float32) * 0.5
    faster = audio.time_stretch(tone, rate, 1.6)
    assert faster.size / rate == pytest.approx(1 / 1.6, abs=0.02)
    spectrum = np.abs(np.fft.rfft(faster))
    assert np.fft.rfftfreq(faster.size, 1 / rate)[np.argmax(spectrum)] == pytest.approx(200, abs=5)
    assert audio.time_stretch(tone, rate, 3.0).size / rate == pytest.approx(1 / 3.0, abs=0.02)  # chained atempo


def test_timeline_hands_out_what_is_final() -> None:
    timeline = Timeline(2.0, 10)
    assert timeline.place(0.5, np.ones(5, dtype=np.float32)) == 1.0
    first = timeline.take(0.8)
    assert first.tolist() == [0.0] * 5 + [1.0] * 3
    timeline.place(1.8, np.ones(10, dtype=np.float32))  # clipped at the end
    rest = timeline.take()
    assert rest.size == 12 and rest[-2:].tolist() == [1.0, 1.0] and timeline.take().size == 0


def test_render_places_each_phrase_at_its_source_start() -> None:
    rate = 100
    phrases = [SourcePhrase(0.5, 1.0, "a"), SourcePhrase(2.0, 3.0, "b")]
    spoken = {"a": np.ones(50, dtype=np.float32), "b": np.full(100, 0.5, dtype=np.float32)}
    parts = list(Revoicer().render(phrases, 4.0, rate, lambda p: spoken[p.text]))
    out = np.concatenate([final for final, *_ in parts])
    assert out.size == 400
    assert out[:50].max() == 0.0 and out[50:100].min() == 1.0 and out[100:200].max() == 0.0
    assert out[200:300].min() == 0.5 and out[300:].max() == 0.0
    assert [p.text for _, p, *_ in parts if p] == ["a", "b"] and parts[0][0].size == 200  # final up to "b"


def test_pick_voices_by_pitch_distinct() -> None:
    candidates = [("af_bella", "female"), ("af_sky", "female"), ("am_adam", "male"), ("am_echo", "male")]
    pitches = {"S0": 110.0, "S1": 220.0, "S2": 120.0, "S3": None}
    chosen = pick_voices(pitches, candidates, ["S0", "S1", "S2", "S3"])
    assert chosen == {"S0": "am_adam", "S1": "af_bella", "S2": "am_echo", "S3": "af_sky"}
    many = pick_voices({f"S{i}": 100.0 for i in range(6)}, candidates[:2], [f"S{i}" for i in range(6)])
    assert len(set(many.values())) == 2  # more speakers than voices: they are reused in turn


def test_median_pitch_of_a_tone() -> None:
    rate = 16000
    t = np.arange(rate) / rate
    assert median_pitch((0.3 * np.sin(2 * np.pi * 150 * t)).astype(np.float32), rate) == pytest.approx(150, rel=0.05)
    assert median_pitch(np.zeros(rate, dtype=np.float32), rate) is None


def test_elevenlabs_output_formats() -> None:
    from api.errors import InvalidRequest
    from api.routes.voice_conversions import eleven_output_format

    assert eleven_output_format("mp3_44100_128") == ("mp3", 44100)
    assert eleven_output_format("pcm_16000") == ("pcm", 16000)
    assert eleven_output_format("opus_48000_64") == ("opus", None)
    for bad in ("ulaw_8000", "mp3_12345_32", "opus_24000_32", "flac"):
        with pytest.raises(InvalidRequest):
            eleven_output_format(bad)
