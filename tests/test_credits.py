"""Credits under concurrency, through the real API, Redis and a Celery worker, on SQLite and on PostgreSQL:
a job reserves its cost before it is enqueued, is charged once when it succeeds, refunded when canceled."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import func, select

from shared import credits
from shared.catalog import MODELS
from shared.db.models import Account, Job, LedgerEntry
from shared.db.session import session_scope
from shared.pricing import tts_cost
from tests.accounts import key_with_credits

pytestmark = pytest.mark.integration

# 100 characters: 0.1 credit each with piper's 1 credit per 1000 characters
TEXT = "Credits are reserved before a job is queued, and each job is charged exactly once when it ends well."
COST = tts_cost(MODELS["piper"], TEXT).micros


@dataclass
class Platform:
    client: httpx.AsyncClient
    db_url: str


@pytest.fixture(params=["sqlite", "postgresql"])
def platform(request: pytest.FixtureRequest, settings: object) -> Platform:
    if request.param == "sqlite":
        return Platform(request.getfixturevalue("client"), request.getfixturevalue("settings").sync_database_url)
    return Platform(request.getfixturevalue("pg_client"), request.getfixturevalue("pg_env")["DATABASE_URL"])


def account_of(db_url: str, name: str) -> Account:
    with session_scope(db_url) as session:
        account = session.execute(select(Account).where(Account.name == name)).scalar_one()
        session.expunge(account)
        return account


def ledger_of(db_url: str, account_id: str) -> list[LedgerEntry]:
    with session_scope(db_url) as session:
        rows = list(
            session.execute(select(LedgerEntry).where(LedgerEntry.account_id == account_id).order_by(LedgerEntry.id))
            .scalars()
            .all()
        )
        session.expunge_all()
        return rows


async def test_fifty_concurrent_requests_against_credits_for_ten(platform: Platform) -> None:
    assert len(TEXT) == 100 and COST == 100_000
    name = f"race-{uuid.uuid4().hex[:8]}"
    # exactly ten jobs' worth; no rate or concurrency limit on this key, so only credits decide
    key = key_with_credits(
        platform.db_url, name, credits=10 * COST / 1_000_000, requests_per_minute=0, max_concurrent_jobs=0
    )
    auth = {"Authorization": f"Bearer {key}"}
    body = {"model": "piper", "voice": "joe", "input": TEXT, "format": "wav"}

    responses = await asyncio.gather(
        *(platform.client.post("/v1/audio/speech", headers=auth, json=body) for _ in range(50))
    )

    statuses = Counter(r.status_code for r in responses)
    assert statuses == {200: 10, 402: 40}, [(r.status_code, r.text[:200]) for r in responses if r.status_code >= 500]
    for r in responses:
        if r.status_code == 402:
            error = r.json()["error"]
            assert error["code"] == "insufficient_credits"
            assert "0.1 credits" in error["message"] and "s2s credits add" in error["message"]
        else:
            assert r.content[:4] == b"RIFF"

    account = account_of(platform.db_url, name)
    assert account.balance == 0
    entries = ledger_of(platform.db_url, account.id)
    assert sum(e.amount for e in entries) == account.balance == 0
    with session_scope(platform.db_url) as session:
        job_rows = session.execute(select(Job).where(Job.account_id == account.id)).scalars().all()
        # the 40 refused requests left no job behind (so nothing was enqueued for them)
        assert len(job_rows) == 10
        assert {j.state for j in job_rows} == {"succeeded"}
        assert all(j.reserved_credits == j.charged_credits == COST and j.characters == 100 for j in job_rows)
    by_job = Counter((e.job_id, e.reason) for e in entries if e.job_id)
    assert set(by_job.values()) == {1}  # one reserve, one release, one charge per job: never twice
    assert Counter(reason for _, reason in by_job) == {"reserve": 10, "release": 10, "charge": 10}
    assert Counter(e.reason for e in entries if e.job_id is None) == {"grant": 1}


async def test_cancel_refunds_everything(idle_client: httpx.AsyncClient, settings: object) -> None:
    url = settings.sync_database_url  # type: ignore[attr-defined]
    name = f"cancel-{uuid.uuid4().hex[:8]}"
    auth = {"Authorization": f"Bearer {key_with_credits(url, name, credits=1)}"}
    r = await idle_client.post(
        "/v1/audio/speech", headers=auth, json={"model": "piper", "voice": "joe", "input": TEXT, "async": True}
    )
    assert r.status_code == 202, r.text
    job_id = r.json()["id"]
    view = (await idle_client.get("/v1/account", headers=auth)).json()
    assert view["balance"] == pytest.approx(0.9) and view["reserved"] == pytest.approx(0.1)

    canceled = await idle_client.delete(f"/v1/jobs/{job_id}", headers=auth)
    assert canceled.status_code == 200 and canceled.json()["status"] == "canceled"
    again = await idle_client.delete(f"/v1/jobs/{job_id}", headers=auth)  # a second cancel moves no money
    assert again.status_code == 200

    account = account_of(url, name)
    assert account.balance == 1_000_000
    entries = ledger_of(url, account.id)
    assert [(e.reason, e.amount) for e in entries if e.job_id == job_id] == [("reserve", -COST), ("refund", COST)]
    assert sum(e.amount for e in entries) == account.balance
    view = (await idle_client.get("/v1/account", headers=auth)).json()
    assert view["balance"] == 1.0 and view["reserved"] == 0.0


async def test_transcription_is_charged_its_audio_seconds(
    client: httpx.AsyncClient, settings: object, testdata: object
) -> None:
    from pathlib import Path

    url = settings.sync_database_url  # type: ignore[attr-defined]
    name = f"stt-{uuid.uuid4().hex[:8]}"
    auth = {"Authorization": f"Bearer {key_with_credits(url, name, credits=1)}"}
    audio = (Path(str(testdata)) / "jfk.flac").read_bytes()
    r = await client.post(
        "/v1/audio/transcriptions", headers=auth, files={"file": ("jfk.flac", audio)}, data={"model": "whisper-base"}
    )
    assert r.status_code == 200, r.text
    job_id = r.headers["x-job-id"]
    duration = r.json()["duration"]
    account = account_of(url, name)
    with session_scope(url) as session:
        job = session.get(Job, job_id)
        assert job is not None
        # 0.02 credit per second of whisper-base, on the duration the worker decoded
        assert job.charged_credits == round(duration * 20_000) and job.audio_seconds == pytest.approx(duration)
        assert job.reserved_credits >= job.charged_credits
        assert credits.audit(session, account.id) == (1_000_000 - job.charged_credits,) * 2
        charges = session.execute(
            select(func.count())
            .select_from(LedgerEntry)
            .where(LedgerEntry.job_id == job_id, LedgerEntry.reason == "charge")
        ).scalar_one()
        assert charges == 1


async def test_a_balance_below_the_price_is_refused_before_anything_runs(
    client: httpx.AsyncClient, settings: object
) -> None:
    url = settings.sync_database_url  # type: ignore[attr-defined]
    name = f"poor-{uuid.uuid4().hex[:8]}"
    auth = {"Authorization": f"Bearer {key_with_credits(url, name, credits=0.099999)}"}
    r = await client.post("/v1/audio/speech", headers=auth, json={"model": "piper", "voice": "joe", "input": TEXT})
    assert r.status_code == 402, r.text
    assert "costs 0.1 credits" in r.json()["error"]["message"] and "0.099999" in r.json()["error"]["message"]
    account = account_of(url, name)
    with session_scope(url) as session:
        assert (
            session.execute(select(func.count()).select_from(Job).where(Job.account_id == account.id)).scalar_one() == 0
        )
    assert account.balance == 99_999
