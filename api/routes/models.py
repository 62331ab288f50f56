"""GET /v1/models: every model id the engines declare, whether a live worker serves it, its voices and prices."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import AccountDep, AppState, StateDep
from api.errors import ModelNotFound
from api.validation import resolve_model_alias
from api.voices import aliases_for
from shared.catalog import MODELS, ModelSpec
from shared.schemas import ErrorResponse, ModelList, ModelPrices, ModelPublic
from shared.worker_registry import Fleet

router = APIRouter(prefix="/v1/models", tags=["models"])


def model_public(spec: ModelSpec, state: AppState, fleet: Fleet) -> ModelPublic:
    installed = state.fleet.installed(fleet, spec)
    prices = spec.prices
    voices = state.fleet.voices(fleet, spec) if spec.kind == "tts" else []
    describe = spec.describe_voice
    return ModelPublic(
        id=spec.id,
        kind=spec.kind,
        family=spec.family,
        description=spec.description,
        license=spec.license or None,
        installed=installed,
        live=fleet.is_live(spec.id),
        workers=len(fleet.serving(spec.id)),
        loaded=fleet.loaded(spec.id),
        bundled=spec.bundled,
        languages=list(spec.languages),
        voices=voices,
        voice_labels={v: labels for v in voices if describe and (labels := describe(v))},
        voice_aliases=aliases_for(state.settings, spec, voices),
        voice_blends=spec.voice_blends,
        can_clone=spec.can_clone,
        converts=spec.converts,
        emotions=spec.emotions,
        streaming=spec.streaming,
        install_hint=None if installed else spec.install_hint,
        prices=ModelPrices(
            per_1k_characters=prices.per_1k_chars if spec.kind == "tts" else None,
            per_audio_second=prices.per_audio_second if spec.kind in ("stt", "vc") or spec.converts else None,
            per_clone=prices.per_clone if spec.can_clone else None,
        ),
    )


@router.get("", operation_id="models-list", summary="List models", response_model=ModelList)
async def list_models(account: AccountDep, state: StateDep) -> ModelList:
    fleet = await state.fleet.current()
    data = [model_public(spec, state, fleet) for spec in MODELS.values()]
    for alias in state.settings.model_aliases:
        if (entry := await alias_public(alias, state, fleet)) is not None:
            data.append(entry)
    return ModelList(data=data)


async def alias_public(alias: str, state: AppState, fleet: Fleet) -> ModelPublic | None:
    """A configured model alias as its own entry (what the official SDKs list), carrying its target's fields."""
    if alias in MODELS:
        return None
    target = MODELS.get(await resolve_model_alias(state, alias, None))
    if target is None:
        return None
    return model_public(target, state, fleet).model_copy(update={"id": alias, "alias_of": target.id})


@router.get(
    "/{model_id}",
    operation_id="models-retrieve",
    summary="Get one model",
    response_model=ModelPublic,
    responses={404: {"model": ErrorResponse}},
)
async def get_model(model_id: str, account: AccountDep, state: StateDep) -> ModelPublic:
    fleet = await state.fleet.current()
    spec = MODELS.get(model_id)
    if spec is None:
        alias = await alias_public(model_id, state, fleet)
        if alias is None:
            raise ModelNotFound(f"Model '{model_id}' does not exist.", param="model_id")
        return alias
    return model_public(spec, state, fleet)
