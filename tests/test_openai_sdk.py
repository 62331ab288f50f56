"""The official openai SDK, pointed at the server, creates speech and transcriptions."""

from __future__ import annotations

import io
from pathlib import Path

import openai
import pytest

from shared import audio
from tests.text import wer

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def oa(live_api: str, api_key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{live_api}/v1", api_key=api_key, max_retries=0)


def test_openai_speech(oa: openai.OpenAI) -> None:
    response = oa.audio.speech.create(
        model="piper", voice="joe", input="Hello from the OpenAI client.", response_format="wav"
    )
    data = response.read()
    info = audio.probe(io.BytesIO(data))
    assert info.container == "wav" and info.duration > 1.0


def test_openai_transcription(oa: openai.OpenAI, testdata: Path) -> None:
    with (testdata / "jfk.flac").open("rb") as fh:
        result = oa.audio.transcriptions.create(model="whisper-base", file=fh)
    assert wer((testdata / "jfk.txt").read_text(), result.text) <= 0.1


def test_openai_errors_are_typed(oa: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as info:
        oa.audio.speech.create(model="no-such-model", voice="joe", input="x")
    assert info.value.status_code == 404
    assert info.value.body["code"] == "model_not_found"  # type: ignore[index]
    with pytest.raises(openai.BadRequestError):
        oa.audio.speech.create(model="piper", voice="joe", input="x" * 5001)


def test_openai_models_list(oa: openai.OpenAI) -> None:
    ids = {m.id for m in oa.models.list()}
    assert {"piper", "whisper-base", "whisper-large-v3"} <= ids


def test_openai_bad_key(live_api: str) -> None:
    bad = openai.OpenAI(base_url=f"{live_api}/v1", api_key="wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        bad.models.list()


def test_openai_translation(oa: openai.OpenAI, testdata: Path) -> None:
    """The official SDK's audio.translations: German speech in, English text out (Whisper's translate task)."""
    with (testdata / "leopard_test_de.wav").open("rb") as fh:
        result = oa.audio.translations.create(model="whisper-base", file=fh)
    words = set(result.text.lower().replace(".", " ").replace(",", " ").split())
    assert {"the", "room"} & words and not {"der", "raum", "wurde"} & words, result.text
    with (testdata / "leopard_test_de.wav").open("rb") as fh:
        srt = oa.audio.translations.create(model="whisper-base", file=fh, response_format="srt")
    assert "-->" in srt
    with pytest.raises(openai.BadRequestError, match="cannot translate"), (testdata / "jfk.flac").open("rb") as fh:
        oa.audio.translations.create(model="whisper-tiny.en", file=fh)
