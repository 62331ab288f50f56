"""The one error envelope `{"error": {"code", "message", "param", "request_id"}}` and its handlers.

Routes raise typed `APIError`s; validation errors, framework HTTP errors and unexpected exceptions are mapped
onto the same envelope here, so no client ever sees a bare 500 page or a framework-shaped error.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.errors import ErrorCode, status_of

log = logging.getLogger("api.errors")


class APIError(Exception):
    """An error answered in the envelope; subclasses fix the code (shared.errors) and its status."""

    status_code = 400
    code: str = ErrorCode.invalid_request

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "status_code" not in cls.__dict__:
            cls.status_code = status_of(cls.code)

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        status_code: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.headers = headers
        if code:
            self.code = code
        if status_code:
            self.status_code = status_code


class InvalidRequest(APIError):
    code = ErrorCode.invalid_request


class InvalidAudio(APIError):
    code = ErrorCode.invalid_audio


class InvalidApiKey(APIError):
    code = ErrorCode.invalid_api_key


class InsufficientCredits(APIError):
    code = ErrorCode.insufficient_credits


class NotFound(APIError):
    code = ErrorCode.not_found


class ModelNotFound(APIError):
    code = ErrorCode.model_not_found


class ModelNotInstalled(APIError):
    code = ErrorCode.model_not_installed


class VoiceNotFound(APIError):
    code = ErrorCode.voice_not_found


class Conflict(APIError):
    code = ErrorCode.conflict


class FileTooLarge(APIError):
    code = ErrorCode.file_too_large


class RateLimitExceeded(APIError):
    code = ErrorCode.rate_limit_exceeded


class ServiceUnavailable(APIError):
    code = ErrorCode.service_unavailable


class ModelUnavailable(APIError):
    """The model exists and its weights are installed somewhere, but no live worker serves it right now."""

    code = ErrorCode.model_unavailable


_STATUS_CODES = {
    400: "invalid_request",
    401: "invalid_api_key",
    402: "insufficient_credits",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "file_too_large",
    415: "invalid_request",
    422: "invalid_request",
    429: "rate_limit_exceeded",
}


def request_id_of(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)


def error_body(code: str, message: str, *, param: str | None = None, request_id: str | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "param": param, "request_id": request_id}}


def error_response(
    request: Request,
    status: int,
    code: str,
    message: str,
    *,
    param: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(
        error_body(code, message, param=param, request_id=request_id_of(request)),
        status_code=status,
        headers=headers,
    )


def _loc_to_param(loc: Sequence[Any]) -> str | None:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "form")]
    return ".".join(parts) or None


def _validation_message(err: dict[str, Any]) -> str:
    typ = err.get("type", "")
    param = _loc_to_param(err.get("loc", ())) or "request"
    if typ == "json_invalid":
        return f"The request body is not valid JSON ({err.get('ctx', {}).get('error', 'parse error')})."
    if typ == "missing":
        return f"Missing required parameter '{param}'."
    if typ == "literal_error":
        return f"Invalid value for '{param}': {err.get('msg', '')}."
    if typ == "model_attributes_type":
        return "The request body must be a JSON object."
    return f"Invalid value for '{param}': {err.get('msg', 'invalid')}."


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(APIError)
    async def _api_error(request: Request, exc: APIError) -> JSONResponse:
        return error_response(request, exc.status_code, exc.code, exc.message, param=exc.param, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        first = errors[0] if errors else {"loc": (), "msg": "invalid request"}
        return error_response(
            request, 400, "invalid_request", _validation_message(first), param=_loc_to_param(first.get("loc", ()))
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _STATUS_CODES.get(exc.status_code, "server_error" if exc.status_code >= 500 else "invalid_request")
        message = str(exc.detail) if exc.detail else "request failed"
        if exc.status_code == 404 and message == "Not Found":
            message = f"No route {request.method} {request.url.path}; see /docs for the API."
        return error_response(request, exc.status_code, code, message, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(
            request,
            500,
            "server_error",
            "Internal server error; the request id identifies it in the server log.",
        )
