"""Kokoro-82M through the platform: intelligible voices (Whisper reads them back), OpenAI's voice and model names,
voice labels and blends, languages, speed, and speech that streams by default as OpenAI's route does."""

from __future__ import annotations

import importlib.util
import io
import time
from typing import Any

import httpx
import numpy as np
import openai
import pytest

from shared import audio
from shared.config import Settings
from tests.text import wer

pytestmark = pytest.mark.integration

HARVARD = (
    "The birch canoe slid on the smooth planks. Glue the sheet to the dark blue background. "
    "It's easy to tell the depth of a well."
)


async def speak(client: httpx.AsyncClient, auth: dict[str, str], **body: Any) -> httpx.Response:
    full = {"model": "kokoro", "voice": "af_heart", "input": HARVARD, "response_format": "wav", "stream": False}
    return await client.post("/v1/audio/speech", headers=auth, json={**full, **body})


async def transcribe(client: httpx.AsyncClient, auth: dict[str, str], data: bytes, **form: str) -> dict[str, Any]:
    r = await client.post(
        "/v1/audio/transcriptions",
        headers=auth,
        files={"file": ("k.wav", data)},
        data={"model": "whisper-base", "response_format": "verbose_json", **form},
    )
    assert r.status_code == 200, r.text
    return dict(r.json())


def samples(data: bytes) -> np.ndarray:
    return audio.decode(io.BytesIO(data), sample_rate=24000)


@pytest.mark.parametrize("voice", ["af_nova", "bm_fable", "am_onyx"])
async def test_kokoro_voices_are_intelligible(client: httpx.AsyncClient, auth: dict[str, str], voice: str) -> None:
    r = await speak(client, auth, voice=voice)
    assert r.status_code == 200, r.text
    info = audio.probe(io.BytesIO(r.content))
    assert info.sample_rate == 24000 and 5.0 < info.duration < 15.0
    heard = await transcribe(client, auth, r.content)
    error = wer(HARVARD, heard["text"])
    print(f"{voice}: WER {error:.3f}: {heard['text']}")
    assert error <= 0.10


async def test_openai_names_reach_kokoro_and_piper(
    client: httpx.AsyncClient, auth: dict[str, str], settings: Settings
) -> None:
    from shared.db.models import Job
    from shared.db.session import session_scope

    for model, voice, engine, preset in (("tts-1-hd", "nova", "kokoro", "af_nova"), ("tts-1", "nova", "piper", "joe")):
        r = await speak(client, auth, model=model, voice=voice, input="Hello there.")
        assert r.status_code == 200, r.text
        with session_scope(settings.sync_database_url) as session:  # the job the worker ran
            job = session.get(Job, r.headers["x-job-id"])
            assert job is not None and job.model == engine and job.request["voice"] == preset, job.request
    # OpenAI's names for different voices are different Kokoro voices
    nova, onyx = [await speak(client, auth, voice=v, input="Good morning.") for v in ("nova", "onyx")]
    assert nova.status_code == onyx.status_code == 200
    assert nova.content != onyx.content


