"""Prices from the catalog, in exact micro-credits."""

from __future__ import annotations

from decimal import Decimal

import pytest

from shared.catalog import MODELS
from shared.jobkinds import job_kind
from shared.pricing import Cost, clone_cost, format_credits, stt_cost, to_credits, to_micros, tts_cost
from shared.transcripts import Transcript


def actual(kind: str, model: str, request: dict[str, object], result: dict[str, object] | None) -> Cost:
    """A kind's price rule on a stored request and result, as settlement applies it."""
    job = job_kind(kind)
    return job.actual(MODELS[model], job.parse_request(request), job.parse_result(result))


def test_tts_is_priced_per_thousand_characters_rounded_up() -> None:
    piper, fish = MODELS["piper"], MODELS["fish-speech-v1.5"]
    assert tts_cost(piper, "x" * 1000).micros == 1_000_000
    assert tts_cost(piper, "héllo").micros == 5_000 and tts_cost(piper, "héllo").characters == 5
    assert tts_cost(fish, 1).micros == 15_000
    assert tts_cost(MODELS["xtts-v2"], 3).micros == 30_000


def test_stt_is_priced_per_audio_second() -> None:
    base = MODELS["whisper-base"]
    assert stt_cost(base, 11.0).micros == 220_000
    assert stt_cost(base, 0.00004).micros == 0  # rounded to the millisecond first
    assert stt_cost(base, 2.001).micros == 40_020 and stt_cost(base, 2.0004).micros == 40_000
    assert stt_cost(base, float("nan")).micros == 0


def test_clone_is_flat() -> None:
    assert clone_cost(MODELS["piper"]).micros == 10_000_000
    clone = {"voice_id": "voice_x", "name": "x", "input_keys": ["k"]}
    assert actual("clone", "openvoice-v2", clone, None).micros == 50_000_000


def test_actual_cost_reads_the_result_then_the_request() -> None:
    speech = {"input": "abc", "voice": "joe"}
    result = {"duration": 1.0, "sample_rate": 22050, "format": "mp3", "bytes": 10, "characters": 10}
    assert actual("tts", "piper", speech, result).micros == 10_000
    assert actual("tts", "piper", speech, None).micros == 3_000
    # transcription bills the decoded duration, whatever the container's header claimed
    stt = {"header_duration": 1.0, "input_keys": ["k"]}
    decoded = Transcript(text="", duration=150.0).model_dump()
    assert actual("stt", "whisper-tiny.en", stt, decoded).micros == 1_500_000
    assert actual("stt", "whisper-tiny.en", stt, None).micros == 10_000


def test_estimates_come_from_the_request() -> None:
    stt = job_kind("stt")
    assert stt.estimate(MODELS["whisper-base"], stt.request(header_duration=11.0)).micros == 220_000
    tts = job_kind("tts")
    assert tts.estimate(MODELS["piper"], tts.request(input="x" * 2000, voice="joe")).micros == 2_000_000


@pytest.mark.parametrize(
    ("value", "micros"), [("1", 1_000_000), ("0.000001", 1), (2.5, 2_500_000), (Decimal("-3"), -3_000_000)]
)
def test_credit_amounts_are_exact(value: object, micros: int) -> None:
    assert to_micros(value) == micros  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["0.0000001", "abc", "nan", "inf"])
def test_bad_amounts_are_refused(value: str) -> None:
    with pytest.raises(ValueError):
        to_micros(value)


def test_formatting() -> None:
    assert format_credits(2_500_000) == "2.5" and format_credits(1) == "0.000001" and format_credits(0) == "0"
    assert to_credits(100_000) == 0.1
