"""Audio decode, resample and encode with PyAV (FFmpeg), shared by the API (probing) and workers.

Decoding accepts anything FFmpeg reads (wav, flac, mp3, ogg/opus, m4a, webm, video containers' audio track)
and yields float32 samples at the requested rate. Encoding covers the API's output formats; time-stretching
(`atempo`) fits re-spoken phrases to their source's time.
"""

from __future__ import annotations

import io
import re
import struct
import wave
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import IO, Any

import av
import numpy as np

Source = str | Path | IO[bytes]


class AudioDecodeError(ValueError):
    """The input is not decodable audio (corrupt, empty, or no audio stream)."""


@dataclass(frozen=True)
class OutputFormat:
    name: str
    container: str | None  # None: raw samples, no container
    codec: str | None
    content_type: str
    extension: str
    sample_rate: int | None = None  # forced rate (opus only runs at 48 kHz)
    sample_format: str = "s16"


OUTPUT_FORMATS: dict[str, OutputFormat] = {
    "mp3": OutputFormat("mp3", "mp3", "libmp3lame", "audio/mpeg", "mp3", sample_format="s16p"),
    "wav": OutputFormat("wav", "wav", "pcm_s16le", "audio/wav", "wav"),
    "flac": OutputFormat("flac", "flac", "flac", "audio/flac", "flac"),
    # No vorbis encoder in PyAV's FFmpeg: ogg means Opus in an Ogg container, as browsers expect.
    "ogg": OutputFormat("ogg", "ogg", "libopus", "audio/ogg", "ogg", sample_rate=48000),
    "opus": OutputFormat("opus", "ogg", "libopus", "audio/ogg; codecs=opus", "opus", sample_rate=48000),
    "aac": OutputFormat("aac", "adts", "aac", "audio/aac", "aac", sample_format="fltp"),
    # raw 16-bit little-endian mono at 24 kHz, as OpenAI's pcm
    "pcm": OutputFormat("pcm", None, None, "audio/pcm", "pcm", sample_rate=24000),
}


@dataclass(frozen=True)
class AudioInfo:
    duration: float
    sample_rate: int
    channels: int
    codec: str
    container: str


def _open(source: Source) -> Any:
    try:
        if isinstance(source, (str, Path)):
            return av.open(str(source), mode="r")
        return av.open(source, mode="r")
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError, OSError) as exc:
        raise AudioDecodeError(f"could not read the file as audio or video ({_reason(exc)})") from exc


