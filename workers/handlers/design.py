"""Closest stock voice: rank a blendable model's stock voices by speaker-embedding similarity to a reference, mix
the closest, and keep the mix only where it sounds closer than the single best voice.

Each stock voice is described once by the embeddings of a calibration sentence it speaks (CAM++ ranks; resemblyzer
is reported beside it), kept in the process and in the object store, so a second design costs one synthesis.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import numpy as np

from shared import audio
from shared.jobkinds.design import Candidate, DesignJob, DesignResult
from workers.engines.base import EngineError, InvalidInput, SynthesisOptions
from workers.enroll import REFERENCE_RATE, cosine
from workers.handlers.clone import campplus_encoder, mark_voice, speaker_encoder
from workers.runner import JobContext, Outcome, WorkerContext
from workers.synthesis import synthesize_pieces
from workers.voices import stored_reference

log = logging.getLogger(__name__)

CALIBRATION = {  # two to three seconds of speech per voice
    "en": "The birch canoe slid on the smooth planks.",
    "es": "La canoa se deslizó sobre las tablas lisas.",
    "fr": "Le canoë glissait sur les planches lisses.",
    "hi": "नाव चिकने तख्तों पर फिसल गई।",
    "it": "La canoa scivolava sulle assi lisce.",
    "ja": "カヌーは滑らかな板の上を滑りました。",
    "pt": "A canoa deslizou sobre as tábuas lisas.",
    "zh": "独木舟在光滑的木板上滑行。",
}
PROBE_TEXT = CALIBRATION["en"]
EMBEDDINGS_VERSION = 1
SHARPNESS = 0.05  # softmax temperature over CAM++ similarities: closer voices weigh exponentially more


def _embed(ctx: WorkerContext, samples_16k: np.ndarray) -> dict[str, np.ndarray]:
    return {
        "campplus": np.asarray(campplus_encoder(ctx).embed(samples_16k), dtype=np.float64),
        "resemblyzer": np.asarray(speaker_encoder(ctx).embed_utterance(samples_16k), dtype=np.float64),
    }


def _speak(engine: Any, voice: str, text: str, language: str | None) -> np.ndarray:
    pieces = list(synthesize_pieces(engine, text, SynthesisOptions(voice=voice, language=language)))
    out = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.float32)
    return audio.resample(out, int(engine.sample_rate), 16000)


def stock_embeddings(
    ctx: WorkerContext, engine: Any, model_id: str, voices: list[str], progress: Any = None
) -> dict[str, dict[str, np.ndarray]]:
    """voice -> encoder -> embedding of each of `voices` speaking its language's calibration sentence."""
    cache: dict[str, dict[str, np.ndarray]] = ctx.component(f"stock-embeddings:{model_id}", dict)
    key = f"models/{model_id}/stock-embeddings-v{EMBEDDINGS_VERSION}.json"
    if not cache:
        try:
            stored = json.loads(ctx.store.get_bytes(key))
            cache.update({v: {k: np.asarray(e) for k, e in embs.items()} for v, embs in stored.items()})
        except Exception:  # not made yet (or unreadable): computed below
            pass
    missing = [v for v in voices if v not in cache]
    if missing:
        describe = engine.spec.describe_voice
        for index, voice in enumerate(missing):
            if progress is not None:
                progress(0.2 + 0.5 * index / len(missing))
            language = (describe(voice) if describe else {}).get("language", "en")
            try:
                cache[voice] = _embed(ctx, _speak(engine, voice, CALIBRATION.get(language, PROBE_TEXT), language))
            except EngineError as exc:  # e.g. Japanese without its extra: that voice is not a candidate
                log.warning("stock voice %s not described: %s", voice, exc)
        data = {v: {k: e.tolist() for k, e in embs.items()} for v, embs in cache.items()}
        ctx.store.put_bytes(key, json.dumps(data).encode(), "application/json")
    return {v: cache[v] for v in voices if v in cache}


def choose(
    reference: dict[str, np.ndarray], stock: dict[str, dict[str, np.ndarray]], voices: list[str], blend: int
) -> tuple[list[Candidate], str]:
    """The candidates ranked by CAM++ similarity, and the blend of the `blend` closest (softmax weights)."""
    ranked = sorted(
        (Candidate(voice=v, similarity=round(cosine(reference["campplus"], stock[v]["campplus"]), 4)) for v in voices),
        key=lambda c: -c.similarity,
    )
    top = ranked[:blend]
    if len(top) == 1:
        return ranked, top[0].voice
    scores = np.array([c.similarity for c in top])
    weights = np.exp((scores - scores.max()) / SHARPNESS)
    weights /= weights.sum()
    kept = [(c.voice, w) for c, w in zip(top, weights, strict=True) if w >= 0.05]
    if len(kept) == 1:
        return ranked, kept[0][0]
    return ranked, "+".join(f"{v}({w:.2f})" for v, w in kept)


def design(job: JobContext) -> Outcome:
    req: DesignJob = job.request
    ctx = job.worker
    try:
        reference = stored_reference(ctx, req.sample_keys)
        ref = _embed(ctx, audio.resample(reference.samples, REFERENCE_RATE, 16000))
        job.progress(0.2, force=True)
        with ctx.residency.use(job.model) as engine:
            describe = engine.spec.describe_voice
            labels = {v: describe(v) if describe else {} for v in engine.voices()}
            wanted = [
                v
                for v, known in labels.items()
                if (req.language is None or known.get("language") == req.language)
                and (req.gender is None or known.get("gender") == req.gender)
            ]
            stock = stock_embeddings(ctx, engine, job.model, wanted, job.progress)
            voices = list(stock)
            if not voices:
                raise InvalidInput(
                    f"Model '{job.model}' has no stock voice that is {req.language or ''} {req.gender or ''}."
                )
            job.progress(0.7, force=True)
            ranked, chosen = choose(ref, stock, voices, req.blend)
            similarity = {k: round(cosine(ref[k], e), 4) for k, e in stock[ranked[0].voice].items()}
            if chosen != ranked[0].voice:  # keep the mix only where it is closer than the best voice alone
                mixed = _embed(ctx, _speak(engine, chosen, PROBE_TEXT, None))
                mixed_similarity = {k: round(cosine(ref[k], e), 4) for k, e in mixed.items()}
                if mixed_similarity["campplus"] >= similarity["campplus"]:
                    similarity = mixed_similarity
                else:
                    chosen = ranked[0].voice
    except EngineError as exc:
        mark_voice(ctx, req.voice_id, status="failed", error_message=str(exc))
        raise
    profile = {"design": {"voice": chosen, "similarity": similarity}, "duration": reference.duration}
    mark_voice(ctx, req.voice_id, status="ready", preset=chosen, profile=profile)
    result = DesignResult(voice_id=req.voice_id, voice=chosen, similarity=similarity, candidates=ranked[:8])
    return Outcome(result=result)
