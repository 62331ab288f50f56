"""Annotated dependencies, so route signatures read like sentences: SettingsDep, SessionDep, AccountDep, ..."""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Any, NoReturn

from celery import Celery
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from api.errors import APIError, InvalidApiKey
from api.fleet import FleetView
from api.ratelimit import enforce_rate_limit
from api.waiter import JobWaiter
from shared.accounts import Limits, effective_limits
from shared.config import Settings
from shared.db.models import Account, ApiKey
from shared.ratelimit import RateLimiter
from shared.security import key_matches, parse_prefix
from shared.storage import ObjectStore


@dataclass
class AppState:
    """Everything the app builds once at start-up (see api.main.lifespan)."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    store: ObjectStore
    redis: Any
    waiter: JobWaiter
    producer: Celery
    limiter: RateLimiter
    fleet: FleetView


def get_state(request: Request) -> AppState:
    return request.app.state.s2s  # type: ignore[no-any-return]


StateDep = Annotated[AppState, Depends(get_state)]


def get_settings_dep(state: StateDep) -> Settings:
    return state.settings


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


# Key of the broker's id in a request's `AsyncSession.info` (see Settings.broker_id; api.dispatch reads it).
BROKER_INFO_KEY = "s2s.broker"


async def get_session(state: StateDep) -> AsyncIterator[AsyncSession]:
    async with state.sessions() as session:
        session.info[BROKER_INFO_KEY] = state.settings.broker_id  # the jobs it creates record their broker
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]


def get_store(state: StateDep) -> ObjectStore:
    return state.store


StoreDep = Annotated[ObjectStore, Depends(get_store)]

_bearer = HTTPBearer(auto_error=False, description="Your API key: `Authorization: Bearer s2s-...`")

MISSING_KEY = "Missing API key. Send it as `Authorization: Bearer <key>`; create one with `s2s keys create`."
WRONG_KEY = "Invalid API key. Check the key, or create a new one with `s2s keys create`."


@dataclass(frozen=True)
class Caller:
    """Who made this request: the account, the API key, and the limits that apply to that key."""

    account_id: str
    api_key_id: str
    limits: Limits


# Key of the Caller in the request's `AsyncSession.info`, where api.dispatch.create_job finds it.
CALLER_INFO_KEY = "s2s.caller"


async def _refuse(request: Request, state: AppState, error: APIError) -> NoReturn:
    """Requests without valid credentials are limited per client address (no guessing floods), then refused."""
    client = request.client.host if request.client else "unknown"
    await enforce_rate_limit(
        request,
        state.limiter,
        f"ip:{client}",
        state.settings.rate_limits.unauthenticated_requests_per_minute,
        who="requests without valid credentials from this address",
    )
    raise error


async def _refuse_key(request: Request, state: AppState, message: str) -> NoReturn:
    await _refuse(request, state, InvalidApiKey(message))


async def get_account(
    request: Request,
    session: SessionDep,
    state: StateDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Account:
    """The account of the request's API key, after the key's requests-per-minute limit allowed the request."""
    if credentials is None or not credentials.credentials:
        await _refuse_key(request, state, MISSING_KEY)
    key = credentials.credentials.strip()
    prefix = parse_prefix(key)
    if prefix is None:
        await _refuse_key(request, state, WRONG_KEY)
    row = (
        await session.execute(
            select(ApiKey, Account).join(Account, Account.id == ApiKey.account_id).where(ApiKey.prefix == prefix)
        )
    ).first()
    if row is None or not key_matches(key, row.ApiKey.key_hash) or row.ApiKey.revoked_at is not None:
        await _refuse_key(request, state, WRONG_KEY)
    api_key: ApiKey = row.ApiKey
    account: Account = row.Account
    limits = effective_limits(state.settings.rate_limits, account, api_key)
    await enforce_rate_limit(
        request, state.limiter, f"key:{api_key.id}", limits.requests_per_minute, who="this API key"
    )
    caller = Caller(account_id=account.id, api_key_id=api_key.id, limits=limits)
    request.state.api_key_id = api_key.id
    request.state.caller = caller
    session.info[CALLER_INFO_KEY] = caller
    return account


AccountDep = Annotated[Account, Depends(get_account)]


class InvalidAdminToken(APIError):
    status_code, code = 401, "invalid_admin_token"


class AdminDisabled(APIError):
    status_code, code = 403, "admin_api_disabled"


async def require_admin(request: Request, state: StateDep) -> None:
    """The admin API takes `Authorization: Bearer <ADMIN_TOKEN>` (or an `X-Admin-Token` header)."""
    token = state.settings.admin_token
    if token is None or not token.get_secret_value():
        raise AdminDisabled(
            "The admin API is disabled because ADMIN_TOKEN is not set; set it, or manage accounts and keys with "
            "the `s2s accounts`, `s2s credits` and `s2s keys` commands."
        )
    presented = request.headers.get("x-admin-token", "")
    if not presented:
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        presented = value.strip() if scheme.lower() == "bearer" else ""
    if not presented or not hmac.compare_digest(presented.encode(), token.get_secret_value().encode()):
        await _refuse(
            request,
            state,
            InvalidAdminToken(
                "Missing or wrong admin token. Send the server's ADMIN_TOKEN as `Authorization: Bearer <token>` "
                "or `X-Admin-Token: <token>`."
            ),
        )


AdminDep = Annotated[None, Depends(require_admin)]
