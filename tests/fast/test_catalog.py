"""The catalog is built from the engines' own declarations; routing, job kinds and prices follow from it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from shared.catalog import MODELS, EngineSpec, ModelSpec, Prices, engines
from shared.jobkinds import job_kinds
from shared.queues import PRIORITY_SEP, parse_queue, priority_lists, queue_name, queues_for_models

CONTRACT_MODELS = {
    "fish-speech-v1.5",
    "orpheus-3b",
    "openvoice-v2",
    "xtts-v2",
    "whisper-large-v3",
    "whisper-turbo",
    "canary-qwen-2.5b",
}


def test_every_contract_model_is_declared_by_exactly_one_engine() -> None:
    declared = [m.id for e in engines().values() for m in e.models]
    assert len(declared) == len(set(declared))
    assert CONTRACT_MODELS | {"piper", "whisper-base", "whisper-tiny.en"} <= set(MODELS)
    for spec in MODELS.values():
        assert spec.family in engines() and spec.description and spec.install_hint
        assert engines()[spec.family].module.startswith("workers.engines.")


def test_job_kinds_follow_capabilities() -> None:
    assert set(job_kinds()) == {"tts", "stt", "clone", "design", "vc"}
    assert MODELS["piper"].job_kinds == ("clone", "tts")
    assert MODELS["revoice"].job_kinds == ("vc",)  # a pipeline: no weights of its own, installed with its parts
    assert MODELS["openvoice-v2"].job_kinds == ("clone", "tts", "vc")  # its converter converts recordings too
    assert MODELS["kokoro"].job_kinds == ("design", "tts")  # blends stock voices; no cloning
    assert MODELS["orpheus-3b"].job_kinds == ("tts",)
    assert MODELS["whisper-base"].job_kinds == ("stt",)
    for spec in MODELS.values():
        assert spec.kind in spec.job_kinds or spec.kind == "tts" or (spec.kind == "diarization" and spec.component)


def test_diarization_models_are_bundled_with_licences_and_checksums() -> None:
    diarization = {m.id: m for m in MODELS.values() if m.kind == "diarization"}
    assert set(diarization) == {"pyannote-segmentation-3.0", "campplus-sv-zh-en"}
    assert {m.license for m in diarization.values()} == {"MIT", "Apache-2.0"}
    for spec in diarization.values():
        assert spec.bundled and spec.source is not None and set(spec.source.checks) == set(spec.required_files)
        assert not queues_for_models([spec.id])  # a component of the STT workers: no queue, no job names it


def test_worker_routing_comes_from_the_table_interactive_first() -> None:
    queues = queues_for_models(["piper", "whisper-base"])
    assert queues == [
        "clone.piper.interactive",
        "tts.piper.interactive",
        "stt.whisper-base.interactive",
        "clone.piper.batch",
        "tts.piper.batch",
        "stt.whisper-base.batch",
    ]
    info = parse_queue("stt.whisper-tiny.en.batch")
    assert info is not None and (info.family, info.model, info.latency) == ("stt", "whisper-tiny.en", "batch")
    assert parse_queue("default") is None
    # Redis keeps one list per message priority: the depth of a queue counts all of them
    lists = priority_lists(queue_name("tts", "piper"))
    assert lists[0] == "tts.piper.interactive" and all(k.startswith(lists[0] + PRIORITY_SEP) for k in lists[1:])


def test_declaring_an_engine_is_one_module(tmp_path: Path) -> None:
    """A plugin module that declares ENGINE (found through the entry-point group) joins the catalog."""
    (tmp_path / "s2s_engine_demo.py").write_text(
        "from shared.catalog import EngineSpec, ModelSpec, Prices\n"
        "ENGINE = EngineSpec(name='demo', loader='DemoEngine', models=(ModelSpec(id='demo-tts', kind='tts',"
        " description='demo', install_hint='none', prices=Prices(per_1k_chars=2.0)),))\n"
    )
    (tmp_path / "demo-0.1.dist-info").mkdir()
    (tmp_path / "demo-0.1.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: demo\nVersion: 0.1\n")
    (tmp_path / "demo-0.1.dist-info" / "entry_points.txt").write_text(
        "[speechtospeechai.engines]\ndemo = s2s_engine_demo:ENGINE\n"
    )
    code = (
        "from shared.catalog import MODELS; from shared.queues import queues_for_models;"
        "print(MODELS['demo-tts'].family, MODELS['demo-tts'].prices.per_1k_chars, queues_for_models(['demo-tts'])[0])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env={"PYTHONPATH": str(tmp_path)}
    )
    assert out.stdout.split() == ["demo", "2.0", "tts.demo-tts.interactive"]


def test_duplicate_model_ids_are_refused() -> None:
    from shared.catalog import check_unique

    twin = EngineSpec(
        name="twin", loader="X", models=(ModelSpec(id="piper", kind="tts", description="x", prices=Prices()),)
    )
    with pytest.raises(RuntimeError, match="more than one engine: piper"):
        check_unique({**engines(), "twin": twin})
