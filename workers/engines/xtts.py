"""Coqui XTTS v2 engine: multilingual TTS with voice cloning from a few seconds of reference audio, 24 kHz.

Weights: the published XTTS-v2 release folder under `<model_dir>/xtts-v2/`:
`config.json` (XttsConfig), `model.pth` (GPT + HiFi-GAN decoder), `vocab.json` (the BPE tokenizer) and, for the
preset studio speakers, `speakers_xtts.pth`. The model code is Coqui's own (`pip install -e '.[xtts]'`,
coqui-tts 0.28.0): `Xtts.init_from_config` + `load_checkpoint`, conditioning latents from the reference audio,
`inference_stream` for chunked output.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from shared.catalog import EngineSpec, HubFiles, ModelSpec, Prices
from workers.engines.base import Conditioning, InvalidInput, SynthesisOptions, VoiceReference
from workers.engines.common import (
    reference_audio,
    require_module,
    require_weights,
    to_float32,
    to_numpy,
    torch_device,
)

SPEAKERS_FILE = "speakers_xtts.pth"
# Coqui's reference loader reads cloning audio at 22.05 kHz (the GPT's rate) and resamples for the speaker encoder.
REFERENCE_RATE = 22050
# Streaming: GPT tokens per decoded chunk (each token is 1024 samples at 22.05 kHz, about 46 ms).
STREAM_CHUNK_TOKENS = 20

ENGINE = EngineSpec(
    name="xtts",
    loader="XttsEngine",
    models=(
        ModelSpec(
            id="xtts-v2",
            kind="tts",
            license="LicenseRef-CPML",  # Coqui Public Model License: non-commercial
            description="Versatile multilingual TTS with cloning (Coqui XTTS v2)",
            can_clone=True,
            required_files=("config.json", "model.pth", "vocab.json"),
            hub=(
                HubFiles(
                    "coqui/XTTS-v2", dict.fromkeys(("config.json", "model.pth", "vocab.json", "speakers_xtts.pth"), "")
                ),
            ),
            install_hint=(
                "Copy the published XTTS-v2 folder (config.json, model.pth, vocab.json; speakers_xtts.pth for the "
                "preset voices) with `s2s models install xtts-v2 --from DIR`, and pip install -e '.[xtts]' "
                "(coqui-tts, which also needs a torchaudio build that loads beside the installed torch)."
            ),
            extra="xtts",
            preference=30,
            prices=Prices(per_1k_chars=10.0, per_clone=50.0),
        ),
    ),
)


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

    @classmethod
    def load(cls, model_dir: Path, spec: ModelSpec) -> XttsEngine:
        return cls(spec.weights_dir(model_dir), spec)

    def voices(self) -> list[str]:
        manager = getattr(self.model, "speaker_manager", None)
        return sorted(manager.speakers) if manager is not None else []

    def _language(self, language: str | None) -> str:
        lang = (language or "en").lower()
        if lang == "zh":
            lang = "zh-cn"
        if lang not in self.languages and lang.split("-")[0] not in self.languages:
            raise InvalidInput(
                f"Model '{self.spec.id}' does not speak '{lang}'; supported: {', '.join(self.languages)}."
            )
        return lang

    def enroll(self, reference: VoiceReference) -> Conditioning:
        """GPT conditioning latents and the decoder's speaker embedding of a cloned voice."""
        import torch

        cfg = self.config
        samples = reference_audio(reference, REFERENCE_RATE, max_seconds=float(cfg.max_ref_len))
        if cfg.sound_norm_refs:
            samples = samples / max(float(np.abs(samples).max()), 1e-6) * 0.75
        wav = torch.from_numpy(samples)[None].to(self.device)
        # As Xtts.get_conditioning_latents does after loading the file: speaker embedding for the decoder,
        # style latents for the GPT.
        with torch.inference_mode():
            speaker_embedding = self.model.get_speaker_embedding(wav, REFERENCE_RATE)
            gpt_latent = self.model.get_gpt_cond_latents(
                wav, REFERENCE_RATE, length=int(cfg.gpt_cond_len), chunk_length=int(cfg.gpt_cond_chunk_len)
            )
        return {"gpt_cond_latent": to_numpy(gpt_latent), "speaker_embedding": to_numpy(speaker_embedding)}

    def _cloned(self, conditioning: Conditioning) -> tuple[Any, Any]:
        import torch

        return (
            torch.from_numpy(conditioning["gpt_cond_latent"]).to(self.device),
            torch.from_numpy(conditioning["speaker_embedding"]).to(self.device),
        )

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

    def synthesize(self, text: str, options: SynthesisOptions) -> Iterator[np.ndarray]:
        if not text.strip():
            raise InvalidInput("The input text is empty.")
        lang = self._language(options.language)
        cond = options.conditioning
        gpt_latent, speaker_embedding = self._cloned(cond) if cond is not None else self._preset(options.voice)
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
            speed=float(options.speed),
            enable_text_splitting=True,
        )
        for chunk in stream:
            samples = to_float32(chunk)
            if samples.size:
                yield samples
