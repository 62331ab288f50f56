"""What every engine offers, as small Protocols, and the result types they return.

Engines are plain classes: `load(model_dir, spec)` builds one (heavy imports happen there), then
`synthesize` / `transcribe` run inference. Nothing here imports a model library.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from shared import transcripts
from shared.errors import ErrorCode


class EngineError(Exception):
    """A job-level failure with a stable error code (shared.errors.ErrorCode) and a message for the user."""

    code: str = ErrorCode.server_error

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code:
            self.code = code


class ModelNotInstalled(EngineError):
    code = ErrorCode.model_not_installed


class InvalidInput(EngineError):
    code = ErrorCode.invalid_request


class InvalidAudio(EngineError):
    code = ErrorCode.invalid_audio


# Engines produce the stored transcript's own types.
Word = transcripts.Word
Segment = transcripts.Segment


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
    beam_size: int = 5
    # Speech regions of the audio (seconds, from the job's one VAD pass): engines decode only these and map times
    # back. None: the engine sees the whole audio as speech.
    speech: list[tuple[float, float]] | None = None


@dataclass
class VoiceReference:
    """An enrolled (cloned) voice's reference recording, as `enroll` receives it.

    `audio_path` is a local copy of the normalised reference recording (mono WAV at `sample_rate`);
    `transcript` is what is said in it (engines such as fish-speech condition on it).
    """

    voice_id: str
    audio_path: Path
    sample_rate: int
    transcript: str | None = None
    language: str | None = None
    embedding: list[float] | None = None


# An engine's conditioning for one cloned voice (XTTS latents, Fish Speech prompt codes, OpenVoice tone colour,
# Piper's prosody profile): named arrays, so it is stored as one .npz object and cached by size.
Conditioning = dict[str, np.ndarray]


@dataclass(frozen=True)
class SynthesisOptions:
    """How to speak one piece of text: what the engine receives from a speech job's contract."""

    voice: str  # a preset voice of this engine (for a cloned voice: the base voice some engines adapt)
    speed: float = 1.0
    emotion: str | None = None
    language: str | None = None
    instructions: str | None = None
    voice_id: str | None = None  # the cloned voice, when one is spoken
    conditioning: Conditioning | None = None  # that voice's conditioning for this engine (from `enroll`)


@runtime_checkable
class TTSEngine(Protocol):
    sample_rate: int

    def voices(self) -> list[str]: ...

    def synthesize(self, text: str, options: SynthesisOptions) -> Iterator[np.ndarray]:
        """Yield float32 mono chunks at `sample_rate`, in order, as soon as each is ready.

        With `options.conditioning` (a cloned voice) the engine speaks in that voice instead of the preset.
        """
        ...


@runtime_checkable
class CloningEngine(TTSEngine, Protocol):
    def enroll(self, reference: VoiceReference) -> Conditioning:
        """What this engine needs from a cloned voice's reference, computed once per (voice, model) and stored."""
        ...


@runtime_checkable
class STTEngine(Protocol):
    def transcribe(self, audio: np.ndarray, options: TranscribeOptions) -> tuple[Iterator[Segment], TranscriptionInfo]:
        """Transcribe 16 kHz float32 mono audio; segments are produced lazily as they are decoded."""
        ...


def conditioning_bytes(conditioning: Conditioning) -> int:
    return sum(int(np.asarray(v).nbytes) for v in conditioning.values())
