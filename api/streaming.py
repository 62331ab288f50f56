"""Streaming a running job's partial output (audio chunks, transcript segments) to the client.

The API subscribes to the job's Redis channel before enqueueing it, then relays what the worker publishes until
the worker says `done`. The job row stays the source of truth: a lost `done` is caught by polling it.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi.responses import StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import AppState
from api.dispatch import cancel_in_background, enqueue, load_job
from shared import jobs
from shared.db.models import Job
from shared.queues import job_stream_channel

POLL_SECONDS = 1.0
ROW_CHECK_SECONDS = 5.0


class JobStreamTimeout(Exception):
    """The job outlived the stream's budget; the client should poll the job."""


async def subscribe_and_enqueue(state: AppState, session: AsyncSession, job: Job) -> Any:
    pubsub = state.redis.pubsub(ignore_subscribe_messages=True)
    await pubsub.subscribe(job_stream_channel(job.id))
    try:
        await enqueue(state, session, job)
    except Exception:
        await pubsub.aclose()
        raise
    return pubsub


async def relay(state: AppState, job_id: str, pubsub: Any, budget: float) -> AsyncIterator[dict[str, Any]]:
    """Items the worker publishes for the job, until it is done; raises JobStreamTimeout past the budget.

    A client that goes away mid-stream (the response is cancelled, or the generator closed) cancels the job:
    nobody asked for it asynchronously, so its compute stops and it is refunded.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + budget
    next_check = loop.time() + ROW_CHECK_SECONDS
    try:
        while True:
            message = await pubsub.get_message(timeout=POLL_SECONDS)
            if message and message.get("type") == "message":
                item = json.loads(message["data"])
                if item.get("type") == "done":
                    return
                yield item
            now = loop.time()
            if now >= next_check:
                next_check = now + ROW_CHECK_SECONDS
                async with state.sessions() as session:
                    row = await load_job(session, job_id)
                if row is None or row.state in jobs.TERMINAL:
                    # drain what arrived before the end, then stop
                    while (message := await pubsub.get_message(timeout=0.2)) is not None:
                        if message.get("type") == "message":
                            item = json.loads(message["data"])
                            if item.get("type") == "done":
                                return
                            yield item
                    return
            if now >= deadline:
                raise JobStreamTimeout(job_id)
    except (asyncio.CancelledError, GeneratorExit):
        cancel_in_background(state, job_id)
        raise
    finally:
        with contextlib.suppress(Exception):
            await pubsub.unsubscribe()
            await pubsub.aclose()


async def final_job(state: AppState, job_id: str) -> Job | None:
    async with state.sessions() as session:
        return await load_job(session, job_id)


def sse(event: dict[str, Any]) -> bytes:
    return f"data: {json.dumps(event, ensure_ascii=False)}\n\n".encode()


def error_event(job: Job | None, job_id: str, *, timeout: bool = False) -> bytes:
    if timeout:
        return sse(
            {
                "type": "error",
                "error": {
                    "code": "timeout",
                    "job_id": job_id,
                    "message": f"Still running; poll GET /v1/jobs/{job_id}.",
                },
            }
        )
    return sse(
        {
            "type": "error",
            "error": {
                "code": (job.error_code if job else None) or "server_error",
                "message": (job.error_message if job else None) or "the job failed",
                "job_id": job_id,
            },
        }
    )


SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


async def sse_events(
    state: AppState,
    job_id: str,
    pubsub: Any,
    budget: float,
    *,
    delta: Callable[[dict[str, Any]], dict[str, Any] | None],
    done: Callable[[Job], dict[str, Any]],
) -> AsyncIterator[bytes]:
    """Server-Sent Events for a job: `delta(item)` per published item (None: skip it), then `done(job)` once it
    succeeded, or an error event (failed job, or still running past the budget)."""
    try:
        async for item in relay(state, job_id, pubsub, budget):
            event = delta(item)
            if event is not None:
                yield sse(event)
    except JobStreamTimeout:
        yield error_event(None, job_id, timeout=True)
        return
    job = await final_job(state, job_id)
    if job is None or job.state != jobs.SUCCEEDED:
        yield error_event(job, job_id)
        return
    yield sse(done(job))


async def _audio_bytes(state: AppState, job_id: str, pubsub: Any, budget: float) -> AsyncIterator[bytes]:
    """Encoded audio bytes as the worker produces them (a wav header first, then samples)."""
    try:
        async for item in relay(state, job_id, pubsub, budget):
            if item.get("type") == "audio":
                yield base64.b64decode(item["b64"])
    except JobStreamTimeout:
        return  # the connection ends; the finished audio stays available at GET /v1/jobs/{id}/result


async def _prepend(first: bytes, rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    yield first
    async for chunk in rest:
        yield chunk


async def stream_audio(
    state: AppState,
    session: AsyncSession,
    job: Job,
    budget: float,
    *,
    sse_format: bool,
    media_type: str,
    done: Callable[[Job], dict[str, Any]],
) -> StreamingResponse | Job:
    """A job's audio as it is produced: raw chunked bytes of `media_type`, or (`sse_format`) `<kind>.audio.delta`
    events with base64 audio and then `done(job)`. Raw audio's status line waits for the first bytes, so a job
    that fails before any audio comes answers with its error and status as a whole-file request would: then (or
    when nothing came within the budget) the job row is returned for the route to answer from."""
    pubsub = await subscribe_and_enqueue(state, session, job)
    if sse_format:
        kind = "speech" if job.kind == "tts" else "conversion"

        def delta(item: dict[str, Any]) -> dict[str, Any] | None:
            return {"type": f"{kind}.audio.delta", "audio": item["b64"]} if item.get("type") == "audio" else None

        return StreamingResponse(
            sse_events(state, job.id, pubsub, budget, delta=delta, done=done),
            media_type="text/event-stream",
            headers={"X-Job-Id": job.id, **SSE_HEADERS},
        )
    chunks = _audio_bytes(state, job.id, pubsub, budget)
    first = await anext(chunks, None)
    if first is not None:
        return StreamingResponse(
            _prepend(first, chunks), media_type=media_type, headers={"X-Job-Id": job.id, "Cache-Control": "no-cache"}
        )
    return await final_job(state, job.id) or job
