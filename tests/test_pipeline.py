"""The job pipeline end to end: uploads gone when a job ends, voice conditioning computed once and stored, the
decoded duration billed (not the container's claim), one VAD pass per job."""

from __future__ import annotations

import asyncio
import io
import struct
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from sqlalchemy import select

from shared import audio
from shared.catalog import MODELS
from shared.config import Settings
from shared.db.models import Job, Voice, VoiceConditioning
from shared.db.session import session_scope
from shared.storage import make_store
from tests import media
from tests.accounts import key_with_credits
from tests.services import api_client
from tests.text import wer


def _job(settings: Settings, job_id: str) -> Job:
    with session_scope(settings.sync_database_url) as session:
        job = session.get(Job, job_id)
        assert job is not None
        session.expunge(job)
        return job


async def _eventually(check: Callable[[], bool], timeout: float = 10) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        assert loop.time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.1)


async def test_uploads_are_deleted_when_the_job_ends(
    client: httpx.AsyncClient, auth: dict[str, str], settings: Settings, testdata: Path
) -> None:
    store = make_store(settings)
    r = await client.post(
        "/v1/audio/transcriptions",
        headers=auth,
        files={"file": ("my secret meeting.wav", (testdata / "leopard_test_en.wav").read_bytes())},
        data={"model": "whisper-tiny.en"},
    )
    assert r.status_code == 200, r.text
    job = _job(settings, r.headers["x-job-id"])
    (key,) = job.request["input_keys"]
    assert "secret" not in key and key.endswith(".wav")  # keys never come from the client's file name
    await _eventually(lambda: not store.exists(key) and _job(settings, job.id).input_key is None)


async def test_canceled_uploads_go_and_retention_keeps_them_until_housekeeping(
    idle_worker: tuple[str, Any], settings: Settings, testdata: Path
) -> None:
    from api.housekeeping import sweep_inputs

    store = make_store(settings)
    kept = settings.model_copy(update={"redis_url": idle_worker[0]})
    kept.store = kept.store.model_copy(update={"input_retention_seconds": 2})
    key = key_with_credits(settings.sync_database_url, f"ret-{uuid.uuid4().hex[:6]}")
    auth = {"Authorization": f"Bearer {key}"}
    wav = (testdata / "leopard_test_en.wav").read_bytes()
    async with api_client(settings.model_copy(update={"redis_url": idle_worker[0]}), "idle-now") as client:
        r = await client.post(
            "/v1/audio/transcriptions", headers=auth, files={"file": ("a.wav", wav)}, data={"async": "true"}
        )
        job_id = r.json()["id"]
        (upload,) = _job(settings, job_id).request["input_keys"]
        assert store.exists(upload)
        assert (await client.delete(f"/v1/jobs/{job_id}", headers=auth)).status_code == 200
        assert not store.exists(upload)  # no retention: gone with the cancel
    async with api_client(kept, "idle-kept") as client:
        r = await client.post(
            "/v1/audio/transcriptions", headers=auth, files={"file": ("a.wav", wav)}, data={"async": "true"}
        )
        job_id = r.json()["id"]
        (upload,) = _job(settings, job_id).request["input_keys"]
        assert (await client.delete(f"/v1/jobs/{job_id}", headers=auth)).status_code == 200
        state = client._transport.app.state.s2s  # type: ignore[attr-defined]
        await sweep_inputs(state)
        assert store.exists(upload)  # kept for the retention
        await asyncio.sleep(2.1)
        await sweep_inputs(state)
        assert not store.exists(upload) and _job(settings, job_id).input_key is None


async def test_voice_conditioning_is_computed_once_and_deleted_with_the_voice(
    client: httpx.AsyncClient, auth: dict[str, str], settings: Settings, testdata: Path
) -> None:
    store = make_store(settings)
    r = await client.post(
        "/v1/voices/clone",
        headers=auth,
        files={"file": ("ref.wav", (testdata / "leopard_test_en.wav").read_bytes())},
        data={"name": "Once", "model": "piper", "consent": "true"},
    )
    assert r.status_code == 200 and r.json()["status"] == "ready", r.text
    voice_id = r.json()["id"]
    clone_job = _job(settings, r.json()["job_id"])

    def stored() -> list[VoiceConditioning]:
        with session_scope(settings.sync_database_url) as session:
            rows = session.execute(select(VoiceConditioning).where(VoiceConditioning.voice_id == voice_id))
            return [row for row in rows.scalars()]

    rows = stored()
    assert [(c.model, c.bytes > 0) for c in rows] == [("piper", True)]  # computed by the enrollment itself
    with session_scope(settings.sync_database_url) as session:
        voice = session.get(Voice, voice_id)
        assert voice is not None and voice.reference_sha256
        assert voice.reference_sha256[:16] in rows[0].object_key  # stored under the reference's digest
        reference_key = voice.reference_key
    for text in ("First use of the cloned voice.", "Second use of the cloned voice."):
        spoken = await client.post(
            "/v1/audio/speech", headers=auth, json={"model": "piper", "voice": voice_id, "input": text}
        )
        assert spoken.status_code == 200
    assert [c.id for c in stored()] == [rows[0].id]  # reused, never recomputed nor stored again
    await _eventually(lambda: not any(store.exists(k) for k in clone_job.request["input_keys"]))
    assert reference_key and store.exists(reference_key) and store.exists(rows[0].object_key)

    assert (await client.delete(f"/v1/voices/{voice_id}", headers=auth)).status_code == 200
    assert stored() == []
    assert not store.exists(reference_key) and not store.exists(rows[0].object_key)


