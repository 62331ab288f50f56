"""Rate limits on the API side: take a token for the request, refuse with 429, and put the X-RateLimit-* headers
on every response of a limited request (errors included)."""

from __future__ import annotations

import logging

from fastapi import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import RateLimitExceeded
from shared.ratelimit import RateLimiter, RateLimitResult

log = logging.getLogger(__name__)

STATE_KEY = "rate_limit"


async def enforce_rate_limit(request: Request, limiter: RateLimiter, bucket: str, per_minute: int, *, who: str) -> None:
    """Take one token from `bucket` (per_minute <= 0: unlimited); 429 with Retry-After when none is left.

    Redis being unreachable lets the request through (logged): availability over strictness, since job routes
    fail on a missing broker anyway and every other route only reads.
    """
    if per_minute <= 0:
        return
    try:
        result = await limiter.hit(bucket, per_minute)
    except Exception as exc:
        log.warning("rate limit not enforced (%s): %s", bucket.split(":", 1)[0], exc)
        return
    setattr(request.state, STATE_KEY, result)
    if not result.allowed:
        raise RateLimitExceeded(
            f"Rate limit exceeded: {who} may make {per_minute} requests per minute. Retry after "
            f"{result.retry_after_seconds} s (the Retry-After header), or ask the operator for a higher limit.",
            headers={"Retry-After": str(result.retry_after_seconds)},
        )


class RateLimitHeadersMiddleware:
    """Adds X-RateLimit-Limit/Remaining/Reset to the response of every request a rate limit counted."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                result: RateLimitResult | None = scope.get("state", {}).get(STATE_KEY)
                if result is not None:
                    present = {name.lower() for name, _ in message.get("headers", [])}
                    extra = [
                        (name.lower().encode(), value.encode())
                        for name, value in result.headers().items()
                        if name.lower().encode() not in present
                    ]
                    message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)
