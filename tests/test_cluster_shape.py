"""Cluster-shaped: an API holding no model files and a worker holding them in another folder, on real Redis and SQL.

The API learns what is live from the worker's heartbeats only. Requests succeed while the worker runs; once it is
gone (SIGKILL: its beats expire; SIGTERM: it withdraws them) the API answers 503 `model_unavailable` within
seconds, and a model whose weights exist nowhere stays 404 `model_not_installed`.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from shared.config import Settings
from tests.accounts import key_with_credits
from tests.services import Proc, api_client, start_worker, wait_job

HEARTBEAT = "1"


@pytest.fixture(scope="module")
def cluster_env(platform_env: dict[str, str], redis_url: str) -> dict[str, str]:
    # its own Redis database: the workers of this module are the only ones the API sees
    return {**platform_env, "REDIS_URL": redis_url.rsplit("/", 1)[0] + "/9", "WORKER_HEARTBEAT_SECONDS": HEARTBEAT}


@pytest.fixture(scope="module")
async def api_without_models(
    cluster_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[httpx.AsyncClient]:
    empty = tmp_path_factory.mktemp("api-models")
    settings = Settings(redis_url=cluster_env["REDIS_URL"], model_dir=empty, worker_heartbeat_seconds=float(HEARTBEAT))
    assert not any(empty.iterdir())
    async with api_client(settings, "cluster") as client:
        yield client


def start_remote_worker(env: dict[str, str], session_dir: Path, name: str) -> Proc:
    return start_worker(env, "piper,whisper-tiny.en", session_dir / "logs", name=name)


async def until(check: object, timeout: float) -> float:
    """Seconds until the async `check()` is true (fails past the timeout)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if await check():  # type: ignore[operator]
            return time.monotonic() - started
        await asyncio.sleep(0.1)
    raise AssertionError(f"not true within {timeout:.0f}s")


async def test_models_live_only_through_worker_heartbeats(
    api_without_models: httpx.AsyncClient, cluster_env: dict[str, str], session_dir: Path, settings: Settings
) -> None:
    client = api_without_models
    auth = {"Authorization": f"Bearer {key_with_credits(settings.sync_database_url, f'cl-{uuid.uuid4().hex[:6]}')}"}
    speech = {"model": "piper", "voice": "joe", "input": "The worker holds the model, not the API."}

    async def model(model_id: str) -> dict:
        return (await client.get(f"/v1/models/{model_id}", headers=auth)).json()

    # before any worker: the weights are nowhere the API knows of
    before = await client.post("/v1/audio/speech", headers=auth, json=speech)
    assert before.status_code == 404 and before.json()["error"]["code"] == "model_not_installed"

    worker = start_remote_worker(cluster_env, session_dir, "worker-remote")
    try:

        async def piper_live() -> bool:
            return bool((await model("piper"))["live"])

        await until(piper_live, 30)
        piper = await model("piper")
        assert piper["installed"] and piper["workers"] >= 1 and piper["voices"] == ["joe"]
        assert not (await model("whisper-base"))["live"]  # on that disk, but not hosted by it

        sync = await client.post("/v1/audio/speech", headers=auth, json=speech)
        assert sync.status_code == 200 and sync.headers["content-type"] == "audio/mpeg", sync.text
        queued = await client.post("/v1/audio/speech", headers=auth, json={**speech, "async": True})
        assert queued.status_code == 202
        done = await wait_job(client, auth, queued.json()["id"], {"succeeded", "failed"})
        assert done["status"] == "succeeded" and done["result"]["characters"] == len(speech["input"])
        text = await client.post(
            "/v1/audio/transcriptions",
            headers=auth,
            files={"file": ("s.mp3", sync.content)},
            data={"model": "whisper-tiny.en"},
        )
        assert text.status_code == 200 and "worker" in text.json()["text"].lower(), text.text
        # a model no worker has the weights of is still "not installed"
        fish = await client.post("/v1/audio/speech", headers=auth, json={**speech, "model": "fish-speech-v1.5"})
        assert fish.status_code == 404 and fish.json()["error"]["code"] == "model_not_installed"
        assert "s2s models install fish-speech-v1.5" in fish.json()["error"]["message"]

        # SIGKILL: nothing withdraws the beats, they expire (three missed intervals)
        os.killpg(worker.popen.pid, signal.SIGKILL)
        worker.popen.wait(timeout=10)
    finally:
        worker.stop()

    async def unavailable() -> bool:  # asked of /v1/models: a speech request accepted meanwhile would wait its job
        return not (await model("piper"))["live"]

    waited = await until(unavailable, 15)
    assert waited < 6  # three missed one-second beats, plus the API's one-second cache
    gone = await client.post("/v1/audio/speech", headers=auth, json=speech)
    err = gone.json()["error"]
    assert (
        err["code"] == "model_unavailable" and err["param"] == "model" and "s2s worker --models piper" in err["message"]
    )
    assert int(gone.headers["retry-after"]) >= 1
    print(f"503 model_unavailable {waited:.1f}s after the worker was killed")
    piper = await model("piper")
    assert piper["installed"] and not piper["live"] and piper["workers"] == 0

    # SIGTERM: the worker withdraws its beats as it stops, so the API knows at once
    worker = start_remote_worker(cluster_env, session_dir, "worker-remote-2")
    try:
        await until(piper_live, 30)
        assert (await client.post("/v1/audio/speech", headers=auth, json=speech)).status_code == 200
    finally:
        worker.stop()
    waited = await until(unavailable, 10)
    assert waited < 2.5  # withdrawn at once (plus the API's one-second cache), not left to expire
    assert (await client.post("/v1/audio/speech", headers=auth, json=speech)).status_code == 503
    print(f"503 model_unavailable {waited:.1f}s after the worker stopped")


async def test_a_model_on_demand_is_queued_until_its_pool_scales_up(
    cluster_env: dict[str, str], session_dir: Path, settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """MODELS_ON_DEMAND (a pool that scales to zero): with no worker, a request is queued, not refused; the job
    waits in the model's queue (where the autoscaler reads the depth) and runs once a worker starts."""
    empty = tmp_path_factory.mktemp("api-models-on-demand")
    on_demand = Settings(
        redis_url=cluster_env["REDIS_URL"],
        model_dir=empty,
        worker_heartbeat_seconds=float(HEARTBEAT),
        models_on_demand=["piper"],
    )
    auth = {"Authorization": f"Bearer {key_with_credits(settings.sync_database_url, f'od-{uuid.uuid4().hex[:6]}')}"}
    speech = {"model": "piper", "voice": "joe", "input": "Queued while the pool was at zero.", "async": True}
    async with api_client(on_demand, "on-demand") as client:
        assert not (await client.get("/v1/models/piper", headers=auth)).json()["live"]
        queued = await client.post("/v1/audio/speech", headers=auth, json=speech)
        assert queued.status_code == 202, queued.text
        job_id = queued.json()["id"]
        await asyncio.sleep(1.0)
        assert (await client.get(f"/v1/jobs/{job_id}", headers=auth)).json()["status"] == "queued"
        import redis

        depth = redis.Redis.from_url(cluster_env["REDIS_URL"]).llen("tts.piper.batch")
        assert depth == 1  # what a KEDA redis trigger on the pool's queues reads
        worker = start_remote_worker(cluster_env, session_dir, "worker-on-demand")
        try:
            done = await wait_job(client, auth, job_id, {"succeeded", "failed"}, timeout=120)
            assert done["status"] == "succeeded"
        finally:
            worker.stop()
