"""Model residency: one manager per worker process decides which engines are in memory.

- Loads on demand under a per-model lock, so concurrent threads never load a model twice, and keeps it warm.
- `use()` ref-counts, so a model in use is never unloaded under a running job.
- With a TTL, a timer unloads models idle that long: an idle worker frees memory without waiting for a job.
- Caches per-voice conditioning (an engine's latents, prompts, embeddings, profiles for a cloned voice) keyed by
  model, voice id and the reference's content digest, bounded in bytes, least recently used evicted first. The
  digest, not a file path, is the key, so the cache hits whatever store (local disk or S3) the reference is in.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shared.catalog import MODELS, ModelSpec
from workers.engines import load_engine
from workers.engines.base import Conditioning, conditioning_bytes

log = logging.getLogger(__name__)


@dataclass
class _Resident:
    engine: Any
    loaded_at: float
    last_used: float
    refs: int = 0


@dataclass
class _Slot:
    """A model's load lock, so one thread loads while the others wait for it."""

    lock: threading.Lock = field(default_factory=threading.Lock)


ConditioningKey = tuple[str, str, str]  # (model id, voice id, reference digest)


class ResidencyManager:
    def __init__(
        self,
        model_dir: Path,
        *,
        ttl_seconds: float = 0.0,
        conditioning_bytes_limit: int = 256 << 20,
        loader: Callable[[ModelSpec, Path], Any] = load_engine,
    ) -> None:
        self.model_dir = model_dir
        self.ttl_seconds = ttl_seconds
        self.conditioning_limit = conditioning_bytes_limit
        self._loader = loader
        self._resident: dict[str, _Resident] = {}
        self._slots: dict[str, _Slot] = {}
        self._lock = threading.Lock()
        self._conditioning: OrderedDict[ConditioningKey, tuple[Conditioning, int]] = OrderedDict()
        self._conditioning_size = 0
        self._timer: threading.Thread | None = None
        self._stop = threading.Event()
        self.loads = 0  # how many times a model was built (tests and metrics)

    # --- models ---------------------------------------------------------------------------------------------
    def loaded(self) -> list[str]:
        with self._lock:
            return sorted(self._resident)

    def _slot(self, model_id: str) -> _Slot:
        with self._lock:
            return self._slots.setdefault(model_id, _Slot())

    def get(self, model_id: str) -> Any:
        """The warm engine for model_id, loading it first (once, whatever the number of callers)."""
        with self._lock:
            entry = self._resident.get(model_id)
            if entry is not None:
                entry.last_used = time.monotonic()
                return entry.engine
        with self._slot(model_id).lock:
            with self._lock:
                entry = self._resident.get(model_id)
                if entry is not None:
                    return entry.engine
            started = time.perf_counter()
            engine = self._loader(MODELS[model_id], self.model_dir)
            self.loads += 1
            log.info("loaded model %s in %.2fs", model_id, time.perf_counter() - started)
            now = time.monotonic()
            with self._lock:
                self._resident[model_id] = _Resident(engine=engine, loaded_at=now, last_used=now)
            return engine

    @contextmanager
    def use(self, model_id: str) -> Iterator[Any]:
        """The engine, held for the duration of the block: it cannot be unloaded meanwhile."""
        while True:
            engine = self.get(model_id)
            with self._lock:
                entry = self._resident.get(model_id)
                if entry is not None and entry.engine is engine:
                    entry.refs += 1
                    break
            # unloaded between get() and here: load again
        try:
            yield engine
        finally:
            with self._lock:
                entry.refs -= 1
                entry.last_used = time.monotonic()

    def unload_idle(self, now: float | None = None) -> list[str]:
        """Drop models idle for longer than the TTL (never one in use); returns the ids unloaded."""
        if self.ttl_seconds <= 0:
            return []
        now = time.monotonic() if now is None else now
        with self._lock:
            idle = [m for m, e in self._resident.items() if e.refs == 0 and now - e.last_used >= self.ttl_seconds]
            for model_id in idle:
                del self._resident[model_id]
            if idle:
                self._drop_conditioning(lambda key: key[0] in idle)
        if idle:
            gc.collect()
            log.info("unloaded idle models %s", idle)
        return idle

    def start_timer(self) -> None:
        """Unload idle models in the background (only with a TTL)."""
        if self.ttl_seconds <= 0 or self._timer is not None:
            return
        interval = max(0.5, min(30.0, self.ttl_seconds / 2))

        def run() -> None:
            while not self._stop.wait(interval):
                try:
                    self.unload_idle()
                except Exception:  # the timer must outlive any one failure
                    log.exception("idle unload failed")

        self._timer = threading.Thread(target=run, name="s2s-residency-timer", daemon=True)
        self._timer.start()

    def stop(self) -> None:
        self._stop.set()

    # --- per-voice conditioning -----------------------------------------------------------------------------
    def conditioning(self, key: ConditioningKey, compute: Callable[[], Conditioning]) -> Conditioning:
        """The cached conditioning for (model, voice, digest), computed (by `compute`) on a miss."""
        with self._lock:
            hit = self._conditioning.get(key)
            if hit is not None:
                self._conditioning.move_to_end(key)
                return hit[0]
        value = compute()
        size = conditioning_bytes(value)
        with self._lock:
            if size <= self.conditioning_limit:
                old = self._conditioning.pop(key, None)
                if old is not None:
                    self._conditioning_size -= old[1]
                self._conditioning[key] = (value, size)
                self._conditioning_size += size
                while self._conditioning_size > self.conditioning_limit and self._conditioning:
                    _, (_, evicted) = self._conditioning.popitem(last=False)
                    self._conditioning_size -= evicted
        return value

    def forget_voice(self, voice_id: str) -> None:
        with self._lock:
            self._drop_conditioning(lambda key: key[1] == voice_id)

    def _drop_conditioning(self, matches: Callable[[ConditioningKey], bool]) -> None:
        for key in [k for k in self._conditioning if matches(k)]:
            _, size = self._conditioning.pop(key)
            self._conditioning_size -= size

    def cached_conditionings(self) -> list[ConditioningKey]:
        with self._lock:
            return list(self._conditioning)
