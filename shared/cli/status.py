"""`s2s status`: the cluster at a glance, read where the platform keeps it (the worker heartbeats and queues in
Redis, the jobs in SQL), with this process's settings (REDIS_URL, DATABASE_URL): run it on any host of the
cluster, or `kubectl exec deploy/s2s-api -- s2s status`."""

from __future__ import annotations

import json
import time
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from shared.config import get_settings

console = Console(highlight=False)
err = Console(stderr=True, highlight=False)


def cluster_status() -> dict[str, Any]:
    """Workers, models, queue depths and the jobs running or queued now."""
    import redis
    from sqlalchemy import func, select

    from shared.catalog import MODELS
    from shared.db.models import Job
    from shared.db.session import session_scope
    from shared.queues import all_queues, parse_queue, priority_lists
    from shared.worker_registry import snapshot

    settings = get_settings()
    client = redis.Redis.from_url(settings.broker_url, socket_timeout=5, socket_connect_timeout=5)
    fleet = snapshot(client)
    queues = all_queues()
    pipe = client.pipeline(transaction=False)
    for queue in queues:
        for key in priority_lists(queue):
            pipe.llen(key)
    counts = pipe.execute()
    steps = len(priority_lists(queues[0])) if queues else 1
    depths = {q: int(sum(counts[i * steps : (i + 1) * steps])) for i, q in enumerate(queues)}
    now = time.time()
    workers: list[dict[str, Any]] = [
        {
            "hostname": w.hostname,
            "node": w.node,
            "models": w.models,
            "loaded": w.loaded,
            "concurrency": w.concurrency,
            "version": w.version,
            "beat_age_seconds": round(now - w.beat_at, 1),
        }
        for w in fleet.workers
        if w.role != "process"
    ]
    running_by_node: dict[str, list[str]] = {}
    for w in fleet.workers:
        if w.running:
            running_by_node.setdefault(w.node, []).append(w.running)
    for worker in workers:
        worker["running"] = running_by_node.get(str(worker["node"]), [])
    models = []
    for model_id in MODELS:
        mine = {q: d for q, d in depths.items() if (info := parse_queue(q)) is not None and info.model == model_id}
        serving = fleet.serving(model_id)
        if not serving and not any(mine.values()):
            continue
        models.append(
            {
                "id": model_id,
                "workers": len(serving),
                "loaded": fleet.loaded(model_id),
                "queued_interactive": sum(d for q, d in mine.items() if q.endswith(".interactive")),
                "queued_batch": sum(d for q, d in mine.items() if q.endswith(".batch")),
            }
        )
    with session_scope(settings.sync_database_url) as session:
        states = dict(
            session.execute(  # type: ignore[arg-type]
                select(Job.state, func.count()).where(Job.state.in_(["queued", "running"])).group_by(Job.state)
            ).all()
        )
        running = [
            {"id": j.id, "kind": j.kind, "model": j.model, "worker": j.worker_id, "progress": round(j.progress, 2)}
            for j in session.execute(select(Job).where(Job.state == "running").order_by(Job.started_at).limit(20))
            .scalars()
            .all()
        ]
    return {
        "workers": workers,
        "models": models,
        "jobs": {"queued": int(states.get("queued", 0)), "running": int(states.get("running", 0))},
        "running": running,
    }


def status(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
) -> None:
    """Show the cluster: live workers per host, models and their queue depths, jobs running now."""
    import redis
    from sqlalchemy.exc import SQLAlchemyError

    try:
        data = cluster_status()
    except redis.RedisError as exc:
        err.print(f"[red]Redis is unreachable[/] ({escape(str(exc))}): check REDIS_URL, or start the stack (make run).")
        raise typer.Exit(1) from exc
    except SQLAlchemyError as exc:
        err.print(f"[red]The database is unreachable[/] ({escape(str(exc)[:200])}): check DATABASE_URL.")
        raise typer.Exit(1) from exc
    if as_json:
        console.print_json(json.dumps(data))
        return
    workers = Table(title=f"Workers ({len(data['workers'])} live)")
    for column in ("host", "node", "models", "loaded", "running", "beat"):
        workers.add_column(column)
    for w in data["workers"]:
        workers.add_row(
            w["hostname"], w["node"], ", ".join(w["models"]), ", ".join(w["loaded"]) or "-",
            ", ".join(w["running"]) or "-", f"{w['beat_age_seconds']:.0f}s ago",
        )  # fmt: skip
    models = Table(title="Models")
    for column in ("model", "workers", "loaded", "queued interactive", "queued batch"):
        models.add_column(column)
    for m in data["models"]:
        models.add_row(
            m["id"], str(m["workers"]), "yes" if m["loaded"] else "no", str(m["queued_interactive"]),
            str(m["queued_batch"]),
        )  # fmt: skip
    console.print(workers)
    console.print(models)
    jobs = data["jobs"]
    console.print(f"Jobs: {jobs['running']} running, {jobs['queued']} queued")
    for job in data["running"]:
        console.print(f"  {job['id']}  {job['kind']} {job['model']}  {job['progress']:.0%}  on {job['worker'] or '?'}")
    if not data["workers"]:
        err.print("No live worker: start one with `s2s worker --models ...` (or `make run`).")
