"""Voice enrollment: the model-independent work once per voice, then the clone model's own conditioning.

Model-independent: check and loudness-normalise the samples, measure the speaker embedding, find the language
and transcript (the best Whisper on this worker). Then the clone model's engine computes its conditioning from
the normalised reference (`enroll`), which is stored; other clone-capable models compute theirs on first use.
"""

from __future__ import annotations

import hashlib
import logging
from contextlib import ExitStack
from typing import Any

from sqlalchemy import update

from shared import audio
from shared.catalog import MODELS
from shared.db.models import Voice
from shared.jobkinds.clone import CloneJob, CloneResult
from workers.engines.base import EngineError, TranscribeOptions
from workers.enroll import REFERENCE_RATE, Reference, load_reference, measure
from workers.runner import JobContext, Outcome, WorkerContext, local_input
from workers.voices import EnrolledVoice, enroll_for

log = logging.getLogger(__name__)


def speaker_encoder(ctx: WorkerContext) -> Any:
    """The resemblyzer voice encoder of this process (the bundled diarizer shares it)."""
    from workers.engines.diarize import load_speaker_encoder

    return ctx.component("speaker_encoder", load_speaker_encoder)


def transcriber(ctx: WorkerContext) -> str | None:
    """The best speech-to-text model whose weights this worker has."""
    model_dir = ctx.settings.resolved_model_dir
    candidates = [m for m in MODELS.values() if m.kind == "stt" and m.is_installed(model_dir)]
    return max(candidates, key=lambda m: m.preference).id if candidates else None


def _transcribe_reference(
    ctx: WorkerContext, reference: Reference, language: str | None
) -> tuple[str | None, str | None]:
    """Language and words of the reference (no transcriber on this worker: keep what was given)."""
    model_id = transcriber(ctx)
    if model_id is None:
        return language, None
    with ctx.residency.use(model_id) as engine:
        segments, info = engine.transcribe(
            audio.resample(reference.samples, REFERENCE_RATE, 16000),
            TranscribeOptions(language=language if getattr(engine, "multilingual", True) else "en"),
        )
        text = " ".join(s.text for s in segments).strip()
    return language or info.language, text or None


def _mark_voice(ctx: WorkerContext, voice_id: str, **values: Any) -> None:
    with ctx.session() as session:
        session.execute(update(Voice).where(Voice.id == voice_id).values(**values))


def enroll(job: JobContext) -> Outcome:
    req: CloneJob = job.request
    ctx = job.worker
    reference_key = f"voices/{job.account_id}/{req.voice_id}/reference.wav"
    try:
        with ExitStack() as stack:
            paths = [stack.enter_context(local_input(ctx.store, key)) for key in req.sample_keys]
            reference = load_reference(paths)
        job.progress(0.25, force=True)
        profile = measure(reference, speaker_encoder(ctx))
        job.progress(0.5, force=True)
        language, transcript = _transcribe_reference(ctx, reference, req.language)
        job.progress(0.75, force=True)
        wav = audio.encode(reference.samples, REFERENCE_RATE, "wav")
        digest = hashlib.sha256(wav).hexdigest()
        ctx.store.put_bytes(reference_key, wav, "audio/wav")
        voice = EnrolledVoice(
            id=req.voice_id,
            account_id=job.account_id,
            reference_key=reference_key,
            digest=digest,
            transcript=transcript,
            language=language,
            embedding=profile.get("embedding"),
        )
        with ctx.residency.use(job.model) as engine:
            enroll_for(ctx, engine, job.model, voice)
    except EngineError as exc:
        _mark_voice(ctx, req.voice_id, status="failed", error_message=str(exc))
        ctx.store.delete(reference_key)
        raise
    _mark_voice(
        ctx,
        req.voice_id,
        status="ready",
        language=language,
        transcript=transcript,
        profile=profile,
        reference_key=reference_key,
        reference_sha256=digest,
    )
    result = CloneResult(
        voice_id=req.voice_id,
        language=language,
        duration=reference.duration,
        speech_seconds=reference.speech_seconds,
        transcript=transcript,
        warnings=reference.warnings,
        conditioned=[job.model],
    )
    return Outcome(result=result)
