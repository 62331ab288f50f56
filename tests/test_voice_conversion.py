"""Speech to speech on real speech: re-voicing keeps the input's length, words and timing; two speakers get two
voices; dubbing speaks English; streaming, ElevenLabs' route, batches, billing per input second, and bad input."""

from __future__ import annotations

import base64
import io
import itertools
import json
import wave
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from shared import audio
from shared.config import Settings
from shared.jobs import TERMINAL
from tests.conversations import conversation
from tests.services import wait_job
from tests.test_batches import new_key, signing_endpoint, wait_batch
from tests.text import wer
from tests.webhook_receiver import webhook_receiver

pytestmark = pytest.mark.integration


async def convert(
    client: httpx.AsyncClient, auth: dict[str, str], content: bytes, name: str = "in.wav", **data: Any
) -> httpx.Response:
    """The conversion's answer; one that outlived the synchronous budget (202, on a loaded machine) is followed to
    its end and its audio fetched, with the job id in `x-job-id` as a 200 carries it."""
    form = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in data.items()}
    r = await client.post(
        "/v1/audio/voice-conversions", headers=auth, files={"file": (name, content)}, data=form, timeout=300
    )
    if r.status_code != 202:
        return r
    job = await wait_job(client, auth, r.json()["id"], set(TERMINAL), timeout=600)
    assert job["status"] == "succeeded", job
    result = await client.get(f"/v1/jobs/{job['id']}/result", headers=auth)
    result.headers["x-job-id"] = job["id"]
    return result


async def job_of(client: httpx.AsyncClient, auth: dict[str, str], response: httpx.Response) -> dict[str, Any]:
    r = await client.get(f"/v1/jobs/{response.headers['x-job-id']}", headers=auth)
    assert r.status_code == 200, r.text
    return r.json()


async def transcribe(client: httpx.AsyncClient, auth: dict[str, str], content: bytes) -> dict[str, Any]:
    r = await client.post(
        "/v1/audio/transcriptions",
        headers=auth,
        files={"file": ("out.wav", content)},
        data={"model": "whisper-base", "language": "en", "response_format": "verbose_json"},
    )
    assert r.status_code == 200, r.text
    return r.json()


def wav_samples(content: bytes) -> tuple[np.ndarray, int]:
    with wave.open(io.BytesIO(content)) as w:
        rate = w.getframerate()
        data = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
    return data.astype(np.float32) / 32768.0, rate


def onset(samples: np.ndarray, rate: int, start: float, end: float, threshold_db: float = -40.0) -> float | None:
    """The first 10 ms frame above the threshold within [start, end] seconds."""
    frame = rate // 100
    lo, hi = int(start * rate), int(end * rate)
    piece = samples[lo:hi]
    n = piece.size // frame
    if n == 0:
        return None
    energy = 20 * np.log10(np.sqrt(np.mean(np.square(piece[: n * frame].reshape(n, frame)), axis=1)) + 1e-9)
    loud = np.nonzero(energy > threshold_db)[0]
    return start + loud[0] * frame / rate if loud.size else None


@pytest.fixture(scope="module")
def two_speakers(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, list[tuple[float, float, str]]]:
    samples, turns = conversation("conversation_2spk")
    return audio.encode(samples, 16000, "wav"), turns


@pytest.fixture(scope="module")
async def voice_refs(client: httpx.AsyncClient, auth: dict[str, str]) -> Callable[[str], np.ndarray]:
    """Each target voice reading a reference passage (16 kHz), to compare the output with."""
    cache: dict[str, np.ndarray] = {}
    text = (
        "The birch canoe slid on the smooth planks. Glue the sheet to the dark blue background. "
        "It is easy to tell the depth of a well. These days a chicken leg is a rare dish."
    )
    for voice in ("af_bella", "am_michael"):
        r = await client.post(
            "/v1/audio/speech",
            headers=auth,
            json={"model": "kokoro", "voice": voice, "input": text, "response_format": "wav", "stream": False},
        )
        assert r.status_code == 200, r.text
        samples, rate = wav_samples(r.content)
        cache[voice] = audio.resample(samples, rate, 16000)
    return cache.__getitem__


def embedder() -> Callable[[np.ndarray], np.ndarray]:
    from resemblyzer import VoiceEncoder

    encoder = VoiceEncoder("cpu", verbose=False)
    return lambda samples: encoder.embed_utterance(samples)


# --- re-voicing one speaker --------------------------------------------------------------------------------------


