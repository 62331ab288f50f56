"""Request checks shared by routes: model lookup (against the live workers), text cleaning, language codes."""

from __future__ import annotations

import re
import unicodedata

from api.deps import AppState
from api.errors import InvalidRequest, ModelNotFound, ModelNotInstalled, ModelUnavailable
from shared.catalog import MODELS, ModelSpec

# C0/C1 control characters except tab and newline; plus bidi overrides and other invisible format chars
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
_SPEAKABLE = re.compile(r"[^\W_]", re.UNICODE)  # a letter or a digit: "____" says nothing
_LANGUAGE = re.compile(r"^[a-z]{2,3}([-_][A-Za-z]{2,4})?$")


async def resolve_model_alias(state: AppState, model_id: str, kind: str | None) -> str:
    """The model id a configured alias (MODEL_ALIASES: OpenAI's names) stands for now; other ids unchanged."""
    target = state.settings.model_aliases.get(model_id)
    if model_id in MODELS or not target:
        return model_id
    if not target.startswith("auto"):
        return target
    family = target.partition(":")[2]
    candidates = sorted(
        (m for m in MODELS.values() if m.kind in ((kind,) if kind else ("tts", "stt")) and family in ("", m.family)),
        key=lambda m: -m.preference,
    )
    fleet = await state.fleet.current()
    live = [m for m in candidates if fleet.is_live(m.id)]
    installed = [m for m in candidates if state.fleet.installed(fleet, m)]
    best = live or installed or candidates
    return best[0].id if best else model_id


async def require_model(state: AppState, model_id: str, kind: str, *, live: bool = True) -> ModelSpec:
    """The catalog entry for model_id, checked for kind and for a live worker that serves it (`live=False`: only
    that its weights exist somewhere, as for a batch line, whose item waits for a worker).

    Unknown: 404 model_not_found. Known but its weights exist nowhere (no live worker has them, none had them
    recently, this server's disk lacks them): 404 model_not_installed with the install hint. Installed somewhere
    but no live worker serves it now: 503 model_unavailable with Retry-After, at once (never a silent wait).
    """
    model_id = await resolve_model_alias(state, model_id, kind)
    spec = MODELS.get(model_id)
    if spec is None:
        known = ", ".join(sorted(m.id for m in MODELS.values() if m.kind == kind or (kind == "vc" and m.converts)))
        raise ModelNotFound(f"Model '{model_id}' does not exist. Known models: {known}.", param="model")
    if spec.kind != kind and not (kind == "vc" and spec.converts):  # a TTS model with a converter converts too
        what = {
            "tts": "text-to-speech",
            "stt": "speech-to-text",
            "vc": "voice-conversion",
            "diarization": "diarization (component)",
        }[spec.kind]
        raise InvalidRequest(f"Model '{model_id}' is a {what} model and cannot serve this request.", param="model")
    fleet = await state.fleet.current()
    if fleet.is_live(spec.id) or spec.id in state.settings.models_on_demand:  # on demand: the queue starts a pool
        return spec
    if (fleet.hosted_without_weights(spec.id) and not fleet.recently_installed(spec.id)) or not state.fleet.installed(
        fleet, spec
    ):
        raise ModelNotInstalled(
            f"Model '{model_id}' is known but its weights are not installed on any worker. {spec.install_hint}",
            param="model",
        )
    if not live:
        return spec
    retry = max(1, round(state.settings.worker_heartbeat_seconds))
    raise ModelUnavailable(
        f"No worker serving model '{model_id}' is running right now. Retry shortly, or start one: "
        f"`s2s worker --models {model_id}` (GET /v1/models shows which models are live).",
        param="model",
        headers={"Retry-After": str(retry)},
    )


def clean_text(text: str, *, max_chars: int, param: str = "input") -> str:
    """Normalise input text for synthesis; reject what cannot be spoken or encoded."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidRequest(
            "The text contains invalid Unicode (an unpaired surrogate); send valid UTF-8 text.", param=param
        ) from exc
    text = unicodedata.normalize("NFC", text)
    text = _CONTROL.sub(" ", text).strip()
    if not text:
        raise InvalidRequest("The text is empty; send 1 to 5000 characters to speak.", param=param)
    if len(text) > max_chars:
        raise InvalidRequest(
            f"The text is {len(text)} characters long; the limit is {max_chars}. Split it into several requests "
            "or use a batch.",
            param=param,
        )
    if not _SPEAKABLE.search(text):
        raise InvalidRequest("The text has no letters or digits to speak.", param=param)
    return text


def check_language(spec: ModelSpec, language: str | None) -> str | None:
    if language is None or language == "":
        return None
    code = language.strip().lower()
    if not _LANGUAGE.match(code):
        raise InvalidRequest(f"'{language}' is not a language code; use ISO 639-1 such as 'en'.", param="language")
    code = code.split("-")[0].split("_")[0]
    if spec.languages and code not in spec.languages:
        raise InvalidRequest(
            f"Model '{spec.id}' only supports {', '.join(spec.languages)}; use a multilingual model such as "
            f"whisper-base for '{code}'.",
            param="language",
        )
    return code
