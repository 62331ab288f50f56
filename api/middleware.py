"""ASGI middleware: request ids, the upload size limit and Prometheus request metrics."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import error_body

REQUESTS = Counter("s2s_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram(
    "s2s_http_request_duration_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
)


class _BodyTooLarge(Exception):
    pass


async def _send_error(send: Send, status: int, code: str, message: str, request_id: str) -> None:
    body = json.dumps(error_body(code, message, request_id=request_id)).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"x-request-id", request_id.encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class RequestContextMiddleware:
    """Assigns a request id, enforces the body size limit, and records latency by route."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        request_id = headers.get("x-request-id") or f"req_{uuid.uuid4().hex[:16]}"
        scope.setdefault("state", {})["request_id"] = request_id
        limit = self.max_body_bytes
        too_large = (
            f"The upload exceeds this server's limit of {limit // (1024 * 1024)} MiB; "
            "send a shorter or more compressed file."
        )
        declared = headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            await _send_error(send, 413, "file_too_large", too_large, request_id)
            return

        received = 0
        overflow = False
        started = False
        status_holder: dict[str, Any] = {"status": 500}

        async def limited_receive() -> Message:
            nonlocal received, overflow
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    overflow = True
                    raise _BodyTooLarge()
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if overflow:  # whatever the app made of the aborted body, the client gets a 413
                if message["type"] == "http.response.start" and not started:
                    started = True
                    status_holder["status"] = 413
                    await _send_error(send, 413, "file_too_large", too_large, request_id)
                return
            if message["type"] == "http.response.start":
                started = True
                status_holder["status"] = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        t0 = time.perf_counter()
        try:
            await self.app(scope, limited_receive, tracking_send)
        except Exception:
            if not overflow:
                raise
            if not started:
                status_holder["status"] = 413
                await _send_error(send, 413, "file_too_large", too_large, request_id)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", None) or "unmatched"
            LATENCY.labels(scope["method"], path).observe(time.perf_counter() - t0)
            REQUESTS.labels(scope["method"], path, str(status_holder["status"])).inc()
