"""Queue names, task routing and the Celery configuration both the API (producer) and the workers use.

Each model has one queue per job kind it serves and per latency class: `tts.piper.interactive`,
`tts.piper.batch`, `stt.whisper-base.interactive`, ... Synchronous and streaming requests go to the interactive
queue, async requests and batch items to the batch queue; a worker lists its interactive queues first and Redis is
read in that fixed order (`queue_order_strategy=priority`), so it always takes interactive work before batch work.
The API enqueues by task name with `send_task`, so it never imports worker code.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from celery import Celery
from kombu import Queue

from shared.config import Settings

LatencyClass = Literal["interactive", "batch"]
LATENCY_CLASSES: tuple[LatencyClass, ...] = ("interactive", "batch")

# Redis emulates message priorities with one list per priority step, `<queue><sep><step>` (step 0 is the queue's
# own name). Celery's defaults, spelled out so depth counting and the broker agree.
PRIORITY_STEPS = [0, 3, 6, 9]
PRIORITY_SEP = "\x06\x16"

# Redis pub/sub channel on which workers announce job state changes (JSON: job_id, state, progress).
JOB_EVENTS_CHANNEL = "s2s:job-events"


# Set (to the queue name) once a job's message is in the broker, removed when a worker claims the job: a queued job
# without it was never sent, or the broker lost it, and the reconciler sends it again.
ENQUEUED_PREFIX = "s2s:enqueued:"


def enqueued_key(job_id: str) -> str:
    return f"{ENQUEUED_PREFIX}{job_id}"


def send_job(producer: Celery, job_id: str, kind: str, queue: str) -> None:
    """Send a job's task (its id is the job's id, so Flower rows and revokes name the job) to `queue`."""
    producer.send_task(
        task_name(kind),
        args=[job_id],
        task_id=job_id,
        queue=queue,
        retry=True,
        retry_policy={"max_retries": 2, "interval_start": 0.1, "interval_step": 0.5},
    )


def job_stream_channel(job_id: str) -> str:
    """Per-job channel carrying streamed partial results (e.g. transcript segments) while a job runs."""
    return f"s2s:job-stream:{job_id}"


def queue_name(family: str, model_id: str, latency: LatencyClass = "interactive") -> str:
    return f"{family}.{model_id}.{latency}"


@dataclass(frozen=True)
class QueueInfo:
    name: str
    family: str
    model: str
    latency: LatencyClass


def parse_queue(name: str) -> QueueInfo | None:
    family, _, rest = name.partition(".")
    model, _, latency = rest.rpartition(".")
    if not family or not model or latency not in LATENCY_CLASSES:
        return None
    return QueueInfo(name, family, model, latency)  # type: ignore[arg-type]


def task_name(kind: str) -> str:
    from shared.jobkinds import job_kind

    return job_kind(kind).task


def job_queue(kind: str, model_id: str, latency: LatencyClass) -> str:
    from shared.jobkinds import job_kind

    return queue_name(job_kind(kind).queue_family, model_id, latency)


def queues_for_models(model_ids: Iterable[str]) -> list[str]:
    """Every queue a worker hosting these models consumes, interactive ones first (the order Redis is read in)."""
    from shared.catalog import MODELS
    from shared.jobkinds import job_kind

    ids = list(model_ids)
    return [
        queue_name(job_kind(kind).queue_family, model_id, latency)
        for latency in LATENCY_CLASSES
        for model_id in ids
        for kind in MODELS[model_id].job_kinds
    ]


def all_queues() -> list[str]:
    """The queues of every model in the catalog."""
    from shared.catalog import MODELS

    return queues_for_models(MODELS)


def priority_lists(queue: str) -> list[str]:
    """The Redis lists holding a queue's messages, one per priority step."""
    return [queue if step == 0 else f"{queue}{PRIORITY_SEP}{step}" for step in PRIORITY_STEPS]


def celery_config(settings: Settings) -> dict[str, Any]:
    """Celery settings shared by producer and consumers: JSON only, late acks, one job at a time."""
    return {
        "broker_url": settings.broker_url,
        "broker_connection_retry_on_startup": True,
        "broker_transport_options": {
            # Redis re-delivers unacked messages after this; it must exceed the longest job.
            "visibility_timeout": settings.celery.visibility_timeout_seconds,
            # read the queues in the order the worker lists them: interactive before batch
            "queue_order_strategy": "priority",
            "priority_steps": PRIORITY_STEPS,
            "sep": PRIORITY_SEP,
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
        # a child that grew past this (KiB) after a job is replaced: models leak no memory for ever
        "worker_max_memory_per_child": settings.celery.max_memory_per_child_mb * 1024,
    }


def make_producer(settings: Settings) -> Celery:
    """A Celery app that only sends tasks (used by the API)."""
    app = Celery("s2s")
    app.conf.update(celery_config(settings))
    return app


def declare_queues(names: list[str]) -> list[Queue]:
    return [Queue(name, routing_key=name) for name in names]


def queue_table() -> dict[str, list[str]]:
    """Model id -> its queues without the latency class (the Helm chart's KEDA triggers add both classes)."""
    from shared.catalog import MODELS

    table = {m: sorted({q.rsplit(".", 1)[0] for q in queues_for_models([m])}) for m in sorted(MODELS)}
    return {m: queues for m, queues in table.items() if queues}  # components (diarization) have no queue


if __name__ == "__main__":  # python -m shared.queues --helm > infra/helm/s2s/files/model-queues.yaml
    import sys

    import yaml

    if sys.argv[1:] != ["--helm"]:
        raise SystemExit("usage: python -m shared.queues --helm")
    print("# model -> its queues without the latency class (each has .interactive and .batch); generated from the")
    print("# catalog: `python -m shared.queues --helm > infra/helm/s2s/files/model-queues.yaml`")
    print(yaml.safe_dump(queue_table(), sort_keys=True), end="")
