"""Configuration, request building, retries and response handling shared by `Client` and `AsyncClient`.

The retry policy lives here and nowhere else: 408, 409, 429, 5xx and connection errors are retried with
exponential backoff and jitter, honouring `Retry-After`; every POST carries one `Idempotency-Key`, generated once
per call and reused by its retries.
"""

from __future__ import annotations

import copy
import email.utils
import logging
import os
import random
import time
import uuid
from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Generic, Self, TypeVar
from urllib.parse import quote

import anyio
import httpx
import pydantic

from ._exceptions import APIConnectionError, APIError, APITimeoutError, SpeechToSpeechAIError, make_status_error
from ._files import PreparedFile
from ._response import AsyncStreamedAudioResponse, AudioResponse, StreamedAudioResponse
from ._version import __version__
from .types import Transcription

if TYPE_CHECKING:
    from ._client import AsyncClient, Client

log = logging.getLogger("speechtospeechai")

API_KEY_ENV = "S2S_API_KEY"
BASE_URL_ENV = "S2S_BASE_URL"
DEFAULT_BASE_URL = "http://127.0.0.1:8000/v1"
DEFAULT_TIMEOUT = httpx.Timeout(600.0, connect=10.0)
DEFAULT_MAX_RETRIES = 2
INITIAL_RETRY_DELAY = 0.5
MAX_RETRY_DELAY = 8.0
MAX_RETRY_AFTER = 60.0
IDEMPOTENCY_HEADER = "Idempotency-Key"

Timeout = float | httpx.Timeout | None
ModelT = TypeVar("ModelT", bound=pydantic.BaseModel)
HttpClientT = TypeVar("HttpClientT", httpx.Client, httpx.AsyncClient)


@dataclass(frozen=True)
class RequestOptions:
    """Everything needed to (re)build one HTTP request; a retry builds it again from here."""

    method: str
    path: str
    json: Any = None
    data: Mapping[str, str | list[str]] | None = None
    files: list[tuple[str, PreparedFile]] = field(default_factory=list)
    params: Mapping[str, str | int | float | bool] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    timeout: Timeout | None = None
    stream: bool = False  # leave an audio or event-stream body unread, to be read by the caller


def make_options(
    method: str,
    path: str,
    *,
    json: dict[str, Any] | None = None,
    data: Mapping[str, object] | None = None,
    files: list[tuple[str, PreparedFile]] | None = None,
    params: Mapping[str, object] | None = None,
    extra_headers: Mapping[str, str] | None = None,
    extra_body: Mapping[str, object] | None = None,
    timeout: Timeout = None,
    stream: bool = False,
) -> RequestOptions:
    """Options for one call. `None` values are left out; `extra_body` is merged into the JSON or form body."""
    as_json = json is not None or (data is None and not files)
    fields = {k: v for k, v in {**(json or data or {}), **(extra_body or {})}.items() if v is not None}
    return RequestOptions(
        method,
        path,
        json=fields if as_json and fields else None,
        data=None if as_json else {k: _form_value(v) for k, v in fields.items()},
        files=list(files or []),
        params=_clean_params(params),
        headers=dict(extra_headers or {}),
        timeout=timeout,
        stream=stream,
    )


