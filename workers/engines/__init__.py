"""Engines, one module per model family; each declares what it serves in `ENGINE` (see shared.catalog).

Heavy libraries are imported only inside an engine's loader, so reading the declarations stays cheap.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from shared.catalog import ModelSpec, engine_of
from workers.engines.base import ModelNotInstalled


def load_engine(spec: ModelSpec, model_dir: Path) -> Any:
    """Build the engine for `spec` from weights under model_dir; raise ModelNotInstalled with a hint."""
    if not spec.is_installed(model_dir):
        raise ModelNotInstalled(f"Model '{spec.id}' is not installed on this worker. {spec.install_hint}")
    return engine_of(spec).load(spec, model_dir)
