"""Migrations and the job state machine on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import inspect, select

from shared import jobs
from shared.accounts import create_key, get_or_create_account
from shared.db.migrate import upgrade
from shared.db.models import ApiKey, Job
from shared.db.session import make_engine, session_scope
from shared.security import key_matches, parse_prefix

SPEECH_RESULT = {"duration": 0.1, "sample_rate": 22050, "format": "mp3", "bytes": 1, "characters": 1}


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'test.db'}" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    upgrade(url)
    yield url


def test_migrations_create_every_table(db_url: str) -> None:
    upgrade(db_url)  # idempotent
    engine = make_engine(db_url)
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert {"accounts", "api_keys", "jobs", "voices", "credit_ledger", "idempotency_keys", "alembic_version"} <= tables


def test_migrations_match_the_models(db_url: str) -> None:
    """Alembic's autogenerate finds nothing to add: the migrations build exactly the schema the models describe."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from shared.db.models import Base

    engine = make_engine(db_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == []


def test_keys_are_stored_hashed(db_url: str) -> None:
    with session_scope(db_url) as session:
        account = get_or_create_account(session, "hash-check")
        key = create_key(session, account)
    with session_scope(db_url) as session:
        row = session.execute(select(ApiKey).where(ApiKey.prefix == parse_prefix(key))).scalar_one()
        assert key not in (row.key_hash, row.prefix)
        assert key_matches(key, row.key_hash)
        assert not key_matches(key + "x", row.key_hash)


def _new_job(db_url: str, account_name: str = "sm") -> str:
    with session_scope(db_url) as session:
        account = get_or_create_account(session, account_name)
        job = Job(account_id=account.id, kind="tts", model="piper", request={"input": "x", "voice": "joe"})
        session.add(job)
        session.flush()
        return job.id


def test_job_lifecycle_and_guards(db_url: str) -> None:
    job_id = _new_job(db_url)
    with session_scope(db_url) as session:
        claim = jobs.claim(session, job_id, max_attempts=3)
        assert claim.reason == "claimed" and claim.job is not None and claim.job.attempts == 1
        assert jobs.succeed(session, job_id, result=SPEECH_RESULT, output_key="k", content_type="x")
        # a duplicate delivery cannot run or finish it again
        assert jobs.claim(session, job_id, max_attempts=3).reason == "terminal"
        assert not jobs.fail(session, job_id, code="x", message="late failure")
        assert not jobs.cancel(session, job_id)
        job = session.get(Job, job_id)
        assert job is not None and job.state == "succeeded" and job.result == SPEECH_RESULT and job.progress == 1.0


def test_redelivered_job_is_reclaimed_until_attempts_run_out(db_url: str) -> None:
    job_id = _new_job(db_url)
    with session_scope(db_url) as session:
        assert jobs.claim(session, job_id, max_attempts=2).reason == "claimed"
        # worker lost: the job is still running, the message comes back
        assert jobs.claim(session, job_id, max_attempts=2).reason == "claimed"
        outcome = jobs.claim(session, job_id, max_attempts=2)
        assert outcome.reason == "exhausted"
        assert outcome.job is not None and outcome.job.state == "failed" and outcome.job.error_code == "worker_lost"


def test_terminal_transitions_cannot_skip_settlement(db_url: str) -> None:
    job_id = _new_job(db_url)
    with session_scope(db_url) as session:
        for stmt in (
            jobs.succeed_stmt(job_id, result=SPEECH_RESULT, output_key=None, content_type=None),
            jobs.fail_stmt(job_id, code="x", message="y"),
            jobs.cancel_stmt(job_id),
        ):
            with pytest.raises(ValueError, match="settles credits"):
                jobs.transition(session, stmt)
        assert jobs.transition(session, jobs.claim_stmt(job_id, 3))
        assert jobs.transition(session, jobs.progress_stmt(job_id, 0.5))


def test_cancel_wins_over_a_late_finish(db_url: str) -> None:
    job_id = _new_job(db_url)
    with session_scope(db_url) as session:
        jobs.claim(session, job_id, max_attempts=3)
        assert jobs.cancel(session, job_id)
        assert not jobs.succeed(session, job_id, result=SPEECH_RESULT, output_key=None, content_type=None)
        job = session.get(Job, job_id)
        assert job is not None and job.state == "canceled"
