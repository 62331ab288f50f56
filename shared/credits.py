"""Credits: the reservation a job takes when it is created, its settlement when it ends, grants and audits.

Every balance change is one guarded UPDATE of `accounts.balance` plus a `credit_ledger` row in the same
transaction, so the balance always equals the sum of the ledger. The functions here never commit: the caller's
transaction decides, which is what ties a settlement to the job's terminal compare-and-set (shared/jobs.py) —
if the state change did not happen, no money moves.

Sync functions on a `Session`; the API calls them through `AsyncSession.run_sync`, so one implementation
serves the API, the workers and the CLI.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from shared.catalog import MODELS
from shared.db.models import Account, Job, LedgerEntry
from shared.jobkinds import job_kind
from shared.pricing import Cost

GRANT, ADJUST, RESERVE, RELEASE, CHARGE, REFUND = "grant", "adjust", "reserve", "release", "charge", "refund"
ACTIVE_STATES = ("queued", "running")


class InsufficientCredits(Exception):
    def __init__(self, needed: int, available: int) -> None:
        super().__init__(f"needs {needed} micro-credits, {available} available")
        self.needed = needed
        self.available = available


class ConcurrencyLimitReached(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"{limit} jobs already queued or running")
        self.limit = limit


class AccountNotFound(Exception):
    pass


def _entry(session: Session, account_id: str, amount: int, reason: str, job_id: str | None, note: str = "") -> None:
    if amount:
        session.add(LedgerEntry(account_id=account_id, job_id=job_id, amount=amount, reason=reason, note=note[:500]))


def _move(session: Session, account_id: str, amount: int, *, require_funds: bool) -> bool:
    """Add `amount` (signed) to the balance; with require_funds, only when the balance stays >= 0."""
    stmt = update(Account).where(Account.id == account_id)
    if require_funds and amount < 0:
        stmt = stmt.where(Account.balance >= -amount)
    result = session.execute(
        stmt.values(balance=Account.balance + amount), execution_options={"synchronize_session": False}
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def balance_of(session: Session, account_id: str) -> int:
    value = session.execute(select(Account.balance).where(Account.id == account_id)).scalar_one_or_none()
    if value is None:
        raise AccountNotFound(account_id)
    return int(value)


def reserve(session: Session, job: Job, cost: int, *, max_concurrent_jobs: int | None = None) -> None:
    """Hold a new job's estimated cost and add the job, in the caller's transaction.

    The conditional UPDATE comes first: it is atomic (no balance ever goes negative, however many requests race)
    and it locks the account row (PostgreSQL) or the database (SQLite) for the rest of the transaction, so the
    count of the key's active jobs that follows is exact too. Raises InsufficientCredits or
    ConcurrencyLimitReached; the caller then rolls back, and nothing was reserved or inserted.
    """
    if not _move(session, job.account_id, -cost, require_funds=True):
        raise InsufficientCredits(cost, balance_of(session, job.account_id))
    if max_concurrent_jobs and job.api_key_id:
        active = session.execute(
            select(func.count()).select_from(Job).where(Job.api_key_id == job.api_key_id, Job.state.in_(ACTIVE_STATES))
        ).scalar_one()
        if active >= max_concurrent_jobs:
            raise ConcurrencyLimitReached(max_concurrent_jobs)
    job.reserved_credits = cost
    job.charged_credits = 0
    session.add(job)
    session.flush()
    _entry(session, job.account_id, -cost, RESERVE, job.id)


@dataclass(frozen=True)
class Settlement:
    charged: int
    returned: int


def actual_cost(job: Job) -> Cost:
    """What a finished job costs by its kind's price rule, from what it actually produced (its typed result)."""
    kind = job_kind(job.kind)
    return kind.actual(MODELS[job.model], kind.parse_request(job.request or {}), kind.parse_result(job.result))


def settle_success(session: Session, job_id: str) -> Settlement:
    """Charge a job that just succeeded its actual cost, returning what it reserved beyond that.

    The reservation is an estimate (a transcription's is the container's claimed duration); the charge is what was
    really processed. When that costs more than was reserved, the difference is taken from the balance as far as
    the balance goes (never below zero): the rest is not charged. Call it in the transaction of the `succeeded`
    compare-and-set, only when that update took effect.
    """
    job = session.execute(select(Job).where(Job.id == job_id).execution_options(populate_existing=True)).scalar_one()
    cost = actual_cost(job)
    charged = min(cost.micros, job.reserved_credits)
    # the first balance update of this transaction locks the account row (the database, on SQLite)
    _move(session, job.account_id, job.reserved_credits - charged, require_funds=False)
    extra = cost.micros - charged
    if extra > 0:
        taken = min(extra, balance_of(session, job.account_id))
        if taken:
            _move(session, job.account_id, -taken, require_funds=True)
        charged += taken
    values: dict[str, object] = {"charged_credits": charged}
    if cost.characters is not None:
        values["characters"] = cost.characters
    if cost.audio_seconds is not None:
        values["audio_seconds"] = cost.audio_seconds
    session.execute(update(Job).where(Job.id == job_id).values(**values))
    _entry(session, job.account_id, job.reserved_credits, RELEASE, job_id)
    _entry(session, job.account_id, -charged, CHARGE, job_id)
    return Settlement(charged=charged, returned=max(0, job.reserved_credits - charged))


def settle_refund(session: Session, job_id: str, note: str = "") -> Settlement:
    """Return everything a job reserved; call it in the transaction of its `failed`/`canceled` compare-and-set."""
    row = session.execute(select(Job.account_id, Job.reserved_credits).where(Job.id == job_id)).one()
    _move(session, row.account_id, row.reserved_credits, require_funds=False)
    _entry(session, row.account_id, row.reserved_credits, REFUND, job_id, note)
    return Settlement(charged=0, returned=row.reserved_credits)


def grant(session: Session, account_id: str, amount: int, *, note: str = "", reason: str | None = None) -> int:
    """Add credits (or take them back, when negative) as an operator; returns the new balance.

    Taking back more than the balance holds is refused with InsufficientCredits: balances never go negative.
    """
    if not _move(session, account_id, amount, require_funds=True):
        raise InsufficientCredits(-amount, balance_of(session, account_id))
    _entry(session, account_id, amount, reason or (GRANT if amount >= 0 else ADJUST), None, note)
    return balance_of(session, account_id)


def reserved_total(session: Session, account_id: str) -> int:
    """Credits held by the account's queued and running jobs."""
    value = session.execute(
        select(func.coalesce(func.sum(Job.reserved_credits), 0)).where(
            Job.account_id == account_id, Job.state.in_(ACTIVE_STATES)
        )
    ).scalar_one()
    return int(value)


def ledger_sum(session: Session, account_id: str) -> int:
    value = session.execute(
        select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(LedgerEntry.account_id == account_id)
    ).scalar_one()
    return int(value)


def audit(session: Session, account_id: str) -> tuple[int, int]:
    """(balance, sum of the ledger): equal unless something bypassed this module."""
    return balance_of(session, account_id), ledger_sum(session, account_id)