def doctored_matroska(samples: np.ndarray) -> bytes:
    """Opus in Matroska whose Segment Info claims a duration of 1 s (the EBML Duration element, in ms)."""
    mkv = media.encode_as(samples, 16000, "matroska", "libopus", 48000)
    at = mkv.find(b"\x44\x89\x88")  # Duration, an 8-byte float
    assert at > 0
    return mkv[: at + 3] + struct.pack(">d", 1000.0) + mkv[at + 11 :]


async def test_the_decoded_duration_is_billed_and_bounds_timestamps(
    client: httpx.AsyncClient, settings: Settings, testdata: Path
) -> None:
    clips = [testdata / c for c in ("jfk.flac", "leopard_test_en.wav", "jfk.flac")]
    samples = media.concat(clips, gap_seconds=0.5)  # 29.4 s
    seconds = samples.size / 16000
    lying = doctored_matroska(samples)
    assert audio.probe(io.BytesIO(lying)).duration == 1.0
    name = f"bill-{uuid.uuid4().hex[:6]}"
    auth = {"Authorization": f"Bearer {key_with_credits(settings.sync_database_url, name, credits=10)}"}
    r = await client.post(
        "/v1/audio/transcriptions", headers=auth, files={"file": ("a.mkv", lying)}, data={"model": "whisper-base"}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["duration"] == pytest.approx(seconds, abs=0.05)
    assert body["segments"][-1]["end"] > seconds - 3  # not clamped to what the header claimed
    job = _job(settings, r.headers["x-job-id"])
    price = MODELS["whisper-base"].prices.per_audio_second
    assert job.audio_seconds == pytest.approx(seconds, abs=0.05)
    assert job.charged_credits == pytest.approx(seconds * price * 1_000_000, rel=0.01)
    assert job.reserved_credits == pytest.approx(1.0 * price * 1_000_000, rel=0.01)  # the header's estimate


def test_one_vad_pass_feeds_the_decoder_and_the_diarizer(
    model_dir: Path, testdata: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import faster_whisper.vad

    from workers import speech_map
    from workers.engines import load_engine
    from workers.engines.diarize import BundledDiarizer
    from workers.transcribe import STTRequest, transcribe_file

    clips = ["jfk.flac", "leopard_test_en.wav"] * 8
    samples = media.concat([testdata / c for c in clips], gap_seconds=0.5)  # 143 s: three decoded blocks
    path = tmp_path / "long.flac"
    path.write_bytes(audio.encode(samples, 16000, "flac"))
    calls = {"map": 0, "faster_whisper_vad": 0}
    real_probabilities = speech_map.probabilities
    real_timestamps = faster_whisper.vad.get_speech_timestamps

    def counted_probabilities(block: np.ndarray) -> np.ndarray:
        calls["map"] += 1
        return real_probabilities(block)

    def counted_timestamps(*args: Any, **kwargs: Any) -> Any:
        calls["faster_whisper_vad"] += 1
        return real_timestamps(*args, **kwargs)

    monkeypatch.setattr(speech_map, "probabilities", counted_probabilities)
    monkeypatch.setattr(faster_whisper.vad, "get_speech_timestamps", counted_timestamps)
    monkeypatch.setattr("faster_whisper.transcribe.get_speech_timestamps", counted_timestamps)
    engine = load_engine(MODELS["whisper-base"], model_dir)
    transcript = transcribe_file(
        engine,
        path,
        STTRequest(diarization=True, words=True),
        expected_duration=samples.size / 16000,
        chunk_seconds=60,
        diarizer=BundledDiarizer.load(),
    )
    assert calls == {"map": 3, "faster_whisper_vad": 0}  # once per decoded block, never again by anyone
    assert transcript.duration == pytest.approx(samples.size / 16000, abs=0.01)
    reference = " ".join((testdata / c).with_suffix(".txt").read_text() for c in clips)
    assert wer(reference, transcript.text) <= 0.1 and transcript.speakers
