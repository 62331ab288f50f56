"""The findings of a hostile test of the running stack, each replayed: any that comes back fails here.

Billing on the container's word, secrets kept for idempotent replays, a child crash that loops, jobs lost between
SQL and the broker, waits on an in-flight duplicate, abandoned requests that keep the worker busy, loose input
types, 500s on odd dates and amounts, timestamps without a zone, undocumented statuses.
"""

from __future__ import annotations

import asyncio
import io
import os
import signal
import socket
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
import redis
from sqlalchemy import select

from shared import audio
from shared.catalog import MODELS
from shared.config import Settings
from shared.db.models import IdempotencyKey, Job, LedgerEntry
from shared.db.session import session_scope
from shared.jobkinds.speech import SpeechJob
from tests import media
from tests.accounts import key_with_credits
from tests.services import Proc, api_client, start_worker, wait_job

ADMIN = {"Authorization": "Bearer test-admin-token-0123456789"}
SENTENCE = "A hostile client keeps trying to make the platform lose, charge twice or hang. "


def _auth(settings: Settings, credits: float = 1000) -> dict[str, str]:
    key = key_with_credits(settings.sync_database_url, f"hostile-{uuid.uuid4().hex[:8]}", credits=credits)
    return {"Authorization": f"Bearer {key}"}


def _job(settings: Settings, job_id: str) -> Job:
    with session_scope(settings.sync_database_url) as session:
        job = session.get(Job, job_id)
        assert job is not None
        session.expunge(job)
        return job


def _ledger(settings: Settings, job_id: str) -> list[tuple[str, int]]:
    with session_scope(settings.sync_database_url) as session:
        rows = session.execute(select(LedgerEntry).where(LedgerEntry.job_id == job_id).order_by(LedgerEntry.id))
        return [(e.reason, e.amount) for e in rows.scalars()]


# --- 1. billing follows what was decoded -----------------------------------------------------------------------


