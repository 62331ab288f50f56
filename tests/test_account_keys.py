"""Self-service API keys: `POST/GET /v1/account/keys`, `DELETE /v1/account/keys/{key_id}`, against the real app."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from shared.config import Settings
from shared.db.models import ApiKey, Base, IdempotencyKey
from shared.db.session import session_scope
from shared.security import hash_key
from tests.accounts import key_with_credits

pytestmark = pytest.mark.integration


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def fresh_account() -> str:
    return f"self-keys-{uuid.uuid4().hex[:8]}"


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"code", "message", "param", "request_id"}
    assert error["code"] == code and error["message"] and error["request_id"]
    assert response.headers["x-request-id"] == error["request_id"]
    return error  # type: ignore[no-any-return]


async def test_create_list_use_and_revoke_a_key(client: httpx.AsyncClient, make_key: Callable[[str], str]) -> None:
    first = make_key(fresh_account())
    made = await client.post("/v1/account/keys", headers=bearer(first), json={"name": "laptop"})
    assert made.status_code == 201, made.text
    created = made.json()
    secret = created["key"]
    assert secret.startswith(f"s2s-{created['prefix']}-") and created["name"] == "laptop"
    assert created["object"] == "api_key" and created["revoked_at"] is None

    listed = await client.get("/v1/account/keys", headers=bearer(first))
    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert body["object"] == "list"
    assert [k["prefix"] for k in body["data"]] == [first.split("-")[1], created["prefix"]]  # oldest first
    assert all("key" not in k for k in body["data"])
    assert secret not in listed.text and first not in listed.text

    # the new key works, on the same account
    view = await client.get("/v1/account", headers=bearer(secret))
    assert view.status_code == 200, view.text
    assert view.json()["key"]["id"] == created["id"]
    assert view.json()["id"] == created["account_id"]

    revoked = await client.delete(f"/v1/account/keys/{created['id']}", headers=bearer(first))
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["id"] == created["id"] and revoked.json()["revoked_at"] is not None
    # at once: the very next request with it is refused, in the error envelope
    error = assert_error(await client.get("/v1/account", headers=bearer(secret)), 401, "invalid_api_key")
    assert "Invalid API key" in error["message"]
    assert_error(await client.get("/v1/account/keys", headers=bearer(secret)), 401, "invalid_api_key")

    again = await client.delete(f"/v1/account/keys/{created['prefix']}", headers=bearer(first))
    assert again.status_code == 200 and again.json()["revoked_at"] == revoked.json()["revoked_at"]

    everything = (await client.get("/v1/account/keys", headers=bearer(first))).json()["data"]
    assert [k["revoked_at"] is not None for k in everything] == [False, True]
    active = await client.get("/v1/account/keys", headers=bearer(first), params={"include_revoked": "false"})
    assert [k["prefix"] for k in active.json()["data"]] == [first.split("-")[1]]


async def test_secrets_are_stored_only_as_hashes(client: httpx.AsyncClient, settings: Settings) -> None:
    first = key_with_credits(settings.sync_database_url, fresh_account())
    headers = {**bearer(first), "Idempotency-Key": f"new-key-{uuid.uuid4().hex}"}
    made = await client.post("/v1/account/keys", headers=headers, json={"name": "ci"})
    assert made.status_code == 201, made.text
    secret, prefix = made.json()["key"], made.json()["prefix"]

    with session_scope(settings.sync_database_url) as session:
        row = session.execute(select(ApiKey).where(ApiKey.prefix == prefix)).scalar_one()
        assert row.key_hash == hash_key(secret) and len(row.key_hash) == 64
        assert secret not in {str(getattr(row, c.key)) for c in ApiKey.__table__.columns}
        stored = session.execute(select(IdempotencyKey)).scalars().all()
        assert stored and not any(secret.encode() in (r.response_body or b"") for r in stored)
        # nor in any column of any table (the secret part of the key is random: it can only come from a leak).
        # Read through SQL, never the database file: opening and closing that file in this process would drop
        # SQLite's POSIX locks of every connection here.
        hidden = secret.split("-", 2)[2]
        for table in Base.metadata.sorted_tables:
            for values in session.execute(select(table)):
                for value in values:
                    text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
                    assert hidden not in text, (table.name, values)

    # an Idempotency-Key replay cannot show the secret again: 409, naming the key it made
    replay = await client.post("/v1/account/keys", headers=headers, json={"name": "ci"})
    error = assert_error(replay, 409, "conflict")
    assert prefix in error["message"] and secret not in replay.text


async def test_another_accounts_key_is_not_found(client: httpx.AsyncClient, make_key: Callable[[str], str]) -> None:
    mine, theirs = make_key(fresh_account()), make_key(fresh_account())
    made = (await client.post("/v1/account/keys", headers=bearer(theirs), json={"name": "theirs"})).json()
    for ref in (made["id"], made["prefix"], "key_doesnotexist"):
        error = assert_error(await client.delete(f"/v1/account/keys/{ref}", headers=bearer(mine)), 404, "not_found")
        assert error["param"] == "key_id" and "GET /v1/account/keys" in error["message"]
    assert (await client.get("/v1/account", headers=bearer(made["key"]))).status_code == 200  # untouched
    listed = (await client.get("/v1/account/keys", headers=bearer(mine))).json()["data"]
    assert made["id"] not in {k["id"] for k in listed} and len(listed) == 1


async def test_the_last_active_key_cannot_be_revoked(client: httpx.AsyncClient, make_key: Callable[[str], str]) -> None:
    only = make_key(fresh_account())
    own_id = (await client.get("/v1/account", headers=bearer(only))).json()["key"]["id"]
    refused = await client.delete(f"/v1/account/keys/{own_id}", headers=bearer(only))
    error = assert_error(refused, 409, "conflict")
    assert refused.headers["x-should-retry"] == "false"  # a retry cannot change it: SDKs do not retry it
    assert "last active key" in error["message"] and "POST /v1/account/keys" in error["message"]
    assert error["param"] == "key_id"
    assert (await client.get("/v1/account", headers=bearer(only))).status_code == 200

    # with a second key, a caller may revoke the key it is using
    spare = (await client.post("/v1/account/keys", headers=bearer(only), json={"name": "spare"})).json()
    gone = await client.delete(f"/v1/account/keys/{own_id}", headers=bearer(only))
    assert gone.status_code == 200 and gone.json()["revoked_at"] is not None
    assert_error(await client.get("/v1/account", headers=bearer(only)), 401, "invalid_api_key")
    assert_error(await client.delete(f"/v1/account/keys/{spare['id']}", headers=bearer(spare["key"])), 409, "conflict")

    # two revocations racing for an account's last two keys: exactly one wins
    third = (await client.post("/v1/account/keys", headers=bearer(spare["key"]), json={"name": "third"})).json()
    results = await asyncio.gather(
        client.delete(f"/v1/account/keys/{spare['id']}", headers=bearer(third["key"])),
        client.delete(f"/v1/account/keys/{third['id']}", headers=bearer(spare["key"])),
    )
    assert sorted(r.status_code for r in results) == [200, 409], [r.text for r in results]
    active = await client.get("/v1/account/keys", headers=bearer(spare["key"]), params={"include_revoked": "false"})
    if active.status_code == 401:  # spare lost
        active = await client.get("/v1/account/keys", headers=bearer(third["key"]), params={"include_revoked": "false"})
    assert len(active.json()["data"]) == 1


@pytest.fixture(params=["sqlite", "postgresql"])
def platform(request: pytest.FixtureRequest) -> tuple[httpx.AsyncClient, str]:
    """The app and its database URL: the test platform's SQLite one, and PostgreSQL."""
    if request.param == "sqlite":
        return request.getfixturevalue("client"), request.getfixturevalue("settings").sync_database_url
    return request.getfixturevalue("pg_client"), request.getfixturevalue("pg_env")["DATABASE_URL"]


