"""Helpers for the SDK's unit layer: a scripted HTTP server behind `httpx.MockTransport`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from speechtospeechai import AsyncClient, Client

BASE = "http://s2s.test/v1"

Reply = httpx.Response | Callable[[httpx.Request], httpx.Response] | Exception


class ScriptedServer:
    """Answers each (method, path) with the next scripted reply; records every request it sees."""

    def __init__(self) -> None:
        self.script: dict[tuple[str, str], list[Reply]] = {}
        self.requests: list[httpx.Request] = []
        self.sleeps: list[float] = []

    def on(self, method: str, path: str, *replies: Reply) -> ScriptedServer:
        self.script.setdefault((method, "/v1/" + path.lstrip("/")), []).extend(replies)
        return self

    def handle(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        replies = self.script.get((request.method, request.url.path))
        if not replies:
            raise AssertionError(f"unexpected request {request.method} {request.url}")
        reply = replies.pop(0) if len(replies) > 1 else replies[0]
        if isinstance(reply, Exception):
            raise reply
        return reply(request) if callable(reply) else reply

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    async def async_sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    def client(self, **options: Any) -> Client:
        client = Client(
            api_key="s2s-test-key",
            base_url=BASE,
            http_client=httpx.Client(transport=httpx.MockTransport(self.handle)),
            **options,
        )
        client._sleep = self.sleep  # type: ignore[method-assign]
        return client

    def async_client(self, **options: Any) -> AsyncClient:
        client = AsyncClient(
            api_key="s2s-test-key",
            base_url=BASE,
            http_client=httpx.AsyncClient(transport=httpx.MockTransport(self.handle)),
            **options,
        )
        client._sleep = self.async_sleep  # type: ignore[method-assign]
        return client


def error(status: int, code: str, message: str = "boom", *, param: str | None = None, **headers: str) -> httpx.Response:
    body = {"error": {"code": code, "message": message, "param": param, "request_id": "req_123"}}
    return httpx.Response(status, json=body, headers=headers)


def job(status: str = "queued", *, kind: str = "tts", progress: float = 0.0, **extra: Any) -> dict[str, Any]:
    return {
        "id": "job_abc",
        "object": "job",
        "kind": kind,
        "model": "piper" if kind == "tts" else "whisper-base",
        "status": status,
        "progress": progress,
        "attempts": 1,
        "created_at": "2026-02-03T12:00:00Z",
        **extra,
    }


@pytest.fixture
def server() -> ScriptedServer:
    return ScriptedServer()
