"""The web playground (api/web, served at /playground) in a real Chromium against the real API server: sign in,
dashboard, speak, transcribe, convert (speech to speech, A/B), clone, API keys, jobs. The browser scenarios are
api/web/e2e/*.mjs (Playwright via playwright-core, Node's test runner); this runs them and checks how the API serves
the build."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.services import Proc, start_api

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[1]
WEB = ROOT / "api" / "web"
DIST = WEB / "dist"
CHROMIUM = Path(os.environ.get("S2S_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = ROOT / "test-artifacts" / "playground"


def require_build() -> None:
    if not (DIST / "index.html").is_file():
        pytest.fail(f"the playground is not built ({DIST} is missing): run `make web`")
    sources = [p for d in (WEB / "src", ROOT / "sdk" / "js" / "src") for p in d.rglob("*") if p.is_file()]
    stale = [p for p in sources if p.stat().st_mtime > (DIST / "index.html").stat().st_mtime]
    if stale:
        pytest.fail(f"the playground build is older than {stale[0].relative_to(ROOT)}: run `make web`")
    if not (WEB / "node_modules" / "playwright-core").is_dir():
        pytest.fail(f"{WEB}/node_modules lacks playwright-core: run `make web` (npm ci in api/web)")


def test_playground_is_served(live_api: str) -> None:
    require_build()
    root = httpx.get(f"{live_api}/", follow_redirects=False)
    assert root.status_code == 307 and root.headers["location"] == "/playground"
    page = httpx.get(f"{live_api}/playground/speak")  # a client route: the app's page
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-cache"
    assert "/playground/assets/" in page.text
    asset = next((DIST / "assets").glob("*.js"))
    served = httpx.get(f"{live_api}/playground/assets/{asset.name}")
    assert served.status_code == 200 and served.content == asset.read_bytes()
    assert served.headers["cache-control"] == "public, max-age=31536000, immutable"
    missing = httpx.get(f"{live_api}/playground/assets/index-00000000.js")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    escape = httpx.get(f"{live_api}/playground/..%2f..%2fmain.py")
    assert escape.status_code == 404
    config = httpx.get(f"{live_api}/playground/config.json").json()
    assert config["max_input_chars"] == 5000 and config["clone_consent"] == "attestation"
    paths = httpx.get(f"{live_api}/openapi.json").json()["paths"]
    assert not [p for p in paths if p == "/" or p.startswith("/playground")]


def run_browser_tests(script: str, base_url: str, api_key: str, testdata: Path) -> None:
    """Runs api/web/e2e/<script> in Chromium against `base_url`; fails with node's output."""
    require_build()
    if not CHROMIUM.exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: install Debian's chromium (apt-get install chromium)")
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not on PATH: install Node.js 20 or later")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "S2S_BASE_URL": base_url,
        "S2S_API_KEY": api_key,
        "S2S_TESTDATA": str(testdata),
        "S2S_SCREENSHOTS": str(SCREENSHOTS),
        "S2S_CHROMIUM": str(CHROMIUM),
    }
    proc = subprocess.run(
        [node, "--test", "--test-reporter=spec", f"e2e/{script}"],
        cwd=WEB,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    output = proc.stdout + proc.stderr
    print(output)
    print(f"playground screenshots: {SCREENSHOTS}")
    assert proc.returncode == 0, f"the playground's browser tests failed (screenshots in {SCREENSHOTS}):\n{output}"
    assert "ℹ fail 0" in output, output


def test_playground_in_chromium(live_api: str, make_key: Callable[[str], str], testdata: Path) -> None:
    run_browser_tests("playground.test.mjs", live_api, make_key("playground"), testdata)


@pytest.fixture(scope="module")
def recording_consent_api(platform_env: dict[str, str], worker: Proc, session_dir: Path) -> Iterator[str]:
    """A second API on the same platform whose clones need a consent recording (CLONE_CONSENT=recording)."""
    proc, base = start_api({**platform_env, "CLONE_CONSENT": "recording"}, session_dir / "logs", name="api-consent")
    yield base
    proc.stop()


def test_clone_wizard_asks_for_a_consent_recording(
    recording_consent_api: str, make_key: Callable[[str], str], testdata: Path
) -> None:
    run_browser_tests("consent.test.mjs", recording_consent_api, make_key("playground-consent"), testdata)
