"""The web playground and account dashboard: the single-page app of api/web, built into api/web/dist by `make web`.

`/` redirects to `/playground`; `/playground/...` serves the build: its hashed assets (cached for a year), and
`index.html` for every client route (the app routes in the browser). The app calls the `/v1` API with the key its
user signs in with, through the JS SDK; `/playground/config.json` tells it the server's limits the API does not
otherwise publish. These routes are not part of the API, so they stay out of the OpenAPI schema.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response

from api.deps import SettingsDep
from api.errors import NotFound, ServiceUnavailable

router = APIRouter(include_in_schema=False)

DIST = Path(__file__).resolve().parents[1] / "web" / "dist"
MOUNT = "/playground"
# Vite names every file under assets/ by its content hash: a new build has new names, so they never go stale
IMMUTABLE = "public, max-age=31536000, immutable"
MISSING_BUILD = (
    "The playground is not built: run `make web` in the project (it builds api/web into api/web/dist), "
    "then reload this page."
)


def _missing_build(request: Request) -> Response:
    if "text/html" in request.headers.get("accept", ""):
        page = (
            "<!doctype html><html lang=en><meta charset=utf-8><title>Playground not built</title>"
            "<body style='font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;line-height:1.5'>"
            "<h1>The playground is not built</h1><p>Run <code>make web</code> in the project (it builds "
            "<code>api/web</code> into <code>api/web/dist</code>), then reload this page.</p>"
            "<p>The API itself works without it: see <a href='/docs'>/docs</a>.</p></body></html>"
        )
        return HTMLResponse(page, status_code=503, headers={"Cache-Control": "no-store"})
    raise ServiceUnavailable(MISSING_BUILD)


def _index(request: Request) -> Response:
    index = DIST / "index.html"
    if not index.is_file():
        return _missing_build(request)
    return FileResponse(index, media_type="text/html", headers={"Cache-Control": "no-cache"})


@router.get("/")
async def root() -> RedirectResponse:
    return RedirectResponse(MOUNT, status_code=307)


@router.get(MOUNT + "/config.json")
async def playground_config(settings: SettingsDep) -> JSONResponse:
    """What the app shows before a request is refused: the text and upload limits and how cloning takes consent."""
    body: dict[str, Any] = {
        "max_input_chars": settings.limits.max_input_chars,
        "max_upload_bytes": settings.limits.max_upload_bytes,
        "clone_consent": settings.clone_consent,
        "consent_phrase": settings.consent_phrase,
    }
    return JSONResponse(body, headers={"Cache-Control": "no-cache"})


@router.get(MOUNT)
async def playground(request: Request) -> Response:
    return _index(request)


@router.get(MOUNT + "/{path:path}")
async def playground_path(path: str, request: Request) -> Response:
    if not (DIST / "index.html").is_file():
        return _missing_build(request)
    target = (DIST / path).resolve()
    if path and target.is_relative_to(DIST.resolve()) and target.is_file():
        cache = IMMUTABLE if target.parent == (DIST / "assets").resolve() else "no-cache"
        return FileResponse(target, headers={"Cache-Control": cache})
    if path.startswith("assets/") or Path(path).suffix:
        # a file the build does not have (an old hashed name, a typo): a 404, not the app's page
        raise NotFound(f"The playground has no file '{path}'; reload {MOUNT} to get the current build.")
    return _index(request)  # a client route (/playground/speak, ...): the app routes it
