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
from shared.catalog import EngineSpec, HubFiles, ModelSpec, Prices
from workers.engines.base import (
    InvalidInput,
    ModelNotInstalled,
    Segment,
    TranscribeOptions,
    TranscriptionInfo,
)
from workers.engines.common import require_weights

SAMPLE_RATE = 16000
MAX_SECONDS = 40.0  # the model's training window; longer audio is cut into windows
PROMPT = "Transcribe the following: {audio}"

ENGINE = EngineSpec(
    name="canary",
    loader="CanaryEngine",
    models=(
        ModelSpec(
            id="canary-qwen-2.5b",
            kind="stt",
            license="CC-BY-4.0",
            description="NVIDIA Canary-Qwen 2.5B (English)",
            languages=("en",),
            streaming=False,
            required_files=("config.json", "model.safetensors"),
            hub=(HubFiles("nvidia/canary-qwen-2.5b", {"*": ""}),),
            install_hint="pip install -e '.[canary]' (NVIDIA NeMo) and "
            "`s2s models install canary-qwen-2.5b --from DIR` (the published checkpoint folder: config.json, "
            "model.safetensors).",
            extra="canary",
            preference=35,
            prices=Prices(per_audio_second=0.1),
        ),
    ),
)


def speech_windows(n_samples: int, speech: list[tuple[float, float]] | None) -> list[tuple[int, int]]:
    """Sample ranges of at most MAX_SECONDS to decode: the speech regions packed into windows (every region that
    fits joins the window before it), or fixed windows over everything when no speech map was given."""
    limit = int(MAX_SECONDS * SAMPLE_RATE)
    if speech is None:
        return [(start, min(n_samples, start + limit)) for start in range(0, max(n_samples, 1), limit)]
    windows: list[tuple[int, int]] = []
    for start_s, end_s in speech:
        start, end = int(start_s * SAMPLE_RATE), min(n_samples, int(end_s * SAMPLE_RATE))
        while end - start > limit:  # a region longer than the window is cut
            windows.append((start, start + limit))
            start += limit
        if windows and end - windows[-1][0] <= limit:
            windows[-1] = (windows[-1][0], end)
        elif end > start:
            windows.append((start, end))
    return windows


class CanaryEngine:
    chunk_seconds = MAX_SECONDS

    def __init__(self, path: Path, spec: ModelSpec, *, device: str | None = None) -> None:
        require_weights(path, spec)
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

        def segments() -> Iterator[Segment]:
            with tempfile.TemporaryDirectory(prefix="s2s-canary-") as tmp:
                for index, (start, end) in enumerate(speech_windows(samples.size, options.speech)):
                    piece = samples[start:end]
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
