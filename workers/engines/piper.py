"""Piper engine: VITS voices exported to ONNX, real-time on a CPU.

Voices live under `<model_dir>/piper/<voice>/model.onnx` with `model.onnx.json` beside it; any Piper voice
dropped there is picked up.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from shared.catalog import ModelSpec, piper_voices
from workers.engines import voice_adapt
from workers.engines.base import InvalidInput, ModelNotInstalled, VoiceReference

CALIBRATION_TEXT = (
    "The quick brown fox jumps over the lazy dog. She sells sea shells by the sea shore, and the shells she "
    "sells are surely seashells. How much wood would a woodchuck chuck?"
)


class PiperEngine:
    def __init__(self, root: Path, spec: ModelSpec) -> None:
        try:
            import piper  # noqa: F401
        except ImportError as exc:
            raise ModelNotInstalled(f"Model '{spec.id}' needs the piper-tts package: pip install -e '.[cpu]'") from exc
        self.spec = spec
        self.root = root
        self._voices: dict[str, Any] = {}
        self._profiles: dict[str, dict[str, Any]] = {}
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

    def base_profile(self, voice: str) -> dict[str, Any]:
        """Pitch and envelope statistics of a preset voice, measured once on a calibration text."""
        with self._lock:
            cached = self._profiles.get(voice)
        if cached is None:
            samples = np.concatenate(list(self._raw(CALIBRATION_TEXT, voice, 1.0)))
            cached = voice_adapt.profile(samples, self.sample_rate)
            with self._lock:
                self._profiles[voice] = cached
        return cached

    def _raw(self, text: str, voice: str, length_scale: float) -> Iterator[np.ndarray]:
        from piper import SynthesisConfig

        piper_voice = self._voice(voice)
        config = SynthesisConfig(length_scale=length_scale)
        for chunk in piper_voice.synthesize(text, syn_config=config):
            yield np.asarray(chunk.audio_float_array, dtype=np.float32)

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
        """Piper has no emotion or cloning of its own: both are realised on its output (voice_adapt)."""
        prosody = voice_adapt.EMOTIONS.get(emotion or "neutral", voice_adapt.EMOTIONS["neutral"])
        if reference is not None and reference.profile and reference.profile.get("f0_median"):
            adapt = voice_adapt.towards(self.base_profile(voice), reference.profile)
            prosody = replace(
                adapt,
                gain_db=prosody.gain_db,
                tilt_db=prosody.tilt_db,
                rate=prosody.rate,
                pitch=adapt.pitch * prosody.pitch,
                pitch_range=adapt.pitch_range * prosody.pitch_range,
            )
        length_scale = 1.0 / max(speed * prosody.rate, 1e-3)
        for samples in self._raw(text, voice, length_scale):
            yield voice_adapt.apply(samples, self.sample_rate, prosody)