def _form_scalar(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _form_value(value: object) -> str | list[str]:
    """A form field's text; a list becomes a repeated field."""
    if isinstance(value, (list, tuple)):
        return [_form_scalar(v) for v in value]
    return _form_scalar(value)


def _clean_params(params: Mapping[str, object] | None) -> dict[str, str | int | float | bool] | None:
    if not params:
        return None
    return {k: v for k, v in params.items() if isinstance(v, (str, int, float, bool))}


def path_param(value: str) -> str:
    """An id as one URL path segment (never a path traversal)."""
    if not value:
        raise ValueError("Expected a non-empty id.")
    return quote(value, safe="")


def normalize_base_url(url: str) -> httpx.URL:
    """`http://host:8000` and `http://host:8000/v1` both mean the API root `http://host:8000/v1/`."""
    parsed = httpx.URL(url.strip())
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise SpeechToSpeechAIError(f"base_url must be an http(s) URL such as {DEFAULT_BASE_URL}, got {url!r}.")
    path = parsed.path.rstrip("/")
    if not path:
        path = "/v1"
    return parsed.copy_with(path=path + "/")


def retry_after_seconds(headers: httpx.Headers) -> float | None:
    """The server's `Retry-After` (seconds or an HTTP date; or `retry-after-ms`), if it is sane to honour."""
    seconds: float | None = None
    if ms := headers.get("retry-after-ms"):
        try:
            seconds = float(ms) / 1000
        except ValueError:
            seconds = None
    if seconds is None and (value := headers.get("retry-after")):
        try:
            seconds = float(value)
        except ValueError:
            try:
                when = email.utils.parsedate_to_datetime(value)
                seconds = when.timestamp() - time.time()
            except (TypeError, ValueError, IndexError):
                seconds = None
    if seconds is None or not 0 <= seconds <= MAX_RETRY_AFTER:
        return None
    return seconds


def should_retry(response: httpx.Response) -> bool:
    hint = str(response.headers.get("x-should-retry", "")).lower()
    if hint in ("true", "false"):
        return hint == "true"
    return response.status_code in (408, 409, 429) or response.status_code >= 500


def _is_audio(response: httpx.Response) -> bool:
    content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    return not (content_type.endswith("json") or content_type.startswith("text/"))


EVENT_STREAM = "text/event-stream"


def is_event_stream(response: httpx.Response) -> bool:
    return str(response.headers.get("content-type", "")).startswith(EVENT_STREAM)


def parse_model(response: httpx.Response, model: type[ModelT]) -> ModelT:
    """The response body (already read) as a typed object."""
    try:
        return model.model_validate(response.json())
    except (ValueError, pydantic.ValidationError) as exc:
        raise APIError(
            f"The server's answer to {response.request.method} {response.request.url.path} is not a valid "
            f"{model.__name__} ({exc.__class__.__name__}); is base_url pointing at a Speech to Speech AI server?",
            request=response.request,
            status=response.status_code,
            request_id=response.headers.get("x-request-id"),
        ) from exc


def parse_transcription(response: httpx.Response, response_format: str | None) -> Transcription | str:
    """A transcription as the server rendered it: a `str` for text, srt and vtt; a `Transcription` otherwise."""
    if response_format in ("text", "srt", "vtt", "rttm"):
        return response.text
    return parse_model(response, Transcription)


class BaseClient(Generic[HttpClientT]):
    """Settings and the parts of a request that do not depend on sync or async I/O."""

    _client: HttpClientT

    def __init__(
        self,
        *,
        api_key: str | None,
        base_url: str | httpx.URL | None,
        timeout: Timeout,
        max_retries: int,
        default_headers: Mapping[str, str] | None,
    ) -> None:
        api_key = api_key or os.environ.get(API_KEY_ENV)
        if not api_key:
            raise SpeechToSpeechAIError(
                f"No API key: pass api_key=... to the client or set the {API_KEY_ENV} environment variable "
                "(`s2s keys create` on the server prints one)."
            )
        if max_retries < 0:
            raise ValueError("max_retries must be 0 or more.")
        self.api_key = api_key
        self.base_url = normalize_base_url(str(base_url or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL))
        self.timeout = timeout
        self.max_retries = max_retries
        self._default_headers = dict(default_headers or {})

    @property
    def default_headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.api_key}",
            "Accept": "application/json",
            "User-Agent": f"speechtospeechai-python/{__version__}",
            **self._default_headers,
        }

    def _prepare(self, options: RequestOptions) -> RequestOptions:
        """Per call, before the first attempt: the Idempotency-Key every retry of a POST will reuse."""
        if options.method.upper() == "POST" and not any(k.lower() == "idempotency-key" for k in options.headers):
            return replace(options, headers={**options.headers, IDEMPOTENCY_HEADER: f"s2s-{uuid.uuid4()}"})
        return options

    def _build_request(self, options: RequestOptions, stack: ExitStack) -> httpx.Request:
        """One attempt's request; files opened for it are closed when `stack` closes."""
        files = [(name, f.open(stack)) for name, f in options.files] or None
        return self._client.build_request(
            options.method,
            self.base_url.join(options.path.lstrip("/")),
            json=options.json,
            data=options.data,
            files=files,
            params=options.params,
            headers={**self.default_headers, **options.headers},
            timeout=options.timeout if options.timeout is not None else self.timeout,
        )

    def _retry_delay(self, attempt: int, response: httpx.Response | None) -> float | None:
        """Seconds to wait before retry number `attempt + 1`, or None when the call must not be retried."""
        if attempt >= self.max_retries:
            return None
        if response is not None:
            if not should_retry(response):
                return None
            if (server_says := retry_after_seconds(response.headers)) is not None:
                return server_says
        backoff = min(INITIAL_RETRY_DELAY * 2.0**attempt, MAX_RETRY_DELAY)
        return backoff * (1 - 0.25 * random.random())

    def _connection_error(self, request: httpx.Request, exc: httpx.TransportError) -> APIConnectionError:
        if isinstance(exc, httpx.TimeoutException):
            return APITimeoutError(
                f"{request.method} {request.url} timed out ({type(exc).__name__}); raise the client's timeout "
                "or use wait=False and jobs.wait() for long jobs.",
                request=request,
            )
        return APIConnectionError(
            f"Could not reach the API at {self.base_url} ({type(exc).__name__}: {exc}); is the server running "
            f"(`make run`) and is base_url / {BASE_URL_ENV} right?",
            request=request,
        )

    def _log_retry(self, request: httpx.Request, why: str, delay: float, attempt: int) -> None:
        log.info(
            "retrying %s %s in %.2fs after %s (retry %d of %d)",
            request.method,
            request.url,
            delay,
            why,
            attempt + 1,
            self.max_retries,
        )

    @staticmethod
    def _leave_unread(response: httpx.Response, options: RequestOptions) -> bool:
        return options.stream and (_is_audio(response) or is_event_stream(response))


