"""Running one job, whatever its kind: claim it, parse its contract, run the kind's handler, store, settle.

Celery tasks (workers/tasks.py) only call `run_job`; tests and benchmarks can call it directly too. The handler
of each kind (shared/jobkinds declares it by name) receives a `JobContext` with the typed request and returns
an `Outcome` with the typed result.
"""

from __future__ import annotations

import importlib
import logging
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from shared import job_metrics, jobs
from shared.config import Settings
from shared.db.models import Job
from shared.db.session import session_scope
from shared.errors import ErrorCode
from shared.events import publish_job_event, publish_stream_item
from shared.jobkinds import JobKind, job_kind
from shared.queues import enqueued_key
from shared.storage import LocalStore, ObjectNotFound, ObjectStore, batch_output_key, output_key
from workers.engines.base import EngineError
from workers.residency import ResidencyManager
from workers.seeding import seed_random

log = logging.getLogger(__name__)

PROGRESS_INTERVAL_SECONDS = 1.0


@dataclass
class Outcome:
    result: BaseModel
    output_key: str | None = None
    content_type: str | None = None


@dataclass
class WorkerContext:
    """What one worker process holds for every job: settings, store, Redis, its models."""

    settings: Settings
    store: ObjectStore
    redis: Any
    residency: ResidencyManager
    hosted: list[str] = field(default_factory=list)
    worker_id: str | None = None  # this process's heartbeat id: what a job it claims records
    running: str | None = None  # the job this process is running (the heartbeat reports it)
    _shared: dict[str, Any] = field(default_factory=dict)

    def component(self, name: str, build: Callable[[], Any]) -> Any:
        """A process-wide helper (e.g. the diarization pipeline), built on first use and kept."""
        if name not in self._shared:
            self._shared[name] = build()
        return self._shared[name]

    @contextmanager
    def session(self) -> Iterator[Any]:
        with session_scope(self.settings.sync_database_url) as session:
            yield session

    def publish(self, job_id: str, state: str, progress: float | None = None) -> None:
        try:
            publish_job_event(self.redis, job_id, state, progress)
        except Exception:  # the SQL row already holds the state; waiters fall back to polling
            log.warning("could not publish event for job %s", job_id, exc_info=True)

    def stream(self, job_id: str, item: dict[str, Any]) -> None:
        try:
            publish_stream_item(self.redis, job_id, item)
        except Exception:  # a streaming client misses a piece; the job's result stays complete
            log.warning("could not publish a stream item of job %s", job_id, exc_info=True)


