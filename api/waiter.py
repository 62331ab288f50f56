"""Waiting for jobs without a thread per request: one Redis pub/sub subscription per API process.

Workers publish job state changes on one channel; the hub resolves the asyncio futures of the requests
waiting on those jobs. Lost messages cannot hang a request: waiters re-check the job row periodically.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import redis.asyncio as aioredis

from shared.events import decode_event
from shared.jobs import TERMINAL
from shared.queues import JOB_EVENTS_CHANNEL

log = logging.getLogger(__name__)

POLL_INTERVAL_SECONDS = 2.0


class JobWaiter:
    def __init__(self, client: aioredis.Redis) -> None:
        self._client = client
        self._watchers: dict[str, set[asyncio.Future[dict[str, Any]]]] = defaultdict(set)
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self.job_ended = asyncio.Event()  # set on every terminal event: the batch runner dispatches the next items

    async def start(self) -> None:
        self._task = asyncio.create_task(self._listen(), name="job-event-listener")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._ready.wait(), timeout=5)

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    async def _listen(self) -> None:
        backoff = 0.5
        while True:
            pubsub = self._client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(JOB_EVENTS_CHANNEL)
                self._ready.set()
                backoff = 0.5
                async for message in pubsub.listen():
                    if message.get("type") != "message":
                        continue
                    event = decode_event(message["data"])
                    if event and event.get("state") in TERMINAL:
                        self.job_ended.set()
                        for fut in list(self._watchers.get(event["job_id"], ())):
                            if not fut.done():
                                fut.set_result(event)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis restarted or unreachable: waiters keep polling SQL meanwhile
                log.warning("job event subscription lost (%s); reconnecting", exc)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()

    @contextlib.asynccontextmanager
    async def watch(self, job_id: str) -> AsyncIterator[asyncio.Future[dict[str, Any]]]:
        """Register interest in a job before enqueueing it, so its completion cannot be missed."""
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._watchers[job_id].add(fut)
        try:
            yield fut
        finally:
            watchers = self._watchers.get(job_id)
            if watchers is not None:
                watchers.discard(fut)
                if not watchers:
                    self._watchers.pop(job_id, None)

    async def wait(
        self,
        fut: asyncio.Future[dict[str, Any]],
        *,
        timeout: float,
        current_state: Callable[[], Awaitable[str | None]],
        abandoned: Callable[[], Awaitable[bool]] | None = None,
    ) -> bool:
        """Wait until the job is terminal (True), the timeout passes or `abandoned()` says the client left
        (False)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            try:
                await asyncio.wait_for(asyncio.shield(fut), timeout=min(POLL_INTERVAL_SECONDS, remaining))
                return True
            except TimeoutError:
                if (await current_state()) in TERMINAL:
                    return True
                if abandoned is not None and await abandoned():
                    return False
