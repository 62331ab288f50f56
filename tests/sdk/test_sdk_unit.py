"""The SDK against `httpx.MockTransport`, route by route: request shapes, typed errors, retries, streaming."""

from __future__ import annotations

import email.utils
import io
import json
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import speechtospeechai as s2s
from speechtospeechai import AsyncClient, Client

from tests.sdk.conftest import BASE, ScriptedServer, error, job

ERROR_CASES = [
    (400, "invalid_request", s2s.BadRequestError),
    (400, "invalid_audio", s2s.InvalidAudioError),
    (401, "invalid_api_key", s2s.AuthenticationError),
    (402, "insufficient_credits", s2s.InsufficientCreditsError),
    (404, "not_found", s2s.NotFoundError),
    (404, "model_not_found", s2s.ModelNotFoundError),
    (404, "voice_not_found", s2s.VoiceNotFoundError),
    (404, "model_not_installed", s2s.ModelNotInstalledError),
    (409, "conflict", s2s.ConflictError),
    (413, "file_too_large", s2s.FileTooLargeError),
    (429, "rate_limit_exceeded", s2s.RateLimitError),
    (500, "server_error", s2s.InternalServerError),
    (503, "service_unavailable", s2s.InternalServerError),
    (503, "model_unavailable", s2s.ModelUnavailableError),
]

TRANSCRIPT = {
    "text": " And so my fellow Americans.",
    "language": "en",
    "duration": 2.5,
    "segments": [
        {
            "id": 0,
            "start": 0.0,
            "end": 2.5,
            "text": " And so my fellow Americans.",
            "speaker": "SPEAKER_00",
            "words": [
                {"start": 0.0, "end": 0.4, "word": " And", "probability": 0.9},
                {"start": 0.4, "end": 0.8, "word": " so", "probability": 0.9},
            ],
        }
    ],
}


def _multipart_fields(request: httpx.Request) -> list[tuple[str, str | None, bytes]]:
    """(field name, filename, value) of each part of a multipart request body."""
    boundary = request.headers["content-type"].split("boundary=")[1].encode()
    fields = []
    for part in request.content.split(b"--" + boundary)[1:-1]:
        head, _, value = part.strip(b"\r\n").partition(b"\r\n\r\n")
        disposition = head.split(b"\r\n")[0].decode()
        name = disposition.split('name="')[1].split('"')[0]
        filename = disposition.split('filename="')[1].split('"')[0] if "filename=" in disposition else None
        fields.append((name, filename, value))
    return fields


# --- configuration ----------------------------------------------------------------------------------------
def test_api_key_and_base_url_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("S2S_API_KEY", "s2s-from-env")
    monkeypatch.setenv("S2S_BASE_URL", "http://example.test:9000")
    client = Client()
    assert client.api_key == "s2s-from-env"
    assert str(client.base_url) == "http://example.test:9000/v1/"
    assert Client(base_url="http://h:1/v1/").base_url == httpx.URL("http://h:1/v1/")
    assert Client(api_key="explicit").api_key == "explicit"


def test_missing_api_key_says_how_to_set_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("S2S_API_KEY", raising=False)
    with pytest.raises(s2s.SpeechToSpeechAIError, match="S2S_API_KEY"):
        Client()


def test_default_base_url_is_the_local_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("S2S_BASE_URL", raising=False)
    assert str(Client(api_key="k").base_url) == "http://127.0.0.1:8000/v1/"


def test_every_request_is_authenticated(server: ScriptedServer) -> None:
    server.on("GET", "models", httpx.Response(200, json={"object": "list", "data": []}))
    server.client().models.list()
    assert server.requests[0].headers["authorization"] == "Bearer s2s-test-key"
    assert server.requests[0].headers["user-agent"].startswith("speechtospeechai-python/")


# --- errors -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("status", "code", "cls"), ERROR_CASES)
def test_error_envelope_becomes_a_typed_exception(
    server: ScriptedServer, status: int, code: str, cls: type[s2s.APIStatusError]
) -> None:
    server.on("POST", "audio/speech", error(status, code, "what to do next", param="model"))
    with pytest.raises(cls) as info:
        server.client(max_retries=0).audio.speech.create(model="piper", voice="joe", input="hi")
    exc = info.value
    assert type(exc) is cls
    assert (exc.status, exc.status_code, exc.code) == (status, status, code)
    assert (exc.message, exc.param, exc.request_id) == ("what to do next", "model", "req_123")
    assert str(exc).startswith("what to do next [")


@pytest.mark.parametrize(("status", "code", "cls"), ERROR_CASES)
async def test_async_error_envelope_becomes_a_typed_exception(
    server: ScriptedServer, status: int, code: str, cls: type[s2s.APIStatusError]
) -> None:
    server.on("GET", "models/x", error(status, code))
    with pytest.raises(cls) as info:
        await server.async_client(max_retries=0).models.retrieve("x")
    assert type(info.value) is cls and info.value.code == code


