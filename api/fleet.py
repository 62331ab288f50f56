"""The API's view of the live workers (their Redis heartbeats), cached for a second per API process.

Which models can run right now, where their weights are, which preset voices they have: all of it comes from
what workers advertise, plus this server's own MODEL_DIR in the single-machine mode where both share a disk.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from shared import worker_registry
from shared.catalog import ModelSpec
from shared.config import Settings
from shared.worker_registry import Fleet

CACHE_SECONDS = 1.0


class FleetView:
    def __init__(self, redis: Any, settings: Settings) -> None:
        self._redis = redis
        self._settings = settings
        self._fleet: Fleet | None = None
        self._read_at = 0.0
        self._lock = asyncio.Lock()

    async def current(self) -> Fleet:
        """The fleet as of at most CACHE_SECONDS ago (an unreachable Redis reads as no live worker)."""
        if self._fleet is not None and time.monotonic() - self._read_at < CACHE_SECONDS:
            return self._fleet
        async with self._lock:
            if self._fleet is None or time.monotonic() - self._read_at >= CACHE_SECONDS:
                try:
                    self._fleet = await worker_registry.snapshot_async(self._redis)
                except Exception:
                    self._fleet = Fleet()
                self._read_at = time.monotonic()
        return self._fleet

    def invalidate(self) -> None:
        self._fleet = None

    def installed_here(self, spec: ModelSpec) -> bool:
        return spec.is_installed(self._settings.resolved_model_dir)

    def voices(self, fleet: Fleet, spec: ModelSpec) -> list[str]:
        """Preset voices of a model: what live workers have, else what this server's disk has, else the spec's."""
        found = fleet.voices(spec.id)
        if not found and self.installed_here(spec):
            found = spec.installed_voices(self._settings.resolved_model_dir)
        return found or list(spec.voices)

    def installed(self, fleet: Fleet, spec: ModelSpec) -> bool:
        """Whether the model's weights exist somewhere: on a live worker, recently on one, or on this disk."""
        return fleet.is_live(spec.id) or fleet.recently_installed(spec.id) or self.installed_here(spec)
