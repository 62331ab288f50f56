"""`client.audio.voice_conversions` (`POST /v1/audio/voice-conversions`) and `client.speech_to_speech`
(ElevenLabs' `POST /v1/speech-to-speech/{voice_id}`): speech in, the same speech out in another voice.

As with `audio.speech`, `wait=True` (the default) returns the audio also when the server answers 202 (the SDK polls
the job and downloads its output), `wait=False` returns the queued `Job`, and `with_streaming_response` reads the
audio chunk by chunk (with `stream=True` the server sends it phrase by phrase as each is spoken). The `X-Job-Id` of
the answer is the response's `job_id`: `client.jobs.transcription(job_id, response_format="srt")` says what the
output says, with its times.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Literal, overload

import httpx

from .._base_client import (
    AsyncAPIResource,
    RequestOptions,
    SyncAPIResource,
    Timeout,
    make_options,
    parse_model,
    path_param,
)
from .._files import FileTypes, prepare_file
from .._response import AudioResponse, async_to_streamed_response_wrapper, to_streamed_response_wrapper
from .._streaming import CONVERSION_EVENTS, AsyncStream, ConversionStreamEvent, Stream, sse_options
from ..types import AudioFormat, Job

if TYPE_CHECKING:
    from .._client import AsyncClient, Client

__all__ = [
    "AsyncSpeechToSpeech",
    "AsyncVoiceConversions",
    "SpeechToSpeech",
    "VoiceConversions",
]


def _voices_field(voices: Mapping[str, str] | Literal["auto"] | None) -> str | None:
    """`voices` as the form sends it: `auto`, or the speaker -> voice map as JSON text."""
    if voices is None or voices == "auto":
        return voices
    if isinstance(voices, str):
        raise TypeError('voices is a mapping of speaker -> voice (e.g. {"SPEAKER_00": "af_bella"}) or "auto".')
    return json.dumps(dict(voices))


def _conversion_options(
    *,
    file: FileTypes | None,
    voice: str | None,
    voices: Mapping[str, str] | Literal["auto"] | None,
    model: str | None,
    tts_model: str | None,
    diarization: bool | None,
    num_speakers: int | None,
    min_speakers: int | None,
    max_speakers: int | None,
    language: str | None,
    target_language: Literal["en"] | None,
    response_format: AudioFormat | None,
    sample_rate: int | None,
    stream: bool | None,
    file_id: str | None,
    webhook_url: str | None,
    wait: bool,
    extra_headers: Mapping[str, str] | None,
    extra_body: Mapping[str, object] | None,
    timeout: Timeout,
    stream_response: bool,
) -> RequestOptions:
    if (file is None) == (file_id is None):
        raise ValueError("Pass the speech as file=..., or the id of an uploaded file as file_id=... (one of them).")
    data = {
        "voice": voice,
        "voices": _voices_field(voices),
        "model": model,
        "tts_model": tts_model,
        "diarization": diarization,
        "num_speakers": num_speakers,
        "min_speakers": min_speakers,
        "max_speakers": max_speakers,
        "language": language,
        "target_language": target_language,
        "response_format": response_format,
        "sample_rate": sample_rate,
        "stream": stream,
        "file_id": file_id,
        "webhook_url": webhook_url,
        "async": None if wait else True,
    }
    return make_options(
        "POST",
        "audio/voice-conversions",
        data=data,  # a form also without a file (file_id): the route reads form fields
        files=[("file", prepare_file(file))] if file is not None else [],
        extra_headers=extra_headers,
        extra_body=extra_body,
        timeout=timeout,
        stream=stream_response,
    )


def _eleven_options(
    *,
    voice_id: str,
    audio: FileTypes,
    model_id: str | None,
    output_format: str | None,
    extra_headers: Mapping[str, str] | None,
    timeout: Timeout,
    stream_response: bool,
) -> RequestOptions:
    path = f"speech-to-speech/{path_param(voice_id)}" + ("/stream" if stream_response else "")
    return make_options(
        "POST",
        path,
        data={"model_id": model_id},
        files=[("audio", prepare_file(audio))],
        params={"output_format": output_format},
        extra_headers=extra_headers,
        timeout=timeout,
        stream=stream_response,
    )


def _sync_audio(client: Client, response: httpx.Response, options: RequestOptions, stream: bool) -> AudioResponse:
    if response.status_code == 202:
        job = parse_model(response, Job)
        jobs = client.jobs
        jobs._wait_for_success(job.id)
        return (jobs._streaming() if stream else jobs).result(job.id)
    # a `_streaming()` copy returns a StreamedAudioResponse, typed by `with_streaming_response`
    return client.audio_response(response, options)  # type: ignore[return-value]


async def _async_audio(
    client: AsyncClient, response: httpx.Response, options: RequestOptions, stream: bool
) -> AudioResponse:
    if response.status_code == 202:
        job = parse_model(response, Job)
        jobs = client.jobs
        await jobs._wait_for_success(job.id)
        return await (jobs._streaming() if stream else jobs).result(job.id)
    return client.audio_response(response, options)  # type: ignore[return-value]


class VoiceConversions(SyncAPIResource):
    """Speech to speech: the same words on the same timeline, spoken by another voice (or voices)."""

    @overload
    def create(
        self,
        *,
        file: FileTypes | None = None,
        voice: str | None = None,
        voices: Mapping[str, str] | Literal["auto"] | None = None,
        model: str | None = None,
        tts_model: str | None = None,
        diarization: bool | None = None,
        num_speakers: int | None = None,
        min_speakers: int | None = None,
        max_speakers: int | None = None,
        language: str | None = None,
        target_language: Literal["en"] | None = None,
        response_format: AudioFormat | None = None,
        sample_rate: int | None = None,
        stream: bool | None = None,
        file_id: str | None = None,
        webhook_url: str | None = None,
        wait: Literal[True] = True,
        extra_headers: Mapping[str, str] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: Timeout = None,
    ) -> AudioResponse: ...

    @overload
    def create(
        self,
        *,
        file: FileTypes | None = None,
        voice: str | None = None,
        voices: Mapping[str, str] | Literal["auto"] | None = None,
        model: str | None = None,
        tts_model: str | None = None,
        diarization: bool | None = None,
        num_speakers: int | None = None,
        min_speakers: int | None = None,
        max_speakers: int | None = None,
        language: str | None = None,
        target_language: Literal["en"] | None = None,
        response_format: AudioFormat | None = None,
        sample_rate: int | None = None,
        stream: bool | None = None,
        file_id: str | None = None,
        webhook_url: str | None = None,
        wait: Literal[False],
        extra_headers: Mapping[str, str] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: Timeout = None,
    ) -> Job: ...

    def create(
        self,
        *,
        file: FileTypes | None = None,
        voice: str | None = None,
        voices: Mapping[str, str] | Literal["auto"] | None = None,
        model: str | None = None,
        tts_model: str | None = None,
        diarization: bool | None = None,
        num_speakers: int | None = None,
        min_speakers: int | None = None,
        max_speakers: int | None = None,
        language: str | None = None,
        target_language: Literal["en"] | None = None,
        response_format: AudioFormat | None = None,
        sample_rate: int | None = None,
        stream: bool | None = None,
        file_id: str | None = None,
        webhook_url: str | None = None,
        wait: bool = True,
        extra_headers: Mapping[str, str] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: Timeout = None,
    ) -> AudioResponse | Job:
        """Re-voice `file` (a path, bytes or a binary file object; or `file_id`, an uploaded file) with `voice`
        (a preset such as `af_bella` or `nova`, or a cloned voice id).

        `model` `revoice` (server default: the words re-spoken by a TTS voice, `tts_model` picks which) or
        `openvoice-v2`; `diarization=True` gives each speaker a voice: `voices` maps speaker labels to voices
        (`voice` speaks for the rest) or is `"auto"` (distinct presets picked by pitch), hinted by `num_speakers`
        or `min_speakers`/`max_speakers`; `target_language="en"` dubs into English. `response_format` mp3
        (default), wav, ogg, flac, opus, aac or pcm at `sample_rate` (default: the voice's own). `stream=True` has
        the server send the audio phrase by phrase (read it with `with_streaming_response`). `wait=False`
        returns the queued `Job` at once; `webhook_url` is told when it ends.
        """
        options = _conversion_options(
            file=file, voice=voice, voices=voices, model=model, tts_model=tts_model, diarization=diarization,
            num_speakers=num_speakers, min_speakers=min_speakers, max_speakers=max_speakers, language=language,
            target_language=target_language, response_format=response_format, sample_rate=sample_rate,
            stream=stream, file_id=file_id, webhook_url=webhook_url, wait=wait, extra_headers=extra_headers,
            extra_body=extra_body, timeout=timeout, stream_response=self._stream,
        )  # fmt: skip
        response = self._client.request(options)
        if response.status_code == 202 and not wait:
            return parse_model(response, Job)
        return _sync_audio(self._client, response, options, self._stream)

    def stream(
        self,
        *,
        file: FileTypes | None = None,
        voice: str | None = None,
        voices: Mapping[str, str] | Literal["auto"] | None = None,
        model: str | None = None,
        tts_model: str | None = None,
        diarization: bool | None = None,
        num_speakers: int | None = None,
        min_speakers: int | None = None,
        max_speakers: int | None = None,
        language: str | None = None,
        target_language: Literal["en"] | None = None,
        response_format: AudioFormat | None = None,
        sample_rate: int | None = None,
        file_id: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: Timeout = None,
    ) -> Stream[ConversionStreamEvent]:
        """The converted audio as Server-Sent Events (`stream_format=sse`), phrase by phrase as each is spoken:
        `ConversionAudioDelta` events (`.data` is the next piece of the file), then `ConversionAudioDone` with the
        job id, usage and what the output says (arguments as for `create`)."""
        options = _conversion_options(
            file=file, voice=voice, voices=voices, model=model, tts_model=tts_model, diarization=diarization,
            num_speakers=num_speakers, min_speakers=min_speakers, max_speakers=max_speakers, language=language,
            target_language=target_language, response_format=response_format, sample_rate=sample_rate,
            stream=True, file_id=file_id, webhook_url=None, wait=True, extra_headers=extra_headers,
            extra_body={"stream_format": "sse", **(extra_body or {})}, timeout=timeout, stream_response=True,
        )  # fmt: skip
        return Stream(self._client.request(sse_options(options)), CONVERSION_EVENTS)

    @cached_property
    def with_streaming_response(self) -> VoiceConversionsWithStreamingResponse:
        """`with client.audio.voice_conversions.with_streaming_response.create(..., stream=True) as r:
        r.stream_to_file(path)`."""
        return VoiceConversionsWithStreamingResponse(self)


class SpeechToSpeech(SyncAPIResource):
    """ElevenLabs' voice changer route: `convert(voice_id, audio=...)`."""

    def convert(
        self,
        voice_id: str,
        *,
        audio: FileTypes,
        model_id: str | None = None,
        output_format: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
        timeout: Timeout = None,
    ) -> AudioResponse:
        """`POST /v1/speech-to-speech/{voice_id}`: `audio` spoken by `voice_id` (a preset or a cloned voice id).

        `model_id` a conversion model here (ElevenLabs' `eleven_*` ids pick the server default); `output_format`
        as ElevenLabs names it, e.g. `mp3_44100_128` (default), `pcm_16000`, `wav_24000`, `opus_48000_64`.
        `with_streaming_response.convert(...)` uses the `/stream` route and reads the audio as it arrives.
        """
        options = _eleven_options(
            voice_id=voice_id, audio=audio, model_id=model_id, output_format=output_format,
            extra_headers=extra_headers, timeout=timeout, stream_response=self._stream,
        )  # fmt: skip
        return _sync_audio(self._client, self._client.request(options), options, self._stream)

    @cached_property
    def with_streaming_response(self) -> SpeechToSpeechWithStreamingResponse:
        """`with client.speech_to_speech.with_streaming_response.convert(voice_id, audio=...) as r: ...`."""
        return SpeechToSpeechWithStreamingResponse(self)


class AsyncVoiceConversions(AsyncAPIResource):
    """The async twin of `VoiceConversions`."""

    @overload
    async def create(
        self,
        *,
        file: FileTypes | None = None,
        voice: str | None = None,
        voices: Mapping[str, str] | Literal["auto"] | None = None,
        model: str | None = None,
        tts_model: str | None = None,
        diarization: bool | None = None,
        num_speakers: int | None = None,
        min_speakers: int | None = None,
        max_speakers: int | None = None,
        language: str | None = None,
        target_language: Literal["en"] | None = None,
        response_format: AudioFormat | None = None,
        sample_rate: int | None = None,
        stream: bool | None = None,
        file_id: str | None = None,
        webhook_url: str | None = None,
        wait: Literal[True] = True,
        extra_headers: Mapping[str, str] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: Timeout = None,
    ) -> AudioResponse: ...

    @overload
    async def create(
        self,
        *,
        file: FileTypes | None = None,
        voice: str | None = None,
        voices: Mapping[str, str] | Literal["auto"] | None = None,
        model: str | None = None,
        tts_model: str | None = None,
        diarization: bool | None = None,
        num_speakers: int | None = None,
        min_speakers: int | None = None,
        max_speakers: int | None = None,
        language: str | None = None,
        target_language: Literal["en"] | None = None,
        response_format: AudioFormat | None = None,
        sample_rate: int | None = None,
        stream: bool | None = None,
        file_id: str | None = None,
        webhook_url: str | None = None,
        wait: Literal[False],
        extra_headers: Mapping[str, str] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: Timeout = None,
    ) -> Job: ...

    async def create(
        self,
        *,
        file: FileTypes | None = None,
        voice: str | None = None,
        voices: Mapping[str, str] | Literal["auto"] | None = None,
        model: str | None = None,
        tts_model: str | None = None,
        diarization: bool | None = None,
        num_speakers: int | None = None,
        min_speakers: int | None = None,
        max_speakers: int | None = None,
        language: str | None = None,
        target_language: Literal["en"] | None = None,
        response_format: AudioFormat | None = None,
        sample_rate: int | None = None,
        stream: bool | None = None,
        file_id: str | None = None,
        webhook_url: str | None = None,
        wait: bool = True,
        extra_headers: Mapping[str, str] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: Timeout = None,
    ) -> AudioResponse | Job:
        """Re-voice `file` with `voice` (see `VoiceConversions.create`)."""
        options = _conversion_options(
            file=file, voice=voice, voices=voices, model=model, tts_model=tts_model, diarization=diarization,
            num_speakers=num_speakers, min_speakers=min_speakers, max_speakers=max_speakers, language=language,
            target_language=target_language, response_format=response_format, sample_rate=sample_rate,
            stream=stream, file_id=file_id, webhook_url=webhook_url, wait=wait, extra_headers=extra_headers,
            extra_body=extra_body, timeout=timeout, stream_response=self._stream,
        )  # fmt: skip
        response = await self._client.request(options)
        if response.status_code == 202 and not wait:
            return parse_model(response, Job)
        return await _async_audio(self._client, response, options, self._stream)

    async def stream(
        self,
        *,
        file: FileTypes | None = None,
        voice: str | None = None,
        voices: Mapping[str, str] | Literal["auto"] | None = None,
        model: str | None = None,
        tts_model: str | None = None,
        diarization: bool | None = None,
        num_speakers: int | None = None,
        min_speakers: int | None = None,
        max_speakers: int | None = None,
        language: str | None = None,
        target_language: Literal["en"] | None = None,
        response_format: AudioFormat | None = None,
        sample_rate: int | None = None,
        file_id: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: Timeout = None,
    ) -> AsyncStream[ConversionStreamEvent]:
        """The converted audio as Server-Sent Events (`stream_format=sse`), phrase by phrase as each is spoken:
        `ConversionAudioDelta` events (`.data` is the next piece of the file), then `ConversionAudioDone` with the
        job id, usage and what the output says (arguments as for `create`)."""
        options = _conversion_options(
            file=file, voice=voice, voices=voices, model=model, tts_model=tts_model, diarization=diarization,
            num_speakers=num_speakers, min_speakers=min_speakers, max_speakers=max_speakers, language=language,
            target_language=target_language, response_format=response_format, sample_rate=sample_rate,
            stream=True, file_id=file_id, webhook_url=None, wait=True, extra_headers=extra_headers,
            extra_body={"stream_format": "sse", **(extra_body or {})}, timeout=timeout, stream_response=True,
        )  # fmt: skip
        return AsyncStream(await self._client.request(sse_options(options)), CONVERSION_EVENTS)

    @cached_property
    def with_streaming_response(self) -> AsyncVoiceConversionsWithStreamingResponse:
        """`async with client.audio.voice_conversions.with_streaming_response.create(...) as r: ...`."""
        return AsyncVoiceConversionsWithStreamingResponse(self)


class AsyncSpeechToSpeech(AsyncAPIResource):
    """The async twin of `SpeechToSpeech`."""

    async def convert(
        self,
        voice_id: str,
        *,
        audio: FileTypes,
        model_id: str | None = None,
        output_format: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
        timeout: Timeout = None,
    ) -> AudioResponse:
        """`audio` spoken by `voice_id` (see `SpeechToSpeech.convert`)."""
        options = _eleven_options(
            voice_id=voice_id, audio=audio, model_id=model_id, output_format=output_format,
            extra_headers=extra_headers, timeout=timeout, stream_response=self._stream,
        )  # fmt: skip
        return await _async_audio(self._client, await self._client.request(options), options, self._stream)

    @cached_property
    def with_streaming_response(self) -> AsyncSpeechToSpeechWithStreamingResponse:
        return AsyncSpeechToSpeechWithStreamingResponse(self)


class VoiceConversionsWithStreamingResponse:
    def __init__(self, conversions: VoiceConversions) -> None:
        self.create = to_streamed_response_wrapper(conversions._streaming().create)


class AsyncVoiceConversionsWithStreamingResponse:
    def __init__(self, conversions: AsyncVoiceConversions) -> None:
        self.create = async_to_streamed_response_wrapper(conversions._streaming().create)


class SpeechToSpeechWithStreamingResponse:
    def __init__(self, resource: SpeechToSpeech) -> None:
        self.convert = to_streamed_response_wrapper(resource._streaming().convert)


class AsyncSpeechToSpeechWithStreamingResponse:
    def __init__(self, resource: AsyncSpeechToSpeech) -> None:
        self.convert = async_to_streamed_response_wrapper(resource._streaming().convert)
