"""A worker process's heartbeat: what it hosts, has and runs, written to Redis every few seconds with a TTL.

See shared/worker_registry.py for what readers make of it. A process that stops cleanly withdraws its beat at
once; one that dies stops beating and drops out of the registry after three intervals.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from importlib.metadata import PackageNotFoundError, version

from shared import worker_registry
from shared.catalog import MODELS
from shared.queues import queues_for_models
from workers.runner import WorkerContext

log = logging.getLogger(__name__)

NODE_ENV = "S2S_WORKER_NODE"


def server_version() -> str:
    try:
        return version("speech-to-speech-ai-server")
    except PackageNotFoundError:
        return "0+unknown"


def node_name() -> str:
    """The Celery node this process belongs to (`s2s worker` names it; a bare `celery worker` is its parent)."""
    return os.environ.get(NODE_ENV) or f"{socket.gethostname()}:{os.getppid()}"


class Heartbeat:
    def __init__(
        self, ctx: WorkerContext, *, node: str | None = None, concurrency: int = 1, role: str = "both"
    ) -> None:
        self.ctx = ctx
        self.role = role
        self.node = node or node_name()
        self.concurrency = concurrency
        self.pid = os.getpid()
        self.id = f"{self.node}:{self.pid}"
        self.started_at = time.time()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def beat(self) -> worker_registry.WorkerBeat:
        settings = self.ctx.settings
        model_dir = settings.resolved_model_dir
        installed = [m for m in self.ctx.hosted if MODELS[m].is_installed(model_dir)]
        record = worker_registry.WorkerBeat(
            id=self.id,
            role=self.role,  # type: ignore[arg-type]
            node=self.node,
            hostname=socket.gethostname(),
            pid=self.pid,
            version=server_version(),
            models=list(self.ctx.hosted),
            installed=installed,
            voices={m: MODELS[m].installed_voices(model_dir) for m in installed if MODELS[m].kind == "tts"},
            queues=queues_for_models(self.ctx.hosted),
            concurrency=self.concurrency,
            loaded=self.ctx.residency.loaded(),
            running=self.ctx.running,
            started_at=self.started_at,
            beat_at=time.time(),
            interval=settings.worker_heartbeat_seconds,
        )
        worker_registry.publish(self.ctx.redis, record)
        return record

    def start(self) -> None:
        interval = self.ctx.settings.worker_heartbeat_seconds

        def run() -> None:
            while True:
                try:
                    self.beat()
                except Exception as exc:  # Redis away: keep trying, the beat resumes when it is back
                    log.warning("heartbeat failed: %s", exc)
                if self._stop.wait(interval):
                    return

        self._thread = threading.Thread(target=run, name="s2s-heartbeat", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        try:
            worker_registry.withdraw(self.ctx.redis, self.id)
        except Exception:  # it expires by itself
            log.warning("could not withdraw the heartbeat of %s", self.id)
