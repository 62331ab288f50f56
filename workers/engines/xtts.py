"""Coqui XTTS v2 engine: multilingual TTS with voice cloning from a few seconds of reference audio, 24 kHz.

Weights: the published XTTS-v2 release folder under `<model_dir>/xtts-v2/`:
`config.json` (XttsConfig), `model.pth` (GPT + HiFi-GAN decoder), `vocab.json` (the BPE tokenizer) and, for the
preset studio speakers, `speakers_xtts.pth`. The model code is Coqui's own (`pip install -e '.[xtts]'`,
coqui-tts 0.28.0): `Xtts.init_from_config` + `load_checkpoint`, conditioning latents from the reference audio,
`inference_stream` for chunked output.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from shared.catalog import ModelSpec
from workers.engines.base import InvalidInput, VoiceReference
from workers.engines.tts_common import reference_audio, require_module, require_weights, to_float32, torch_device

SPEAKERS_FILE = "speakers_xtts.pth"
# Coqui's reference loader reads cloning audio at 22.05 kHz (the GPT's rate) and resamples for the speaker encoder.
REFERENCE_RATE = 22050
# Streaming: GPT tokens per decoded chunk (each token is 1024 samples at 22.05 kHz, about 46 ms).
STREAM_CHUNK_TOKENS = 20


class XttsEngine:
    def __init__(self, path: Path, spec: ModelSpec, *, device: str | None = None) -> None:
        require_weights(path, spec)
        xtts_mod = require_module(
            spec, "TTS.tts.models.xtts", "Coqui TTS (coqui-tts, which also needs a torchaudio that loads)"
        )
        config_mod = require_module(spec, "TTS.tts.configs.xtts_config", "Coqui TTS (coqui-tts)")
        self.spec = spec
        self.path = path
        self.device = torch_device(device)
        config = config_mod.XttsConfig()
        config.load_json(str(path / "config.json"))
        model = xtts_mod.Xtts(config)
        speakers = path / SPEAKERS_FILE
        model.load_checkpoint(
            config,
            checkpoint_dir=str(path),
            vocab_path=str(path / "vocab.json"),
            speaker_file_path=str(speakers) if speakers.is_file() else None,
            eval=True,
        )
        self.model: Any = model.to(self.device)
        self.config = config
        self.sample_rate = int(config.model_args.output_sample_rate)
        self.languages: list[str] = list(config.languages)
        self._latents: dict[tuple[str, str, float], tuple[Any, Any]] = {}
        self._lock = threading.Lock()

    @classmethod
    def load(cls, model_dir: Path, spec: ModelSpec) -> XttsEngine:
        return cls(spec.weights_dir(model_dir), spec)

    def voices(self) -> list[str]:
        manager = getattr(self.model, "speaker_manager", None)
        return sorted(manager.speakers) if manager is not None else []

    def _language(self, language: str | None, reference: VoiceReference | None) -> str:
        lang = (language or (reference.language if reference else None) or "en").lower()
        if lang == "zh":
            lang = "zh-cn"
        if lang not in self.languages and lang.split("-")[0] not in self.languages:
            raise InvalidInput(
                f"Model '{self.spec.id}' does not speak '{lang}'; supported: {', '.join(self.languages)}."
            )
        return lang

    def conditioning(self, reference: VoiceReference) -> tuple[Any, Any]:
        """GPT conditioning latents and speaker embedding of a cloned voice (cached per voice and recording)."""
        import torch

        path = Path(reference.audio_path)
        key = (reference.voice_id, str(path), path.stat().st_mtime if path.exists() else 0.0)
        with self._lock:
            if key in self._latents:
                return self._latents[key]
        cfg = self.config
        samples = reference_audio(reference, REFERENCE_RATE, max_seconds=float(cfg.max_ref_len))
        if cfg.sound_norm_refs:
            samples = samples / max(float(np.abs(samples).max()), 1e-6) * 0.75
        wav = torch.from_numpy(samples)[None].to(self.device)
        # As Xtts.get_conditioning_latents does after loading the file: speaker embedding for the decoder,
        # style latents for the GPT.
        speaker_embedding = self.model.get_speaker_embedding(wav, REFERENCE_RATE)
        gpt_latent = self.model.get_gpt_cond_latents(
            wav, REFERENCE_RATE, length=int(cfg.gpt_cond_len), chunk_length=int(cfg.gpt_cond_chunk_len)
        )
        with self._lock:
            self._latents[key] = (gpt_latent, speaker_embedding)
        return gpt_latent, speaker_embedding

    def _preset(self, voice: str) -> tuple[Any, Any]:
        manager = getattr(self.model, "speaker_manager", None)
        if manager is None or voice not in manager.speakers:
            known = ", ".join(self.voices()) or "none (install speakers_xtts.pth for the studio voices)"
            raise InvalidInput(
                f"Model '{self.spec.id}' has no preset voice '{voice}' (presets: {known}); clone a voice to use "
                "your own reference recording.",
                code="voice_not_found",
            )
        entry = manager.speakers[voice]
        return entry["gpt_cond_latent"], entry["speaker_embedding"]

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
        if not text.strip():
            raise InvalidInput("The input text is empty.")
        lang = self._language(language, reference)
        gpt_latent, speaker_embedding = self.conditioning(reference) if reference else self._preset(voice)
        cfg = self.config
        stream = self.model.inference_stream(
            text,
            lang,
            gpt_latent,
            speaker_embedding,
            stream_chunk_size=STREAM_CHUNK_TOKENS,
            temperature=float(cfg.temperature),
            length_penalty=float(cfg.length_penalty),
            repetition_penalty=float(cfg.repetition_penalty),
            top_k=int(cfg.top_k),
            top_p=float(cfg.top_p),
            speed=float(speed),
            enable_text_splitting=True,
        )
        for chunk in stream:
            samples = to_float32(chunk)
            if samples.size:
                yield samples
