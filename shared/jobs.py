"""Job state machine: queued -> running -> succeeded | failed | canceled, as compare-and-set updates.

Every transition is one UPDATE guarded by the states it may leave, so a late or duplicate worker, a cancel
racing a finish, or a redelivered message can never move a job backwards or finish it twice.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Update, select, update
from sqlalchemy.orm import Session

from shared.db.models import Job, utcnow

QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELED = "queued", "running", "succeeded", "failed", "canceled"
TERMINAL = frozenset({SUCCEEDED, FAILED, CANCELED})
ACTIVE = frozenset({QUEUED, RUNNING})


def claim_stmt(job_id: str, max_attempts: int) -> Update:
    """Mark a job running for one more attempt; a redelivered job (still `running`) may be claimed again."""
    return (
        update(Job)
        .where(Job.id == job_id, Job.state.in_(ACTIVE), Job.attempts < max_attempts)
        .values(state=RUNNING, attempts=Job.attempts + 1, started_at=utcnow(), progress=0.0)
    )


def succeed_stmt(
    job_id: str, *, result: dict[str, Any] | None, output_key: str | None, content_type: str | None
) -> Update:
    return (
        update(Job)
        .where(Job.id == job_id, Job.state == RUNNING)
        .values(
            state=SUCCEEDED,
            result=result,
            output_key=output_key,
            output_content_type=content_type,
            progress=1.0,
            finished_at=utcnow(),
        )
    )


def fail_stmt(job_id: str, *, code: str, message: str) -> Update:
    return (
        update(Job)
        .where(Job.id == job_id, Job.state.in_(ACTIVE))
        .values(state=FAILED, error_code=code, error_message=message[:4000], finished_at=utcnow())
    )


def cancel_stmt(job_id: str) -> Update:
    return (
        update(Job)
        .where(Job.id == job_id, Job.state.in_(ACTIVE))
        .values(state=CANCELED, error_code="canceled", error_message="canceled by the client", finished_at=utcnow())
    )


def progress_stmt(job_id: str, progress: float) -> Update:
    return update(Job).where(Job.id == job_id, Job.state == RUNNING).values(progress=max(0.0, min(1.0, progress)))


class Claim:
    """Outcome of trying to start a job."""

    def __init__(self, job: Job | None, reason: str) -> None:
        self.job = job
        self.reason = reason  # "claimed" | "terminal" | "exhausted" | "missing"


def claim(session: Session, job_id: str, max_attempts: int) -> Claim:
    """Start (or restart after a crash) a job; fails it once its attempts are used up."""
    updated = session.execute(claim_stmt(job_id, max_attempts)).rowcount  # type: ignore[attr-defined]
    session.commit()
    job = session.execute(select(Job).where(Job.id == job_id)).scalar_one_or_none()
    if job is None:
        return Claim(None, "missing")
    if updated:
        return Claim(job, "claimed")
    if job.state in TERMINAL:
        return Claim(job, "terminal")
    session.execute(
        fail_stmt(
            job_id,
            code="worker_lost",
            message=f"the job was started {job.attempts} times and its worker was lost each time",
        )
    )
    session.commit()
    session.refresh(job)
    return Claim(job, "exhausted")


def transition(session: Session, stmt: Update) -> bool:
    """Apply one guarded transition; True when it took effect."""
    changed = bool(session.execute(stmt).rowcount)  # type: ignore[attr-defined]
    session.commit()
    return changed
