"""End to end through the API, real Redis, a real Celery worker process, SeaweedFS and the bundled models."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from shared import audio
from tests.text import wer

pytestmark = pytest.mark.integration

SENTENCE = "The quick brown fox jumps over the lazy dog near the old stone bridge."


async def test_speech_then_transcription_roundtrip(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    r = await client.post(
        "/v1/audio/speech", headers=auth, json={"model": "piper", "voice": "joe", "input": SENTENCE, "format": "wav"}
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "audio/wav"
    info = audio.probe(io.BytesIO(r.content))
    assert info.sample_rate == 22050 and 2.0 < info.duration < 8.0

    t = await client.post(
        "/v1/audio/transcriptions",
        headers=auth,
        files={"file": ("speech.wav", r.content, "audio/wav")},
        data={"model": "whisper-base"},
    )
    assert t.status_code == 200, t.text
    body = t.json()
    assert body["language"] == "en"
    assert wer(SENTENCE, body["text"]) <= 0.1, body["text"]
    assert body["segments"] and body["segments"][0]["start"] >= 0 and body["segments"][-1]["end"] <= body["duration"]


@pytest.mark.parametrize(("fmt", "content_type"), [("mp3", "audio/mpeg"), ("ogg", "audio/ogg"), ("flac", "audio/flac")])
async def test_speech_formats(client: httpx.AsyncClient, auth: dict[str, str], fmt: str, content_type: str) -> None:
    r = await client.post(
        "/v1/audio/speech",
        headers=auth,
        json={"model": "piper", "voice": "joe", "input": "Format check.", "format": fmt},
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == content_type
    assert audio.probe(io.BytesIO(r.content)).duration > 0.3


async def test_speed_changes_duration(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    durations = {}
    for speed in (0.5, 2.0):
        r = await client.post(
            "/v1/audio/speech",
            headers=auth,
            json={"model": "piper", "voice": "joe", "input": SENTENCE, "format": "wav", "speed": speed},
        )
        assert r.status_code == 200
        durations[speed] = audio.probe(io.BytesIO(r.content)).duration
    assert durations[0.5] > 2.5 * durations[2.0]


async def test_transcribe_jfk(client: httpx.AsyncClient, auth: dict[str, str], testdata: Path) -> None:
    reference = (testdata / "jfk.txt").read_text()
    r = await client.post(
        "/v1/audio/transcriptions",
        headers=auth,
        files={"file": ("jfk.flac", (testdata / "jfk.flac").read_bytes(), "audio/flac")},
        data={"model": "whisper-base"},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert wer(reference, body["text"]) <= 0.1, body["text"]
    assert body["duration"] == pytest.approx(11.0, abs=0.05)


async def test_transcribe_with_tiny_en(client: httpx.AsyncClient, auth: dict[str, str], testdata: Path) -> None:
    r = await client.post(
        "/v1/audio/transcriptions",
        headers=auth,
        files={"file": ("jfk.flac", (testdata / "jfk.flac").read_bytes())},
        data={"model": "whisper-tiny.en"},
    )
    assert r.status_code == 200, r.text
    assert wer((testdata / "jfk.txt").read_text(), r.json()["text"]) <= 0.15


async def _poll(client: httpx.AsyncClient, auth: dict[str, str], job_id: str, timeout: float = 120) -> dict:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        job = (await client.get(f"/v1/jobs/{job_id}", headers=auth)).json()
        if job["status"] in ("succeeded", "failed", "canceled"):
            return job
        await asyncio.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish")


async def test_async_speech_job_and_result(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    r = await client.post(
        "/v1/audio/speech",
        headers=auth,
        json={"model": "piper", "voice": "joe", "input": "An asynchronous job.", "format": "mp3", "async": True},
    )
    assert r.status_code == 202, r.text
    job = r.json()
    assert job["id"].startswith("job_") and job["status"] in ("queued", "running", "succeeded")
    assert r.headers["location"].endswith(f"/v1/jobs/{job['id']}")
    done = await _poll(client, auth, job["id"])
    assert done["status"] == "succeeded" and done["progress"] == 1.0 and done["attempts"] == 1
    assert done["result"]["format"] == "mp3" and done["result"]["duration"] > 0.5
    result = await client.get(f"/v1/jobs/{job['id']}/result", headers=auth)
    assert result.status_code == 200 and result.headers["content-type"] == "audio/mpeg"
    assert audio.probe(io.BytesIO(result.content)).duration == pytest.approx(done["result"]["duration"], abs=0.1)
    # the S3 store hands out a presigned URL that works without the API key
    assert done["presigned_url"]
    direct = httpx.get(done["presigned_url"])
    assert direct.status_code == 200 and direct.content == result.content


async def test_async_transcription_via_prefer_header(
    client: httpx.AsyncClient, auth: dict[str, str], testdata: Path
) -> None:
    r = await client.post(
        "/v1/audio/transcriptions",
        headers={**auth, "Prefer": "respond-async"},
        files={"file": ("en.wav", (testdata / "leopard_test_en.wav").read_bytes())},
        data={"model": "whisper-base"},
    )
    assert r.status_code == 202, r.text
    done = await _poll(client, auth, r.json()["id"])
    assert done["status"] == "succeeded"
    assert wer((testdata / "leopard_test_en.txt").read_text(), done["result"]["text"]) <= 0.1
    srt = await client.get(f"/v1/jobs/{done['id']}/result", headers=auth, params={"response_format": "srt"})
    assert srt.status_code == 200 and srt.text.startswith("1\n00:00:0")
    assert wer((testdata / "leopard_test_en.txt").read_text(), srt.text.split("\n", 2)[2]) <= 0.1


async def test_other_accounts_job_is_not_found(
    client: httpx.AsyncClient, auth: dict[str, str], make_key: Callable[[str], str]
) -> None:
    r = await client.post(
        "/v1/audio/speech",
        headers=auth,
        json={"model": "piper", "voice": "joe", "input": "Private.", "async": True},
    )
    job_id = r.json()["id"]
    other = {"Authorization": f"Bearer {make_key('someone-else')}"}
    for method, path in (
        ("GET", f"/v1/jobs/{job_id}"),
        ("GET", f"/v1/jobs/{job_id}/result"),
        ("DELETE", f"/v1/jobs/{job_id}"),
    ):
        resp = await client.request(method, path, headers=other)
        assert resp.status_code == 404, (method, path, resp.text)
        assert resp.json()["error"]["code"] == "not_found"
    listed = (await client.get("/v1/jobs", headers=other)).json()
    assert all(j["id"] != job_id for j in listed["data"])
    assert (await _poll(client, auth, job_id))["status"] == "succeeded"


async def test_cancel_queued_job(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    # a long text keeps the single worker busy, so the second job is still queued when canceled
    busy = await client.post(
        "/v1/audio/speech",
        headers=auth,
        json={"model": "piper", "voice": "joe", "input": SENTENCE * 12, "async": True},
    )
    queued = await client.post(
        "/v1/audio/speech", headers=auth, json={"model": "piper", "voice": "joe", "input": "Never.", "async": True}
    )
    canceled = await client.delete(f"/v1/jobs/{queued.json()['id']}", headers=auth)
    assert canceled.status_code == 200 and canceled.json()["status"] == "canceled"
    assert (await _poll(client, auth, busy.json()["id"]))["status"] == "succeeded"
    final = await _poll(client, auth, queued.json()["id"])
    assert final["status"] == "canceled" and final["attempts"] == 0


async def test_models_list(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    r = await client.get("/v1/models", headers=auth)
    assert r.status_code == 200
    models = {m["id"]: m for m in r.json()["data"]}
    contract = {
        "fish-speech-v1.5",
        "orpheus-3b",
        "openvoice-v2",
        "xtts-v2",
        "whisper-large-v3",
        "whisper-turbo",
        "canary-qwen-2.5b",
    }
    assert contract | {"piper", "whisper-base", "whisper-tiny.en"} <= set(models)
    assert models["piper"]["installed"] and models["piper"]["voices"] == ["joe"] and models["piper"]["kind"] == "tts"
    assert models["whisper-base"]["installed"] and models["whisper-base"]["kind"] == "stt"
    assert not models["xtts-v2"]["installed"] and "pip install" in models["xtts-v2"]["install_hint"]
    one = await client.get("/v1/models/whisper-turbo", headers=auth)
    assert one.json()["installed"] is False


async def test_health_and_readiness(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json()["status"] == "ok"
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "redis": "ok", "store": "ok", "workers": "ok"}
    closed = await client.get("/metrics")
    assert closed.status_code == 403 and closed.json()["error"]["code"] == "metrics_forbidden"
    wrong = await client.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 403
    metrics = await client.get("/metrics", headers={"Authorization": "Bearer test-metrics-token-0123456789"})
    assert metrics.status_code == 200 and "s2s_http_requests_total" in metrics.text


async def test_metrics_carry_cluster_wide_job_histograms(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    """Workers aggregate queue wait, run time, real-time factor and credits in Redis; /metrics renders them, with
    SQL's jobs by state."""
    from prometheus_client.parser import text_string_to_metric_families

    def scrape(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        return {
            (s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text)
            for s in family.samples
        }

    headers = {"Authorization": "Bearer test-metrics-token-0123456789"}
    before = scrape((await client.get("/metrics", headers=headers)).text)
    speech = {"model": "piper", "voice": "joe", "input": "Counted once, in every histogram.", "format": "wav"}
    r = await client.post("/v1/audio/speech", headers=auth, json=speech)
    assert r.status_code == 200
    ended = ("s2s_jobs_ended_total", (("kind", "tts"), ("model", "piper"), ("state", "succeeded")))
    for _ in range(50):  # the worker counts a job as it ends it: bounded wait, normally already there
        after = scrape((await client.get("/metrics", headers=headers)).text)
        if after.get(ended, 0.0) > before.get(ended, 0.0):
            break
        await asyncio.sleep(0.1)
    piper = (("model", "piper"),)

    def grew(name: str, labels: tuple[tuple[str, str], ...] = piper) -> float:
        return after.get((name, labels), 0.0) - before.get((name, labels), 0.0)

    assert grew("s2s_jobs_ended_total", (("kind", "tts"), ("model", "piper"), ("state", "succeeded"))) == 1
    assert grew("s2s_job_run_seconds_count") == 1 and grew("s2s_job_queue_wait_seconds_count") == 1
    assert grew("s2s_job_real_time_factor_count") == 1 and 0 < grew("s2s_job_real_time_factor_sum") < 5
    assert grew("s2s_job_run_seconds_bucket", (("le", "+Inf"), ("model", "piper"))) == 1
    assert grew("s2s_credits_charged_total") == pytest.approx(len(speech["input"]) / 1000)  # 1 credit per 1000 chars
    assert after[("s2s_jobs", (("kind", "tts"), ("model", "piper"), ("state", "succeeded")))] >= 1
