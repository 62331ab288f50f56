"""Voice enrollment: the model-independent work once per voice, then the clone model's own conditioning.

Model-independent: check and loudness-normalise the samples, measure the speaker embedding, find the language
and transcript (the best Whisper on this worker). Then the clone model's engine computes its conditioning from
the normalised reference (`enroll`), which is stored; other clone-capable models compute theirs on first use.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

import numpy as np
from sqlalchemy import update

from shared import audio
from shared.catalog import MODELS
from shared.db.models import Voice
from shared.jobkinds.clone import CloneJob, CloneResult
from workers.consent import MAX_PHRASE_WER, MIN_SPEAKER_SIMILARITY, check_recording
from workers.engines.base import Conditioning, EngineError, InvalidInput, SynthesisOptions, TranscribeOptions
from workers.enroll import REFERENCE_RATE, Reference, measure
from workers.runner import JobContext, Outcome, WorkerContext, local_input
from workers.synthesis import synthesize_pieces
from workers.voices import EnrolledVoice, enroll_for, stored_reference

PREVIEW_TEXT = "Hello! This is a short preview of my voice, made from the samples you gave."

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


def campplus_encoder(ctx: WorkerContext) -> Any:
    """The CAM++ speaker encoder (from MODEL_DIR, else its package), loaded once per process."""
    from workers.engines.segmentation_diarizer import SegmentationDiarizer

    return ctx.component("campplus_encoder", lambda: SegmentationDiarizer.load(ctx.settings.resolved_model_dir))


def _verify_consent(ctx: WorkerContext, req: CloneJob, reference: Reference) -> dict[str, Any]:
    """The consent recording must say the phrase in the samples' voice (workers/consent.py)."""
    assert req.consent_key and req.consent_phrase
    model_id = transcriber(ctx)
    if model_id is None:
        raise InvalidInput(
            "Consent recordings are checked by transcribing them, and this worker has no speech-to-text model; "
            "install whisper-base on the clone model's workers (`s2s models install whisper-base`)."
        )

    def transcribe(samples: np.ndarray) -> str:
        with ctx.residency.use(model_id) as engine:
            segments, _ = engine.transcribe(samples, TranscribeOptions(language=None))
            return " ".join(s.text for s in segments)

    samples = audio.resample(reference.samples, REFERENCE_RATE, 16000)
    with local_input(ctx.store, req.consent_key) as path:
        check = check_recording(path, req.consent_phrase, samples, campplus_encoder(ctx).embed, transcribe)
    if not check.passed:
        problems = []
        if check.phrase_wer > MAX_PHRASE_WER:
            problems.append(f"it does not say the consent phrase (heard: '{check.transcript}')")
        if check.speaker_similarity < MIN_SPEAKER_SIMILARITY:
            problems.append(
                f"its voice does not match the samples (similarity {check.speaker_similarity:.2f}, "
                f"at least {MIN_SPEAKER_SIMILARITY} needed)"
            )
        raise InvalidInput(
            "The consent recording was not accepted: " + "; ".join(problems) + f". The speaker of the samples "
            f"must read: '{req.consent_phrase}'."
        )
    return check.record(req.consent_phrase)


def _preview(ctx: WorkerContext, engine: Any, voice: EnrolledVoice, conditioning: Conditioning) -> bytes | None:
    """A few seconds of the new voice (mp3) for GET /v1/voices/{id}/preview; a failure only skips it."""
    presets = engine.voices() if hasattr(engine, "voices") else []
    options = SynthesisOptions(
        voice=presets[0] if presets else "default", voice_id=voice.id, conditioning=conditioning, language="en"
    )
    try:
        pieces = list(synthesize_pieces(engine, PREVIEW_TEXT, options))
    except EngineError as exc:
        log.warning("no preview for voice %s: %s", voice.id, exc)
        return None
    samples = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.float32)
    return audio.encode(samples, int(engine.sample_rate), "mp3") if samples.size else None


def mark_voice(ctx: WorkerContext, voice_id: str, **values: Any) -> None:
    with ctx.session() as session:
        session.execute(update(Voice).where(Voice.id == voice_id).values(**values))


def enroll(job: JobContext) -> Outcome:
    req: CloneJob = job.request
    ctx = job.worker
    reference_key = f"voices/{job.account_id}/{req.voice_id}/reference.wav"
    preview_key: str | None = None
    consent: dict[str, Any] | None = None
    try:
        reference = stored_reference(ctx, req.sample_keys)
        job.progress(0.25, force=True)
        profile = measure(reference, speaker_encoder(ctx))
        if req.consent_key:
            consent = _verify_consent(ctx, req, reference)
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
            conditioning = enroll_for(ctx, engine, job.model, voice)
            preview = _preview(ctx, engine, voice, conditioning)
        if preview is not None:
            preview_key = f"voices/{job.account_id}/{req.voice_id}/preview.mp3"
            ctx.store.put_bytes(preview_key, preview, "audio/mpeg")
    except EngineError as exc:
        mark_voice(ctx, req.voice_id, status="failed", error_message=str(exc))
        ctx.store.delete(reference_key)
        raise
    extra: dict[str, Any] = {"preview_key": preview_key}
    if consent is not None:
        extra["consent"] = {**(req.consent or {}), **consent}  # the attestation the API recorded, then the check
    mark_voice(
        ctx,
        req.voice_id,
        **extra,
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
        consent=consent,
        preview=preview_key is not None,
    )
    return Outcome(result=result)
