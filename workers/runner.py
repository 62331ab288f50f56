"""The work behind each task, as plain functions: claim the job, run the engine, store the output, settle.

Celery tasks (workers/tasks.py) only call `run_job`; tests and benchmarks can call it directly too.
"""

from __future__ import annotations

import base64
import logging
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import update

from shared import audio, jobs
from shared.catalog import MODELS, is_installed
from shared.config import Settings
from shared.db.models import Job, Voice
from shared.db.session import session_scope
from shared.events import publish_job_event, publish_stream_item
from shared.storage import LocalStore, ObjectStore, output_key
from workers.engines.base import EngineError, Segment, TranscribeOptions, VoiceReference
from workers.engines.diarize import BundledDiarizer, Diarizer, SpeakerConstraints, load_diarizer
from workers.enroll import REFERENCE_RATE, load_reference, measure
from workers.manager import ModelManager
from workers.synthesis import synthesize_pieces
from workers.transcribe import STTRequest, transcribe_file

log = logging.getLogger(__name__)

PROGRESS_INTERVAL_SECONDS = 1.0
# Whisper models tried, in order, to find a cloned voice's language and transcript
TRANSCRIBER_PREFERENCE = ("whisper-large-v3", "whisper-turbo", "whisper-base", "whisper-tiny.en")


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
    _diarizer: Diarizer | None = None
    _encoder: Any = None

    def speaker_encoder(self) -> Any:
        """The resemblyzer voice encoder, shared with the bundled diarization pipeline when that is loaded."""
        if self._encoder is None:
            diarizer = self.diarizer()
            self._encoder = getattr(diarizer, "encoder", None) or BundledDiarizer.load().encoder
        return self._encoder

    def diarizer(self) -> Diarizer:
        """The diarization pipeline of this worker process, loaded on first use and kept warm."""
        if self._diarizer is None:
            self._diarizer = load_diarizer(self.settings.resolved_model_dir)
        return self._diarizer

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


@contextmanager
def voice_reference(ctx: WorkerContext, voice_id: str | None) -> Iterator[VoiceReference | None]:
    """The enrolled voice a synthesis job speaks with, its reference audio available as a local file."""
    if not voice_id:
        yield None
        return
    with ctx.session() as session:
        voice = session.get(Voice, voice_id)
    if voice is None or voice.status != "ready" or not voice.reference_key:
        raise EngineError(f"Voice '{voice_id}' does not exist or is not ready.", code="voice_not_found")
    with local_input(ctx.store, voice.reference_key) as path:
        yield VoiceReference(
            voice_id=voice.id,
            audio_path=path,
            sample_rate=REFERENCE_RATE,
            transcript=voice.transcript,
            language=voice.language,
            embedding=(voice.profile or {}).get("embedding"),
            profile=voice.profile,
        )


def synthesize(ctx: WorkerContext, job: Job, progress: ProgressReporter) -> Outcome:
    """Speak the text; with `stream`, publish encoded audio chunks as soon as each piece is ready."""
    req = job.request
    fmt = req.get("format", "mp3")
    spec = audio.OUTPUT_FORMATS[fmt]
    stream = bool(req.get("stream"))
    text = req["input"]
    produced: list[np.ndarray] = []
    streamed: list[bytes] = []
    with ctx.manager.use(job.model) as engine, voice_reference(ctx, req.get("voice_id")) as reference:
        rate = int(engine.sample_rate)
        encoder = audio.StreamEncoder(fmt, rate) if stream else None
        options = {
            "voice": req["voice"],
            "speed": float(req.get("speed", 1.0)),
            "emotion": req.get("emotion"),
            "reference": reference,
            "language": req.get("language"),
            "instructions": req.get("instructions"),
        }
        for chunk in synthesize_pieces(engine, text, on_progress=progress, **options):
            produced.append(chunk)
            if encoder is not None:
                data = encoder.write(chunk)
                if data:
                    streamed.append(data)
                    publish_stream_item(ctx.redis, job.id, {"type": "audio", "b64": base64.b64encode(data).decode()})
        if encoder is not None:
            tail = encoder.close()
            if tail:
                streamed.append(tail)
                publish_stream_item(ctx.redis, job.id, {"type": "audio", "b64": base64.b64encode(tail).decode()})
    samples = np.concatenate(produced) if produced else np.zeros(0, dtype=np.float32)
    # a streamed wav carries an open-ended header; the stored file gets a complete one
    data = b"".join(streamed) if stream and fmt != "wav" else audio.encode(samples, rate, fmt)
    key = output_key(job.account_id, job.id, spec.extension)
    ctx.store.put_bytes(key, data, spec.content_type)
    result = {
        "duration": round(samples.size / rate, 3),
        "sample_rate": spec.sample_rate or rate,
        "format": fmt,
        "bytes": len(data),
        "characters": len(text),
    }
    return Outcome(result=result, output_key=key, content_type=spec.content_type)


