"""Background housekeeping of each API process: uploads of finished jobs are deleted once their retention ends.

Workers delete a job's uploads when it ends; this pass catches what they could not (a job canceled or failed
before any worker ran it, a worker that died, `STORE__INPUT_RETENTION_SECONDS` above zero). Several API replicas
may run it at once: deleting an object twice is harmless.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

import anyio
from sqlalchemy import select, update

from api.deps import AppState
from shared import jobs
from shared.db.models import Job, utcnow
from shared.jobkinds import job_kind

log = logging.getLogger(__name__)

INTERVAL_SECONDS = 60.0
BATCH = 200


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


async def run(state: AppState, interval: float = INTERVAL_SECONDS) -> None:
    while True:
        with contextlib.suppress(Exception):
            await sweep_inputs(state)
        await asyncio.sleep(interval)
