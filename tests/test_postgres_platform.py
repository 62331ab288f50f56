"""The whole pipeline on PostgreSQL: async API (psycopg), a worker writing the job row, the state in SQL."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from shared.db.models import Job
from shared.db.session import session_scope
from tests.accounts import key_with_credits

pytestmark = [pytest.mark.integration, pytest.mark.postgres]


async def test_speech_on_postgres(pg_client: httpx.AsyncClient, pg_env: dict[str, str]) -> None:
    url = pg_env["DATABASE_URL"]
    key = key_with_credits(url, "pg-user")
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
    assert [j["id"] for j in listed.json()["data"]] == [job_id] and listed.json()["has_more"] is False
    ready = await pg_client.get("/readyz")
    assert ready.json()["checks"]["database"] == "ok"
