"""Cloned voices on the worker side: each engine's conditioning for a voice, computed once and reused.

Lookup order for (model, voice, reference digest): the process's residency cache, then the stored conditioning
(a `voice_conditionings` row and its .npz object), and only then the engine's `enroll` on the reference
recording, whose result is stored for every later job and every other worker.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from shared.db.models import Voice, VoiceConditioning
from shared.errors import ErrorCode
from workers.engines.base import Conditioning, EngineError, InvalidInput, VoiceReference
from workers.enroll import REFERENCE_RATE, Reference, load_reference
from workers.runner import WorkerContext, local_input

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EnrolledVoice:
    id: str
    account_id: str
    reference_key: str
    digest: str
    transcript: str | None
    language: str | None
    embedding: list[float] | None


def stored_reference(ctx: WorkerContext, keys: list[str]) -> Reference:
    """The samples in the object store, fetched, joined and checked as one reference (workers.enroll)."""
    with ExitStack() as stack:
        return load_reference([stack.enter_context(local_input(ctx.store, key)) for key in keys])


def conditioning_key(account_id: str, voice_id: str, model_id: str, digest: str) -> str:
    return f"voices/{account_id}/{voice_id}/conditioning/{model_id}-{digest[:16]}.npz"


def load_voice(ctx: WorkerContext, voice_id: str) -> EnrolledVoice:
    with ctx.session() as session:
        voice = session.get(Voice, voice_id)
    if voice is None or voice.status != "ready" or not voice.reference_key or not voice.reference_sha256:
        raise EngineError(f"Voice '{voice_id}' does not exist or is not ready.", code=ErrorCode.voice_not_found)
    return EnrolledVoice(
        id=voice.id,
        account_id=voice.account_id,
        reference_key=voice.reference_key,
        digest=voice.reference_sha256,
        transcript=voice.transcript,
        language=voice.language,
        embedding=(voice.profile or {}).get("embedding"),
    )


@contextmanager
def reference_of(ctx: WorkerContext, voice: EnrolledVoice) -> Iterator[VoiceReference]:
    """The voice's normalised reference recording as a local file."""
    with local_input(ctx.store, voice.reference_key) as path:
        yield VoiceReference(
            voice_id=voice.id,
            audio_path=path,
            sample_rate=REFERENCE_RATE,
            transcript=voice.transcript,
            language=voice.language,
            embedding=voice.embedding,
        )


def _encode(conditioning: Conditioning) -> bytes:
    buffer = io.BytesIO()
    arrays: dict[str, Any] = {name: np.asarray(value) for name, value in conditioning.items()}
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _decode(data: bytes) -> Conditioning:
    with np.load(io.BytesIO(data), allow_pickle=False) as archive:
        return {name: archive[name] for name in archive.files}


def _stored(ctx: WorkerContext, voice: EnrolledVoice, model_id: str) -> Conditioning | None:
    with ctx.session() as session:
        row = session.execute(
            select(VoiceConditioning).where(
                VoiceConditioning.voice_id == voice.id,
                VoiceConditioning.model == model_id,
                VoiceConditioning.digest == voice.digest,
            )
        ).scalar_one_or_none()
    if row is None:
        return None
    try:
        return _decode(ctx.store.get_bytes(row.object_key))
    except Exception:  # a lost or unreadable object is recomputed
        log.warning("stored conditioning %s of voice %s is unreadable; recomputing", row.object_key, voice.id)
        return None


def _store(ctx: WorkerContext, voice: EnrolledVoice, model_id: str, conditioning: Conditioning) -> None:
    data = _encode(conditioning)
    key = conditioning_key(voice.account_id, voice.id, model_id, voice.digest)
    ctx.store.put_bytes(key, data, "application/octet-stream")
    try:
        with ctx.session() as session:
            session.add(
                VoiceConditioning(
                    voice_id=voice.id, model=model_id, digest=voice.digest, object_key=key, bytes=len(data)
                )
            )
    except IntegrityError:  # another worker stored the same conditioning first: same key, same content
        pass


def enroll_for(ctx: WorkerContext, engine: object, model_id: str, voice: EnrolledVoice) -> Conditioning:
    """The engine's conditioning for the voice: cached, else stored, else computed (and stored)."""
    enroll = getattr(engine, "enroll", None)
    if enroll is None:
        raise InvalidInput(f"Model '{model_id}' cannot speak cloned voices.", code=ErrorCode.invalid_request)

    def compute() -> Conditioning:
        stored = _stored(ctx, voice, model_id)
        if stored is not None:
            return stored
        with reference_of(ctx, voice) as reference:
            conditioning = enroll(reference)
        _store(ctx, voice, model_id, conditioning)
        log.info("computed %s conditioning of voice %s", model_id, voice.id)
        return conditioning

    return ctx.residency.conditioning((model_id, voice.id, voice.digest), compute)
