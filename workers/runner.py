"""The work behind each task, as plain functions: claim the job, run the engine, store the output, settle.

Celery tasks (workers/tasks.py) only call `run_job`; tests and benchmarks can call it directly too.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from shared import audio, jobs
from shared.config import Settings
from shared.db.models import Job
from shared.db.session import session_scope
from shared.events import publish_job_event, publish_stream_item
from shared.storage import LocalStore, ObjectStore, output_key
from workers.engines.base import EngineError, Segment, TranscribeOptions
from workers.manager import ModelManager

log = logging.getLogger(__name__)

PROGRESS_INTERVAL_SECONDS = 1.0


@dataclass
class Outcome:
    result: dict[str, Any] | None = None
    output_key: str | None = None
    content_type: str | None = None


@dataclass
class WorkerContext:
    settings: Settings
    store: ObjectStore
    redis: Any
    manager: ModelManager
    hosted: list[str] = field(default_factory=list)

    @contextmanager
    def session(self) -> Iterator[Any]:
        with session_scope(self.settings.sync_database_url) as session:
            yield session

    def publish(self, job_id: str, state: str, progress: float | None = None) -> None:
        try:
            publish_job_event(self.redis, job_id, state, progress)
        except Exception:  # the SQL row already holds the state; waiters fall back to polling
            log.warning("could not publish event for job %s", job_id, exc_info=True)


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


# --- handlers -----------------------------------------------------------------------------------------


def synthesize(ctx: WorkerContext, job: Job, progress: ProgressReporter) -> Outcome:
    req = job.request
    fmt = req.get("format", "mp3")
    with ctx.manager.use(job.model) as engine:
        chunks = list(
            engine.synthesize(
                req["input"],
                voice=req["voice"],
                speed=float(req.get("speed", 1.0)),
                emotion=req.get("emotion"),
            )
        )
        rate = int(engine.sample_rate)
    samples = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)
    data = audio.encode(samples, rate, fmt)
    spec = audio.OUTPUT_FORMATS[fmt]
    key = output_key(job.account_id, job.id, spec.extension)
    ctx.store.put_bytes(key, data, spec.content_type)
    result = {
        "duration": round(samples.size / rate, 3),
        "sample_rate": spec.sample_rate or rate,
        "format": fmt,
        "bytes": len(data),
        "characters": len(req["input"]),
    }
    return Outcome(result=result, output_key=key, content_type=spec.content_type)


def transcribe(ctx: WorkerContext, job: Job, progress: ProgressReporter) -> Outcome:
    req = job.request
    if not job.input_key:
        raise EngineError("the job has no input audio", code="invalid_request")
    options = TranscribeOptions(
        language=req.get("language") or None,
        word_timestamps=req.get("timestamps") == "word",
        initial_prompt=req.get("prompt") or None,
        temperature=req.get("temperature"),
    )
    with ctx.manager.use(job.model) as engine:
        if hasattr(engine, "check_language"):
            engine.check_language(options.language)
        with local_input(ctx.store, job.input_key) as path:
            try:
                samples = audio.decode(path, sample_rate=16000)
            except audio.AudioDecodeError as exc:
                raise EngineError(str(exc), code="invalid_audio") from exc
        segments_iter, info = engine.transcribe(samples, options)
        duration = info.duration or samples.size / 16000
        segments: list[Segment] = []
        for segment in segments_iter:
            segments.append(segment)
            publish_stream_item(ctx.redis, job.id, {"type": "segment", "segment": segment.to_dict()})
            if duration:
                progress(min(0.99, segment.end / duration))
    result = {
        "text": " ".join(s.text for s in segments if s.text).strip(),
        "language": info.language,
        "language_probability": info.language_probability,
        "duration": round(duration, 3),
        "segments": [s.to_dict() for s in segments],
    }
    return Outcome(result=result)


HANDLERS: dict[str, Callable[[WorkerContext, Job, ProgressReporter], Outcome]] = {
    "tts": synthesize,
    "stt": transcribe,
}


def run_job(ctx: WorkerContext, job_id: str) -> str:
    """Run one job to a terminal state; idempotent for redelivered or duplicate messages.

    Returns the job's final state, or why nothing was done ("terminal", "missing").
    """
    with ctx.session() as session:
        claimed = jobs.claim(session, job_id, ctx.settings.celery.max_attempts)
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

    started = time.perf_counter()
    handler = HANDLERS.get(job.kind)
    try:
        if handler is None:
            raise EngineError(f"this worker cannot run jobs of kind '{job.kind}'", code="server_error")
        outcome = handler(ctx, job, ProgressReporter(ctx, job_id))
    except EngineError as exc:
        log.info("job %s failed: %s (%s)", job_id, exc, exc.code)
        return _finish_failed(ctx, job_id, exc.code, str(exc))
    except Exception as exc:
        log.exception("job %s crashed", job_id)
        return _finish_failed(
            ctx,
            job_id,
            "server_error",
            f"internal error while processing the job ({type(exc).__name__}); see the worker log for this job id",
        )
    if outcome.result is not None:
        outcome.result.setdefault("processing_seconds", round(time.perf_counter() - started, 3))
    with ctx.session() as session:
        done = jobs.succeed(  # settles credits in the same transaction
            session, job_id, result=outcome.result, output_key=outcome.output_key, content_type=outcome.content_type
        )
    if not done:  # canceled while running: the output is not wanted
        if outcome.output_key:
            ctx.store.delete(outcome.output_key)
        return "terminal"
    ctx.publish(job_id, jobs.SUCCEEDED, 1.0)
    return jobs.SUCCEEDED


def _finish_failed(ctx: WorkerContext, job_id: str, code: str, message: str) -> str:
    with ctx.session() as session:
        jobs.fail(session, job_id, code=code, message=message)  # refunds in the same transaction
    ctx.publish(job_id, jobs.FAILED)
    return jobs.FAILED
