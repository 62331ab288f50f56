"""The audio file a job produces (speech, voice conversion): encoded as it grows, published chunk by chunk to a
streaming client, and the whole file handed back for the store."""

from __future__ import annotations

import base64

import numpy as np

from shared import audio
from workers.runner import JobContext


class AudioOutput:
    """The output, encoded as it grows (and streamed when the request streams); only a WAV file that is not
    streamed keeps its samples, for its header to carry the length."""

    def __init__(self, job: JobContext, fmt: str, rate: int, *, stream: bool, pcm_rate: int | None = None) -> None:
        self.job, self.fmt, self.rate = job, fmt, rate
        self.stream = stream
        self.pcm_rate = pcm_rate
        self.samples = 0
        self.parts: list[np.ndarray] = []  # a WAV file's samples
        self.encoded: list[bytes] = []  # the stored file, but a WAV's
        # a streamed WAV carries an open-ended header: the stored file is encoded whole at the end
        self.whole_wav = fmt == "wav"
        self.encoder = (
            audio.StreamEncoder(fmt, rate, pcm_rate=self.pcm_rate) if self.stream or not self.whole_wav else None
        )

    def _emit(self, data: bytes) -> None:
        if not data:
            return
        if not self.whole_wav:  # the stored file is these bytes
            self.encoded.append(data)
        if self.stream:
            self.job.stream({"type": "audio", "b64": base64.b64encode(data).decode()})

    def write(self, samples: np.ndarray) -> None:
        if samples.size == 0:
            return
        self.samples += samples.size
        if self.whole_wav:
            self.parts.append(samples)
        if self.encoder is not None:
            self._emit(self.encoder.write(samples))

    def finish(self) -> tuple[int, bytes]:
        """(samples written, the file to store)."""
        if self.encoder is not None:
            self._emit(self.encoder.close())
        if self.whole_wav:
            samples = np.concatenate(self.parts) if self.parts else np.zeros(0, dtype=np.float32)
            return self.samples, audio.encode(samples, self.rate, "wav")
        return self.samples, b"".join(self.encoded)