def test_not_installed_is_a_not_found_error_with_the_install_hint(server: ScriptedServer) -> None:
    hint = "Model 'fish-speech-v1.5' is known but its weights are not installed. pip install -e '.[fish-speech]'"
    server.on("POST", "audio/speech", error(404, "model_not_installed", hint, param="model"))
    with pytest.raises(s2s.NotFoundError) as info:
        server.client().audio.speech.create(model="fish-speech-v1.5", voice="nova", input="Hello!")
    assert isinstance(info.value, s2s.ModelNotInstalledError)
    assert "pip install" in info.value.message
    assert len(server.requests) == 1  # a 404 is not retried


def test_an_error_without_the_envelope_still_says_what_happened(server: ScriptedServer) -> None:
    server.on("GET", "models", httpx.Response(502, text="<html>Bad gateway</html>", headers={"x-request-id": "r9"}))
    with pytest.raises(s2s.InternalServerError) as info:
        server.client(max_retries=0).models.list()
    assert "502" in info.value.message and "Bad gateway" in info.value.message
    assert info.value.code is None and info.value.request_id == "r9"


def test_a_non_api_answer_is_reported_as_such(server: ScriptedServer) -> None:
    server.on("GET", "models", httpx.Response(200, text="<html>a web page</html>"))
    with pytest.raises(s2s.APIError, match="base_url"):
        server.client().models.list()


# --- retries ----------------------------------------------------------------------------------------------
def test_server_errors_are_retried_with_exponential_backoff_and_jitter(server: ScriptedServer) -> None:
    server.on("GET", "models", error(503, "service_unavailable"), error(500, "server_error"))
    server.on("GET", "models", httpx.Response(200, json={"object": "list", "data": []}))
    server.client(max_retries=2).models.list()
    assert len(server.requests) == 3
    first, second = server.sleeps
    assert 0.375 <= first <= 0.5 and 0.75 <= second <= 1.0


def test_retries_stop_after_max_retries(server: ScriptedServer) -> None:
    server.on("GET", "models", error(500, "server_error"))
    with pytest.raises(s2s.InternalServerError):
        server.client(max_retries=3).models.list()
    assert len(server.requests) == 4 and len(server.sleeps) == 3


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503, 504])
def test_retryable_statuses(server: ScriptedServer, status: int) -> None:
    server.on("GET", "jobs/job_abc", error(status, "x"), httpx.Response(200, json=job()))
    assert server.client().jobs.retrieve("job_abc").id == "job_abc"
    assert len(server.requests) == 2


@pytest.mark.parametrize(("status", "code"), [(400, "invalid_request"), (401, "invalid_api_key"), (404, "not_found")])
def test_client_errors_are_not_retried(server: ScriptedServer, status: int, code: str) -> None:
    server.on("GET", "jobs/job_abc", error(status, code))
    with pytest.raises(s2s.APIStatusError):
        server.client(max_retries=5).jobs.retrieve("job_abc")
    assert len(server.requests) == 1 and server.sleeps == []


def test_retry_after_seconds_is_honoured(server: ScriptedServer) -> None:
    server.on("GET", "models", error(429, "rate_limit_exceeded", **{"Retry-After": "7"}))
    server.on("GET", "models", httpx.Response(200, json={"object": "list", "data": []}))
    server.client().models.list()
    assert server.sleeps == [7.0]


def test_retry_after_http_date_and_milliseconds_are_honoured(server: ScriptedServer) -> None:
    in_four_seconds = email.utils.formatdate(time.time() + 4, usegmt=True)
    server.on("GET", "models", error(503, "busy", **{"Retry-After": in_four_seconds}))
    server.on("GET", "models", error(429, "rate_limit_exceeded", **{"retry-after-ms": "1500"}))
    server.on("GET", "models", httpx.Response(200, json={"object": "list", "data": []}))
    server.client().models.list()
    assert 2.5 <= server.sleeps[0] <= 4.0 and server.sleeps[1] == 1.5


def test_an_absurd_retry_after_falls_back_to_backoff(server: ScriptedServer) -> None:
    server.on("GET", "models", error(429, "rate_limit_exceeded", **{"Retry-After": "86400"}))
    server.on("GET", "models", httpx.Response(200, json={"object": "list", "data": []}))
    server.client().models.list()
    assert server.sleeps[0] <= 0.5


