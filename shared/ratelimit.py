"""Requests-per-minute limits: a token bucket per API key (or per client address), kept in Redis.

One Lua script reads, refills and takes from the bucket atomically, using Redis's own clock, so any number of
API replicas share one exact limit. A bucket holds `per_minute` tokens (the allowed burst) and refills at
`per_minute / 60` tokens per second; a request takes one token, a refused request takes none.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

BUCKET_PREFIX = "s2s:ratelimit:"

# KEYS[1] bucket; ARGV[1] capacity (tokens), ARGV[2] refill rate (tokens per second), ARGV[3] cost.
# Returns {allowed (0/1), tokens left (millitokens), ms until the next token, ms until the bucket is full}.
TOKEN_BUCKET_LUA = """
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2]) / 1000000
local cost = tonumber(ARGV[3])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil or ts == nil then
  tokens = capacity
  ts = now
end
if now > ts then
  tokens = math.min(capacity, tokens + (now - ts) * rate)
end
local allowed = 0
if tokens >= cost then
  tokens = tokens - cost
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
local full_us = (capacity - tokens) / rate
redis.call('PEXPIRE', KEYS[1], math.ceil(full_us / 1000) + 1000)
local retry_us = 0
if allowed == 0 then
  retry_us = (cost - tokens) / rate
end
return {allowed, math.floor(tokens * 1000), math.ceil(retry_us / 1000), math.ceil(full_us / 1000)}
"""


@dataclass(frozen=True)
class RateLimitResult:
    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int
    """Seconds until the bucket is full again."""
    retry_after_seconds: int
    """Seconds until the next request is allowed (0 when this one was)."""

    def headers(self) -> dict[str, str]:
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset_seconds),
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.retry_after_seconds)
        return headers


class RateLimiter:
    """Token buckets on an asyncio Redis client (`redis.asyncio.Redis`)."""

    def __init__(self, client: Any) -> None:
        self._script = client.register_script(TOKEN_BUCKET_LUA)

    async def hit(self, bucket: str, per_minute: int) -> RateLimitResult:
        """Take one token from `bucket`, whose capacity is `per_minute` and which refills in a minute."""
        allowed, millitokens, retry_ms, full_ms = await self._script(
            keys=[BUCKET_PREFIX + bucket], args=[per_minute, per_minute / 60.0, 1]
        )
        return RateLimitResult(
            allowed=bool(allowed),
            limit=per_minute,
            remaining=int(millitokens) // 1000,
            reset_seconds=math.ceil(int(full_ms) / 1000),
            retry_after_seconds=0 if allowed else max(1, math.ceil(int(retry_ms) / 1000)),
        )
