"""Creating, enqueueing and waiting for jobs: the part every job-producing route shares.

Order matters: the job row is committed before the message is sent (a worker must always find its row),
and the waiter is registered before the message is sent (a fast worker cannot finish unseen).
"""

from __future__ import annotations

import logging
from typing import Any

import anyio
from fastapi import Request
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import AppState
from api.errors import APIError, ServiceUnavailable
from shared import jobs
from shared.db.models import Account, Job, new_id
from shared.queues import TASK_NAMES, queue_name
from shared.schemas import JobError, JobPublic

log = logging.getLogger(__name__)

# Job error codes -> HTTP status when a synchronous request surfaces a failed job.
JOB_ERROR_STATUS = {
    "invalid_request": 400,
    "invalid_audio": 400,
    "model_not_installed": 404,
    "voice_not_found": 404,
    "canceled": 409,
}


def new_job_id() -> str:
    return new_id("job")


async def create_job(
    session: AsyncSession,
    account: Account,
    *,
    kind: str,
    model: str,
    request: dict[str, Any],
    job_id: str | None = None,
    input_key: str | None = None,
) -> Job:
    job = Job(
        id=job_id or new_job_id(),
        account_id=account.id,
        kind=kind,
        model=model,
        state=jobs.QUEUED,
        request=request,
        input_key=input_key,
        progress=0.0,
        attempts=0,
    )
    session.add(job)
    await session.commit()
    return job


async def enqueue(state: AppState, session: AsyncSession, job: Job) -> None:
    """Send the job's task to its model queue; on broker failure the job is failed and 503 raised."""
    try:
        await anyio.to_thread.run_sync(
            lambda: state.producer.send_task(
                TASK_NAMES[job.kind],
                args=[job.id],
                queue=queue_name(job.kind, job.model),
                retry=True,
                retry_policy={"max_retries": 2, "interval_start": 0.1, "interval_step": 0.5},
            )
        )
    except Exception as exc:
        log.error("could not enqueue job %s: %s", job.id, exc)
        await session.execute(
            jobs.fail_stmt(job.id, code="service_unavailable", message="the job queue is unreachable")
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
    state: AppState, session: AsyncSession, job: Job, *, wait: bool, timeout: float
) -> tuple[Job, bool]:
    """Enqueue the (committed) job; when `wait`, block asynchronously until it ends or the timeout passes.

    Returns the freshest job row and whether it reached a terminal state.
    """
    if not wait:
        await enqueue(state, session, job)
        return job, False

    async def current_state() -> str | None:
        async with state.sessions() as poll_session:
            row = await load_job(poll_session, job.id)
            return row.state if row else None

    async with state.waiter.watch(job.id) as fut:
        await enqueue(state, session, job)
        finished = await state.waiter.wait(fut, timeout=timeout, current_state=current_state)
    fresh = await load_job(session, job.id)
    assert fresh is not None
    return fresh, finished and fresh.state in jobs.TERMINAL


def raise_for_failed(job: Job) -> None:
    """Surface a failed job of a synchronous request as the matching API error."""
    code = job.error_code or "server_error"
    status = JOB_ERROR_STATUS.get(code, 500)
    raise APIError(job.error_message or "the job failed", code=code, status_code=status)


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
        result=job.result,
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
