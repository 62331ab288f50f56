"""Fixtures for the engine tests: a real speech clip as cloning reference, helpers to check engine output."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pytest

from tests.services import TESTDATA
from workers.engines.base import Conditioning, SynthesisOptions, VoiceReference


@pytest.fixture(scope="session")
def reference() -> VoiceReference:
    """An enrolled voice as the worker hands it to engines: a real English recording and its transcript."""
    wav = TESTDATA / "leopard_test_en.wav"
    if not wav.is_file():
        pytest.fail(f"test clip missing: {wav}")
    return VoiceReference(
        voice_id="voice_test",
        audio_path=wav,
        sample_rate=16000,
        transcript=(TESTDATA / "leopard_test_en.txt").read_text().strip(),
        language="en",
    )


def check_chunks(chunks: Iterable[np.ndarray]) -> np.ndarray:
    """Engine output contract: non-empty 1-D float32 finite chunks; returns them joined."""
    out = list(chunks)
    assert out, "the engine produced no audio chunk"
    for chunk in out:
        assert isinstance(chunk, np.ndarray)
        assert chunk.dtype == np.float32
        assert chunk.ndim == 1
        assert chunk.size > 0
        assert np.isfinite(chunk).all()
    return np.concatenate(out)


def model_root(tmp: Path, model_id: str) -> tuple[Path, Path]:
    """(model_dir, weights dir of model_id inside it)."""
    root = tmp / "models"
    weights = root / model_id
    weights.mkdir(parents=True)
    return root, weights


def cloned(engine: object, reference: VoiceReference, voice: str = "clone", **options: object) -> SynthesisOptions:
    """Options that speak `reference`'s voice: the engine's own enrollment, as the worker stores and reuses it."""
    conditioning: Conditioning = engine.enroll(reference)  # type: ignore[attr-defined]
    assert conditioning and all(isinstance(v, np.ndarray) for v in conditioning.values())
    return SynthesisOptions(voice=voice, voice_id=reference.voice_id, conditioning=conditioning, **options)  # type: ignore[arg-type]
