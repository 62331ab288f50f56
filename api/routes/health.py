"""Liveness (/healthz), readiness (/readyz: database, Redis, object store) and Prometheus /metrics.

/metrics adds what it reads from Redis at scrape time: the depth of every queue (the base list plus the lists
Redis uses for message priorities), by job kind, model and latency class, and the live workers per model.
"""

from __future__ import annotations

import anyio
from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, Gauge, generate_latest
from sqlalchemy import text

from api.deps import AppState, StateDep
from shared.catalog import MODELS
from shared.queues import all_queues, parse_queue, priority_lists
from shared.schemas import HealthPublic

router = APIRouter(tags=["health"])

QUEUE_DEPTH = Gauge("s2s_queue_depth", "Jobs waiting in a queue", ["queue", "family", "model", "latency_class"])
WORKERS_LIVE = Gauge("s2s_workers_live", "Live worker processes serving a model", ["model"])
MODEL_LOADED = Gauge("s2s_model_loaded", "1 when some live worker has the model in memory", ["model"])


async def queue_depths(redis: object) -> dict[str, int]:
    """Messages waiting per queue, counting every priority list Redis keeps for it."""
    queues = all_queues()
    pipe = redis.pipeline()  # type: ignore[attr-defined]
    for queue in queues:
        for key in priority_lists(queue):
            pipe.llen(key)
    counts = await pipe.execute()
    steps = len(priority_lists(queues[0])) if queues else 0
    return {queue: int(sum(counts[i * steps : (i + 1) * steps])) for i, queue in enumerate(queues)}


async def _refresh_gauges(state: AppState) -> None:
    for queue, depth in (await queue_depths(state.redis)).items():
        info = parse_queue(queue)
        if info is not None:
            QUEUE_DEPTH.labels(queue, info.family, info.model, info.latency).set(depth)
    fleet = await state.fleet.current()
    for model_id in MODELS:
        WORKERS_LIVE.labels(model_id).set(len(fleet.serving(model_id)))
        MODEL_LOADED.labels(model_id).set(1 if fleet.loaded(model_id) else 0)


@router.get("/healthz", operation_id="health-live", summary="Liveness", response_model=HealthPublic)
async def healthz() -> HealthPublic:
    return HealthPublic(status="ok")


@router.get(
    "/readyz",
    operation_id="health-ready",
    summary="Readiness: database, Redis and object store",
    response_model=HealthPublic,
    responses={503: {"model": HealthPublic}},
)
async def readyz(state: StateDep) -> Response:
    checks: dict[str, str] = {}
    try:
        async with state.sessions() as session:
            await session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"error: {type(exc).__name__}"
    try:
        with anyio.fail_after(3):
            await state.redis.ping()
        checks["redis"] = "ok"
    except Exception as exc:
        checks["redis"] = f"error: {type(exc).__name__}"
    try:
        with anyio.fail_after(5):
            await anyio.to_thread.run_sync(state.store.check)
        checks["store"] = "ok"
    except Exception as exc:
        checks["store"] = f"error: {type(exc).__name__}"
    ok = all(v == "ok" for v in checks.values())
    body = HealthPublic(status="ok" if ok else "unavailable", checks=checks)
    return JSONResponse(body.model_dump(), status_code=200 if ok else 503)


@router.get("/metrics", operation_id="health-metrics", summary="Prometheus metrics", include_in_schema=True)
async def metrics(state: StateDep) -> Response:
    try:
        with anyio.fail_after(3):
            await _refresh_gauges(state)
    except Exception:  # Redis away: the request metrics still come out
        pass
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