class ProgressReporter:
    """Throttled progress updates: a job row update and an event at most once per interval."""

    def __init__(self, ctx: WorkerContext, job_id: str) -> None:
        self.ctx = ctx
        self.job_id = job_id
        self._last = 0.0

    def __call__(self, fraction: float, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < PROGRESS_INTERVAL_SECONDS:
            return
        self._last = now
        with self.ctx.session() as session:
            jobs.transition(session, jobs.progress_stmt(self.job_id, fraction))
        self.ctx.publish(self.job_id, jobs.RUNNING, fraction)


@dataclass
class JobContext:
    """One job as its handler sees it."""

    worker: WorkerContext
    job: Job
    request: Any  # the kind's request contract, parsed from the row
    progress: ProgressReporter

    @property
    def id(self) -> str:
        return self.job.id

    @property
    def model(self) -> str:
        return self.job.model

    @property
    def account_id(self) -> str:
        return self.job.account_id

    def stream(self, item: dict[str, Any]) -> None:
        self.worker.stream(self.job.id, item)

    def put_output(self, data: bytes, extension: str, content_type: str) -> str:
        """Store the job's output file and return its key: a batch item's under its batch's prefix (beside the
        batch's manifest), any other job's under its account's outputs."""
        batch_id = self.job.batch_id
        key = (
            batch_output_key(batch_id, self.id, extension)
            if batch_id
            else output_key(self.account_id, self.id, extension)
        )
        self.worker.store.put_bytes(key, data, content_type)
        return key


@contextmanager
def local_input(store: ObjectStore, key: str) -> Iterator[Path]:
    """A local file path for an input object (the file itself for the local store, a temp copy for S3)."""
    if isinstance(store, LocalStore):
        yield store.local_path(key)
        return
    with tempfile.TemporaryDirectory(prefix="s2s-in-") as tmp:
        path = Path(tmp) / Path(key).name
        store.download_to(key, path)
        yield path


@cache
def _handler(kind: JobKind) -> Callable[[JobContext], Outcome]:
    module, _, name = kind.handler.partition(":")
    return getattr(importlib.import_module(module), name)  # type: ignore[no-any-return]


def delete_inputs(ctx: WorkerContext, job_id: str, keys: list[str]) -> None:
    """Remove a finished job's uploads, unless the retention setting keeps them (housekeeping deletes them later)."""
    if not keys or ctx.settings.store.input_retention_seconds > 0:
        return
    try:
        for key in keys:
            ctx.store.delete(key)
    except Exception:  # housekeeping deletes what is left behind
        log.warning("could not delete the inputs of job %s", job_id, exc_info=True)
        return
    with ctx.session() as session:
        jobs.forget_inputs(session, job_id)


def run_job(ctx: WorkerContext, job_id: str) -> str:
    """Run one job to a terminal state; idempotent for redelivered or duplicate messages.

    Returns the job's final state, or why nothing was done ("terminal", "missing").
    """
    with ctx.session() as session:
        claimed = jobs.claim(session, job_id, ctx.settings.celery.max_attempts, ctx.worker_id)
    try:
        ctx.redis.delete(enqueued_key(job_id))  # its message was delivered: the reconciler need not resend it
    except Exception:
        log.warning("could not clear the enqueued mark of job %s", job_id)
    if claimed.job is None:
        log.warning("job %s does not exist; dropping its message", job_id)
        return "missing"
    job = claimed.job
    if claimed.reason == "terminal":
        return "terminal"
    if claimed.reason == "exhausted":
        ctx.publish(job_id, jobs.FAILED)
        return jobs.FAILED
    ctx.publish(job_id, jobs.RUNNING, 0.0)
    ctx.running = job_id
    try:
        return _run_claimed(ctx, job)
    finally:
        ctx.running = None


def _run_claimed(ctx: WorkerContext, job: Job) -> str:
    started = time.perf_counter()
    inputs: list[str] = []
    streaming = False
    try:
        kind = job_kind(job.kind)
        request = kind.parse_request(job.request or {})
        inputs = kind.input_keys(job.request or {})
        streaming = bool(getattr(request, "stream", False))
        if ctx.settings.random_seed is not None:  # the same request gives the same output, whatever ran before
            seed_random(ctx.settings.random_seed)
        outcome = _handler(kind)(JobContext(ctx, job, request, ProgressReporter(ctx, job.id)))
    except EngineError as exc:
        log.info("job %s failed: %s (%s)", job.id, exc, exc.code)
        return _finish_failed(ctx, job, str(exc.code), str(exc), inputs, streaming)
    except ObjectNotFound as exc:
        message = f"an input of this job is no longer in the store ({exc}); was its file deleted?"
        return _finish_failed(ctx, job, ErrorCode.invalid_request, message, inputs, streaming)
    except (KeyError, ValidationError) as exc:
        log.error("job %s has a request this worker cannot read: %s", job.id, exc)
        return _finish_failed(
            ctx,
            job,
            ErrorCode.invalid_request,
            f"the stored request of this {job.kind} job is not valid",
            inputs,
            False,
        )
    except Exception as exc:
        log.exception("job %s crashed", job.id)
        message = f"internal error while processing the job ({type(exc).__name__}); see the worker log for this job id"
        return _finish_failed(ctx, job, ErrorCode.server_error, message, inputs, streaming)
    result = outcome.result
    timed = result.model_dump(include={"processing_seconds"})
    if "processing_seconds" in type(result).model_fields and timed.get("processing_seconds") is None:
        result = result.model_copy(update={"processing_seconds": round(time.perf_counter() - started, 3)})
    with ctx.session() as session:
        done = jobs.succeed(  # settles credits in the same transaction
            session,
            job.id,
            result=result.model_dump(mode="json", exclude_none=True),
            output_key=outcome.output_key,
            content_type=outcome.content_type,
        )
    delete_inputs(ctx, job.id, inputs)
    if not done:  # canceled while running: the output is not wanted
        if outcome.output_key:
            ctx.store.delete(outcome.output_key)
        return "terminal"
    # counted before the event goes out: whoever the event wakes sees the job in /metrics already
    _record_end(ctx, job, jobs.SUCCEEDED, time.perf_counter() - started, getattr(result, "duration", None))
    ctx.publish(job.id, jobs.SUCCEEDED, 1.0)
    if streaming:
        ctx.stream(job.id, {"type": "done", "state": jobs.SUCCEEDED})
    return jobs.SUCCEEDED


def _record_end(
    ctx: WorkerContext, job: Job, state: str, run_seconds: float | None, audio_seconds: float | None
) -> None:
    """Cluster-wide job metrics (queue wait, run time, real-time factor, credits), aggregated in Redis."""
    charged = 0
    if state == jobs.SUCCEEDED:
        with ctx.session() as session:
            row = session.get(Job, job.id)
            charged = int(row.charged_credits or 0) if row is not None else 0
    wait = (job.started_at - job.created_at).total_seconds() if job.started_at and job.created_at else None
    job_metrics.record_end(
        ctx.redis,
        kind=job.kind,
        model=job.model,
        state=state,
        wait_seconds=wait,
        run_seconds=run_seconds,
        audio_seconds=audio_seconds,
        charged_credits=charged,
    )


def _finish_failed(ctx: WorkerContext, job: Job, code: str, message: str, inputs: list[str], streaming: bool) -> str:
    with ctx.session() as session:
        jobs.fail(session, job.id, code=code, message=message)  # refunds in the same transaction
    delete_inputs(ctx, job.id, inputs)
    _record_end(ctx, job, jobs.FAILED, None, None)
    ctx.publish(job.id, jobs.FAILED)
    if streaming:
        ctx.stream(job.id, {"type": "done", "state": jobs.FAILED})
    return jobs.FAILED
