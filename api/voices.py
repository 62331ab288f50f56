"""Resolving the `voice` of a speech request (preset names, configured aliases, cloned voice ids) and listing
the preset voices of the models live workers serve."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import AppState
from api.errors import InvalidRequest, VoiceNotFound
from shared.catalog import MODELS, ModelSpec
from shared.config import Settings
from shared.db.models import Account, Voice
from shared.jobkinds.clone import CloneJob
from shared.schemas import PresetVoice


@dataclass(frozen=True)
class ResolvedVoice:
    preset: str  # the engine's own voice name (for a cloned voice on Piper: the base voice adapted)
    voice_id: str | None = None  # a cloned voice
    language: str | None = None


def aliases_for(settings: Settings, spec: ModelSpec, names: list[str]) -> dict[str, str]:
    """Alias -> preset of one model: the aliases given for every model (`*`), then the model's own, kept where
    the target is among the model's presets."""
    available = set(names)
    merged = {**settings.voice_aliases.get("*", {}), **settings.voice_aliases.get(spec.id, {})}
    return {alias.lower(): target for alias, target in merged.items() if target in available}


_BLEND_PART = re.compile(r"^\s*([\w-]+)\s*(?:\(\s*(\d+(?:\.\d+)?)\s*\))?\s*$")
MAX_BLEND_VOICES = 5


def blend(voice: str, names: list[str], aliases: dict[str, str]) -> str | None:
    """A voice blend (`af_bella+af_sky`, `af_bella(2)+nova(1)`) with every part a preset or an alias, written in
    preset names; None when `voice` is not a blend of known voices."""
    parts = voice.split("+")
    if len(parts) > MAX_BLEND_VOICES or (len(parts) == 1 and "(" not in voice):
        return None
    out = []
    for part in parts:
        match = _BLEND_PART.match(part)
        if match is None:
            return None
        name = match.group(1) if match.group(1) in names else aliases.get(match.group(1).lower())
        if name is None:
            return None
        out.append(f"{name}({match.group(2)})" if match.group(2) else name)
    return "+".join(out)


async def model_presets(state: AppState, spec: ModelSpec) -> list[str]:
    return state.fleet.voices(await state.fleet.current(), spec)


async def preset_voices(state: AppState) -> list[PresetVoice]:
    """The preset voices of every speech model a live worker serves (or this server's disk has)."""
    fleet = await state.fleet.current()
    rows: list[PresetVoice] = []
    for spec in MODELS.values():
        if spec.kind != "tts" or not (fleet.is_live(spec.id) or state.fleet.installed_here(spec)):
            continue
        names = state.fleet.voices(fleet, spec)
        aliases = aliases_for(state.settings, spec, names)
        for name in names:
            labels = spec.describe_voice(name) if spec.describe_voice else {}
            rows.append(
                PresetVoice(
                    id=name,
                    model=spec.id,
                    name=name,
                    language=labels.get("language"),
                    labels={k: v for k, v in labels.items() if k != "language"},
                    aliases=sorted(a for a, t in aliases.items() if t == name),
                )
            )
    return rows


async def resolve_voice(
    session: AsyncSession, state: AppState, account: Account, spec: ModelSpec, voice: str
) -> ResolvedVoice:
    names = await model_presets(state, spec)
    if voice.startswith("voice_"):
        row = (
            await session.execute(select(Voice).where(Voice.id == voice, Voice.account_id == account.id))
        ).scalar_one_or_none()
        if row is None:
            raise VoiceNotFound(f"Voice '{voice}' does not exist; list yours with GET /v1/voices.", param="voice")
        if row.status != "ready":
            raise InvalidRequest(
                f"Voice '{voice}' is {row.status}"
                + (f": {row.error_message}" if row.error_message else "; wait until its status is ready."),
                param="voice",
            )
        if row.preset:  # a designed voice: its model's stock voice or blend
            if row.model != spec.id:
                raise InvalidRequest(
                    f"Voice '{voice}' is a closest-stock-voice design of model '{row.model}'; speak it with that "
                    "model.",
                    param="voice",
                )
            return ResolvedVoice(preset=row.preset, language=row.language)
        if not spec.can_clone:
            raise InvalidRequest(
                f"Model '{spec.id}' cannot speak cloned voices; use one of "
                f"{', '.join(m.id for m in MODELS.values() if m.can_clone)}.",
                param="voice",
            )
        return ResolvedVoice(preset=names[0] if names else "default", voice_id=row.id, language=row.language)
    if voice in names:
        return ResolvedVoice(preset=voice)
    aliases = aliases_for(state.settings, spec, names)
    alias = aliases.get(voice.lower())
    if alias:
        return ResolvedVoice(preset=alias)
    if spec.voice_blends and (mixed := blend(voice, names, aliases)):
        return ResolvedVoice(preset=mixed)
    if not names and (spec.find_voices is None or spec.id in state.settings.models_on_demand):
        # the engine knows its own speakers (or its pool is at zero and no worker has told us yet): it answers
        # voice_not_found for a name it does not have
        return ResolvedVoice(preset=voice)
    known = sorted(set(names) | set(aliases))
    blends = f"; or a blend of up to {MAX_BLEND_VOICES} of them (a+b, a(2)+b(1))" if spec.voice_blends else ""
    raise VoiceNotFound(
        f"Voice '{voice}' does not exist for model '{spec.id}'. Voices: {', '.join(known) or 'none'}{blends}; "
        "or a cloned voice id (voice_...).",
        param="voice",
    )


async def default_clone_model(state: AppState) -> str:
    """DEFAULT_CLONE_MODEL, else the preferred clone-capable model a live worker serves (else the preferred one)."""
    if state.settings.default_clone_model:
        return state.settings.default_clone_model
    fleet = await state.fleet.current()
    cloners = sorted((m for m in MODELS.values() if m.can_clone), key=lambda m: -m.preference)
    live = [m for m in cloners if fleet.is_live(m.id)]
    return (live or cloners)[0].id


def new_voice(request: CloneJob, account_id: str, model: str) -> Voice:
    """The row of a voice being cloned (by the clone route or a batch line), from its job's request."""
    return Voice(
        id=request.voice_id,
        account_id=account_id,
        name=request.name,
        model=model,
        language=request.language,
        status="processing",
        description=request.description,
        labels=request.labels or None,
        samples=request.samples,
        consent=request.consent,
    )
