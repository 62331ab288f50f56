"""Queues by latency class, queue depth in /metrics, and cancel that stops the compute on the worker.

A dedicated worker (one child, its own Redis database) so the order it takes jobs in is this module's alone.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
import redis
from celery import Celery

from shared import audio, worker_registry
from shared.config import Settings
from shared.queues import PRIORITY_SEP, queue_name
from tests import media
from tests.accounts import key_with_credits
from tests.services import Proc, api_client, start_worker, wait_job

SENTENCE = "Batch work waits while the interactive request goes first, as it should. "


@pytest.fixture(scope="module")
def queue_env(platform_env: dict[str, str], redis_url: str) -> dict[str, str]:
    return {**platform_env, "REDIS_URL": redis_url.rsplit("/", 1)[0] + "/10", "WORKER_HEARTBEAT_SECONDS": "1"}


@pytest.fixture(scope="module")
def queue_worker(queue_env: dict[str, str], session_dir: Path) -> Iterator[Proc]:
    proc = start_worker(queue_env, "piper,whisper-base", session_dir / "logs", name="worker-queues")
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
async def queue_client(queue_env: dict[str, str], queue_worker: Proc) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(Settings(redis_url=queue_env["REDIS_URL"]), "queues", timeout=300) as client:
        yield client


@pytest.fixture
def auth(settings: Settings) -> dict[str, str]:
    return {"Authorization": f"Bearer {key_with_credits(settings.sync_database_url, f'q-{uuid.uuid4().hex[:6]}')}"}


def _started(job: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(job["started_at"].replace("Z", "+00:00"))


async def test_interactive_work_goes_before_queued_batch_work(
    queue_client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    client = queue_client
    body = {"model": "piper", "voice": "joe", "input": (SENTENCE * 4).strip(), "format": "wav"}
    batch = []
    for _ in range(4):  # async requests go to the batch class
        r = await client.post("/v1/audio/speech", headers=auth, json={**body, "async": True})
        assert r.status_code == 202
        batch.append(r.json()["id"])
    await wait_job(client, auth, batch[0], {"running"})  # the one child is busy, three wait behind it
    sync = await client.post("/v1/audio/speech", headers=auth, json={**body, "input": "Me first, please."})
    assert sync.status_code == 200, sync.text
    interactive = (await client.get(f"/v1/jobs/{sync.headers['x-job-id']}", headers=auth)).json()
    finished = [await wait_job(client, auth, job_id, {"succeeded"}) for job_id in batch]
    order = sorted(
        [("interactive", _started(interactive))] + [(f"batch{i}", _started(j)) for i, j in enumerate(finished)],
        key=lambda x: x[1],
    )
    assert [name for name, _ in order][:2] == ["batch0", "interactive"], order


async def test_queue_depth_counts_every_priority_list(
    queue_client: httpx.AsyncClient, queue_env: dict[str, str], queue_worker: Proc
) -> None:
    """Messages waiting under a priority (a separate Redis list) count in the queue's depth."""
    client = redis.Redis.from_url(queue_env["REDIS_URL"])
    queue = queue_name("stt", "whisper-large-v3", "batch")  # a queue no worker here consumes: messages stay
    try:
        client.lpush(queue, b"{}")  # two waiting messages: one plain, one at priority 6
        client.lpush(f"{queue}{PRIORITY_SEP}6", b"{}")
        text = (
            await queue_client.get("/metrics", headers={"Authorization": "Bearer test-metrics-token-0123456789"})
        ).text
    finally:
        client.delete(queue, f"{queue}{PRIORITY_SEP}6")
        client.close()
    line = next(
        line for line in text.splitlines() if line.startswith("s2s_queue_depth{") and f'queue="{queue}"' in line
    )
    assert 'latency_class="batch"' in line and 'model="whisper-large-v3"' in line
    assert float(line.rsplit(" ", 1)[1]) == 2.0
    live = next(line for line in text.splitlines() if line.startswith('s2s_workers_live{model="piper"}'))
    assert float(live.rsplit(" ", 1)[1]) >= 1


class TaskEvents:
    """Celery's task events for one task id, collected in the background (what Flower shows)."""

    def __init__(self, broker: str, task_id: str) -> None:
        self.app = Celery(broker=broker)
        self.task_id = task_id
        self.seen: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._ready = threading.Event()

    def _run(self) -> None:
        def on_event(event: dict[str, Any]) -> None:
            if event.get("uuid") == self.task_id:
                self.seen.append(event["type"])

        with self.app.connection() as conn:
            receiver = self.app.events.Receiver(conn, handlers={"*": on_event})
            self._ready.set()
            deadline = time.monotonic() + 240
            while not self._stop.is_set() and time.monotonic() < deadline:
                try:
                    receiver.capture(limit=None, timeout=0.5, wakeup=False)
                except TimeoutError:
                    continue
                except Exception:
                    time.sleep(0.2)

    def __enter__(self) -> TaskEvents:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.app.close()


async def test_cancel_stops_the_compute_on_its_worker(
    queue_client: httpx.AsyncClient, queue_env: dict[str, str], queue_worker: Proc, auth: dict[str, str], testdata: Path
) -> None:
    client = queue_client
    samples = media.concat([testdata / "jfk.flac"] * 20, gap_seconds=0.5)  # ~4 minutes: over a minute of work
    upload = audio.encode(samples, 16000, "flac")
    r = await client.post(
        "/v1/audio/transcriptions",
        headers=auth,
        files={"file": ("long.flac", upload)},
        data={"model": "whisper-base", "async": "true"},
    )
    assert r.status_code == 202, r.text
    job_id = r.json()["id"]
    with TaskEvents(queue_env["REDIS_URL"], job_id) as events:
        running = await wait_job(client, auth, job_id, {"running"}, timeout=120)
        assert running["status"] == "running"
        beats = redis.Redis.from_url(queue_env["REDIS_URL"])
        deadline = time.monotonic() + 10
        runner = None
        while runner is None and time.monotonic() < deadline:  # its heartbeat names the job it runs
            runner = next((w for w in worker_registry.snapshot(beats).workers if w.running == job_id), None)
            time.sleep(0.2)
        beats.close()
        assert runner is not None, "no worker advertises the running job"
        child = psutil.Process(runner.pid)
        canceled = await client.delete(f"/v1/jobs/{job_id}", headers=auth)
        assert canceled.status_code == 200 and canceled.json()["status"] == "canceled"
        started = time.monotonic()
        child.wait(timeout=10)  # the child running it is terminated: the compute stops
        stopped_after = time.monotonic() - started
        deadline = time.monotonic() + 10
        while "task-revoked" not in events.seen and time.monotonic() < deadline:
            time.sleep(0.1)
    print(f"compute stopped {stopped_after:.2f}s after the cancel; events {events.seen}")
    assert "task-revoked" in events.seen and "task-succeeded" not in events.seen
    job = (await client.get(f"/v1/jobs/{job_id}", headers=auth)).json()
    assert job["status"] == "canceled" and job["error"]["code"] == "canceled"
    # the worker replaced its child and serves again
    after = await client.post(
        "/v1/audio/speech", headers=auth, json={"model": "piper", "voice": "joe", "input": "Still here."}
    )
    assert after.status_code == 200
