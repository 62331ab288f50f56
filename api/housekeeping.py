"""Background housekeeping of each API process: the reconciler, the batch runner (api/batches.py), the webhook
deliverer (api/webhook_delivery.py), and uploads and files whose retention ended.

SQL is the truth; Redis carries messages and can lose them (a restart without persistence, an API process that
died between committing a job and sending it). The reconciler makes the broker agree with SQL:
- a job `queued` in SQL for a while whose message was never marked sent (`s2s:enqueued:<id>`, set after the send,
  removed by the worker that claims it) is sent again;
- a job `running` whose worker's heartbeat is gone (two sweeps in a row, with other workers alive: a Redis blip
  never looks like a lost worker) is sent again; the claim counts the attempt, and a job out of attempts fails
  `worker_lost` and is refunded.
A message that turns out to be a duplicate is harmless: a worker claims a job only while it is active, and money
moves only with its single terminal state change.

Uploads of finished jobs are deleted once their retention ended (workers delete them when a job ends; this
catches a job canceled or failed before any worker ran it, a worker that died, a retention above zero).

Several API replicas may run all of this at once: sending a job twice or deleting an object twice is harmless.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta

import anyio
from prometheus_client import Counter
from sqlalchemy import delete, select, update

from api.deps import AppState
from shared import jobs
from shared.db.models import Job, StoredFile, utcnow
from shared.jobkinds import job_kind
from shared.queues import enqueued_key, job_queue, send_job

log = logging.getLogger(__name__)

INPUT_SWEEP_SECONDS = 60.0
BATCH = 500
RESENT = Counter("s2s_jobs_resent_total", "Jobs the reconciler sent to the broker again", ["reason"])


@dataclass
class Reconciler:
    state: AppState
    suspects: dict[str, int] = field(default_factory=dict)  # running job -> sweeps its worker was missing

    async def _resend(self, lost: list[Job], reason: str) -> None:
        def send() -> None:
            for job in lost:
                send_job(self.state.producer, job.id, job.kind, job.queue or job_queue(job.kind, job.model, "batch"))

        await anyio.to_thread.run_sync(send)
        for job in lost:
            await self.state.redis.set(
                enqueued_key(job.id), job.queue or "", ex=self.state.settings.celery.visibility_timeout_seconds
            )
        RESENT.labels(reason).inc(len(lost))
        log.warning("reconciler sent %d %s job(s) again: %s", len(lost), reason, [j.id for j in lost])

    async def sweep(self) -> dict[str, int]:
        """One pass; returns how many jobs were sent again, by reason."""
        settings = self.state.settings
        cutoff = utcnow() - timedelta(seconds=settings.reconcile_queued_after_seconds)
        mine = Job.broker == settings.broker_id
        async with self.state.sessions() as session:
            queued = (
                (
                    await session.execute(
                        select(Job).where(Job.state == jobs.QUEUED, Job.created_at <= cutoff, mine).limit(BATCH)
                    )
                )
                .scalars()
                .all()
            )
            running = (
                (
                    await session.execute(
                        select(Job).where(Job.state == jobs.RUNNING, Job.worker_id.is_not(None), mine).limit(BATCH)
                    )
                )
                .scalars()
                .all()
            )
        counts = {"unsent": 0, "worker_lost": 0}
        if queued:
            marks = await self.state.redis.mget([enqueued_key(j.id) for j in queued])
            lost = [job for job, mark in zip(queued, marks, strict=True) if mark is None]
            if lost:
                await self._resend(lost, "unsent")
                counts["unsent"] = len(lost)
        fleet = await self.state.fleet.current()
        live = {w.id for w in fleet.workers}
        orphans: list[Job] = []
        still_running = set()
        for job in running:
            still_running.add(job.id)
            if not live or job.worker_id in live:  # no worker at all looks like Redis away: wait
                self.suspects.pop(job.id, None)
                continue
            self.suspects[job.id] = self.suspects.get(job.id, 0) + 1
            if self.suspects[job.id] >= 2:
                orphans.append(job)
                self.suspects.pop(job.id)
        for job_id in list(self.suspects):
            if job_id not in still_running:
                del self.suspects[job_id]
        if orphans:
            await self._resend(orphans, "worker_lost")
            counts["worker_lost"] = len(orphans)
        return counts


async def sweep_inputs(state: AppState) -> int:
    """Delete the uploads of jobs that ended more than the retention ago; returns how many jobs were cleaned."""
    cutoff = utcnow() - timedelta(seconds=state.settings.store.input_retention_seconds)
    async with state.sessions() as session:
        rows = (
            await session.execute(
                select(Job.id, Job.kind, Job.request)
                .where(Job.input_key.is_not(None), Job.state.in_(jobs.TERMINAL), Job.finished_at <= cutoff)
                .limit(BATCH)
            )
        ).all()
        cleaned: list[str] = []

        def delete(keys: list[str]) -> None:
            for key in keys:
                state.store.delete(key)

        for row in rows:
            try:
                await anyio.to_thread.run_sync(delete, job_kind(row.kind).input_keys(row.request or {}))
            except Exception:
                log.warning("could not delete the inputs of job %s", row.id, exc_info=True)
                continue
            cleaned.append(row.id)
        if cleaned:
            await session.execute(update(Job).where(Job.id.in_(cleaned)).values(input_key=None))
            await session.commit()
    return len(cleaned)


async def sweep_files(state: AppState) -> int:
    """Delete files (and their objects) whose expiry passed; returns how many."""
    async with state.sessions() as session:
        rows = (
            await session.execute(
                select(StoredFile.id, StoredFile.object_key)
                .where(StoredFile.expires_at.is_not(None), StoredFile.expires_at <= utcnow())
                .limit(BATCH)
            )
        ).all()
        gone: list[str] = []
        for file_id, key in rows:
            try:
                await anyio.to_thread.run_sync(state.store.delete, key)
            except Exception:
                log.warning("could not delete the object of file %s", file_id, exc_info=True)
                continue
            gone.append(file_id)
        if gone:
            await session.execute(delete(StoredFile).where(StoredFile.id.in_(gone)))
            await session.commit()
    return len(gone)


async def every(seconds: float, name: str, step: Callable[[], Awaitable[object]]) -> None:
    """`step` every `seconds`, for ever; a failing pass is logged and the next one runs."""
    while True:
        try:
            await step()
        except Exception:
            log.warning("%s pass failed", name, exc_info=True)
        await asyncio.sleep(seconds)


async def run(state: AppState) -> None:
    """The reconciler, the batch runner, the webhook deliverer and the sweeps of expired uploads and files."""
    from api.batches import BatchRunner
    from api.webhook_delivery import Deliverer

    settings = state.settings
    reconciler, runner, deliverer = Reconciler(state), BatchRunner(state), Deliverer(state)
    loops = [
        every(settings.reconcile_interval_seconds, "reconciler", reconciler.sweep),
        runner.run(),
        every(settings.webhooks.poll_seconds, "webhook deliverer", deliverer.tick),
        every(INPUT_SWEEP_SECONDS, "upload sweep", lambda: sweep_inputs(state)),
        every(INPUT_SWEEP_SECONDS, "file expiry", lambda: sweep_files(state)),
    ]
    try:
        await asyncio.gather(*loops)
    finally:
        with contextlib.suppress(Exception):
            await deliverer.close()
