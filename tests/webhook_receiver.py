"""A real webhook receiver for the tests: an HTTP server on 127.0.0.1 that verifies every delivery with the
Standard Webhooks reference package (`standardwebhooks`), answers what a test scripts for each path (to fail the
first deliveries on purpose, answer 410, 429 or a redirect), and records what it got."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    verified: bool
    answered: int
    at: float

    @property
    def payload(self) -> dict[str, Any]:
        return dict(json.loads(self.body))


@dataclass
class Receiver:
    base: str
    secrets: list[str] = field(default_factory=list)
    script: dict[str, list[tuple[int, dict[str, str]]]] = field(default_factory=dict)
    got: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str = "/hook") -> str:
        return self.base + path

    def answer(self, path: str, *responses: int | tuple[int, dict[str, str]]) -> None:
        """The next answers for `path`, in order; afterwards 200."""
        self.script[path] = [r if isinstance(r, tuple) else (r, {}) for r in responses]

    def verify(self, body: bytes, headers: dict[str, str]) -> bool:
        from standardwebhooks.webhooks import Webhook, WebhookVerificationError

        for secret in self.secrets:
            try:
                Webhook(secret).verify(body, headers)
                return True
            except WebhookVerificationError:
                continue
        return False

    def events(self, path: str | None = None, verified: bool = True) -> list[Received]:
        with self.lock:
            return [r for r in self.got if (path is None or r.path == path) and r.verified == verified]

    async def wait(self, predicate: Any, timeout: float = 60.0, what: str = "a delivery") -> list[Received]:
        """Poll (without blocking the event loop the platform's deliverer may share) until `predicate(got)`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                snapshot = list(self.got)
            if predicate(snapshot):
                return snapshot
            await asyncio.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}; got {[(r.path, r.answered) for r in snapshot]}")


@contextmanager
def webhook_receiver() -> Iterator[Receiver]:
    receiver: Receiver

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(min(length, 1 << 20))
            headers = {k.lower(): v for k, v in self.headers.items()}
            with receiver.lock:
                queue = receiver.script.get(self.path) or []
                status, extra = queue.pop(0) if queue else (200, {})
                verified = receiver.verify(body, headers)
                receiver.got.append(Received(self.path, headers, body, verified, status, time.monotonic()))
            self.send_response(status)
            for name, value in extra.items():
                self.send_header(name, value)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver = Receiver(base=f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, name="webhook-receiver", daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
