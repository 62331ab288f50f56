"""The whole pipeline on PostgreSQL: async API (psycopg), a worker writing the job row, the state in SQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from shared.accounts import create_key, get_or_create_account
from shared.config import Settings
from shared.db.migrate import upgrade
from shared.db.models import Job
from shared.db.session import session_scope
from tests.services import Proc, start_worker

pytestmark = [pytest.mark.integration, pytest.mark.postgres]


@pytest.fixture(scope="module")
def pg_env(platform_env: dict[str, str], postgres_url: str, redis_url: str) -> dict[str, str]:
    # its own Redis database, so this worker and the SQLite one never take each other's jobs
    return {**platform_env, "DATABASE_URL": postgres_url, "REDIS_URL": redis_url.rsplit("/", 1)[0] + "/3"}


@pytest.fixture(scope="module")
def pg_worker(pg_env: dict[str, str], session_dir: Path) -> Iterator[Proc]:
    upgrade(pg_env["DATABASE_URL"])
    proc = start_worker(pg_env, "piper", session_dir / "logs", name="worker-pg")
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
async def pg_client(pg_env: dict[str, str], pg_worker: Proc) -> AsyncIterator[httpx.AsyncClient]:
    from api.main import create_app

    settings = Settings(database_url=pg_env["DATABASE_URL"], redis_url=pg_env["REDIS_URL"])
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://pg", timeout=120) as client:
            yield client


async def test_speech_on_postgres(pg_client: httpx.AsyncClient, pg_env: dict[str, str]) -> None:
    url = pg_env["DATABASE_URL"]
    with session_scope(url) as session:
        key = create_key(session, get_or_create_account(session, "pg-user"))
    auth = {"Authorization": f"Bearer {key}"}
    r = await pg_client.post(
        "/v1/audio/speech",
        headers=auth,
        json={"model": "piper", "voice": "joe", "input": "Stored in Postgres.", "format": "wav"},
    )
    assert r.status_code == 200, r.text
    job_id = r.headers["x-job-id"]
    with session_scope(url) as session:
        job = session.execute(select(Job).where(Job.id == job_id)).scalar_one()
        assert job.state == "succeeded" and job.attempts == 1 and job.result and job.result["format"] == "wav"
        assert job.started_at is not None and job.finished_at is not None and job.finished_at >= job.started_at
    listed = await pg_client.get("/v1/jobs", headers=auth)
    assert [j["id"] for j in listed.json()] == [job_id]
    ready = await pg_client.get("/readyz")
    assert ready.json()["checks"]["database"] == "ok"
