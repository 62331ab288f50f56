"""Bad input always gets the contract's error envelope and status, never a 500."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from shared import audio

pytestmark = pytest.mark.integration

SPEECH = {"model": "piper", "voice": "joe", "input": "Hello."}


def assert_error(r: httpx.Response, status: int, code: str, param: str | None = None) -> dict:
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert err["code"] == code, err
    assert err["message"] and err["request_id"]
    if param is not None:
        assert err["param"] == param, err
    return err


async def test_no_auth(client: httpx.AsyncClient) -> None:
    err = assert_error(await client.post("/v1/audio/speech", json=SPEECH), 401, "invalid_api_key")
    assert "s2s keys create" in err["message"]
    assert_error(await client.get("/v1/models"), 401, "invalid_api_key")
    assert_error(await client.get("/v1/jobs/job_x"), 401, "invalid_api_key")


@pytest.mark.parametrize(
    "header", ["Bearer nope", "Bearer s2s-000000000000-wrongsecret", "Basic dXNlcjpwYXNz", "Bearer "]
)
async def test_wrong_key(client: httpx.AsyncClient, header: str) -> None:
    assert_error(
        await client.post("/v1/audio/speech", json=SPEECH, headers={"Authorization": header}), 401, "invalid_api_key"
    )


async def test_tampered_key(client: httpx.AsyncClient, api_key: str) -> None:
    bad = api_key[:-2] + ("AA" if not api_key.endswith("AA") else "BB")
    assert_error(await client.get("/v1/models", headers={"Authorization": f"Bearer {bad}"}), 401, "invalid_api_key")


@pytest.mark.parametrize(
    ("patch", "status", "code", "param"),
    [
        ({"input": "x" * 5001}, 400, "invalid_request", "input"),
        ({"input": ""}, 400, "invalid_request", "input"),
        ({"input": "\u0000\u0001 \u200b"}, 400, "invalid_request", "input"),
        ({"input": "🙂🙂🙂"}, 400, "invalid_request", "input"),
        ({"speed": 3.0}, 400, "invalid_request", "speed"),
        ({"speed": 0.1}, 400, "invalid_request", "speed"),
        ({"format": "wma"}, 400, "invalid_request", "format"),
        ({"emotion": "bored"}, 400, "invalid_request", "emotion"),
        ({"model": "no-such-model"}, 404, "model_not_found", "model"),
        ({"model": "whisper-base"}, 400, "invalid_request", "model"),
        ({"model": "xtts-v2"}, 404, "model_not_installed", "model"),
        ({"voice": "nobody"}, 404, "voice_not_found", "voice"),
        ({"input": 42}, 400, "invalid_request", "input"),
    ],
)
async def test_speech_validation(
    client: httpx.AsyncClient, auth: dict[str, str], patch: dict, status: int, code: str, param: str
) -> None:
    assert_error(await client.post("/v1/audio/speech", headers=auth, json={**SPEECH, **patch}), status, code, param)


async def test_missing_fields_and_malformed_json(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    assert_error(
        await client.post("/v1/audio/speech", headers=auth, json={"model": "piper"}), 400, "invalid_request", "voice"
    )
    bad = await client.post(
        "/v1/audio/speech",
        headers={**auth, "Content-Type": "application/json"},
        content=b'{"model": "piper", "voice": ',
    )
    err = assert_error(bad, 400, "invalid_request")
    assert "JSON" in err["message"]
    assert_error(await client.post("/v1/audio/speech", headers=auth, json=[1, 2]), 400, "invalid_request")


async def test_odd_unicode_is_spoken_or_rejected_cleanly(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    ok = await client.post(
        "/v1/audio/speech",
        headers=auth,
        json={**SPEECH, "input": "Cafe\u0301 \u202eRTL\u202c and naïve façade — “quotes”."},
    )
    assert ok.status_code == 200, ok.text
    lone_surrogate = b'{"model": "piper", "voice": "joe", "input": "bad \\ud800 text"}'
    r = await client.post(
        "/v1/audio/speech", headers={**auth, "Content-Type": "application/json"}, content=lone_surrogate
    )
    assert_error(r, 400, "invalid_request", "input")


async def test_xtts_error_names_what_to_install(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    err = assert_error(
        await client.post("/v1/audio/speech", headers=auth, json={**SPEECH, "model": "xtts-v2"}),
        404,
        "model_not_installed",
    )
    assert "pip install" in err["message"] and "xtts" in err["message"]


def _upload(
    client: httpx.AsyncClient, auth: dict[str, str], content: bytes, name: str = "a.wav", **data: str
) -> object:
    return client.post(
        "/v1/audio/transcriptions",
        headers=auth,
        files={"file": (name, content)},
        data={"model": "whisper-base", **data},
    )


async def test_transcription_bad_files(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    err = assert_error(await _upload(client, auth, b""), 400, "invalid_request", "file")
    assert "empty" in err["message"]
    # whatever finds it (the API's probe here, a worker's decoder for a file that breaks later): invalid_audio
    err = assert_error(await _upload(client, auth, b"not audio" * 100, "notes.txt"), 400, "invalid_audio", "file")
    assert "not usable audio" in err["message"]
    truncated = audio.encode(__import__("numpy").zeros(16000, dtype="float32"), 16000, "mp3")[:40]
    assert_error(await _upload(client, auth, truncated, "cut.mp3"), 400, "invalid_audio", "file")
    assert_error(await _upload(client, auth, Path(__file__).read_bytes(), "code.py"), 400, "invalid_audio", "file")


async def test_transcription_bad_parameters(client: httpx.AsyncClient, auth: dict[str, str], testdata: Path) -> None:
    wav = (testdata / "leopard_test_en.wav").read_bytes()
    assert_error(await _upload(client, auth, wav, model="nope"), 404, "model_not_found", "model")
    assert_error(await _upload(client, auth, wav, model="piper"), 400, "invalid_request", "model")
    assert_error(await _upload(client, auth, wav, model="whisper-large-v3"), 404, "model_not_installed", "model")
    assert_error(
        await _upload(client, auth, wav, model="whisper-tiny.en", language="de"), 400, "invalid_request", "language"
    )
    assert_error(await _upload(client, auth, wav, language="english!"), 400, "invalid_request", "language")
    assert_error(await _upload(client, auth, wav, timestamps="sentence"), 400, "invalid_request", "timestamps")
    assert_error(await _upload(client, auth, wav, diarization="maybe"), 400, "invalid_request", "diarization")
    missing = await client.post("/v1/audio/transcriptions", headers=auth, data={"model": "whisper-base"})
    assert_error(missing, 400, "invalid_request", "file")
    not_multipart = await client.post("/v1/audio/transcriptions", headers=auth, json={"file": "x"})
    assert_error(not_multipart, 400, "invalid_request")


async def test_malformed_multipart(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    r = await client.post(
        "/v1/audio/transcriptions",
        headers={**auth, "Content-Type": "multipart/form-data; boundary=XYZ"},
        content=b'--XYZ\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n\r\nabc',
    )
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == "invalid_request"


async def test_upload_over_limit_is_413(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    big = b"\0" * (8 * 1024 * 1024 + 1)  # the test platform's limit is 8 MiB
    err = assert_error(await _upload(client, auth, big, "big.wav"), 413, "file_too_large")
    assert "MiB" in err["message"]


async def test_upload_over_limit_without_content_length(live_api: str, auth: dict[str, str]) -> None:
    """A chunked upload (no Content-Length) is cut off at the limit too."""

    def body():
        yield b'--B\r\nContent-Disposition: form-data; name="file"; filename="x.wav"\r\n\r\n'
        for _ in range(9):
            yield b"\0" * (1024 * 1024)
        yield b"\r\n--B--\r\n"

    r = httpx.post(
        f"{live_api}/v1/audio/transcriptions",
        headers={**auth, "Content-Type": "multipart/form-data; boundary=B"},
        content=body(),
        timeout=60,
    )
    assert_error(r, 413, "file_too_large")


async def test_unknown_route_and_job(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    assert_error(await client.get("/v1/nothing-here", headers=auth), 404, "not_found")
    assert_error(await client.get("/v1/jobs/job_doesnotexist", headers=auth), 404, "not_found")
    assert_error(await client.get("/v1/models/nope", headers=auth), 404, "model_not_found")
    r = await client.put("/v1/audio/speech", headers=auth, json=SPEECH)
    assert r.status_code == 405 and r.json()["error"]["code"] == "method_not_allowed"
