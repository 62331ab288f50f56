"""`Idempotency-Key` on POST: one job per key and request, replayed responses, nothing charged twice."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select, update

from shared.db.models import Account, IdempotencyKey, Job, LedgerEntry, utcnow
from shared.db.session import session_scope
from tests.accounts import key_with_credits

pytestmark = pytest.mark.integration

SPEECH = {"model": "piper", "voice": "joe", "input": "Said once, paid once.", "format": "wav"}


def new_account(settings: object, credits: float = 100) -> tuple[str, dict[str, str]]:
    name = f"idem-{uuid.uuid4().hex[:8]}"
    key = key_with_credits(settings.sync_database_url, name, credits=credits)  # type: ignore[attr-defined]
    return name, {"Authorization": f"Bearer {key}"}


def jobs_and_charges(settings: object, name: str) -> tuple[int, int]:
    """(jobs of the account, sum of its job-related ledger entries in micro-credits)."""
    with session_scope(settings.sync_database_url) as session:  # type: ignore[attr-defined]
        account_id = session.execute(select(Account.id).where(Account.name == name)).scalar_one()
        jobs = session.execute(select(func.count()).select_from(Job).where(Job.account_id == account_id)).scalar_one()
        spent = session.execute(
            select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
                LedgerEntry.account_id == account_id, LedgerEntry.job_id.is_not(None)
            )
        ).scalar_one()
        return int(jobs), int(spent)


async def test_same_key_same_body_replays_the_audio_and_charges_once(
    client: httpx.AsyncClient, settings: object
) -> None:
    name, auth = new_account(settings)
    headers = {**auth, "Idempotency-Key": str(uuid.uuid4())}
    first = await client.post("/v1/audio/speech", headers=headers, json=SPEECH)
    assert first.status_code == 200, first.text
    assert "idempotent-replayed" not in first.headers
    # the same request, its JSON keys in another order
    second = await client.post("/v1/audio/speech", headers=headers, json=dict(reversed(list(SPEECH.items()))))
    assert second.status_code == 200, second.text
    assert second.headers["idempotent-replayed"] == "true"
    assert second.headers["x-job-id"] == first.headers["x-job-id"]
    assert second.headers["content-type"] == first.headers["content-type"] == "audio/wav"
    assert second.content == first.content
    assert jobs_and_charges(settings, name) == (1, -len(SPEECH["input"]) * 1_000)


async def test_concurrent_duplicates_make_one_job(client: httpx.AsyncClient, settings: object) -> None:
    name, auth = new_account(settings)
    headers = {**auth, "Idempotency-Key": f"burst-{uuid.uuid4()}"}
    body = {**SPEECH, "input": "Five at once, one job."}
    responses = await asyncio.gather(*(client.post("/v1/audio/speech", headers=headers, json=body) for _ in range(5)))
    assert [r.status_code for r in responses] == [200] * 5, [r.text[:200] for r in responses]
    assert len({r.headers["x-job-id"] for r in responses}) == 1
    assert len({r.content for r in responses}) == 1
    assert sum(r.headers.get("idempotent-replayed") == "true" for r in responses) == 4
    assert jobs_and_charges(settings, name) == (1, -len(body["input"]) * 1_000)


async def test_async_job_replays_the_same_job(client: httpx.AsyncClient, settings: object) -> None:
    name, auth = new_account(settings)
    headers = {**auth, "Idempotency-Key": str(uuid.uuid4())}
    body = {**SPEECH, "async": True}
    first, second = await asyncio.gather(*(client.post("/v1/audio/speech", headers=headers, json=body) for _ in "ab"))
    assert first.status_code == second.status_code == 202
    assert first.json()["id"] == second.json()["id"]
    assert jobs_and_charges(settings, name)[0] == 1


async def test_same_key_different_body_is_a_conflict(client: httpx.AsyncClient, settings: object) -> None:
    name, auth = new_account(settings)
    headers = {**auth, "Idempotency-Key": "reused-key"}
    assert (await client.post("/v1/audio/speech", headers=headers, json=SPEECH)).status_code == 200
    r = await client.post("/v1/audio/speech", headers=headers, json={**SPEECH, "input": "Something else."})
    assert r.status_code == 409
    error = r.json()["error"]
    assert error["code"] == "conflict" and error["param"] == "Idempotency-Key"
    assert "different request" in error["message"] and "new key" in error["message"]
    # another path with the same key is a different request too
    other = await client.post("/v1/audio/speech?async=true", headers=headers, json=SPEECH)
    assert other.status_code == 409
    assert jobs_and_charges(settings, name)[0] == 1
    # keys are per account: another account may use the same key
    _, other_auth = new_account(settings)
    r = await client.post("/v1/audio/speech", headers={**other_auth, "Idempotency-Key": "reused-key"}, json=SPEECH)
    assert r.status_code == 200 and "idempotent-replayed" not in r.headers


async def test_multipart_upload_replays_the_transcription(
    client: httpx.AsyncClient, settings: object, testdata: Path
) -> None:
    name, auth = new_account(settings)
    headers = {**auth, "Idempotency-Key": str(uuid.uuid4())}
    audio = (testdata / "jfk.flac").read_bytes()

    async def upload() -> httpx.Response:
        # each call builds a new multipart body with a new random boundary
        return await client.post(
            "/v1/audio/transcriptions",
            headers=headers,
            files={"file": ("jfk.flac", audio, "audio/flac")},
            data={"model": "whisper-tiny.en"},
        )

    first = await upload()
    assert first.status_code == 200, first.text
    second = await upload()
    assert second.status_code == 200 and second.headers["idempotent-replayed"] == "true"
    assert second.json() == first.json() and second.headers["x-job-id"] == first.headers["x-job-id"]
    # a different file under the same key is refused
    changed = await client.post(
        "/v1/audio/transcriptions",
        headers=headers,
        files={"file": ("jfk.flac", audio[:-1000], "audio/flac")},
        data={"model": "whisper-tiny.en"},
    )
    assert changed.status_code == 409
    assert jobs_and_charges(settings, name)[0] == 1


async def test_a_failed_request_does_not_hold_its_key(client: httpx.AsyncClient, settings: object) -> None:
    """402 creates nothing, so the key is free: after a top-up the same retry runs."""
    name, auth = new_account(settings, credits=0)
    headers = {**auth, "Idempotency-Key": str(uuid.uuid4())}
    refused = await client.post("/v1/audio/speech", headers=headers, json=SPEECH)
    assert refused.status_code == 402
    with session_scope(settings.sync_database_url) as session:  # type: ignore[attr-defined]
        from shared import credits

        account_id = session.execute(select(Account.id).where(Account.name == name)).scalar_one()
        credits.grant(session, account_id, 1_000_000)
    retried = await client.post("/v1/audio/speech", headers=headers, json=SPEECH)
    assert retried.status_code == 200 and "idempotent-replayed" not in retried.headers
    assert jobs_and_charges(settings, name)[0] == 1


async def test_keys_expire_after_24_hours(client: httpx.AsyncClient, settings: object) -> None:
    name, auth = new_account(settings)
    key = str(uuid.uuid4())
    headers = {**auth, "Idempotency-Key": key}
    assert (await client.post("/v1/audio/speech", headers=headers, json=SPEECH)).status_code == 200
    with session_scope(settings.sync_database_url) as session:  # type: ignore[attr-defined]
        session.execute(
            update(IdempotencyKey)
            .where(IdempotencyKey.key == key)
            .values(created_at=utcnow() - timedelta(hours=24, minutes=1))
        )
    r = await client.post("/v1/audio/speech", headers=headers, json={**SPEECH, "input": "A new day."})
    assert r.status_code == 200 and "idempotent-replayed" not in r.headers
    assert jobs_and_charges(settings, name)[0] == 2


@pytest.mark.parametrize("value", [b"", b"x" * 256, "naïve".encode("latin-1"), b"tab\tinside"])
async def test_malformed_key_is_a_400(client: httpx.AsyncClient, auth: dict[str, str], value: bytes) -> None:
    r = await client.post("/v1/audio/speech", headers={**auth, "Idempotency-Key": value}, json=SPEECH)
    assert r.status_code == 400 and r.json()["error"]["param"] == "Idempotency-Key"
