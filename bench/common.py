"""Shared benchmark plumbing: a real platform (Redis, worker, API) in a temp dir, timing and result files."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shared.catalog import MODELS
from shared.model_store import install_bundled
from tests.services import redis_server, start_api, start_worker

RESULTS = Path(__file__).resolve().parent / "results"


@dataclass
class Platform:
    base_url: str
    api_key: str
    model_dir: Path
    env: dict[str, str]


@contextlib.contextmanager
def running_platform(models: str = "piper,whisper-base", worker_concurrency: int = 1) -> Iterator[Platform]:
    """Redis + one Celery worker + the API as real processes, SQLite and the local store in a temp dir."""
    from shared.accounts import create_key, get_or_create_account
    from shared.config import get_settings
    from shared.db.migrate import upgrade
    from shared.db.session import session_scope
    from shared.pricing import to_micros

    with tempfile.TemporaryDirectory(prefix="s2s-bench-") as tmp:
        root = Path(tmp)
        model_dir = Path(os.environ.get("MODEL_DIR", root / "models"))
        for model_id in models.split(","):
            install_bundled(MODELS[model_id], model_dir)
        with redis_server(root / "redis") as redis_url:
            env = {
                "DATA_DIR": str(root / "data"),
                "REDIS_URL": redis_url,
                "MODEL_DIR": str(model_dir),
                "DATABASE_URL": f"sqlite:///{root / 'data' / 's2s.db'}",
            }
            os.environ.update(env)
            get_settings.cache_clear()
            url = get_settings().sync_database_url
            upgrade(url)
            with session_scope(url) as session:
                key = create_key(session, get_or_create_account(session, "bench", initial_credits=to_micros(1_000_000)))
            worker = start_worker(env, models, root / "logs", concurrency=worker_concurrency)
            api, base = start_api(env, root / "logs")
            try:
                yield Platform(base, key, model_dir, env)
            finally:
                api.stop()
                worker.stop()


def time_runs(fn: Callable[[], Any], runs: int, warmup: int = 1) -> list[float]:
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def median(values: list[float]) -> float:
    return float(statistics.median(values))


def write_result(name: str, data: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    data = {
        "benchmark": name,
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        **data,
    }
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(data, indent=2) + "\n")
    return path