def truncated_mp3(testdata: Path, tmp: Path) -> tuple[bytes, float]:
    """An MP3 whose Info header claims all 11 s while only the first 30 % of the file is there."""
    whole = media.mp3_with_info_header(audio.decode(testdata / "jfk.flac", sample_rate=22050), 22050, tmp / "a.mp3")
    cut = whole[: len(whole) * 3 // 10]
    decodable = sum(b.shape[-1] for b in audio.iter_decode(io.BytesIO(cut), sample_rate=16000)) / 16000
    return cut, decodable


async def test_a_truncated_file_is_billed_what_decodes(
    client: httpx.AsyncClient, settings: Settings, testdata: Path, tmp_path: Path
) -> None:
    cut, decodable = truncated_mp3(testdata, tmp_path)
    claimed = audio.probe(io.BytesIO(cut)).duration
    assert claimed == pytest.approx(11.0, abs=0.1) and decodable < 6  # the header overstates it
    r = await client.post(
        "/v1/audio/transcriptions",
        headers=_auth(settings),
        files={"file": ("cut.mp3", cut)},
        data={"model": "whisper-base"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["duration"] == pytest.approx(decodable, abs=0.05)
    job = _job(settings, r.headers["x-job-id"])
    price = MODELS["whisper-base"].prices.per_audio_second * 1_000_000
    assert job.charged_credits == pytest.approx(decodable * price, rel=0.02)
    assert job.charged_credits < job.reserved_credits  # the header's 11 s were only the estimate
    reasons = [reason for reason, _ in _ledger(settings, job.id)]
    assert reasons == ["reserve", "release", "charge"]


# --- 2. no secret kept for replays ----------------------------------------------------------------------------


async def test_a_new_keys_secret_is_never_stored_nor_replayed(client: httpx.AsyncClient, settings: Settings) -> None:
    name = f"secret-{uuid.uuid4().hex[:8]}"
    assert (await client.post("/v1/admin/accounts", headers=ADMIN, json={"name": name})).status_code == 201
    headers = {**ADMIN, "Idempotency-Key": str(uuid.uuid4())}
    first = await client.post(f"/v1/admin/accounts/{name}/keys", headers=headers, json={"name": "ci"})
    assert first.status_code == 201 and first.json()["key"].startswith("s2s-")
    secret = first.json()["key"]
    with session_scope(settings.sync_database_url) as session:
        rows = session.execute(select(IdempotencyKey).where(IdempotencyKey.key == headers["Idempotency-Key"]))
        stored = rows.scalar_one()
        assert secret.encode() not in (stored.response_body or b"")
        assert secret.split("-")[-1].encode() not in (stored.response_body or b"")
    again = await client.post(f"/v1/admin/accounts/{name}/keys", headers=headers, json={"name": "ci"})
    assert again.status_code == 409 and secret not in again.text
    assert first.json()["prefix"] in again.json()["error"]["message"]  # says which key the original created


# --- 3. a worker child that dies never loops --------------------------------------------------------------------


@pytest.fixture(scope="module")
def loop_env(platform_env: dict[str, str], redis_url: str) -> dict[str, str]:
    return {**platform_env, "REDIS_URL": redis_url.rsplit("/", 1)[0] + "/11", "WORKER_HEARTBEAT_SECONDS": "1"}


@pytest.fixture(scope="module")
def loop_worker(loop_env: dict[str, str], session_dir: Path) -> Iterator[Proc]:
    proc = start_worker(loop_env, "piper,whisper-base", session_dir / "logs", name="worker-loop")
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
async def loop_client(loop_env: dict[str, str], loop_worker: Proc) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        redis_url=loop_env["REDIS_URL"],
        worker_heartbeat_seconds=1.0,
        reconcile_interval_seconds=1.0,
        reconcile_queued_after_seconds=2.0,
    )
    async with api_client(settings, "loop", timeout=300) as client:
        yield client


def _children(worker: Proc) -> list[psutil.Process]:
    return [p for p in psutil.Process(worker.popen.pid).children() if p.is_running()]


async def test_killed_children_come_back_and_serve(
    loop_client: httpx.AsyncClient, loop_worker: Proc, settings: Settings
) -> None:
    """Five SIGKILLs of the child in a row: each replacement starts at once (models warm up in the background,
    not in its start-up handshake) and serves the next request."""
    auth = _auth(settings)
    body = {"model": "piper", "voice": "joe", "input": "Back again."}
    seen: set[int] = set()
    for _ in range(5):
        (child,) = _children(loop_worker)
        assert child.pid not in seen
        seen.add(child.pid)
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
        started = time.monotonic()
        r = await loop_client.post("/v1/audio/speech", headers=auth, json=body)
        assert r.status_code == 200, r.text
        assert time.monotonic() - started < 60
    assert len(_children(loop_worker)) == 1 and loop_worker.popen.poll() is None


# --- 4. nothing accepted is lost ---------------------------------------------------------------------------------


async def test_a_job_the_api_never_sent_is_sent_by_the_reconciler(
    loop_client: httpx.AsyncClient, settings: Settings
) -> None:
    """The API committed the job and died before the send: the job row is there, no message, no mark."""
    from api.dispatch import create_job
    from shared.db.models import Account, ApiKey
    from shared.jobkinds.speech import SpeechJob as Request

    auth = _auth(settings)
    state = loop_client._transport.app.state.s2s  # type: ignore[attr-defined]
    prefix = auth["Authorization"].split("-")[1]
    async with state.sessions() as session:
        key = (await session.execute(select(ApiKey).where(ApiKey.prefix == prefix))).scalar_one()
        account = await session.get(Account, key.account_id)
        session.info["s2s.broker"] = state.settings.broker_id
        job = await create_job(
            session, account, kind="tts", spec=MODELS["piper"], request=Request(input="Never sent.", voice="joe")
        )
    done = await wait_job(loop_client, auth, job.id, {"succeeded", "failed"}, timeout=60)
    assert done["status"] == "succeeded" and done["attempts"] == 1
    assert [r for r, _ in _ledger(settings, job.id)] == ["reserve", "release", "charge"]


async def test_jobs_lost_with_the_broker_run_once(
    loop_client: httpx.AsyncClient, loop_env: dict[str, str], settings: Settings
) -> None:
    """Redis loses everything (FLUSHDB, as a restart without persistence): the queued jobs still run, once."""
    auth = _auth(settings)
    body = {"model": "piper", "voice": "joe", "input": (SENTENCE * 3).strip(), "async": True}
    ids = []
    for _ in range(4):
        r = await loop_client.post("/v1/audio/speech", headers=auth, json=body)
        assert r.status_code == 202
        ids.append(r.json()["id"])
    await wait_job(loop_client, auth, ids[0], {"running", "succeeded"})
    client = redis.Redis.from_url(loop_env["REDIS_URL"])
    try:
        client.flushdb()  # messages, marks and heartbeats: all gone
    finally:
        client.close()
    for job_id in ids:
        done = await wait_job(loop_client, auth, job_id, {"succeeded", "failed", "canceled"}, timeout=180)
        assert done["status"] == "succeeded", done
        assert [r for r, _ in _ledger(settings, job_id)] == ["reserve", "release", "charge"]


async def test_an_in_flight_duplicate_gets_an_answer_at_once(
    loop_client: httpx.AsyncClient, settings: Settings
) -> None:
    auth = _auth(settings)
    headers = {**auth, "Idempotency-Key": str(uuid.uuid4())}
    body = {"model": "piper", "voice": "joe", "input": (SENTENCE * 60)[:4000].strip(), "format": "mp3"}
    original = asyncio.create_task(loop_client.post("/v1/audio/speech", headers=headers, json=body))
    await asyncio.sleep(1.0)
    started = time.monotonic()
    duplicate = await loop_client.post("/v1/audio/speech", headers=headers, json=body)
    waited = time.monotonic() - started
    assert waited < 5, waited
    assert duplicate.status_code in (202, 409), duplicate.status_code
    if duplicate.status_code == 409:
        assert duplicate.json()["error"]["code"] == "request_in_progress" and duplicate.headers["retry-after"]
    else:
        assert duplicate.headers["idempotent-replayed"] == "true"
    first = await original
    assert first.status_code == 200
    replay = await loop_client.post("/v1/audio/speech", headers=headers, json=body)
    assert replay.status_code == 200 and replay.content == first.content


# --- 6. a client that goes away cancels its job -----------------------------------------------------------------


def _abandon(base: str, path: str, headers: dict[str, str], body: bytes, content_type: str) -> None:
    """Send a request and hang up without reading the answer."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        head = [
            f"POST {path} HTTP/1.1",
            f"Host: {host}",
            f"Content-Type: {content_type}",
            f"Content-Length: {len(body)}",
        ]
        head += [f"{k}: {v}" for k, v in headers.items()]
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        time.sleep(1.5)  # the job is queued or running by now


@pytest.mark.parametrize("stream", [False, True])
async def test_an_abandoned_request_cancels_its_job_and_costs_nothing(
    live_api: str, settings: Settings, stream: bool
) -> None:
    import json

    auth = _auth(settings)
    name_header = f"abandon-{uuid.uuid4().hex[:6]}"
    body = {"model": "piper", "voice": "joe", "input": f"{name_header}. " + (SENTENCE * 40)[:3000], "stream": stream}
    await asyncio.to_thread(_abandon, live_api, "/v1/audio/speech", auth, json.dumps(body).encode(), "application/json")
    deadline = time.monotonic() + 30
    job: Job | None = None
    while time.monotonic() < deadline:
        with session_scope(settings.sync_database_url) as session:
            found = [
                j
                for j in session.execute(
                    select(Job).where(Job.kind == "tts").order_by(Job.created_at.desc()).limit(20)
                ).scalars()
                if name_header in SpeechJob.model_validate(j.request).input
            ]
            if found and found[0].state == "canceled":
                job = found[0]
                break
        await asyncio.sleep(0.2)
    assert job is not None, "the abandoned request's job was not canceled"
    assert job.charged_credits == 0 and [r for r, _ in _ledger(settings, job.id)] == ["reserve", "refund"]


# --- 7. input validation: no coercion, bounded, no 500 ----------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body", "param"),
    [
        ("/v1/audio/speech", {"speed": True}, "speed"),
        ("/v1/audio/speech", {"stream": 1}, "stream"),
        ("/v1/audio/speech", {"language": "x" * 10_000}, "language"),
        ("/v1/audio/speech", {"input": "____"}, "input"),
        ("/v1/audio/speech", {"voice": "v" * 1000}, "voice"),
    ],
)
async def test_speech_bodies_are_strict(
    client: httpx.AsyncClient, settings: Settings, path: str, body: dict[str, Any], param: str
) -> None:
    full = {"model": "piper", "voice": "joe", "input": "Hello there.", **body}
    r = await client.post(path, headers=_auth(settings), json=full)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == "invalid_request" and r.json()["error"]["param"] == param


async def test_admin_bodies_are_strict_and_bounded(client: httpx.AsyncClient) -> None:
    name = f"strict-{uuid.uuid4().hex[:8]}"
    for body, param in [
        ({"name": name, "max_concurrent_jobs": False}, "max_concurrent_jobs"),
        ({"name": name, "requests_per_minute": 2**40}, "requests_per_minute"),
        ({"name": name, "credits": 10**30}, "credits"),
        ({"name": name, "credits": True}, "credits"),
    ]:
        r = await client.post("/v1/admin/accounts", headers=ADMIN, json=body)
        assert r.status_code == 400 and r.json()["error"]["param"] == param, r.text
    assert (await client.post("/v1/admin/accounts", headers=ADMIN, json={"name": name})).status_code == 201
    for amount in (10**20, -(10**20), "1e400", "NaN"):
        r = await client.post(f"/v1/admin/accounts/{name}/credits", headers=ADMIN, json={"amount": amount})
        assert r.status_code == 400, (amount, r.text)


@pytest.mark.parametrize(
    "query", ["to=0001-01-05", "from=9999-12-31", "from=0001-01-01&to=0001-01-02", "to=9999-12-31"]
)
async def test_usage_dates_out_of_range_are_a_400(client: httpx.AsyncClient, settings: Settings, query: str) -> None:
    r = await client.get(f"/v1/usage?{query}", headers=_auth(settings))
    assert r.status_code == 400, r.text
    assert r.json()["error"]["param"] in ("from", "to")


async def test_job_lists_have_the_openai_shape_and_validate_filters(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    auth = _auth(settings)
    ids = []
    for i in range(3):
        r = await client.post(
            "/v1/audio/speech", headers=auth, json={"model": "piper", "voice": "joe", "input": f"Number {i}."}
        )
        ids.append(r.headers["x-job-id"])
    first = (await client.get("/v1/jobs?limit=2", headers=auth)).json()
    assert first["object"] == "list" and first["has_more"] and [j["id"] for j in first["data"]] == ids[::-1][:2]
    second = (await client.get(f"/v1/jobs?limit=2&after={first['last_id']}", headers=auth)).json()
    assert [j["id"] for j in second["data"]] == [ids[0]] and not second["has_more"]
    bogus = await client.get("/v1/jobs?status=bogus", headers=auth)
    assert bogus.status_code == 400 and bogus.json()["error"]["param"] == "status"
    stranger = await client.get(f"/v1/jobs?after={ids[0]}", headers=_auth(settings))  # another account's id
    assert stranger.status_code == 400 and stranger.json()["error"]["param"] == "after"


async def test_timestamps_are_rfc3339_with_z_everywhere(client: httpx.AsyncClient, settings: Settings) -> None:
    auth = _auth(settings)
    created = await client.post(
        "/v1/audio/speech", headers=auth, json={"model": "piper", "voice": "joe", "input": "Time.", "async": True}
    )
    assert created.json()["created_at"].endswith("Z")
    job_id = created.json()["id"]
    later = await wait_job(client, auth, job_id, {"succeeded"})
    for field in ("created_at", "started_at", "finished_at"):
        assert later[field].endswith("Z"), (field, later[field])
    account = (await client.get("/v1/account", headers=auth)).json()
    assert account["created_at"].endswith("Z") and account["key"]["created_at"].endswith("Z")


async def test_every_error_status_is_documented(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    speech = spec["paths"]["/v1/audio/speech"]["post"]["responses"]
    assert {"400", "401", "402", "404", "413", "429", "500", "503"} <= set(speech)
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            assert "422" not in operation["responses"], (method, path)
            assert "500" in operation["responses"], (method, path)
            if path.startswith("/v1/"):
                assert {"401", "429"} <= set(operation["responses"]), (method, path)
