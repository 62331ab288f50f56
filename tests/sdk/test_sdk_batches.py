"""The SDK's files, batches and webhooks against the real server (sync and async), and webhook verification
against signatures made by the Standard Webhooks reference package."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from speechtospeechai import AsyncClient, BatchTimeoutError, Client, WebhookVerificationError
from standardwebhooks.webhooks import Webhook

from tests.sdk.live import probe_bytes

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def sdk(live_api: str, api_key: str) -> Iterator[Client]:
    with Client(api_key=api_key, base_url=live_api) as client:
        yield client


def test_file_to_batch_to_downloaded_audio(sdk: Client, tmp_path: Path) -> None:
    lines = "".join(
        json.dumps({"custom_id": f"line/{n}", "body": {"model": "piper", "voice": "joe", "input": f"Line {n}."}}) + "\n"
        for n in range(3)
    )
    lines += json.dumps({"custom_id": "bad", "body": {"model": "piper", "voice": "joe"}}) + "\n"
    uploaded = sdk.files.create(file=("lines.jsonl", lines.encode()), purpose="batch")
    assert sdk.files.retrieve(uploaded.id).bytes == len(lines)
    batch = sdk.batches.create(endpoint="/v1/audio/speech", input_file_id=uploaded.id, max_concurrency=2)
    assert batch.errors is not None and [e.line for e in batch.errors.data] == [4]
    seen: list[int] = []
    done = sdk.batches.wait(
        batch.id, poll_interval=0.3, timeout=120, on_progress=lambda b: seen.append(b.request_counts.completed)
    )
    assert done.status == "completed" and done.request_counts.completed == 3 and done.request_counts.failed == 1
    assert seen[-1] == 3 and seen == sorted(seen)
    items = list(sdk.batches.iter_items(batch.id))
    assert [i.custom_id for i in items] == ["line/0", "line/1", "line/2"] and {i.status for i in items} == {"succeeded"}
    got = sdk.batches.download(batch.id, tmp_path / "out")
    assert got.output is not None and got.errors is not None
    assert sorted(p.name for p in got.audio) == ["line_0.mp3", "line_1.mp3", "line_2.mp3"]
    assert all(probe_bytes(p.read_bytes()).duration > 0.3 for p in got.audio)
    assert json.loads(got.errors.read_text().splitlines()[0])["error"]["line"] == 4
    assert any(b.id == batch.id for b in sdk.batches.list(limit=10).data)
    assert sdk.files.delete(uploaded.id).deleted


def test_wait_gives_up_with_what_to_do(sdk: Client) -> None:
    batch = sdk.batches.create(
        endpoint="/v1/audio/speech",
        requests=[{"custom_id": "slow", "body": {"model": "piper", "voice": "joe", "input": "Wait for me. " * 30}}],
    )
    with pytest.raises(BatchTimeoutError, match=r"batches.wait"):
        sdk.batches.wait(batch.id, timeout=0.01, poll_interval=0.01)
    canceled = sdk.batches.cancel(batch.id)
    assert canceled.status in ("cancelling", "cancelled", "completed")


async def test_async_batch_and_webhook_endpoints(live_api: str, api_key: str) -> None:
    async with AsyncClient(api_key=api_key, base_url=live_api) as client:
        batch = await client.batches.create(
            endpoint="/v1/audio/speech",
            requests=[{"custom_id": "a", "body": {"model": "piper", "voice": "joe", "input": "Async."}}],
        )
        done = await client.batches.wait(batch.id, poll_interval=0.3, timeout=120)
        assert done.status == "completed"
        assert [i.custom_id async for i in client.batches.iter_items(batch.id)] == ["a"]
        endpoint = await client.webhooks.endpoints.create(url="http://127.0.0.1:9/sdk", events=["batch.completed"])
        assert endpoint.secret and endpoint.secret.startswith("whsec_")
        listed = await client.webhooks.endpoints.list()
        assert all(e.secret is None for e in listed.data)
        rotated = await client.webhooks.endpoints.rotate_secret(endpoint.id)
        assert rotated.secret != endpoint.secret
        await client.webhooks.endpoints.delete(endpoint.id)


def test_unwrap_verifies_reference_signatures_and_refuses_tampering() -> None:
    secret = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = json.dumps({"id": "msg_1", "type": "batch.completed", "data": {"id": "batch_1", "status": "completed"}})
    now = datetime.now(UTC)
    signature = Webhook(secret).sign("msg_1", now, body)
    headers = {"Webhook-Id": "msg_1", "Webhook-Timestamp": str(int(now.timestamp())), "Webhook-Signature": signature}
    event = Client(api_key="x").webhooks.unwrap(body, headers, secret=secret)
    assert event.type == "batch.completed" and event.data["id"] == "batch_1"
    with pytest.raises(WebhookVerificationError):
        Client(api_key="x").webhooks.unwrap(body.replace("batch_1", "batch_2"), headers, secret=secret)
    with pytest.raises(WebhookVerificationError):
        Client(api_key="x").webhooks.verify(body, {**headers, "Webhook-Timestamp": "1"}, secret=secret)
    with pytest.raises(ValueError, match="S2S_WEBHOOK_SECRET"):
        Client(api_key="x").webhooks.verify(body, headers)
