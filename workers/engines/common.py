"""Small helpers the engines share (weights and package checks, reference audio, tensors).

Import-light: no model library is imported here; torch is imported inside the functions that need it.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from shared.catalog import ModelSpec
from workers.engines.base import InvalidInput, ModelNotInstalled, VoiceReference


def require_weights(path: Path, spec: ModelSpec, files: tuple[str, ...] | None = None) -> None:
    """Raise ModelNotInstalled naming the missing files and the install command when weights are absent."""
    missing = [f for f in (files or spec.required_files) if not (path / f).is_file()]
    if missing:
        raise ModelNotInstalled(
            f"Model '{spec.id}' is not installed (missing {', '.join(missing)} in {path}). {spec.install_hint}"
        )


def require_module(spec: ModelSpec, module: str, what: str) -> ModuleType:
    """Import `module` or raise ModelNotInstalled telling which optional extra provides it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ModelNotInstalled(
            f"Model '{spec.id}' needs {what}, which is not importable here ({exc}). "
            f"Install the extra: pip install -e '.[{spec.extra}]'"
        ) from exc


def torch_device(device: str | None = None) -> str:
    import torch

    if device:
        return device
    return "cuda" if torch.cuda.is_available() else "cpu"


def reference_audio(reference: VoiceReference, sample_rate: int, *, max_seconds: float | None = None) -> np.ndarray:
    """The reference recording as float32 mono samples at `sample_rate` (decoded with PyAV, no torchaudio)."""
    from shared import audio

    path = Path(reference.audio_path)
    if not path.is_file():
        raise InvalidInput(
            f"The reference recording of voice '{reference.voice_id}' is missing ({path}); enrol the voice again.",
            code="voice_not_found",
        )
    samples = audio.decode(path, sample_rate=sample_rate, mono=True)
    if max_seconds is not None:
        samples = samples[: int(max_seconds * sample_rate)]
    if samples.size < sample_rate // 3:
        raise InvalidInput(
            f"The reference recording of voice '{reference.voice_id}' is too short (under 0.33 s of audio).",
            code="invalid_audio",
        )
    return np.ascontiguousarray(samples, dtype=np.float32)


def to_numpy(tensor: Any) -> np.ndarray:
    """A torch tensor (any dtype, any device) as a numpy array of the same shape, for stored conditioning."""
    return np.ascontiguousarray(
        tensor.detach().cpu().float().numpy() if tensor.is_floating_point() else tensor.detach().cpu().numpy()
    )


def to_float32(samples: Any) -> np.ndarray:
    """A 1-D float32 numpy array from a torch tensor or array of any shape with one channel."""
    if hasattr(samples, "detach"):
        samples = samples.detach().float().cpu().numpy()
    return np.asarray(samples, dtype=np.float32).reshape(-1)
