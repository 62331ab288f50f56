"""Test media made from the real speech clips: other containers, a video with an audio track, long files."""

from __future__ import annotations

import io
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from shared import audio


def concat(paths: list[Path], *, gap_seconds: float = 1.0, rate: int = 16000) -> np.ndarray:
    silence = np.zeros(int(gap_seconds * rate), dtype=np.float32)
    parts: list[np.ndarray] = []
    for path in paths:
        parts += [audio.decode(path, sample_rate=rate), silence]
    return np.concatenate(parts)


def encode_as(samples: np.ndarray, rate: int, container: str, codec: str, out_rate: int | None = None) -> bytes:
    """Audio-only file in any container/codec PyAV writes (m4a/aac, webm/opus, ...)."""
    buf = io.BytesIO()
    with av.open(buf, "w", format=container) as out:
        stream = out.add_stream(codec, rate=out_rate or rate)
        stream.layout = "mono"
        resampler = av.AudioResampler(format=stream.codec_context.format.name, layout="mono", rate=out_rate or rate)
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1).astype(np.float32), format="flt", layout="mono")
        frame.sample_rate = rate
        pts = 0
        for f in [*resampler.resample(frame), *resampler.resample(None)]:
            f.pts = pts
            pts += f.samples
            for packet in stream.encode(f):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return buf.getvalue()


def mp4_video(samples: np.ndarray, rate: int) -> bytes:
    """An H.264 + AAC MP4 with moving frames and the speech as its audio track."""
    buf = io.BytesIO()
    seconds = samples.size / rate
    with av.open(buf, "w", format="mp4") as out:
        video = out.add_stream("libx264", rate=10)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        sound = out.add_stream("aac", rate=rate)
        sound.layout = "mono"
        for i in range(int(seconds * 10)):
            img = np.full((48, 64, 3), (i * 7) % 255, dtype=np.uint8)
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts = i
            frame.time_base = Fraction(1, 10)
            for packet in video.encode(frame):
                out.mux(packet)
        for packet in video.encode(None):
            out.mux(packet)
        resampler = av.AudioResampler(format="fltp", layout="mono", rate=rate)
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1).astype(np.float32), format="flt", layout="mono")
        frame.sample_rate = rate
        pts = 0
        for f in [*resampler.resample(frame), *resampler.resample(None)]:
            for start in range(0, f.samples, 1024):
                piece = av.AudioFrame.from_ndarray(
                    f.to_ndarray()[:, start : start + 1024], format="fltp", layout="mono"
                )
                piece.sample_rate = rate
                piece.pts = pts
                pts += piece.samples
                for packet in sound.encode(piece):
                    out.mux(packet)
        for packet in sound.encode(None):
            out.mux(packet)
    return buf.getvalue()


def mp3_with_info_header(samples: np.ndarray, rate: int, path: Path) -> bytes:
    """An MP3 written to a seekable file, so LAME's Info header (total frames) is filled in: its claimed duration
    stays what it was when the file is cut short."""
    with av.open(str(path), "w", format="mp3") as out:
        stream = out.add_stream("libmp3lame", rate=rate)
        stream.layout = "mono"
        resampler = av.AudioResampler(format=stream.codec_context.format.name, layout="mono", rate=rate)
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1).astype(np.float32), format="flt", layout="mono")
        frame.sample_rate = rate
        pts = 0
        for f in [*resampler.resample(frame), *resampler.resample(None)]:
            f.pts = pts
            pts += f.samples
            for packet in stream.encode(f):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path.read_bytes()
