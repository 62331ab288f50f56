"""`s2s run` (what `make run` starts): embedded Redis, SQLite, local store, worker, Flower, API; Ctrl-C stops all."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

from tests.services import ROOT, free_port

pytestmark = pytest.mark.integration


def _read_until(proc: subprocess.Popen[str], pattern: str, timeout: float) -> str:
    seen = []
    deadline = time.monotonic() + timeout
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            if proc.poll() is not None:
                break
            continue
        seen.append(line)
        if re.search(pattern, line):
            return "".join(seen)
    raise AssertionError(f"'{pattern}' not printed; output so far:\n{''.join(seen)}")


def launcher_env(model_dir: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("REDIS_URL", "DATABASE_URL", "DATA_DIR", "METRICS_TOKEN")
        and not k.startswith(("STORE__", "LIMITS__"))
    }
    env.update({"MODEL_DIR": str(model_dir), "PYTHONUNBUFFERED": "1", "COLUMNS": "400", **extra})
    return env


def start_run(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    """`s2s run` as a background job starts it: with SIGINT ignored (the launcher must still stop on it)."""
    return subprocess.Popen(
        [sys.executable, "-m", "shared.cli.main", "run", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )


def stop_run(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    return proc.stdout.read() if proc.stdout else ""


def test_run_starts_everything_and_ctrl_c_stops_it(tmp_path: Path, model_dir: Path, testdata: Path) -> None:
    import socket

    port = free_port()
    busy = socket.socket()  # something else holds FLOWER_PORT
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    taken = busy.getsockname()[1]
    # Piper samples noise: a seeded worker speaks the same audio every run, so what tiny.en hears of it (checked
    # below) is the same every run too
    env = launcher_env(model_dir, FLOWER_PORT=str(taken), RANDOM_SEED="4")
    proc = start_run(["--port", str(port), "--data-dir", str(tmp_path / "var")], env)
    try:
        out = _read_until(proc, r"Press Ctrl-C to stop", timeout=240)
        assert f"http://127.0.0.1:{port}" in out and "models loaded" in out
        key = re.search(r"API key\s+(s2s-\S+)", out)
        assert key, out
        assert out.count(key.group(1)) == 1  # printed once; the examples read it from where it is kept
        assert str(tmp_path / "var" / "local-api-key") in out and "$S2S_API_KEY" in out
        assert f"port {taken} (FLOWER_PORT) is in use" in out
        flower_port = int(re.search(r"Flower\s+http://127.0.0.1:(\d+)", out).group(1))  # type: ignore[union-attr]
        assert flower_port != taken
        children = psutil.Process(proc.pid).children(recursive=True)
        cmdlines = " ".join(" ".join(c.cmdline()) for c in children)
        assert "redis-server" in cmdlines and "worker" in cmdlines and "flower" in cmdlines and "uvicorn" in cmdlines
        var = tmp_path / "var"
        for secret in ("flower-password", "redis-password", "metrics-token"):  # never on a command line
            value = (var / secret).read_text().strip()
            assert value and value not in cmdlines and value not in out, secret
            assert (var / secret).stat().st_mode & 0o777 == 0o600

        auth = {"Authorization": f"Bearer {key.group(1)}"}
        base = f"http://127.0.0.1:{port}"
        speech = httpx.post(
            f"{base}/v1/audio/speech",
            headers=auth,
            timeout=120,
            json={"model": "piper", "voice": "joe", "input": "Embedded mode works."},
        )
        assert speech.status_code == 200 and speech.headers["content-type"] == "audio/mpeg"
        text = httpx.post(
            f"{base}/v1/audio/transcriptions",
            headers=auth,
            timeout=120,
            files={"file": ("hello.mp3", speech.content)},
            data={"model": "whisper-tiny.en"},
        )
        assert text.status_code == 200 and "embedded" in text.json()["text"].lower()
        # the local store keeps the output on disk under the data dir
        assert list((var / "store" / "outputs").rglob("*.mp3"))
        flower = httpx.get(f"http://127.0.0.1:{flower_port}/api/workers", timeout=10)
        assert flower.status_code == 401  # Flower needs its basic auth
        password = (var / "flower-password").read_text().strip()
        assert httpx.get(f"http://127.0.0.1:{flower_port}/api/workers", auth=("admin", password), timeout=10).is_success
        metrics = httpx.get(
            f"{base}/metrics", headers={"Authorization": f"Bearer {(var / 'metrics-token').read_text().strip()}"}
        )
        assert metrics.status_code == 200 and "s2s_queue_depth" in metrics.text
        assert (var / "redis" / "appendonly.aof").is_file()  # the embedded Redis persists
    finally:
        tail = stop_run(proc)
        busy.close()
    assert proc.returncode == 0
    assert "Stopped everything" in tail
    time.sleep(0.5)
    alive = [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]
    assert not alive, f"left running: {[c.cmdline() for c in alive]}"
    # the same key still works after a restart (kept in the data dir), so a second run prints it again
    assert (tmp_path / "var" / "local-api-key").read_text().strip() == key.group(1)


def _role(proc: subprocess.Popen[str], marker: str) -> psutil.Process:
    """The launcher's child whose command line has `marker` (its process group's leader)."""
    for child in psutil.Process(proc.pid).children():
        if marker in " ".join(child.cmdline()):
            return child
    raise AssertionError(f"no child runs {marker}")


def _until(check: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():  # type: ignore[operator]
                return
        except Exception:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{what} not within {timeout:.0f}s")


def test_run_supervises_and_loses_nothing(tmp_path: Path, model_dir: Path) -> None:
    """SIGKILL the embedded Redis, the worker and the API, three times each, with ten jobs in flight: every child
    comes back by itself, and every job completes exactly once and is charged once."""
    from sqlalchemy import create_engine, text

    port = free_port()
    var = tmp_path / "var"
    env = launcher_env(
        model_dir,
        WORKER_HEARTBEAT_SECONDS="1",
        RECONCILE_INTERVAL_SECONDS="1",
        RECONCILE_QUEUED_AFTER_SECONDS="3",
        CELERY__MAX_ATTEMPTS="12",  # one job may be running at several of the worker's deaths
        RESTART_BACKOFF_SECONDS="[0.5, 1]",  # the supervision is under test here, not the waiting
    )
    proc = start_run(["--port", str(port), "--data-dir", str(var), "--no-flower"], env)
    base = f"http://127.0.0.1:{port}"
    try:
        out = _read_until(proc, r"Press Ctrl-C to stop", timeout=240)
        key = re.search(r"API key\s+(s2s-\S+)", out).group(1)  # type: ignore[union-attr]
        auth = {"Authorization": f"Bearer {key}"}
        sentence = "Every job survives the crash of any one process and is charged exactly once. "
        ids = []
        for i in range(10):
            body = {"model": "piper", "voice": "joe", "input": f"Job {i}. " + sentence * 6, "async": True}
            r = httpx.post(f"{base}/v1/audio/speech", headers=auth, json=body, timeout=30)
            assert r.status_code == 202, r.text
            ids.append(r.json()["id"])

        def answers() -> bool:
            return httpx.get(f"{base}/readyz", timeout=2).status_code == 200

        for _ in range(3):
            for marker in ("worker", "redis-server", "uvicorn"):
                victim = _role(proc, marker)
                os.killpg(victim.pid, signal.SIGKILL)
                _until(lambda victim=victim, marker=marker: _role(proc, marker).pid != victim.pid, 60, f"{marker} back")
                _until(answers, 90, f"the stack answering after {marker} died")

        def all_done() -> bool:
            states = [httpx.get(f"{base}/v1/jobs/{i}", headers=auth, timeout=5).json()["status"] for i in ids]
            assert "failed" not in states and "canceled" not in states, states
            return all(s == "succeeded" for s in states)

        _until(all_done, 300, "every job succeeded")
        engine = create_engine(f"sqlite:///{var / 's2s.db'}")
        with engine.connect() as conn:
            for job_id in ids:
                reasons = [
                    r[0]
                    for r in conn.execute(
                        text("SELECT reason FROM credit_ledger WHERE job_id = :j ORDER BY id"), {"j": job_id}
                    )
                ]
                assert reasons == ["reserve", "release", "charge"], (job_id, reasons)
            balance, total = conn.execute(
                text(
                    "SELECT a.balance, (SELECT SUM(amount) FROM credit_ledger l WHERE l.account_id = a.id) "
                    "FROM accounts a WHERE a.name = 'local'"
                )
            ).one()
            assert balance == total
        engine.dispose()
        log = stop_run(proc)
        for name in ("worker", "redis", "api"):  # each death logged, each restart too
            assert f"{name} stopped" in log and f"{name} restarted" in log, log[-2000:]
    finally:
        if proc.poll() is None:
            stop_run(proc)
    assert proc.returncode == 0


def test_port_in_use_is_a_clear_error(tmp_path: Path, model_dir: Path) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        env = {**os.environ, "MODEL_DIR": str(model_dir), "COLUMNS": "400"}
        env.pop("REDIS_URL", None)
        out = subprocess.run(
            [sys.executable, "-m", "shared.cli.main", "run", "--port", str(port), "--data-dir", str(tmp_path)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert out.returncode == 2
    assert f"Port {port}" in out.stdout and "PORT=" in out.stdout
