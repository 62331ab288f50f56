"""The platform's error codes and their HTTP statuses: one table for every layer.

The API raises them as typed errors, workers fail jobs with them, and a synchronous request that surfaces a failed
job answers with the same code and status the API would have used had it found the problem itself.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    invalid_request = "invalid_request"
    invalid_audio = "invalid_audio"
    invalid_api_key = "invalid_api_key"
    insufficient_credits = "insufficient_credits"
    not_found = "not_found"
    model_not_found = "model_not_found"
    model_not_installed = "model_not_installed"
    voice_not_found = "voice_not_found"
    conflict = "conflict"
    request_in_progress = "request_in_progress"
    canceled = "canceled"
    file_too_large = "file_too_large"
    rate_limit_exceeded = "rate_limit_exceeded"
    model_unavailable = "model_unavailable"
    service_unavailable = "service_unavailable"
    worker_lost = "worker_lost"
    server_error = "server_error"


STATUS: dict[str, int] = {
    ErrorCode.invalid_request: 400,
    ErrorCode.invalid_audio: 400,
    ErrorCode.invalid_api_key: 401,
    ErrorCode.insufficient_credits: 402,
    ErrorCode.not_found: 404,
    ErrorCode.model_not_found: 404,
    ErrorCode.model_not_installed: 404,
    ErrorCode.voice_not_found: 404,
    ErrorCode.conflict: 409,
    ErrorCode.request_in_progress: 409,
    ErrorCode.canceled: 409,
    ErrorCode.file_too_large: 413,
    ErrorCode.rate_limit_exceeded: 429,
    ErrorCode.model_unavailable: 503,
    ErrorCode.service_unavailable: 503,
    ErrorCode.worker_lost: 500,
    ErrorCode.server_error: 500,
}


def status_of(code: str | None) -> int:
    """The HTTP status of an error code (500 for codes this table does not know)."""
    return STATUS.get(code or "", 500)