def _reason(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    text = re.sub(r"^\[Errno -?\d+\]\s*", "", text)
    return text.split(": '", 1)[0][:200]


def probe(source: Source) -> AudioInfo:
    """Read container headers (and decode when needed) to find duration and layout; raise on non-audio."""
    with _open(source) as container:
        streams = [s for s in container.streams if s.type == "audio"]
        if not streams:
            raise AudioDecodeError("the file has no audio stream")
        stream = streams[0]
        duration: float | None = None
        if stream.duration is not None and stream.time_base is not None:
            duration = float(stream.duration * stream.time_base)
        elif container.duration is not None:
            duration = container.duration / av.time_base
        ctx = stream.codec_context
        # Decode a little to prove the codec data is real, not just a plausible header.
        decoded = 0
        try:
            for frame in container.decode(stream):
                decoded += frame.samples
                if decoded >= (ctx.sample_rate or 16000) // 10:
                    break
        except av.error.FFmpegError as exc:
            raise AudioDecodeError(f"the audio stream could not be decoded ({_reason(exc)})") from exc
        if decoded == 0:
            raise AudioDecodeError("the file contains no audio samples")
        if duration is None or duration <= 0:
            duration = _decoded_duration(source)
        return AudioInfo(
            duration=round(duration, 3),
            sample_rate=int(ctx.sample_rate or 0),
            channels=int(ctx.channels or 0),
            codec=str(ctx.name),
            container=str(container.format.name),
        )


def _decoded_duration(source: Source) -> float:
    total = 0
    rate = 16000
    for chunk in iter_decode(source, sample_rate=rate, chunk_seconds=30.0):
        total += chunk.shape[-1]
    return total / rate


def iter_decode(
    source: Source,
    *,
    sample_rate: int = 16000,
    mono: bool = True,
    chunk_seconds: float = 30.0,
) -> Iterator[np.ndarray]:
    """Stream-decode audio into float32 chunks of about `chunk_seconds` (bounded memory for long files).

    Mono chunks have shape (n,); with mono=False, shape (channels, n).
    """
    if isinstance(source, (io.IOBase,)) and source.seekable():
        source.seek(0)
    with _open(source) as container:
        streams = [s for s in container.streams if s.type == "audio"]
        if not streams:
            raise AudioDecodeError("the file has no audio stream")
        stream = streams[0]
        channels = 1 if mono else max(1, int(stream.codec_context.channels or 1))
        layout = "mono" if channels == 1 else ("stereo" if channels == 2 else f"{channels}c")
        resampler = av.AudioResampler(format="fltp", layout=layout, rate=sample_rate)
        target = max(1, int(chunk_seconds * sample_rate))
        pending: list[np.ndarray] = []
        pending_len = 0

        decoded_any = False

        def frames() -> Iterator[Any]:
            """Decoded frames; a file that breaks off after real audio (truncated, a damaged tail) ends where it
            breaks, as FFmpeg's own tools do: what decoded is the audio, whatever the header claimed."""
            nonlocal decoded_any
            try:
                for packet in container.demux(stream):
                    for frame in packet.decode():
                        decoded_any = True
                        yield frame
            except av.error.FFmpegError as exc:
                if not decoded_any:
                    raise AudioDecodeError(f"the audio stream could not be decoded ({_reason(exc)})") from exc

        produced = False
        for frame in frames():
            frame.pts = None
            for out in resampler.resample(frame):
                arr = out.to_ndarray().reshape(channels, -1)
                pending.append(arr)
                pending_len += arr.shape[1]
                while pending_len >= target:
                    block = np.concatenate(pending, axis=1)
                    head, tail = block[:, :target], block[:, target:]
                    produced = True
                    yield head[0].copy() if mono else head.copy()
                    pending, pending_len = ([tail], tail.shape[1]) if tail.shape[1] else ([], 0)
        for out in resampler.resample(None):
            arr = out.to_ndarray().reshape(channels, -1)
            pending.append(arr)
            pending_len += arr.shape[1]
        if pending_len:
            block = np.concatenate(pending, axis=1)
            produced = True
            yield block[0] if mono else block
        if not produced:
            raise AudioDecodeError("the file contains no audio samples")


def decode(source: Source, *, sample_rate: int = 16000, mono: bool = True) -> np.ndarray:
    """Decode a whole file into float32 samples at `sample_rate` (mono: shape (n,))."""
    chunks = list(iter_decode(source, sample_rate=sample_rate, mono=mono, chunk_seconds=60.0))
    return np.concatenate(chunks, axis=-1).astype(np.float32, copy=False)


def resample(samples: np.ndarray, rate: int, target: int) -> np.ndarray:
    """Mono float32 samples from one rate to another (FFmpeg's resampler)."""
    samples = np.asarray(samples, dtype=np.float32).reshape(-1)
    if rate == target or samples.size == 0:
        return samples
    resampler = av.AudioResampler(format="flt", layout="mono", rate=target)
    frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="flt", layout="mono")
    frame.sample_rate = rate
    out = [f.to_ndarray().reshape(-1) for f in [*resampler.resample(frame), *resampler.resample(None)]]
    return np.concatenate(out).astype(np.float32) if out else np.zeros(0, dtype=np.float32)


LOUD_FRAMES_RMS = 0.1  # -20 dBFS: where level_gain puts a quiet recording's loud frames
MAX_LEVEL_GAIN = 100.0  # +40 dB at most (amplified room noise, hiss or hum still gives the VAD no speech)


