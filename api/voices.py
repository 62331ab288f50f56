"""Resolving the `voice` of a speech request: preset names, configured aliases and cloned voice ids."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.errors import InvalidRequest, VoiceNotFound
from shared.catalog import MODELS, ModelSpec, is_installed, piper_voices
from shared.config import Settings
from shared.db.models import Account, Voice

CLONE_MODEL_PREFERENCE = ("fish-speech-v1.5", "xtts-v2", "openvoice-v2", "piper")


@dataclass(frozen=True)
class ResolvedVoice:
    preset: str  # the engine's own voice name (for a cloned voice on Piper: the base voice adapted)
    voice_id: str | None = None  # a cloned voice
    language: str | None = None


def presets(settings: Settings, spec: ModelSpec) -> list[str]:
    if spec.family == "piper":
        return piper_voices(settings.resolved_model_dir)
    return list(spec.voices)


def aliases_for(settings: Settings, spec: ModelSpec) -> dict[str, str]:
    """Alias -> preset, for the aliases whose target this model has."""
    available = set(presets(settings, spec))
    return {alias.lower(): target for alias, target in settings.voice_aliases.items() if target in available}


async def resolve_voice(
    session: AsyncSession, settings: Settings, account: Account, spec: ModelSpec, voice: str
) -> ResolvedVoice:
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
        if not spec.can_clone:
            raise InvalidRequest(
                f"Model '{spec.id}' cannot speak cloned voices; use one of "
                f"{', '.join(m.id for m in MODELS.values() if m.can_clone)}.",
                param="voice",
            )
        names = presets(settings, spec)
        return ResolvedVoice(preset=names[0] if names else "default", voice_id=row.id, language=row.language)
    names = presets(settings, spec)
    if voice in names:
        return ResolvedVoice(preset=voice)
    alias = aliases_for(settings, spec).get(voice.lower())
    if alias:
        return ResolvedVoice(preset=alias)
    if not names and spec.family != "piper":
        return ResolvedVoice(preset=voice)  # the engine knows its own speakers; it answers voice_not_found
    known = sorted(set(names) | set(aliases_for(settings, spec)))
    raise VoiceNotFound(
        f"Voice '{voice}' does not exist for model '{spec.id}'. Voices: {', '.join(known) or 'none'}; "
        "or a cloned voice id (voice_...).",
        param="voice",
    )


def default_clone_model(settings: Settings) -> str:
    if settings.default_clone_model:
        return settings.default_clone_model
    for model_id in CLONE_MODEL_PREFERENCE:
        if is_installed(MODELS[model_id], settings.resolved_model_dir):
            return model_id
    return CLONE_MODEL_PREFERENCE[0]
