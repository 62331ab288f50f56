"""The JavaScript SDK (sdk/js): its unit tests and its live tests, against this real server, under `node --test`.

The unit tests use a local fake fetch; the live ones (sdk/js/test/live) run the quickstart, speech, transcription,
voice conversion, voice cloning, account keys and the official `openai` npm package against the server the
`live_api` fixture starts.
They import the built package (sdk/js/dist), which `make js` builds.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

JS = Path(__file__).resolve().parent.parent / "sdk" / "js"
BUILT = (JS / "dist" / "esm" / "index.js", JS / "dist" / "cjs" / "index.js")
NODE_TIMEOUT = 1200


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node (18 or newer) is needed for the JS SDK's tests; install Node.js, then run `make js`")
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    major = re.match(r"v(\d+)\.", version)
    if major is None or int(major.group(1)) < 18:
        pytest.fail(f"the JS SDK needs Node 18 or newer, found {version}")
    return node


def _require_build() -> None:
    missing = [str(p.relative_to(JS)) for p in BUILT if not p.is_file()]
    if missing:
        pytest.fail(f"sdk/js/dist is missing ({', '.join(missing)}): run `make js`")
    if not (JS / "node_modules" / "openai").is_dir():
        pytest.fail("sdk/js/node_modules is missing (the tests use the openai package): run `make js`")
    built = min(p.stat().st_mtime for p in BUILT)
    stale = sorted(str(p.relative_to(JS)) for p in (JS / "src").rglob("*.ts") if p.stat().st_mtime > built)
    if stale:
        pytest.fail(f"sdk/js/dist is older than {', '.join(stale)}: run `make js`")


def _count(output: str, name: str) -> int:
    found = re.findall(rf"^# {name} (\d+)$", output, flags=re.MULTILINE)
    return int(found[-1]) if found else -1


@pytest.fixture(scope="session")
def node() -> str:
    """Node, and the built SDK: checked before the server starts, so a missing build fails at once."""
    executable = _node()
    _require_build()
    return executable


# about 80 tests, several minutes of real synthesis and transcription: more than the suite's default 600 s per test
@pytest.mark.timeout(NODE_TIMEOUT + 300)
def test_js_sdk_unit_and_live_tests(node: str, live_api: str, make_key: Callable[[str], str], testdata: Path) -> None:
    env = {
        **os.environ,
        "S2S_BASE_URL": live_api,
        "S2S_API_KEY": make_key("js-sdk"),
        "S2S_TESTDATA": str(testdata),
        "NO_COLOR": "1",
    }
    env.pop("S2S_WEBHOOK_SECRET", None)
    done = subprocess.run(
        [node, "--test", "--test-reporter=tap", "test/"],
        cwd=JS,
        env=env,
        capture_output=True,
        text=True,
        timeout=NODE_TIMEOUT,
    )
    output = done.stdout + done.stderr
    shown = output if len(output) < 60_000 else "...\n" + output[-60_000:]
    assert done.returncode == 0, f"node --test failed (exit {done.returncode}):\n{shown}"
    # the live suites skip themselves without a server: here every one of them must have run
    assert _count(output, "skipped") == 0, f"some JS tests were skipped:\n{shown}"
    assert _count(output, "fail") == 0 and _count(output, "pass") >= 60, shown
