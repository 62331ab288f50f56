"""`s2s models pull` against a local fake of the Hugging Face Hub: files checked against the Hub's checksums,
pinned to the commit the revision resolves to, an interrupted download resumed, a corrupt one refused, a gated
repository needing HF_TOKEN, and the installed folder loadable where the engine looks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from shared.catalog import MODELS, HubFiles, is_installed
from shared.model_hub import PULL_MANIFEST, pull
from shared.model_store import InstallError
from tests.fake_hub import FakeRepo, fake_hub

pytestmark = pytest.mark.integration


def whisper_repo(model_dir: Path, **options: object) -> FakeRepo:
    """A CTranslate2 Whisper repository with the real whisper-tiny.en files (model.bin in LFS)."""
    root = model_dir / "whisper-tiny.en"
    files = {name: (root / source).read_bytes() for name, source in (
        ("model.bin", "model.bin"), ("config.json", "config.json"), ("tokenizer.json", "tokenizer.json"),
        ("vocabulary.txt", "vocabulary.txt"),
    )}  # fmt: skip
    files["preprocessor_config.json"] = b'{"feature_size": 80}'
    files["README.md"] = b"# not pulled\n"
    return FakeRepo(files=files, lfs={"model.bin"}, **options)  # type: ignore[arg-type]


def turbo(repo: str = "fake/faster-whisper-tiny") -> object:
    spec = MODELS["whisper-turbo"]
    return replace(spec, hub=(replace(spec.hub[0], repo_id=repo),))


def test_pull_installs_checked_files_at_the_resolved_commit(model_dir: Path, tmp_path: Path) -> None:
    with fake_hub({"fake/faster-whisper-tiny": whisper_repo(model_dir)}) as hub:
        path = pull(turbo(), tmp_path, endpoint=hub.url)  # type: ignore[arg-type]
    spec = MODELS["whisper-turbo"]
    assert is_installed(spec, tmp_path) and path == spec.weights_dir(tmp_path)
    assert (path / "model.bin").read_bytes() == (model_dir / "whisper-tiny.en" / "model.bin").read_bytes()
    assert not (path / "README.md").exists()  # only the declared files
    manifest = json.loads((path / PULL_MANIFEST).read_text())
    assert manifest["sources"][0]["commit"] == "0123456789abcdef0123456789abcdef01234567"
    downloads = [p for m, p, _ in hub.requests if m == "GET" and "/resolve/" in p]
    assert all("/resolve/0123456789abcdef0123456789abcdef01234567/" in p for p in downloads)  # pinned
    assert not (tmp_path / ".pull-whisper-turbo").exists()  # staging removed

    from shared import audio
    from tests.services import TESTDATA
    from workers.engines.base import TranscribeOptions
    from workers.engines.whisper import WhisperEngine

    engine = WhisperEngine.load(tmp_path, spec)  # the pulled folder is what the engine loads
    segments, _ = engine.transcribe(audio.decode(TESTDATA / "jfk.flac", sample_rate=16000), TranscribeOptions())
    assert "country" in " ".join(s.text for s in segments).lower()


def test_an_interrupted_download_resumes(model_dir: Path, tmp_path: Path) -> None:
    repo = whisper_repo(model_dir, cut_once={"model.bin"})
    with fake_hub({"fake/faster-whisper-tiny": repo}) as hub:
        pull(turbo(), tmp_path, endpoint=hub.url)  # type: ignore[arg-type]
    ranges = [r for m, p, r in hub.requests if m == "GET" and p.endswith("/model.bin")]
    assert ranges[0] is None and ranges[1] is not None and ranges[1].startswith("bytes=")  # resumed, not restarted
    assert int(ranges[1].removeprefix("bytes=").rstrip("-")) > 0
    assert (tmp_path / "whisper-turbo" / "model.bin").stat().st_size == len(repo.files["model.bin"])


def test_a_checksum_mismatch_is_refused(model_dir: Path, tmp_path: Path) -> None:
    for name in ("model.bin", "config.json"):  # LFS (sha256) and a plain file (git blob id)
        repo = whisper_repo(model_dir, corrupt={name})
        with fake_hub({"fake/faster-whisper-tiny": repo}) as hub, pytest.raises(InstallError, match="does not match"):
            pull(turbo(), tmp_path, endpoint=hub.url)  # type: ignore[arg-type]
        assert not is_installed(MODELS["whisper-turbo"], tmp_path)


def test_gated_repositories_need_a_token(model_dir: Path, tmp_path: Path) -> None:
    repo = whisper_repo(model_dir, gated=True)
    with fake_hub({"fake/faster-whisper-tiny": repo}) as hub:
        with pytest.raises(InstallError, match="HF_TOKEN"):
            pull(turbo(), tmp_path, endpoint=hub.url)  # type: ignore[arg-type]
        pull(turbo(), tmp_path, endpoint=hub.url, token="hf_good_token")  # type: ignore[arg-type]
        with pytest.raises(InstallError, match="no revision"):
            pull(turbo(), tmp_path, endpoint=hub.url, token="hf_good_token", revision="v9")  # type: ignore[arg-type]
        with pytest.raises(InstallError, match="not found"):
            pull(turbo("fake/nothing"), tmp_path, endpoint=hub.url)  # type: ignore[arg-type]
    assert is_installed(MODELS["whisper-turbo"], tmp_path)


def test_cli_pull_uses_hf_endpoint_and_shows_progress(model_dir: Path, tmp_path: Path) -> None:
    """The command line: HF_ENDPOINT reaches the (fake) Hub; the declared repository and files are used."""
    spec = MODELS["openvoice-v2"]
    repo = FakeRepo(files={"converter/config.json": b'{"x": 1}', "converter/checkpoint.pth": b"\0" * 4096,
                           "other.bin": b"x"}, lfs={"converter/checkpoint.pth"})  # fmt: skip
    with fake_hub({spec.hub[0].repo_id: repo}) as hub:
        env = {**os.environ, "HF_ENDPOINT": hub.url, "MODEL_DIR": str(tmp_path), "HF_HUB_DISABLE_XET": "1"}
        done = subprocess.run(
            [sys.executable, "-m", "shared.cli.main", "models", "pull", "openvoice-v2"],
            capture_output=True, text=True, env=env, timeout=120,
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert is_installed(spec, tmp_path) and "installed" in done.stdout
    assert "myshell-ai/OpenVoiceV2" in done.stderr and "0123456789abcdef" in done.stderr
    missing = subprocess.run(
        [sys.executable, "-m", "shared.cli.main", "models", "pull", "piper"],
        capture_output=True, text=True, env={**os.environ, "MODEL_DIR": str(tmp_path)}, timeout=60,
    )  # fmt: skip
    assert missing.returncode == 1 and "declares no Hugging Face repository" in missing.stderr


def test_every_contract_model_declares_its_hub_repository() -> None:
    for model_id in ("fish-speech-v1.5", "orpheus-3b", "openvoice-v2", "xtts-v2", "whisper-large-v3",
                     "whisper-turbo", "canary-qwen-2.5b"):  # fmt: skip
        spec = MODELS[model_id]
        assert spec.hub and all(isinstance(h, HubFiles) and "/" in h.repo_id and h.files for h in spec.hub)
        assert f"s2s models pull {model_id}" in spec.install_hint
