"""The real SDK against the real server (uvicorn, Celery worker, Piper and Whisper): the quickstarts, every
resource, async jobs and typed errors as the server sends them."""

from __future__ import annotations

import asyncio
import itertools
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import speechtospeechai as s2s
from speechtospeechai import AsyncClient, Client

from shared.config import Settings
from tests.accounts import key_with_credits
from tests.sdk.live import mp3_sample, probe_bytes, readme_python_blocks
from tests.text import wer

pytestmark = pytest.mark.integration

# The contract's quickstart, byte for byte (spec: "2. Generate Speech" and "3. Clone a Voice").
CONTRACT_SPEECH = """
from speechtospeechai import Client

client = Client(api_key="your-api-key")

# Generate speech from text
audio = client.audio.speech.create(
    model="fish-speech-v1.5",
    voice="nova",
    input="Hello! Welcome to Speech to Speech AI."
)

# Save to file
audio.save("output.mp3")
"""

CONTRACT_CLONE = """
# Clone a voice from an audio sample
voice = client.voices.clone(
    name="My Custom Voice",
    files=["sample.mp3"]
)

# Use the cloned voice
audio = client.audio.speech.create(
    model="fish-speech-v1.5",
    voice=voice.id,
    input="This is my cloned voice speaking!"
)

audio.save("cloned_output.mp3")
"""


@pytest.fixture(scope="module")
def sdk(live_api: str, api_key: str) -> Iterator[Client]:
    # the server's root URL: the client adds /v1 itself
    with Client(api_key=api_key, base_url=live_api) as client:
        yield client


@pytest.fixture(scope="module")
def sdk_env(live_api: str, api_key: str) -> dict[str, str]:
    return {**os.environ, "S2S_BASE_URL": f"{live_api}/v1", "S2S_API_KEY": api_key}


