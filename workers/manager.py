"""Model manager: loads engines on demand in the worker process, keeps them warm, unloads idle ones.

One manager per worker child process. Loading is guarded by a lock so concurrent threads load once;
`use()` ref-counts so a model in use is never unloaded under a running job.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shared.catalog import MODELS
from workers.engines import load_engine

log = logging.getLogger(__name__)


@dataclass
class _Loaded:
    engine: Any
    loaded_at: float
    last_used: float
    refs: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class ModelManager:
    def __init__(self, model_dir: Path, *, ttl_seconds: float = 0.0) -> None:
        self.model_dir = model_dir
        self.ttl_seconds = ttl_seconds
        self._models: dict[str, _Loaded] = {}
        self._lock = threading.Lock()

    def loaded(self) -> list[str]:
        with self._lock:
            return sorted(self._models)

    def get(self, model_id: str) -> Any:
        """The warm engine for model_id, loading it first if needed."""
        with self._lock:
            entry = self._models.get(model_id)
            if entry is not None:
                entry.last_used = time.monotonic()
                return entry.engine
        spec = MODELS[model_id]
        started = time.perf_counter()
        engine = load_engine(spec, self.model_dir)
        log.info("loaded model %s in %.2fs", model_id, time.perf_counter() - started)
        now = time.monotonic()
        with self._lock:
            entry = self._models.setdefault(model_id, _Loaded(engine=engine, loaded_at=now, last_used=now))
            return entry.engine

    @contextmanager
    def use(self, model_id: str) -> Iterator[Any]:
        engine = self.get(model_id)
        with self._lock:
            self._models[model_id].refs += 1
        try:
            yield engine
        finally:
            with self._lock:
                entry = self._models[model_id]
                entry.refs -= 1
                entry.last_used = time.monotonic()
            self.unload_idle()

    def unload_idle(self) -> list[str]:
        """Drop models idle for longer than the TTL (never one in use); returns the ids unloaded."""
        if self.ttl_seconds <= 0:
            return []
        now = time.monotonic()
        with self._lock:
            idle = [mid for mid, e in self._models.items() if e.refs == 0 and now - e.last_used >= self.ttl_seconds]
            for mid in idle:
                del self._models[mid]
        if idle:
            gc.collect()
            log.info("unloaded idle models %s", idle)
        return idle

    def unload(self, model_id: str) -> None:
        with self._lock:
            self._models.pop(model_id, None)
        gc.collect()
