"""Files, batches and webhooks against the real platform: SQLite, Redis, SeaweedFS, a real worker running piper and
whisper, and a real webhook receiver that verifies every delivery with the `standardwebhooks` package."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from shared import credits
from shared.config import Settings
from shared.db.models import Account, Batch, Job, WebhookEndpoint
from shared.db.session import session_scope
from tests.accounts import key_with_credits
from tests.webhook_receiver import Receiver, webhook_receiver

pytestmark = pytest.mark.integration

TERMINAL = {"completed", "failed", "expired", "cancelled"}


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    with webhook_receiver() as r:
        yield r


def new_key(settings: Settings, credits_: float = 1_000.0) -> tuple[str, dict[str, str]]:
    """A new account with `credits_`: (its id, the Authorization header of a key of it)."""
    name = f"batch-{uuid.uuid4().hex[:8]}"
    key = key_with_credits(settings.sync_database_url, name, credits_)
    with session_scope(settings.sync_database_url) as session:
        account_id = session.execute(select(Account.id).where(Account.name == name)).scalar_one()
    return account_id, {"Authorization": f"Bearer {key}"}


def top_up(settings: Settings, account_id: str, credits_: float) -> None:
    from shared.accounts import top_up as grant_up_to
    from shared.pricing import to_micros

    with session_scope(settings.sync_database_url) as session:
        account = session.get(Account, account_id)
        assert account is not None
        grant_up_to(session, account, to_micros(credits_), note="test")


def audit(settings: Settings, account_id: str) -> int:
    """The balance, after checking it equals the sum of the ledger."""
    with session_scope(settings.sync_database_url) as session:
        balance, total = credits.audit(session, account_id)
    assert balance == total
    return balance


async def wait_batch(
    client: httpx.AsyncClient, auth: dict[str, str], batch_id: str, statuses: set[str] = TERMINAL, timeout: float = 240
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    body: dict[str, Any] = {}
    while time.monotonic() < deadline:
        r = await client.get(f"/v1/batches/{batch_id}", headers=auth)
        assert r.status_code == 200, r.text
        body = r.json()
        if body["status"] in statuses:
            return body
        await asyncio.sleep(0.3)
    raise AssertionError(f"batch {batch_id} still {body.get('status')} ({body.get('request_counts')})")


async def jsonl(client: httpx.AsyncClient, auth: dict[str, str], file_id: str | None) -> list[dict[str, Any]]:
    if file_id is None:
        return []
    r = await client.get(f"/v1/files/{file_id}/content", headers=auth)
    assert r.status_code == 200, r.text
    return [json.loads(line) for line in r.text.splitlines() if line.strip()]


async def signing_endpoint(
    client: httpx.AsyncClient, auth: dict[str, str], receiver: Receiver, path: str, **body: Any
) -> dict[str, Any]:
    r = await client.post(
        "/v1/webhook_endpoints",
        headers=auth,
        json={"url": receiver.url(path), "default_for_requests": True, **body},
    )
    assert r.status_code == 200, r.text
    endpoint = r.json()
    assert endpoint["secret"].startswith("whsec_")
    receiver.secrets.append(endpoint["secret"])
    return endpoint


# --- files -----------------------------------------------------------------------------------------------------------
async def test_files_round_trip(client: httpx.AsyncClient, settings: Settings, testdata: Path) -> None:
    _, auth = new_key(settings)
    _, other = new_key(settings)
    lines = b'{"custom_id": "a", "body": {"model": "piper", "voice": "joe", "input": "Hi."}}\n'
    r = await client.post("/v1/files", headers=auth, files={"file": ("in.jsonl", lines)}, data={"purpose": "batch"})
    assert r.status_code == 200, r.text
    made = r.json()
    assert made["object"] == "file" and made["bytes"] == len(lines) and made["purpose"] == "batch"
    assert isinstance(made["created_at"], int) and made["expires_at"] > made["created_at"]

    audio = (testdata / "jfk.flac").read_bytes()
    r = await client.post("/v1/files", headers=auth, files={"file": ("jfk.flac", audio)}, data={"purpose": "audio"})
    assert r.status_code == 200 and r.json()["audio_seconds"] == pytest.approx(11.0, abs=0.5)
    audio_id = r.json()["id"]

    r = await client.post("/v1/files", headers=auth, files={"file": ("x.wav", b"not audio")}, data={"purpose": "audio"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_audio"
    r = await client.post("/v1/files", headers=auth, files={"file": ("x", lines)}, data={"purpose": "fine-tune"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_request"

    listed = (await client.get("/v1/files", headers=auth)).json()
    assert [f["id"] for f in listed["data"]] == [audio_id, made["id"]]
    assert (await client.get(f"/v1/files/{made['id']}/content", headers=auth)).content == lines
    # another account sees none of it
    assert (await client.get(f"/v1/files/{made['id']}", headers=other)).status_code == 404
    assert (await client.get(f"/v1/files/{made['id']}/content", headers=other)).status_code == 404
    assert (await client.get("/v1/files", headers=other)).json()["data"] == []

    # a stored file transcribes by id, as many times as wanted
    r = await client.post(
        "/v1/audio/transcriptions", headers=auth, data={"model": "whisper-tiny.en", "file_id": audio_id}
    )
    assert r.status_code == 200, r.text
    assert "country" in r.json()["text"].lower()
    assert (await client.get(f"/v1/files/{audio_id}", headers=auth)).status_code == 200  # still there

    r = await client.delete(f"/v1/files/{made['id']}", headers=auth)
    assert r.status_code == 200 and r.json() == {"id": made["id"], "object": "file", "deleted": True}
    assert (await client.get(f"/v1/files/{made['id']}", headers=auth)).status_code == 404


async def test_expired_files_are_swept(client: httpx.AsyncClient, app: Any, settings: Settings) -> None:
    from api.housekeeping import sweep_files
    from shared.db.models import StoredFile, utcnow

    _, auth = new_key(settings)
    r = await client.post("/v1/files", headers=auth, files={"file": ("a.jsonl", b"{}\n")}, data={"purpose": "batch"})
    file_id = r.json()["id"]
    with session_scope(settings.sync_database_url) as session:
        session.execute(update(StoredFile).where(StoredFile.id == file_id).values(expires_at=utcnow()))
    assert await sweep_files(app.state.s2s) >= 1
    assert (await client.get(f"/v1/files/{file_id}", headers=auth)).status_code == 404


# --- batches ---------------------------------------------------------------------------------------------------------
async def test_batch_of_200_with_invalid_lines_completes_and_is_charged_what_ran(
    client: httpx.AsyncClient, settings: Settings, receiver: Receiver
) -> None:
    account_id, auth = new_key(settings)
    await signing_endpoint(client, auth, receiver, "/batch200", events=["batch.completed"])
    receiver.answer("/batch200", 500, 503)  # the first two deliveries fail on purpose
    before = audit(settings, account_id)

    requests: list[dict[str, Any]] = []
    invalid: dict[int, str] = {}
    for n in range(200):
        body: dict[str, Any] = {"model": "piper", "voice": "joe", "input": f"Item {n}.", "format": "wav"}
        custom_id = f"item-{n}"
        if n % 20 == 3:
            body["model"], invalid[n + 1] = "no-such-model", "model"
        elif n % 20 == 9:
            body["input"], invalid[n + 1] = "", "input"
        elif n % 20 == 15:
            body["speed"], invalid[n + 1] = 9, "speed"
        elif n == 101:
            custom_id, invalid[n + 1] = "item-100", "custom_id"  # a duplicate
        requests.append({"custom_id": custom_id, "body": body})
    r = await client.post(
        "/v1/batches",
        headers=auth,
        json={
            "endpoint": "/v1/audio/speech",
            "requests": requests,
            "completion_window": "24h",
            "max_concurrency": 16,
            "metadata": {"project": "t"},
        },
    )
    assert r.status_code == 200, r.text
    made = r.json()
    assert made["object"] == "batch" and made["status"] == "in_progress"
    assert made["request_counts"]["total"] == 200
    errors = {e["line"]: e for e in made["errors"]["data"]}
    assert set(errors) == set(invalid)
    assert {line: e["param"].split(".")[0] for line, e in errors.items() if e["param"]} == {
        line: p for line, p in invalid.items() if line in errors and errors[line]["param"]
    }
    assert errors[102]["code"] == "duplicate_custom_id"
    assert errors[4]["code"] in ("model_not_found", "invalid_request")

    done = await wait_batch(client, auth, made["id"])
    valid = 200 - len(invalid)
    assert done["status"] == "completed", done
    assert done["request_counts"]["completed"] == valid
    assert done["request_counts"]["failed"] == len(invalid)
    for stamp in ("created_at", "in_progress_at", "finalizing_at", "completed_at"):
        assert isinstance(done[stamp], int)

    outputs = await jsonl(client, auth, done["output_file_id"])
    assert len(outputs) == valid
    assert len({o["custom_id"] for o in outputs}) == valid
    job_ids = {o["response"]["body"]["job_id"] for o in outputs}
    assert len(job_ids) == valid and all(o["response"]["status_code"] == 200 for o in outputs)
    errors_out = await jsonl(client, auth, done["error_file_id"])
    assert len(errors_out) == len(invalid)

    # the audio, under the batch's prefix, with a manifest whose digests match the objects
    from shared.storage import make_store

    store = make_store(settings)
    manifest = json.loads(store.get_bytes(f"batches/{made['id']}/manifest.json"))
    assert len(manifest["items"]) == valid
    for entry in manifest["items"][:5]:
        assert entry["key"].startswith(f"batches/{made['id']}/")
        data = store.get_bytes(entry["key"])
        assert len(data) == entry["bytes"] and hashlib.sha256(data).hexdigest() == entry["sha256"]
        assert entry["duration"] > 0.2
    assert outputs[0]["response"]["body"]["url"].startswith("http")  # S3: a presigned URL

    # every item ran on the batch class of the model's queue, each job once, and the charge is theirs
    with session_scope(settings.sync_database_url) as session:
        rows = session.execute(select(Job).where(Job.batch_id == made["id"])).scalars().all()
        assert len(rows) == valid and {j.queue for j in rows} == {"tts.piper.batch"}
        assert all(j.attempts == 1 and j.state == "succeeded" for j in rows)
        charged = sum(j.charged_credits for j in rows)
    assert before - audit(settings, account_id) == charged

    # items: paged, filtered
    page1 = (await client.get(f"/v1/batches/{made['id']}/items?limit=50", headers=auth)).json()
    assert len(page1["data"]) == 50 and page1["has_more"]
    page2 = (await client.get(f"/v1/batches/{made['id']}/items?limit=50&after={page1['last_id']}", headers=auth)).json()
    assert page2["data"][0]["line"] > page1["data"][-1]["line"]
    succeeded = (await client.get(f"/v1/batches/{made['id']}/items?status=succeeded&limit=1000", headers=auth)).json()
    assert len(succeeded["data"]) == valid and all(i["result_url"] for i in succeeded["data"])

    # the batch.completed event: retried past the two failures, the same webhook-id on every attempt
    got = await receiver.wait(
        lambda rs: any(r.answered == 200 and r.path == "/batch200" for r in rs), what="batch event"
    )
    attempts = [r for r in got if r.path == "/batch200"]
    assert [r.answered for r in attempts] == [500, 503, 200] and all(r.verified for r in attempts)
    assert len({r.headers["webhook-id"] for r in attempts}) == 1
    event = attempts[-1].payload
    assert event["type"] == "batch.completed" and event["data"]["id"] == made["id"]
    deliveries = (await client.get("/v1/webhook_deliveries", headers=auth)).json()["data"]
    assert deliveries[0]["status"] == "succeeded" and deliveries[0]["attempts"] == 3


async def test_openai_sdk_files_and_batches(live_api: str, settings: Settings) -> None:
    import openai

    _, auth = new_key(settings)
    key = auth["Authorization"].removeprefix("Bearer ")
    oa = openai.OpenAI(base_url=live_api + "/v1", api_key=key, max_retries=0)
    lines = "".join(
        json.dumps(
            {
                "custom_id": f"line-{n}",
                "method": "POST",
                "url": "/v1/audio/speech",
                "body": {"model": "piper", "voice": "joe", "input": f"Number {n}.", "response_format": "mp3"},
            }
        )
        + "\n"
        for n in range(3)
    )
    uploaded = oa.files.create(file=("input.jsonl", io.BytesIO(lines.encode())), purpose="batch")
    assert uploaded.purpose == "batch" and uploaded.bytes == len(lines)
    batch = oa.batches.create(
        input_file_id=uploaded.id,
        endpoint="/v1/audio/speech",  # type: ignore[arg-type]
        completion_window="24h",
        metadata={"via": "openai-sdk"},
    )
    assert batch.status in ("validating", "in_progress") and batch.request_counts.total == 3  # type: ignore[union-attr]
    deadline = time.monotonic() + 120
    while batch.status not in TERMINAL and time.monotonic() < deadline:
        time.sleep(0.5)
        batch = oa.batches.retrieve(batch.id)
    assert batch.status == "completed" and batch.request_counts.completed == 3  # type: ignore[union-attr]
    assert batch.output_file_id and batch.metadata == {"via": "openai-sdk"}
    output = oa.files.content(batch.output_file_id).text.splitlines()
    assert sorted(json.loads(line)["custom_id"] for line in output) == ["line-0", "line-1", "line-2"]
    assert any(b.id == batch.id for b in oa.batches.list(limit=5))

    slow = oa.batches.create(
        input_file_id=uploaded.id,
        endpoint="/v1/audio/speech",  # type: ignore[arg-type]
        completion_window="24h",
        extra_body={"max_concurrency": 1},
    )
    canceled = oa.batches.cancel(slow.id)
    assert canceled.status in ("cancelling", "cancelled")
    with pytest.raises(openai.NotFoundError):
        oa.batches.retrieve("batch_nope")


async def test_a_batch_whose_every_line_is_invalid_fails_and_costs_nothing(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    account_id, auth = new_key(settings)
    before = audit(settings, account_id)
    jsonl_lines = b"not json\n" + json.dumps({"custom_id": "x", "body": {"model": "nope", "input": "a"}}).encode()
    file_id = (
        await client.post(
            "/v1/files", headers=auth, files={"file": ("b.jsonl", jsonl_lines)}, data={"purpose": "batch"}
        )
    ).json()["id"]
    r = await client.post(
        "/v1/batches",
        headers=auth,
        json={"endpoint": "/v1/audio/speech", "input_file_id": file_id, "completion_window": "24h"},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "failed" and isinstance(body["failed_at"], int)
    assert [e["line"] for e in body["errors"]["data"]] == [1, 2]
    assert body["request_counts"] == {**body["request_counts"], "total": 2, "completed": 0, "failed": 2}
    assert audit(settings, account_id) == before
    with session_scope(settings.sync_database_url) as session:
        assert session.execute(select(Job).where(Job.batch_id == body["id"])).first() is None


async def test_bad_batch_requests_get_clear_errors(client: httpx.AsyncClient, settings: Settings) -> None:
    _, auth = new_key(settings)
    _, other = new_key(settings)
    file_id = (
        await client.post("/v1/files", headers=other, files={"file": ("b.jsonl", b"{}\n")}, data={"purpose": "batch"})
    ).json()["id"]
    cases = [
        ({"endpoint": "/v1/chat/completions", "requests": [], "completion_window": "24h"}, 400, "endpoint"),
        ({"endpoint": "/v1/audio/speech", "completion_window": "24h"}, 400, "input_file_id"),
        ({"endpoint": "/v1/audio/speech", "input_file_id": file_id, "completion_window": "24h"}, 404, "input_file_id"),
        ({"endpoint": "/v1/audio/speech", "requests": [], "completion_window": "24h"}, 400, "input_file_id"),
        (
            {"endpoint": "/v1/audio/speech", "requests": [{"custom_id": "a", "body": {}}], "completion_window": "7d"},
            400,
            "completion_window",
        ),
    ]
    for body, status, param in cases:
        r = await client.post("/v1/batches", headers=auth, json=body)
        assert r.status_code == status, (body, r.text)
        assert r.json()["error"]["param"] in (param, f"body.{param}"), r.json()
    assert (await client.get("/v1/batches/batch_missing", headers=auth)).status_code == 404
    assert (await client.post("/v1/batches/batch_missing/cancel", headers=auth)).status_code == 404


async def test_credits_run_out_mid_batch_and_the_rest_fail_listed_then_retry(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    account_id, auth = new_key(settings, credits_=0.07)  # 21 characters cost 0.021: three items' worth
    balance = audit(settings, account_id)
    requests = [
        {"custom_id": f"c{n}", "body": {"model": "piper", "voice": "joe", "input": "Twenty characters ok."}}
        for n in range(12)
    ]
    r = await client.post(
        "/v1/batches",
        headers=auth,
        json={"endpoint": "/v1/audio/speech", "requests": requests, "completion_window": "24h", "max_concurrency": 1},
    )
    assert r.status_code == 200, r.text
    done = await wait_batch(client, auth, r.json()["id"])
    counts = done["request_counts"]
    assert done["status"] == "completed" and counts["completed"] >= 1 and counts["failed"] >= 1
    assert counts["completed"] + counts["failed"] == 12
    items = (await client.get(f"/v1/batches/{done['id']}/items?status=failed", headers=auth)).json()["data"]
    assert len(items) == counts["failed"] and {i["error"]["code"] for i in items} == {"insufficient_credits"}
    remaining = audit(settings, account_id)
    assert 0 <= remaining < balance

    # more credits, then the failed items run again and the batch completes whole
    top_up(settings, account_id, 10.0)
    r = await client.post(f"/v1/batches/{done['id']}/retry", headers=auth)
    assert r.status_code == 200 and r.json()["status"] == "in_progress", r.text
    again = await wait_batch(client, auth, done["id"])
    assert again["status"] == "completed" and again["request_counts"]["completed"] == 12
    assert len(await jsonl(client, auth, again["output_file_id"])) == 12
    audit(settings, account_id)


async def test_cancel_refunds_queued_items_and_expiry_cancels_the_rest(
    idle_client: httpx.AsyncClient, settings: Settings
) -> None:
    """On the API whose worker consumes nothing: the items stay queued, so what cancel and expiry do is seen."""
    account_id, auth = new_key(settings)
    before = audit(settings, account_id)
    requests = [{"custom_id": f"q{n}", "body": {"model": "piper", "voice": "joe", "input": "Hi."}} for n in range(20)]
    body = {"endpoint": "/v1/audio/speech", "requests": requests, "completion_window": "24h", "max_concurrency": 4}

    r = await idle_client.post("/v1/batches", headers=auth, json=body)
    assert r.status_code == 200, r.text
    batch = r.json()
    assert batch["request_counts"]["queued"] == 20  # 4 dispatched (credits reserved for those only), 16 pending
    with session_scope(settings.sync_database_url) as session:
        reserved = session.execute(select(Job).where(Job.batch_id == batch["id"])).scalars().all()
        assert len(reserved) == 4
    assert before - audit(settings, account_id) == sum(j.reserved_credits for j in reserved)

    r = await idle_client.post(f"/v1/batches/{batch['id']}/cancel", headers=auth)
    assert r.status_code == 200
    done = await wait_batch(idle_client, auth, batch["id"])
    assert done["status"] == "cancelled" and isinstance(done["cancelled_at"], int)
    assert done["request_counts"]["canceled"] == 20
    assert audit(settings, account_id) == before  # everything refunded
    assert (await idle_client.post(f"/v1/batches/{batch['id']}/cancel", headers=auth)).status_code in (200, 409)

    r = await idle_client.post("/v1/batches", headers=auth, json=body)
    second = r.json()
    with session_scope(settings.sync_database_url) as session:  # its window ends now
        from shared.db.models import utcnow

        session.execute(update(Batch).where(Batch.id == second["id"]).values(expires_at=utcnow()))
    expired = await wait_batch(idle_client, auth, second["id"])
    assert expired["status"] == "expired" and isinstance(expired["expired_at"], int)
    items = (await idle_client.get(f"/v1/batches/{second['id']}/items?limit=100", headers=auth)).json()["data"]
    assert {i["status"] for i in items} == {"expired", "canceled"}
    assert audit(settings, account_id) == before


# --- webhooks --------------------------------------------------------------------------------------------------------
async def test_webhook_endpoints_signatures_rotation_and_refusals(
    client: httpx.AsyncClient, settings: Settings, receiver: Receiver
) -> None:
    _, auth = new_key(settings)
    made = await signing_endpoint(client, auth, receiver, "/ep", description="ops")
    listed = (await client.get("/v1/webhook_endpoints", headers=auth)).json()["data"]
    assert [e["id"] for e in listed] == [made["id"]] and "secret" not in listed[0]
    with session_scope(settings.sync_database_url) as session:  # never stored in plain text
        row = session.get(WebhookEndpoint, made["id"])
        assert row is not None and made["secret"] not in row.secret_encrypted

    # a test event, signed and verified by the reference package
    r = await client.post(f"/v1/webhook_endpoints/{made['id']}/test", headers=auth)
    assert r.status_code == 200
    test_id = r.json()["id"]
    got = await receiver.wait(lambda rs: any(x.headers.get("webhook-id") == test_id for x in rs), what="the test event")
    hit = next(x for x in got if x.headers.get("webhook-id") == test_id)
    assert hit.verified and hit.payload["type"] == "webhook.test"
    assert hit.headers["webhook-signature"].startswith("v1,")

    # rotation: the new secret signs, and the old one still verifies during the grace period
    old = made["secret"]
    r = await client.post(f"/v1/webhook_endpoints/{made['id']}/rotate_secret", headers=auth)
    new = r.json()["secret"]
    assert new != old and new.startswith("whsec_")
    receiver.secrets.append(new)
    test_id = (await client.post(f"/v1/webhook_endpoints/{made['id']}/test", headers=auth)).json()["id"]
    got = await receiver.wait(lambda rs: any(x.headers.get("webhook-id") == test_id for x in rs), what="after rotation")
    hit = next(x for x in got if x.headers.get("webhook-id") == test_id)
    from standardwebhooks.webhooks import Webhook

    Webhook(new).verify(hit.body, hit.headers)
    Webhook(old).verify(hit.body, hit.headers)

    # SSRF: private, link-local, loopback names and plain http to them are refused at registration
    for url in (
        "https://169.254.169.254/latest/meta-data",
        "https://10.0.0.1/hook",
        "https://[::1]/hook",
        "https://[fd00::1]/hook",
        "https://100.64.0.1/hook",
        "ftp://example.com/x",
        "https://user:pw@127.0.0.1/hook",
    ):
        r = await client.post("/v1/webhook_endpoints", headers=auth, json={"url": url})
        assert r.status_code == 400 and r.json()["error"]["param"] == "url", (url, r.text)

    r = await client.patch(f"/v1/webhook_endpoints/{made['id']}", headers=auth, json={"enabled": False})
    assert r.json()["enabled"] is False
    assert (await client.delete(f"/v1/webhook_endpoints/{made['id']}", headers=auth)).status_code == 204
    assert (await client.get(f"/v1/webhook_endpoints/{made['id']}", headers=auth)).status_code == 404


async def test_job_events_per_request_url_and_410_429_3xx(
    client: httpx.AsyncClient, settings: Settings, receiver: Receiver
) -> None:
    _, auth = new_key(settings)
    endpoint = await signing_endpoint(client, auth, receiver, "/jobs", events=["job.succeeded", "job.failed"])
    # a per-request webhook_url needs an endpoint that signs it: this account has one
    receiver.answer("/per-request", (429, {"Retry-After": "1"}), (302, {"Location": "http://127.0.0.1:1/"}))
    r = await client.post(
        "/v1/audio/speech",
        headers=auth,
        json={"model": "piper", "voice": "joe", "input": "Hook.", "webhook_url": receiver.url("/per-request")},
    )
    assert r.status_code == 200, r.text
    job_id = r.headers["x-job-id"]
    got = await receiver.wait(
        lambda rs: (
            sum(1 for x in rs if x.path == "/per-request") >= 3
            and any(x.path == "/jobs" and x.payload["data"]["id"] == job_id for x in rs)
        ),
        what="the job events",
    )
    per_request = [x for x in got if x.path == "/per-request"]
    assert [x.answered for x in per_request[:3]] == [429, 302, 200]
    assert per_request[1].at - per_request[0].at >= 0.9  # Retry-After honoured
    assert len({x.headers["webhook-id"] for x in per_request}) == 1 and all(x.verified for x in per_request)
    event = per_request[-1].payload
    assert event["type"] == "job.succeeded" and event["data"]["result_url"].endswith(f"/v1/jobs/{job_id}/result")

    # 410 Gone disables the endpoint, which says why
    receiver.answer("/jobs", 410)
    r = await client.post("/v1/audio/speech", headers=auth, json={"model": "piper", "voice": "joe", "input": "Gone."})
    assert r.status_code == 200
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        state = (await client.get(f"/v1/webhook_endpoints/{endpoint['id']}", headers=auth)).json()
        if not state["enabled"]:
            break
        await asyncio.sleep(0.2)
    assert state["enabled"] is False and "410" in state["disabled_reason"]
    deliveries = (await client.get(f"/v1/webhook_endpoints/{endpoint['id']}/deliveries", headers=auth)).json()
    assert deliveries["data"][0]["last_status_code"] == 410

    # redeliver: the same webhook-id again, once the endpoint is enabled again
    await client.patch(f"/v1/webhook_endpoints/{endpoint['id']}", headers=auth, json={"enabled": True})
    gone_id = deliveries["data"][0]["id"]
    r = await client.post(f"/v1/webhook_deliveries/{gone_id}/redeliver", headers=auth)
    assert r.status_code == 200 and r.json()["status"] == "pending"
    await receiver.wait(lambda rs: sum(1 for x in rs if x.headers.get("webhook-id") == gone_id) == 2, what="redelivery")

    # without a signing endpoint, a per-request URL is refused with what to do
    _, bare = new_key(settings)
    r = await client.post(
        "/v1/audio/speech",
        headers=bare,
        json={"model": "piper", "voice": "joe", "input": "x", "webhook_url": receiver.url("/x")},
    )
    assert r.status_code == 400 and "default_for_requests" in r.json()["error"]["message"]


def test_secrets_never_in_idempotent_replays(settings: Settings, live_api: str) -> None:
    _, auth = new_key(settings)
    headers = {**auth, "Idempotency-Key": f"ep-{uuid.uuid4().hex}"}
    body = {"url": "http://127.0.0.1:9/hook"}
    first = httpx.post(f"{live_api}/v1/webhook_endpoints", headers=headers, json=body, timeout=30)
    assert first.status_code == 200 and first.json()["secret"].startswith("whsec_")
    again = httpx.post(f"{live_api}/v1/webhook_endpoints", headers=headers, json=body, timeout=30)
    assert again.status_code == 409 and "whsec_" not in again.text
    from shared.db.models import IdempotencyKey

    with session_scope(settings.sync_database_url) as session:
        for row in session.execute(select(IdempotencyKey)).scalars():
            assert first.json()["secret"].encode() not in (row.response_body or b"")
