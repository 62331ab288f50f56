"""Accounts and API keys on the sync side (CLI, `s2s run`, tests): create, look up, issue keys."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.db.models import Account, ApiKey
from shared.security import generate_key


def get_or_create_account(session: Session, name: str) -> Account:
    account = session.execute(select(Account).where(Account.name == name)).scalar_one_or_none()
    if account is None:
        account = Account(name=name)
        session.add(account)
        session.flush()
    return account


def create_key(session: Session, account: Account, name: str = "") -> str:
    """Issue a key for the account; the returned plaintext is never stored."""
    key, prefix, digest = generate_key()
    session.add(ApiKey(account_id=account.id, name=name, prefix=prefix, key_hash=digest))
    session.flush()
    return key
