"""Job state machine: queued -> running -> succeeded | failed | canceled, as compare-and-set updates.

Every transition is one UPDATE guarded by the states it may leave, so a late or duplicate worker, a cancel
racing a finish, or a redelivered message can never move a job backwards or finish it twice.

Terminal transitions go through `succeed`, `fail` and `cancel` (and `claim`, which fails a job whose attempts
are used up): they settle the job's credits and record its webhook events in the same transaction as the
compare-and-set, only when it took effect, so a job is charged or refunded, and announced, exactly once whatever
races or redeliveries happen.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Update, select, update
from sqlalchemy.orm import Session

from shared import credits, webhooks
from shared.db.models import Job, utcnow

QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELED = "queued", "running", "succeeded", "failed", "canceled"
TERMINAL = frozenset({SUCCEEDED, FAILED, CANCELED})
# execution option marking the statements of terminal transitions: they must go through succeed/fail/cancel
TERMINAL_OPTION = "s2s_terminal_transition"
ACTIVE = frozenset({QUEUED, RUNNING})


def claim_stmt(job_id: str, max_attempts: int, worker_id: str | None = None) -> Update:
    """Mark a job running for one more attempt by `worker_id`; a redelivered job (still `running`: its worker was
    lost) may be claimed again."""
    return (
        update(Job)
        .where(Job.id == job_id, Job.state.in_(ACTIVE), Job.attempts < max_attempts)
        .values(state=RUNNING, attempts=Job.attempts + 1, started_at=utcnow(), progress=0.0, worker_id=worker_id)
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
        .execution_options(**{TERMINAL_OPTION: True})
    )


def fail_stmt(job_id: str, *, code: str, message: str) -> Update:
    return (
        update(Job)
        .where(Job.id == job_id, Job.state.in_(ACTIVE))
        .values(state=FAILED, error_code=code, error_message=message[:4000], finished_at=utcnow())
        .execution_options(**{TERMINAL_OPTION: True})
    )


def cancel_stmt(job_id: str) -> Update:
    return (
        update(Job)
        .where(Job.id == job_id, Job.state.in_(ACTIVE))
        .values(state=CANCELED, error_code="canceled", error_message="canceled by the client", finished_at=utcnow())
        .execution_options(**{TERMINAL_OPTION: True})
    )


def forget_inputs(session: Session, job_id: str) -> None:
    """The job's uploads were deleted from the store: no housekeeping pass needs to look at it again."""
    session.execute(update(Job).where(Job.id == job_id).values(input_key=None))
    session.commit()


def progress_stmt(job_id: str, progress: float) -> Update:
    return update(Job).where(Job.id == job_id, Job.state == RUNNING).values(progress=max(0.0, min(1.0, progress)))


class Claim:
    """Outcome of trying to start a job."""

    def __init__(self, job: Job | None, reason: str) -> None:
        self.job = job
        self.reason = reason  # "claimed" | "terminal" | "exhausted" | "missing"


def claim(session: Session, job_id: str, max_attempts: int, worker_id: str | None = None) -> Claim:
    """Start (or restart after a crash) a job; fails it (and refunds it) once its attempts are used up."""
    updated = session.execute(claim_stmt(job_id, max_attempts, worker_id)).rowcount  # type: ignore[attr-defined]
    session.commit()
    job = session.execute(select(Job).where(Job.id == job_id)).scalar_one_or_none()
    if job is None:
        return Claim(None, "missing")
    if updated:
        return Claim(job, "claimed")
    if job.state in TERMINAL:
        return Claim(job, "terminal")
    fail(
        session,
        job_id,
        code="worker_lost",
        message=f"the job was started {job.attempts} times and its worker was lost each time",
    )
    session.refresh(job)
    return Claim(job, "exhausted")


def transition(session: Session, stmt: Update) -> bool:
    """Apply one guarded non-terminal transition (e.g. progress); True when it took effect."""
    if stmt.get_execution_options().get(TERMINAL_OPTION):
        raise ValueError("a terminal transition settles credits: use jobs.succeed, jobs.fail or jobs.cancel")
    changed = bool(session.execute(stmt).rowcount)  # type: ignore[attr-defined]
    session.commit()
    return changed


def apply_succeed(
    session: Session,
    job_id: str,
    *,
    result: dict[str, Any] | None,
    output_key: str | None,
    content_type: str | None,
) -> bool:
    """`running` -> `succeeded` and charge the actual cost, refunding the rest; the caller commits."""
    changed = bool(
        session.execute(succeed_stmt(job_id, result=result, output_key=output_key, content_type=content_type)).rowcount  # type: ignore[attr-defined]
    )
    if changed:
        credits.settle_success(session, job_id)
        webhooks.job_event(session, job_id)
    return changed


def apply_fail(session: Session, job_id: str, *, code: str, message: str) -> bool:
    """An active job -> `failed` and refund what it reserved; the caller commits."""
    changed = bool(session.execute(fail_stmt(job_id, code=code, message=message)).rowcount)  # type: ignore[attr-defined]
    if changed:
        credits.settle_refund(session, job_id, note=code)
        webhooks.job_event(session, job_id)
    return changed


def apply_cancel(session: Session, job_id: str) -> bool:
    """An active job -> `canceled` and refund what it reserved; the caller commits."""
    changed = bool(session.execute(cancel_stmt(job_id)).rowcount)  # type: ignore[attr-defined]
    if changed:
        credits.settle_refund(session, job_id, note="canceled")
        webhooks.job_event(session, job_id)
    return changed


def succeed(
    session: Session,
    job_id: str,
    *,
    result: dict[str, Any] | None,
    output_key: str | None,
    content_type: str | None,
) -> bool:
    """Finish a running job and settle it, in one transaction; False when it was no longer running."""
    changed = apply_succeed(session, job_id, result=result, output_key=output_key, content_type=content_type)
    session.commit()
    return changed


def fail(session: Session, job_id: str, *, code: str, message: str) -> bool:
    """Fail an active job and refund it, in one transaction; False when it had already ended."""
    changed = apply_fail(session, job_id, code=code, message=message)
    session.commit()
    return changed


def cancel(session: Session, job_id: str) -> bool:
    """Cancel an active job and refund it, in one transaction; False when it had already ended."""
    changed = apply_cancel(session, job_id)
    session.commit()
    return changed
