"""The workers' Celery app: configured from Settings, subscribed to the queues of the models it hosts.

Start it with `s2s worker --models piper,whisper-base` (or `celery -A workers.celery_app worker -Q ...`).
Models load in the worker child process (never in the parent: CUDA and fork do not mix) and stay warm.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import redis
from celery import Celery
from celery.signals import worker_process_init

from shared.catalog import MODELS, installed_models
from shared.config import Settings, get_settings
from shared.queues import celery_config, declare_queues, queues_for_models
from shared.storage import make_store
from workers.manager import ModelManager
from workers.runner import WorkerContext

log = logging.getLogger(__name__)


def hosted_models(settings: Settings) -> list[str]:
    """Models this worker serves: WORKER_MODELS, or every installed model."""
    if settings.worker_models:
        ids = [m.strip() for m in settings.worker_models.split(",") if m.strip()]
        unknown = [m for m in ids if m not in MODELS]
        if unknown:
            raise SystemExit(f"unknown model id(s): {', '.join(unknown)}; see `s2s models list`")
        return ids
    return [spec.id for spec in installed_models(settings.resolved_model_dir)]


def create_celery(settings: Settings) -> Celery:
    celery = Celery("s2s", include=["workers.tasks"])
    celery.conf.update(celery_config(settings))
    celery.conf.task_queues = declare_queues(queues_for_models(hosted_models(settings)))
    return celery


settings = get_settings()
app = create_celery(settings)

_context: WorkerContext | None = None
_context_lock = threading.Lock()


def get_context() -> WorkerContext:
    """The per-process worker context (store, Redis, model manager), built on first use."""
    global _context
    with _context_lock:
        if _context is None:
            _context = WorkerContext(
                settings=settings,
                store=make_store(settings),
                redis=redis.Redis.from_url(settings.broker_url),
                manager=ModelManager(settings.resolved_model_dir, ttl_seconds=settings.model_ttl_seconds),
                hosted=hosted_models(settings),
            )
        return _context


@worker_process_init.connect
def _warm_up(**_: Any) -> None:
    """Load every hosted model in the child as soon as it starts, so the first job pays no load time."""
    ctx = get_context()
    for model_id in ctx.hosted:
        try:
            ctx.manager.get(model_id)
        except Exception as exc:  # a missing model fails its jobs with a clear error instead
            log.warning("could not preload %s: %s", model_id, exc)
    if any(MODELS[m].kind == "stt" for m in ctx.hosted):
        try:
            ctx.diarizer()
        except Exception as exc:
            log.warning("could not preload the diarization pipeline: %s", exc)
