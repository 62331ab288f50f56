"""Creating, enqueueing and waiting for jobs: the part every job-producing route shares.

Order matters: the job's credits are reserved in the transaction that inserts its row, that transaction is
committed before the message is sent (a worker must always find its row, and a job the account cannot pay for is
never enqueued), and the waiter is registered before the message is sent (a fast worker cannot finish unseen).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import anyio
from fastapi import Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from api.deps import BROKER_INFO_KEY, CALLER_INFO_KEY, AppState, Caller
from api.errors import APIError, InsufficientCredits, RateLimitExceeded, ServiceUnavailable
from shared import credits, jobs
from shared.catalog import ModelSpec
from shared.db.models import Account, IdempotencyKey, Job, new_id
from shared.errors import status_of
from shared.events import encode_event
from shared.jobkinds import job_kind
from shared.pricing import format_credits
from shared.queues import JOB_EVENTS_CHANNEL, LatencyClass, enqueued_key, job_queue, send_job
from shared.schemas import JobError, JobPublic, JobResult

log = logging.getLogger(__name__)


def new_job_id() -> str:
    return new_id("job")


# Session.info key of the Idempotency-Key row claimed for this request (set by api.idempotency).
IDEMPOTENCY_INFO_KEY = "s2s.idempotency_key_id"


async def create_job(
    session: AsyncSession,
    account: Account,
    *,
    kind: str,
    spec: ModelSpec,
    request: BaseModel,
    latency: LatencyClass = "interactive",
    job_id: str | None = None,
    input_key: str | None = None,
    batch_id: str | None = None,
    webhook_url: str | None = None,
) -> Job:
    """Reserve the job's estimated cost (its kind's price rule) and insert the job with its typed request, in
    one committed transaction.

    Raises 402 insufficient_credits when the balance does not cover the cost, and 429 rate_limit_exceeded when
    the request's API key already has its maximum of queued and running jobs; then nothing was reserved or
    inserted. The caller enqueues the returned job.
    """
    caller: Caller | None = session.info.get(CALLER_INFO_KEY)
    account_id = account.id
    job_type = job_kind(kind)
    if not isinstance(request, job_type.request):
        raise TypeError(f"a {kind} job takes a {job_type.request.__name__}, not a {type(request).__name__}")
    cost = job_type.estimate(spec, request)
    job = Job(
        id=job_id or new_job_id(),
        account_id=account_id,
        api_key_id=caller.api_key_id if caller else None,
        kind=kind,
        model=spec.id,
        state=jobs.QUEUED,
        queue=job_queue(kind, spec.id, latency),
        broker=session.info.get(BROKER_INFO_KEY),
        batch_id=batch_id,
        webhook_url=webhook_url,
        request=request.model_dump(mode="json"),
        input_key=input_key,
        progress=0.0,
        attempts=0,
        characters=cost.characters,
        audio_seconds=cost.audio_seconds,
    )
    max_jobs = caller.limits.max_concurrent_jobs if caller else None
    claim_id = session.info.get(IDEMPOTENCY_INFO_KEY)

    def reserve(sync_session: Session) -> None:
        credits.reserve(sync_session, job, cost.micros, max_concurrent_jobs=max_jobs)
        if claim_id is not None:  # a retry after a crash finds the job through its Idempotency-Key
            sync_session.execute(
                update(IdempotencyKey).where(IdempotencyKey.id == claim_id).values(job_id=job.id),
                execution_options={"synchronize_session": False},
            )

    try:
        await session.run_sync(reserve)
        await session.commit()
    except credits.InsufficientCredits as exc:
        await session.rollback()
        raise InsufficientCredits(
            f"This request costs {format_credits(exc.needed)} credits and the account has "
            f"{format_credits(exc.available)}. Add credits (`s2s credits add ACCOUNT AMOUNT`, or ask the operator), "
            "or send a shorter input.",
        ) from exc
    except credits.ConcurrencyLimitReached as exc:
        await session.rollback()
        raise RateLimitExceeded(
            f"This API key already has {exc.limit} jobs queued or running, its limit. Wait for one to finish "
            "(GET /v1/jobs) and retry, or ask the operator for a higher concurrency limit.",
            headers={"Retry-After": "1"},
        ) from exc
    return job


async def create_upload_job(
    state: AppState, session: AsyncSession, account: Account, *, uploads: list[str], **job: Any
) -> Job:
    """`create_job` for a request whose audio is already in the store: refused (402, 429), it deletes it."""
    try:
        return await create_job(session, account, **job)
    except APIError:

        def _discard() -> None:
            for key in uploads:
                with contextlib.suppress(Exception):
                    state.store.delete(key)

        await anyio.to_thread.run_sync(_discard)
        raise


async def enqueue(state: AppState, session: AsyncSession, job: Job) -> None:
    """Send the job's task to its queue (chosen when it was created) and mark it sent; on broker failure the job is
    failed and 503 raised. Should this process die before the send, the reconciler sends it (api.housekeeping)."""
    queue = job.queue or job_queue(job.kind, job.model, "interactive")
    try:
        await anyio.to_thread.run_sync(lambda: send_job(state.producer, job.id, job.kind, queue))
        await state.redis.set(enqueued_key(job.id), queue, ex=state.settings.celery.visibility_timeout_seconds)
    except Exception as exc:
        log.error("could not enqueue job %s: %s", job.id, exc)
        job_id = job.id
        await session.run_sync(
            lambda s: jobs.apply_fail(s, job_id, code="service_unavailable", message="the job queue is unreachable")
        )
        await session.commit()
        raise ServiceUnavailable("The job queue (Redis) is unreachable; try again shortly.") from exc


async def load_job(session: AsyncSession, job_id: str, account_id: str | None = None) -> Job | None:
    stmt = select(Job).where(Job.id == job_id)
    if account_id is not None:
        stmt = stmt.where(Job.account_id == account_id)
    session.expire_all()
    return (await session.execute(stmt)).scalar_one_or_none()


async def submit_and_wait(
    state: AppState,
    session: AsyncSession,
    job: Job,
    *,
    wait: bool,
    timeout: float,
    client: Request | None = None,
) -> tuple[Job, bool]:
    """Enqueue the (committed) job; when `wait`, block asynchronously until it ends or the timeout passes.

    A waiting `client` that disconnects cancels the job (it was not async: nobody will fetch the result), which
    refunds it. Returns the freshest job row and whether it reached a terminal state.
    """
    if not wait:
        await enqueue(state, session, job)
        return job, False

    async def current_state() -> str | None:
        async with state.sessions() as poll_session:
            row = await load_job(poll_session, job.id)
            return row.state if row else None

    async def abandoned() -> bool:
        return client is not None and await client.is_disconnected()

    async with state.waiter.watch(job.id) as fut:
        await enqueue(state, session, job)
        finished = await state.waiter.wait(fut, timeout=timeout, current_state=current_state, abandoned=abandoned)
    if not finished and await abandoned():
        await cancel_job(state, job.id)
    fresh = await load_job(session, job.id)
    assert fresh is not None
    return fresh, finished and fresh.state in jobs.TERMINAL


async def cancel_job(state: AppState, job_id: str) -> bool:
    """Cancel an active job: refund it, revoke its task (a running one is terminated on its worker), delete its
    uploads, wake its waiters. False when it had already ended."""
    async with state.sessions() as session:
        canceled = await session.run_sync(lambda s: jobs.apply_cancel(s, job_id))  # refunds in the same transaction
        await session.commit()
        job = await load_job(session, job_id)
    if not canceled or job is None:
        return False

    def revoke_and_clean() -> None:
        try:
            state.producer.control.revoke(job_id, terminate=True, signal="SIGTERM")
        except Exception:  # the SQL state already stops a redelivered or late message from running
            log.warning("could not revoke job %s on the workers", job_id, exc_info=True)
        if state.settings.store.input_retention_seconds > 0:
            return
        for key in job_kind(job.kind).input_keys(job.request or {}):
            with contextlib.suppress(Exception):  # housekeeping deletes what is left
                state.store.delete(key)

    await anyio.to_thread.run_sync(revoke_and_clean)
    with contextlib.suppress(Exception):  # waiters also poll the row
        await state.redis.publish(JOB_EVENTS_CHANNEL, encode_event(job_id, jobs.CANCELED))
    return True


_detached: set[asyncio.Task[Any]] = set()


def cancel_in_background(state: AppState, job_id: str) -> None:
    """`cancel_job` from a place about to be cancelled itself (a streaming response whose client went away)."""
    task = asyncio.get_running_loop().create_task(cancel_job(state, job_id))
    _detached.add(task)
    task.add_done_callback(_detached.discard)


async def audio_output(state: AppState, job: Job, media_type: str) -> Response:
    """A finished job's stored audio as the response body (a synchronous request's answer)."""
    if job.state != jobs.SUCCEEDED:
        raise_for_failed(job)
    assert job.output_key
    data = await anyio.to_thread.run_sync(state.store.get_bytes, job.output_key)
    return Response(content=data, media_type=job.output_content_type or media_type, headers={"X-Job-Id": job.id})


def raise_for_failed(job: Job) -> None:
    """Surface a failed job of a synchronous request as the API error the API itself would have raised."""
    code = job.error_code or "server_error"
    raise APIError(job.error_message or "the job failed", code=code, status_code=status_of(code))


def public_result(job: Job) -> JobResult | None:
    """A finished job's result in its public shape (a transcript as the contract's json, not as stored)."""
    if job.state != jobs.SUCCEEDED or job.result is None:
        return None
    try:
        result = job_kind(job.kind).public(job.request or {}, job.result)
    except (KeyError, ValueError):  # a row written by a version whose result this one cannot read
        log.warning("job %s has a result this server cannot read", job.id)
        return None
    return result if isinstance(result, JobResult) else None


def job_public(request: Request, state: AppState, job: Job) -> JobPublic:
    result_url = None
    presigned = None
    if job.state == jobs.SUCCEEDED and job.output_key:
        result_url = str(request.url_for("jobs-result", job_id=job.id))
        try:
            presigned = state.store.presigned_url(job.output_key)
        except Exception:  # a presign failure must not hide the job
            log.warning("could not presign %s", job.output_key, exc_info=True)
    return JobPublic(
        id=job.id,
        kind=job.kind,  # type: ignore[arg-type]
        model=job.model,
        status=job.state,  # type: ignore[arg-type]
        progress=round(job.progress or 0.0, 4),
        attempts=job.attempts,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        error=JobError(code=job.error_code or "server_error", message=job.error_message or "")
        if job.state in (jobs.FAILED, jobs.CANCELED)
        else None,
        result=public_result(job),
        result_url=result_url,
        presigned_url=presigned,
    )


def accepted(request: Request, state: AppState, job: Job) -> JSONResponse:
    """202 with the job, and a Location to poll."""
    body = job_public(request, state, job).model_dump(mode="json")
    location = str(request.url_for("jobs-retrieve", job_id=job.id))
    return JSONResponse(body, status_code=202, headers={"Location": location})


def wants_async(request: Request, flag: bool | None) -> bool:
    if flag:
        return True
    if request.query_params.get("async", "").lower() in ("1", "true", "yes"):
        return True
    return "respond-async" in request.headers.get("prefer", "").lower()
