"""Speech to speech through the real SDK and `s2s convert`, against the real server (uvicorn, Celery worker,
Whisper and Kokoro): sync, async and streamed conversions, the ElevenLabs-shaped route, typed errors, and the
CLI's audio and subtitles. Each conversion costs seconds of CPU, so there are five in all."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import speechtospeechai as s2s
from speechtospeechai import AsyncClient, Client

from shared import audio
from tests.sdk.live import probe_bytes
from tests.services import ROOT
from tests.text import wer

pytestmark = pytest.mark.integration

JFK_SECONDS = 11.0


@pytest.fixture(scope="module")
def sdk(live_api: str, api_key: str) -> Iterator[Client]:
    with Client(api_key=api_key, base_url=live_api) as client:
        yield client


def decoded_seconds(content: bytes) -> float:
    """Seconds of audio the bytes really decode to (not what a header claims)."""
    return audio.decode(io.BytesIO(content), sample_rate=16000).size / 16000


def test_create_returns_the_audio_and_its_job(sdk: Client, testdata: Path) -> None:
    converted = sdk.audio.voice_conversions.create(file=testdata / "jfk.flac", voice="af_bella", response_format="wav")
    assert isinstance(converted, s2s.AudioResponse) and converted.content_type == "audio/wav"
    assert converted.job_id and converted.job_id.startswith("job_")
    info = probe_bytes(converted.content)
    assert info.container == "wav" and info.sample_rate == 24000
    assert decoded_seconds(converted.content) == pytest.approx(JFK_SECONDS, rel=0.02)
    # the job behind the X-Job-Id: typed result, and the transcript of what the new voice says
    job = sdk.jobs.retrieve(converted.job_id)
    result = job.voice_conversion
    assert job.kind == "vc" and result is not None and result.method == "revoice"
    assert result.input_duration == pytest.approx(JFK_SECONDS, abs=0.05)
    assert len(result.phrases) >= 3 and {p.voice for p in result.phrases} == {"af_bella"}
    assert result.transcript is not None
    assert wer((testdata / "jfk.txt").read_text(), result.transcript.text) <= 0.25


def test_streamed_conversion_arrives_in_chunks(sdk: Client, testdata: Path, tmp_path: Path) -> None:
    chunks: list[bytes] = []
    with sdk.audio.voice_conversions.with_streaming_response.create(
        file=testdata / "jfk.flac", voice="af_bella", response_format="mp3", stream=True
    ) as response:
        assert isinstance(response, s2s.StreamedAudioResponse)
        assert response.content_type == "audio/mpeg" and "content-length" not in response.headers
        assert response.job_id and response.job_id.startswith("job_")
        chunks.extend(response.iter_bytes())
    assert len(chunks) >= 2
    content = b"".join(chunks)
    assert probe_bytes(content).container == "mp3"
    assert decoded_seconds(content) == pytest.approx(JFK_SECONDS, rel=0.02)


async def test_async_client_queues_a_job_and_fetches_its_audio(live_api: str, api_key: str, testdata: Path) -> None:
    async with AsyncClient(api_key=api_key, base_url=live_api) as client:
        job = await client.audio.voice_conversions.create(
            file=(testdata / "jfk.flac").read_bytes(), voice="af_bella", response_format="flac", wait=False
        )
        assert isinstance(job, s2s.Job) and job.kind == "vc" and job.model == "revoice"
        done = await client.jobs.wait(job.id, timeout=300, poll_interval=0.5)
        assert done.status == "succeeded" and done.voice_conversion is not None
        result = await client.jobs.result(job.id)
        assert probe_bytes(result.content).codec == "flac"
        assert decoded_seconds(result.content) == pytest.approx(JFK_SECONDS, rel=0.02)
        # typed errors: the async twin raises what the sync client does
        with pytest.raises(s2s.VoiceNotFoundError) as missing:
            await client.audio.voice_conversions.create(file=testdata / "jfk.flac", voice="nobody")
        assert missing.value.status == 404 and missing.value.param == "voice"


def test_unknown_voices_and_bad_arguments_raise_typed_errors(sdk: Client, testdata: Path) -> None:
    with pytest.raises(s2s.VoiceNotFoundError) as missing:
        sdk.audio.voice_conversions.create(file=testdata / "jfk.flac", voice="nobody")
    exc = missing.value
    assert (exc.status, exc.code, exc.param) == (404, "voice_not_found", "voice") and exc.request_id
    assert "nobody" in exc.message
    with pytest.raises(s2s.VoiceNotFoundError) as in_map:
        sdk.audio.voice_conversions.create(file=testdata / "jfk.flac", voices={"SPEAKER_00": "nobody"})
    assert in_map.value.param == "voices"
    with pytest.raises(s2s.BadRequestError) as no_voice:
        sdk.audio.voice_conversions.create(file=testdata / "jfk.flac")
    assert no_voice.value.param == "voice"
    with pytest.raises(ValueError, match="file_id"):
        sdk.audio.voice_conversions.create(voice="af_bella")
    with pytest.raises(TypeError, match="auto"):
        sdk.audio.voice_conversions.create(file=testdata / "jfk.flac", voices="af_bella")  # type: ignore[call-overload]


def test_elevenlabs_shaped_convert(sdk: Client, testdata: Path) -> None:
    converted = sdk.speech_to_speech.convert(
        "af_bella", audio=testdata / "leopard_test_en.wav", model_id="eleven_english_sts_v2", output_format="pcm_16000"
    )
    assert converted.content_type == "audio/pcm" and converted.job_id
    assert len(converted.content) / 2 / 16000 == pytest.approx(5.86, rel=0.02)  # 16-bit mono at the asked rate
    job = sdk.jobs.retrieve(converted.job_id)
    assert job.voice_conversion is not None and job.voice_conversion.sample_rate == 16000
    with pytest.raises(s2s.BadRequestError) as bad:
        sdk.speech_to_speech.convert("af_bella", audio=testdata / "leopard_test_en.wav", output_format="ulaw_8000")
    assert bad.value.param == "output_format"


def test_cli_convert_writes_audio_and_subtitles(live_api: str, api_key: str, testdata: Path, tmp_path: Path) -> None:
    out, subtitles = tmp_path / "jfk-bella.ogg", tmp_path / "jfk-bella.srt"
    env = {**os.environ, "S2S_BASE_URL": live_api, "S2S_API_KEY": api_key, "COLUMNS": "200"}
    terminal = {"TTY_COMPATIBLE": "1", "TTY_INTERACTIVE": "1"}  # as at a terminal: progress bars on stderr
    done = subprocess.run(
        [sys.executable, "-m", "shared.cli.main", "convert", str(testdata / "jfk.flac"), "--voice", "af_bella",
         "--language", "en", "-o", str(out), "--srt", str(subtitles)],
        cwd=ROOT, env={**env, **terminal}, capture_output=True, timeout=300,
    )  # fmt: skip
    stderr = done.stderr.decode()
    assert done.returncode == 0, stderr
    assert "Uploading jfk.flac" in stderr and "Converting with revoice" in stderr
    assert f"Wrote {out}" in stderr and "job job_" in stderr and f"Wrote {subtitles}" in stderr
    assert probe_bytes(out.read_bytes()).container == "ogg"  # the format came from the file name
    assert decoded_seconds(out.read_bytes()) == pytest.approx(JFK_SECONDS, rel=0.02)
    srt = subtitles.read_text()
    assert srt.startswith("1\n00:00:") and "-->" in srt
    spoken = " ".join(line for line in srt.splitlines() if line and "-->" not in line and not line.isdigit())
    assert wer((testdata / "jfk.txt").read_text(), spoken) <= 0.25
    # a malformed --voices and an unknown voice fail with the reason, before or without any conversion
    bad_map = subprocess.run(
        [sys.executable, "-m", "shared.cli.main", "convert", str(testdata / "jfk.flac"), "--voices", "[1]",
         "-o", str(tmp_path / "x.mp3")],
        cwd=ROOT, env=env, capture_output=True, timeout=120,
    )  # fmt: skip
    assert bad_map.returncode == 1 and "--voices takes auto or a JSON object" in bad_map.stderr.decode()
    nobody = subprocess.run(
        [sys.executable, "-m", "shared.cli.main", "convert", str(testdata / "jfk.flac"), "--voice", "nobody",
         "-o", str(tmp_path / "y.mp3")],
        cwd=ROOT, env=env, capture_output=True, timeout=120,
    )  # fmt: skip
    assert nobody.returncode == 1 and "voice_not_found" in nobody.stderr.decode()
    assert not (tmp_path / "y.mp3").exists()
