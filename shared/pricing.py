"""What a job costs, from the catalog's prices: per 1000 characters (TTS), per audio second (STT), flat per clone.

Money is integer micro-credits (1 credit = 1,000,000 micro-credits), so sums and comparisons are exact on every
database; costs round up to the next micro-credit. Each job kind's price rule (shared/jobkinds) prices its estimate
(when it is created, from its request) and its actual cost (when it succeeds, from its result) with these.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal, InvalidOperation

from shared.catalog import ModelSpec

MICROS_PER_CREDIT = 1_000_000
_MICROS = Decimal(MICROS_PER_CREDIT)


@dataclass(frozen=True)
class Cost:
    """A job's price in micro-credits and the units it was priced on."""

    micros: int
    characters: int | None = None
    audio_seconds: float | None = None


def to_micros(credits: Decimal | int | float | str) -> int:
    """Credits (a number or decimal string, at most 6 decimal places) as exact micro-credits."""
    try:
        value = Decimal(str(credits))
    except InvalidOperation as exc:
        raise ValueError(f"'{credits}' is not a number of credits") from exc
    if not value.is_finite():
        raise ValueError(f"'{credits}' is not a number of credits")
    micros = value * _MICROS
    if micros != micros.to_integral_value():
        raise ValueError(f"{credits} has more than 6 decimal places; credits are counted in millionths")
    return int(micros)


def to_credits(micros: int) -> float:
    """Micro-credits as a JSON-friendly number of credits (exact for any balance below 9 billion credits)."""
    return micros / MICROS_PER_CREDIT


def format_credits(micros: int) -> str:
    """Micro-credits as a decimal string without trailing zeros, e.g. `12.5`."""
    text = f"{Decimal(micros) / _MICROS:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _ceil_micros(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_CEILING))


def _price(value: float) -> Decimal:
    return Decimal(str(value)) * _MICROS


def tts_cost(spec: ModelSpec, text: str | int) -> Cost:
    """Synthesis of `text` (or of that many characters)."""
    characters = text if isinstance(text, int) else len(text)
    return Cost(_ceil_micros(_price(spec.prices.per_1k_chars) * characters / 1000), characters=characters)


def stt_cost(spec: ModelSpec, audio_seconds: float) -> Cost:
    """Transcription (or conversion) of `audio_seconds` of audio."""
    if not math.isfinite(audio_seconds) or audio_seconds < 0:
        audio_seconds = 0.0
    seconds = round(audio_seconds, 3)
    return Cost(_ceil_micros(_price(spec.prices.per_audio_second) * Decimal(str(seconds))), audio_seconds=seconds)


def clone_cost(spec: ModelSpec) -> Cost:
    """One voice clone (flat)."""
    return Cost(_ceil_micros(_price(spec.prices.per_clone)))
