"""The live worker registry: every worker process advertises what it hosts through a Redis heartbeat with a TTL.

A beat (`s2s:worker:<node>:<pid>`, JSON) says which models the process hosts, which of them have weights on its
disk, their preset voices, the queues it consumes, its capacity, what it has loaded and what it is running. A
process that stops beating disappears after three intervals. The API's view of which models are live comes from
here, never from its own disk: in a cluster the API holds no model files at all.

`s2s:models:seen` remembers, per model, when a worker last had its weights, so the API can tell a model whose
workers are all down (503 `model_unavailable`) from one whose weights exist nowhere (404 `model_not_installed`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

PREFIX = "s2s:worker:"
SEEN_KEY = "s2s:models:seen"
VOICES_KEY = "s2s:models:voices"  # model -> JSON list of the preset voices a worker last advertised
SEEN_FOR_SECONDS = 7 * 24 * 3600  # a model whose weights no worker reported for a week counts as not installed
MISSED_BEATS = 3


class WorkerBeat(BaseModel):
    """One worker process as it advertises itself.

    `node` beats come from a worker's main process (it consumes the queues, so while it lives the models are served,
    even while it replaces a crashed child); `process` beats from each process that runs jobs (a prefork child, or
    the worker itself with the solo or threads pool, which beats as both).
    """

    id: str = Field(description="`<node>:<pid>`.")
    role: Literal["node", "process", "both"] = "both"
    node: str = Field(description="The Celery worker node this process belongs to.")
    hostname: str
    pid: int
    version: str
    models: list[str] = Field(description="Models it hosts (consumes the queues of).")
    installed: list[str] = Field(description="Hosted models whose weights are on its disk.")
    voices: dict[str, list[str]] = Field(default_factory=dict, description="Preset voices per installed model.")
    queues: list[str]
    concurrency: int = Field(description="Jobs this process runs at once.")
    loaded: list[str] = Field(default_factory=list, description="Models resident in memory now.")
    running: str | None = Field(default=None, description="The job it is running, if any.")
    started_at: float
    beat_at: float
    interval: float


def key_of(worker_id: str) -> str:
    return f"{PREFIX}{worker_id}"


def ttl_for(interval: float) -> int:
    return max(2, round(interval * MISSED_BEATS))


def publish(client: Any, beat: WorkerBeat) -> None:
    """Write one beat (sync Redis client), and record that its installed models exist."""
    pipe = client.pipeline()
    pipe.set(key_of(beat.id), beat.model_dump_json(), ex=ttl_for(beat.interval))
    if beat.installed:
        pipe.hset(SEEN_KEY, mapping={model: str(int(beat.beat_at)) for model in beat.installed})
    voices = {model: json.dumps(names) for model, names in beat.voices.items() if names}
    if voices:  # a worker of voiceless speech models only (OpenVoice's converter) has none: HSET takes no empty map
        pipe.hset(VOICES_KEY, mapping=voices)
    pipe.execute()


def withdraw(client: Any, worker_id: str) -> None:
    client.delete(key_of(worker_id))


def _parse(raw: bytes | str | None) -> WorkerBeat | None:
    if raw is None:
        return None
    try:
        return WorkerBeat.model_validate_json(raw)
    except (ValidationError, ValueError):
        return None


@dataclass
class Fleet:
    """A snapshot of the live workers and of the models whose weights some worker recently had."""

    workers: list[WorkerBeat] = field(default_factory=list)
    seen: dict[str, float] = field(default_factory=dict)
    taken_at: float = field(default_factory=time.time)
    seen_voices: dict[str, list[str]] = field(default_factory=dict)  # what workers last advertised, live or not

    def serving(self, model_id: str) -> list[WorkerBeat]:
        """Live workers (their main processes) that host the model and have its weights."""
        return [w for w in self.workers if w.role != "process" and model_id in w.models and model_id in w.installed]

    def is_live(self, model_id: str) -> bool:
        return bool(self.serving(model_id))

    def hosted_without_weights(self, model_id: str) -> bool:
        """Some live worker is meant to host the model but lacks its weights."""
        return any(w.role != "process" and model_id in w.models and model_id not in w.installed for w in self.workers)

    def recently_installed(self, model_id: str) -> bool:
        seen = self.seen.get(model_id)
        return seen is not None and self.taken_at - seen < SEEN_FOR_SECONDS

    def voices(self, model_id: str) -> list[str]:
        """Preset voices of the live workers serving the model (none live: the ones a worker last advertised)."""
        names: set[str] = set()
        for w in self.serving(model_id):
            names.update(w.voices.get(model_id, []))
        return sorted(names) if names else list(self.seen_voices.get(model_id, []))

    def loaded(self, model_id: str) -> bool:
        """Some live process of a worker serving the model has it in memory."""
        nodes = {w.node for w in self.serving(model_id)}
        return any(model_id in w.loaded for w in self.workers if w.node in nodes)


def _collect(
    keys: Iterable[bytes | str], values: list[Any], seen: dict[Any, Any], voices: dict[Any, Any] | None = None
) -> Fleet:
    workers = [b for b in (_parse(v) for v in values) if b is not None]
    decoded: dict[str, float] = {}
    for model, stamp in seen.items():
        model_id = model.decode() if isinstance(model, bytes) else str(model)
        try:
            decoded[model_id] = float(stamp)
        except (TypeError, ValueError):
            continue
    seen_voices: dict[str, list[str]] = {}
    for model, raw in (voices or {}).items():
        try:
            names = json.loads(raw)
        except (TypeError, ValueError):
            continue
        if isinstance(names, list):
            seen_voices[model.decode() if isinstance(model, bytes) else str(model)] = [str(n) for n in names]
    return Fleet(workers=sorted(workers, key=lambda w: w.id), seen=decoded, seen_voices=seen_voices)


def snapshot(client: Any) -> Fleet:
    """The fleet, read with a sync Redis client."""
    keys = list(client.scan_iter(match=f"{PREFIX}*", count=500))
    values = client.mget(keys) if keys else []
    return _collect(keys, values, client.hgetall(SEEN_KEY), client.hgetall(VOICES_KEY))


async def snapshot_async(client: Any) -> Fleet:
    """The fleet, read with an asyncio Redis client."""
    keys = [k async for k in client.scan_iter(match=f"{PREFIX}*", count=500)]
    values = await client.mget(keys) if keys else []
    return _collect(keys, values, await client.hgetall(SEEN_KEY), await client.hgetall(VOICES_KEY))
