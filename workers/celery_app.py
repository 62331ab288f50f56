"""The workers' Celery app: configured from Settings, subscribed to the queues of the models it hosts.

Start it with `s2s worker --models piper,whisper-base` (or `celery -A workers.celery_app worker -Q ...`).
Each worker process (a prefork child, or the worker itself with the solo/threads pool) gets its own context:
the residency manager (models load in the child, never in the parent: CUDA and fork do not mix), a heartbeat
in Redis, and a background warm-up that loads the hosted models without holding up the child's start.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

import redis
from celery import Celery
from celery.signals import worker_init, worker_process_init, worker_process_shutdown, worker_ready, worker_shutdown

from shared.catalog import MODELS, ModelSpec, installed_models
from shared.config import Settings, get_settings
from shared.queues import celery_config, declare_queues, queues_for_models
from shared.storage import make_store
from workers.engines import load_engine
from workers.heartbeat import Heartbeat
from workers.residency import ResidencyManager
from workers.runner import WorkerContext
from workers.seeding import seed_random, seed_torch

log = logging.getLogger(__name__)


def hosted_models(settings: Settings) -> list[str]:
    """Models this worker serves: WORKER_MODELS, or every installed model; a worker that transcribes also hosts
    the installed diarization models (its transcriptions run them), and one that also speaks the pipelines of
    both (re-voicing)."""
    installed = installed_models(settings.resolved_model_dir)
    if not settings.worker_models:
        return [spec.id for spec in installed]
    ids = [m.strip() for m in settings.worker_models.split(",") if m.strip()]
    unknown = [m for m in ids if m not in MODELS]
    if unknown:
        raise SystemExit(f"unknown model id(s): {', '.join(unknown)}; see `s2s models list`")
    kinds = {MODELS[m].kind for m in ids}
    if "stt" in kinds:
        ids += [spec.id for spec in installed if spec.kind == "diarization" and spec.id not in ids]
    if {"stt", "tts"} <= kinds:  # it can re-voice: the pipelines made of its models (revoice)
        ids += [spec.id for spec in installed if spec.installed_with is not None and spec.id not in ids]
    return ids


def create_celery(settings: Settings) -> Celery:
    celery = Celery("s2s", include=["workers.tasks"])
    celery.conf.update(celery_config(settings))
    celery.conf.task_queues = declare_queues(queues_for_models(hosted_models(settings)))
    return celery


settings = get_settings()
app = create_celery(settings)

_context: WorkerContext | None = None
_heartbeat: Heartbeat | None = None
_context_lock = threading.Lock()
_prefork = True


def get_context() -> WorkerContext:
    """The per-process worker context (store, Redis, residency manager), built on first use."""
    global _context
    with _context_lock:
        if _context is None:
            _context = WorkerContext(
                settings=settings,
                store=make_store(settings),
                redis=redis.Redis.from_url(settings.broker_url),
                residency=ResidencyManager(
                    settings.resolved_model_dir,
                    ttl_seconds=settings.model_ttl_seconds,
                    conditioning_bytes_limit=settings.conditioning_cache_mb << 20,
                    loader=_load,
                ),
                hosted=hosted_models(settings),
            )
        return _context


def warm_up(ctx: WorkerContext) -> None:
    """Load every hosted model (and the diarizer when transcription is hosted), so the first job pays no load."""
    for model_id in ctx.hosted:
        if MODELS[model_id].component:  # loaded with the diarizer below
            continue
        try:
            ctx.residency.get(model_id)
        except Exception as exc:  # a missing model fails its jobs with a clear error instead
            log.warning("could not preload %s: %s", model_id, exc)
    if any(MODELS[m].kind == "stt" for m in ctx.hosted):
        from workers.handlers.transcription import diarizer

        try:
            diarizer(ctx)
        except Exception as exc:
            log.warning("could not preload the diarization pipeline: %s", exc)


def _load(spec: ModelSpec, model_dir: Path) -> Any:
    """Load an engine; with RANDOM_SEED, seed torch once the engine has imported it."""
    engine = load_engine(spec, model_dir)
    if settings.random_seed is not None:
        seed_torch(settings.random_seed)
    return engine


def start_process(concurrency: int = 1, role: str = "both") -> None:
    """Start this worker process's background work: heartbeat, idle-unload timer, warm-up. Never blocks."""
    global _heartbeat
    if settings.random_seed is not None:
        seed_random(settings.random_seed)
    ctx = get_context()
    _heartbeat = Heartbeat(ctx, concurrency=concurrency, role=role)
    ctx.worker_id = _heartbeat.id
    _heartbeat.start()
    ctx.residency.start_timer()
    if settings.preload_models:
        threading.Thread(target=warm_up, args=(ctx,), name="s2s-warm-up", daemon=True).start()


def stop_process() -> None:
    if _heartbeat is not None:
        _heartbeat.stop()
    if _context is not None:
        _context.residency.stop()


@worker_init.connect
def _note_pool(sender: Any = None, **_: Any) -> None:
    global _prefork
    _prefork = "prefork" in str(getattr(sender, "pool_cls", "prefork"))


@worker_process_init.connect
def _child_started(**_: Any) -> None:
    start_process(role="process")


_node_beat: Heartbeat | None = None


@worker_ready.connect
def _worker_ready(sender: Any = None, **_: Any) -> None:
    global _node_beat
    concurrency = int(getattr(getattr(sender, "controller", None), "concurrency", 1) or 1)
    if not _prefork:  # solo / threads pool: this process runs the jobs itself
        start_process(concurrency=concurrency)
        return
    # the main process of a prefork worker: it consumes the queues, so it says the models are served even while
    # it replaces a child; a context of its own (never the global one, which children would inherit)
    node = WorkerContext(
        settings=settings,
        store=make_store(settings),
        redis=redis.Redis.from_url(settings.broker_url),
        residency=ResidencyManager(settings.resolved_model_dir),
        hosted=hosted_models(settings),
    )
    _node_beat = Heartbeat(node, concurrency=concurrency, role="node")
    _node_beat.start()


@worker_process_shutdown.connect
def _child_stopping(**_: Any) -> None:
    stop_process()


@worker_shutdown.connect
def _worker_stopping(**_: Any) -> None:
    if _node_beat is not None:
        _node_beat.stop()
    if not _prefork:
        stop_process()
