"""RANDOM_SEED: the random generators engines sample from, seeded when a worker process starts and again before
each job, so a job's output does not depend on what the process ran before it (Whisper's temperature fallback,
torch sampling). ONNX Runtime takes the seed only for sessions created afterwards: a Piper or Kokoro session keeps
its own stream once loaded."""

from __future__ import annotations

import importlib
import sys
from types import ModuleType


def seed_random(seed: int) -> None:
    """Seed Python's, NumPy's, ONNX Runtime's, and (where an engine imported them) torch's and CTranslate2's
    generators."""
    import random

    import numpy as np

    random.seed(seed)
    np.random.seed(seed % 2**32)
    try:
        import onnxruntime

        onnxruntime.set_seed(seed)
    except ImportError:
        pass
    seed_torch(seed)
    ctranslate2 = imported("ctranslate2")
    if ctranslate2 is not None:  # faster-whisper's sampling at fallback temperatures
        ctranslate2.set_random_seed(seed)


def seed_torch(seed: int) -> None:
    torch = imported("torch")  # never import torch just for this: engines that use it have imported it
    if torch is not None:
        torch.manual_seed(seed)


def imported(name: str) -> ModuleType | None:
    """The module if something has imported it (or is importing it: the warm-up thread loads engines while a
    job starts), waiting for its import to finish; None if nothing has. A module half way through its import
    has no attributes yet, so it is never used from sys.modules directly."""
    if name not in sys.modules:
        return None
    return importlib.import_module(name)  # blocks on the module's import lock until the other thread is done