async def test_revoking_every_key_at_once_leaves_exactly_one(platform: tuple[httpx.AsyncClient, str]) -> None:
    """Each of an account's keys revokes itself, all at the same time: one of them (any) is refused as the last."""
    client, url = platform
    account = fresh_account()
    keys = [key_with_credits(url, account) for _ in range(8)]
    results = await asyncio.gather(
        *(client.delete(f"/v1/account/keys/{key.split('-')[1]}", headers=bearer(key)) for key in keys)
    )
    assert sorted(r.status_code for r in results) == [200] * 7 + [409], [r.text for r in results]
    survivor = keys[[r.status_code for r in results].index(409)]
    with session_scope(url) as session:
        prefixes = {k.split("-")[1] for k in keys}
        rows = session.execute(select(ApiKey).where(ApiKey.prefix.in_(prefixes))).scalars().all()
        assert [r.prefix for r in rows if r.revoked_at is None] == [survivor.split("-")[1]]
    assert (await client.get("/v1/account", headers=bearer(survivor))).status_code == 200


async def test_a_new_key_never_exceeds_the_calling_key(client: httpx.AsyncClient, settings: Settings) -> None:
    limited = key_with_credits(
        settings.sync_database_url, fresh_account(), requests_per_minute=50, max_concurrent_jobs=3
    )
    for body, param in (
        ({"requests_per_minute": 51}, "requests_per_minute"),
        ({"requests_per_minute": 0}, "requests_per_minute"),  # 0 is unlimited
        ({"max_concurrent_jobs": 4}, "max_concurrent_jobs"),
        ({"max_concurrent_jobs": 0}, "max_concurrent_jobs"),
    ):
        refused = await client.post("/v1/account/keys", headers=bearer(limited), json={"name": "x", **body})
        error = assert_error(refused, 400, "invalid_request")
        assert error["param"] == param and "at most" in error["message"], error
    assert_error(await client.post("/v1/account/keys", headers=bearer(limited), json={}), 400, "invalid_request")
    keys = (await client.get("/v1/account/keys", headers=bearer(limited))).json()["data"]
    assert len(keys) == 1  # nothing was created

    # omitted limits: the account's (the server default, 600 and 16 here), capped at the calling key's
    capped = (await client.post("/v1/account/keys", headers=bearer(limited), json={"name": "capped"})).json()
    assert (capped["requests_per_minute"], capped["max_concurrent_jobs"]) == (50, 3)
    lower = await client.post(
        "/v1/account/keys",
        headers=bearer(limited),
        json={"name": "lower", "requests_per_minute": 20, "max_concurrent_jobs": 1},
    )
    assert lower.status_code == 201, lower.text
    view = (await client.get("/v1/account", headers=bearer(lower.json()["key"]))).json()
    assert view["limits"] == {"requests_per_minute": 20, "max_concurrent_jobs": 1}
    # and that key, in turn, cannot give more than it has
    over = await client.post(
        "/v1/account/keys", headers=bearer(lower.json()["key"]), json={"name": "y", "requests_per_minute": 21}
    )
    assert_error(over, 400, "invalid_request")

    # a key under the server default (600 rpm, 16 jobs) leaves an omitted limit inherited (null)
    plain = key_with_credits(settings.sync_database_url, fresh_account())
    inherited = (await client.post("/v1/account/keys", headers=bearer(plain), json={"name": "i"})).json()
    assert (inherited["requests_per_minute"], inherited["max_concurrent_jobs"]) == (None, None)
    up_to = await client.post("/v1/account/keys", headers=bearer(plain), json={"name": "j", "requests_per_minute": 600})
    assert up_to.status_code == 201 and up_to.json()["requests_per_minute"] == 600


async def test_the_routes_are_documented(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    statuses = {
        ("/v1/account/keys", "post"): {"201", "400", "401", "409", "413", "429", "500"},
        ("/v1/account/keys", "get"): {"200", "400", "401", "429", "500"},
        ("/v1/account/keys/{key_id}", "delete"): {"200", "400", "401", "404", "409", "429", "500"},
    }
    for (path, method), wanted in statuses.items():
        responses = paths[path][method]["responses"]
        assert set(responses) == wanted, (path, method, sorted(responses))
    created = paths["/v1/account/keys"]["post"]["responses"]["201"]["content"]["application/json"]["schema"]
    assert created == {"$ref": "#/components/schemas/ApiKeyCreated"}
