"""Shared pieces of the SDK and CLI tests that run against the real server (`live_api`)."""

from __future__ import annotations

import io
import re
from pathlib import Path

from shared import audio
from tests.services import ROOT


def probe_bytes(data: bytes) -> audio.AudioInfo:
    """Decode the container headers of real audio bytes (raises on anything else)."""
    return audio.probe(io.BytesIO(data))


def readme_python_blocks(section: str = "## SDK") -> list[str]:
    """The ```python blocks of one README section, in order."""
    text = (ROOT / "README.md").read_text()
    start = text.index(section + "\n")
    end = text.find("\n## ", start + len(section))
    return re.findall(r"```python\n(.*?)```", text[start : end if end != -1 else None], flags=re.S)


def mp3_sample(target: Path, source: Path) -> Path:
    """A real MP3 made from a test recording (the contract's clone snippet uploads `sample.mp3`)."""
    samples = audio.decode(source, sample_rate=22050)
    target.write_bytes(audio.encode(samples, 22050, "mp3"))
    return target
