"""RANDOM_SEED: the random generators engines sample from, seeded when a worker process starts and again before
each job, so a job's output does not depend on what the process ran before it (Whisper's temperature fallback,
torch sampling). ONNX Runtime takes the seed only for sessions created afterwards: a Piper or Kokoro session keeps
its own stream once loaded."""

from __future__ import annotations

import sys


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
    if "ctranslate2" in sys.modules:  # faster-whisper's sampling at fallback temperatures
        sys.modules["ctranslate2"].set_random_seed(seed)


def seed_torch(seed: int) -> None:
    if "torch" in sys.modules:  # never import torch just for this: engines that use it have imported it
        sys.modules["torch"].manual_seed(seed)
