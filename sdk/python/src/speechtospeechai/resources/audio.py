"""`client.audio.speech` (`POST /v1/audio/speech`) and `client.audio.transcriptions` (`POST /v1/audio/transcriptions`);
`client.audio.voice_conversions` lives in `voice_conversions.py`.

With `wait=True` (the default) a call returns the audio or the transcription, also when the server answers 202
because the job outlived its synchronous wait: the SDK then polls the job and fetches its result. With
`wait=False` the server answers 202 at once and the call returns the `Job`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import Literal, overload

import httpx

from .._base_client import (
    AsyncAPIResource,
    RequestOptions,
    SyncAPIResource,
    Timeout,
    make_options,
    parse_model,
    parse_transcription,
)
from .._files import FileTypes, data_url, prepare_file
from .._response import AudioResponse, async_to_streamed_response_wrapper, to_streamed_response_wrapper
from .._streaming import (
    SPEECH_EVENTS,
    TRANSCRIPTION_EVENTS,
    AsyncStream,
    SpeechStreamEvent,
    Stream,
    TranscriptionStreamEvent,
    sse_options,
)
from ..types import (
    AudioFormat,
    ChannelMode,
    Diarization,
    Emotion,
    Job,
    JsonFormat,
    TextFormat,
    TimestampGranularity,
    Transcription,
    TranscriptionFormat,
    TranslationFormat,
)
from .voice_conversions import AsyncVoiceConversions, VoiceConversions

__all__ = [
    "AsyncAudio",
    "AsyncDiarization",
    "AsyncSpeech",
    "AsyncTranscriptions",
    "AsyncTranslations",
    "Audio",
    "DiarizationResource",
    "Speech",
    "Transcriptions",
    "Translations",
]


def _translation_options(
    *,
    file: FileTypes,
    model: str | None,
    prompt: str | None,
    response_format: TranslationFormat | None,
    temperature: float | None,
    extra_headers: Mapping[str, str] | None,
    timeout: Timeout,
) -> RequestOptions:
    data = {"model": model, "prompt": prompt, "response_format": response_format, "temperature": temperature}
    return make_options(
        "POST",
        "audio/translations",
        data=data,
        files=[("file", prepare_file(file))],
        extra_headers=extra_headers,
        timeout=timeout,
    )


def _diarization_options(
    *,
    file: FileTypes,
    model: str | None,
    response_format: Literal["json", "rttm"] | None,
    num_speakers: int | None,
    min_speakers: int | None,
    max_speakers: int | None,
    known_speakers: Sequence[str] | Mapping[str, FileTypes] | None,
    extra_headers: Mapping[str, str] | None,
    timeout: Timeout,
) -> RequestOptions:
    data = {
        "model": model,
        "response_format": response_format,
        "num_speakers": num_speakers,
        "min_speakers": min_speakers,
        "max_speakers": max_speakers,
        **_known_speaker_fields(known_speakers),
    }
    return make_options(
        "POST",
        "audio/diarization",
        data=data,
        files=[("file", prepare_file(file))],
        extra_headers=extra_headers,
        timeout=timeout,
    )


def _diarization_result(response: httpx.Response, response_format: str | None) -> Diarization | str:
    return response.text if response_format == "rttm" else parse_model(response, Diarization)


def _speech_options(
    *,
    model: str,
    voice: str,
    input: str,
    speed: float | None,
    format: AudioFormat | None,
    response_format: AudioFormat | None,
    emotion: Emotion | None,
    instructions: str | None,
    language: str | None,
    stream: bool | None,
    wait: bool,
    extra_headers: Mapping[str, str] | None,
    extra_body: Mapping[str, object] | None,
    timeout: Timeout,
    stream_response: bool,
) -> RequestOptions:
    if format and response_format and format != response_format:
        raise ValueError(f"format={format!r} and response_format={response_format!r} disagree; pass one of them.")
    body = {
        "model": model,
        "voice": voice,
        "input": input,
        "speed": speed,
        "format": format or response_format,
        "emotion": emotion,
        "instructions": instructions,
        "language": language,
        "stream": stream,
        "async": None if wait else True,
    }
    return make_options(
        "POST",
        "audio/speech",
        json=body,
        extra_headers=extra_headers,
        extra_body=extra_body,
        timeout=timeout,
        stream=stream_response,
    )


def _known_speaker_fields(known: Sequence[str] | Mapping[str, FileTypes] | None) -> dict[str, object]:
    """known_speakers: voice ids of the library (a list), or name -> a short recording of that speaker (a mapping,
    sent as OpenAI's known_speaker_names[] / known_speaker_references[] data URLs)."""
    if not known:
        return {}
    if isinstance(known, Mapping):
        return {
            "known_speaker_names[]": list(known),
            "known_speaker_references[]": [data_url(recording) for recording in known.values()],
        }
    if isinstance(known, str):
        raise TypeError("known_speakers is a list of voice ids or a mapping of name -> recording, not a str.")
    return {"known_speakers": list(known)}


def _transcription_options(
    *,
    file: FileTypes,
    model: str | None,
    language: str | None,
    diarization: bool | None,
    num_speakers: int | None,
    min_speakers: int | None,
    max_speakers: int | None,
    channels: ChannelMode | None,
    timestamps: TimestampGranularity | None,
    timestamp_granularities: Sequence[TimestampGranularity] | None,
    response_format: TranscriptionFormat | None,
    prompt: str | None,
    temperature: float | None,
    known_speakers: Sequence[str] | Mapping[str, FileTypes] | None,
    wait: bool,
    extra_headers: Mapping[str, str] | None,
    extra_body: Mapping[str, object] | None,
    timeout: Timeout,
) -> RequestOptions:
    if timestamps is None and timestamp_granularities:
        # the server takes one granularity; word timestamps come with their segments
        timestamps = "word" if "word" in timestamp_granularities else "segment"
    data = {
        "model": model,
        "language": language,
        "diarization": diarization,
        "num_speakers": num_speakers,
        "min_speakers": min_speakers,
        "max_speakers": max_speakers,
        "channels": channels,
        "timestamps": timestamps,
        "response_format": response_format,
        "prompt": prompt,
        "temperature": temperature,
        **_known_speaker_fields(known_speakers),
        "async": None if wait else True,
    }
    return make_options(
        "POST",
        "audio/transcriptions",
        data=data,
        files=[("file", prepare_file(file))],
        extra_headers=extra_headers,
        extra_body=extra_body,
        timeout=timeout,
    )


class Speech(SyncAPIResource):
    """Text to speech."""

    @overload
    def create(
        self,
        *,
        model: str,
        voice: str,
        input: str,
        speed: float | None = None,
        format: AudioFormat | None = None,
        response_format: AudioFormat | None = None,
        emotion: Emotion | None = None,
        instructions: str | None = None,
        language: str | None = None,
        stream: bool | None = None,
        wait: Literal[True] = True,
        extra_headers: Mapping[str, str] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: Timeout = None,
    ) -> AudioResponse: ...

    @overload
    def create(
        self,
        *,
        model: str,
        voice: str,
        input: str,
        speed: float | None = None,
        format: AudioFormat | None = None,
        response_format: AudioFormat | None = None,
        emotion: Emotion | None = None,
        instructions: str | None = None,
        language: str | None = None,
        stream: bool | None = None,
        wait: Literal[False],
        extra_headers: Mapping[str, str] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: Timeout = None,
    ) -> Job: ...

    def create(
        self,
        *,
        model: str,
        voice: str,
        input: str,
        speed: float | None = None,
        format: AudioFormat | None = None,
        response_format: AudioFormat | None = None,
        emotion: Emotion | None = None,
        instructions: str | None = None,
        language: str | None = None,
        stream: bool | None = None,
        wait: bool = True,
        extra_headers: Mapping[str, str] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: Timeout = None,
    ) -> AudioResponse | Job:
        """Speak `input` with `voice` (a preset such as `joe`, or a cloned voice id) of `model`.

        `speed` 0.5-2.0; `format` (or OpenAI's `response_format`) mp3 (default), wav, ogg, flac, opus, aac or pcm;
        `emotion` neutral, happy, sad or angry where the model supports it; `instructions` and `language` for
        models that take them; `stream=True` has the server send the audio as it is synthesised (read it with
        `with_streaming_response` to get it chunk by chunk). `wait=False` returns the queued `Job` at once.
        """
        options = _speech_options(
            model=model,
            voice=voice,
            input=input,
            speed=speed,
            format=format,
            response_format=response_format,
            emotion=emotion,
            instructions=instructions,
            language=language,
            stream=stream,
            wait=wait,
            extra_headers=extra_headers,
            extra_body=extra_body,
            timeout=timeout,
            stream_response=self._stream,
        )
        response = self._client.request(options)
        if response.status_code == 202:
            job = parse_model(response, Job)
            if not wait:
                return job
            jobs = self._client.jobs
            jobs._wait_for_success(job.id)
            return (jobs._streaming() if self._stream else jobs).result(job.id)
        # a `_streaming()` copy returns a StreamedAudioResponse, typed by `with_streaming_response`
        return self._client.audio_response(response, options)  # type: ignore[return-value]

    def stream(
        self,
        *,
        model: str,
        voice: str,
        input: str,
        speed: float | None = None,
        format: AudioFormat | None = None,
        response_format: AudioFormat | None = None,
        emotion: Emotion | None = None,
        instructions: str | None = None,
        language: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: Timeout = None,
    ) -> Stream[SpeechStreamEvent]:
        """The audio as Server-Sent Events (`stream_format=sse`), sent as it is synthesised: `SpeechAudioDelta`
        events (`.data` is the next piece of the file), then `SpeechAudioDone` with the job id and usage."""
        options = _speech_options(
            model=model, voice=voice, input=input, speed=speed, format=format, response_format=response_format,
            emotion=emotion, instructions=instructions, language=language, stream=None, wait=True,
            extra_headers=extra_headers, extra_body={"stream_format": "sse", **(extra_body or {})},
            timeout=timeout, stream_response=True,
        )  # fmt: skip
        return Stream(self._client.request(sse_options(options)), SPEECH_EVENTS)

    @cached_property
    def with_streaming_response(self) -> SpeechWithStreamingResponse:
        """`with client.audio.speech.with_streaming_response.create(...) as r: r.stream_to_file(path)`."""
        return SpeechWithStreamingResponse(self)


class Transcriptions(SyncAPIResource):
    """Speech to text."""

    @overload
    def create(
        self,
        *,
        file: FileTypes,
        model: str | None = None,
        language: str | None = None,
        diarization: bool | None = None,
        num_speakers: int | None = None,
        min_speakers: int | None = None,
        max_speakers: int | None = None,
        channels: ChannelMode | None = None,
        timestamps: TimestampGranularity | None = None,
        timestamp_granularities: Sequence[TimestampGranularity] | None = None,
        response_format: TextFormat,
        prompt: str | None = None,
        temperature: float | None = None,
        known_speakers: Sequence[str] | Mapping[str, FileTypes] | None = None,
        wait: Literal[True] = True,
        extra_headers: Mapping[str, str] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: Timeout = None,
    ) -> str: ...

    @overload
    def create(
        self,
        *,
        file: FileTypes,
        model: str | None = None,
        language: str | None = None,
        diarization: bool | None = None,
        num_speakers: int | None = None,
        min_speakers: int | None = None,
        max_speakers: int | None = None,
        channels: ChannelMode | None = None,
        timestamps: TimestampGranularity | None = None,
        timestamp_granularities: Sequence[TimestampGranularity] | None = None,
        response_format: JsonFormat | None = None,
        prompt: str | None = None,
        temperature: float | None = None,
        known_speakers: Sequence[str] | Mapping[str, FileTypes] | None = None,
        wait: Literal[True] = True,
        extra_headers: Mapping[str, str] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: Timeout = None,
    ) -> Transcription: ...

    @overload
    def create(
        self,
        *,
        file: FileTypes,
        model: str | None = None,
        language: str | None = None,
        diarization: bool | None = None,
        num_speakers: int | None = None,
        min_speakers: int | None = None,
        max_speakers: int | None = None,
        channels: ChannelMode | None = None,
        timestamps: TimestampGranularity | None = None,
        timestamp_granularities: Sequence[TimestampGranularity] | None = None,
        response_format: TranscriptionFormat | None = None,
        prompt: str | None = None,
        temperature: float | None = None,
        known_speakers: Sequence[str] | Mapping[str, FileTypes] | None = None,
        wait: Literal[False],
        extra_headers: Mapping[str, str] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: Timeout = None,
    ) -> Job: ...

    def create(
        self,
        *,
        file: FileTypes,
        model: str | None = None,
        language: str | None = None,
        diarization: bool | None = None,
        num_speakers: int | None = None,
        min_speakers: int | None = None,
        max_speakers: int | None = None,
        channels: ChannelMode | None = None,
        timestamps: TimestampGranularity | None = None,
        timestamp_granularities: Sequence[TimestampGranularity] | None = None,
        response_format: TranscriptionFormat | None = None,
        prompt: str | None = None,
        temperature: float | None = None,
        known_speakers: Sequence[str] | Mapping[str, FileTypes] | None = None,
        wait: bool = True,
        extra_headers: Mapping[str, str] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: Timeout = None,
    ) -> Transcription | str | Job:
        """Transcribe `file` (a path, bytes or a binary file object) with `model` (server default: whisper-base).

        `language` ISO 639-1 (detected when unset); `diarization=True` labels segments with speakers (hint their
        number with `num_speakers` or `min_speakers`/`max_speakers`; `channels="split"` transcribes each channel
        apart); `timestamps` "word" or "segment" (or OpenAI's `timestamp_granularities`). `response_format` json
        (default), verbose_json or diarized_json return a `Transcription`; text, srt, vtt and rttm a `str`.
        `wait=False` returns the queued `Job` at once.
        """
        options = _transcription_options(
            file=file,
            model=model,
            language=language,
            diarization=diarization,
            num_speakers=num_speakers,
            min_speakers=min_speakers,
            max_speakers=max_speakers,
            channels=channels,
            timestamps=timestamps,
            timestamp_granularities=timestamp_granularities,
            response_format=response_format,
            prompt=prompt,
            temperature=temperature,
            known_speakers=known_speakers,
            wait=wait,
            extra_headers=extra_headers,
            extra_body=extra_body,
            timeout=timeout,
        )
        response = self._client.request(options)
        if response.status_code == 202:
            job = parse_model(response, Job)
            if not wait:
                return job
            self._client.jobs._wait_for_success(job.id)
            return self._client.jobs.transcription(job.id, response_format=response_format)
        return parse_transcription(response, response_format)

    def stream(
        self,
        *,
        file: FileTypes,
        model: str | None = None,
        language: str | None = None,
        diarization: bool | None = None,
        num_speakers: int | None = None,
        min_speakers: int | None = None,
        max_speakers: int | None = None,
        channels: ChannelMode | None = None,
        timestamps: TimestampGranularity | None = None,
        response_format: JsonFormat | None = None,
        prompt: str | None = None,
        temperature: float | None = None,
        known_speakers: Sequence[str] | Mapping[str, FileTypes] | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: Timeout = None,
    ) -> Stream[TranscriptionStreamEvent]:
        """Transcribe `file` as Server-Sent Events (`stream=true`): a `TranscriptTextDelta` per segment as it is
        decoded, then `TranscriptTextDone` with the whole text (and, for json, the transcription's fields)."""
        options = _transcription_options(
            file=file, model=model, language=language, diarization=diarization, num_speakers=num_speakers,
            min_speakers=min_speakers, max_speakers=max_speakers, channels=channels, timestamps=timestamps,
            timestamp_granularities=None, response_format=response_format, prompt=prompt, temperature=temperature,
            known_speakers=known_speakers, wait=True, extra_headers=extra_headers,
            extra_body={"stream": True, **(extra_body or {})}, timeout=timeout,
        )  # fmt: skip
        return Stream(self._client.request(sse_options(options)), TRANSCRIPTION_EVENTS)


class Translations(SyncAPIResource):
    """Speech in any language to English text (OpenAI's audio.translations)."""

    def create(
        self,
        *,
        file: FileTypes,
        model: str | None = None,
        prompt: str | None = None,
        response_format: TranslationFormat | None = None,
        temperature: float | None = None,
        extra_headers: Mapping[str, str] | None = None,
        timeout: Timeout = None,
    ) -> Transcription | str:
        """Translate `file` to English with a multilingual `model`; json/verbose_json give a `Transcription`
        (its `language` is the source language), text, srt and vtt a `str`. A long file answered 202 is waited for.
        """
        options = _translation_options(
            file=file, model=model, prompt=prompt, response_format=response_format, temperature=temperature,
            extra_headers=extra_headers, timeout=timeout,
        )  # fmt: skip
        response = self._client.request(options)
        if response.status_code == 202:
            job = parse_model(response, Job)
            self._client.jobs._wait_for_success(job.id)
            return self._client.jobs.transcription(job.id, response_format=response_format)
        return parse_transcription(response, response_format)


class DiarizationResource(SyncAPIResource):
    """Who spoke when, without a transcript."""

    def create(
        self,
        *,
        file: FileTypes,
        model: str | None = None,
        response_format: Literal["json", "rttm"] | None = None,
        num_speakers: int | None = None,
        min_speakers: int | None = None,
        max_speakers: int | None = None,
        known_speakers: Sequence[str] | Mapping[str, FileTypes] | None = None,
        extra_headers: Mapping[str, str] | None = None,
        timeout: Timeout = None,
    ) -> Diarization | str:
        """Speaker turns of `file`: a `Diarization` (json), or the RTTM text (`response_format="rttm"`)."""
        options = _diarization_options(
            file=file, model=model, response_format=response_format, num_speakers=num_speakers,
            min_speakers=min_speakers, max_speakers=max_speakers, known_speakers=known_speakers,
            extra_headers=extra_headers, timeout=timeout,
        )  # fmt: skip
        response = self._client.request(options)
        if response.status_code == 202:
            job = parse_model(response, Job)
            self._client.jobs._wait_for_success(job.id)
            response = self._client.request(
                make_options("GET", f"jobs/{job.id}/result", params={"response_format": response_format})
            )
        return _diarization_result(response, response_format)


class Audio(SyncAPIResource):
    @cached_property
    def speech(self) -> Speech:
        return Speech(self._client)

    @cached_property
    def transcriptions(self) -> Transcriptions:
        return Transcriptions(self._client)

    @cached_property
    def translations(self) -> Translations:
        return Translations(self._client)

    @cached_property
    def diarization(self) -> DiarizationResource:
        return DiarizationResource(self._client)

    @cached_property
    def voice_conversions(self) -> VoiceConversions:
        return VoiceConversions(self._client)


class AsyncSpeech(AsyncAPIResource):
    """The async twin of `Speech`."""

    @overload
    async def create(
        self,
        *,
        model: str,
        voice: str,
        input: str,
        speed: float | None = None,
        format: AudioFormat | None = None,
        response_format: AudioFormat | None = None,
        emotion: Emotion | None = None,
        instructions: str | None = None,
        language: str | None = None,
        stream: bool | None = None,
        wait: Literal[True] = True,
        extra_headers: Mapping[str, str] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: Timeout = None,
    ) -> AudioResponse: ...

    @overload
    async def create(
        self,
        *,
        model: str,
        voice: str,
        input: str,
        speed: float | None = None,
        format: AudioFormat | None = None,
        response_format: AudioFormat | None = None,
        emotion: Emotion | None = None,
        instructions: str | None = None,
        language: str | None = None,
        stream: bool | None = None,
        wait: Literal[False],
        extra_headers: Mapping[str, str] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: Timeout = None,
    ) -> Job: ...

    async def create(
        self,
        *,
        model: str,
        voice: str,
        input: str,
        speed: float | None = None,
        format: AudioFormat | None = None,
        response_format: AudioFormat | None = None,
        emotion: Emotion | None = None,
        instructions: str | None = None,
        language: str | None = None,
        stream: bool | None = None,
        wait: bool = True,
        extra_headers: Mapping[str, str] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: Timeout = None,
    ) -> AudioResponse | Job:
        """Speak `input` with `voice` of `model` (see `Speech.create`)."""
        options = _speech_options(
            model=model,
            voice=voice,
            input=input,
            speed=speed,
            format=format,
            response_format=response_format,
            emotion=emotion,
            instructions=instructions,
            language=language,
            stream=stream,
            wait=wait,
            extra_headers=extra_headers,
            extra_body=extra_body,
            timeout=timeout,
            stream_response=self._stream,
        )
        response = await self._client.request(options)
        if response.status_code == 202:
            job = parse_model(response, Job)
            if not wait:
                return job
            jobs = self._client.jobs
            await jobs._wait_for_success(job.id)
            return await (jobs._streaming() if self._stream else jobs).result(job.id)
        return self._client.audio_response(response, options)  # type: ignore[return-value]

    async def stream(
        self,
        *,
        model: str,
        voice: str,
        input: str,
        speed: float | None = None,
        format: AudioFormat | None = None,
        response_format: AudioFormat | None = None,
        emotion: Emotion | None = None,
        instructions: str | None = None,
        language: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: Timeout = None,
    ) -> AsyncStream[SpeechStreamEvent]:
        """The audio as Server-Sent Events (`stream_format=sse`), sent as it is synthesised: `SpeechAudioDelta`
        events (`.data` is the next piece of the file), then `SpeechAudioDone` with the job id and usage."""
        options = _speech_options(
            model=model, voice=voice, input=input, speed=speed, format=format, response_format=response_format,
            emotion=emotion, instructions=instructions, language=language, stream=None, wait=True,
            extra_headers=extra_headers, extra_body={"stream_format": "sse", **(extra_body or {})},
            timeout=timeout, stream_response=True,
        )  # fmt: skip
        return AsyncStream(await self._client.request(sse_options(options)), SPEECH_EVENTS)

    @cached_property
    def with_streaming_response(self) -> AsyncSpeechWithStreamingResponse:
        """`async with client.audio.speech.with_streaming_response.create(...) as r: await r.stream_to_file(p)`."""
        return AsyncSpeechWithStreamingResponse(self)


class AsyncTranscriptions(AsyncAPIResource):
    """The async twin of `Transcriptions`."""

    @overload
    async def create(
        self,
        *,
        file: FileTypes,
        model: str | None = None,
        language: str | None = None,
        diarization: bool | None = None,
        num_speakers: int | None = None,
        min_speakers: int | None = None,
        max_speakers: int | None = None,
        channels: ChannelMode | None = None,
        timestamps: TimestampGranularity | None = None,
        timestamp_granularities: Sequence[TimestampGranularity] | None = None,
        response_format: TextFormat,
        prompt: str | None = None,
        temperature: float | None = None,
        known_speakers: Sequence[str] | Mapping[str, FileTypes] | None = None,
        wait: Literal[True] = True,
        extra_headers: Mapping[str, str] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: Timeout = None,
    ) -> str: ...

    @overload
    async def create(
        self,
        *,
        file: FileTypes,
        model: str | None = None,
        language: str | None = None,
        diarization: bool | None = None,
        num_speakers: int | None = None,
        min_speakers: int | None = None,
        max_speakers: int | None = None,
        channels: ChannelMode | None = None,
        timestamps: TimestampGranularity | None = None,
        timestamp_granularities: Sequence[TimestampGranularity] | None = None,
        response_format: JsonFormat | None = None,
        prompt: str | None = None,
        temperature: float | None = None,
        known_speakers: Sequence[str] | Mapping[str, FileTypes] | None = None,
        wait: Literal[True] = True,
        extra_headers: Mapping[str, str] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: Timeout = None,
    ) -> Transcription: ...

    @overload
    async def create(
        self,
        *,
        file: FileTypes,
        model: str | None = None,
        language: str | None = None,
        diarization: bool | None = None,
        num_speakers: int | None = None,
        min_speakers: int | None = None,
        max_speakers: int | None = None,
        channels: ChannelMode | None = None,
        timestamps: TimestampGranularity | None = None,
        timestamp_granularities: Sequence[TimestampGranularity] | None = None,
        response_format: TranscriptionFormat | None = None,
        prompt: str | None = None,
        temperature: float | None = None,
        known_speakers: Sequence[str] | Mapping[str, FileTypes] | None = None,
        wait: Literal[False],
        extra_headers: Mapping[str, str] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: Timeout = None,
    ) -> Job: ...

    async def create(
        self,
        *,
        file: FileTypes,
        model: str | None = None,
        language: str | None = None,
        diarization: bool | None = None,
        num_speakers: int | None = None,
        min_speakers: int | None = None,
        max_speakers: int | None = None,
        channels: ChannelMode | None = None,
        timestamps: TimestampGranularity | None = None,
        timestamp_granularities: Sequence[TimestampGranularity] | None = None,
        response_format: TranscriptionFormat | None = None,
        prompt: str | None = None,
        temperature: float | None = None,
        known_speakers: Sequence[str] | Mapping[str, FileTypes] | None = None,
        wait: bool = True,
        extra_headers: Mapping[str, str] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: Timeout = None,
    ) -> Transcription | str | Job:
        """Transcribe `file` (see `Transcriptions.create`)."""
        options = _transcription_options(
            file=file,
            model=model,
            language=language,
            diarization=diarization,
            num_speakers=num_speakers,
            min_speakers=min_speakers,
            max_speakers=max_speakers,
            channels=channels,
            timestamps=timestamps,
            timestamp_granularities=timestamp_granularities,
            response_format=response_format,
            prompt=prompt,
            temperature=temperature,
            known_speakers=known_speakers,
            wait=wait,
            extra_headers=extra_headers,
            extra_body=extra_body,
            timeout=timeout,
        )
        response = await self._client.request(options)
        if response.status_code == 202:
            job = parse_model(response, Job)
            if not wait:
                return job
            await self._client.jobs._wait_for_success(job.id)
            return await self._client.jobs.transcription(job.id, response_format=response_format)
        return parse_transcription(response, response_format)

    async def stream(
        self,
        *,
        file: FileTypes,
        model: str | None = None,
        language: str | None = None,
        diarization: bool | None = None,
        num_speakers: int | None = None,
        min_speakers: int | None = None,
        max_speakers: int | None = None,
        channels: ChannelMode | None = None,
        timestamps: TimestampGranularity | None = None,
        response_format: JsonFormat | None = None,
        prompt: str | None = None,
        temperature: float | None = None,
        known_speakers: Sequence[str] | Mapping[str, FileTypes] | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: Timeout = None,
    ) -> AsyncStream[TranscriptionStreamEvent]:
        """Transcribe `file` as Server-Sent Events (`stream=true`): a `TranscriptTextDelta` per segment as it is
        decoded, then `TranscriptTextDone` with the whole text (and, for json, the transcription's fields)."""
        options = _transcription_options(
            file=file, model=model, language=language, diarization=diarization, num_speakers=num_speakers,
            min_speakers=min_speakers, max_speakers=max_speakers, channels=channels, timestamps=timestamps,
            timestamp_granularities=None, response_format=response_format, prompt=prompt, temperature=temperature,
            known_speakers=known_speakers, wait=True, extra_headers=extra_headers,
            extra_body={"stream": True, **(extra_body or {})}, timeout=timeout,
        )  # fmt: skip
        return AsyncStream(await self._client.request(sse_options(options)), TRANSCRIPTION_EVENTS)


class AsyncTranslations(AsyncAPIResource):
    """Speech in any language to English text (OpenAI's audio.translations)."""

    async def create(
        self,
        *,
        file: FileTypes,
        model: str | None = None,
        prompt: str | None = None,
        response_format: TranslationFormat | None = None,
        temperature: float | None = None,
        extra_headers: Mapping[str, str] | None = None,
        timeout: Timeout = None,
    ) -> Transcription | str:
        """As `Translations.create`."""
        options = _translation_options(
            file=file, model=model, prompt=prompt, response_format=response_format, temperature=temperature,
            extra_headers=extra_headers, timeout=timeout,
        )  # fmt: skip
        response = await self._client.request(options)
        if response.status_code == 202:
            job = parse_model(response, Job)
            await self._client.jobs._wait_for_success(job.id)
            return await self._client.jobs.transcription(job.id, response_format=response_format)
        return parse_transcription(response, response_format)


class AsyncDiarization(AsyncAPIResource):
    """Who spoke when, without a transcript."""

    async def create(
        self,
        *,
        file: FileTypes,
        model: str | None = None,
        response_format: Literal["json", "rttm"] | None = None,
        num_speakers: int | None = None,
        min_speakers: int | None = None,
        max_speakers: int | None = None,
        known_speakers: Sequence[str] | Mapping[str, FileTypes] | None = None,
        extra_headers: Mapping[str, str] | None = None,
        timeout: Timeout = None,
    ) -> Diarization | str:
        """As `DiarizationResource.create`."""
        options = _diarization_options(
            file=file, model=model, response_format=response_format, num_speakers=num_speakers,
            min_speakers=min_speakers, max_speakers=max_speakers, known_speakers=known_speakers,
            extra_headers=extra_headers, timeout=timeout,
        )  # fmt: skip
        response = await self._client.request(options)
        if response.status_code == 202:
            job = parse_model(response, Job)
            await self._client.jobs._wait_for_success(job.id)
            response = await self._client.request(
                make_options("GET", f"jobs/{job.id}/result", params={"response_format": response_format})
            )
        return _diarization_result(response, response_format)


class AsyncAudio(AsyncAPIResource):
    @cached_property
    def speech(self) -> AsyncSpeech:
        return AsyncSpeech(self._client)

    @cached_property
    def transcriptions(self) -> AsyncTranscriptions:
        return AsyncTranscriptions(self._client)

    @cached_property
    def translations(self) -> AsyncTranslations:
        return AsyncTranslations(self._client)

    @cached_property
    def diarization(self) -> AsyncDiarization:
        return AsyncDiarization(self._client)

    @cached_property
    def voice_conversions(self) -> AsyncVoiceConversions:
        return AsyncVoiceConversions(self._client)


class SpeechWithStreamingResponse:
    def __init__(self, speech: Speech) -> None:
        self.create = to_streamed_response_wrapper(speech._streaming().create)


class AsyncSpeechWithStreamingResponse:
    def __init__(self, speech: AsyncSpeech) -> None:
        self.create = async_to_streamed_response_wrapper(speech._streaming().create)