async def test_revoice_keeps_length_words_and_timing(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    make_key: Callable[[str], str],
    testdata: Path,
    voice_refs: Callable[[str], np.ndarray],
) -> None:
    billed = {"Authorization": f"Bearer {make_key('vc-billing')}"}
    source = (testdata / "jfk.flac").read_bytes()
    r = await convert(client, billed, source, "jfk.flac", voice="af_bella", response_format="wav")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "audio/wav"
    out, rate = wav_samples(r.content)
    assert rate == 24000  # the voice's own rate
    job = await job_of(client, billed, r)
    assert job["kind"] == "vc" and job["model"] == "revoice" and job["status"] == "succeeded"
    result = job["result"]
    assert result["method"] == "revoice" and result["language"] == "en"
    assert result["input_duration"] == pytest.approx(11.0, abs=0.05)
    assert out.size / rate == pytest.approx(result["input_duration"], rel=0.02)  # as long as the input
    phrases = result["phrases"]
    assert len(phrases) >= 3 and all(p["voice"] == "af_bella" for p in phrases)
    # intelligible: whisper reads the source's words back from the new voice
    heard = await transcribe(client, auth, r.content)
    score = wer((testdata / "jfk.txt").read_text(), heard["text"])
    print(f"re-voiced jfk: WER {score:.3f}, {len(phrases)} phrases")
    assert score <= 0.25
    # each phrase starts where its source did, and the pauses between them stay silent
    offsets = []
    for phrase in phrases:
        start = onset(out, rate, max(0.0, phrase["source_start"] - 0.3), phrase["source_end"])
        assert start is not None, phrase
        offsets.append(abs(start - phrase["source_start"]))
    print(f"mean phrase-start offset {np.mean(offsets) * 1000:.0f} ms")
    assert np.mean(offsets) <= 0.1
    for before, after in itertools.pairwise(phrases):
        if after["source_start"] - before["end"] >= 0.4:
            mid = int((before["end"] + after["source_start"]) / 2 * rate)
            gap = out[mid - rate // 20 : mid + rate // 20]
            assert np.sqrt(np.mean(np.square(gap))) < 0.01, (before, after)
    # it sounds like the target voice, not like the source speaker
    embed = embedder()
    converted = embed(audio.resample(out, rate, 16000))
    to_target = float(converted @ embed(voice_refs("af_bella")))
    to_source = float(converted @ embed(audio.decode(io.BytesIO(source), sample_rate=16000)))
    print(f"similarity to the target {to_target:.3f}, to the source {to_source:.3f}")
    assert to_target > to_source
    # the transcript of what the output says, with its times
    srt = await client.get(f"/v1/jobs/{job['id']}/result", headers=billed, params={"response_format": "srt"})
    assert srt.status_code == 200 and "-->" in srt.text and "country" in srt.text.lower()
    # billed per second of input, at the model's price
    usage = (await client.get("/v1/usage", headers=billed)).json()
    row = next(d for d in usage["data"] if d["model"] == "revoice")
    assert row["kind"] == "vc" and row["audio_seconds"] == pytest.approx(result["input_duration"], abs=0.01)
    assert row["credits"] == pytest.approx(0.05 * result["input_duration"], abs=1e-5)


async def test_streams_audio_phrase_by_phrase(live_api: str, auth: dict[str, str], testdata: Path) -> None:
    """The first phrase's audio arrives while the later ones are still being spoken (the job is running), over
    raw chunked audio and over SSE."""
    source = (testdata / "jfk.flac").read_bytes()
    chunks: list[bytes] = []
    async with httpx.AsyncClient(timeout=300) as http:
        async with http.stream(
            "POST",
            f"{live_api}/v1/audio/voice-conversions",
            headers=auth,
            files={"file": ("jfk.flac", source)},
            data={"voice": "am_michael", "response_format": "mp3", "stream": "true"},
        ) as r:
            assert r.status_code == 200
            assert r.headers["content-type"] == "audio/mpeg" and "content-length" not in r.headers
            async for chunk in r.aiter_raw():
                if not chunks:
                    state = (await http.get(f"{live_api}/v1/jobs/{r.headers['x-job-id']}", headers=auth)).json()
                    assert state["status"] == "running", state
                chunks.append(chunk)
        assert len(chunks) >= 3  # the phrases arrived as each became final
        decoded = audio.decode(io.BytesIO(b"".join(chunks)), sample_rate=16000)
        assert decoded.size / 16000 == pytest.approx(11.0, rel=0.03)
        events = []
        async with http.stream(
            "POST",
            f"{live_api}/v1/audio/voice-conversions",
            headers=auth,
            files={"file": ("jfk.flac", source)},
            data={"voice": "am_michael", "response_format": "pcm", "stream": "true", "stream_format": "sse"},
        ) as r:
            assert r.headers["content-type"].startswith("text/event-stream")
            async for line in r.aiter_lines():
                if line.startswith("data: "):
                    events.append(json.loads(line[6:]))
    deltas = [base64.b64decode(e["audio"]) for e in events if e["type"] == "conversion.audio.delta"]
    assert len(deltas) >= 3 and events[-1]["type"] == "conversion.audio.done"
    assert sum(len(d) for d in deltas) / 2 / 24000 == pytest.approx(11.0, rel=0.02)
    assert events[-1]["usage"]["input_seconds"] == pytest.approx(11.0, abs=0.05)
    assert "country" in events[-1]["text"].lower()


async def test_elevenlabs_route(client: httpx.AsyncClient, auth: dict[str, str], testdata: Path) -> None:
    source = (testdata / "leopard_test_en.wav").read_bytes()
    r = await client.post(
        "/v1/speech-to-speech/af_bella",
        headers=auth,
        params={"output_format": "pcm_16000"},
        files={"audio": ("en.wav", source)},
        data={"model_id": "eleven_english_sts_v2"},
        timeout=300,
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "audio/pcm"
    assert len(r.content) / 2 / 16000 == pytest.approx(5.86, rel=0.02)  # 16-bit samples at the asked rate
    job = await job_of(client, auth, r)
    assert job["result"]["sample_rate"] == 16000 and job["model"] == "revoice"
    bad = await client.post(
        "/v1/speech-to-speech/af_bella",
        headers=auth,
        params={"output_format": "ulaw_8000"},
        files={"audio": ("en.wav", source)},
    )
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "output_format"


# --- several speakers --------------------------------------------------------------------------------------------


async def test_two_speakers_get_their_own_voices(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    two_speakers: tuple[bytes, list[tuple[float, float, str]]],
    voice_refs: Callable[[str], np.ndarray],
) -> None:
    content, _turns = two_speakers
    voices = {"SPEAKER_00": "af_bella", "SPEAKER_01": "am_michael"}
    r = await convert(
        client, auth, content, voices=json.dumps(voices), num_speakers=2, response_format="wav", sample_rate=16000
    )
    assert r.status_code == 200, r.text
    out, rate = wav_samples(r.content)
    assert rate == 16000
    result = (await job_of(client, auth, r))["result"]
    assert result["voices"] == voices
    embed = embedder()
    targets = {voice: embed(voice_refs(voice)) for voice in voices.values()}
    checked = 0
    for phrase in result["phrases"]:
        if phrase["end"] - phrase["start"] < 1.0:
            continue
        piece = embed(out[int(phrase["start"] * rate) : int(phrase["end"] * rate)])
        own, other = phrase["voice"], next(v for v in targets if v != phrase["voice"])
        assert piece @ targets[own] > piece @ targets[other], phrase
        checked += 1
    assert checked >= 4


async def test_auto_voices_are_distinct_and_match_pitch(
    client: httpx.AsyncClient, settings: Settings, two_speakers: tuple[bytes, list[tuple[float, float, str]]]
) -> None:
    """voices=auto, async, with a signed webhook for the job's end."""
    content, _turns = two_speakers
    _, auth = new_key(settings)
    with webhook_receiver() as receiver:
        await signing_endpoint(client, auth, receiver, "/endpoint", events=["job.succeeded"])
        r = await client.post(
            "/v1/audio/voice-conversions",
            headers=auth,
            files={"file": ("two.wav", content)},
            data={
                "voices": "auto",
                "num_speakers": "2",
                "tts_model": "kokoro",
                "async": "true",
                "webhook_url": receiver.url("/conversions"),
            },
        )
        assert r.status_code == 202, r.text
        job_id = r.json()["id"]
        got = await receiver.wait(
            lambda rs: any(x.path == "/conversions" for x in rs), timeout=300, what="the job's event"
        )
    event = next(x for x in got if x.path == "/conversions")
    assert event.verified and event.payload["type"] == "job.succeeded"
    assert event.payload["data"]["id"] == job_id and event.payload["data"]["kind"] == "vc"
    job = (await client.get(f"/v1/jobs/{job_id}", headers=auth)).json()
    assert job["status"] == "succeeded", job
    chosen, pitches = job["result"]["voices"], job["result"]["pitches"]
    assert len(chosen) == 2 and len(set(chosen.values())) == 2 and set(pitches) == set(chosen)
    # JFK's speech sits near 220 Hz, the LibriSpeech reader near 110 Hz (measured on the clips alone): the
    # speakers' pitches fall on either side of the threshold, and each gets a Kokoro voice of that side
    assert sorted(pitches.values())[0] < 140 < 180 < sorted(pitches.values())[1], pitches
    for speaker, voice in chosen.items():
        assert voice.split("_")[0][1] == ("f" if pitches[speaker] >= 165 else "m"), (chosen, pitches)


# --- dubbing ---------------------------------------------------------------------------------------------------


async def test_dubs_spanish_into_english(client: httpx.AsyncClient, auth: dict[str, str], testdata: Path) -> None:
    source = (testdata / "leopard_test_es.wav").read_bytes()
    r = await convert(client, auth, source, voice="af_bella", target_language="en", response_format="wav")
    assert r.status_code == 200, r.text
    out, rate = wav_samples(r.content)
    job = await job_of(client, auth, r)
    result = job["result"]
    assert result["language"] == "es" and result["target_language"] == "en"
    assert out.size / rate == pytest.approx(result["input_duration"], rel=0.02)
    english = result["transcript"]["text"]
    assert english.isascii() and len(english.split()) >= 5
    heard = await transcribe(client, auth, r.content)
    score = wer(english, heard["text"])
    print(f"dubbed es->en: '{english}' heard as '{heard['text']}' (WER {score:.3f})")
    assert score <= 0.35
    vtt = await client.get(f"/v1/jobs/{job['id']}/result", headers=auth, params={"response_format": "vtt"})
    assert vtt.status_code == 200 and vtt.text.startswith("WEBVTT")


# --- batches ---------------------------------------------------------------------------------------------------


async def test_a_batch_of_conversions(client: httpx.AsyncClient, auth: dict[str, str], testdata: Path) -> None:
    uploaded = await client.post(
        "/v1/files",
        headers=auth,
        files={"file": ("en.wav", (testdata / "leopard_test_en.wav").read_bytes())},
        data={"purpose": "audio"},
    )
    assert uploaded.status_code == 200, uploaded.text
    file_id = uploaded.json()["id"]
    r = await client.post(
        "/v1/batches",
        headers=auth,
        json={
            "endpoint": "/v1/audio/voice-conversions",
            "requests": [
                {"custom_id": "bella", "body": {"file_id": file_id, "voice": "af_bella", "response_format": "wav"}},
                {"custom_id": "missing-voice", "body": {"file_id": file_id, "voice": "nobody"}},
            ],
        },
    )
    assert r.status_code == 200, r.text
    batch = await wait_batch(client, auth, r.json()["id"], timeout=300)
    assert batch["status"] == "completed", batch
    assert batch["request_counts"]["completed"] == 1 and batch["request_counts"]["failed"] == 1
    lines = (await client.get(f"/v1/files/{batch['output_file_id']}/content", headers=auth)).text.splitlines()
    body = json.loads(lines[0])["response"]["body"]
    assert body["input_duration"] == pytest.approx(5.86, abs=0.05) and body["format"] == "wav"


# --- bad input -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "status", "code", "param"),
    [
        ({}, 400, "invalid_request", "voice"),
        ({"voice": "nobody"}, 404, "voice_not_found", "voice"),
        ({"voices": "{not json"}, 400, "invalid_request", "voices"),
        ({"voices": json.dumps({"SPEAKER_00": 3})}, 400, "invalid_request", "voices"),
        ({"voice": "af_bella", "model": "piper"}, 400, "invalid_request", "model"),
        ({"voice": "af_bella", "model": "openvoice-v2"}, 404, "model_not_installed", "model"),
        ({"voice": "af_bella", "sample_rate": "12345"}, 400, "invalid_request", "sample_rate"),
        ({"voice": "af_bella", "tts_model": "whisper-base"}, 400, "invalid_request", "model"),
        ({"voice": "af_bella", "target_language": "de"}, 400, "invalid_request", "target_language"),
    ],
)
async def test_bad_requests_are_clear(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    testdata: Path,
    fields: dict[str, str],
    status: int,
    code: str,
    param: str,
) -> None:
    r = await convert(client, auth, (testdata / "leopard_test_en.wav").read_bytes(), **fields)
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert error["param"] == param and error["code"] == code, error


async def test_not_audio_is_refused(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    r = await convert(client, auth, b"this is not audio at all", voice="af_bella")
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_audio"
