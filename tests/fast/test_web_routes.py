"""How the API serves the playground build (api/routes/web.py), without a build or a server: a missing build is a
503 that says to run `make web`, a build's assets are cached for good and its client routes get index.html."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from api.main import create_app
from api.routes import web


@pytest.fixture
def app_client(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> httpx.AsyncClient:
    monkeypatch.setattr(web, "DIST", tmp_path / "dist")
    app = create_app(migrate=False)  # no lifespan: these routes need neither the database nor Redis
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://web")


async def test_missing_build_says_to_run_make_web(app_client: httpx.AsyncClient) -> None:
    async with app_client as client:
        page = await client.get("/playground", headers={"Accept": "text/html"})
        assert page.status_code == 503 and "make web" in page.text
        assert page.headers["content-type"].startswith("text/html")
        api = await client.get("/playground/speak", headers={"Accept": "application/json"})
        assert api.status_code == 503
        error = api.json()["error"]
        assert error["code"] == "service_unavailable" and "make web" in error["message"]
        root = await client.get("/")
        assert root.status_code == 307 and root.headers["location"] == "/playground"


async def test_build_is_served(app_client: httpx.AsyncClient, tmp_path: Path) -> None:
    assets = tmp_path / "dist" / "assets"
    assets.mkdir(parents=True)
    (tmp_path / "dist" / "index.html").write_text("<!doctype html><script src=/playground/assets/a-1.js></script>")
    (assets / "a-1.js").write_text("console.log(1)")
    (tmp_path / "secret.txt").write_text("outside the build")
    async with app_client as client:
        for path in ("/playground", "/playground/", "/playground/voices", "/playground/jobs/"):
            page = await client.get(path)
            assert page.status_code == 200 and "a-1.js" in page.text, path
            assert page.headers["cache-control"] == "no-cache"
        asset = await client.get("/playground/assets/a-1.js")
        assert asset.status_code == 200 and asset.text == "console.log(1)"
        assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
        gone = await client.get("/playground/assets/a-0.js")
        assert gone.status_code == 404 and gone.json()["error"]["code"] == "not_found"
        escape = await client.get("/playground/%2e%2e/secret.txt")
        assert escape.status_code == 404 and "outside" not in escape.text
        schema = (await client.get("/openapi.json")).json()
        assert not [p for p in schema["paths"] if p == "/" or p.startswith("/playground")]
