"""GET /v1/account: the caller's balance, reserved credits and the limits of the key in use."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.deps import AccountDep, SessionDep
from shared import credits
from shared.db.models import Account, ApiKey, Job
from shared.pricing import to_credits
from shared.schemas import AccountPublic, ApiKeyPublic, ErrorResponse, RateLimitsPublic

router = APIRouter(prefix="/v1/account", tags=["account"])


def key_public(key: ApiKey) -> ApiKeyPublic:
    return ApiKeyPublic(
        id=key.id,
        account_id=key.account_id,
        name=key.name,
        prefix=key.prefix,
        created_at=key.created_at,
        revoked_at=key.revoked_at,
        requests_per_minute=key.requests_per_minute,
        max_concurrent_jobs=key.max_concurrent_jobs,
    )


@router.get(
    "",
    operation_id="account-retrieve",
    summary="Your account: balance, reserved credits, limits",
    response_model=AccountPublic,
    responses={401: {"model": ErrorResponse}, 429: {"model": ErrorResponse}},
)
async def get_account_view(request: Request, account: AccountDep, session: SessionDep) -> AccountPublic:
    caller = request.state.caller

    def read(s: Session) -> AccountPublic:
        fresh = s.execute(select(Account).where(Account.id == caller.account_id)).scalar_one()
        key = s.execute(select(ApiKey).where(ApiKey.id == caller.api_key_id)).scalar_one()
        active = s.execute(
            select(func.count()).select_from(Job).where(Job.api_key_id == key.id, Job.state.in_(credits.ACTIVE_STATES))
        ).scalar_one()
        return AccountPublic(
            id=fresh.id,
            name=fresh.name,
            balance=to_credits(fresh.balance),
            reserved=to_credits(credits.reserved_total(s, fresh.id)),
            active_jobs=int(active),
            limits=RateLimitsPublic(
                requests_per_minute=caller.limits.requests_per_minute,
                max_concurrent_jobs=caller.limits.max_concurrent_jobs,
            ),
            key=key_public(key),
            created_at=fresh.created_at,
        )

    return await session.run_sync(read)
