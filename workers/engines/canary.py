"""NVIDIA Canary-Qwen 2.5B engine (NeMo SALM): English speech recognition, up to 40 s per call.

Weights: the published checkpoint folder (config.json + model.safetensors, as on the NVIDIA model page) under
`<model_dir>/canary-qwen-2.5b/`. NeMo is an optional extra (`pip install -e '.[canary]'`).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from shared import audio
from shared.catalog import ModelSpec
from workers.engines.base import (
    InvalidInput,
    ModelNotInstalled,
    Segment,
    TranscribeOptions,
    TranscriptionInfo,
)

SAMPLE_RATE = 16000
MAX_SECONDS = 40.0  # the model's training window; longer audio is cut into windows
PROMPT = "Transcribe the following: {audio}"


class CanaryEngine:
    chunk_seconds = MAX_SECONDS

    def __init__(self, path: Path, spec: ModelSpec, *, device: str | None = None) -> None:
        missing = [f for f in spec.required_files if not (path / f).is_file()]
        if missing:
            raise ModelNotInstalled(
                f"Model '{spec.id}' is not installed (missing {', '.join(missing)} in {path}). {spec.install_hint}"
            )
        try:
            from nemo.collections.speechlm2.models import SALM
        except ImportError as exc:
            raise ModelNotInstalled(
                f"Model '{spec.id}' has weights in {path} but NVIDIA NeMo is not installed: pip install -e '.[canary]'"
            ) from exc
        import torch

        self.spec = spec
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        model: Any = SALM.from_pretrained(str(path))
        self.model = model.to(self.device).eval()

    @classmethod
    def load(cls, model_dir: Path, spec: ModelSpec) -> CanaryEngine:
        return cls(spec.weights_dir(model_dir), spec)

    def check_language(self, language: str | None) -> None:
        if language and language != "en":
            raise InvalidInput(
                f"Model '{self.spec.id}' transcribes English only; use whisper-large-v3 for '{language}'."
            )

    def _generate(self, wav_path: Path) -> str:
        import torch

        prompt = [
            {"role": "user", "content": PROMPT.format(audio=self.model.audio_locator_tag), "audio": [str(wav_path)]}
        ]
        with torch.inference_mode():
            ids = self.model.generate(prompts=[prompt], max_new_tokens=512)
        return str(self.model.tokenizer.ids_to_text(ids[0].cpu())).strip()

    def transcribe(
        self, samples: np.ndarray, options: TranscribeOptions
    ) -> tuple[Iterator[Segment], TranscriptionInfo]:
        self.check_language(options.language)
        if options.word_timestamps:
            raise InvalidInput(
                f"Model '{self.spec.id}' gives no word timestamps; use a Whisper model for "
                "timestamps=word or diarization."
            )
        duration = samples.size / SAMPLE_RATE
        window = int(MAX_SECONDS * SAMPLE_RATE)

        def segments() -> Iterator[Segment]:
            with tempfile.TemporaryDirectory(prefix="s2s-canary-") as tmp:
                for index, start in enumerate(range(0, max(samples.size, 1), window)):
                    piece = samples[start : start + window]
                    path = Path(tmp) / f"{index}.wav"
                    path.write_bytes(audio.encode(piece, SAMPLE_RATE, "wav"))
                    text = self._generate(path)
                    if text:
                        yield Segment(
                            id=index,
                            start=round(start / SAMPLE_RATE, 3),
                            end=round((start + piece.size) / SAMPLE_RATE, 3),
                            text=text,
                        )

        return segments(), TranscriptionInfo(language="en", language_probability=1.0, duration=round(duration, 3))
