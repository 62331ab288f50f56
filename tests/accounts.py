"""Test accounts: keys on accounts holding credits granted explicitly (a ledger grant, like any credit)."""

from __future__ import annotations

# Credits the test accounts are topped up to: far more than the suite spends, granted explicitly.
TEST_CREDITS = 100_000


def key_with_credits(url: str, account: str, credits: float = TEST_CREDITS, **limits: int | None) -> str:
    """A new key for the account (created if missing), whose balance is topped up to `credits`."""
    from shared.accounts import create_key, get_or_create_account, top_up
    from shared.db.session import session_scope
    from shared.pricing import to_micros

    with session_scope(url) as session:
        acct = get_or_create_account(session, account)
        top_up(session, acct, to_micros(credits), note="test fixture")
        return create_key(session, acct, **limits)  # type: ignore[arg-type]
