"""GET /v1/models: every model id of the contract plus the bundled ones, with installed state and prices."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import AccountDep, SettingsDep
from api.errors import ModelNotFound
from shared.catalog import MODELS, ModelSpec, is_installed, piper_voices
from shared.config import Settings
from shared.schemas import ErrorResponse, ModelList, ModelPrices, ModelPublic

router = APIRouter(prefix="/v1/models", tags=["models"])


def model_public(spec: ModelSpec, settings: Settings) -> ModelPublic:
    model_dir = settings.resolved_model_dir
    installed = is_installed(spec, model_dir)
    return ModelPublic(
        id=spec.id,
        kind=spec.kind,
        family=spec.family,
        description=spec.description,
        installed=installed,
        bundled=spec.bundled,
        languages=list(spec.languages),
        voices=piper_voices(model_dir) if spec.family == "piper" else [],
        can_clone=spec.can_clone,
        emotions=spec.emotions,
        install_hint=None if installed else spec.install_hint,
        prices=ModelPrices(
            per_1k_characters=spec.price_per_1k_chars if spec.kind == "tts" else None,
            per_audio_second=spec.price_per_audio_second if spec.kind == "stt" else None,
            per_clone=spec.clone_price if spec.can_clone else None,
        ),
    )


@router.get("", operation_id="models-list", summary="List models", response_model=ModelList)
async def list_models(account: AccountDep, settings: SettingsDep) -> ModelList:
    return ModelList(data=[model_public(spec, settings) for spec in MODELS.values()])


@router.get(
    "/{model_id}",
    operation_id="models-retrieve",
    summary="Get one model",
    response_model=ModelPublic,
    responses={404: {"model": ErrorResponse}},
)
async def get_model(model_id: str, account: AccountDep, settings: SettingsDep) -> ModelPublic:
    spec = MODELS.get(model_id)
    if spec is None:
        raise ModelNotFound(f"Model '{model_id}' does not exist.", param="model_id")
    return model_public(spec, settings)
