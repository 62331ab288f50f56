"""Whisper engine on faster-whisper (CTranslate2): whisper-base, tiny.en, large-v3 and turbo share it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from shared.catalog import WHISPER_FILES, ModelSpec
from workers.engines.base import (
    InvalidInput,
    ModelNotInstalled,
    Segment,
    TranscribeOptions,
    TranscriptionInfo,
    Word,
)

# Fallback schedule faster-whisper uses when a decode looks like a hallucination (compression / logprob).
DEFAULT_TEMPERATURES = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
HALLUCINATION_SILENCE_SECONDS = 2.0


def pick_device() -> tuple[str, str]:
    """CUDA with float16 when a GPU is visible to CTranslate2, else CPU with int8."""
    try:
        import ctranslate2

        if ctranslate2.get_cuda_device_count() > 0:
            return "cuda", "float16"
    except Exception:  # pragma: no cover - ctranslate2 without CUDA support
        pass
    return "cpu", "int8"


class WhisperEngine:
    def __init__(self, path: Path, spec: ModelSpec, *, device: str | None = None) -> None:
        missing = [f for f in WHISPER_FILES if not (path / f).is_file()]
        if missing:
            raise ModelNotInstalled(
                f"Model '{spec.id}' is not installed (missing {', '.join(missing)} in {path}). {spec.install_hint}"
            )
        try:
            from faster_whisper import WhisperModel
        except ImportError as exc:
            raise ModelNotInstalled(f"Model '{spec.id}' needs faster-whisper: pip install -e '.[cpu]'") from exc
        dev, compute = pick_device()
        if device:
            dev = device
            compute = "float16" if device == "cuda" else "int8"
        self.spec = spec
        self.device = dev
        self.model = WhisperModel(
            str(path), device=dev, compute_type=compute, cpu_threads=os.cpu_count() or 0, local_files_only=True
        )
        self.multilingual = bool(self.model.model.is_multilingual)

    @classmethod
    def load(cls, model_dir: Path, spec: ModelSpec) -> WhisperEngine:
        return cls(spec.weights_dir(model_dir), spec)

    def check_language(self, language: str | None) -> None:
        if language and not self.multilingual and language != "en":
            raise InvalidInput(
                f"Model '{self.spec.id}' only transcribes English; use a multilingual model such as "
                f"whisper-base for language '{language}'."
            )
        if language and self.multilingual and language not in self.model.supported_languages:
            raise InvalidInput(f"Language '{language}' is not supported by model '{self.spec.id}'.")

    def transcribe(self, audio: np.ndarray, options: TranscribeOptions) -> tuple[Iterator[Segment], TranscriptionInfo]:
        self.check_language(options.language)
        kwargs: dict[str, Any] = {
            "language": options.language or (None if self.multilingual else "en"),
            "task": options.task,
            "beam_size": options.beam_size,
            "word_timestamps": options.word_timestamps,
            "initial_prompt": options.initial_prompt or None,
            "vad_filter": options.vad_filter,
            # Conditioning on earlier text is what lets Whisper loop on silence or music; segments stay
            # coherent without it and VAD removes the silence itself.
            "condition_on_previous_text": False,
            "temperature": (options.temperature,) if options.temperature is not None else DEFAULT_TEMPERATURES,
        }
        if options.word_timestamps:
            # with word times, long silent stretches around a suspect segment are skipped instead of transcribed
            kwargs["hallucination_silence_threshold"] = HALLUCINATION_SILENCE_SECONDS
        segments, info = self.model.transcribe(np.asarray(audio, dtype=np.float32), **kwargs)
        out_info = TranscriptionInfo(
            language=info.language,
            language_probability=round(float(info.language_probability), 4),
            duration=round(float(info.duration), 3),
        )
        return (_convert(seg, i) for i, seg in enumerate(segments)), out_info


def _convert(seg: Any, index: int) -> Segment:
    words = (
        [
            Word(
                start=round(float(w.start), 3),
                end=round(float(w.end), 3),
                word=w.word,
                probability=round(float(w.probability), 4),
            )
            for w in seg.words
        ]
        if seg.words is not None
        else None
    )
    return Segment(
        id=index,
        start=round(float(seg.start), 3),
        end=round(float(seg.end), 3),
        text=seg.text.strip(),
        words=words,
        avg_logprob=round(float(seg.avg_logprob), 4),
        no_speech_prob=round(float(seg.no_speech_prob), 4),
        compression_ratio=round(float(seg.compression_ratio), 4),
        temperature=float(seg.temperature) if seg.temperature is not None else None,
        seek=int(seg.seek),
    )
