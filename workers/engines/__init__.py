"""Engine registry: model family -> engine class, imported only when a model of that family is loaded."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from shared.catalog import ModelSpec, is_installed
from workers.engines.base import ModelNotInstalled

ENGINES: dict[str, str] = {
    "piper": "workers.engines.piper:PiperEngine",
    "whisper": "workers.engines.whisper:WhisperEngine",
    "canary": "workers.engines.canary:CanaryEngine",
    "xtts": "workers.engines.xtts:XttsEngine",
    "orpheus": "workers.engines.orpheus:OrpheusEngine",
    "openvoice": "workers.engines.openvoice:OpenVoiceEngine",
    "fish_speech": "workers.engines.fish_speech:FishSpeechEngine",
}


def load_engine(spec: ModelSpec, model_dir: Path) -> Any:
    """Build the engine for `spec` from weights under model_dir; raise ModelNotInstalled with a hint."""
    if not is_installed(spec, model_dir):
        raise ModelNotInstalled(f"Model '{spec.id}' is not installed on this worker. {spec.install_hint}")
    target = ENGINES.get(spec.family)
    if target is None:
        raise ModelNotInstalled(f"No engine for model family '{spec.family}' in this build. {spec.install_hint}")
    module_name, _, class_name = target.partition(":")
    engine_cls = getattr(importlib.import_module(module_name), class_name)
    return engine_cls.load(model_dir, spec)
