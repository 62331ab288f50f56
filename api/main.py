"""The FastAPI application: `create_app(settings)` wires routers, error handlers and the lifespan.

Import-light by design: nothing here (or below api/) imports workers, torch or a model library.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import redis.asyncio as aioredis
from fastapi import Depends, FastAPI
from fastapi.openapi.utils import get_openapi

from api.deps import AppState
from api.docs import install_docs
from api.errors import install_error_handlers
from api.fleet import FleetView
from api.housekeeping import run as run_housekeeping
from api.idempotency import IdempotencyMiddleware, IdempotentReplay, account_idempotency, replay_handler
from api.middleware import RequestContextMiddleware
from api.ratelimit import RateLimitHeadersMiddleware
from api.routes import (
    account,
    admin,
    batches,
    files,
    health,
    jobs,
    models,
    speech,
    transcriptions,
    usage,
    voice_conversions,
    voices,
    web,
    webhooks,
)
from api.waiter import JobWaiter
from shared.config import Settings, get_settings
from shared.db.migrate import upgrade
from shared.db.session import make_async_engine, make_async_sessionmaker
from shared.queues import make_producer
from shared.ratelimit import RateLimiter
from shared.storage import make_store

log = logging.getLogger("api")

DESCRIPTION = """
Text to speech, voice cloning and speech to text with diarization and timestamps, behind one REST API.

Every `/v1` route needs `Authorization: Bearer <API key>` (the `/v1/admin` routes: the server's admin token).
Errors always come as `{"error": {"code", "message", "param", "request_id"}}`.

Jobs cost credits (prices in `GET /v1/models`); a request the balance cannot cover gets 402. Each key has a
requests-per-minute and a concurrent-jobs limit (429 with `Retry-After`; `X-RateLimit-*` headers on every response).
Send `Idempotency-Key` on a POST to make retrying it safe.
"""


ERROR_REF = {"$ref": "#/components/schemas/ErrorResponse"}
ERROR_STATUSES = {
    400: "Invalid request (`invalid_request`, or `invalid_audio` for an upload no decoder reads).",
    401: "Missing or wrong credentials (`invalid_api_key`, `invalid_admin_token`).",
    413: "The request body is over the upload limit (`file_too_large`).",
    429: "Over a rate or concurrency limit (`rate_limit_exceeded`); see `Retry-After`.",
    500: "Server error (`server_error`); the request id identifies it in the logs.",
}


def documented_openapi(app: FastAPI) -> dict[str, Any]:
    """The generated schema with every error status the API can answer, in its one envelope.

    Validation errors are 400 here (never FastAPI's 422), every route can answer 500, every authenticated route
    401 and 429 (its key's rate limit, or the per-address limit of bad credentials), and every POST 413.
    """
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
        separate_input_output_schemas=False,
    )
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)
            wanted = [500]
            if operation.get("parameters") or operation.get("requestBody"):
                wanted.append(400)
            if path.startswith("/v1/"):
                wanted += [401, 429]
            if method == "post":
                wanted.append(413)
            for status in wanted:
                entry = responses.setdefault(str(status), {"description": ERROR_STATUSES[status]})
                entry.setdefault("content", {"application/json": {"schema": ERROR_REF}})
    schema.get("components", {}).get("schemas", {}).pop("HTTPValidationError", None)
    schema.get("components", {}).get("schemas", {}).pop("ValidationError", None)
    app.openapi_schema = schema
    return schema


def create_app(settings: Settings | None = None, *, migrate: bool = True) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if migrate:
            await anyio.to_thread.run_sync(upgrade, settings.sync_database_url)
        engine = make_async_engine(settings.async_database_url)
        redis_client = aioredis.Redis.from_url(settings.broker_url)
        waiter = JobWaiter(redis_client)
        await waiter.start()
        store = await anyio.to_thread.run_sync(make_store, settings)
        producer = make_producer(settings)
        app.state.s2s = AppState(
            settings=settings,
            engine=engine,
            sessions=make_async_sessionmaker(engine),
            store=store,
            redis=redis_client,
            waiter=waiter,
            producer=producer,
            limiter=RateLimiter(redis_client),
            fleet=FleetView(redis_client, settings),
        )
        housekeeping = asyncio.create_task(run_housekeeping(app.state.s2s), name="s2s-housekeeping")
        try:
            yield
        finally:
            housekeeping.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(housekeeping, timeout=5)
            await waiter.stop()
            await redis_client.aclose()
            await engine.dispose()
            producer.close()

    app = FastAPI(
        title="Speech to Speech AI",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        separate_input_output_schemas=False,
        docs_url=None,  # install_docs: /docs and /redoc with their assets served from here, not a CDN
        redoc_url=None,
    )
    app.openapi = lambda: documented_openapi(app)  # type: ignore[method-assign]
    install_docs(app)
    install_error_handlers(app)
    app.add_exception_handler(IdempotentReplay, replay_handler)
    app.add_middleware(IdempotencyMiddleware)
    app.add_middleware(RateLimitHeadersMiddleware)
    app.add_middleware(RequestContextMiddleware, max_body_bytes=settings.limits.max_upload_bytes)
    # every API-key route: an Idempotency-Key on a POST is honoured (the admin router does the same for itself)
    routers = (
        speech,
        transcriptions,
        voice_conversions,
        voices,
        jobs,
        files,
        batches,
        webhooks,
        models,
        account,
        usage,
    )
    for module in routers:
        app.include_router(module.router, dependencies=[Depends(account_idempotency)])
    for module in (admin, health, web):
        app.include_router(module.router)
    return app
