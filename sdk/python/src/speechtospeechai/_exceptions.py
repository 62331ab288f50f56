"""Typed exceptions, one per error code of the API, and the one function that maps a response onto them.

Every error the server sends has the envelope `{"error": {"code", "message", "param", "request_id"}}`;
`make_status_error` turns a failed HTTP response into the matching class, so callers catch types, never text.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from .types import Batch, Job

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "BatchTimeoutError",
    "ConflictError",
    "FileTooLargeError",
    "InsufficientCreditsError",
    "InternalServerError",
    "JobFailedError",
    "JobTimeoutError",
    "ModelNotFoundError",
    "ModelNotInstalledError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "SpeechToSpeechAIError",
    "StreamError",
    "VoiceNotFoundError",
    "WebhookVerificationError",
    "make_status_error",
]


class SpeechToSpeechAIError(Exception):
    """Base class of every exception this package raises."""


class APIError(SpeechToSpeechAIError):
    """A request to the API failed. `status`, `code`, `param` and `request_id` are None where they do not apply."""

    message: str
    status: int | None
    code: str | None
    param: str | None
    request_id: str | None
    request: httpx.Request | None

    def __init__(
        self,
        message: str,
        *,
        request: httpx.Request | None = None,
        status: int | None = None,
        code: str | None = None,
        param: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.request = request
        self.status = status
        self.code = code
        self.param = param
        self.request_id = request_id

    @property
    def status_code(self) -> int | None:
        """Same as `status` (the name openai-python and httpx use)."""
        return self.status

    def __str__(self) -> str:
        details = [str(x) for x in (self.status, self.code) if x is not None]
        if self.param:
            details.append(f"param {self.param}")
        if self.request_id:
            details.append(f"request {self.request_id}")
        return f"{self.message} [{', '.join(details)}]" if details else self.message


class APIStatusError(APIError):
    """The server answered with a 4xx or 5xx status."""

    status: int
    response: httpx.Response

    def __init__(
        self,
        message: str,
        *,
        response: httpx.Response,
        code: str | None = None,
        param: str | None = None,
        request_id: str | None = None,
        body: Any = None,
    ) -> None:
        super().__init__(
            message,
            request=response.request,
            status=response.status_code,
            code=code,
            param=param,
            request_id=request_id,
        )
        self.response = response
        self.body = body


class BadRequestError(APIStatusError):
    """400 `invalid_request`: a parameter is missing or invalid (`param` names it)."""


class AuthenticationError(APIStatusError):
    """401 `invalid_api_key`: the API key is missing, wrong or revoked."""


class InsufficientCreditsError(APIStatusError):
    """402 `insufficient_credits`: the account has not enough credits for this operation."""


class PermissionDeniedError(APIStatusError):
    """403: the key may not do this."""


class NotFoundError(APIStatusError):
    """404: the route, job, model or voice does not exist (the subclasses say which)."""


class ModelNotFoundError(NotFoundError):
    """404 `model_not_found`: no model has this id."""


class VoiceNotFoundError(NotFoundError):
    """404 `voice_not_found`: no preset or cloned voice has this id."""


class ModelNotInstalledError(NotFoundError):
    """404 `model_not_installed`: the model is known but this server lacks its weights; the message says how to
    install them."""


class ConflictError(APIStatusError):
    """409 `conflict`: the resource is not in a state that allows this (e.g. a job's result before it succeeded)."""


class FileTooLargeError(APIStatusError):
    """413 `file_too_large`: the upload exceeds the server's limit."""


class RateLimitError(APIStatusError):
    """429 `rate_limit_exceeded`: too many requests; retried automatically, honouring Retry-After."""


class InternalServerError(APIStatusError):
    """5xx: the server failed; retried automatically. Quote `request_id` when reporting it."""


class ModelUnavailableError(InternalServerError):
    """503 `model_unavailable`: the model is installed but no worker serving it is running right now; retried
    automatically after the server's Retry-After."""


class InvalidAudioError(BadRequestError):
    """400 `invalid_audio`: the upload is not audio any decoder can read."""


class APIConnectionError(APIError):
    """The server could not be reached, or the connection broke before a response arrived."""

    def __init__(self, message: str = "Connection error.", *, request: httpx.Request | None = None) -> None:
        super().__init__(message, request=request)


class APITimeoutError(APIConnectionError):
    """The request timed out (see the client's `timeout`)."""

    def __init__(self, message: str = "Request timed out.", *, request: httpx.Request | None = None) -> None:
        super().__init__(message, request=request)


class JobFailedError(SpeechToSpeechAIError):
    """A background job ended `failed` or `canceled`; `job.error` holds the server's code and message."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self.code = job.error.code if job.error else job.status
        self.message = job.error.message if job.error and job.error.message else f"Job {job.id} {job.status}."
        super().__init__(f"{self.message} [job {job.id} {job.status}, {self.code}]")


class StreamError(SpeechToSpeechAIError):
    """A streamed job sent an `error` event: `code` is the job's error code (`timeout`: the job is still running
    after the stream's time budget; wait for `job_id` with `client.jobs.wait`)."""

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        job_id: str | None = None,
        request_id: str | None = None,
        body: object = None,
    ) -> None:
        self.message, self.code, self.job_id, self.request_id, self.body = message, code, job_id, request_id, body
        super().__init__(f"{message} [job {job_id}, {code}]" if job_id else message)


