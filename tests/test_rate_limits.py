"""Rate limits per API key, enforced in Redis: requests per minute (token bucket) and concurrent jobs."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest

from tests.accounts import key_with_credits

pytestmark = pytest.mark.integration

SPEECH = {"model": "piper", "voice": "joe", "input": "Rate limits.", "async": True}


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def assert_rate_headers(r: httpx.Response, limit: int) -> None:
    assert r.headers["x-ratelimit-limit"] == str(limit), dict(r.headers)
    assert 0 <= int(r.headers["x-ratelimit-remaining"]) <= limit
    assert 0 <= int(r.headers["x-ratelimit-reset"]) <= 60


async def test_burst_over_the_limit_gets_429_and_retry_after_works(client: httpx.AsyncClient, settings: object) -> None:
    url = settings.sync_database_url  # type: ignore[attr-defined]
    account = f"rpm-{uuid.uuid4().hex[:8]}"
    limit = 20
    key = key_with_credits(url, account, requests_per_minute=limit)
    other_key = key_with_credits(url, account)  # same account, the default limit

    # the bucket starts full: the first `limit` requests pass, each with one token fewer left
    remaining = []
    for _ in range(limit):
        r = await client.get("/v1/account", headers=bearer(key))
        assert r.status_code == 200, r.text
        assert_rate_headers(r, limit)
        remaining.append(int(r.headers["x-ratelimit-remaining"]))
    assert remaining[0] == limit - 1 and remaining == sorted(remaining, reverse=True)

    refused = None
    for _ in range(limit):  # it refills 1 token per 3 s, far slower than this loop asks
        r = await client.get("/v1/account", headers=bearer(key))
        if r.status_code == 429:
            refused = r
            break
    assert refused is not None, "no 429 after a burst of twice the limit"
    error = refused.json()["error"]
    assert error["code"] == "rate_limit_exceeded" and "20 requests per minute" in error["message"]
    assert error["request_id"]
    retry_after = int(refused.headers["retry-after"])
    assert 1 <= retry_after <= 3
    assert_rate_headers(refused, limit)
    assert refused.headers["x-ratelimit-remaining"] == "0"

    # one key's exhausted bucket never starves another key of the same account
    assert (await client.get("/v1/account", headers=bearer(other_key))).status_code == 200

    await asyncio.sleep(retry_after)
    again = await client.get("/v1/account", headers=bearer(key))
    assert again.status_code == 200, again.text


async def test_headers_on_every_response_errors_included(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    for r in (
        await client.get("/v1/models", headers=auth),
        await client.get("/v1/jobs/job_does_not_exist", headers=auth),  # 404
        await client.post("/v1/audio/speech", headers=auth, json={"model": "piper"}),  # 400
        await client.post("/v1/audio/speech", headers=auth, json={**SPEECH, "model": "nope"}),  # 404 model
    ):
        assert_rate_headers(r, 600)
    # requests without a valid key are counted per client address
    anonymous = await client.get("/v1/models")
    assert anonymous.status_code == 401
    assert_rate_headers(anonymous, 300)


async def test_concurrent_jobs_limit_per_key(idle_client: httpx.AsyncClient, settings: object) -> None:
    """Jobs on the idle platform stay queued (no worker): exactly the key's concurrency limit gets accepted."""
    url = settings.sync_database_url  # type: ignore[attr-defined]
    account = f"conc-{uuid.uuid4().hex[:8]}"
    key = key_with_credits(url, account, max_concurrent_jobs=2)
    other_key = key_with_credits(url, account, max_concurrent_jobs=2)

    results = await asyncio.gather(
        *(idle_client.post("/v1/audio/speech", headers=bearer(key), json=SPEECH) for _ in range(6))
    )
    assert sorted(r.status_code for r in results) == [202, 202, 429, 429, 429, 429]
    refused = next(r for r in results if r.status_code == 429)
    error = refused.json()["error"]
    assert error["code"] == "rate_limit_exceeded" and "2 jobs queued or running" in error["message"]
    assert refused.headers["retry-after"] == "1"

    # another key of the same account has its own allowance
    assert (await idle_client.post("/v1/audio/speech", headers=bearer(other_key), json=SPEECH)).status_code == 202

    view = (await idle_client.get("/v1/account", headers=bearer(key))).json()
    assert view["active_jobs"] == 2 and view["limits"]["max_concurrent_jobs"] == 2
    # a job that ends frees its slot
    first = next(r for r in results if r.status_code == 202).json()["id"]
    assert (await idle_client.delete(f"/v1/jobs/{first}", headers=bearer(key))).status_code == 200
    assert (await idle_client.post("/v1/audio/speech", headers=bearer(key), json=SPEECH)).status_code == 202


async def test_token_bucket_script(redis_url: str) -> None:
    """The Lua bucket on its own: full at first, one token per request, refused ones take nothing."""
    import redis.asyncio as aioredis

    from shared.ratelimit import RateLimiter

    client = aioredis.Redis.from_url(redis_url)
    try:
        limiter = RateLimiter(client)
        bucket = f"test:{uuid.uuid4().hex}"
        results = [await limiter.hit(bucket, 5) for _ in range(5)]
        assert [r.allowed for r in results] == [True] * 5
        assert [r.remaining for r in results] == [4, 3, 2, 1, 0]
        assert all(r.retry_after_seconds == 0 and 0 < r.reset_seconds <= 60 for r in results)
        for _ in range(3):
            refused = await limiter.hit(bucket, 5)
            assert not refused.allowed and refused.remaining == 0
            assert 1 <= refused.retry_after_seconds <= 12  # one token per 12 s
            assert refused.headers()["Retry-After"] == str(refused.retry_after_seconds)
        assert (await limiter.hit(f"test:{uuid.uuid4().hex}", 5)).allowed  # buckets are independent
        ttl = await client.pttl("s2s:ratelimit:" + bucket)
        assert 0 < ttl <= 61_000  # an idle bucket disappears once it would be full again
    finally:
        await client.aclose()