def level_gain(samples: np.ndarray, frame: int = 512) -> float:
    """The gain that brings a quiet recording's loud frames (the 95th percentile of the RMS of `frame`-sample
    frames) to -20 dBFS: never below 1 (a normal or loud recording is left as it is), never past full scale, at
    most +40 dB. Silero VAD and pyannote's segmentation model work on the waveform's level and hear less speech,
    and fewer voices, in a quiet recording (tests/data's four-speaker meeting 30 dB down: 2 of its 4 speakers);
    models that normalise their own features (Whisper's log-mel, CAM++'s mean-normalised fbank) need no gain."""
    samples = np.asarray(samples, dtype=np.float32).reshape(-1)
    usable = samples[: samples.size // frame * frame].reshape(-1, frame)
    if usable.size == 0:
        return 1.0
    loud = float(np.percentile(np.sqrt((usable.astype(np.float64) ** 2).mean(axis=1)), 95))
    peak = float(np.abs(samples).max())
    if loud <= 0.0 or peak <= 0.0:
        return 1.0
    return float(np.clip(min(LOUD_FRAMES_RMS / loud, 1.0 / peak), 1.0, MAX_LEVEL_GAIN))


MIN_TEMPO, MAX_TEMPO = 0.5, 4.0


def time_stretch(samples: np.ndarray, rate: int, tempo: float) -> np.ndarray:
    """Mono float32 samples played `tempo` times as fast at the same pitch (FFmpeg's `atempo`, WSOLA): 1.25 gives
    80% of the duration. Tempo is clamped to 0.5-4.0."""
    samples = np.asarray(samples, dtype=np.float32).reshape(-1)
    tempo = min(MAX_TEMPO, max(MIN_TEMPO, float(tempo)))
    if samples.size == 0 or abs(tempo - 1.0) < 1e-3:
        return samples
    graph = av.filter.Graph()
    source = graph.add_abuffer(format="flt", sample_rate=rate, layout="mono", time_base=Fraction(1, rate))
    # one atempo instance is exact within 0.5-2.0; beyond, a chain of them (as FFmpeg's documentation advises)
    stages: list[float] = []
    rest = tempo
    while rest > 2.0:
        stages.append(2.0)
        rest /= 2.0
    stages.append(rest)
    node = source
    for stage in stages:
        step = graph.add("atempo", f"{stage:.6f}")
        node.link_to(step)
        node = step
    sink = graph.add("abuffersink")
    node.link_to(sink)
    graph.configure()
    frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="flt", layout="mono")
    frame.sample_rate = rate
    frame.pts = 0
    frame.time_base = Fraction(1, rate)
    graph.push(frame)
    graph.push(None)
    out: list[np.ndarray] = []
    while True:
        try:
            out.append(graph.pull().to_ndarray().reshape(-1))
        except (EOFError, BlockingIOError, av.error.EOFError):
            break
    return np.concatenate(out).astype(np.float32) if out else np.zeros(0, dtype=np.float32)


def _to_int16(samples: np.ndarray) -> np.ndarray:
    return (np.clip(samples, -1.0, 1.0) * 32767.0).astype(np.int16)