def clone(ctx: WorkerContext, job: Job, progress: ProgressReporter) -> Outcome:
    """Enroll a voice: check and normalise the reference, embed it, find its language and transcript."""
    req = job.request
    voice_id = req["voice_id"]
    try:
        with ExitStack() as stack:
            paths = [stack.enter_context(local_input(ctx.store, key)) for key in req["input_keys"]]
            reference = load_reference(paths)
        progress(0.3, force=True)
        profile = measure(reference, ctx.speaker_encoder())
        progress(0.6, force=True)
        language, transcript = _transcribe_reference(ctx, reference, req.get("language"))
        key = f"voices/{job.account_id}/{voice_id}/reference.wav"
        ctx.store.put_bytes(key, audio.encode(reference.samples, REFERENCE_RATE, "wav"), "audio/wav")
    except EngineError as exc:
        _mark_voice(ctx, voice_id, status="failed", error_message=str(exc))
        raise
    _mark_voice(
        ctx, voice_id, status="ready", language=language, transcript=transcript, profile=profile, reference_key=key
    )
    result = {
        "voice_id": voice_id,
        "language": language,
        "duration": reference.duration,
        "speech_seconds": reference.speech_seconds,
        "transcript": transcript,
        "warnings": reference.warnings,
    }
    return Outcome(result=result)


def _transcribe_reference(ctx: WorkerContext, reference: Any, language: str | None) -> tuple[str | None, str | None]:
    """Language and words of the reference, with the best installed Whisper model (none: keep what was given)."""
    model_id = next(
        (m for m in TRANSCRIBER_PREFERENCE if is_installed(MODELS[m], ctx.settings.resolved_model_dir)), None
    )
    if model_id is None:
        return language, None
    with ctx.manager.use(model_id) as engine:
        segments, info = engine.transcribe(
            audio.resample(reference.samples, REFERENCE_RATE, 16000),
            TranscribeOptions(language=language if getattr(engine, "multilingual", True) else "en"),
        )
        text = " ".join(s.text for s in segments).strip()
    return language or info.language, text or None


def _delete_quietly(ctx: WorkerContext, keys: list[str]) -> None:
    for key in keys:
        try:
            ctx.store.delete(key)
        except Exception:  # a leftover upload is not worth failing the enrollment for
            log.warning("could not delete %s", key, exc_info=True)


def _mark_voice(ctx: WorkerContext, voice_id: str, **values: Any) -> None:
    with ctx.session() as session:
        session.execute(update(Voice).where(Voice.id == voice_id).values(**values))


def transcribe(ctx: WorkerContext, job: Job, progress: ProgressReporter) -> Outcome:
    req = job.request
    if not job.input_key:
        raise EngineError("the job has no input audio", code="invalid_request")
    request = STTRequest(
        language=req.get("language") or None,
        words=bool(req.get("words")),
        diarization=bool(req.get("diarization")),
        constraints=SpeakerConstraints(
            num_speakers=req.get("num_speakers"),
            min_speakers=req.get("min_speakers"),
            max_speakers=req.get("max_speakers"),
        ),
        split_channels=req.get("channels") == "split",
        prompt=req.get("prompt") or None,
        temperature=req.get("temperature"),
    )
    stream = bool(req.get("stream"))

    def on_segment(segment: Segment) -> None:
        if stream:
            publish_stream_item(ctx.redis, job.id, {"type": "segment", "segment": segment.to_dict()})

    with ctx.manager.use(job.model) as engine, local_input(ctx.store, job.input_key) as path:
        diarizer = ctx.diarizer() if request.diarization and not request.split_channels else None
        try:
            result = transcribe_file(
                engine,
                path,
                request,
                duration=float(req.get("audio_duration") or audio.probe(path).duration),
                chunk_seconds=ctx.settings.stt_chunk_seconds,
                diarizer=diarizer,
                on_segment=on_segment,
                on_progress=progress,
            )
        except audio.AudioDecodeError as exc:
            raise EngineError(str(exc), code="invalid_audio") from exc
    return Outcome(result=result)


HANDLERS: dict[str, Callable[[WorkerContext, Job, ProgressReporter], Outcome]] = {
    "tts": synthesize,
    "stt": transcribe,
    "clone": clone,
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
    if job.request.get("stream"):
        publish_stream_item(ctx.redis, job_id, {"type": "done", "state": jobs.SUCCEEDED})
    return jobs.SUCCEEDED


def _finish_failed(ctx: WorkerContext, job_id: str, code: str, message: str) -> str:
    with ctx.session() as session:
        jobs.fail(session, job_id, code=code, message=message)  # refunds in the same transaction
    ctx.publish(job_id, jobs.FAILED)
    publish_stream_item(ctx.redis, job_id, {"type": "done", "state": jobs.FAILED})
    return jobs.FAILED