def test_one_idempotency_key_per_post_reused_by_its_retries(server: ScriptedServer) -> None:
    server.on("POST", "audio/speech", error(500, "server_error"), error(503, "busy"))
    server.on("POST", "audio/speech", httpx.Response(200, content=b"ID3audio", headers={"content-type": "audio/mpeg"}))
    client = server.client()
    client.audio.speech.create(model="piper", voice="joe", input="one")
    client.audio.speech.create(model="piper", voice="joe", input="two")
    keys = [r.headers["idempotency-key"] for r in server.requests]
    assert len(keys) == 4
    assert keys[0] == keys[1] == keys[2]  # one call and its two retries
    assert keys[3] != keys[0]  # the next call gets its own key


def test_a_caller_supplied_idempotency_key_is_kept(server: ScriptedServer) -> None:
    server.on("POST", "audio/speech", httpx.Response(200, content=b"x", headers={"content-type": "audio/mpeg"}))
    server.client().audio.speech.create(
        model="piper", voice="joe", input="hi", extra_headers={"Idempotency-Key": "mine-1"}
    )
    assert server.requests[0].headers.get_list("idempotency-key") == ["mine-1"]


def test_get_requests_carry_no_idempotency_key(server: ScriptedServer) -> None:
    server.on("GET", "jobs/job_abc", httpx.Response(200, json=job()))
    server.client().jobs.retrieve("job_abc")
    assert "idempotency-key" not in server.requests[0].headers


def test_connection_errors_are_retried_then_raised(server: ScriptedServer) -> None:
    server.on("GET", "models", httpx.ConnectError("refused"))
    with pytest.raises(s2s.APIConnectionError, match="is the server running") as info:
        server.client(max_retries=2).models.list()
    assert len(server.requests) == 3 and len(server.sleeps) == 2
    assert info.value.status is None and info.value.request is not None


def test_a_connection_error_then_success(server: ScriptedServer) -> None:
    server.on("GET", "models", httpx.ConnectError("refused"))
    server.on("GET", "models", httpx.Response(200, json={"object": "list", "data": []}))
    assert server.client().models.list().data == []


def test_timeouts_raise_api_timeout_error(server: ScriptedServer) -> None:
    server.on("GET", "models", httpx.ReadTimeout("slow"))
    with pytest.raises(s2s.APITimeoutError):
        server.client(max_retries=1).models.list()
    assert len(server.requests) == 2
    assert issubclass(s2s.APITimeoutError, s2s.APIConnectionError)


def test_an_upload_is_sent_whole_on_every_attempt(server: ScriptedServer, tmp_path: Path) -> None:
    audio = b"RIFF" + bytes(range(256)) * 40
    server.on("POST", "audio/transcriptions", error(502, "bad_gateway"), error(503, "busy"))
    server.on("POST", "audio/transcriptions", httpx.Response(200, json=TRANSCRIPT))
    path = tmp_path / "speech.wav"
    path.write_bytes(audio)
    with path.open("rb") as fh:
        server.client().audio.transcriptions.create(file=fh, model="whisper-base")
    server.client().audio.transcriptions.create(file=path)
    uploads = [_multipart_fields(r) for r in server.requests]
    assert len(uploads) == 4
    for fields in uploads:
        assert ("file", "speech.wav", audio) in fields


async def test_async_retries_reuse_the_idempotency_key(server: ScriptedServer) -> None:
    server.on(
        "POST", "audio/speech", httpx.ConnectError("reset"), error(429, "rate_limit_exceeded", **{"Retry-After": "2"})
    )
    server.on("POST", "audio/speech", httpx.Response(200, content=b"ID3", headers={"content-type": "audio/mpeg"}))
    audio = await server.async_client().audio.speech.create(model="piper", voice="joe", input="hi")
    assert audio.content == b"ID3"
    assert len({r.headers["idempotency-key"] for r in server.requests}) == 1 and len(server.requests) == 3
    assert server.sleeps[1] == 2.0


# --- speech -----------------------------------------------------------------------------------------------
def test_speech_create_posts_the_contract_body_and_saves_audio(server: ScriptedServer, tmp_path: Path) -> None:
    headers = {"content-type": "audio/mpeg", "x-job-id": "job_1", "x-request-id": "req_9"}
    server.on("POST", "audio/speech", httpx.Response(200, content=b"ID3-mp3-bytes", headers=headers))
    audio = server.client().audio.speech.create(
        model="piper", voice="joe", input="Hello!", speed=1.25, format="wav", emotion="happy", stream=True
    )
    body = json.loads(server.requests[0].content)
    assert body == {
        "model": "piper", "voice": "joe", "input": "Hello!", "speed": 1.25, "format": "wav", "emotion": "happy",
        "stream": True,
    }  # fmt: skip
    assert server.requests[0].url == f"{BASE}/audio/speech"
    assert audio.content == b"ID3-mp3-bytes" and audio.job_id == "job_1" and audio.request_id == "req_9"
    assert audio.save(tmp_path / "a.mp3").read_bytes() == b"ID3-mp3-bytes"
    assert audio.write_to_file(tmp_path / "b.mp3").read_bytes() == b"ID3-mp3-bytes"


