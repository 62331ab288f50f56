"""Reservation and settlement on SQLite and PostgreSQL: every terminal transition settles a job exactly once, in
the same transaction, and the balance always equals the ledger's sum."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from shared import credits, jobs
from shared.accounts import create_account
from shared.db.migrate import upgrade
from shared.db.models import Job, LedgerEntry
from shared.db.session import session_scope

pytestmark = pytest.mark.postgres


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'test.db'}" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    upgrade(url)
    yield url


def _account(db_url: str, micros: int) -> str:
    with session_scope(db_url) as session:
        return create_account(session, f"ledger-{uuid.uuid4().hex[:8]}", initial_credits=micros).id


def _job(db_url: str, account_id: str, cost: int, *, kind: str = "stt", request: dict | None = None) -> str:
    with session_scope(db_url) as session:
        job = Job(account_id=account_id, kind=kind, model="whisper-base", request=request or {"header_duration": 10.0})
        credits.reserve(session, job, cost)
        return job.id


def _reasons(db_url: str, job_id: str) -> list[tuple[str, int]]:
    with session_scope(db_url) as session:
        rows = session.execute(select(LedgerEntry).where(LedgerEntry.job_id == job_id).order_by(LedgerEntry.id))
        return [(e.reason, e.amount) for e in rows.scalars()]


def _audit(db_url: str, account_id: str) -> int:
    with session_scope(db_url) as session:
        balance, total = credits.audit(session, account_id)
    assert balance == total
    return balance


def test_success_charges_actual_cost_once_and_returns_the_rest(db_url: str) -> None:
    account = _account(db_url, 1_000_000)
    job_id = _job(db_url, account, 200_000)  # 10 s of whisper-base held
    assert _audit(db_url, account) == 800_000
    with session_scope(db_url) as session:
        jobs.claim(session, job_id, max_attempts=3)
        # the worker decoded 8.5 s: charged 0.17 credits, 0.03 returned
        assert jobs.succeed(session, job_id, result={"text": "", "duration": 8.5}, output_key=None, content_type=None)
        # a duplicate finish, a late failure or cancel: no state change, so no money moves
        assert not jobs.succeed(
            session, job_id, result={"text": "", "duration": 9.0}, output_key=None, content_type=None
        )
        assert not jobs.fail(session, job_id, code="x", message="late")
        assert not jobs.cancel(session, job_id)
        job = session.get(Job, job_id)
        assert job is not None and job.charged_credits == 170_000 and job.audio_seconds == 8.5
    assert _reasons(db_url, job_id) == [("reserve", -200_000), ("release", 200_000), ("charge", -170_000)]
    assert _audit(db_url, account) == 830_000


def test_a_job_longer_than_estimated_is_charged_what_it_processed(db_url: str) -> None:
    """10 s reserved (the header's claim), 60 s decoded: 1.2 credits charged, the excess from the balance."""
    account = _account(db_url, 1_000_000)
    job_id = _job(db_url, account, 200_000)
    with session_scope(db_url) as session:
        jobs.claim(session, job_id, max_attempts=3)
        jobs.succeed(session, job_id, result={"text": "", "duration": 60.0}, output_key=None, content_type=None)
        job = session.get(Job, job_id)
        assert job is not None and job.charged_credits == 1_000_000 and job.audio_seconds == 60.0
    assert _reasons(db_url, job_id)[-1] == ("charge", -1_000_000)  # the whole balance, no more: never negative
    assert _audit(db_url, account) == 0
    rich = _account(db_url, 5_000_000)
    job_id = _job(db_url, rich, 200_000)
    with session_scope(db_url) as session:
        jobs.claim(session, job_id, max_attempts=3)
        jobs.succeed(session, job_id, result={"text": "", "duration": 60.0}, output_key=None, content_type=None)
    assert _reasons(db_url, job_id) == [("reserve", -200_000), ("release", 200_000), ("charge", -1_200_000)]
    assert _audit(db_url, rich) == 3_800_000


def test_failure_and_cancel_refund_everything(db_url: str) -> None:
    account = _account(db_url, 1_000_000)
    failed, canceled = _job(db_url, account, 300_000), _job(db_url, account, 100_000)
    assert _audit(db_url, account) == 600_000
    with session_scope(db_url) as session:
        jobs.claim(session, failed, max_attempts=3)
        assert jobs.fail(session, failed, code="invalid_audio", message="not audio")
        assert jobs.cancel(session, canceled)
        assert not jobs.cancel(session, canceled)
    assert _reasons(db_url, failed) == [("reserve", -300_000), ("refund", 300_000)]
    assert _reasons(db_url, canceled) == [("reserve", -100_000), ("refund", 100_000)]
    assert _audit(db_url, account) == 1_000_000


def test_exhausted_attempts_refund(db_url: str) -> None:
    account = _account(db_url, 1_000_000)
    job_id = _job(db_url, account, 250_000)
    with session_scope(db_url) as session:
        assert jobs.claim(session, job_id, max_attempts=1).reason == "claimed"
        outcome = jobs.claim(session, job_id, max_attempts=1)  # redelivered after the worker was lost
        assert outcome.reason == "exhausted" and outcome.job is not None and outcome.job.error_code == "worker_lost"
        assert jobs.claim(session, job_id, max_attempts=1).reason == "terminal"
    assert _reasons(db_url, job_id) == [("reserve", -250_000), ("refund", 250_000)]
    assert _audit(db_url, account) == 1_000_000


def test_reservation_is_refused_without_funds_and_leaves_nothing(db_url: str) -> None:
    account = _account(db_url, 100_000)
    with session_scope(db_url) as session:
        job = Job(account_id=account, kind="tts", model="piper", request={"input": "x", "voice": "joe"})
        with pytest.raises(credits.InsufficientCredits) as refused:
            credits.reserve(session, job, 100_001)
        assert (refused.value.needed, refused.value.available) == (100_001, 100_000)
        session.rollback()
    with session_scope(db_url) as session:
        assert session.execute(select(Job).where(Job.account_id == account)).first() is None
    assert _audit(db_url, account) == 100_000


def test_grants_never_take_a_balance_below_zero(db_url: str) -> None:
    account = _account(db_url, 0)
    with session_scope(db_url) as session:
        assert credits.grant(session, account, 5_000_000, note="invoice") == 5_000_000
        with pytest.raises(credits.InsufficientCredits):
            credits.grant(session, account, -5_000_001)
        assert credits.grant(session, account, -5_000_000) == 0
    with session_scope(db_url) as session:
        entries = session.execute(select(LedgerEntry.reason).where(LedgerEntry.account_id == account)).scalars()
        assert sorted(entries) == ["adjust", "grant"]
    assert _audit(db_url, account) == 0
