"""The admin API under /v1/admin: accounts, credits and API keys.

Every route needs the server's admin token (`ADMIN_TOKEN`) as `Authorization: Bearer <token>` or in an
`X-Admin-Token` header; without ADMIN_TOKEN set the admin API is off (use the `s2s` CLI on the server instead).
The CLI and these routes share shared.accounts and shared.credits.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.deps import SessionDep, SettingsDep, require_admin
from api.errors import Conflict, InvalidRequest, NotFound
from api.idempotency import admin_idempotency, keep_secret
from api.routes.account import key_public
from shared import accounts, credits
from shared.db.models import Account, ApiKey, LedgerEntry
from shared.pricing import format_credits, to_credits, to_micros
from shared.schemas import (
    AccountAdminList,
    AccountAdminPublic,
    AccountCreate,
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyList,
    ApiKeyPublic,
    CreditsAdd,
    CreditsAdded,
    ErrorResponse,
    LedgerEntryPublic,
    LedgerList,
)

router = APIRouter(
    prefix="/v1/admin",
    tags=["admin"],
    dependencies=[Depends(require_admin), Depends(admin_idempotency)],
    responses={401: {"model": ErrorResponse}, 403: {"model": ErrorResponse}},
)


def account_admin_public(session: Session, account: Account) -> AccountAdminPublic:
    active_keys = session.execute(
        select(func.count()).select_from(ApiKey).where(ApiKey.account_id == account.id, ApiKey.revoked_at.is_(None))
    ).scalar_one()
    return AccountAdminPublic(
        id=account.id,
        name=account.name,
        balance=to_credits(credits.balance_of(session, account.id)),
        reserved=to_credits(credits.reserved_total(session, account.id)),
        requests_per_minute=account.requests_per_minute,
        max_concurrent_jobs=account.max_concurrent_jobs,
        active_keys=int(active_keys),
        created_at=account.created_at,
    )


def entry_public(entry: LedgerEntry) -> LedgerEntryPublic:
    return LedgerEntryPublic(
        id=entry.id,
        account_id=entry.account_id,
        job_id=entry.job_id,
        amount=to_credits(entry.amount),
        reason=entry.reason,  # type: ignore[arg-type]
        note=entry.note,
        created_at=entry.created_at,
    )


def _account(session: Session, account: str) -> Account:
    try:
        return accounts.require_account(session, account)
    except accounts.NotFound as exc:
        raise NotFound(
            f"Account '{account}' does not exist (give its id or name); list accounts with GET /v1/admin/accounts.",
            param="account",
        ) from exc


def _micros(amount: object, param: str) -> int:
    try:
        return to_micros(amount)  # type: ignore[arg-type]
    except ValueError as exc:
        raise InvalidRequest(f"Invalid amount: {exc}.", param=param) from exc


@router.post(
    "/accounts",
    operation_id="admin-accounts-create",
    summary="Create an account",
    status_code=201,
    response_model=AccountAdminPublic,
    responses={409: {"model": ErrorResponse}},
)
async def create_account(body: AccountCreate, session: SessionDep, settings: SettingsDep) -> AccountAdminPublic:
    initial = _micros(body.credits if body.credits is not None else settings.credits.default_grant, "credits")

    def create(s: Session) -> AccountAdminPublic:
        try:
            account = accounts.create_account(
                s,
                body.name,
                initial_credits=initial,
                requests_per_minute=body.requests_per_minute,
                max_concurrent_jobs=body.max_concurrent_jobs,
            )
        except accounts.AccountExists as exc:
            message = f"An account named '{body.name}' already exists; choose another name."
            raise Conflict(message, param="name") from exc
        return account_admin_public(s, account)

    result = await session.run_sync(create)
    await session.commit()
    return result


@router.get("/accounts", operation_id="admin-accounts-list", summary="List accounts", response_model=AccountAdminList)
async def list_accounts(session: SessionDep) -> AccountAdminList:
    def read(s: Session) -> AccountAdminList:
        rows = s.execute(select(Account).order_by(Account.created_at)).scalars().all()
        return AccountAdminList(data=[account_admin_public(s, a) for a in rows])

    return await session.run_sync(read)


@router.get(
    "/accounts/{account}",
    operation_id="admin-accounts-retrieve",
    summary="Get an account (by id or name)",
    response_model=AccountAdminPublic,
    responses={404: {"model": ErrorResponse}},
)
async def get_account(account: str, session: SessionDep) -> AccountAdminPublic:
    return await session.run_sync(lambda s: account_admin_public(s, _account(s, account)))


@router.post(
    "/accounts/{account}/credits",
    operation_id="admin-credits-add",
    summary="Add credits to an account (negative: take them back)",
    response_model=CreditsAdded,
    responses={400: {"model": ErrorResponse}, 404: {"model": ErrorResponse}},
)
async def add_credits(account: str, body: CreditsAdd, session: SessionDep) -> CreditsAdded:
    amount = _micros(body.amount, "amount")
    if amount == 0:
        raise InvalidRequest("The amount is zero; send a positive amount to add credits.", param="amount")

    def add(s: Session) -> CreditsAdded:
        target = _account(s, account)
        try:
            credits.grant(s, target.id, amount, note=body.note)
        except credits.InsufficientCredits as exc:
            raise InvalidRequest(
                f"Cannot take back {format_credits(exc.needed)} credits: the balance is "
                f"{format_credits(exc.available)} and balances never go negative.",
                param="amount",
            ) from exc
        entry = s.execute(
            select(LedgerEntry).where(LedgerEntry.account_id == target.id).order_by(LedgerEntry.id.desc()).limit(1)
        ).scalar_one()
        return CreditsAdded(account=account_admin_public(s, target), entry=entry_public(entry))

    result = await session.run_sync(add)
    await session.commit()
    return result


@router.get(
    "/accounts/{account}/ledger",
    operation_id="admin-ledger-list",
    summary="An account's ledger, newest first, with its balance and the ledger's sum",
    response_model=LedgerList,
    responses={404: {"model": ErrorResponse}},
)
async def list_ledger(
    account: str, session: SessionDep, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> LedgerList:
    def read(s: Session) -> LedgerList:
        target = _account(s, account)
        entries = (
            s.execute(
                select(LedgerEntry)
                .where(LedgerEntry.account_id == target.id)
                .order_by(LedgerEntry.id.desc())
                .limit(limit)
            )
            .scalars()
            .all()
        )
        balance, total = credits.audit(s, target.id)
        return LedgerList(
            data=[entry_public(e) for e in entries], balance=to_credits(balance), ledger_sum=to_credits(total)
        )

    return await session.run_sync(read)


@router.post(
    "/accounts/{account}/keys",
    operation_id="admin-keys-create",
    summary="Create an API key (shown once)",
    status_code=201,
    response_model=ApiKeyCreated,
    responses={404: {"model": ErrorResponse}},
)
async def create_key(account: str, body: ApiKeyCreate, session: SessionDep, request: Request) -> ApiKeyCreated:
    keep_secret(request, "key")  # never stored for an Idempotency-Key replay

    def create(s: Session) -> ApiKeyCreated:
        target = _account(s, account)
        key, row = accounts.issue_key(
            s,
            target,
            body.name,
            requests_per_minute=body.requests_per_minute,
            max_concurrent_jobs=body.max_concurrent_jobs,
        )
        return ApiKeyCreated(**key_public(row).model_dump(), key=key)

    result = await session.run_sync(create)
    await session.commit()
    return result


@router.get(
    "/keys",
    operation_id="admin-keys-list",
    summary="List API keys (prefixes only)",
    response_model=ApiKeyList,
    responses={404: {"model": ErrorResponse}},
)
async def list_keys(
    session: SessionDep,
    account: Annotated[str | None, Query(description="Only this account's keys (id or name).")] = None,
) -> ApiKeyList:
    def read(s: Session) -> ApiKeyList:
        target = _account(s, account) if account else None
        return ApiKeyList(data=[key_public(k) for k, _ in accounts.list_keys(s, target)])

    return await session.run_sync(read)


@router.delete(
    "/keys/{key}",
    operation_id="admin-keys-revoke",
    summary="Revoke an API key (by id or prefix); it stops working at once",
    response_model=ApiKeyPublic,
    responses={404: {"model": ErrorResponse}},
)
async def revoke_key(key: str, session: SessionDep) -> ApiKeyPublic:
    def revoke(s: Session) -> ApiKeyPublic:
        try:
            return key_public(accounts.revoke_key(s, key))
        except accounts.NotFound as exc:
            raise NotFound(f"No API key has the id or prefix '{key}'; list keys with GET /v1/admin/keys.") from exc

    result = await session.run_sync(revoke)
    await session.commit()
    return result
