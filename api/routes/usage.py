"""GET /v1/usage: requests, characters, audio seconds and credits per day (UTC) and model.

`GET /v1/usage?from=YYYY-MM-DD&to=YYYY-MM-DD` (both optional: `to` defaults to today, `from` to 29 days before
`to`; at most 366 days) answers `{"object": "usage", "start", "end", "data": [...], "totals": {...}}`, where
`data` has one row per day and model that saw at least one job, oldest first: `{"date", "model", "kind",
"requests", "succeeded", "characters", "audio_seconds", "credits"}` (characters and audio seconds count the
succeeded jobs; credits are what was charged). Days without jobs have no row (a chart fills them with zeros).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import AccountDep, SessionDep
from api.errors import InvalidRequest
from shared.pricing import to_credits
from shared.schemas import ErrorResponse, UsageDay, UsagePublic, UsageTotals
from shared.usage import usage_by_day

router = APIRouter(prefix="/v1/usage", tags=["usage"])

DEFAULT_DAYS = 30
MAX_DAYS = 366
EARLIEST, LATEST = date(1970, 1, 1), date(9999, 12, 30)


@router.get(
    "",
    operation_id="usage-retrieve",
    summary="Usage per day and model",
    response_model=UsagePublic,
    responses={400: {"model": ErrorResponse}, 401: {"model": ErrorResponse}},
)
async def get_usage(
    account: AccountDep,
    session: SessionDep,
    start: Annotated[
        date | None, Query(alias="from", description="First day (UTC, YYYY-MM-DD); default: 29 days before `to`.")
    ] = None,
    end: Annotated[date | None, Query(alias="to", description="Last day (UTC, YYYY-MM-DD); default: today.")] = None,
) -> UsagePublic:
    for value, param in ((start, "from"), (end, "to")):
        if value is not None and not EARLIEST <= value <= LATEST:
            raise InvalidRequest(f"'{param}' must be a day between {EARLIEST} and {LATEST}.", param=param)
    end = end or datetime.now(UTC).date()
    start = start or max(EARLIEST, end - timedelta(days=DEFAULT_DAYS - 1))
    if start > end:
        raise InvalidRequest(f"'from' ({start}) is after 'to' ({end}); swap them.", param="from")
    if (end - start).days + 1 > MAX_DAYS:
        raise InvalidRequest(f"Ask for at most {MAX_DAYS} days at a time.", param="from")
    account_id = account.id
    rows = await session.run_sync(lambda s: usage_by_day(s, account_id, start, end))
    data = [
        UsageDay(
            date=row.day,
            model=row.model,
            kind=row.kind,  # type: ignore[arg-type]
            requests=row.requests,
            succeeded=row.succeeded,
            characters=row.characters,
            audio_seconds=row.audio_seconds,
            credits=to_credits(row.credits_micros),
        )
        for row in rows
    ]
    totals = UsageTotals(
        requests=sum(r.requests for r in rows),
        succeeded=sum(r.succeeded for r in rows),
        characters=sum(r.characters for r in rows),
        audio_seconds=round(sum(r.audio_seconds for r in rows), 3),
        credits=to_credits(sum(r.credits_micros for r in rows)),
    )
    return UsagePublic(start=start, end=end, data=data, totals=totals)
