"""Accounts, keys, credits and usage: the admin API (admin token), `GET /v1/account`, `GET /v1/usage`, the CLI."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select

from shared import credits
from shared.config import Settings
from shared.db.models import Account, ApiKey, LedgerEntry
from shared.db.session import session_scope
from tests.test_cli import s2s

pytestmark = pytest.mark.integration

ADMIN = {"Authorization": "Bearer test-admin-token-0123456789"}


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def test_admin_api_needs_the_admin_token(client: httpx.AsyncClient, api_key: str) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong-token-0123456789"}, bearer(api_key)):
        r = await client.get("/v1/admin/accounts", headers=headers)
        assert r.status_code == 401, r.text
        error = r.json()["error"]
        assert error["code"] == "invalid_admin_token" and "ADMIN_TOKEN" in error["message"]
    assert (await client.get("/v1/admin/accounts", headers=ADMIN)).status_code == 200
    alt = await client.get("/v1/admin/accounts", headers={"X-Admin-Token": "test-admin-token-0123456789"})
    assert alt.status_code == 200


@pytest.fixture(scope="module")
async def tokenless_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    from api.main import create_app

    app = create_app(settings.model_copy(update={"admin_token": None}))
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        yield c


async def test_admin_api_is_off_without_a_token(tokenless_client: httpx.AsyncClient) -> None:
    r = await tokenless_client.get("/v1/admin/accounts", headers=ADMIN)
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "admin_api_disabled" and "s2s accounts" in r.json()["error"]["message"]


async def test_account_lifecycle_through_the_admin_api(client: httpx.AsyncClient, settings: Settings) -> None:
    name = f"adm-{uuid.uuid4().hex[:8]}"
    created = await client.post(
        "/v1/admin/accounts", headers=ADMIN, json={"name": name, "credits": "2.5", "requests_per_minute": 100}
    )
    assert created.status_code == 201, created.text
    account = created.json()
    assert account["balance"] == 2.5 and account["requests_per_minute"] == 100 and account["active_keys"] == 0
    duplicate = await client.post("/v1/admin/accounts", headers=ADMIN, json={"name": name})
    assert duplicate.status_code == 409 and duplicate.json()["error"]["param"] == "name"

    added = await client.post(
        f"/v1/admin/accounts/{name}/credits", headers=ADMIN, json={"amount": 0.75, "note": "top-up"}
    )
    assert added.status_code == 200, added.text
    assert added.json()["account"]["balance"] == 3.25
    assert added.json()["entry"]["reason"] == "grant" and added.json()["entry"]["amount"] == 0.75
    too_much = await client.post(f"/v1/admin/accounts/{name}/credits", headers=ADMIN, json={"amount": -4})
    assert too_much.status_code == 400 and "never go negative" in too_much.json()["error"]["message"]
    taken = await client.post(f"/v1/admin/accounts/{account['id']}/credits", headers=ADMIN, json={"amount": "-0.25"})
    assert taken.json()["account"]["balance"] == 3.0 and taken.json()["entry"]["reason"] == "adjust"
    tiny = await client.post(f"/v1/admin/accounts/{name}/credits", headers=ADMIN, json={"amount": "0.0000001"})
    assert tiny.status_code == 400 and "6 decimal places" in tiny.json()["error"]["message"]
    missing = await client.post("/v1/admin/accounts/nobody-here/credits", headers=ADMIN, json={"amount": 1})
    assert missing.status_code == 404

    made = await client.post(
        f"/v1/admin/accounts/{name}/keys", headers=ADMIN, json={"name": "ci", "max_concurrent_jobs": 3}
    )
    assert made.status_code == 201, made.text
    key = made.json()["key"]
    assert key.startswith(f"s2s-{made.json()['prefix']}-")

    listed = (await client.get("/v1/admin/keys", headers=ADMIN, params={"account": name})).json()["data"]
    assert [k["prefix"] for k in listed] == [made.json()["prefix"]]
    assert "key" not in listed[0] and key not in str(listed)

    # the key's own view: balance, the limits that apply to it (key override, account default, server default)
    view = await client.get("/v1/account", headers=bearer(key))
    assert view.status_code == 200, view.text
    body = view.json()
    assert body["name"] == name and body["balance"] == 3.0 and body["reserved"] == 0.0
    assert body["limits"] == {"requests_per_minute": 100, "max_concurrent_jobs": 3}
    assert body["key"]["prefix"] == made.json()["prefix"] and "key" not in body["key"]
    assert view.headers["x-ratelimit-limit"] == "100"

    ledger = (await client.get(f"/v1/admin/accounts/{name}/ledger", headers=ADMIN)).json()
    assert [e["reason"] for e in ledger["data"]] == ["adjust", "grant", "grant"]
    assert ledger["balance"] == ledger["ledger_sum"] == 3.0

    revoked = await client.delete(f"/v1/admin/keys/{made.json()['prefix']}", headers=ADMIN)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    after = await client.get("/v1/account", headers=bearer(key))  # at once
    assert after.status_code == 401 and after.json()["error"]["code"] == "invalid_api_key"
    assert (await client.delete("/v1/admin/keys/nope", headers=ADMIN)).status_code == 404


async def test_new_accounts_get_the_default_grant(client: httpx.AsyncClient, settings: Settings) -> None:
    name = f"dflt-{uuid.uuid4().hex[:8]}"
    r = await client.post("/v1/admin/accounts", headers=ADMIN, json={"name": name})
    assert r.json()["balance"] == float(settings.credits.default_grant)


async def test_admin_credit_grant_is_idempotent(client: httpx.AsyncClient) -> None:
    name = f"idem-adm-{uuid.uuid4().hex[:8]}"
    await client.post("/v1/admin/accounts", headers=ADMIN, json={"name": name, "credits": 0})
    headers = {**ADMIN, "Idempotency-Key": str(uuid.uuid4())}
    for _ in range(3):
        r = await client.post(f"/v1/admin/accounts/{name}/credits", headers=headers, json={"amount": 5})
        assert r.status_code == 200
    ledger = (await client.get(f"/v1/admin/accounts/{name}/ledger", headers=ADMIN)).json()
    assert ledger["balance"] == 5.0 and len(ledger["data"]) == 1


async def test_usage_per_day_and_model(client: httpx.AsyncClient, settings: Settings) -> None:
    from tests.accounts import key_with_credits

    name = f"usage-{uuid.uuid4().hex[:8]}"
    auth = bearer(key_with_credits(settings.sync_database_url, name, credits=10))
    text = "Usage is counted per day and model."
    for _ in range(2):
        r = await client.post("/v1/audio/speech", headers=auth, json={"model": "piper", "voice": "joe", "input": text})
        assert r.status_code == 200
    today = datetime.now(UTC).date()
    usage = await client.get("/v1/usage", headers=auth)
    assert usage.status_code == 200, usage.text
    body = usage.json()
    assert body["end"] == today.isoformat() and body["start"] == (today - timedelta(days=29)).isoformat()
    assert body["data"] == [
        {
            "date": today.isoformat(),
            "model": "piper",
            "kind": "tts",
            "requests": 2,
            "succeeded": 2,
            "characters": 2 * len(text),
            "audio_seconds": 0.0,
            "credits": 2 * len(text) / 1000,
        }
    ]
    assert body["totals"]["credits"] == 2 * len(text) / 1000
    yesterday = (today - timedelta(days=1)).isoformat()
    empty = (await client.get("/v1/usage", headers=auth, params={"from": yesterday, "to": yesterday})).json()
    assert empty["data"] == [] and empty["totals"]["requests"] == 0
    swapped = await client.get("/v1/usage", headers=auth, params={"from": today.isoformat(), "to": yesterday})
    assert swapped.status_code == 400 and swapped.json()["error"]["param"] == "from"


async def test_cli_accounts_credits_and_keys(client: httpx.AsyncClient, settings: Settings) -> None:
    name = f"cli-{uuid.uuid4().hex[:8]}"
    made = s2s("accounts", "create", name, "--credits", "12.5", "--rpm", "50")
    assert made.returncode == 0, made.stderr
    assert "12.5 credits" in made.stdout
    assert s2s("accounts", "create", name).returncode == 1

    added = s2s("credits", "add", name, "7.5", "--reason", "invoice 42")
    assert added.returncode == 0 and "now has 20 credits" in added.stdout, added.stdout + added.stderr
    assert s2s("credits", "add", "no-such-account", "1").returncode == 1
    assert s2s("credits", "add", name, "--", "-100").returncode == 1  # never below zero

    created = s2s("keys", "create", "--account", name, "--concurrency", "2")
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip().splitlines()[-1]
    prefix = key.split("-")[1]
    listed = s2s("keys", "list", "--account", name)
    assert listed.returncode == 0 and f"s2s-{prefix}-" in listed.stdout and key not in listed.stdout

    url = settings.sync_database_url
    with session_scope(url) as session:
        account = session.execute(select(Account).where(Account.name == name)).scalar_one()
        row = session.execute(select(ApiKey).where(ApiKey.prefix == prefix)).scalar_one()
        assert account.requests_per_minute == 50 and row.max_concurrent_jobs == 2 and row.revoked_at is None
        assert credits.audit(session, account.id) == (20_000_000, 20_000_000)
        notes = session.execute(select(LedgerEntry.note).where(LedgerEntry.account_id == account.id)).scalars().all()
        assert sorted(notes) == ["initial credits", "invoice 42"]

    view = await client.get("/v1/account", headers=bearer(key))
    assert view.json()["limits"] == {"requests_per_minute": 50, "max_concurrent_jobs": 2}
    assert view.json()["balance"] == 20.0

    revoked = s2s("keys", "revoke", prefix)
    assert revoked.returncode == 0, revoked.stderr
    with session_scope(url) as session:
        assert session.execute(select(ApiKey.revoked_at).where(ApiKey.prefix == prefix)).scalar_one() is not None
    assert (await client.get("/v1/account", headers=bearer(key))).status_code == 401
    assert s2s("keys", "revoke", "000000000000").returncode == 1
    assert name in s2s("accounts", "list").stdout
