"""Decoding and encoding real audio with PyAV."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

from shared import audio


def tone(seconds: float = 1.0, rate: int = 22050) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)


@pytest.mark.parametrize("fmt", ["mp3", "wav", "flac", "ogg", "opus", "aac"])
def test_encode_roundtrip(fmt: str) -> None:
    data = audio.encode(tone(2.0), 22050, fmt)
    info = audio.probe(io.BytesIO(data))
    assert abs(info.duration - 2.0) < 0.1
    assert info.channels == 1
    decoded = audio.decode(io.BytesIO(data), sample_rate=16000)
    assert abs(decoded.size / 16000 - 2.0) < 0.1
    # the tone survives the codec: its dominant frequency is still 220 Hz
    spectrum = np.abs(np.fft.rfft(decoded[4000:20000]))
    peak = np.argmax(spectrum) * 16000 / 16000
    assert abs(peak - 220) < 5


def test_pcm_is_raw_int16_at_24khz() -> None:
    data = audio.encode(tone(1.0), 22050, "pcm")
    assert len(data) == 24000 * 2  # OpenAI's pcm: 24 kHz, 16-bit, mono
    samples = np.frombuffer(data, dtype="<i2").astype(np.float32) / 32767
    peak = np.argmax(np.abs(np.fft.rfft(samples))) * 24000 / samples.size
    assert abs(peak - 220) < 5


def test_streaming_encoders_produce_decodable_output() -> None:
    x = tone(2.0)
    for fmt in ("mp3", "ogg", "wav", "flac", "aac"):
        enc = audio.StreamEncoder(fmt, 22050)
        parts = [enc.write(x[:22050]), enc.write(x[22050:]), enc.close()]
        assert parts[0], f"{fmt}: nothing after the first chunk"
        decoded = audio.decode(io.BytesIO(b"".join(parts)), sample_rate=16000)
        assert abs(decoded.size / 16000 - 2.0) < 0.1, fmt


def test_decode_real_speech_stereo_44k(testdata: Path) -> None:
    info = audio.probe(testdata / "jfk.flac")
    assert info.channels == 2 and info.sample_rate == 44100 and info.duration == pytest.approx(11.0, abs=0.01)
    samples = audio.decode(testdata / "jfk.flac", sample_rate=16000)
    assert samples.dtype == np.float32 and samples.shape == (176000,)
    assert 0.01 < float(np.abs(samples).mean()) < 0.5


def test_iter_decode_bounded_chunks(testdata: Path) -> None:
    chunks = list(audio.iter_decode(testdata / "jfk.flac", sample_rate=16000, chunk_seconds=2.0))
    assert all(c.size == 32000 for c in chunks[:-1])
    assert sum(c.size for c in chunks) == 176000


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"", "could not read"),
        (b"this is not audio at all" * 50, "could not read"),
        (b"RIFF\x00\x00\x00\x00WAVEfmt garbage", "could not"),
    ],
)
def test_probe_rejects_non_audio(payload: bytes, message: str) -> None:
    with pytest.raises(audio.AudioDecodeError, match=message):
        audio.probe(io.BytesIO(payload))


def test_probe_rejects_text_file() -> None:
    with pytest.raises(audio.AudioDecodeError):
        audio.probe(io.BytesIO(Path(__file__).read_bytes()))


def test_level_gain_lifts_only_quiet_recordings() -> None:
    rng = np.random.default_rng(0)
    bursts = np.concatenate([0.2 * rng.standard_normal(8000), np.zeros(8000)] * 5).astype(np.float32)
    assert audio.level_gain(bursts) == 1.0  # loud frames already above -20 dBFS: left as they are
    quiet = bursts * 0.01
    gain = audio.level_gain(quiet)
    frames = (quiet * gain)[: quiet.size // 512 * 512].reshape(-1, 512)
    assert abs(np.percentile(np.sqrt((frames**2).mean(axis=1)), 95) - audio.LOUD_FRAMES_RMS) < 0.01
    clicked = quiet.copy()
    clicked[100] = 0.5  # one loud click: never amplified past full scale
    assert audio.level_gain(clicked) == pytest.approx(2.0)
    assert audio.level_gain(bursts * 1e-5) == audio.MAX_LEVEL_GAIN  # at most +40 dB
    assert audio.level_gain(np.zeros(16000, dtype=np.float32)) == 1.0
    assert audio.level_gain(np.zeros(10, dtype=np.float32)) == 1.0  # shorter than a frame