def test_speech_response_format_is_the_openai_name_for_format(server: ScriptedServer) -> None:
    server.on("POST", "audio/speech", httpx.Response(200, content=b"x", headers={"content-type": "audio/wav"}))
    server.client().audio.speech.create(model="piper", voice="joe", input="hi", response_format="wav")
    assert json.loads(server.requests[0].content)["format"] == "wav"
    with pytest.raises(ValueError, match="disagree"):
        server.client().audio.speech.create(model="piper", voice="joe", input="hi", format="mp3", response_format="wav")


def test_speech_extra_body_reaches_the_server(server: ScriptedServer) -> None:
    server.on("POST", "audio/speech", httpx.Response(200, content=b"x", headers={"content-type": "audio/mpeg"}))
    server.client().audio.speech.create(
        model="piper", voice="joe", input="hi", language="en", instructions="calm", extra_body={"seed": 7}
    )
    body = json.loads(server.requests[0].content)
    assert (body["seed"], body["language"], body["instructions"]) == (7, "en", "calm")


def test_speech_wait_false_returns_the_queued_job(server: ScriptedServer) -> None:
    server.on("POST", "audio/speech", httpx.Response(202, json=job("queued")))
    result = server.client().audio.speech.create(model="piper", voice="joe", input="hi", wait=False)
    assert isinstance(result, s2s.Job) and result.status == "queued" and not result.done
    assert json.loads(server.requests[0].content)["async"] is True


def test_speech_past_the_servers_wait_polls_the_job_and_downloads_its_result(server: ScriptedServer) -> None:
    server.on("POST", "audio/speech", httpx.Response(202, json=job("running", progress=0.5)))
    server.on("GET", "jobs/job_abc", httpx.Response(200, json=job("running", progress=0.8)))
    server.on("GET", "jobs/job_abc", httpx.Response(200, json=job("succeeded", progress=1.0)))
    server.on("GET", "jobs/job_abc/result", httpx.Response(200, content=b"OggS", headers={"content-type": "audio/ogg"}))
    audio = server.client().audio.speech.create(model="piper", voice="joe", input="a long text")
    assert audio.content == b"OggS"
    assert [r.url.path for r in server.requests][-1] == "/v1/jobs/job_abc/result"
    assert server.sleeps == [1.0]


def test_a_failed_background_job_raises_job_failed_error(server: ScriptedServer) -> None:
    failed = job("failed", error={"code": "voice_not_found", "message": "Voice 'x' is gone."})
    server.on("POST", "audio/speech", httpx.Response(202, json=job("running")))
    server.on("GET", "jobs/job_abc", httpx.Response(200, json=failed))
    with pytest.raises(s2s.JobFailedError) as info:
        server.client().audio.speech.create(model="piper", voice="x", input="hi")
    assert info.value.code == "voice_not_found" and "Voice 'x' is gone." in str(info.value)


# --- streaming --------------------------------------------------------------------------------------------
def test_streaming_response_writes_each_chunk_as_it_arrives(server: ScriptedServer, tmp_path: Path) -> None:
    target = tmp_path / "streamed.mp3"

    def body() -> Iterator[bytes]:
        yield b"A" * 1000
        # the server has not sent the rest yet, and the first chunk is already on disk
        assert target.read_bytes() == b"A" * 1000
        yield b"B" * 500

    server.on(
        "POST", "audio/speech", lambda _: httpx.Response(200, content=body(), headers={"content-type": "audio/mpeg"})
    )
    with server.client().audio.speech.with_streaming_response.create(model="piper", voice="joe", input="hi") as r:
        assert isinstance(r, s2s.StreamedAudioResponse)
        assert not r.response.is_stream_consumed
        r.stream_to_file(target)
    assert target.read_bytes() == b"A" * 1000 + b"B" * 500
    assert r.response.is_closed


def test_streaming_response_iterates_chunks(server: ScriptedServer) -> None:
    server.on(
        "GET",
        "jobs/job_abc/result",
        lambda _: httpx.Response(200, content=iter([b"one", b"two"]), headers={"content-type": "audio/wav"}),
    )
    with server.client().jobs.with_streaming_response.result("job_abc") as r:
        assert b"".join(r.iter_bytes()) == b"onetwo"


def test_streaming_errors_raise_before_the_body_is_used(server: ScriptedServer) -> None:
    server.on("POST", "audio/speech", error(404, "voice_not_found", "Voice 'nope' does not exist."))
    with (
        pytest.raises(s2s.VoiceNotFoundError),
        server.client().audio.speech.with_streaming_response.create(model="piper", voice="nope", input="hi"),
    ):
        pass


