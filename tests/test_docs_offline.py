"""`/docs` and `/redoc` work without internet access: every asset they load comes from this server (api/docs.py)."""

from __future__ import annotations

import re
import shutil
import subprocess
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

pytestmark = pytest.mark.integration

PAGES = ("/docs", "/redoc")
CONTENT_TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}
ATTRIBUTE = re.compile(r"""\b(?:src|href|spec-url)\s*=\s*["']([^"']+)["']""")
CONFIG_URL = re.compile(r"""\burl\s*:\s*["']([^"']+)["']""")  # SwaggerUIBundle({url: '/openapi.json'})
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def referenced(html: str) -> list[str]:
    return ATTRIBUTE.findall(html) + CONFIG_URL.findall(html)


@pytest.mark.parametrize("page", PAGES)
def test_the_docs_pages_load_nothing_from_elsewhere(live_api: str, page: str) -> None:
    with httpx.Client(base_url=live_api, timeout=30) as http:
        r = http.get(page)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html"), r.text
        assert not re.search(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", r.text, re.I), "an absolute URL in the page"
        urls = referenced(r.text)
        assets = [u for u in urls if not u.endswith("openapi.json")]
        assert urls and "/openapi.json" in urls and assets, urls
        for url in urls:
            absolute = urljoin(f"{live_api}{page}", url)
            assert urlsplit(absolute).netloc == urlsplit(live_api).netloc, url
            got = http.get(absolute)
            assert got.status_code == 200, (url, got.status_code)
            suffix = "." + url.rsplit(".", 1)[-1]
            wanted = CONTENT_TYPES.get(suffix, "application/json")
            assert got.headers["content-type"].startswith(wanted), (url, got.headers["content-type"])
            assert len(got.content) > 1000, url
        missing = http.get("/docs/assets/no-such-asset.js")
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("page", PAGES)
def test_a_browser_without_internet_renders_the_docs(live_api: str, page: str) -> None:
    """Headless Chromium with every non-local request sent to a dead proxy: the page still shows the routes."""
    if CHROMIUM is None:
        pytest.fail("Chromium not found: install Debian's chromium (apt-get install chromium)")
    out = subprocess.run(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--proxy-server=127.0.0.1:9",  # nothing listens there: any request off this machine fails
            "--virtual-time-budget=20000",
            "--dump-dom",
            f"{live_api}{page}",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    dom = out.stdout
    # the rendered operations, which only exist once the local bundle ran and read /openapi.json
    assert "/v1/account/keys" in dom and "Create an API key for your account" in dom, dom[-2000:]
