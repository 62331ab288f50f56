"""Batches: `POST /v1/batches` (OpenAI's JSONL input file, or inline requests), retrieve, list, cancel, retry,
and the items with their jobs. The official `openai` SDK's `client.batches.*` works against these routes."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from sqlalchemy import and_, select, update

from api.batches import (
    ENDPOINT_KINDS,
    BatchRunner,
    file_lines,
    inline_lines,
    item_counts,
    item_public_id,
    unix,
    validate,
    window,
)
from api.deps import AccountDep, SessionDep, StateDep
from api.errors import Conflict, InvalidRequest, NotFound
from api.pages import page
from api.webhook_urls import checked_webhook_url
from shared import jobs
from shared.db.models import Account, Batch, BatchItem, Job, StoredFile, utcnow
from shared.schemas import (
    BatchCreate,
    BatchErrors,
    BatchItemList,
    BatchItemPublic,
    BatchList,
    BatchPublic,
    BatchRequestCounts,
    ErrorResponse,
    JobError,
)

router = APIRouter(prefix="/v1/batches", tags=["batches"])


async def batch_public(session: SessionDep, batch: Batch) -> BatchPublic:
    counts = await item_counts(session, batch.id)
    completed = counts.get(jobs.SUCCEEDED, 0)
    # an item's own state and its job's share names: failed, canceled (and an item alone can be expired)
    canceled = counts.get(jobs.CANCELED, 0) + counts.get("expired", 0)
    failed = counts.get(jobs.FAILED, 0) + batch.invalid
    manifest = f"batches/{batch.id}/manifest.json" if batch.kind == "tts" and batch.output_file_id else None
    return BatchPublic(
        id=batch.id,
        endpoint=batch.endpoint,
        errors=BatchErrors.model_validate(batch.errors) if batch.errors else None,
        input_file_id=batch.input_file_id,
        completion_window=batch.completion_window,
        status=batch.status,  # type: ignore[arg-type]
        output_file_id=batch.output_file_id,
        error_file_id=batch.error_file_id,
        created_at=int(batch.created_at.timestamp()),
        in_progress_at=unix(batch.in_progress_at),
        expires_at=unix(batch.expires_at),
        finalizing_at=unix(batch.finalizing_at),
        completed_at=unix(batch.completed_at),
        failed_at=unix(batch.failed_at),
        expired_at=unix(batch.expired_at),
        cancelling_at=unix(batch.cancelling_at),
        cancelled_at=unix(batch.cancelled_at),
        request_counts=BatchRequestCounts(
            total=batch.total,
            completed=completed,
            failed=failed,
            canceled=canceled,
            queued=counts.get("pending", 0) + counts.get(jobs.QUEUED, 0),
            running=counts.get(jobs.RUNNING, 0),
        ),
        metadata=batch.metadata_,
        max_concurrency=batch.max_concurrency,
        manifest_key=manifest,
    )


async def own_batch(session: SessionDep, account: Account, batch_id: str) -> Batch:
    batch = (
        await session.execute(select(Batch).where(Batch.id == batch_id, Batch.account_id == account.id))
    ).scalar_one_or_none()
    if batch is None:
        raise NotFound(f"Batch '{batch_id}' does not exist.", param="batch_id")
    return batch


@router.post(
    "",
    operation_id="batches-create",
    summary="Create a batch of speech, transcription or clone requests",
    response_model=BatchPublic,
    responses={404: {"model": ErrorResponse}},
)
async def create_batch(
    body: BatchCreate, request: Request, account: AccountDep, session: SessionDep, state: StateDep
) -> BatchPublic:
    settings = state.settings
    if (body.input_file_id is None) == (body.requests is None):
        raise InvalidRequest(
            "Give the requests as `input_file_id` or as inline `requests` (one of them).", param="input_file_id"
        )
    webhook_url = await checked_webhook_url(state, session, account, body.webhook_url)
    batch = Batch(
        account_id=account.id,
        api_key_id=getattr(request.state, "api_key_id", None),
        endpoint=body.endpoint,
        kind=ENDPOINT_KINDS[body.endpoint],
        input_file_id=body.input_file_id,
        completion_window=body.completion_window,
        max_concurrency=body.max_concurrency or settings.batches.default_concurrency,
        metadata_=body.metadata,
        webhook_url=webhook_url,
        broker=settings.broker_id,
        created_at=utcnow(),
    )
    batch.expires_at = batch.created_at + window(body.completion_window)
    session.add(batch)
    await session.flush()
    if body.input_file_id is not None:
        source = (
            await session.execute(
                select(StoredFile).where(StoredFile.id == body.input_file_id, StoredFile.account_id == account.id)
            )
        ).scalar_one_or_none()
        if source is None or source.purpose != "batch":
            raise NotFound(f"File '{body.input_file_id}' is not a batch input file of yours.", param="input_file_id")
        lines = file_lines(state, source.object_key)
    else:
        lines = inline_lines(body.requests or [])
    result = await validate(state, session, account, batch, lines)
    total = result.items + result.invalid
    if total > settings.batches.max_lines:
        raise InvalidRequest(
            f"A batch holds at most {settings.batches.max_lines} requests; this one has more: split it.",
            param="input_file_id",
        )
    if total == 0:
        raise InvalidRequest("The batch has no requests.", param="input_file_id")
    batch.total, batch.invalid = total, result.invalid
    if result.errors:
        batch.errors = {"object": "list", "data": [{**e.public(), "custom_id": e.custom_id} for e in result.errors]}
    now = utcnow()
    if result.items == 0:  # nothing valid: it fails at once and costs nothing
        batch.status, batch.failed_at = "failed", now
    else:
        batch.status, batch.in_progress_at = "in_progress", now
    await session.commit()
    if batch.status == "failed":
        from api.batches import announce

        await session.run_sync(lambda s: announce(s, batch, "batch.failed", None))
        await session.commit()
    else:
        await BatchRunner(state).advance(batch.id)  # its first items start now, not at the next tick
    await session.refresh(batch)
    return await batch_public(session, batch)


@router.get("", operation_id="batches-list", summary="List batches, newest first", response_model=BatchList)
async def list_batches(
    account: AccountDep,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    after: Annotated[str | None, Query(max_length=64)] = None,
) -> BatchList:
    rows, has_more = await page(
        session, select(Batch).where(Batch.account_id == account.id), Batch, limit=limit, after=after
    )
    data = [await batch_public(session, b) for b in rows]
    return BatchList(
        data=data, has_more=has_more, first_id=data[0].id if data else None, last_id=data[-1].id if data else None
    )


@router.get(
    "/{batch_id}",
    operation_id="batches-retrieve",
    summary="Get a batch",
    response_model=BatchPublic,
    responses={404: {"model": ErrorResponse}},
)
async def get_batch(batch_id: str, account: AccountDep, session: SessionDep) -> BatchPublic:
    return await batch_public(session, await own_batch(session, account, batch_id))


@router.post(
    "/{batch_id}/cancel",
    operation_id="batches-cancel",
    summary="Cancel a batch: queued items are refunded, running ones stopped",
    response_model=BatchPublic,
    responses={404: {"model": ErrorResponse}, 409: {"model": ErrorResponse}},
)
async def cancel_batch(batch_id: str, account: AccountDep, session: SessionDep, state: StateDep) -> BatchPublic:
    batch = await own_batch(session, account, batch_id)
    changed = await session.execute(
        update(Batch)
        .where(Batch.id == batch.id, Batch.status.in_(("validating", "in_progress")))
        .values(status="cancelling", cancelling_at=utcnow())
    )
    await session.commit()
    if not changed.rowcount and batch.status not in ("cancelling", "cancelled"):  # type: ignore[attr-defined]
        raise Conflict(f"Batch '{batch_id}' is {batch.status}; only a running batch can be canceled.")
    await BatchRunner(state).advance(batch.id)
    await session.refresh(batch)
    return await batch_public(session, batch)


@router.post(
    "/{batch_id}/retry",
    operation_id="batches-retry",
    summary="Run a batch's failed items again",
    response_model=BatchPublic,
    responses={404: {"model": ErrorResponse}, 409: {"model": ErrorResponse}},
)
async def retry_batch(batch_id: str, account: AccountDep, session: SessionDep, state: StateDep) -> BatchPublic:
    batch = await own_batch(session, account, batch_id)
    if batch.status not in ("in_progress", "completed"):
        raise Conflict(
            f"Batch '{batch_id}' is {batch.status}; retry runs the failed items of a running or completed batch."
        )
    failed_jobs = select(Job.id).where(Job.batch_id == batch.id, Job.state == jobs.FAILED)
    reset = await session.execute(
        update(BatchItem)
        .where(
            BatchItem.batch_id == batch.id,
            (BatchItem.state == "failed") | and_(BatchItem.state == "dispatched", BatchItem.job_id.in_(failed_jobs)),
        )
        .values(state="pending", job_id=None, error_code=None, error_message=None, updated_at=utcnow())
    )
    if reset.rowcount:  # type: ignore[attr-defined]
        await session.execute(
            update(Batch)
            .where(Batch.id == batch.id)
            .values(status="in_progress", completed_at=None, finalizing_at=None, outcome=None)
        )
    await session.commit()
    await BatchRunner(state).advance(batch.id)
    await session.refresh(batch)
    return await batch_public(session, batch)


ItemStatus = Literal["pending", "queued", "running", "succeeded", "failed", "canceled", "expired"]


@router.get(
    "/{batch_id}/items",
    operation_id="batches-items",
    summary="A batch's items, in line order, with their jobs",
    response_model=BatchItemList,
    responses={404: {"model": ErrorResponse}},
)
async def list_items(
    batch_id: str,
    request: Request,
    account: AccountDep,
    session: SessionDep,
    status: Annotated[ItemStatus | None, Query(description="Only items in this state.")] = None,
    after: Annotated[str | None, Query(max_length=64, description="The last item id of the previous page.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> BatchItemList:
    batch = await own_batch(session, account, batch_id)
    stmt = select(BatchItem, Job).outerjoin(Job, Job.id == BatchItem.job_id).where(BatchItem.batch_id == batch.id)
    if after is not None:
        number = after.removeprefix("batch_req_")
        if not after.startswith("batch_req_") or not (number.isascii() and number.isdigit() and len(number) <= 18):
            raise InvalidRequest("'after' must be an item id (batch_req_...).", param="after")
        stmt = stmt.where(BatchItem.id > int(after.removeprefix("batch_req_")))
    if status in ("pending", "failed", "canceled", "expired"):
        job_states = {"failed": jobs.FAILED, "canceled": jobs.CANCELED}
        stmt = stmt.where((BatchItem.state == status) | (Job.state == job_states.get(status, "-")))
    elif status is not None:
        stmt = stmt.where(
            Job.state == {"queued": jobs.QUEUED, "running": jobs.RUNNING, "succeeded": jobs.SUCCEEDED}[status]
        )
    rows = (await session.execute(stmt.order_by(BatchItem.id).limit(limit + 1))).all()
    data = []
    for item, job in rows[:limit]:
        state = job.state if job is not None else item.state
        code = (job.error_code if job is not None else item.error_code) or None
        message = (job.error_message if job is not None else item.error_message) or ""
        data.append(
            BatchItemPublic(
                id=item_public_id(item.id),
                custom_id=item.custom_id,
                line=item.line,
                status=state,  # type: ignore[arg-type]
                job_id=item.job_id,
                error=JobError(code=code, message=message) if code else None,
                result_url=str(request.url_for("jobs-result", job_id=job.id))
                if job is not None and job.state == jobs.SUCCEEDED
                else None,
            )
        )
    return BatchItemList(data=data, has_more=len(rows) > limit, last_id=data[-1].id if data else None)
