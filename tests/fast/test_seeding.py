"""RANDOM_SEED's seeding never touches a module another thread is still importing (a job starting while the
warm-up thread imports torch for the diarizer failed with AttributeError on `torch.manual_seed`)."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import pytest

from workers.seeding import imported


def test_imported_waits_for_a_module_being_imported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "s2s_slow_module.py").write_text(
        "import time\ntime.sleep(0.5)\ndef manual_seed(seed):\n    return seed\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    assert imported("s2s_slow_module") is None  # nothing imported it: it is not imported for seeding
    importer = threading.Thread(target=__import__, args=("s2s_slow_module",))
    importer.start()
    try:
        deadline = time.monotonic() + 10
        while "s2s_slow_module" not in sys.modules and time.monotonic() < deadline:
            time.sleep(0.01)
        half = sys.modules["s2s_slow_module"]
        assert not hasattr(half, "manual_seed")  # what the job used to see
        module = imported("s2s_slow_module")
        assert module is not None and module.manual_seed(7) == 7
    finally:
        importer.join(10)
        sys.modules.pop("s2s_slow_module", None)