class StreamEncoder:
    """Encode float32 mono chunks incrementally; `write` and `close` return the bytes ready so far.

    For containers that need their total length up front (wav), a streaming-friendly header is written
    (unknown length, as players accept for live streams) unless `streaming=False`.
    """

    def __init__(self, fmt: str, sample_rate: int, *, streaming: bool = True, pcm_rate: int | None = None) -> None:
        if fmt not in OUTPUT_FORMATS:
            raise ValueError(f"unsupported output format {fmt!r}")
        self.format = OUTPUT_FORMATS[fmt]
        self.input_rate = sample_rate
        # raw pcm at another rate than its default (a request's `sample_rate`)
        self._forced_rate = pcm_rate if pcm_rate and fmt == "pcm" else self.format.sample_rate
        self.streaming = streaming
        self._buf = _DrainableBuffer()
        self._container: Any = None
        self._stream: Any = None
        self._resampler: Any = None
        self._raw_header_sent = False
        self._pts = 0
        if self.format.container is not None and not (fmt == "wav" and streaming):
            self._open_container()

    @property
    def content_type(self) -> str:
        return self.format.content_type

    @property
    def output_rate(self) -> int:
        return self._forced_rate or self.input_rate

    def _open_container(self) -> None:
        fmt = self.format
        self._container = av.open(self._buf, mode="w", format=fmt.container)
        stream = self._container.add_stream(fmt.codec, rate=self.output_rate)
        stream.layout = "mono"
        if fmt.name == "mp3":
            stream.bit_rate = 128_000
        elif fmt.codec == "libopus":
            stream.bit_rate = 48_000
        elif fmt.codec == "aac":
            stream.bit_rate = 96_000
        self._stream = stream
        self._resampler = av.AudioResampler(
            format=stream.codec_context.format.name, layout="mono", rate=self.output_rate
        )

    def write(self, samples: np.ndarray) -> bytes:
        samples = np.asarray(samples, dtype=np.float32).reshape(-1)
        if self._container is None:
            if self._forced_rate and self._forced_rate != self.input_rate:
                samples = self._resample_raw(samples)
            pcm = _to_int16(samples).tobytes()
            if self.format.name == "wav" and not self._raw_header_sent:
                self._raw_header_sent = True
                return _wav_header(self.input_rate, data_len=None) + pcm
            return pcm
        if samples.size:
            frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="flt", layout="mono")
            frame.sample_rate = self.input_rate
            self._encode_frame(frame)
        return self._buf.drain()

    def _resample_raw(self, samples: np.ndarray) -> np.ndarray:
        if self._resampler is None:
            self._resampler = av.AudioResampler(format="flt", layout="mono", rate=self.output_rate)
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="flt", layout="mono")
        frame.sample_rate = self.input_rate
        out = [f.to_ndarray().reshape(-1) for f in self._resampler.resample(frame)]
        return np.concatenate(out) if out else np.zeros(0, dtype=np.float32)

    def _encode_frame(self, frame: Any) -> None:
        for resampled in self._resampler.resample(frame):
            resampled.pts = self._pts
            self._pts += resampled.samples
            for packet in self._stream.encode(resampled):
                self._container.mux(packet)

    def close(self) -> bytes:
        if self._container is None:
            if self.format.name == "wav" and not self._raw_header_sent:
                self._raw_header_sent = True
                return _wav_header(self.input_rate, data_len=0)
            if self._resampler is not None:  # flush the raw-pcm resampler
                rest = [f.to_ndarray().reshape(-1) for f in self._resampler.resample(None)]
                return _to_int16(np.concatenate(rest)).tobytes() if rest else b""
            return b""
        for resampled in self._resampler.resample(None):
            resampled.pts = self._pts
            self._pts += resampled.samples
            for packet in self._stream.encode(resampled):
                self._container.mux(packet)
        for packet in self._stream.encode(None):
            self._container.mux(packet)
        self._container.close()
        return self._buf.drain()


class _DrainableBuffer(io.RawIOBase):
    """A write-only sink PyAV muxes into; `drain` hands over what was written since the last call.

    It reports itself unseekable so muxers write streamable output (no back-patching of headers).
    """

    def __init__(self) -> None:
        self._chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def write(self, data: Any) -> int:
        self._chunks.append(bytes(data))
        return len(data)

    def drain(self) -> bytes:
        out = b"".join(self._chunks)
        self._chunks.clear()
        return out


def _wav_header(sample_rate: int, data_len: int | None) -> bytes:
    size = 0xFFFFFFFF if data_len is None else data_len
    riff = 0xFFFFFFFF if data_len is None else 36 + data_len
    return (
        b"RIFF"
        + struct.pack("<I", riff)
        + b"WAVEfmt "
        + struct.pack("<IHHIIHH", 16, 1, 1, sample_rate, sample_rate * 2, 2, 16)
        + b"data"
        + struct.pack("<I", size)
    )


def encode(samples: np.ndarray, sample_rate: int, fmt: str, *, pcm_rate: int | None = None) -> bytes:
    """Encode a whole clip of float32 mono samples to a complete file in `fmt` (raw pcm at `pcm_rate` if given,
    else 24 kHz)."""
    if fmt == "wav":
        buf = io.BytesIO()
        with wave.open(buf, "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(sample_rate)
            wav.writeframes(_to_int16(np.asarray(samples, dtype=np.float32).reshape(-1)).tobytes())
        return buf.getvalue()
    encoder = StreamEncoder(fmt, sample_rate, streaming=False, pcm_rate=pcm_rate)
    return encoder.write(samples) + encoder.close()