class SyncAPIClient(BaseClient[httpx.Client]):
    _sleep = staticmethod(time.sleep)

    def __init__(
        self,
        *,
        api_key: str | None,
        base_url: str | httpx.URL | None,
        timeout: Timeout,
        max_retries: int,
        default_headers: Mapping[str, str] | None,
        http_client: httpx.Client | None,
    ) -> None:
        super().__init__(
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            default_headers=default_headers,
        )
        self._client = http_client or httpx.Client(timeout=timeout, follow_redirects=True)

    def request(self, options: RequestOptions) -> httpx.Response:
        """Send with retries; return a successful response (body read unless streamed) or raise typed errors."""
        options = self._prepare(options)
        attempt = 0
        while True:
            with ExitStack() as stack:
                request = self._build_request(options, stack)
                try:
                    response = self._client.send(request, stream=True)
                except httpx.TransportError as exc:
                    error = self._connection_error(request, exc)
                    delay = self._retry_delay(attempt, None)
                    if delay is None:
                        raise error from exc
                    self._log_retry(request, type(exc).__name__, delay, attempt)
                else:
                    if response.is_success:
                        if not self._leave_unread(response, options):
                            response.read()
                        return response
                    delay = self._retry_delay(attempt, response)
                    if delay is None:
                        response.read()
                        raise make_status_error(response)
                    response.close()
                    self._log_retry(request, f"HTTP {response.status_code}", delay, attempt)
            self._sleep(delay)
            attempt += 1

    def audio_response(
        self, response: httpx.Response, options: RequestOptions
    ) -> AudioResponse | StreamedAudioResponse:
        return StreamedAudioResponse(response) if self._leave_unread(response, options) else AudioResponse(response)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class AsyncAPIClient(BaseClient[httpx.AsyncClient]):
    _sleep = staticmethod(anyio.sleep)

    def __init__(
        self,
        *,
        api_key: str | None,
        base_url: str | httpx.URL | None,
        timeout: Timeout,
        max_retries: int,
        default_headers: Mapping[str, str] | None,
        http_client: httpx.AsyncClient | None,
    ) -> None:
        super().__init__(
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            default_headers=default_headers,
        )
        self._client = http_client or httpx.AsyncClient(timeout=timeout, follow_redirects=True)

    async def request(self, options: RequestOptions) -> httpx.Response:
        """The async twin of `SyncAPIClient.request`."""
        options = self._prepare(options)
        attempt = 0
        while True:
            with ExitStack() as stack:
                request = self._build_request(options, stack)
                try:
                    response = await self._client.send(request, stream=True)
                except httpx.TransportError as exc:
                    error = self._connection_error(request, exc)
                    delay = self._retry_delay(attempt, None)
                    if delay is None:
                        raise error from exc
                    self._log_retry(request, type(exc).__name__, delay, attempt)
                else:
                    if response.is_success:
                        if not self._leave_unread(response, options):
                            await response.aread()
                        return response
                    delay = self._retry_delay(attempt, response)
                    if delay is None:
                        await response.aread()
                        raise make_status_error(response)
                    await response.aclose()
                    self._log_retry(request, f"HTTP {response.status_code}", delay, attempt)
            await self._sleep(delay)
            attempt += 1

    def audio_response(
        self, response: httpx.Response, options: RequestOptions
    ) -> AudioResponse | AsyncStreamedAudioResponse:
        return (
            AsyncStreamedAudioResponse(response) if self._leave_unread(response, options) else AudioResponse(response)
        )

    async def close(self) -> None:
        await self._client.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()


class _Resource:
    """A node of the client tree. `_streaming()` gives a copy whose audio results are streamed, not read."""

    _stream: bool = False

    def _streaming(self) -> Self:
        clone = copy.copy(self)
        clone._stream = True
        return clone


class SyncAPIResource(_Resource):
    def __init__(self, client: Client) -> None:
        self._client = client


class AsyncAPIResource(_Resource):
    def __init__(self, client: AsyncClient) -> None:
        self._client = client
