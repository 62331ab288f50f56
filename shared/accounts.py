"""Accounts and API keys, for the CLI, the admin API, `s2s run` and tests: create, look up, limit, revoke.

Sync functions on a `Session` that never commit (the caller's transaction decides); the admin API calls them
through `AsyncSession.run_sync`, so the CLI and the API share one implementation.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session, aliased

from shared import credits
from shared.config import RateLimitSettings
from shared.db.models import Account, ApiKey, utcnow
from shared.security import generate_key


class AccountExists(Exception):
    pass


class NotFound(Exception):
    pass


class LastActiveKey(Exception):
    """Revoking this key would leave its account without an active key (it could no longer sign in)."""


@dataclass(frozen=True)
class Limits:
    """The limits that apply to one key: its own override, else its account's, else the server default.

    0 means unlimited.
    """

    requests_per_minute: int
    max_concurrent_jobs: int


def effective_limits(defaults: RateLimitSettings, account: Account, key: ApiKey | None) -> Limits:
    def pick(name: str) -> int:
        for source in (key, account):
            value = getattr(source, name, None) if source is not None else None
            if value is not None:
                return int(value)
        return int(getattr(defaults, name))

    return Limits(pick("requests_per_minute"), pick("max_concurrent_jobs"))


def find_account(session: Session, id_or_name: str) -> Account | None:
    by_id = session.execute(select(Account).where(Account.id == id_or_name)).scalar_one_or_none()
    if by_id is not None:
        return by_id
    return session.execute(select(Account).where(Account.name == id_or_name)).scalar_one_or_none()


def require_account(session: Session, id_or_name: str) -> Account:
    account = find_account(session, id_or_name)
    if account is None:
        raise NotFound(f"account '{id_or_name}' does not exist")
    return account


def create_account(
    session: Session,
    name: str,
    *,
    initial_credits: int = 0,
    requests_per_minute: int | None = None,
    max_concurrent_jobs: int | None = None,
) -> Account:
    """A new account; `initial_credits` (micro-credits) arrive as a ledger `grant`, like any other credit."""
    if session.execute(select(Account.id).where(Account.name == name)).first() is not None:
        raise AccountExists(f"an account named '{name}' already exists")
    account = Account(
        name=name, balance=0, requests_per_minute=requests_per_minute, max_concurrent_jobs=max_concurrent_jobs
    )
    session.add(account)
    session.flush()
    if initial_credits:
        credits.grant(session, account.id, initial_credits, note="initial credits")
    return account


def get_or_create_account(session: Session, name: str, *, initial_credits: int = 0) -> Account:
    """The account with this name; a new one (granted `initial_credits`) when there is none."""
    account = session.execute(select(Account).where(Account.name == name)).scalar_one_or_none()
    if account is None:
        account = create_account(session, name, initial_credits=initial_credits)
    return account


def top_up(session: Session, account: Account, target: int, *, note: str) -> int:
    """Grant whatever brings the balance up to `target` micro-credits (nothing when it is already there)."""
    balance = credits.balance_of(session, account.id)
    if balance < target:
        return credits.grant(session, account.id, target - balance, note=note)
    return balance


def create_key(
    session: Session,
    account: Account,
    name: str = "",
    *,
    requests_per_minute: int | None = None,
    max_concurrent_jobs: int | None = None,
) -> str:
    """Issue a key for the account; the returned plaintext is never stored."""
    return issue_key(
        session, account, name, requests_per_minute=requests_per_minute, max_concurrent_jobs=max_concurrent_jobs
    )[0]


def issue_key(
    session: Session,
    account: Account,
    name: str = "",
    *,
    requests_per_minute: int | None = None,
    max_concurrent_jobs: int | None = None,
) -> tuple[str, ApiKey]:
    """Like create_key, also returning the stored row (which holds only the prefix and the hash)."""
    key, prefix, digest = generate_key()
    row = ApiKey(
        account_id=account.id,
        name=name,
        prefix=prefix,
        key_hash=digest,
        requests_per_minute=requests_per_minute,
        max_concurrent_jobs=max_concurrent_jobs,
    )
    session.add(row)
    session.flush()
    return key, row


def list_keys(session: Session, account: Account | None = None) -> list[tuple[ApiKey, Account]]:
    stmt = select(ApiKey, Account).join(Account, Account.id == ApiKey.account_id).order_by(ApiKey.created_at)
    if account is not None:
        stmt = stmt.where(ApiKey.account_id == account.id)
    return [(row.ApiKey, row.Account) for row in session.execute(stmt)]


def find_key(session: Session, prefix_or_id: str) -> ApiKey | None:
    """A key by its id (`key_...`), its prefix, or the full key's visible part (`s2s-<prefix>`)."""
    value = prefix_or_id.strip()
    if value.startswith("s2s-"):
        value = value.split("-", 2)[1]
    if not value:
        return None
    return session.execute(select(ApiKey).where(or_(ApiKey.id == value, ApiKey.prefix == value))).scalar_one_or_none()


def revoke_key(session: Session, prefix_or_id: str) -> ApiKey:
    """Revoke a key at once (the next request with it gets 401); revoking twice keeps the first time."""
    key = find_key(session, prefix_or_id)
    if key is None:
        raise NotFound(f"no API key with id or prefix '{prefix_or_id}'")
    session.execute(
        update(ApiKey)
        .where(ApiKey.id == key.id, ApiKey.revoked_at.is_(None))
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    session.refresh(key)
    return key


def active_key_count(session: Session, account_id: str) -> int:
    """The account's keys that are not revoked."""
    stmt = select(func.count()).select_from(ApiKey).where(ApiKey.account_id == account_id, ApiKey.revoked_at.is_(None))
    return int(session.execute(stmt).scalar_one())


def revoke_own_key(session: Session, account_id: str, prefix_or_id: str) -> ApiKey:
    """Revoke one of the account's own keys (by id or prefix), as `revoke_key` does, never its last active one.

    A key of another account is NotFound, as if it did not exist. LastActiveKey when every other key of the
    account is revoked. The account row is locked first (PostgreSQL) and the revocation is one conditional UPDATE
    (SQLite), so two concurrent revocations of an account's last two keys cannot both succeed.
    """
    key = find_key(session, prefix_or_id)
    if key is None or key.account_id != account_id:
        raise NotFound(f"no API key with id or prefix '{prefix_or_id}' in this account")
    if key.revoked_at is not None:
        return key  # revoking twice keeps the first time
    session.execute(select(Account.id).where(Account.id == account_id).with_for_update())
    sibling = aliased(ApiKey)  # not correlated with the row being updated
    other = (
        select(sibling.id)
        .where(sibling.account_id == account_id, sibling.id != key.id, sibling.revoked_at.is_(None))
        .exists()
    )
    session.execute(
        update(ApiKey)
        .where(ApiKey.id == key.id, ApiKey.revoked_at.is_(None), other)
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    session.refresh(key)
    if key.revoked_at is None:
        raise LastActiveKey(f"key '{key.prefix}' is the account's last active key")
    return key
