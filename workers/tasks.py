"""Celery tasks: one per job kind (named by the kind's declaration), each a thin call of workers.runner.run_job."""

from __future__ import annotations

from typing import Any

from shared.jobkinds import JobKind, job_kinds
from workers.celery_app import app, get_context
from workers.runner import run_job


def _register(kind: JobKind) -> Any:
    def run(job_id: str) -> str:
        return run_job(get_context(), job_id)

    run.__name__ = run.__qualname__ = kind.name
    run.__doc__ = f"Run a {kind.name} job by id."
    return app.task(name=kind.task, acks_late=True, reject_on_worker_lost=True)(run)


TASKS = {name: _register(kind) for name, kind in job_kinds().items()}
