"""The API process must stay light: no workers package, torch or model library may be imported by it."""

from __future__ import annotations

import subprocess
import sys

HEAVY = [
    "workers",
    "torch",
    "faster_whisper",
    "ctranslate2",
    "piper",
    "onnxruntime",
    "resemblyzer",
    "TTS",
    "pyannote.audio",
    "silero_vad",
]


def test_api_imports_no_worker_or_model_code() -> None:
    code = (
        "import sys, api.main, api.routes.speech, api.routes.transcriptions\n"
        "app = api.main.create_app(migrate=False)\n"
        f"heavy = {HEAVY!r}\n"
        "loaded = [m for m in heavy if m in sys.modules or any(k.startswith(m + '.') for k in sys.modules)]\n"
        "print(','.join(loaded))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"REDIS_URL": "redis://127.0.0.1:1/0", "PATH": ""},
    )
    assert out.stdout.strip() == "", f"api imported: {out.stdout.strip()}"


def test_the_check_itself_sees_heavy_imports() -> None:
    """Guard against a vacuous test: importing the worker app does pull torch-free workers code."""
    code = "import sys, workers.runner; print('workers' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"