def test_streaming_is_not_for_background_jobs(server: ScriptedServer) -> None:
    server.on("POST", "audio/speech", httpx.Response(202, json=job()))
    speech = server.client().audio.speech
    with (
        pytest.raises(TypeError, match="wait=False"),
        speech.with_streaming_response.create(model="piper", voice="joe", input="hi", wait=False),
    ):
        pass


async def test_async_streaming_response_writes_each_chunk_as_it_arrives(server: ScriptedServer, tmp_path: Path) -> None:
    target = tmp_path / "streamed.wav"

    async def body() -> AsyncIterator[bytes]:
        yield b"RIFF" * 100
        assert target.read_bytes() == b"RIFF" * 100
        yield b"data" * 100

    server.on(
        "POST", "audio/speech", lambda _: httpx.Response(200, content=body(), headers={"content-type": "audio/wav"})
    )
    client = server.async_client()
    async with client.audio.speech.with_streaming_response.create(model="piper", voice="joe", input="hi") as r:
        assert isinstance(r, s2s.AsyncStreamedAudioResponse)
        await r.stream_to_file(target)
    assert target.read_bytes() == b"RIFF" * 100 + b"data" * 100


# --- transcriptions ---------------------------------------------------------------------------------------
def test_transcription_sends_the_form_and_returns_a_typed_object(server: ScriptedServer) -> None:
    server.on("POST", "audio/transcriptions", httpx.Response(200, json=TRANSCRIPT))
    result = server.client().audio.transcriptions.create(
        file=b"RIFF....WAVE",
        model="whisper-base",
        language="en",
        diarization=True,
        timestamp_granularities=["segment", "word"],
        prompt="JFK",
        temperature=0.2,
        num_speakers=2,
        channels="split",
    )
    fields = {name: value for name, _, value in _multipart_fields(server.requests[0])}
    assert fields == {
        "model": b"whisper-base", "language": b"en", "diarization": b"true", "timestamps": b"word",
        "prompt": b"JFK", "temperature": b"0.2", "file": b"RIFF....WAVE", "num_speakers": b"2", "channels": b"split",
    }  # fmt: skip
    assert isinstance(result, s2s.Transcription)
    assert result.text.strip() == "And so my fellow Americans." and result.language == "en"
    assert result.segments[0].speaker == "SPEAKER_00"
    assert [w.word for w in result.words or []] == [" And", " so"]


@pytest.mark.parametrize(
    ("fmt", "body", "content_type"),
    [
        ("text", "SPEAKER_00: And so my fellow Americans.\n", "text/plain; charset=utf-8"),
        ("srt", "1\n00:00:00,000 --> 00:00:02,500\n[SPEAKER_00] And so my fellow Americans.\n", "application/x-subrip"),
        ("vtt", "WEBVTT\n\n00:00:00.000 --> 00:00:02.500\n<v SPEAKER_00>And so my fellow Americans.\n", "text/vtt"),
    ],
)
def test_text_formats_return_the_servers_text(server: ScriptedServer, fmt: str, body: str, content_type: str) -> None:
    server.on("POST", "audio/transcriptions", httpx.Response(200, text=body, headers={"content-type": content_type}))
    result = server.client().audio.transcriptions.create(file=b"x", response_format=fmt)  # type: ignore[call-overload]
    assert result == body
    assert ("response_format", None, fmt.encode()) in _multipart_fields(server.requests[0])


def test_json_words_at_the_top_level_or_inside_segments() -> None:
    top_level = {**TRANSCRIPT, "segments": [{**TRANSCRIPT["segments"][0], "words": None}], "words": [
        {"start": 0.0, "end": 0.4, "word": " And"}
    ]}  # fmt: skip
    assert [w.word for w in s2s.Transcription.model_validate(top_level).words or []] == [" And"]
    assert [w.word for w in s2s.Transcription.model_validate(TRANSCRIPT).words or []] == [" And", " so"]
    assert s2s.Transcription.model_validate({"text": "hi"}).words is None


def test_transcription_wait_false_then_jobs_wait(server: ScriptedServer) -> None:
    server.on("POST", "audio/transcriptions", httpx.Response(202, json=job("queued", kind="stt")))
    server.on("GET", "jobs/job_abc", httpx.Response(200, json=job("running", kind="stt", progress=0.3)))
    server.on("GET", "jobs/job_abc", httpx.Response(200, json=job("running", kind="stt", progress=0.6)))
    server.on(
        "GET", "jobs/job_abc", httpx.Response(200, json=job("succeeded", kind="stt", progress=1.0, result=TRANSCRIPT))
    )
    client = server.client()
    queued = client.audio.transcriptions.create(file=b"x", wait=False)
    assert ("async", None, b"true") in _multipart_fields(server.requests[0])
    seen: list[float] = []
    done = client.jobs.wait(queued.id, poll_interval=0.25, on_progress=lambda j: seen.append(j.progress))
    assert done.status == "succeeded" and seen == [0.3, 0.6, 1.0]
    assert server.sleeps == [0.25, 0.25]
    assert done.transcription is not None and done.transcription.segments[0].words


