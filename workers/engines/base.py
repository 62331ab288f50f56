"""What every engine offers, as small Protocols, and the result types they return.

Engines are plain classes: `load(model_dir, spec)` builds one (heavy imports happen there), then
`synthesize` / `transcribe` run inference. Nothing here imports a model library.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np


class EngineError(Exception):
    """A job-level failure with a stable error code and a message for the user."""

    code = "engine_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code:
            self.code = code


class ModelNotInstalled(EngineError):
    code = "model_not_installed"


class InvalidInput(EngineError):
    code = "invalid_request"


@dataclass
class Word:
    start: float
    end: float
    word: str
    probability: float
    speaker: str | None = None


@dataclass
class Segment:
    id: int
    start: float
    end: float
    text: str
    words: list[Word] | None = None
    avg_logprob: float | None = None
    no_speech_prob: float | None = None
    compression_ratio: float | None = None
    temperature: float | None = None
    speaker: str | None = None
    channel: int | None = None
    seek: int | None = None

    def to_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in asdict(self).items() if v is not None}
        if self.words is not None:
            out["words"] = [{k: v for k, v in asdict(w).items() if v is not None} for w in self.words]
        return out

    def shifted(self, offset: float) -> Segment:
        """The same segment on the file's timeline when it was decoded from a chunk starting at offset."""
        if offset:
            self.start = round(self.start + offset, 3)
            self.end = round(self.end + offset, 3)
            for w in self.words or []:
                w.start = round(w.start + offset, 3)
                w.end = round(w.end + offset, 3)
        return self


@dataclass
class TranscriptionInfo:
    language: str
    language_probability: float
    duration: float
    all_language_probs: list[tuple[str, float]] | None = field(default=None)


@dataclass
class TranscribeOptions:
    language: str | None = None
    task: str = "transcribe"
    word_timestamps: bool = False
    initial_prompt: str | None = None
    temperature: float | None = None  # None: the engine's fallback schedule
    vad_filter: bool = True
    beam_size: int = 5


@dataclass
class VoiceReference:
    """An enrolled (cloned) voice as engines receive it.

    `audio_path` is a local copy of the normalised reference recording (mono WAV at `sample_rate`);
    `transcript` is what is said in it (engines such as fish-speech and XTTS condition on it);
    `profile` holds the statistics the bundled Piper path adapts towards (pitch, spectral envelope).
    """

    voice_id: str
    audio_path: Path
    sample_rate: int
    transcript: str | None = None
    language: str | None = None
    embedding: list[float] | None = None
    profile: dict[str, Any] | None = None


@runtime_checkable
class TTSEngine(Protocol):
    sample_rate: int

    def voices(self) -> list[str]: ...

    def synthesize(
        self,
        text: str,
        *,
        voice: str,
        speed: float = 1.0,
        emotion: str | None = None,
        reference: VoiceReference | None = None,
        language: str | None = None,
        instructions: str | None = None,
    ) -> Iterator[np.ndarray]:
        """Yield float32 mono chunks at `sample_rate`, in order, as soon as each is ready.

        `voice` is a preset name of this engine; with `reference` (a cloned voice) the engine conditions on the
        reference recording instead (or adapts its base voice towards it).
        """
        ...


@runtime_checkable
class STTEngine(Protocol):
    def transcribe(self, audio: np.ndarray, options: TranscribeOptions) -> tuple[Iterator[Segment], TranscriptionInfo]:
        """Transcribe 16 kHz float32 mono audio; segments are produced lazily as they are decoded."""
        ...
