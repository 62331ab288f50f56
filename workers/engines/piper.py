"""Piper engine: VITS voices exported to ONNX, real-time on a CPU.

Voices live under `<model_dir>/piper/<voice>/model.onnx` with `model.onnx.json` beside it; any Piper voice
dropped there is picked up.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from shared.catalog import ModelSpec, piper_voices
from workers.engines.base import InvalidInput, ModelNotInstalled


class PiperEngine:
    def __init__(self, root: Path, spec: ModelSpec) -> None:
        try:
            import piper  # noqa: F401
        except ImportError as exc:
            raise ModelNotInstalled(f"Model '{spec.id}' needs the piper-tts package: pip install -e '.[cpu]'") from exc
        self.spec = spec
        self.root = root
        self._voices: dict[str, Any] = {}
        self._lock = threading.Lock()
        names = self.voices()
        if not names:
            raise ModelNotInstalled(f"No Piper voice is installed under {root}. {spec.install_hint}")
        first = self._voice(names[0])
        self.sample_rate = int(first.config.sample_rate)

    @classmethod
    def load(cls, model_dir: Path, spec: ModelSpec) -> PiperEngine:
        return cls(spec.weights_dir(model_dir), spec)

    def voices(self) -> list[str]:
        return piper_voices(self.root.parent)

    def _voice(self, name: str) -> Any:
        with self._lock:
            if name not in self._voices:
                from piper import PiperVoice

                path = self.root / name / "model.onnx"
                if not path.is_file():
                    raise InvalidInput(f"Piper voice '{name}' is not installed", code="voice_not_found")
                self._voices[name] = PiperVoice.load(str(path), config_path=str(path) + ".json")
            return self._voices[name]

    def synthesize(
        self, text: str, *, voice: str, speed: float = 1.0, emotion: str | None = None, **options: Any
    ) -> Iterator[np.ndarray]:
        from piper import SynthesisConfig

        piper_voice = self._voice(voice)
        config = SynthesisConfig(length_scale=1.0 / max(speed, 1e-3))
        rate = int(piper_voice.config.sample_rate)
        for chunk in piper_voice.synthesize(text, syn_config=config):
            audio = np.asarray(chunk.audio_float_array, dtype=np.float32)
            if int(chunk.sample_rate) != rate:  # pragma: no cover - piper keeps one rate per voice
                raise RuntimeError("piper returned an unexpected sample rate")
            yield audio
