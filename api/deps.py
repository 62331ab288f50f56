"""Annotated dependencies, so route signatures read like sentences: SettingsDep, SessionDep, AccountDep, ..."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Any

from celery import Celery
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from api.errors import InvalidApiKey
from api.waiter import JobWaiter
from shared.config import Settings
from shared.db.models import Account, ApiKey
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


def get_state(request: Request) -> AppState:
    return request.app.state.s2s  # type: ignore[no-any-return]


StateDep = Annotated[AppState, Depends(get_state)]


def get_settings_dep(state: StateDep) -> Settings:
    return state.settings


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


async def get_session(state: StateDep) -> AsyncIterator[AsyncSession]:
    async with state.sessions() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]


def get_store(state: StateDep) -> ObjectStore:
    return state.store


StoreDep = Annotated[ObjectStore, Depends(get_store)]

_bearer = HTTPBearer(auto_error=False, description="Your API key: `Authorization: Bearer s2s-...`")

MISSING_KEY = "Missing API key. Send it as `Authorization: Bearer <key>`; create one with `s2s keys create`."
WRONG_KEY = "Invalid API key. Check the key, or create a new one with `s2s keys create`."


async def get_account(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Account:
    if credentials is None or not credentials.credentials:
        raise InvalidApiKey(MISSING_KEY)
    key = credentials.credentials.strip()
    prefix = parse_prefix(key)
    if prefix is None:
        raise InvalidApiKey(WRONG_KEY)
    row = (
        await session.execute(
            select(ApiKey, Account).join(Account, Account.id == ApiKey.account_id).where(ApiKey.prefix == prefix)
        )
    ).first()
    if row is None or not key_matches(key, row.ApiKey.key_hash) or row.ApiKey.revoked_at is not None:
        raise InvalidApiKey(WRONG_KEY)
    request.state.api_key_id = row.ApiKey.id
    return row.Account  # type: ignore[no-any-return]


AccountDep = Annotated[Account, Depends(get_account)]
