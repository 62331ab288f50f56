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


def test_run_starts_everything_and_ctrl_c_stops_it(tmp_path: Path, model_dir: Path, testdata: Path) -> None:
    port, flower_port = free_port(), free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("REDIS_URL", "DATABASE_URL", "DATA_DIR") and not k.startswith(("STORE__", "LIMITS__"))
    }
    env.update(
        {
            "MODEL_DIR": str(model_dir),
            "FLOWER_PORT": str(flower_port),
            "PYTHONUNBUFFERED": "1",
            "COLUMNS": "400",
            # Piper samples noise: a seeded worker speaks the same audio every run, so what tiny.en hears of it
            # (checked below) is the same every run too
            "RANDOM_SEED": "4",
        }
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "shared.cli.main", "run", "--port", str(port), "--data-dir", str(tmp_path / "var")],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        out = _read_until(proc, r"Press Ctrl-C to stop", timeout=180)
        assert f"http://127.0.0.1:{port}" in out
        key = re.search(r"API key\s+(s2s-\S+)", out)
        assert key, out
        assert "curl " in out and "/v1/audio/speech" in out
        children = psutil.Process(proc.pid).children(recursive=True)
        names = " ".join(" ".join(c.cmdline()) for c in children)
        assert "redis-server" in names and "worker" in names and "flower" in names and "uvicorn" in names

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
        assert list((tmp_path / "var" / "store" / "outputs").rglob("*.mp3"))
        flower = httpx.get(f"http://127.0.0.1:{flower_port}/api/workers", timeout=10)
        assert flower.status_code == 401  # Flower needs its basic auth
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    assert proc.returncode == 0
    tail = proc.stdout.read() if proc.stdout else ""
    assert "Stopped everything" in tail
    time.sleep(0.5)
    alive = [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]
    assert not alive, f"left running: {[c.cmdline() for c in alive]}"
    # the same key still works after a restart (kept in the data dir), so a second run prints it again
    assert (tmp_path / "var" / "local-api-key").read_text().strip() == key.group(1)


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
