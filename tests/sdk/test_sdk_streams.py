"""The Python SDK's Server-Sent Events streams (`client.audio.speech.stream`, `audio.transcriptions.stream`,
`audio.voice_conversions.stream`, sync and async): against the real server (uvicorn, Celery worker, Piper, Whisper,
Kokoro), the events arrive typed and in order and their audio is the whole file; against a scripted server, an
`error` event raises StreamError with its code and job, an unknown event type is kept, and an answer that is not
an event stream says what came instead."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import speechtospeechai as s2s
from speechtospeechai import AsyncClient, Client
from speechtospeechai.types import (
    ConversionAudioDelta,
    ConversionAudioDone,
    SpeechAudioDelta,
    SpeechAudioDone,
    StreamEvent,
    TranscriptTextDelta,
    TranscriptTextDone,
)

from shared import audio
from tests.sdk.conftest import ScriptedServer
from tests.sdk.live import probe_bytes
from tests.text import wer

SENTENCE = "Streaming events arrive one by one. Each carries a piece of the audio file."


@pytest.fixture(scope="module")
def sdk(live_api: str, api_key: str) -> Iterator[Client]:
    with Client(api_key=api_key, base_url=live_api) as client:
        yield client


@pytest.mark.integration
def test_speech_stream_sends_the_file_piece_by_piece(sdk: Client) -> None:
    with sdk.audio.speech.stream(model="piper", voice="joe", input=SENTENCE, format="mp3") as stream:
        events = list(stream)
    assert stream.job_id and stream.job_id.startswith("job_")
    *deltas, done = events
    assert deltas and all(isinstance(e, SpeechAudioDelta) for e in deltas)
    assert isinstance(done, SpeechAudioDone) and done.job_id == stream.job_id
    content = b"".join(e.data for e in deltas if isinstance(e, SpeechAudioDelta))
    info = probe_bytes(content)
    assert info.container == "mp3" and done.usage["duration"] == pytest.approx(info.duration, abs=0.3)
    assert done.usage["input_characters"] == len(SENTENCE)
    heard = sdk.audio.transcriptions.create(model="whisper-tiny.en", file=("speech.mp3", content))
    assert wer(SENTENCE, heard.text) <= 0.25, heard.text


@pytest.mark.integration
def test_transcription_stream_sends_segments_then_the_whole_text(sdk: Client, testdata: Path) -> None:
    with sdk.audio.transcriptions.stream(model="whisper-tiny.en", file=testdata / "jfk.flac") as stream:
        events = list(stream)
    *deltas, done = events
    assert deltas and all(isinstance(e, TranscriptTextDelta) for e in deltas)
    assert isinstance(done, TranscriptTextDone) and done.job_id == stream.job_id
    assert "".join(e.delta for e in deltas if isinstance(e, TranscriptTextDelta)).strip() == done.text.strip()
    assert wer((testdata / "jfk.txt").read_text(), done.text) <= 0.25
    assert done.segments and done.duration == pytest.approx(11.0, abs=0.1)  # json: the transcription's fields


@pytest.mark.integration
async def test_async_conversion_stream(live_api: str, api_key: str, testdata: Path) -> None:
    async with AsyncClient(api_key=api_key, base_url=live_api) as client:
        stream = await client.audio.voice_conversions.stream(
            file=testdata / "leopard_test_en.wav", voice="af_bella", response_format="wav"
        )
        async with stream:
            events = [event async for event in stream]
    *deltas, done = events
    assert deltas and all(isinstance(e, ConversionAudioDelta) for e in deltas)
    assert isinstance(done, ConversionAudioDone) and done.job_id == stream.job_id
    content = b"".join(e.data for e in deltas if isinstance(e, ConversionAudioDelta))
    seconds = audio.decode(io.BytesIO(content), sample_rate=16000).size / 16000
    assert seconds == pytest.approx(5.86, rel=0.02) and done.usage["input_seconds"] == pytest.approx(5.86, abs=0.05)
    assert done.text and wer((testdata / "leopard_test_en.txt").read_text(), done.text) <= 0.3


def sse_body(*lines: str) -> httpx.Response:
    body = "".join(f"data: {line}\n\n" for line in lines)
    return httpx.Response(200, text=body, headers={"content-type": "text/event-stream", "x-job-id": "job_abc"})


def test_error_event_raises_stream_error(server: ScriptedServer) -> None:
    server.on(
        "POST", "audio/speech",
        sse_body('{"type": "speech.audio.delta", "audio": "SUQz"}',
                 '{"type": "error", "error": {"code": "timeout", "message": "Still running", "job_id": "job_abc"}}'),
    )  # fmt: skip
    stream = server.client().audio.speech.stream(model="piper", voice="joe", input="hi")
    seen = []
    with pytest.raises(s2s.StreamError) as caught:
        for event in stream:
            seen.append(event)
    assert [type(e) for e in seen] == [SpeechAudioDelta] and seen[0].data == b"ID3"  # type: ignore[union-attr]
    assert (caught.value.code, caught.value.job_id) == ("timeout", "job_abc")
    sent = server.requests[0]
    assert sent.headers["accept"] == "text/event-stream" and b'"stream_format":"sse"' in sent.content


def test_unknown_event_types_are_kept(server: ScriptedServer) -> None:
    server.on("POST", "audio/transcriptions",
              sse_body('{"type": "transcript.text.newthing", "value": 3}',
                       '{"type": "transcript.text.done", "text": "hello", "job_id": "job_abc"}'))  # fmt: skip
    events = list(server.client().audio.transcriptions.stream(file=b"RIFF....", model="whisper-base"))
    assert isinstance(events[0], StreamEvent) and events[0].model_extra == {"value": 3}
    assert isinstance(events[1], TranscriptTextDone) and events[1].text == "hello"
    assert b'name="stream"\r\n\r\ntrue' in server.requests[0].content


async def test_an_answer_that_is_no_event_stream_is_reported(server: ScriptedServer) -> None:
    server.on("POST", "audio/voice-conversions", httpx.Response(200, json={"text": "not events"}))
    stream = await server.async_client().audio.voice_conversions.stream(file=b"RIFF....", voice="af_bella")
    with pytest.raises(s2s.SpeechToSpeechAIError, match=r"Expected Server-Sent Events.*application/json.*not events"):
        async for _ in stream:
            pass
