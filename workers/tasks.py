"""Celery tasks: thin wrappers that hand a job id to workers.runner.run_job."""

from __future__ import annotations

from workers.celery_app import app, get_context
from workers.runner import run_job


@app.task(name="s2s.synthesize", acks_late=True, reject_on_worker_lost=True)
def synthesize(job_id: str) -> str:
    return run_job(get_context(), job_id)


@app.task(name="s2s.transcribe", acks_late=True, reject_on_worker_lost=True)
def transcribe(job_id: str) -> str:
    return run_job(get_context(), job_id)


@app.task(name="s2s.clone", acks_late=True, reject_on_worker_lost=True)
def clone(job_id: str) -> str:
    return run_job(get_context(), job_id)