def test_transcription_past_the_servers_wait_fetches_the_rendered_result(server: ScriptedServer) -> None:
    server.on("POST", "audio/transcriptions", httpx.Response(202, json=job("running", kind="stt")))
    server.on("GET", "jobs/job_abc", httpx.Response(200, json=job("succeeded", kind="stt", result=TRANSCRIPT)))
    server.on(
        "GET", "jobs/job_abc/result", httpx.Response(200, text="And so.\n", headers={"content-type": "text/plain"})
    )
    text = server.client().audio.transcriptions.create(file=b"x", response_format="text")
    assert text == "And so.\n"
    assert server.requests[-1].url.params["response_format"] == "text"


def test_jobs_transcription_renders_a_finished_job(server: ScriptedServer) -> None:
    server.on("GET", "jobs/job_abc/result", httpx.Response(200, json=TRANSCRIPT))
    transcript = server.client().jobs.transcription("job_abc")
    assert isinstance(transcript, s2s.Transcription) and transcript.segments[0].speaker == "SPEAKER_00"
    assert server.requests[0].url.params["response_format"] == "json"


def test_file_inputs(server: ScriptedServer, tmp_path: Path) -> None:
    server.on("POST", "audio/transcriptions", httpx.Response(200, json=TRANSCRIPT))
    path = tmp_path / "a.flac"
    path.write_bytes(b"fLaC-data")
    client = server.client()
    client.audio.transcriptions.create(file=str(path))
    client.audio.transcriptions.create(file=io.BytesIO(b"raw"))
    client.audio.transcriptions.create(file=("named.mp3", b"ID3", "audio/mpeg"))
    client.audio.transcriptions.create(file=b"bytes")
    files = [next(f for f in _multipart_fields(r) if f[0] == "file") for r in server.requests]
    assert files == [
        ("file", "a.flac", b"fLaC-data"),
        ("file", "upload", b"raw"),
        ("file", "named.mp3", b"ID3"),
        ("file", "upload", b"bytes"),
    ]
    assert "content-type: audio/mpeg" in server.requests[2].content.decode(errors="replace").lower()
    with pytest.raises(FileNotFoundError):
        client.audio.transcriptions.create(file=tmp_path / "missing.wav")
    with pytest.raises(TypeError, match="binary mode"), (tmp_path / "a.flac").open() as text_mode:
        client.audio.transcriptions.create(file=text_mode)  # type: ignore[arg-type]


async def test_async_transcription(server: ScriptedServer) -> None:
    server.on("POST", "audio/transcriptions", httpx.Response(200, json=TRANSCRIPT))
    result = await server.async_client().audio.transcriptions.create(file=b"x", response_format="verbose_json")
    assert isinstance(result, s2s.Transcription) and result.duration == 2.5


# --- jobs -------------------------------------------------------------------------------------------------
def test_jobs_retrieve_list_cancel(server: ScriptedServer) -> None:
    server.on("GET", "jobs/job_abc", httpx.Response(200, json=job("running", progress=0.4)))
    listing = {"object": "list", "data": [job("succeeded"), job("failed")], "has_more": True, "last_id": "job_abc"}
    server.on("GET", "jobs", httpx.Response(200, json=listing))
    server.on("DELETE", "jobs/job_abc", httpx.Response(200, json=job("canceled", error={"code": "canceled"})))
    client = server.client()
    assert client.jobs.retrieve("job_abc").progress == 0.4
    page = client.jobs.list(limit=5, after="job_x", status="succeeded")
    assert [j.status for j in page.data] == ["succeeded", "failed"] and page.has_more and page.last_id == "job_abc"
    assert server.requests[1].url.params == httpx.QueryParams({"limit": "5", "after": "job_x", "status": "succeeded"})
    canceled = client.jobs.cancel("job_abc")
    assert canceled.status == "canceled" and canceled.done


def test_ids_cannot_escape_their_path_segment(server: ScriptedServer) -> None:
    server.on("GET", "jobs/../models", httpx.Response(200, json=job()))  # decoded path
    server.client().jobs.retrieve("../models")
    assert server.requests[0].url.raw_path == b"/v1/jobs/..%2Fmodels"


def test_jobs_wait_gives_up_after_its_timeout(server: ScriptedServer) -> None:
    server.on("GET", "jobs/job_abc", httpx.Response(200, json=job("running", progress=0.5)))
    client = server.client()
    client._sleep = time.sleep  # type: ignore[method-assign]
    with pytest.raises(s2s.JobTimeoutError, match="still running") as info:
        client.jobs.wait("job_abc", timeout=0.3, poll_interval=0.05)
    assert info.value.job.progress == 0.5 and isinstance(info.value, TimeoutError)
    assert len(server.requests) >= 3


