"""Liveness (/healthz), readiness (/readyz: database, Redis, object store, live workers) and Prometheus /metrics.

/metrics adds what it reads at scrape time: from Redis, the depth of every queue (the base list plus the lists
Redis uses for message priorities) by job kind, model and latency class, the live workers per model, and the
cluster-wide job histograms and counters the workers aggregate there (shared/job_metrics.py); from SQL, jobs by
kind, model and state, batches by status and webhook deliveries by status.
"""

from __future__ import annotations

import hmac

import anyio
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, generate_latest
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select, text

from api.deps import AppState, StateDep
from api.errors import APIError
from shared import job_metrics
from shared.catalog import MODELS
from shared.db.models import Batch, Job, WebhookDelivery
from shared.queues import all_queues, parse_queue, priority_lists
from shared.schemas import ErrorResponse, HealthPublic
from shared.worker_registry import Fleet

router = APIRouter(tags=["health"])

READY_WINDOW_SECONDS = 60.0

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


class _Snapshot:
    """A collector of what one scrape read (Redis's job metrics hash, SQL counts), rendered once."""

    def __init__(self, raw: dict, rows: dict[str, list[tuple]]) -> None:  # type: ignore[type-arg]
        self.raw, self.rows = raw, rows

    def collect(self):  # type: ignore[no-untyped-def]
        yield from job_metrics.families(self.raw)
        jobs = GaugeMetricFamily("s2s_jobs", "Jobs in SQL by kind, model and state", labels=["kind", "model", "state"])
        for kind, model, job_state, count in self.rows.get("jobs", []):
            jobs.add_metric([kind, model, job_state], count)
        yield jobs
        for name, metric, doc in (
            ("batches", "s2s_batches", "Batches by status"),
            ("webhook_deliveries", "s2s_webhook_deliveries", "Webhook deliveries by status"),
        ):
            family = GaugeMetricFamily(metric, doc, labels=["status"])
            for status, count in self.rows.get(name, []):
                family.add_metric([status], count)
            yield family


async def _snapshot(state: AppState) -> _Snapshot:
    raw = await state.redis.hgetall(job_metrics.KEY)
    rows: dict[str, list[tuple]] = {}  # type: ignore[type-arg]
    async with state.sessions() as session:
        for name, stmt in (
            ("jobs", select(Job.kind, Job.model, Job.state, func.count()).group_by(Job.kind, Job.model, Job.state)),
            ("batches", select(Batch.status, func.count()).group_by(Batch.status)),
            ("webhook_deliveries", select(WebhookDelivery.status, func.count()).group_by(WebhookDelivery.status)),
        ):
            rows[name] = [tuple(r) for r in (await session.execute(stmt)).all()]
    return _Snapshot(raw, rows)


def workers_check(state: AppState, fleet: Fleet) -> str:
    """ "ok" when some worker is live and every model that should be served is: the models this server's disk
    holds (the single-machine mode), and those a worker served within READY_WINDOW_SECONDS (a pool that just
    died; one retired for longer is the operator's choice)."""
    if not fleet.workers:
        return "error: no live worker (start one: s2s worker --models ...)"
    expected = {m for m, seen in fleet.seen.items() if fleet.taken_at - seen < READY_WINDOW_SECONDS}
    expected |= {spec.id for spec in MODELS.values() if state.fleet.installed_here(spec)}
    missing = sorted(m for m in expected if m in MODELS and not fleet.is_live(m))
    if missing:
        return f"error: no live worker serves {', '.join(missing)}"
    return "ok"


@router.get("/healthz", operation_id="health-live", summary="Liveness", response_model=HealthPublic)
async def healthz() -> HealthPublic:
    return HealthPublic(status="ok")


@router.get(
    "/readyz",
    operation_id="health-ready",
    summary="Readiness: database, Redis, object store, and a live worker for every model that should be served",
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
    checks["workers"] = workers_check(state, await state.fleet.current())
    ok = all(v == "ok" for v in checks.values())
    body = HealthPublic(status="ok" if ok else "unavailable", checks=checks)
    return JSONResponse(body.model_dump(), status_code=200 if ok else 503)


class MetricsForbidden(APIError):
    code = "metrics_forbidden"
    status_code = 403


def require_metrics_token(request: Request, state: AppState) -> None:
    token = state.settings.metrics_token.get_secret_value() if state.settings.metrics_token else ""
    if not token:
        raise MetricsForbidden("Metrics are off: set METRICS_TOKEN and scrape with `Authorization: Bearer <token>`.")
    scheme, _, presented = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(presented.strip().encode(), token.encode()):
        raise MetricsForbidden("Send the server's METRICS_TOKEN as `Authorization: Bearer <token>` to read /metrics.")


@router.get(
    "/metrics",
    operation_id="health-metrics",
    summary="Prometheus metrics (needs METRICS_TOKEN)",
    responses={
        200: {"content": {"text/plain": {}}, "description": "Prometheus text exposition format."},
        403: {"model": ErrorResponse, "description": "No or wrong metrics token (`metrics_forbidden`)."},
    },
)
async def metrics(request: Request, state: StateDep) -> Response:
    require_metrics_token(request, state)
    try:
        with anyio.fail_after(3):
            await _refresh_gauges(state)
    except Exception:  # Redis away: the request metrics still come out
        pass
    body = generate_latest()
    try:
        with anyio.fail_after(5):
            registry = CollectorRegistry()
            registry.register(await _snapshot(state))  # type: ignore[arg-type]
        body += generate_latest(registry)
    except Exception:  # Redis or SQL away: what this process knows still comes out
        pass
    return Response(body, media_type=CONTENT_TYPE_LATEST)
