"""`client.account` (retrieve, keys.create/list/revoke) and `client.usage.list`: request shapes against a scripted
server, then the real SDK against the real server."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime

import httpx
import pytest
import speechtospeechai as s2s
from speechtospeechai import AsyncClient, Client

from shared.config import Settings
from tests.accounts import key_with_credits
from tests.sdk.conftest import ScriptedServer, error

pytestmark = pytest.mark.integration

KEY = {
    "id": "key_abc",
    "object": "api_key",
    "account_id": "acct_1",
    "name": "ci",
    "prefix": "0123456789ab",
    "created_at": "2026-02-03T12:00:00Z",
    "revoked_at": None,
    "requests_per_minute": 10,
    "max_concurrent_jobs": None,
}
ACCOUNT = {
    "id": "acct_1",
    "object": "account",
    "name": "me",
    "balance": 12.5,
    "reserved": 0.25,
    "active_jobs": 1,
    "limits": {"requests_per_minute": 600, "max_concurrent_jobs": 16},
    "key": KEY,
    "created_at": "2026-02-01T00:00:00Z",
}
USAGE = {
    "object": "usage",
    "start": "2026-02-01",
    "end": "2026-02-03",
    "data": [
        {
            "date": "2026-02-02",
            "model": "piper",
            "kind": "tts",
            "requests": 2,
            "succeeded": 2,
            "characters": 70,
            "audio_seconds": 0.0,
            "credits": 0.07,
        }
    ],
    "totals": {"requests": 2, "succeeded": 2, "characters": 70, "audio_seconds": 0.0, "credits": 0.07},
}


# --- request shapes -----------------------------------------------------------------------------------------
def test_account_retrieve(server: ScriptedServer) -> None:
    server.on("GET", "account", httpx.Response(200, json=ACCOUNT))
    account = server.client().account.retrieve()
    assert isinstance(account, s2s.Account)
    assert (account.balance, account.limits.requests_per_minute, account.key.prefix) == (12.5, 600, "0123456789ab")


def test_keys_create_posts_only_what_was_given(server: ScriptedServer) -> None:
    server.on("POST", "account/keys", httpx.Response(201, json={**KEY, "key": "s2s-0123456789ab-secret"}))
    client = server.client()
    created = client.account.keys.create(name="ci", requests_per_minute=10)
    assert isinstance(created, s2s.ApiKeyCreated) and created.key == "s2s-0123456789ab-secret"
    assert json.loads(server.requests[0].content) == {"name": "ci", "requests_per_minute": 10}
    client.account.keys.create(name="plain")
    assert json.loads(server.requests[1].content) == {"name": "plain"}
    assert server.requests[0].headers["idempotency-key"] != server.requests[1].headers["idempotency-key"]


def test_keys_list_and_revoke(server: ScriptedServer) -> None:
    revoked = {**KEY, "revoked_at": "2026-02-04T00:00:00Z"}
    server.on("GET", "account/keys", httpx.Response(200, json={"object": "list", "data": [KEY, revoked]}))
    server.on("DELETE", "account/keys/key_abc", httpx.Response(200, json=revoked))
    client = server.client()
    listed = client.account.keys.list()
    assert [k.revoked_at is None for k in listed.data] == [True, False]
    assert not hasattr(listed.data[0], "key")
    assert "include_revoked" not in server.requests[0].url.params
    client.account.keys.list(include_revoked=False)
    assert server.requests[1].url.params["include_revoked"] == "false"
    gone = client.account.keys.revoke("key_abc")
    assert gone.revoked_at == datetime(2026, 2, 4, tzinfo=UTC)
    with pytest.raises(ValueError):
        client.account.keys.revoke("")


def test_revoking_the_last_key_is_a_conflict_that_is_not_retried(server: ScriptedServer) -> None:
    refused = error(409, "conflict", "last active key", param="key_id", **{"x-should-retry": "false"})
    server.on("DELETE", "account/keys/key_abc", refused)
    with pytest.raises(s2s.ConflictError) as info:
        server.client().account.keys.revoke("key_abc")
    assert info.value.param == "key_id" and len(server.requests) == 1 and server.sleeps == []


def test_usage_list_sends_from_and_to(server: ScriptedServer) -> None:
    server.on("GET", "usage", httpx.Response(200, json=USAGE))
    client = server.client()
    usage = client.usage.list(start=date(2026, 2, 1), end="2026-02-03")
    assert server.requests[0].url.params["from"] == "2026-02-01" and server.requests[0].url.params["to"] == "2026-02-03"
    assert isinstance(usage, s2s.Usage) and usage.data[0].date == date(2026, 2, 2) and usage.totals.characters == 70
    client.usage.list()
    assert not server.requests[1].url.params


async def test_async_account_keys_and_usage(server: ScriptedServer) -> None:
    server.on("GET", "account", httpx.Response(200, json=ACCOUNT))
    server.on("POST", "account/keys", httpx.Response(201, json={**KEY, "key": "s2s-0123456789ab-secret"}))
    server.on("GET", "account/keys", httpx.Response(200, json={"object": "list", "data": [KEY]}))
    server.on("DELETE", "account/keys/0123456789ab", httpx.Response(200, json=KEY))
    server.on("GET", "usage", httpx.Response(200, json=USAGE))
    client = server.async_client()
    assert (await client.account.retrieve()).name == "me"
    assert (await client.account.keys.create(name="ci")).key == "s2s-0123456789ab-secret"
    assert len((await client.account.keys.list(include_revoked=True)).data) == 1
    assert server.requests[2].url.params["include_revoked"] == "true"
    assert (await client.account.keys.revoke("0123456789ab")).id == "key_abc"
    assert (await client.usage.list(start="2026-02-01")).end == date(2026, 2, 3)


# --- against the real server ----------------------------------------------------------------------------------
def test_live_self_service_keys(live_api: str, settings: Settings) -> None:
    first = key_with_credits(settings.sync_database_url, f"sdk-keys-{uuid.uuid4().hex[:8]}", requests_per_minute=40)
    with Client(api_key=first, base_url=live_api) as client:
        me = client.account.retrieve()
        assert me.limits.requests_per_minute == 40 and me.key.prefix == first.split("-")[1]

        created = client.account.keys.create(name="sdk", max_concurrent_jobs=2)
        assert created.key.startswith(f"s2s-{created.prefix}-") and created.requests_per_minute == 40
        with pytest.raises(s2s.BadRequestError) as over:
            client.account.keys.create(name="too much", requests_per_minute=41)
        assert over.value.param == "requests_per_minute"

        with Client(api_key=created.key, base_url=live_api) as second:
            assert second.account.retrieve().key.id == created.id
            assert second.account.retrieve().limits.max_concurrent_jobs == 2
            listed = second.account.keys.list()
            assert [k.id for k in listed.data] == [me.key.id, created.id]
            assert created.key not in json.dumps([k.model_dump(mode="json") for k in listed.data])
            revoked = second.account.keys.revoke(me.key.id)  # the other key, from this one
            assert revoked.revoked_at is not None
            with pytest.raises(s2s.ConflictError) as last:
                second.account.keys.revoke(created.prefix)
            assert "last active key" in last.value.message
            assert [k.id for k in second.account.keys.list(include_revoked=False).data] == [created.id]

        with pytest.raises(s2s.AuthenticationError):  # the revoked key, at once
            client.account.retrieve()


async def test_live_async_account_and_usage(live_api: str, settings: Settings) -> None:
    key = key_with_credits(settings.sync_database_url, f"sdk-usage-{uuid.uuid4().hex[:8]}")
    async with AsyncClient(api_key=key, base_url=live_api) as client:
        await client.audio.speech.create(model="piper", voice="joe", input="Counted per day and model.")
        usage = await client.usage.list()
        today = datetime.now(UTC).date()
        assert usage.end == today and [(d.date, d.model, d.requests) for d in usage.data] == [(today, "piper", 1)]
        assert usage.totals.characters == len("Counted per day and model.")
        created = await client.account.keys.create(name="async")
        assert created.id in {k.id for k in (await client.account.keys.list()).data}
        assert (await client.account.keys.revoke(created.id)).revoked_at is not None
        assert (await client.account.retrieve()).key.prefix == key.split("-")[1]
        with pytest.raises(s2s.BadRequestError):
            await client.usage.list(start=today, end=date(today.year - 2, 1, 1))
