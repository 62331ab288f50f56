"""Job events over Redis pub/sub: workers publish state changes, API processes wake their waiters.

Redis carries only the notification; the job row in SQL stays the source of truth, so a lost message costs
at most one poll interval.
"""

from __future__ import annotations

import json
from typing import Any

from shared.queues import JOB_EVENTS_CHANNEL, job_stream_channel


def encode_event(job_id: str, state: str, progress: float | None = None) -> str:
    payload: dict[str, Any] = {"job_id": job_id, "state": state}
    if progress is not None:
        payload["progress"] = round(progress, 4)
    return json.dumps(payload)


def decode_event(raw: bytes | str) -> dict[str, Any] | None:
    try:
        data = json.loads(raw)
    except (ValueError, TypeError):
        return None
    return data if isinstance(data, dict) and "job_id" in data else None


def publish_job_event(redis_client: Any, job_id: str, state: str, progress: float | None = None) -> None:
    redis_client.publish(JOB_EVENTS_CHANNEL, encode_event(job_id, state, progress))


def publish_stream_item(redis_client: Any, job_id: str, item: dict[str, Any]) -> None:
    """Partial output of a running job (e.g. one transcript segment) for streaming clients."""
    redis_client.publish(job_stream_channel(job_id), json.dumps(item))
