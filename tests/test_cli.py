"""The `s2s` administration commands."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest

from tests.services import ROOT

pytestmark = pytest.mark.integration


def s2s(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shared.cli.main", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**__import__("os").environ, "COLUMNS": "300"},
    )


async def test_keys_create_prints_a_working_key_last(client: httpx.AsyncClient) -> None:
    out = s2s("keys", "create", "--account", "cli-user")
    assert out.returncode == 0, out.stderr
    key = out.stdout.strip().splitlines()[-1]
    assert key.startswith("s2s-")
    r = await client.get("/v1/models", headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 200


def test_models_list_and_verify(settings: object) -> None:
    out = s2s("models", "list")
    assert out.returncode == 0
    assert "whisper-base" in out.stdout and "fish-speech-v1.5" in out.stdout
    verify = s2s("models", "verify")
    assert verify.returncode == 0, verify.stdout
    assert "whisper-base: ok" in verify.stdout
    unknown = s2s("models", "install", "nope")
    assert unknown.returncode == 2 and "Unknown model" in unknown.stderr
