"""`Client` and `AsyncClient`: the root of the client tree, which mirrors the URL tree of the API."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property

import httpx

from ._base_client import DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT, AsyncAPIClient, SyncAPIClient, Timeout
from .resources import (
    AccountResource,
    AsyncAccountResource,
    AsyncAudio,
    AsyncBatches,
    AsyncFiles,
    AsyncJobs,
    AsyncModels,
    AsyncSpeechToSpeech,
    AsyncUsageResource,
    AsyncVoices,
    AsyncWebhooks,
    Audio,
    Batches,
    Files,
    Jobs,
    Models,
    SpeechToSpeech,
    UsageResource,
    Voices,
    Webhooks,
)

__all__ = ["AsyncClient", "Client"]


class Client(SyncAPIClient):
    """The Speech to Speech AI API.

    `api_key` defaults to the `S2S_API_KEY` environment variable, `base_url` to `S2S_BASE_URL` or
    `http://127.0.0.1:8000/v1` (a URL without a path gets `/v1`). Failed requests are retried `max_retries`
    times (408, 409, 429, 5xx, connection errors). Use it as a context manager, or call `close()`.
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | httpx.URL | None = None,
        timeout: Timeout = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        default_headers: Mapping[str, str] | None = None,
        http_client: httpx.Client | None = None,
    ) -> None:
        super().__init__(
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            default_headers=default_headers,
            http_client=http_client,
        )

    @cached_property
    def audio(self) -> Audio:
        """`/v1/audio`: `audio.speech`, `audio.transcriptions`, `audio.voice_conversions` and more."""
        return Audio(self)

    @cached_property
    def speech_to_speech(self) -> SpeechToSpeech:
        """`/v1/speech-to-speech/{voice_id}`: ElevenLabs' voice changer (`convert(voice_id, audio=...)`)."""
        return SpeechToSpeech(self)

    @cached_property
    def voices(self) -> Voices:
        """`/v1/voices`: clone, list, retrieve and delete voices."""
        return Voices(self)

    @cached_property
    def jobs(self) -> Jobs:
        """`/v1/jobs`: background jobs, their progress and results."""
        return Jobs(self)

    @cached_property
    def models(self) -> Models:
        """`/v1/models`: the models the server knows and whether they are installed."""
        return Models(self)

    @cached_property
    def files(self) -> Files:
        """`/v1/files`: batch inputs, audio to use by `file_id`, batch outputs."""
        return Files(self)

    @cached_property
    def batches(self) -> Batches:
        """`/v1/batches`: many requests as one batch; `wait`, `items`, `download`."""
        return Batches(self)

    @cached_property
    def webhooks(self) -> Webhooks:
        """Verify deliveries (`unwrap`, `verify`) and manage `endpoints`."""
        return Webhooks(self)

    @cached_property
    def account(self) -> AccountResource:
        """`/v1/account`: balance, reserved credits, limits (`retrieve`); your API keys (`keys`)."""
        return AccountResource(self)

    @cached_property
    def usage(self) -> UsageResource:
        """`/v1/usage`: requests, characters, audio seconds and credits per day and model."""
        return UsageResource(self)


class AsyncClient(AsyncAPIClient):
    """The async twin of `Client` (same configuration, same tree; every call is awaited)."""

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | httpx.URL | None = None,
        timeout: Timeout = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        default_headers: Mapping[str, str] | None = None,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            default_headers=default_headers,
            http_client=http_client,
        )

    @cached_property
    def audio(self) -> AsyncAudio:
        return AsyncAudio(self)

    @cached_property
    def speech_to_speech(self) -> AsyncSpeechToSpeech:
        return AsyncSpeechToSpeech(self)

    @cached_property
    def voices(self) -> AsyncVoices:
        return AsyncVoices(self)

    @cached_property
    def jobs(self) -> AsyncJobs:
        return AsyncJobs(self)

    @cached_property
    def models(self) -> AsyncModels:
        return AsyncModels(self)

    @cached_property
    def files(self) -> AsyncFiles:
        return AsyncFiles(self)

    @cached_property
    def batches(self) -> AsyncBatches:
        return AsyncBatches(self)

    @cached_property
    def webhooks(self) -> AsyncWebhooks:
        return AsyncWebhooks(self)

    @cached_property
    def account(self) -> AsyncAccountResource:
        return AsyncAccountResource(self)

    @cached_property
    def usage(self) -> AsyncUsageResource:
        return AsyncUsageResource(self)
