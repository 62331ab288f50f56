"""The voice library: consent (attested, or a consent recording checked by Whisper and a speaker encoder),
description, labels, samples, preview, PATCH; presets carry their language, accent and gender."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared import audio
from shared.config import Settings
from shared.jobs import TERMINAL
from tests.services import wait_job

pytestmark = pytest.mark.integration


async def clone(client: httpx.AsyncClient, auth: dict[str, str], content: bytes, **data: str) -> httpx.Response:
    return await client.post(
        "/v1/voices/clone",
        headers=auth,
        files={"file": ("sample.wav", content)},
        data={"name": "Library voice", "model": "piper", **data},
    )


async def test_cloning_needs_consent(client: httpx.AsyncClient, auth: dict[str, str], testdata: Path) -> None:
    sample = (testdata / "leopard_test_en.wav").read_bytes()
    before = len((await client.get("/v1/voices", headers=auth)).json()["data"])
    r = await clone(client, auth, sample)
    assert r.status_code == 400 and r.json()["error"]["param"] == "consent", r.text
    assert "consent=true" in r.json()["error"]["message"]
    assert len((await client.get("/v1/voices", headers=auth)).json()["data"]) == before  # nothing was kept
    stated = await clone(client, auth, sample, consent_statement="Recorded release form, 2026-11-30")
    assert stated.status_code == 200, stated.text
    consent = stated.json()["consent"]
    assert consent["type"] == "attestation" and consent["statement"] == "Recorded release form, 2026-11-30"
    assert consent["given_at"]


async def test_library_fields_preview_and_patch(
    client: httpx.AsyncClient, auth: dict[str, str], testdata: Path
) -> None:
    r = await clone(
        client,
        auth,
        (testdata / "jfk.flac").read_bytes(),
        consent="true",
        description="A 1961 speech",
        labels='{"accent": "American", "age": "middle aged", "gender": "male", "use_case": "speeches"}',
    )
    assert r.status_code == 200, r.text
    voice = r.json()
    assert voice["description"] == "A 1961 speech" and voice["labels"]["use_case"] == "speeches"
    assert voice["samples"] == [{"name": "sample.wav", "seconds": pytest.approx(11.0, abs=0.1), "file_id": None}]
    assert "piper" in voice["models"] and voice["consent"]["type"] == "attestation"
    assert voice["preview_url"] == f"/v1/voices/{voice['id']}/preview"
    preview = await client.get(voice["preview_url"], headers=auth)
    assert preview.status_code == 200 and preview.headers["content-type"] == "audio/mpeg"
    assert 2.0 < audio.probe(io.BytesIO(preview.content)).duration < 12.0

    patched = await client.patch(
        f"/v1/voices/{voice['id']}", headers=auth, json={"name": "Kennedy", "labels": {"accent": "Boston"}}
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["name"] == "Kennedy" and patched.json()["labels"] == {"accent": "Boston"}
    assert patched.json()["description"] == "A 1961 speech"  # absent fields stay
    for body in ({"labels": {"Bad Key": "x"}}, {"labels": {"a": ""}}, {"name": ""}, {"model": "xtts-v2"}):
        bad = await client.patch(f"/v1/voices/{voice['id']}", headers=auth, json=body)
        assert bad.status_code == 400, (body, bad.text)
    bad_labels = await clone(client, auth, b"x", consent="true", labels="[1, 2]")
    assert bad_labels.status_code == 400 and bad_labels.json()["error"]["param"] == "labels"
    assert (await client.delete(f"/v1/voices/{voice['id']}", headers=auth)).status_code == 200
    gone = await client.get(voice["preview_url"], headers=auth)
    assert gone.status_code == 404


@pytest.fixture(scope="module")
async def strict_client(settings: Settings, worker: Any) -> AsyncIterator[httpx.AsyncClient]:
    """An API process of the same platform that asks for consent recordings (CLONE_CONSENT=recording)."""
    from api.main import create_app

    application = create_app(settings.model_copy(update={"clone_consent": "recording"}))
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver", timeout=300) as c:
            yield c


async def _kokoro(client: httpx.AsyncClient, auth: dict[str, str], voice: str, text: str) -> bytes:
    r = await client.post(
        "/v1/audio/speech",
        headers=auth,
        json={"model": "kokoro", "voice": voice, "input": text, "response_format": "wav", "stream": False},
    )
    assert r.status_code == 200, r.text
    return r.content


async def test_consent_recording_is_transcribed_and_matched_to_the_samples(
    strict_client: httpx.AsyncClient, auth: dict[str, str], settings: Settings
) -> None:
    """Kokoro's voices stand in for people: the sample and the consent recording by the same voice pass; the right
    phrase in another voice, or the same voice saying something else, is refused with what failed."""
    phrase = settings.consent_phrase
    sample_text = (
        "The birch canoe slid on the smooth planks. Glue the sheet to the dark blue background. "
        "It is easy to tell the depth of a well. These days a chicken leg is a rare dish."
    )
    sample = await _kokoro(strict_client, auth, "af_heart", sample_text)

    async def attempt(recording: bytes | None) -> httpx.Response:
        files = [("file", ("sample.wav", sample))]
        if recording is not None:
            files.append(("consent_recording", ("consent.wav", recording)))
        return await strict_client.post(
            "/v1/voices/clone",
            headers=auth,
            files=files,
            data={"name": "Strict", "model": "piper", "consent": "true"},
        )

    missing = await attempt(None)
    assert missing.status_code == 400 and missing.json()["error"]["param"] == "consent_recording"
    assert phrase in missing.json()["error"]["message"]

    same = await attempt(await _kokoro(strict_client, auth, "af_heart", phrase))
    assert same.status_code == 200, same.text
    consent = same.json()["consent"]
    print("same speaker:", consent)
    assert consent["type"] == "recording" and consent["verified"] is True
    assert consent["phrase_wer"] <= 0.35 and consent["speaker_similarity"] >= 0.62

    other_voice = await attempt(await _kokoro(strict_client, auth, "am_onyx", phrase))
    print("other speaker:", other_voice.json())
    assert other_voice.status_code == 400 and "does not match the samples" in other_voice.json()["error"]["message"]

    wrong_words = await attempt(await _kokoro(strict_client, auth, "af_heart", "Four hours of steady work faced us."))
    assert wrong_words.status_code == 400
    assert "does not say the consent phrase" in wrong_words.json()["error"]["message"]


async def test_closest_stock_voice_design(client: httpx.AsyncClient, auth: dict[str, str], testdata: Path) -> None:
    """Not cloning: a reference picks Kokoro's closest stock voices by CAM++ similarity. A stock voice's own speech
    finds that voice among the others; Kennedy's voice gets a blend; the designed voice speaks on Kokoro only."""
    onyx = await _kokoro(client, auth, "am_onyx", "Four hours of steady work faced us, and the hogs were fed.")

    async def design(content: bytes, **data: str) -> httpx.Response:
        """Async, followed to its end: the first design describes the 13 English male stock voices."""
        r = await client.post(
            "/v1/voices/design",
            headers=auth,
            files={"file": ("ref.wav", content)},
            data={"name": "Closest", "language": "en", "gender": "male", "async": "true", **data},
        )
        if r.status_code != 202:
            return r
        job = await wait_job(client, auth, r.json()["job_id"], set(TERMINAL), timeout=600)
        assert job["status"] == "succeeded", job
        return await client.get(f"/v1/voices/{r.json()['id']}", headers=auth)

    found = await design(onyx, blend="1")
    assert found.status_code == 200, found.text
    assert found.json()["type"] == "designed" and found.json()["preset"] == "am_onyx"
    voices = (await client.get("/v1/jobs?kind=design", headers=auth)).json()["data"]
    job = (await client.get(f"/v1/jobs/{voices[0]['id']}", headers=auth)).json()
    assert job["kind"] == "design" and job["result"]["candidates"][0]["voice"] == "am_onyx"
    assert set(job["result"]["similarity"]) == {"campplus", "resemblyzer"}

    kennedy = await design((testdata / "jfk.flac").read_bytes())
    assert kennedy.status_code == 200, kennedy.text
    voice = kennedy.json()
    parts = [p.split("(")[0] for p in voice["preset"].split("+")]
    assert all(p.startswith(("am_", "bm_")) for p in parts), voice["preset"]  # the filter holds
    assert voice["models"] == ["kokoro"] and voice["labels"] == {"type": "closest stock voice"}
    spoken = await client.post(
        "/v1/audio/speech",
        headers=auth,
        json={"model": "kokoro", "voice": voice["id"], "input": "Ask not.", "stream": False},
    )
    assert spoken.status_code == 200, spoken.text
    elsewhere = await client.post(
        "/v1/audio/speech", headers=auth, json={"model": "piper", "voice": voice["id"], "input": "Ask not."}
    )
    assert elsewhere.status_code == 400 and "kokoro" in elsewhere.json()["error"]["message"]
    not_blendable = await design(onyx, model="piper")
    assert not_blendable.status_code == 400 and not_blendable.json()["error"]["param"] == "model"