def run_snippet(code: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run user code the way a user would: a fresh interpreter, configured only by the environment."""
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


# --- the quickstarts ------------------------------------------------------------------------------------
def test_readme_quickstart_runs_as_written(tmp_path: Path, sdk_env: dict[str, str]) -> None:
    quickstart = readme_python_blocks()[0]
    assert 'model="piper"' in quickstart and 'audio.save("output.mp3")' in quickstart
    done = run_snippet(quickstart, tmp_path, sdk_env)
    assert done.returncode == 0, done.stderr
    info = probe_bytes((tmp_path / "output.mp3").read_bytes())
    assert info.container == "mp3" and info.duration > 1.0
    first_line, *segments = done.stdout.strip().splitlines()
    assert wer("Hello! Welcome to Speech to Speech AI.", first_line) <= 0.35, done.stdout
    assert segments and segments[0].startswith(" 0.00-")


def test_readme_contract_block_explains_what_to_install(tmp_path: Path, sdk_env: dict[str, str]) -> None:
    block = readme_python_blocks()[1]
    assert 'Client(api_key="your-api-key")' in block and "fish-speech-v1.5" in block
    done = run_snippet(block.replace("your-api-key", sdk_env["S2S_API_KEY"]), tmp_path, sdk_env)
    assert done.returncode == 0, done.stderr
    assert "not installed" in done.stdout and "pip install" in done.stdout and "fish-speech" in done.stdout


def test_contract_speech_snippet_raises_model_not_installed_here(
    tmp_path: Path, live_api: str, api_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("S2S_BASE_URL", live_api)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(s2s.ModelNotInstalledError) as info:
        exec(CONTRACT_SPEECH.replace("your-api-key", api_key), {})
    exc = info.value
    assert (exc.status, exc.code, exc.param) == (404, "model_not_installed", "model")
    assert "pip install" in exc.message and "fish-speech" in exc.message and exc.request_id
    assert isinstance(exc, s2s.NotFoundError)
    assert not (tmp_path / "output.mp3").exists()


def test_contract_clone_snippet_runs_wherever_its_model_is_installed(
    tmp_path: Path, live_api: str, api_key: str, testdata: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("S2S_BASE_URL", live_api)
    monkeypatch.chdir(tmp_path)
    mp3_sample(tmp_path / "sample.mp3", testdata / "leopard_test_en.wav")
    namespace: dict[str, object] = {"client": Client(api_key=api_key)}
    # as written, the snippet sends no consent, which cloning needs here (CLONE_CONSENT=attestation)
    with pytest.raises(s2s.BadRequestError, match="consent=true") as refused:
        exec(CONTRACT_CLONE, namespace)
    assert refused.value.param == "consent"
    consented = CONTRACT_CLONE.replace('files=["sample.mp3"]', 'files=["sample.mp3"], consent=True')
    fish = Client(api_key=api_key, base_url=live_api).models.retrieve("fish-speech-v1.5")
    if fish.installed:
        exec(consented, namespace)
        assert probe_bytes((tmp_path / "cloned_output.mp3").read_bytes()).duration > 0.5
        return
    with pytest.raises(s2s.ModelNotInstalledError, match="pip install"):
        exec(consented, namespace)


# --- speech -----------------------------------------------------------------------------------------------
def test_speech_create_and_save(sdk: Client, tmp_path: Path) -> None:
    audio = sdk.audio.speech.create(model="piper", voice="joe", input="Hello! Welcome to Speech to Speech AI.")
    assert audio.content_type == "audio/mpeg" and audio.job_id and audio.job_id.startswith("job_")
    saved = audio.save(tmp_path / "output.mp3")
    info = probe_bytes(saved.read_bytes())
    assert info.container == "mp3" and 1.0 < info.duration < 10
    assert audio.write_to_file(tmp_path / "copy.mp3").read_bytes() == audio.content


def test_speech_options_reach_the_engine(sdk: Client) -> None:
    text = "The quick brown fox jumps over the lazy dog, twice, slowly."
    normal = sdk.audio.speech.create(model="piper", voice="joe", input=text, format="wav")
    fast = sdk.audio.speech.create(model="piper", voice="joe", input=text, response_format="wav", speed=1.8)
    normal_info, fast_info = probe_bytes(normal.content), probe_bytes(fast.content)
    assert normal_info.container == "wav" and fast_info.container == "wav"
    assert fast_info.duration < 0.75 * normal_info.duration


def test_speech_streams_to_a_file(sdk: Client, tmp_path: Path) -> None:
    target = tmp_path / "streamed.flac"
    with sdk.audio.speech.with_streaming_response.create(
        model="piper", voice="joe", input="Streaming straight to disk.", format="flac", stream=True
    ) as response:
        assert response.status_code == 200 and response.content_type == "audio/flac"
        response.stream_to_file(target)
    assert response.response.is_closed
    info = probe_bytes(target.read_bytes())
    assert info.codec == "flac" and info.duration > 0.5


def test_streamed_speech_arrives_in_pieces_while_it_is_synthesised(sdk: Client) -> None:
    text = (
        "The first sentence comes out at once. The second one follows a moment later. "
        "Then a third, longer one, about streaming audio over plain HTTP. And a fourth to finish the paragraph."
    )
    arrivals: list[float] = []
    chunks: list[bytes] = []
    with sdk.audio.speech.with_streaming_response.create(
        model="piper", voice="joe", input=text, format="wav", stream=True
    ) as response:
        for chunk in response.iter_bytes():
            arrivals.append(time.monotonic())
            chunks.append(chunk)
    # a whole file would arrive within milliseconds; streamed audio arrives clause by clause as it is synthesised
    assert arrivals[-1] - arrivals[0] > 0.2, f"{len(chunks)} chunks within {arrivals[-1] - arrivals[0]:.3f}s"
    assert probe_bytes(b"".join(chunks)).duration > 6.0


# --- transcriptions ---------------------------------------------------------------------------------------
def test_transcription_of_a_real_recording(sdk: Client, testdata: Path) -> None:
    result = sdk.audio.transcriptions.create(model="whisper-base", file=testdata / "jfk.flac", timestamps="word")
    assert isinstance(result, s2s.Transcription)
    assert wer((testdata / "jfk.txt").read_text(), result.text) <= 0.1
    assert result.language == "en" and result.duration == pytest.approx(11.0, abs=0.1)
    assert result.segments and all(s.end > s.start for s in result.segments)
    words = result.words
    assert len(words) >= 15 and all(a.start <= b.start for a, b in itertools.pairwise(words))


def test_transcription_text_formats(sdk: Client, testdata: Path) -> None:
    with (testdata / "jfk.flac").open("rb") as fh:
        srt = sdk.audio.transcriptions.create(model="whisper-tiny.en", file=fh, response_format="srt")
    assert isinstance(srt, str) and srt.startswith("1\n00:00:00,000 --> 00:00:")
    assert "ask not what your country can do for you" in srt.lower()


def test_translation_and_diarization(sdk: Client, testdata: Path) -> None:
    english = sdk.audio.translations.create(model="whisper-base", file=testdata / "leopard_test_es.wav")
    assert isinstance(english, s2s.Transcription) and english.language == "es"
    assert {"the", "sands"} & set(english.text.lower().replace(",", " ").replace(".", " ").split()), english.text
    turns = sdk.audio.diarization.create(file=testdata / "pyannote_ami_tst00.wav")
    assert isinstance(turns, s2s.types.Diarization) and len({t.speaker for t in turns.turns}) == 4
    assert sum(s.speaking_seconds for s in turns.speakers) > 25
    rttm = sdk.audio.diarization.create(file=testdata / "jfk.flac", response_format="rttm")
    assert isinstance(rttm, str) and rttm.startswith("SPEAKER jfk 1 ") and "SPEAKER_00" in rttm


def test_known_speaker_from_a_reference_recording(sdk: Client, testdata: Path) -> None:
    """known_speakers as name -> recording: sent as OpenAI's known_speaker_names[] / known_speaker_references[]
    data URLs; the reference is the first half of JFK's clip, the audio its second half then another person."""
    import numpy as np

    from shared import audio

    kennedy = audio.decode(str(testdata / "jfk.flac"), sample_rate=16000)
    other = audio.decode(str(testdata / "leopard_test_en.wav"), sample_rate=16000)
    half = kennedy.size // 2
    mixed = audio.encode(np.concatenate([kennedy[half:], np.zeros(16000, np.float32), other]), 16000, "wav")
    reference = ("kennedy.wav", audio.encode(kennedy[:half], 16000, "wav"), "audio/wav")
    turns = sdk.audio.diarization.create(file=("two.wav", mixed), known_speakers={"Kennedy": reference})
    assert isinstance(turns, s2s.types.Diarization)
    names = {t.speaker for t in turns.turns}
    assert "Kennedy" in names and len(names) == 2
    text = sdk.audio.transcriptions.create(
        file=("two.wav", mixed), model="whisper-base", response_format="diarized_json",
        known_speakers={"Kennedy": reference},
    )  # fmt: skip
    assert isinstance(text, s2s.Transcription)
    assert any(seg.speaker == "Kennedy" and "country" in seg.text.lower() for seg in text.segments)


# --- jobs -------------------------------------------------------------------------------------------------
def test_async_speech_job_waited_and_downloaded(sdk: Client, tmp_path: Path) -> None:
    job = sdk.audio.speech.create(model="piper", voice="joe", input="A job in the background.", wait=False)
    assert isinstance(job, s2s.Job) and job.status in ("queued", "running") and job.kind == "tts"
    seen: list[s2s.Job] = []
    done = sdk.jobs.wait(job.id, timeout=120, poll_interval=0.2, on_progress=seen.append)
    assert done.status == "succeeded" and done.progress == 1.0 and done.result_url
    assert seen[-1].status == "succeeded" and all(0.0 <= j.progress <= 1.0 for j in seen)
    audio = sdk.jobs.result(job.id)
    assert probe_bytes(audio.content).container == "mp3"
    with sdk.jobs.with_streaming_response.result(job.id) as response:
        response.stream_to_file(tmp_path / "job.mp3")
    assert (tmp_path / "job.mp3").read_bytes() == audio.content
    assert job.id in {j.id for j in sdk.jobs.list(limit=50).data}
    assert sdk.jobs.cancel(job.id).status == "succeeded"  # a finished job stays finished


def test_async_transcription_job(sdk: Client, testdata: Path) -> None:
    job = sdk.audio.transcriptions.create(model="whisper-base", file=testdata / "jfk.flac", wait=False)
    assert job.kind == "stt"
    done = sdk.jobs.wait(job.id, timeout=120, poll_interval=0.2)
    assert done.transcription is not None
    assert wer((testdata / "jfk.txt").read_text(), done.transcription.text) <= 0.1


def test_cancel_a_queued_job(sdk: Client, testdata: Path) -> None:
    # one worker runs one job at a time: the second job waits in the queue behind the first
    busy = sdk.audio.transcriptions.create(model="whisper-base", file=testdata / "jfk.flac", wait=False)
    queued = sdk.audio.transcriptions.create(model="whisper-base", file=testdata / "jfk.flac", wait=False)
    canceled = sdk.jobs.cancel(queued.id)
    assert canceled.status == "canceled" and canceled.error and canceled.error.code == "canceled"
    assert sdk.jobs.wait(queued.id, timeout=30).status == "canceled"
    with pytest.raises(s2s.ConflictError, match="canceled"):
        sdk.jobs.result(queued.id)
    assert sdk.jobs.wait(busy.id, timeout=120).status == "succeeded"


# --- models and errors ------------------------------------------------------------------------------------
def test_models_list_and_retrieve(sdk: Client) -> None:
    models = {m.id: m for m in sdk.models.list().data}
    assert models["piper"].installed and "joe" in models["piper"].voices
    assert models["whisper-base"].installed and models["whisper-base"].kind == "stt"
    fish = models["fish-speech-v1.5"]
    assert not fish.installed and fish.install_hint and "pip install" in fish.install_hint
    assert sdk.models.retrieve("whisper-tiny.en").languages == ["en"]
    with pytest.raises(s2s.ModelNotFoundError):
        sdk.models.retrieve("no-such-model")


def test_server_errors_arrive_typed(sdk: Client, live_api: str) -> None:
    with pytest.raises(s2s.VoiceNotFoundError, match=r"Voice .nobody. does not exist"):
        sdk.audio.speech.create(model="piper", voice="nobody", input="hi")
    with pytest.raises(s2s.ModelNotFoundError):
        sdk.audio.speech.create(model="no-such-model", voice="joe", input="hi")
    with pytest.raises(s2s.BadRequestError) as too_long:
        sdk.audio.speech.create(model="piper", voice="joe", input="x" * 5001)
    assert too_long.value.param == "input" and "5000" in too_long.value.message
    with pytest.raises(s2s.BadRequestError) as too_fast:
        sdk.audio.speech.create(model="piper", voice="joe", input="hi", speed=3.0)
    assert too_fast.value.param == "speed"
    with pytest.raises(s2s.BadRequestError, match="text-to-speech"):
        sdk.audio.transcriptions.create(model="piper", file=b"RIFF")
    with pytest.raises(s2s.NotFoundError) as missing_job:
        sdk.jobs.retrieve("job_doesnotexist")
    assert missing_job.value.code == "not_found"
    with pytest.raises(s2s.AuthenticationError) as bad_key:
        Client(api_key="s2s-wrong", base_url=live_api).models.list()
    assert bad_key.value.status == 401 and bad_key.value.request_id


class DropFirstAnswer(httpx.HTTPTransport):
    """A connection that breaks after the server has answered the first request: the client must retry."""

    def __init__(self) -> None:
        super().__init__()
        self.keys: list[str | None] = []
        self.first_job: str | None = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        self.keys.append(request.headers.get("idempotency-key"))
        if len(self.keys) == 1:
            response.read()
            self.first_job = response.headers.get("x-job-id")
            response.close()
            raise httpx.ReadError("connection lost after the server answered", request=request)
        return response


def test_a_retried_post_is_replayed_by_the_server_not_run_twice(live_api: str, api_key: str) -> None:
    transport = DropFirstAnswer()
    with Client(api_key=api_key, base_url=live_api, http_client=httpx.Client(transport=transport)) as client:
        audio = client.audio.speech.create(model="piper", voice="joe", input="Said once, delivered twice.")
    assert len(transport.keys) == 2 and transport.keys[0] and transport.keys[0] == transport.keys[1]
    assert transport.first_job and audio.job_id == transport.first_job  # the same job, not a second one
    assert audio.headers.get("idempotent-replayed") == "true"
    assert probe_bytes(audio.content).duration > 0.5


def test_an_account_without_credits_gets_insufficient_credits_error(live_api: str, settings: Settings) -> None:
    from shared.accounts import create_key, get_or_create_account
    from shared.db.session import session_scope

    with session_scope(settings.sync_database_url) as session:
        key = create_key(session, get_or_create_account(session, "sdk-no-credits", initial_credits=0))
    with pytest.raises(s2s.InsufficientCreditsError) as info:
        Client(api_key=key, base_url=live_api).audio.speech.create(model="piper", voice="joe", input="Hello!")
    assert info.value.status == 402 and "credits" in info.value.message


def test_the_rate_limit_arrives_as_rate_limit_error(live_api: str, settings: Settings) -> None:
    key = key_with_credits(settings.sync_database_url, "sdk-rate-limited", requests_per_minute=1)
    client = Client(api_key=key, base_url=live_api, max_retries=0)
    client.models.list()
    with pytest.raises(s2s.RateLimitError) as info:
        client.models.list()
    assert info.value.status == 429 and info.value.response.headers.get("retry-after")


def test_an_upload_over_the_limit_is_file_too_large(sdk: Client) -> None:
    with pytest.raises(s2s.FileTooLargeError) as info:
        sdk.audio.transcriptions.create(model="whisper-base", file=("big.wav", b"\0" * (9 * 1024 * 1024)))
    assert info.value.status == 413 and "MiB" in info.value.message


def test_an_unreachable_server_is_a_connection_error() -> None:
    client = Client(api_key="k", base_url="http://127.0.0.1:9", max_retries=1)
    with pytest.raises(s2s.APIConnectionError, match="is the server running"):
        client.models.list()


# --- async client -----------------------------------------------------------------------------------------
async def test_async_client_runs_calls_concurrently(
    live_api: str, api_key: str, testdata: Path, tmp_path: Path
) -> None:
    async with AsyncClient(api_key=api_key, base_url=live_api) as client:
        speech, transcript, models = await asyncio.gather(
            client.audio.speech.create(model="piper", voice="joe", input="Two things at once.", format="ogg"),
            client.audio.transcriptions.create(model="whisper-tiny.en", file=testdata / "jfk.flac"),
            client.models.list(),
        )
        assert probe_bytes(speech.content).duration > 0.5
        assert wer((testdata / "jfk.txt").read_text(), transcript.text) <= 0.15
        assert any(m.id == "whisper-base" for m in models.data)
        async with client.audio.speech.with_streaming_response.create(
            model="piper", voice="joe", input="Async streaming.", format="wav"
        ) as response:
            await response.stream_to_file(tmp_path / "async.wav")
        assert probe_bytes((tmp_path / "async.wav").read_bytes()).container == "wav"
        job = await client.audio.speech.create(model="piper", voice="joe", input="Async job.", wait=False)
        done = await client.jobs.wait(job.id, timeout=120, poll_interval=0.2)
        assert done.status == "succeeded"
        assert probe_bytes((await client.jobs.result(job.id)).content).container == "mp3"
        with pytest.raises(s2s.ModelNotInstalledError, match="pip install"):
            await client.audio.speech.create(model="orpheus-3b", voice="tara", input="hi")


# --- voices ---------------------------------------------------------------------------------------------
def test_clone_speak_list_and_delete_a_voice(sdk: Client, testdata: Path, tmp_path: Path) -> None:
    sample = mp3_sample(tmp_path / "sample.mp3", testdata / "leopard_test_en.wav")
    voice = sdk.voices.clone(name="SDK test voice", files=[sample], model="piper", language="en", consent=True)
    assert voice.id.startswith("voice_") and voice.name == "SDK test voice" and voice.model == "piper"
    assert voice.status in ("ready", "processing")
    assert sdk.voices.retrieve(voice.id).id == voice.id
    listing = sdk.voices.list()
    assert voice.id in {v.id for v in listing.data}
    assert any(p.id == "joe" for p in listing.presets)
    if sdk.voices.retrieve(voice.id).status == "ready":
        audio = sdk.audio.speech.create(model="piper", voice=voice.id, input="This is my cloned voice speaking!")
        assert probe_bytes(audio.content).duration > 0.5
    deleted = sdk.voices.delete(voice.id)
    assert deleted.deleted and deleted.id == voice.id
    with pytest.raises(s2s.VoiceNotFoundError):
        sdk.voices.retrieve(voice.id)


def test_clone_from_several_samples(sdk: Client, testdata: Path) -> None:
    with (testdata / "leopard_test_en.wav").open("rb") as first:
        voice = sdk.voices.clone(
            name="Two samples", files=[first, testdata / "jfk.flac"], model="piper", language="en", consent=True
        )
    assert voice.id.startswith("voice_")
    sdk.voices.delete(voice.id)


def test_readme_clone_block(tmp_path: Path, sdk_env: dict[str, str], testdata: Path) -> None:
    clone_block = readme_python_blocks()[2]
    mp3_sample(tmp_path / "sample.mp3", testdata / "leopard_test_en.wav")
    setup = "from speechtospeechai import Client\nclient = Client()\n"
    done = run_snippet(setup + clone_block, tmp_path, sdk_env)
    assert done.returncode == 0, done.stderr
    assert probe_bytes((tmp_path / "cloned_output.mp3").read_bytes()).duration > 0.5