async def test_voices_and_models_list_labels_and_aliases(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    presets = (await client.get("/v1/voices", headers=auth)).json()["presets"]
    kokoro = {p["id"]: p for p in presets if p["model"] == "kokoro"}
    assert len(kokoro) == 54
    assert kokoro["af_nova"]["language"] == "en" and "nova" in kokoro["af_nova"]["aliases"]
    assert kokoro["af_nova"]["labels"] == {"accent": "American", "gender": "female"}
    assert kokoro["ff_siwis"]["language"] == "fr" and kokoro["jm_kumo"]["labels"]["gender"] == "male"
    models = {m["id"]: m for m in (await client.get("/v1/models", headers=auth)).json()["data"]}
    model = models["kokoro"]
    assert model["voice_blends"] and not model["emotions"] and model["license"] == "Apache-2.0"
    assert model["voice_labels"]["bm_george"] == {"language": "en", "accent": "British", "gender": "male"}
    assert model["voice_aliases"]["alloy"] == "af_alloy"
    assert models["tts-1-hd"]["alias_of"] == "kokoro" and models["tts-1"]["alias_of"] == "piper"
    assert models["whisper-1"]["alias_of"] == "whisper-base"  # the best Whisper a worker runs here
    one = await client.get("/v1/models/gpt-4o-mini-tts", headers=auth)
    assert one.status_code == 200 and one.json()["alias_of"] == "kokoro"


async def test_blends_mix_voices(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    text = "Blending two voices."
    voices = ("af_bella", "af_sky", "af_bella(2)+af_sky(1)")
    bella, sky, mixed = [await speak(client, auth, voice=v, input=text) for v in voices]
    assert bella.status_code == sky.status_code == mixed.status_code == 200, mixed.text
    assert len({bella.content, sky.content, mixed.content}) == 3
    heard = await transcribe(client, auth, mixed.content)
    assert wer(text, heard["text"]) <= 0.34
    bad = await speak(client, auth, voice="af_bella+nobody")
    assert bad.status_code == 404 and bad.json()["error"]["code"] == "voice_not_found"
    assert "blend" in bad.json()["error"]["message"]


async def test_emotion_is_refused_not_pretended(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    r = await speak(client, auth, emotion="happy")
    assert r.status_code == 400 and r.json()["error"]["param"] == "emotion"
    assert (await speak(client, auth, emotion="neutral", input="Calm.")).status_code == 200


async def test_text_language_chooses_the_phonemizer(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    spanish = "Hola, me llamo Dora. Hoy hace muy buen tiempo en la ciudad."
    r = await speak(client, auth, voice="ef_dora", input=spanish)
    assert r.status_code == 200, r.text
    heard = await transcribe(client, auth, r.content)
    assert heard["language"] == "es", heard
    assert wer(spanish, heard["text"]) <= 0.25, heard["text"]
    # an English voice reading Spanish: phonemized as Spanish, spoken in the voice's own timbre
    fallback = await speak(client, auth, voice="af_heart", input=spanish, language="es")
    assert fallback.status_code == 200
    assert (await transcribe(client, auth, fallback.content))["language"] == "es"
    german = await speak(client, auth, input="Guten Tag.", language="de")
    assert german.status_code == 400 and german.json()["error"]["param"] == "language"


JAPANESE = ["今日はいい天気ですね。散歩に行きましょう。", "東京は日本の首都です。", "駅までは歩いて十分です。"]


@pytest.mark.skipif(importlib.util.find_spec("pyopenjtalk") is None, reason="needs the kokoro-ja extra")
async def test_japanese_is_intelligible(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    """Kokoro's Japanese voices read kana and kanji (OpenJTalk readings); Whisper-base hears them back, compared
    as kana (character error rate), so a right word in other kanji still counts as right."""
    import jiwer
    import pyopenjtalk

    def kana(text: str) -> str:
        return "".join(c for c in pyopenjtalk.g2p(text, kana=True) if c not in "、。？！ ,.")

    errors = []
    for voice, text in zip(("jf_alpha", "jm_kumo", "jf_nezumi"), JAPANESE, strict=True):
        r = await speak(client, auth, voice=voice, input=text)  # the script says Japanese: no language needed
        assert r.status_code == 200, r.text
        heard = await transcribe(client, auth, r.content, language="ja")
        errors.append(jiwer.cer(kana(text), kana(heard["text"])))
        print(voice, text, "->", heard["text"], f"kana CER {errors[-1]:.3f}")
    assert float(np.mean(errors)) <= 0.2


async def test_stream_format_sse_alone_streams(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    r = await client.post(
        "/v1/audio/speech",
        headers=auth,
        json={"model": "tts-1-hd", "voice": "alloy", "input": "Server-sent events.", "stream_format": "sse"},
    )
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    events = [line for line in r.text.splitlines() if line.startswith("data: ")]
    assert '"speech.audio.delta"' in events[0] and '"speech.audio.done"' in events[-1]


async def test_speed_changes_the_length(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    normal, fast = [await speak(client, auth, input="A short sentence to time.", speed=s) for s in (1.0, 1.5)]
    d_normal = audio.probe(io.BytesIO(normal.content)).duration
    d_fast = audio.probe(io.BytesIO(fast.content)).duration
    assert d_fast < 0.8 * d_normal, (d_normal, d_fast)


def test_speech_streams_by_default_to_the_openai_sdk(live_api: str, api_key: str) -> None:
    """The official SDK's with_streaming_response gets its first bytes while later sentences are still being
    synthesised: the job is still running when they arrive."""
    oa = openai.OpenAI(base_url=f"{live_api}/v1", api_key=api_key, max_retries=0)
    text = " ".join([HARVARD] * 2)
    started = time.monotonic()
    with oa.audio.speech.with_streaming_response.create(
        model="tts-1-hd", voice="nova", input=text, response_format="pcm"
    ) as response:
        assert "content-length" not in response.headers
        job_id = response.headers["x-job-id"]
        chunks = response.iter_bytes()
        first = next(chunks)
        first_at = time.monotonic() - started
        state = httpx.get(f"{live_api}/v1/jobs/{job_id}", headers={"Authorization": f"Bearer {api_key}"}).json()
        rest = b"".join(chunks)
    total = time.monotonic() - started
    print(f"first audio after {first_at:.2f} s of {total:.2f} s")
    assert state["status"] == "running", state
    seconds = (len(first) + len(rest)) / 2 / 24000
    assert seconds > 10.0
    # stream=false still gives the whole file with its length
    whole = httpx.post(
        f"{live_api}/v1/audio/speech",
        headers={"Authorization": f"Bearer {api_key}"},
        json={"model": "kokoro", "voice": "af_heart", "input": "Whole.", "stream": False, "response_format": "wav"},
        timeout=120,
    )
    assert whole.status_code == 200 and int(whole.headers["content-length"]) == len(whole.content)