async def test_async_jobs_wait(server: ScriptedServer) -> None:
    server.on("GET", "jobs/job_abc", httpx.Response(200, json=job("queued")))
    server.on("GET", "jobs/job_abc", httpx.Response(200, json=job("succeeded", progress=1.0)))
    progress: list[str] = []
    done = await server.async_client().jobs.wait("job_abc", on_progress=lambda j: progress.append(j.status))
    assert done.status == "succeeded" and progress == ["queued", "succeeded"]


async def test_async_speech_past_the_servers_wait(server: ScriptedServer) -> None:
    server.on("POST", "audio/speech", httpx.Response(202, json=job("running")))
    server.on("GET", "jobs/job_abc", httpx.Response(200, json=job("succeeded")))
    server.on(
        "GET", "jobs/job_abc/result", httpx.Response(200, content=b"fLaC", headers={"content-type": "audio/flac"})
    )
    audio = await server.async_client().audio.speech.create(model="piper", voice="joe", input="hi", format="flac")
    assert audio.content == b"fLaC"


# --- voices and models ------------------------------------------------------------------------------------
VOICE = {
    "id": "voice_abc123xyz",
    "object": "voice",
    "name": "My Custom Voice",
    "model": "piper",
    "language": "en",
    "status": "ready",
    "created_at": "2026-02-03T12:00:00Z",
    "warnings": ["sample is short"],
}


def test_clone_with_one_sample_uses_the_file_field(server: ScriptedServer) -> None:
    server.on("POST", "voices/clone", httpx.Response(200, json=VOICE))
    voice = server.client().voices.clone(name="My Custom Voice", files=[("sample.mp3", b"ID3")], model="piper")
    fields = _multipart_fields(server.requests[0])
    assert ("file", "sample.mp3", b"ID3") in fields and ("name", None, b"My Custom Voice") in fields
    assert ("model", None, b"piper") in fields
    assert voice.id == "voice_abc123xyz" and voice.status == "ready" and voice.warnings == ["sample is short"]


def test_clone_waits_for_enrollment_unless_told_not_to(server: ScriptedServer) -> None:
    processing = {**VOICE, "status": "processing", "job_id": "job_abc"}
    server.on("POST", "voices/clone", httpx.Response(202, json=processing))
    server.on("GET", "jobs/job_abc", httpx.Response(200, json=job("succeeded", kind="clone")))
    server.on("GET", "voices/voice_abc123xyz", httpx.Response(200, json=VOICE))
    client = server.client()
    assert client.voices.clone(name="n", file=b"RIFF").status == "ready"
    assert [r.url.path for r in server.requests] == [
        "/v1/voices/clone",
        "/v1/jobs/job_abc",
        "/v1/voices/voice_abc123xyz",
    ]
    queued = client.voices.clone(name="n", file=b"RIFF", wait=False)
    assert queued.status == "processing" and queued.job_id == "job_abc"
    assert ("async", None, b"true") in _multipart_fields(server.requests[-1])


def test_a_failed_enrollment_raises_job_failed_error(server: ScriptedServer) -> None:
    server.on("POST", "voices/clone", httpx.Response(202, json={**VOICE, "status": "processing", "job_id": "job_abc"}))
    failed = job("failed", kind="clone", error={"code": "invalid_audio", "message": "No speech in the sample."})
    server.on("GET", "jobs/job_abc", httpx.Response(200, json=failed))
    with pytest.raises(s2s.JobFailedError, match="No speech"):
        server.client().voices.clone(name="n", file=b"RIFF")


def test_clone_with_several_samples_uses_repeated_files_fields(server: ScriptedServer) -> None:
    server.on("POST", "voices/clone", httpx.Response(200, json=VOICE))
    server.client().voices.clone(name="n", file=("a.wav", b"A"), files=[("b.wav", b"B")], language="en")
    fields = _multipart_fields(server.requests[0])
    assert [(n, f) for n, f, _ in fields if f] == [("files", "a.wav"), ("files", "b.wav")]
    with pytest.raises(ValueError, match="reference audio"):
        server.client().voices.clone(name="n")


def test_clone_sends_consent_description_and_labels(server: ScriptedServer) -> None:
    server.on("POST", "voices/clone", httpx.Response(200, json=VOICE))
    server.client().voices.clone(
        name="n",
        file=b"RIFF",
        consent=True,
        consent_statement="Signed release, 2026-11-30",
        consent_recording=("consent.wav", b"RIFFc"),
        description="Narrator",
        labels={"accent": "Irish", "use_case": "narration"},
    )
    fields = _multipart_fields(server.requests[0])
    assert ("consent", None, b"true") in fields and ("description", None, b"Narrator") in fields
    assert ("consent_statement", None, b"Signed release, 2026-11-30") in fields
    assert ("consent_recording", "consent.wav", b"RIFFc") in fields
    assert ("labels", None, b'{"accent": "Irish", "use_case": "narration"}') in fields
    server.client().voices.clone(name="n", file=b"RIFF")  # no consent: the server decides (CLONE_CONSENT)
    assert not [f for f in _multipart_fields(server.requests[1]) if f[0].startswith("consent")]


