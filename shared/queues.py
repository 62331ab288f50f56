"""Queue names, task names and the Celery configuration both the API (producer) and the workers use.

One queue per model and job kind: `tts.<model>`, `stt.<model>`, `clone.<model>`. The API enqueues by task name
with `send_task`, so it never imports worker code.
"""

from __future__ import annotations

from typing import Any, Literal

from celery import Celery
from kombu import Queue

from shared.config import Settings

JobKind = Literal["tts", "stt", "clone"]
JOB_KINDS: tuple[JobKind, ...] = ("tts", "stt", "clone")

TASK_NAMES: dict[str, str] = {
    "tts": "s2s.synthesize",
    "stt": "s2s.transcribe",
    "clone": "s2s.clone",
}

# Redis pub/sub channel on which workers announce job state changes (JSON: job_id, state, progress).
JOB_EVENTS_CHANNEL = "s2s:job-events"


def job_stream_channel(job_id: str) -> str:
    """Per-job channel carrying streamed partial results (e.g. transcript segments) while a job runs."""
    return f"s2s:job-stream:{job_id}"


def queue_name(kind: str, model_id: str) -> str:
    return f"{kind}.{model_id}"


def queues_for_models(model_ids: list[str]) -> list[str]:
    """Every queue a worker hosting these models subscribes to."""
    from shared.catalog import MODELS

    names: list[str] = []
    for model_id in model_ids:
        spec = MODELS[model_id]
        names.append(queue_name(spec.kind, model_id))
        if spec.can_clone:
            names.append(queue_name("clone", model_id))
    return names


def celery_config(settings: Settings) -> dict[str, Any]:
    """Celery settings shared by producer and consumers: JSON only, late acks, one job at a time."""
    return {
        "broker_url": settings.broker_url,
        "broker_connection_retry_on_startup": True,
        "broker_transport_options": {
            # Redis re-delivers unacked messages after this; it must exceed the longest job.
            "visibility_timeout": settings.celery.visibility_timeout_seconds,
        },
        "task_serializer": "json",
        "accept_content": ["json"],
        "result_serializer": "json",
        "task_ignore_result": True,  # the SQL job row is the result
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_time_limit": settings.celery.task_time_limit_seconds,
        "task_create_missing_queues": True,
        "task_default_queue": "default",
        "worker_hijack_root_logger": False,
        "worker_send_task_events": True,
        "task_send_sent_event": True,
        "broker_pool_limit": 10,
    }


def make_producer(settings: Settings) -> Celery:
    """A Celery app that only sends tasks (used by the API)."""
    app = Celery("s2s")
    app.conf.update(celery_config(settings))
    return app


def declare_queues(names: list[str]) -> list[Queue]:
    return [Queue(name, routing_key=name) for name in names]
