"""Batches: validating their lines, dispatching their items as ordinary jobs, and finishing them.

Validation reads the input file as a stream (one line at a time, never the whole file in memory) and checks every
line with the same request builders as the synchronous routes (api/requests.py): a valid line becomes a
`batch_items` row holding its job kind's contract, an invalid one an entry of the batch's errors. A batch whose
every line is invalid fails at once, with no charge.

Every API process runs `BatchRunner.tick` every BATCHES__TICK_SECONDS and right after any job ends. It dispatches
pending items up to each batch's `max_concurrency`: the item's compare-and-set (pending -> dispatched), its job's
insert and the job's credit reservation are one transaction, so an item becomes exactly one job whatever process
dispatches it, and a batch never holds more than its running items' credits. A balance that runs dry fails the
remaining items `insufficient_credits` (listed, refunded: nothing was reserved). Items go to each model's batch
queue. When nothing is pending or running, the batch is finalized: an output file (one line per succeeded item),
an error file (the rest, invalid lines included), a manifest.json under the batch's prefix for audio, and its
`batch.*` event. Past its completion window, pending items expire and running ones are canceled (refunded).

SQL is the truth throughout: a restart of any process resumes where the rows say; a job sent but lost by Redis is
sent again by the reconciler (api/housekeeping.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
from pydantic import BaseModel, ValidationError
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from api import dispatch
from api.deps import BROKER_INFO_KEY, AppState
from api.errors import APIError, InsufficientCredits
from api.requests import clone_job, file_source, speech_job, transcription_job, voice_conversion_job
from api.voices import new_voice
from shared import jobs, webhooks
from shared.catalog import MODELS
from shared.db.models import Account, Batch, BatchItem, Job, StoredFile, new_file_id, new_id, utcnow
from shared.errors import ErrorCode
from shared.jobkinds import job_kind
from shared.jobkinds.clone import CloneCreate, CloneJob
from shared.jobkinds.speech import SpeechCreate
from shared.jobkinds.transcription import Transcript, TranscriptionCreate, TranscriptionJob
from shared.jobkinds.voice_conversion import VoiceConversionCreate
from shared.queues import enqueued_key, send_job
from shared.transcripts import to_json

log = logging.getLogger(__name__)

ENDPOINT_KINDS = {
    "/v1/audio/speech": "tts",
    "/v1/audio/transcriptions": "stt",
    "/v1/voices/clone": "clone",
    "/v1/audio/voice-conversions": "vc",
}
INSERT_CHUNK = 500
MAX_STORED_ERRORS = 1000
ACTIVE = (jobs.QUEUED, jobs.RUNNING)
COALESCE_SECONDS = 0.02


def window(text: str) -> timedelta:
    number, unit = int(text[:-1]), text[-1]
    return timedelta(hours=number) if unit == "h" else timedelta(minutes=number)


@dataclass
class LineError:
    code: str
    line: int | None
    message: str
    param: str | None = None
    custom_id: str | None = None

    def public(self) -> dict[str, Any]:
        return {"code": self.code, "line": self.line, "message": self.message, "param": self.param}


@dataclass
class Validation:
    items: int = 0
    errors: list[LineError] = field(default_factory=list)
    invalid: int = 0


async def lines_of(state: AppState, key: str) -> AsyncIterator[tuple[int, bytes]]:
    """(line number, raw line) of a stored JSONL file, read chunk by chunk."""
    chunks = state.store.iter_chunks(key)
    rest = b""
    number = 0
    while True:
        chunk = await anyio.to_thread.run_sync(next, chunks, None)
        if chunk is None:
            break
        rest += chunk
        *complete, rest = rest.split(b"\n")
        for raw in complete:
            number += 1
            if raw.strip():
                yield number, raw
    if rest.strip():
        yield number + 1, rest


async def build_item(
    state: AppState, session: AsyncSession, account: Account, kind: str, body: dict[str, Any]
) -> tuple[str, BaseModel]:
    """(model id, the job kind's contract) of one line's body, by the synchronous routes' own checks."""
    if kind == "tts":
        spec, speech = await speech_job(state, session, account, SpeechCreate.model_validate(body), live=False)
        if speech.stream:
            speech = speech.model_copy(update={"stream": False})  # nobody listens to a batch item's stream
        return spec.id, speech
    if kind == "stt":
        form = TranscriptionCreate.model_validate(body)
        if form.file_id is None:
            raise APIError(
                "Transcription lines name their audio by `file_id` (upload it with purpose=audio).", param="file_id"
            )
        source = await file_source(session, account, form.file_id)
        spec, transcription = await transcription_job(
            state, form.model_copy(update={"stream": False}), source, live=False
        )
        return spec.id, transcription
    if kind == "vc":
        conversion = VoiceConversionCreate.model_validate(body)
        if conversion.file_id is None:
            raise APIError(
                "Voice-conversion lines name their audio by `file_id` (upload it with purpose=audio).", param="file_id"
            )
        source = await file_source(session, account, conversion.file_id)
        spec, job = await voice_conversion_job(
            state, session, account, conversion.model_copy(update={"stream": False}), source, live=False
        )
        return spec.id, job
    form_clone = CloneCreate.model_validate(body)
    samples = [await file_source(session, account, file_id) for file_id in form_clone.file_id or []]
    recording = (
        await file_source(session, account, form_clone.consent_file_id, param="consent_file_id")
        if form_clone.consent_file_id
        else None
    )
    spec, clone = await clone_job(state, form_clone, samples, new_id("voice"), live=False, consent_recording=recording)
    return spec.id, clone


def _validation_error(exc: ValidationError) -> tuple[str, str | None]:
    first = exc.errors()[0]
    param = ".".join(str(p) for p in first.get("loc", ())) or None
    return f"Invalid value for '{param or 'body'}': {first.get('msg', 'invalid')}.", param


async def validate(
    state: AppState,
    session: AsyncSession,
    account: Account,
    batch: Batch,
    lines: AsyncIterator[tuple[int, dict[str, Any] | None, str | None]],
) -> Validation:
    """Check every line and insert the valid ones as items (in the caller's transaction)."""
    result = Validation()
    seen: set[str] = set()
    pending: list[BatchItem] = []
    limit = state.settings.batches.max_lines
    async for number, line, problem in lines:
        if result.items + result.invalid >= limit:  # stop reading: the caller refuses the batch
            result.invalid += 1
            break
        try:
            if problem is not None or line is None:
                raise APIError(problem or "The line is not a JSON object.", param=None)
            custom_id = line.get("custom_id")
            if not isinstance(custom_id, str) or not 0 < len(custom_id) <= 256:
                raise APIError("Each line needs a `custom_id` string (1-256 characters).", param="custom_id")
            if custom_id in seen:
                raise APIError(
                    f"custom_id '{custom_id}' appears on an earlier line.",
                    code="duplicate_custom_id",
                    param="custom_id",
                )
            seen.add(custom_id)
            if "url" in line and line["url"] != batch.endpoint:
                raise APIError(
                    f"The line's url '{line['url']}' is not the batch's endpoint {batch.endpoint}.", param="url"
                )
            if line.get("method", "POST") != "POST":
                raise APIError("Batch lines are POST requests.", param="method")
            body = line.get("body")
            if not isinstance(body, dict):
                raise APIError("Each line needs a `body` object: the request the endpoint takes.", param="body")
            try:
                model, request = await build_item(state, session, account, batch.kind, body)
            except ValidationError as exc:
                message, param = _validation_error(exc)
                raise APIError(message, param=param) from exc
        except APIError as exc:
            result.invalid += 1
            if len(result.errors) < MAX_STORED_ERRORS:
                cid = line.get("custom_id") if isinstance(line, dict) else None
                result.errors.append(
                    LineError(exc.code, number, exc.message, exc.param, cid if isinstance(cid, str) else None)
                )
            continue
        pending.append(
            BatchItem(
                batch_id=batch.id,
                line=number,
                custom_id=custom_id,
                model=model,
                request=request.model_dump(mode="json"),
            )
        )
        result.items += 1
        if len(pending) >= INSERT_CHUNK:
            session.add_all(pending)
            await session.flush()
            pending = []
    session.add_all(pending)
    await session.flush()
    return result


async def file_lines(state: AppState, key: str) -> AsyncIterator[tuple[int, dict[str, Any] | None, str | None]]:
    async for number, raw in lines_of(state, key):
        try:
            line = json.loads(raw)
        except ValueError:
            yield number, None, "The line is not valid JSON."
            continue
        yield number, line if isinstance(line, dict) else None, None if isinstance(line, dict) else "Not an object."


async def inline_lines(requests: list[Any]) -> AsyncIterator[tuple[int, dict[str, Any] | None, str | None]]:
    for number, request in enumerate(requests, start=1):
        yield number, {"custom_id": request.custom_id, "body": request.body}, None


# --- counting ---------------------------------------------------------------------------------------------------------
async def item_counts(session: AsyncSession, batch_id: str) -> dict[str, int]:
    """Items by effective status: an item's own state until dispatched, its job's state afterwards."""
    rows = (
        await session.execute(
            select(BatchItem.state, Job.state, func.count())
            .select_from(BatchItem)
            .outerjoin(Job, Job.id == BatchItem.job_id)
            .where(BatchItem.batch_id == batch_id)
            .group_by(BatchItem.state, Job.state)
        )
    ).all()
    counts: dict[str, int] = {}
    for item_state, job_state, n in rows:
        status = job_state if item_state == "dispatched" and job_state else item_state
        counts[status] = counts.get(status, 0) + int(n)
    return counts


# --- the runner -------------------------------------------------------------------------------------------------------
class BatchRunner:
    def __init__(self, state: AppState) -> None:
        self.state = state

    async def run(self) -> None:
        """`tick` every BATCHES__TICK_SECONDS, and soon after any job ends (its batch's next item starts then, not
        at the next tick); bursts of endings are coalesced."""
        ended = self.state.waiter.job_ended
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(ended.wait(), timeout=self.state.settings.batches.tick_seconds)
                await asyncio.sleep(COALESCE_SECONDS)
            ended.clear()
            try:
                await self.tick()
            except Exception:
                log.warning("batch runner pass failed", exc_info=True)

    async def tick(self) -> None:
        async with self.state.sessions() as session:
            batches = (
                (
                    await session.execute(
                        select(Batch).where(
                            Batch.status.in_(("in_progress", "cancelling", "finalizing")),
                            Batch.broker == self.state.settings.broker_id,
                        )
                    )
                )
                .scalars()
                .all()
            )
        for batch in batches:
            try:
                await self.advance(batch.id)
            except Exception:
                log.exception("batch %s: could not advance", batch.id)

    async def advance(self, batch_id: str) -> None:
        async with self.state.sessions() as session:
            batch = await session.get(Batch, batch_id)
            if batch is None:
                return
            now = utcnow()
            if batch.status == "cancelling":
                await self._stop(session, batch, "canceled")
                await self._finalize(session, batch, "cancelled")
                return
            if batch.status == "finalizing":
                await self._finalize(session, batch, batch.outcome or "completed")
                return
            if now >= batch.expires_at:
                await self._stop(session, batch, "expired")
                await self._finalize(session, batch, "expired")
                return
            await self._dispatch(session, batch)
            counts = await item_counts(session, batch_id)
            if not counts.get("pending") and not counts.get(jobs.QUEUED) and not counts.get(jobs.RUNNING):
                await session.refresh(batch)  # a refused dispatch rolled back: reload before reading it
                await self._finalize(session, batch, "completed")

    async def _dispatch(self, session: AsyncSession, batch: Batch) -> None:
        active = (
            await session.execute(
                select(func.count())
                .select_from(BatchItem)
                .join(Job, Job.id == BatchItem.job_id)
                .where(BatchItem.batch_id == batch.id, Job.state.in_(ACTIVE))
            )
        ).scalar_one()
        room = batch.max_concurrency - int(active)
        if room <= 0:
            return
        batch_id, kind, account_id = batch.id, batch.kind, batch.account_id  # plain values: a rollback expires rows
        items = (
            await session.execute(
                select(BatchItem.id, BatchItem.model, BatchItem.request)
                .where(BatchItem.batch_id == batch_id, BatchItem.state == "pending")
                .order_by(BatchItem.line)
                .limit(room)
            )
        ).all()
        for item_id, model, stored in items:
            await self._dispatch_item(session, batch_id, kind, account_id, item_id, model, stored)

    async def _dispatch_item(
        self,
        session: AsyncSession,
        batch_id: str,
        kind_name: str,
        account_id: str,
        item_id: int,
        model: str,
        stored: dict[str, Any],
    ) -> None:
        kind = job_kind(kind_name)
        request = kind.parse_request(stored)
        job_id = dispatch.new_job_id()
        # the item's compare-and-set, its job and its reservation: one transaction (create_job commits it)
        taken = await session.execute(
            update(BatchItem)
            .where(BatchItem.id == item_id, BatchItem.state == "pending")
            .values(state="dispatched", job_id=job_id, updated_at=utcnow()),
            execution_options={"synchronize_session": False},
        )
        if not taken.rowcount:  # type: ignore[attr-defined]  # another process took it; nothing was changed
            return
        account = await session.get(Account, account_id, populate_existing=True)
        assert account is not None
        if isinstance(request, CloneJob):
            session.add(new_voice(request, account_id, model))
        session.info[BROKER_INFO_KEY] = self.state.settings.broker_id
        try:
            job = await dispatch.create_job(
                session,
                account,
                kind=kind_name,
                spec=MODELS[model],
                request=request,
                latency="batch",
                job_id=job_id,
                batch_id=batch_id,
            )
        except InsufficientCredits as exc:  # rolled back: the item is still pending; it fails, nothing reserved
            await session.execute(
                update(BatchItem)
                .where(BatchItem.id == item_id, BatchItem.state == "pending")
                .values(state="failed", error_code=ErrorCode.insufficient_credits, error_message=exc.message)
            )
            await session.commit()
            return
        job_queue_name = job.queue or ""
        try:
            await anyio.to_thread.run_sync(lambda: send_job(self.state.producer, job_id, kind_name, job_queue_name))
            await self.state.redis.set(
                enqueued_key(job_id), job_queue_name, ex=self.state.settings.celery.visibility_timeout_seconds
            )
        except Exception:  # the job stays queued in SQL: the reconciler sends it
            log.warning("batch %s: could not send job %s now", batch_id, job_id, exc_info=True)

    async def _stop(self, session: AsyncSession, batch: Batch, how: str) -> None:
        """Pending items become `how` (canceled / expired); their running jobs are canceled and refunded."""
        await session.execute(
            update(BatchItem)
            .where(BatchItem.batch_id == batch.id, BatchItem.state == "pending")
            .values(state=how, updated_at=utcnow())
        )
        await session.commit()
        running = (
            (
                await session.execute(
                    select(Job.id)
                    .join(BatchItem, BatchItem.job_id == Job.id)
                    .where(BatchItem.batch_id == batch.id, Job.state.in_(ACTIVE))
                )
            )
            .scalars()
            .all()
        )
        for job_id in running:
            await dispatch.cancel_job(self.state, job_id)

    async def _finalize(self, session: AsyncSession, batch: Batch, outcome: str) -> None:
        """Write the output and error files and the manifest, then end the batch and announce it."""
        claimed = await session.execute(
            update(Batch)
            .where(Batch.id == batch.id, Batch.status.in_(("in_progress", "cancelling", "finalizing")))
            .values(status="finalizing", outcome=outcome, finalizing_at=batch.finalizing_at or utcnow())
        )
        await session.commit()
        if not claimed.rowcount:  # type: ignore[attr-defined]
            return
        output_id, error_id, manifest = await write_results(self.state, session, batch)
        ended = {"completed": "completed_at", "cancelled": "cancelled_at", "expired": "expired_at"}[outcome]
        done = await session.execute(
            update(Batch)
            .where(Batch.id == batch.id, Batch.status == "finalizing")
            .values(status=outcome, output_file_id=output_id, error_file_id=error_id, **{ended: utcnow()})
        )
        if done.rowcount:  # type: ignore[attr-defined]
            event = {"completed": "batch.completed", "expired": "batch.expired"}.get(outcome)
            if event:
                await session.run_sync(lambda s: announce(s, batch, event, manifest))
        await session.commit()


def announce(session: Any, batch: Batch, event: str, manifest: str | None) -> None:
    data = {
        "id": batch.id,
        "object": "batch",
        "status": event.removeprefix("batch."),
        "endpoint": batch.endpoint,
        "manifest_key": manifest,
    }
    webhooks.record(session, batch.account_id, event, data, batch.webhook_url)


def item_public_id(item_id: int) -> str:
    return f"batch_req_{item_id}"


def _result_body(state: AppState, job: Job) -> dict[str, Any]:
    kind = job_kind(job.kind)
    result = kind.parse_result(job.result)
    if isinstance(result, Transcript):
        request = kind.parse_request(job.request or {})
        assert isinstance(request, TranscriptionJob)
        return {"job_id": job.id, **to_json(result, words=request.words).model_dump(mode="json", exclude_none=True)}
    body: dict[str, Any] = {"job_id": job.id, **(result.model_dump(mode="json", exclude_none=True) if result else {})}
    if job.output_key:
        body["key"] = job.output_key
        with contextlib.suppress(Exception):
            body["url"] = state.store.presigned_url(job.output_key) or f"/v1/jobs/{job.id}/result"
    return body


async def write_results(
    state: AppState, session: AsyncSession, batch: Batch
) -> tuple[str | None, str | None, str | None]:
    """The output file (succeeded items), the error file (everything else) and, for audio, the manifest."""
    manifest: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="s2s-batch-") as tmp:
        out_path, err_path = Path(tmp) / "output.jsonl", Path(tmp) / "errors.jsonl"
        outputs = errors = 0
        with out_path.open("w") as out, err_path.open("w") as err:
            for entry in (batch.errors or {}).get("data", []):
                err.write(
                    json.dumps({"id": None, "custom_id": entry.get("custom_id"), "response": None, "error": entry})
                    + "\n"
                )
                errors += 1
            last = 0
            while True:
                rows = (
                    await session.execute(
                        select(BatchItem, Job)
                        .outerjoin(Job, Job.id == BatchItem.job_id)
                        .where(BatchItem.batch_id == batch.id, BatchItem.id > last)
                        .order_by(BatchItem.id)
                        .limit(INSERT_CHUNK)
                    )
                ).all()
                if not rows:
                    break
                for item, job in rows:
                    last = item.id
                    line: dict[str, Any] = {"id": item_public_id(item.id), "custom_id": item.custom_id}
                    if job is not None and job.state == jobs.SUCCEEDED:
                        body = _result_body(state, job)
                        out.write(
                            json.dumps(
                                {
                                    **line,
                                    "response": {"status_code": 200, "request_id": job.id, "body": body},
                                    "error": None,
                                }
                            )
                            + "\n"
                        )
                        outputs += 1
                        if job.output_key:
                            manifest.append(
                                {
                                    "custom_id": item.custom_id,
                                    "job_id": job.id,
                                    "key": job.output_key,
                                    "bytes": body.get("bytes"),
                                    "sha256": body.get("sha256"),
                                    "duration": body.get("duration"),
                                }
                            )
                        continue
                    code = (job.error_code if job is not None else item.error_code) or item.state
                    message = (
                        job.error_message if job is not None else item.error_message
                    ) or f"the item was {item.state}"
                    status = 500 if code in ("server_error", "worker_lost") else 400
                    error = {"code": code, "message": message}
                    response = {"status_code": status, "body": {"error": error}}
                    err.write(json.dumps({**line, "response": response, "error": error}) + "\n")
                    errors += 1
        output_id = await _store_file(state, session, batch, out_path, "output.jsonl") if outputs else None
        error_id = await _store_file(state, session, batch, err_path, "errors.jsonl") if errors else None
    manifest_key = None
    if manifest:
        manifest_key = f"batches/{batch.id}/manifest.json"
        data = json.dumps({"batch_id": batch.id, "items": manifest}, indent=1).encode()
        await anyio.to_thread.run_sync(lambda: state.store.put_bytes(manifest_key, data, "application/json"))
    await session.commit()
    return output_id, error_id, manifest_key


async def _store_file(state: AppState, session: AsyncSession, batch: Batch, path: Path, name: str) -> str:
    import hashlib

    row = StoredFile(
        id=new_file_id(), account_id=batch.account_id, purpose="batch_output", filename=f"{batch.id}_{name}"
    )
    row.object_key = f"files/{batch.account_id}/{row.id}"
    data = path.read_bytes()

    def store() -> None:
        with path.open("rb") as fh:
            state.store.put_file(row.object_key, fh, "application/jsonl")

    await anyio.to_thread.run_sync(store)
    row.bytes, row.sha256, row.created_at = len(data), hashlib.sha256(data).hexdigest(), utcnow()
    row.expires_at = row.created_at + timedelta(days=state.settings.files.retention_days)
    session.add(row)
    await session.flush()
    return row.id


def unix(moment: datetime | None) -> int | None:
    return int(moment.timestamp()) if moment is not None else None
