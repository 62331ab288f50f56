"""A Celery child killed (SIGKILL) in the middle of a job: the job is redelivered, completes once, is charged once."""

from __future__ import annotations

import asyncio
import os
import signal
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import psutil
import pytest
from sqlalchemy import select

from shared import credits
from shared.catalog import MODELS
from shared.config import Settings
from shared.db.models import Account, Job, LedgerEntry
from shared.db.session import session_scope
from shared.pricing import tts_cost
from tests.accounts import key_with_credits
from tests.services import Proc, start_worker

pytestmark = pytest.mark.integration

# about two minutes of speech, several seconds of synthesis: the job is mid-flight when its process is killed
SENTENCE = "A worker that dies in the middle of a job must not make the customer pay for it twice. "
LONG_TEXT = (SENTENCE * 20)[:1500].strip()


@pytest.fixture(scope="module")
def crash_env(platform_env: dict[str, str], redis_url: str) -> dict[str, str]:
    # its own Redis database: only this module's worker takes these jobs (and only its child gets killed)
    return {**platform_env, "REDIS_URL": redis_url.rsplit("/", 1)[0] + "/5"}


@pytest.fixture(scope="module")
def crash_worker(crash_env: dict[str, str], session_dir: Path) -> Iterator[Proc]:
    proc = start_worker(crash_env, "piper", session_dir / "logs", name="worker-crash")
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
async def crash_client(crash_env: dict[str, str], crash_worker: Proc) -> AsyncIterator[httpx.AsyncClient]:
    from api.main import create_app

    app = create_app(Settings(redis_url=crash_env["REDIS_URL"]))
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://crash", timeout=120) as client,
    ):
        yield client


async def _wait_for(client: httpx.AsyncClient, auth: dict[str, str], job_id: str, states: set[str]) -> dict:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 300
    while loop.time() < deadline:
        job = (await client.get(f"/v1/jobs/{job_id}", headers=auth)).json()
        if job["status"] in states:
            return job
        await asyncio.sleep(0.05)
    raise AssertionError(f"job {job_id} never reached {states}")


def _pool_children(worker: Proc) -> list[psutil.Process]:
    return [p for p in psutil.Process(worker.popen.pid).children() if p.is_running()]


async def test_killed_worker_child_job_completes_and_is_charged_once(
    crash_client: httpx.AsyncClient, crash_worker: Proc, settings: Settings
) -> None:
    url = settings.sync_database_url
    name = f"crash-{uuid.uuid4().hex[:8]}"
    auth = {"Authorization": f"Bearer {key_with_credits(url, name, credits=100)}"}
    cost = tts_cost(MODELS["piper"], LONG_TEXT).micros
    assert cost == len(LONG_TEXT) * 1_000  # 1 credit per 1000 characters

    r = await crash_client.post(
        "/v1/audio/speech",
        headers=auth,
        json={"model": "piper", "voice": "joe", "input": LONG_TEXT, "format": "wav", "async": True},
    )
    assert r.status_code == 202, r.text
    job_id = r.json()["id"]
    running = await _wait_for(crash_client, auth, job_id, {"running", "succeeded", "failed"})
    assert running["status"] == "running" and running["attempts"] == 1

    children = _pool_children(crash_worker)
    assert len(children) == 1, children  # --concurrency 1: the one child runs this job
    victim = children[0]
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait(timeout=30)

    done = await _wait_for(crash_client, auth, job_id, {"succeeded", "failed", "canceled"})
    assert done["status"] == "succeeded", done
    assert done["attempts"] == 2  # redelivered to a fresh child and claimed again
    assert victim.pid not in {p.pid for p in _pool_children(crash_worker)}

    with session_scope(url) as session:
        account = session.execute(select(Account).where(Account.name == name)).scalar_one()
        job = session.get(Job, job_id)
        assert job is not None and job.state == "succeeded" and job.charged_credits == cost
        entries = session.execute(select(LedgerEntry).where(LedgerEntry.job_id == job_id)).scalars().all()
        assert Counter(e.reason for e in entries) == {"reserve": 1, "release": 1, "charge": 1}
        assert sum(e.amount for e in entries) == -cost  # charged once
        assert credits.audit(session, account.id) == (100_000_000 - cost,) * 2
    result = await crash_client.get(f"/v1/jobs/{job_id}/result", headers=auth)
    assert result.status_code == 200 and result.content[:4] == b"RIFF"