class JobTimeoutError(SpeechToSpeechAIError, TimeoutError):
    """`jobs.wait` gave up before the job ended; the job keeps running on the server."""

    def __init__(self, job: Job, timeout: float) -> None:
        self.job = job
        self.timeout = timeout
        super().__init__(
            f"Job {job.id} is still {job.status} after {timeout:g}s (progress {job.progress:.0%}); "
            f"call jobs.wait('{job.id}') again or jobs.cancel('{job.id}')."
        )


class WebhookVerificationError(SpeechToSpeechAIError):
    """A webhook whose signature, timestamp or headers do not verify: answer it 400 and do not act on it."""


class BatchTimeoutError(SpeechToSpeechAIError, TimeoutError):
    """`batches.wait` gave up before the batch ended; the batch keeps running on the server."""

    def __init__(self, batch: Batch, timeout: float) -> None:
        self.batch = batch
        self.timeout = timeout
        counts = batch.request_counts
        super().__init__(
            f"Batch {batch.id} is still {batch.status} after {timeout:g}s ({counts.completed + counts.failed} of "
            f"{counts.total} done); call batches.wait('{batch.id}') again or batches.cancel('{batch.id}')."
        )


_BY_CODE: dict[str, type[APIStatusError]] = {
    "invalid_request": BadRequestError,
    "invalid_audio": InvalidAudioError,
    "model_unavailable": ModelUnavailableError,
    "invalid_api_key": AuthenticationError,
    "insufficient_credits": InsufficientCreditsError,
    "rate_limit_exceeded": RateLimitError,
    "model_not_found": ModelNotFoundError,
    "voice_not_found": VoiceNotFoundError,
    "model_not_installed": ModelNotInstalledError,
    "file_too_large": FileTooLargeError,
    "conflict": ConflictError,
}

_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    402: InsufficientCreditsError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    413: FileTooLargeError,
    422: BadRequestError,
    429: RateLimitError,
}


def _error_class(status: int, code: str | None) -> type[APIStatusError]:
    by_status = _BY_STATUS.get(status) or (InternalServerError if status >= 500 else APIStatusError)
    by_code = _BY_CODE.get(code or "")
    # the code refines the status (404 + model_not_installed); it never contradicts it
    if by_code is not None and issubclass(by_code, by_status):
        return by_code
    return by_status


def make_status_error(response: httpx.Response) -> APIStatusError:
    """The typed exception for a failed response (its body must have been read)."""
    body: Any = None
    with contextlib.suppress(ValueError):
        body = response.json()
    detail = body.get("error") if isinstance(body, dict) else None
    if isinstance(detail, dict):
        code = detail.get("code")
        message = detail.get("message") or f"HTTP {response.status_code}"
        param = detail.get("param")
        request_id = detail.get("request_id")
    else:
        code = param = request_id = None
        text = response.text.strip()
        message = f"HTTP {response.status_code} {response.reason_phrase}" + (f": {text[:300]}" if text else "")
    request_id = request_id or response.headers.get("x-request-id")
    cls = _error_class(response.status_code, code)
    return cls(message, response=response, code=code, param=param, request_id=request_id, body=body)
