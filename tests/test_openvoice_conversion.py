"""OpenVoice V2 tone-colour conversion through the API, end to end: a worker of its own hosts `openvoice-v2` with a
tiny randomly initialised converter in the published layout (tests/engines/test_openvoice.py; the real weights
are not available here), and `POST /v1/audio/voice-conversions` with `model=openvoice-v2` runs the handler's
tone-colour path: output exactly as long as the input, streamed when asked, the conversion's job result and its
per-second price. What the random converter sounds like is not judged."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import httpx
import pytest

from shared import audio
from shared.catalog import MODELS
from shared.config import Settings
from tests.engines.test_openvoice import install_tiny_openvoice
from tests.services import Proc, start_worker

pytestmark = pytest.mark.integration

MODEL = "openvoice-v2"


@pytest.fixture(scope="module")
def openvoice_worker(platform_env: dict[str, str], redis_url: str, session_dir: Path) -> Iterator[str]:
    """A worker hosting only openvoice-v2 (tiny converter, bundled Piper base voice), on a Redis database of its
    own so no other test's jobs reach it; yields that Redis URL."""
    root = install_tiny_openvoice(session_dir / "openvoice-models")
    url = redis_url.rsplit("/", 1)[0] + "/13"
    env = {**platform_env, "REDIS_URL": url, "MODEL_DIR": str(root)}
    proc: Proc = start_worker(env, MODEL, session_dir / "logs", name="worker-openvoice")
    yield url
    proc.stop()


@pytest.fixture(scope="module")
async def ov_client(openvoice_worker: str) -> AsyncIterator[httpx.AsyncClient]:
    from api.main import create_app

    app = create_app(Settings(redis_url=openvoice_worker))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://openvoice", timeout=300) as client:
            yield client


async def wait_live(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    import anyio

    with anyio.fail_after(60):
        while not (await client.get(f"/v1/models/{MODEL}", headers=auth)).json().get("live"):
            await anyio.sleep(0.2)


async def test_tone_colour_conversion_through_the_api(
    ov_client: httpx.AsyncClient, make_key: Callable[[str], str], testdata: Path
) -> None:
    auth = {"Authorization": f"Bearer {make_key('openvoice-billing')}"}
    await wait_live(ov_client, auth)
    source = (testdata / "jfk.flac").read_bytes()
    seconds = audio.decode(io.BytesIO(source), sample_rate=16000).size / 16000
    r = await ov_client.post(
        "/v1/audio/voice-conversions", headers=auth, files={"file": ("jfk.flac", source)},
        data={"model": MODEL, "voice": "joe", "response_format": "wav"},
    )  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "audio/wav"
    converted = audio.decode(io.BytesIO(r.content), sample_rate=16000)
    assert converted.size / 16000 == pytest.approx(seconds, rel=0.02)
    job = (await ov_client.get(f"/v1/jobs/{r.headers['x-job-id']}", headers=auth)).json()
    assert job["kind"] == "vc" and job["model"] == MODEL and job["status"] == "succeeded"
    result = job["result"]
    assert result["method"] == "tone-color" and result["voices"] == {"": "joe"}
    assert result["input_duration"] == pytest.approx(seconds, abs=0.05)
    usage = (await ov_client.get("/v1/usage", headers=auth)).json()
    row = next(d for d in usage["data"] if d["model"] == MODEL)  # billed per second of input, at the model's price
    assert row["kind"] == "vc" and row["audio_seconds"] == pytest.approx(result["input_duration"], abs=0.01)
    assert row["credits"] == pytest.approx(MODELS[MODEL].prices.per_audio_second * result["input_duration"], abs=1e-5)


async def test_tone_colour_conversion_streams_as_sse(
    ov_client: httpx.AsyncClient, auth: dict[str, str], testdata: Path
) -> None:
    await wait_live(ov_client, auth)
    source = (testdata / "leopard_test_en.wav").read_bytes()
    events = []
    async with ov_client.stream(
        "POST", "/v1/audio/voice-conversions", headers=auth, files={"file": ("en.wav", source)},
        data={"model": MODEL, "voice": "joe", "response_format": "pcm", "sample_rate": "16000", "stream": "true",
              "stream_format": "sse"},
    ) as r:  # fmt: skip
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        async for line in r.aiter_lines():
            if line.startswith("data: "):
                events.append(json.loads(line[6:]))
    *deltas, done = events
    assert deltas and {e["type"] for e in deltas} == {"conversion.audio.delta"}, events[-1]
    assert done["type"] == "conversion.audio.done"
    pcm = b"".join(base64.b64decode(e["audio"]) for e in deltas)
    assert len(pcm) / 2 / 16000 == pytest.approx(5.86, rel=0.02)  # 16-bit samples at 16 kHz
    assert done["usage"]["input_seconds"] == pytest.approx(5.86, abs=0.05)