def test_voice_design_sends_the_reference_and_filters(server: ScriptedServer) -> None:
    designed = {**VOICE, "type": "designed", "preset": "am_onyx(0.7)+am_adam(0.3)", "model": "kokoro"}
    server.on("POST", "voices/design", httpx.Response(200, json=designed))
    voice = server.client().voices.design(name="n", file=("ref.wav", b"RIFF"), gender="male", blend=2)
    fields = _multipart_fields(server.requests[0])
    assert ("file", "ref.wav", b"RIFF") in fields and ("gender", None, b"male") in fields
    assert ("blend", None, b"2") in fields
    assert voice.type == "designed" and voice.preset == "am_onyx(0.7)+am_adam(0.3)"


def test_voice_update_and_preview(server: ScriptedServer) -> None:
    server.on("PATCH", "voices/voice_abc123xyz", httpx.Response(200, json={**VOICE, "name": "New"}))
    server.on("GET", "voices/voice_abc123xyz/preview", httpx.Response(200, content=b"ID3preview"))
    client = server.client()
    assert client.voices.update("voice_abc123xyz", name="New", labels={}).name == "New"
    assert json.loads(server.requests[0].content) == {"name": "New", "labels": {}}
    assert client.voices.preview("voice_abc123xyz") == b"ID3preview"


def test_voices_list_retrieve_delete(server: ScriptedServer) -> None:
    listing = {"object": "list", "data": [VOICE], "presets": [{"id": "joe", "model": "piper"}]}
    server.on("GET", "voices", httpx.Response(200, json=listing))
    server.on("GET", "voices/voice_abc123xyz", httpx.Response(200, json=VOICE))
    server.on("DELETE", "voices/voice_abc123xyz", httpx.Response(200, json={"id": "voice_abc123xyz", "deleted": True}))
    client = server.client()
    voices = client.voices.list()
    assert voices.data[0].name == "My Custom Voice" and voices.presets[0].id == "joe"
    assert client.voices.retrieve("voice_abc123xyz").model == "piper"
    assert client.voices.delete("voice_abc123xyz").deleted is True


async def test_async_voices(server: ScriptedServer) -> None:
    server.on("POST", "voices/clone", httpx.Response(200, json=VOICE))
    server.on("GET", "voices/voice_x", error(404, "voice_not_found"))
    client = server.async_client()
    assert (await client.voices.clone(name="n", files=[b"RIFF"])).id == "voice_abc123xyz"
    with pytest.raises(s2s.VoiceNotFoundError):
        await client.voices.retrieve("voice_x")


def test_models_list_and_retrieve(server: ScriptedServer) -> None:
    model = {
        "id": "fish-speech-v1.5", "object": "model", "kind": "tts", "family": "fish_speech", "description": "d",
        "installed": False, "bundled": False, "languages": [], "install_hint": "pip install -e '.[fish-speech]'",
        "prices": {"per_1k_characters": 1.0},
    }  # fmt: skip
    server.on("GET", "models", httpx.Response(200, json={"object": "list", "data": [model]}))
    server.on("GET", "models/fish-speech-v1.5", httpx.Response(200, json=model))
    client = server.client()
    assert [m.id for m in client.models.list().data] == ["fish-speech-v1.5"]
    retrieved = client.models.retrieve("fish-speech-v1.5")
    assert retrieved.installed is False and "pip install" in (retrieved.install_hint or "")


def test_clients_close_their_connections(server: ScriptedServer) -> None:
    with server.client() as client:
        pass
    assert client._client.is_closed


async def test_async_clients_close_their_connections(server: ScriptedServer) -> None:
    async with server.async_client() as client:
        pass
    assert client._client.is_closed


def test_sync_and_async_twins_have_the_same_signatures() -> None:
    import inspect

    pairs = [
        (Client(api_key="k").audio.speech.create, AsyncClient(api_key="k").audio.speech.create),
        (Client(api_key="k").audio.transcriptions.create, AsyncClient(api_key="k").audio.transcriptions.create),
        (Client(api_key="k").voices.clone, AsyncClient(api_key="k").voices.clone),
        (Client(api_key="k").jobs.wait, AsyncClient(api_key="k").jobs.wait),
        (Client(api_key="k").jobs.result, AsyncClient(api_key="k").jobs.result),
    ]
    for sync_method, async_method in pairs:
        assert inspect.signature(sync_method) == inspect.signature(async_method)
