"""`/v1/account`: the caller's balance, reserved credits and limits, and self-service API keys.

`GET /v1/account` shows the account and the key in use. `POST /v1/account/keys` issues a key for the same account
(the secret is in that response only; the database keeps its hash), `GET /v1/account/keys` lists the account's
keys (prefixes, never secrets; revoked ones too, with `revoked_at`, unless `include_revoked=false`) and
`DELETE /v1/account/keys/{key_id}` revokes one (the next request with it is a 401). A new key never gets more than
the key that creates it: its requests-per-minute and concurrent-jobs limits are at most the calling key's (400
otherwise), and an omitted limit is the account's, capped at the calling key's. A caller may revoke the key it is
using, but not the account's last active key (409: create another first). The admin API (api/routes/admin.py) and
these routes share shared.accounts.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.deps import AccountDep, SessionDep, SettingsDep
from api.errors import Conflict, InvalidRequest, NotFound
from api.idempotency import keep_secret
from shared import accounts, credits
from shared.db.models import Account, ApiKey, Job
from shared.pricing import to_credits
from shared.schemas import (
    AccountKeyCreate,
    AccountPublic,
    ApiKeyCreated,
    ApiKeyList,
    ApiKeyPublic,
    ErrorResponse,
    RateLimitsPublic,
)

# Active keys one account may hold; revoked keys do not count.
MAX_ACTIVE_KEYS = 100
# On the 409s below, which a retry cannot change (SDKs retry a 409 unless told otherwise).
NO_RETRY = {"x-should-retry": "false"}

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


def _capped(param: str, asked: int | None, caller: int, inherited: int) -> int | None:
    """The limit override a new key stores: never more than the calling key's limit `caller` (0 is unlimited).

    `inherited` is what the new key would get from its account without an override.
    """
    if caller == 0:
        return asked
    if asked is None:
        return None if 0 < inherited <= caller else caller
    if asked == 0 or asked > caller:
        shown = "0 (unlimited)" if asked == 0 else str(asked)
        raise InvalidRequest(
            f"'{param}' is {shown}, more than the key making this request has ({caller}); ask for at most "
            f"{caller}, or have an operator raise the limit with the admin API.",
            param=param,
        )
    return asked


@router.post(
    "/keys",
    operation_id="account-keys-create",
    summary="Create an API key for your account (the secret is shown once)",
    status_code=201,
    response_model=ApiKeyCreated,
    responses={
        400: {"model": ErrorResponse, "description": "A limit above the calling key's, or an invalid body."},
        409: {
            "model": ErrorResponse,
            "description": f"The account already has {MAX_ACTIVE_KEYS} active keys, or an Idempotency-Key replay "
            "(the secret is never stored, so it cannot be shown again).",
        },
    },
)
async def create_own_key(
    body: AccountKeyCreate, request: Request, account: AccountDep, session: SessionDep, settings: SettingsDep
) -> ApiKeyCreated:
    keep_secret(request, "key")  # never stored for an Idempotency-Key replay
    limits = request.state.caller.limits
    account_id = account.id

    def create(s: Session) -> ApiKeyCreated:
        owner = s.execute(select(Account).where(Account.id == account_id)).scalar_one()
        inherited = accounts.effective_limits(settings.rate_limits, owner, None)
        rpm = _capped(
            "requests_per_minute", body.requests_per_minute, limits.requests_per_minute, inherited.requests_per_minute
        )
        jobs = _capped(
            "max_concurrent_jobs", body.max_concurrent_jobs, limits.max_concurrent_jobs, inherited.max_concurrent_jobs
        )
        if accounts.active_key_count(s, account_id) >= MAX_ACTIVE_KEYS:
            raise Conflict(
                f"This account already has {MAX_ACTIVE_KEYS} active keys; revoke one you no longer use "
                "(DELETE /v1/account/keys/{key_id}) first.",
                headers=NO_RETRY,
            )
        key, row = accounts.issue_key(s, owner, body.name, requests_per_minute=rpm, max_concurrent_jobs=jobs)
        return ApiKeyCreated(**key_public(row).model_dump(), key=key)

    result = await session.run_sync(create)
    await session.commit()
    return result


@router.get(
    "/keys",
    operation_id="account-keys-list",
    summary="List your account's API keys (prefixes only, never secrets)",
    response_model=ApiKeyList,
)
async def list_own_keys(
    account: AccountDep,
    session: SessionDep,
    include_revoked: Annotated[
        bool, Query(description="Also list revoked keys (their `revoked_at` is set); false: active keys only.")
    ] = True,
) -> ApiKeyList:
    account_id = account.id

    def read(s: Session) -> ApiKeyList:
        owner = s.execute(select(Account).where(Account.id == account_id)).scalar_one()
        rows = [key for key, _ in accounts.list_keys(s, owner) if include_revoked or key.revoked_at is None]
        return ApiKeyList(data=[key_public(key) for key in rows])

    return await session.run_sync(read)


@router.delete(
    "/keys/{key_id}",
    operation_id="account-keys-revoke",
    summary="Revoke one of your API keys (by id or prefix); it stops working at once",
    response_model=ApiKeyPublic,
    responses={
        404: {"model": ErrorResponse, "description": "No key of this account has that id or prefix."},
        409: {"model": ErrorResponse, "description": "It is the account's last active key; create another first."},
    },
)
async def revoke_own_key(key_id: str, account: AccountDep, session: SessionDep) -> ApiKeyPublic:
    account_id = account.id

    def revoke(s: Session) -> ApiKeyPublic:
        try:
            return key_public(accounts.revoke_own_key(s, account_id, key_id))
        except accounts.NotFound as exc:
            raise NotFound(
                f"Your account has no API key with the id or prefix '{key_id}'; list them with GET /v1/account/keys.",
                param="key_id",
            ) from exc
        except accounts.LastActiveKey as exc:
            raise Conflict(
                f"Key '{key_id}' is your account's last active key; revoking it would lock you out. Create "
                "another key first (POST /v1/account/keys), then revoke this one.",
                param="key_id",
                headers=NO_RETRY,
            ) from exc

    result = await session.run_sync(revoke)
    await session.commit()
    return result
