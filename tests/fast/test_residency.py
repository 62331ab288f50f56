"""The residency manager: one load per model whatever the callers, idle unload on a timer, bounded voice cache.

The loader here builds a stand-in engine object: what is under test is the manager's bookkeeping (the real
engines load through it in the integration tier).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np

from shared.catalog import ModelSpec
from workers.residency import ResidencyManager


def slow_loader(calls: list[str], delay: float = 0.2):  # type: ignore[no-untyped-def]
    def load(spec: ModelSpec, model_dir: Path) -> object:
        calls.append(spec.id)
        time.sleep(delay)
        return object()

    return load


def test_concurrent_callers_load_once(tmp_path: Path) -> None:
    calls: list[str] = []
    manager = ResidencyManager(tmp_path, loader=slow_loader(calls))
    got: list[object] = []
    threads = [threading.Thread(target=lambda: got.append(manager.get("piper"))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert calls == ["piper"] and len({id(e) for e in got}) == 1 and manager.loads == 1
    assert manager.loaded() == ["piper"]


def test_idle_models_unload_on_the_timer_never_in_use(tmp_path: Path) -> None:
    calls: list[str] = []
    manager = ResidencyManager(tmp_path, ttl_seconds=1.0, loader=slow_loader(calls, 0.0))
    manager.start_timer()
    try:
        with manager.use("whisper-base"):
            manager.get("piper")
            deadline = time.monotonic() + 10
            while "piper" in manager.loaded() and time.monotonic() < deadline:
                time.sleep(0.1)
            # piper went idle and left on its own; whisper-base is in use and stays
            assert manager.loaded() == ["whisper-base"]
            time.sleep(1.5)
            assert manager.loaded() == ["whisper-base"]
        deadline = time.monotonic() + 10
        while manager.loaded() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert manager.loaded() == []
    finally:
        manager.stop()


def test_conditioning_cache_is_keyed_by_digest_and_bounded(tmp_path: Path) -> None:
    manager = ResidencyManager(tmp_path, conditioning_bytes_limit=3 * 8000, loader=slow_loader([], 0.0))
    computed: list[str] = []

    def compute(tag: str):  # type: ignore[no-untyped-def]
        def run() -> dict[str, np.ndarray]:
            computed.append(tag)
            return {"latent": np.zeros(1000)}  # 8000 bytes

        return run

    first = manager.conditioning(("xtts-v2", "voice_a", "d1"), compute("a1"))
    assert manager.conditioning(("xtts-v2", "voice_a", "d1"), compute("again")) is first  # a hit
    manager.conditioning(("xtts-v2", "voice_a", "d2"), compute("a2"))  # a new reference: a new entry
    manager.conditioning(("xtts-v2", "voice_b", "d1"), compute("b1"))
    manager.conditioning(("xtts-v2", "voice_c", "d1"), compute("c1"))  # over the limit: the oldest goes
    assert computed == ["a1", "a2", "b1", "c1"]
    assert ("xtts-v2", "voice_a", "d1") not in manager.cached_conditionings()
    assert len(manager.cached_conditionings()) == 3
    manager.forget_voice("voice_b")
    assert all(key[1] != "voice_b" for key in manager.cached_conditionings())
