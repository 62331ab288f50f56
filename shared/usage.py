"""Usage per day (UTC) and model, computed from the job rows: requests, billed characters and audio seconds,
credits charged."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from shared.db.models import Job


@dataclass(frozen=True)
class UsageRow:
    day: date
    model: str
    kind: str
    requests: int
    succeeded: int
    characters: int
    audio_seconds: float
    credits_micros: int


def _utc_day(session: Session, column: Any) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone("UTC", column))
    return func.date(column)  # SQLite stores UTC timestamps as text


def usage_by_day(session: Session, account_id: str, start: date, end: date) -> list[UsageRow]:
    """One row per UTC day and model in [start, end] with at least one job, oldest first."""
    since = datetime.combine(start, time.min, tzinfo=UTC)
    until = datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC)
    day = _utc_day(session, Job.created_at).label("day")
    succeeded = Job.state == "succeeded"
    stmt = (
        select(
            day,
            Job.model,
            Job.kind,
            func.count().label("requests"),
            func.sum(case((succeeded, 1), else_=0)).label("succeeded"),
            func.sum(case((succeeded, func.coalesce(Job.characters, 0)), else_=0)).label("characters"),
            func.sum(case((succeeded, func.coalesce(Job.audio_seconds, 0.0)), else_=0.0)).label("audio_seconds"),
            func.sum(Job.charged_credits).label("credits"),
        )
        .where(Job.account_id == account_id, Job.created_at >= since, Job.created_at < until)
        .group_by(day, Job.model, Job.kind)
        .order_by(day, Job.model)
    )
    rows = []
    for row in session.execute(stmt):
        value = row.day
        rows.append(
            UsageRow(
                day=value if isinstance(value, date) else date.fromisoformat(str(value)),
                model=row.model,
                kind=row.kind,
                requests=int(row.requests),
                succeeded=int(row.succeeded or 0),
                characters=int(row.characters or 0),
                audio_seconds=round(float(row.audio_seconds or 0.0), 3),
                credits_micros=int(row.credits or 0),
            )
        )
    return rows
