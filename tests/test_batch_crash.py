"""A batch survives its worker's child killed mid-job and its Redis killed (nothing kept on disk) and started again:
every item ends as exactly one job, every job succeeds, each is charged once, and the balance equals the ledger.

The module has its own Redis server and worker, so killing them touches nothing else."""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import psutil
import pytest
import redis
from sqlalchemy import select

from shared import credits
from shared.cli.launcher import redis_server_argv
from shared.config import Settings
from shared.db.models import Account, BatchItem, Job, LedgerEntry
from shared.db.session import session_scope
from tests.accounts import key_with_credits
from tests.services import Proc, free_port, spawn, start_worker, wait_for

pytestmark = pytest.mark.integration

TEXT = "Every item of a batch runs once and is paid for once, whatever process dies on the way. " * 2


class RestartableRedis:
    def __init__(self, log_dir: Path) -> None:
        self.port, self.log_dir = free_port(), log_dir
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: Proc | None = None

    def start(self) -> None:
        self.proc = spawn(f"redis-batch-{self.port}", redis_server_argv(self.port, self.log_dir), self.log_dir)
        wait_for(lambda: bool(redis.Redis.from_url(self.url).ping()), timeout=15, what="redis")

    def kill(self) -> None:
        assert self.proc is not None
        os.killpg(self.proc.popen.pid, signal.SIGKILL)
        self.proc.popen.wait(timeout=10)


@pytest.fixture(scope="module")
def own_redis(session_dir: Path) -> Iterator[RestartableRedis]:
    server = RestartableRedis(session_dir / "logs")
    server.start()
    yield server
    if server.proc is not None:
        server.proc.stop()


@pytest.fixture(scope="module")
def batch_worker(platform_env: dict[str, str], own_redis: RestartableRedis, session_dir: Path) -> Iterator[Proc]:
    proc = start_worker({**platform_env, "REDIS_URL": own_redis.url}, "piper", session_dir / "logs", "worker-batch")
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
async def batch_client(own_redis: RestartableRedis, batch_worker: Proc) -> AsyncIterator[httpx.AsyncClient]:
    from api.main import create_app

    # the reconciler looks often, so what Redis lost is sent again within seconds
    settings = Settings(redis_url=own_redis.url, reconcile_interval_seconds=1.0, reconcile_queued_after_seconds=3.0)
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://batch-crash", timeout=120) as client,
    ):
        yield client


async def _counts(client: httpx.AsyncClient, auth: dict[str, str], batch_id: str) -> dict:
    r = await client.get(f"/v1/batches/{batch_id}", headers=auth)
    assert r.status_code == 200, r.text
    return dict(r.json())


async def _until(client: httpx.AsyncClient, auth: dict[str, str], batch_id: str, done: object, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    body: dict = {}
    while time.monotonic() < deadline:
        try:
            body = await _counts(client, auth, batch_id)
        except (httpx.HTTPError, AssertionError):  # Redis is down for a moment: the API may answer 503
            await asyncio.sleep(0.3)
            continue
        if done(body):  # type: ignore[operator]
            return body
        await asyncio.sleep(0.2)
    raise AssertionError(f"batch {batch_id}: {body.get('status')} {body.get('request_counts')}")


async def test_batch_survives_a_killed_worker_child_and_a_redis_restart(
    batch_client: httpx.AsyncClient, batch_worker: Proc, own_redis: RestartableRedis, settings: Settings
) -> None:
    url = settings.sync_database_url
    name = f"batch-crash-{uuid.uuid4().hex[:8]}"
    auth = {"Authorization": f"Bearer {key_with_credits(url, name, credits=100)}"}
    with session_scope(url) as session:
        account_id = session.execute(select(Account.id).where(Account.name == name)).scalar_one()
    requests = [
        {"custom_id": f"r{n}", "body": {"model": "piper", "voice": "joe", "input": f"{n}. {TEXT}", "format": "wav"}}
        for n in range(24)
    ]
    r = await batch_client.post(
        "/v1/batches",
        headers=auth,
        json={"endpoint": "/v1/audio/speech", "requests": requests, "completion_window": "24h", "max_concurrency": 3},
    )
    assert r.status_code == 200, r.text
    batch_id = r.json()["id"]

    # a child of the worker killed while it runs an item
    await _until(batch_client, auth, batch_id, lambda b: b["request_counts"]["running"] >= 1, 60)
    children = [p for p in psutil.Process(batch_worker.popen.pid).children() if p.is_running()]
    assert len(children) == 1
    os.kill(children[0].pid, signal.SIGKILL)

    # then Redis killed with everything queued in it, and started again empty
    await _until(batch_client, auth, batch_id, lambda b: b["request_counts"]["completed"] >= 6, 120)
    own_redis.kill()
    await asyncio.sleep(1.0)
    own_redis.start()

    done = await _until(batch_client, auth, batch_id, lambda b: b["status"] in ("completed", "failed"), 240)
    assert done["status"] == "completed", done
    assert done["request_counts"]["completed"] == 24 and done["request_counts"]["failed"] == 0

    with session_scope(url) as session:
        items = session.execute(select(BatchItem).where(BatchItem.batch_id == batch_id)).scalars().all()
        jobs_ = session.execute(select(Job).where(Job.batch_id == batch_id)).scalars().all()
        assert len(items) == 24 and len({i.job_id for i in items}) == 24  # one job per item
        assert len(jobs_) == 24 and {j.state for j in jobs_} == {"succeeded"}
        assert max(j.attempts for j in jobs_) >= 2  # the killed one ran again (and was charged once)
        entries = session.execute(select(LedgerEntry).where(LedgerEntry.job_id.in_([j.id for j in jobs_]))).scalars()
        per_job: dict[str, Counter[str]] = {}
        for entry in entries:
            per_job.setdefault(entry.job_id or "", Counter())[entry.reason] += 1
        assert all(c == {"reserve": 1, "release": 1, "charge": 1} for c in per_job.values()), per_job
        charged = sum(j.charged_credits for j in jobs_)
        balance, total = credits.audit(session, account_id)
        assert balance == total == 100_000_000 - charged
