"""Speech to text, complete: formats, languages, timestamps, diarization, channels, media, streaming, long audio."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import openai
import pytest

from shared import audio
from tests import media
from tests.text import wer

pytestmark = pytest.mark.integration


async def transcribe(
    client: httpx.AsyncClient, auth: dict[str, str], content: bytes, name: str = "a.wav", **data: Any
) -> httpx.Response:
    form = {"model": "whisper-base", **{k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in data.items()}}
    return await client.post("/v1/audio/transcriptions", headers=auth, files={"file": (name, content)}, data=form)


# --- quality on real speech ------------------------------------------------------------------------------------


@pytest.mark.parametrize("clip", ["jfk.flac", "leopard_test_en.wav"])
async def test_english_wer_with_whisper_base(
    client: httpx.AsyncClient, auth: dict[str, str], testdata: Path, clip: str
) -> None:
    r = await transcribe(client, auth, (testdata / clip).read_bytes(), clip)
    assert r.status_code == 200, r.text
    reference = (testdata / clip.rsplit(".", 1)[0]).with_suffix(".txt").read_text()
    score = wer(reference, r.json()["text"])
    print(f"WER {clip}: {score:.3f}")
    assert score <= 0.10


async def test_a_quiet_recording_is_heard(client: httpx.AsyncClient, auth: dict[str, str], testdata: Path) -> None:
    """jfk 50 dB down in a 16-bit WAV: the VAD hears it at a normal level (shared.audio.level_gain). Without the
    gain the VAD missed a second of it and the transcript lost 3 of its 22 words (WER 0.136)."""
    quiet = audio.decode(testdata / "jfk.flac", sample_rate=16000) * 10 ** (-50 / 20)
    r = await transcribe(client, auth, audio.encode(quiet, 16000, "wav"), response_format="verbose_json")
    assert r.status_code == 200, r.text
    score = wer((testdata / "jfk.txt").read_text(), r.json()["text"])
    print(f"WER of jfk at -50 dB: {score:.3f}")
    assert score <= 0.1


@pytest.mark.parametrize("lang", ["de", "es", "fr"])
async def test_language_is_detected(client: httpx.AsyncClient, auth: dict[str, str], testdata: Path, lang: str) -> None:
    r = await transcribe(client, auth, (testdata / f"leopard_test_{lang}.wav").read_bytes())
    body = r.json()
    assert body["language"] == lang
    assert 0.5 < body["language_probability"] <= 1.0


async def test_explicit_language_is_honoured(client: httpx.AsyncClient, auth: dict[str, str], testdata: Path) -> None:
    german = (testdata / "leopard_test_de.wav").read_bytes()
    forced = (await transcribe(client, auth, german, language="fr")).json()
    assert forced["language"] == "fr"
    natural = (await transcribe(client, auth, german, language="de")).json()
    assert natural["language"] == "de"
    assert wer((testdata / "leopard_test_de.txt").read_text(), natural["text"]) < wer(
        (testdata / "leopard_test_de.txt").read_text(), forced["text"]
    )


# --- response formats and timestamps ---------------------------------------------------------------------------


async def test_word_timestamps(client: httpx.AsyncClient, auth: dict[str, str], testdata: Path) -> None:
    body = (await transcribe(client, auth, (testdata / "jfk.flac").read_bytes(), timestamps="word")).json()
    words = body["words"]
    assert len(words) >= 20
    assert all(set(w) >= {"start", "end", "word", "probability"} for w in words)
    assert all(0 <= w["start"] <= w["end"] <= 11.0 for w in words)
    assert [w["start"] for w in words] == sorted(w["start"] for w in words)
    # "country" closes the sentence: it comes last, near the end of the speech
    assert words[-1]["word"].strip(" .").lower() == "country" and words[-1]["end"] > 9.0
    plain = (await transcribe(client, auth, (testdata / "jfk.flac").read_bytes(), timestamps="segment")).json()
    assert "words" not in plain and plain["segments"]


async def test_text_srt_vtt(client: httpx.AsyncClient, auth: dict[str, str], testdata: Path) -> None:
    content = (testdata / "leopard_test_en.wav").read_bytes()
    text = await transcribe(client, auth, content, response_format="text")
    assert text.headers["content-type"].startswith("text/plain") and "gospel" in text.text.lower()
    srt = await transcribe(client, auth, content, response_format="srt")
    assert srt.text.startswith("1\n00:00:00,") and " --> " in srt.text
    vtt = await transcribe(client, auth, content, response_format="vtt")
    assert vtt.text.startswith("WEBVTT\n") and "00:00:0" in vtt.text and "." in vtt.text.split("-->")[0]


def test_openai_verbose_json_with_words(live_api: str, api_key: str, testdata: Path) -> None:
    oa = openai.OpenAI(base_url=f"{live_api}/v1", api_key=api_key, max_retries=0)
    with (testdata / "jfk.flac").open("rb") as fh:
        result = oa.audio.transcriptions.create(
            model="whisper-base",
            file=fh,
            response_format="verbose_json",
            timestamp_granularities=["word", "segment"],
        )
    assert result.language == "en" and result.duration == pytest.approx(11.0, abs=0.05)
    assert result.words and result.words[0].start < result.words[-1].end
    assert result.segments and result.segments[0].avg_logprob < 0
    assert wer((testdata / "jfk.txt").read_text(), result.text) <= 0.1


# --- diarization ----------------------------------------------------------------------------------------------


async def test_two_speakers_in_downmixed_stereo(
    client: httpx.AsyncClient, auth: dict[str, str], testdata: Path
) -> None:
    r = await transcribe(
        client, auth, (testdata / "fw_stereo_diarization.wav").read_bytes(), diarization=True, timestamps="word"
    )
    body = r.json()
    assert {s["id"] for s in body["speakers"]} == {"SPEAKER_00", "SPEAKER_01"}
    assert all(s.get("speaker") in ("SPEAKER_00", "SPEAKER_01") for s in body["segments"])
    assert all(w.get("speaker") for w in body["words"])
    fixed = (
        await transcribe(
            client, auth, (testdata / "fw_stereo_diarization.wav").read_bytes(), diarization=True, num_speakers=1
        )
    ).json()
    assert [s["id"] for s in fixed["speakers"]] == ["SPEAKER_00"]


async def test_single_speaker_stays_one(client: httpx.AsyncClient, auth: dict[str, str], testdata: Path) -> None:
    body = (await transcribe(client, auth, (testdata / "jfk.flac").read_bytes(), diarization=True)).json()
    assert [s["id"] for s in body["speakers"]] == ["SPEAKER_00"]
    assert wer((testdata / "jfk.txt").read_text(), body["text"]) <= 0.1


async def test_diarization_error_rate_on_ami(client: httpx.AsyncClient, auth: dict[str, str], testdata: Path) -> None:
    from pyannote.core import Annotation, Segment
    from pyannote.metrics.diarization import DiarizationErrorRate

    r = await transcribe(
        client,
        auth,
        (testdata / "pyannote_ami_tst00.wav").read_bytes(),
        diarization=True,
        response_format="diarized_json",
    )
    body = r.json()
    reference = Annotation()
    for line in (testdata / "pyannote_ami_tst00.rttm").read_text().splitlines():
        parts = line.split()
        reference[Segment(float(parts[3]), float(parts[3]) + float(parts[4]))] = parts[7]
    hypothesis = Annotation()
    for seg in body["segments"]:
        assert seg["type"] == "transcript.text.segment"
        hypothesis[Segment(seg["start"], seg["end"])] = seg["speaker"]
    der = DiarizationErrorRate()(reference, hypothesis)
    print(f"DER pyannote_ami_tst00 (bundled pipeline, from transcript segments): {der:.3f}")
    assert len(body["speakers"]) >= 2
    # scored on the transcript's speaker-labelled segments (one speaker per segment, so overlap counts as missed):
    # 0.75-0.77 with segmentation-3.0 + CAM++ (the window pipeline measured 0.80-0.82); a 5-point regression fails.
    # The turns themselves score 0.485 (tests/engines/test_segmentation_diarizer.py).
    assert der < 0.81


async def test_srt_and_vtt_label_speakers(client: httpx.AsyncClient, auth: dict[str, str], testdata: Path) -> None:
    content = (testdata / "fw_stereo_diarization.wav").read_bytes()
    srt = (await transcribe(client, auth, content, diarization=True, response_format="srt")).text
    assert "[SPEAKER_00]" in srt
    vtt = (await transcribe(client, auth, content, diarization=True, response_format="vtt")).text
    assert "<v SPEAKER_00>" in vtt
    text = (await transcribe(client, auth, content, diarization=True, response_format="text")).text
    assert text.startswith("SPEAKER_00: ")


async def test_speaker_bounds_are_validated(client: httpx.AsyncClient, auth: dict[str, str], testdata: Path) -> None:
    r = await transcribe(
        client, auth, (testdata / "jfk.flac").read_bytes(), diarization=True, min_speakers=3, max_speakers=2
    )
    assert r.status_code == 400 and r.json()["error"]["param"] == "min_speakers"
    forced = (
        await transcribe(client, auth, (testdata / "jfk.flac").read_bytes(), diarization=True, min_speakers=2)
    ).json()
    assert len(forced["speakers"]) == 2


# --- channels and media ----------------------------------------------------------------------------------------


async def test_split_channels(client: httpx.AsyncClient, auth: dict[str, str], testdata: Path) -> None:
    body = (
        await transcribe(client, auth, (testdata / "fw_stereo_diarization.wav").read_bytes(), channels="split")
    ).json()
    by_channel: dict[str, str] = {}
    for seg in body["segments"]:
        by_channel[seg["speaker"]] = (by_channel.get(seg["speaker"], "") + " " + seg["text"]).strip()
    assert wer((testdata / "fw_stereo_diarization.ch0.txt").read_text(), by_channel["SPEAKER_00"]) <= 0.2
    assert wer((testdata / "fw_stereo_diarization.ch1.txt").read_text(), by_channel["SPEAKER_01"]) <= 0.2
    mono = await transcribe(client, auth, (testdata / "leopard_test_en.wav").read_bytes(), channels="split")
    assert mono.status_code == 400 and mono.json()["error"]["param"] == "channels"


@pytest.mark.parametrize(
    ("name", "container", "codec", "rate"),
    [
        ("a.m4a", "ipod", "aac", 16000),
        ("a.webm", "webm", "libopus", 48000),
        ("a.ogg", "ogg", "libopus", 48000),
        ("a.mp3", "mp3", "libmp3lame", 44100),
        ("a.wav", "wav", "pcm_s16le", 8000),
    ],
)
async def test_media_formats(
    client: httpx.AsyncClient, auth: dict[str, str], testdata: Path, name: str, container: str, codec: str, rate: int
) -> None:
    samples = audio.decode(testdata / "jfk.flac", sample_rate=16000)
    content = media.encode_as(samples, 16000, container, codec, rate)
    r = await transcribe(client, auth, content, name)
    assert r.status_code == 200, r.text
    assert wer((testdata / "jfk.txt").read_text(), r.json()["text"]) <= 0.15


async def test_video_audio_track(client: httpx.AsyncClient, auth: dict[str, str], testdata: Path) -> None:
    samples = audio.decode(testdata / "jfk.flac", sample_rate=16000)
    r = await transcribe(client, auth, media.mp4_video(samples, 16000), "talk.mp4")
    assert r.status_code == 200, r.text
    assert wer((testdata / "jfk.txt").read_text(), r.json()["text"]) <= 0.1


# --- hallucinations --------------------------------------------------------------------------------------------


async def test_no_text_from_silence_or_noise(client: httpx.AsyncClient, auth: dict[str, str], testdata: Path) -> None:
    rng = np.random.default_rng(0)
    speech = audio.decode(testdata / "jfk.flac", sample_rate=16000)
    t = np.arange(16000 * 20) / 16000
    music = 0.2 * np.sin(2 * np.pi * 220 * t) * (1 + np.sin(2 * np.pi * 0.5 * t)) / 2
    noise = 0.02 * rng.standard_normal(16000 * 20)
    clip = np.concatenate([speech, np.zeros(16000 * 30), music, noise, speech]).astype(np.float32)
    body = (await transcribe(client, auth, audio.encode(clip, 16000, "flac"), "long.flac")).json()
    texts = [s["text"].lower().strip(" .,") for s in body["segments"]]
    assert all(texts[i] != texts[i + 1] or texts[i] != texts[i + 2] for i in range(len(texts) - 2))
    inside = [s for s in body["segments"] if s["start"] > 12.0 and s["end"] < 80.0]
    assert sum(len(s["text"].split()) for s in inside) <= 3, inside
    assert wer(" ".join([(testdata / "jfk.txt").read_text()] * 2), body["text"]) <= 0.15


# --- streaming ---------------------------------------------------------------------------------------------------


async def test_streaming_sse(live_api: str, auth: dict[str, str], testdata: Path) -> None:
    long = media.concat([testdata / "jfk.flac", testdata / "leopard_test_en.wav"], gap_seconds=1.0)
    events = []
    async with (
        httpx.AsyncClient(timeout=120) as http,
        http.stream(
            "POST",
            f"{live_api}/v1/audio/transcriptions",
            headers=auth,
            files={"file": ("talk.flac", audio.encode(long, 16000, "flac"))},
            data={"model": "whisper-base", "stream": "true"},
        ) as r,
    ):
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        async for line in r.aiter_lines():
            if line.startswith("data: "):
                events.append(json.loads(line[6:]))
    kinds = [e["type"] for e in events]
    assert kinds.count("transcript.text.delta") >= 2 and kinds[-1] == "transcript.text.done"
    streamed = "".join(e["delta"] for e in events if e["type"] == "transcript.text.delta")
    assert streamed.strip() == events[-1]["text"]
    reference = (testdata / "jfk.txt").read_text() + " " + (testdata / "leopard_test_en.txt").read_text()
    assert wer(reference, events[-1]["text"]) <= 0.1


async def test_stream_rejects_subtitle_formats(client: httpx.AsyncClient, auth: dict[str, str], testdata: Path) -> None:
    r = await transcribe(client, auth, (testdata / "jfk.flac").read_bytes(), stream=True, response_format="srt")
    assert r.status_code == 400 and r.json()["error"]["param"] == "response_format"


# --- long audio, progress and the sync budget ----------------------------------------------------------------------


def test_chunked_pipeline_matches_reference(model_dir: Path, testdata: Path, tmp_path: Path) -> None:
    """A file longer than the chunk size is cut in pauses; every clip comes back, on the file's timeline."""
    from shared.catalog import MODELS
    from workers.engines.whisper import WhisperEngine
    from workers.transcribe import STTRequest, transcribe_file

    clips = ["jfk.flac", "leopard_test_en.wav", "jfk.flac", "leopard_test_en.wav", "jfk.flac"]
    samples = media.concat([testdata / c for c in clips], gap_seconds=1.5)
    tmp = tmp_path / "long.flac"
    tmp.write_bytes(audio.encode(samples, 16000, "flac"))
    whisper = WhisperEngine.load(model_dir, MODELS["whisper-base"])
    chunks: list[int] = []

    class Counting:  # the real engine, counting the chunks it is handed
        def transcribe(self, chunk: np.ndarray, options: Any) -> Any:
            chunks.append(chunk.size)
            return whisper.transcribe(chunk, options)

    progress: list[float] = []
    result = transcribe_file(
        Counting(),
        tmp,
        STTRequest(words=True),
        expected_duration=samples.size / 16000,
        chunk_seconds=20,
        on_progress=progress.append,
    )
    assert len(chunks) >= 3 and sum(chunks) == samples.size  # every sample decoded, in several cuts
    assert result.duration == round(samples.size / 16000, 3)
    reference = " ".join((testdata / c).with_suffix(".txt").read_text() for c in clips)
    assert wer(reference, result.text) <= 0.1
    starts = [s.start for s in result.segments]
    assert starts == sorted(starts) and result.segments[-1].end <= samples.size / 16000 + 0.1
    assert progress == sorted(progress) and 0.9 < progress[-1] <= 0.99


async def test_progress_is_visible_on_the_job(client: httpx.AsyncClient, auth: dict[str, str], testdata: Path) -> None:
    samples = media.concat([testdata / "jfk.flac"] * 6, gap_seconds=1.0)
    r = await transcribe(
        client, auth, audio.encode(samples, 16000, "flac"), "long.flac", timestamps="word", **{"async": True}
    )
    assert r.status_code == 202
    job_id = r.json()["id"]
    seen: list[float] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 180
    while loop.time() < deadline:
        job = (await client.get(f"/v1/jobs/{job_id}", headers=auth)).json()
        seen.append(job["progress"])
        if job["status"] == "succeeded":
            break
        await asyncio.sleep(0.1)
    assert job["status"] == "succeeded" and seen[-1] == 1.0
    assert any(0.0 < p < 1.0 for p in seen), seen
    assert seen == sorted(seen)


async def test_sync_budget_hands_back_the_job(
    settings: Any, worker: Any, testdata: Path, make_key: Callable[[str], str]
) -> None:
    from api.main import create_app
    from api.routes.transcriptions import sync_budget

    tight = settings.model_copy(deep=True)
    tight.limits.sync_wait_seconds = 0.2
    tight.limits.sync_wait_per_audio_second = 0.0
    assert sync_budget(settings, 3600) > sync_budget(settings, 10)
    app = create_app(tight, migrate=False)
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        key = make_key("budget")
        r = await c.post(
            "/v1/audio/transcriptions",
            headers={"Authorization": f"Bearer {key}"},
            files={"file": ("jfk.flac", (testdata / "jfk.flac").read_bytes())},
            data={"model": "whisper-base"},
        )
    assert r.status_code == 202, r.text
    assert r.json()["id"].startswith("job_") and r.headers["location"].endswith(r.json()["id"])


# --- other engines on the same code paths ------------------------------------------------------------------------


def test_large_models_share_the_whisper_engine(model_dir: Path, tmp_path: Path, testdata: Path) -> None:
    from shared.catalog import MODELS
    from shared.model_store import install_from_dir
    from workers.engines import load_engine
    from workers.engines.base import TranscribeOptions

    # a CTranslate2 Whisper installed as whisper-turbo goes through the same loader and engine
    install_from_dir(MODELS["whisper-turbo"], model_dir / "whisper-tiny.en", tmp_path)
    engine = load_engine(MODELS["whisper-turbo"], tmp_path)
    segments, info = engine.transcribe(audio.decode(testdata / "jfk.flac"), TranscribeOptions())
    assert info.language == "en" and wer((testdata / "jfk.txt").read_text(), " ".join(s.text for s in segments)) < 0.2


def test_canary_loader_errors(tmp_path: Path) -> None:
    from shared.catalog import MODELS
    from workers.engines import load_engine
    from workers.engines.base import ModelNotInstalled
    from workers.engines.canary import CanaryEngine

    spec = MODELS["canary-qwen-2.5b"]
    with pytest.raises(ModelNotInstalled, match=r"s2s models install canary-qwen-2\.5b"):
        load_engine(spec, tmp_path)
    folder = tmp_path / spec.id
    folder.mkdir()
    for name in spec.required_files:
        (folder / name).write_bytes(b"{}")
    with pytest.raises(ModelNotInstalled, match=r"NeMo is not installed: pip install -e '\.\[canary\]'"):
        CanaryEngine.load(tmp_path, spec)


def test_pyannote_loader_and_fallback(tmp_path: Path) -> None:
    from workers.engines.base import ModelNotInstalled
    from workers.engines.diarize import PyannoteDiarizer, load_diarizer
    from workers.engines.segmentation_diarizer import SegmentationDiarizer

    assert not PyannoteDiarizer.available(tmp_path)
    with pytest.raises(ModelNotInstalled, match="No pyannote pipeline"):
        PyannoteDiarizer.load(tmp_path)
    (tmp_path / "pyannote-diarization").mkdir()
    (tmp_path / "pyannote-diarization" / "config.yaml").write_text("pipeline:\n  name: x\n")
    assert PyannoteDiarizer.available(tmp_path)
    with pytest.raises(ModelNotInstalled, match=r"pyannote\.audio is not"):
        PyannoteDiarizer.load(tmp_path)
    assert isinstance(load_diarizer(tmp_path), SegmentationDiarizer)  # the bundled models, when pyannote fails


async def test_rttm_carries_the_diarization_turns(
    client: httpx.AsyncClient, auth: dict[str, str], testdata: Path
) -> None:
    """response_format=rttm (implies diarization): NIST RTTM lines of the turns heard in the audio, scored with
    pyannote.metrics like any diarization system's output."""
    from pyannote.core import Annotation, Segment
    from pyannote.metrics.diarization import DiarizationErrorRate

    r = await transcribe(client, auth, (testdata / "pyannote_ami_tst00.wav").read_bytes(), response_format="rttm")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    lines = [line.split() for line in r.text.splitlines()]
    assert lines and all(p[0] == "SPEAKER" and len(p) == 10 and p[1] == "a" for p in lines)
    hypothesis, reference = Annotation(), Annotation()
    for p in lines:
        hypothesis[Segment(float(p[3]), float(p[3]) + float(p[4]))] = p[7]
    for line in (testdata / "pyannote_ami_tst00.rttm").read_text().splitlines():
        p = line.split()
        reference[Segment(float(p[3]), float(p[3]) + float(p[4]))] = p[7]
    der = DiarizationErrorRate(collar=0.25)(reference, hypothesis, uem=Segment(0, 30))
    assert len({p[7] for p in lines}) == 4 and der < 0.53  # the turns, overlaps included (0.485 measured)
    again = await client.get(f"/v1/jobs/{r.headers['x-job-id']}/result?response_format=rttm", headers=auth)
    assert again.text == r.text


def test_language_is_voted_over_windows_of_the_whole_speech(model_dir: Path, testdata: Path) -> None:
    """33 s of English, then 70 s of Spanish: Whisper alone reads the first 30 s and says English; the engine's
    detection votes over windows spread over the speech, and says Spanish with an honest probability."""
    import numpy as np

    from shared import audio
    from shared.catalog import MODELS
    from workers.engines.whisper import WhisperEngine

    engine = WhisperEngine.load(model_dir, MODELS["whisper-base"])
    english = audio.decode(str(testdata / "jfk.flac"), sample_rate=16000)
    spanish = audio.decode(str(testdata / "leopard_test_es.wav"), sample_rate=16000)
    mixed = np.concatenate([english] * 3 + [spanish] * 8).astype(np.float32)
    first, _, _ = engine.model.detect_language(audio=mixed)
    assert first == "en"  # what the first window alone says
    language, probability = engine.detect_language(mixed)
    assert language == "es" and 0.5 < probability < 0.95  # a majority, not a certainty


async def test_diarization_route_gives_turns_without_a_transcript(
    client: httpx.AsyncClient, auth: dict[str, str], testdata: Path
) -> None:
    content = (testdata / "pyannote_ami_tst00.wav").read_bytes()
    r = await client.post(
        "/v1/audio/diarization", headers=auth, files={"file": ("tst00.wav", content)}, data={"model": "whisper-base"}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["duration"] == pytest.approx(30.0, abs=0.05) and body["diarization"].startswith("segmentation")
    assert len(body["speakers"]) == 4 and len({t["speaker"] for t in body["turns"]}) == 4
    assert all(0 <= t["start"] < t["end"] <= 30.05 for t in body["turns"])
    job = (await client.get(f"/v1/jobs/{r.headers['x-job-id']}", headers=auth)).json()
    assert job["result"]["text"] == "" and job["result"]["segments"] == []  # no text was decoded
    rttm = await client.post(
        "/v1/audio/diarization",
        headers=auth,
        files={"file": ("tst00.wav", content)},
        data={"response_format": "rttm", "num_speakers": "2"},
    )
    lines = [line.split() for line in rttm.text.splitlines()]
    assert (
        rttm.status_code == 200
        and {p[1] for p in lines} == {"tst00"}
        and {p[7] for p in lines}
        == {
            "SPEAKER_00",
            "SPEAKER_01",
        }
    )
    bad = await client.post("/v1/audio/diarization", headers=auth, files={"file": ("x.wav", b"RIFF")})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_audio"
    again = await client.get(f"/v1/jobs/{r.headers['x-job-id']}/result", headers=auth)
    assert again.json()["turns"] == body["turns"]


async def test_known_speakers_are_named(client: httpx.AsyncClient, auth: dict[str, str], testdata: Path) -> None:
    """A voice of the library (cloned from one half of a recording) names the speaker who sounds like it in
    another recording (the other half, then a different person); the other speaker keeps SPEAKER_NN."""
    import numpy as np

    from shared import audio

    kennedy = audio.decode(str(testdata / "jfk.flac"), sample_rate=16000)
    other = audio.decode(str(testdata / "leopard_test_en.wav"), sample_rate=16000)
    half = kennedy.size // 2
    voice = await client.post(
        "/v1/voices/clone",
        headers=auth,
        files={"file": ("ref.wav", audio.encode(kennedy[:half], 16000, "wav"))},
        data={"name": "Kennedy", "model": "piper", "consent": "true"},
    )
    assert voice.status_code == 200, voice.text
    mixed = np.concatenate([kennedy[half:], np.zeros(16000, dtype=np.float32), other])
    body = audio.encode(mixed, 16000, "wav")
    r = await client.post(
        "/v1/audio/diarization",
        headers=auth,
        files={"file": ("two.wav", body)},
        data={"known_speakers": voice.json()["id"]},
    )
    assert r.status_code == 200, r.text
    turns = r.json()["turns"]
    names = {t["speaker"] for t in turns}
    assert "Kennedy" in names and len(names) == 2 and any(n.startswith("SPEAKER_") for n in names)
    kennedy_end = (kennedy.size - half) / 16000
    spoken = [t for t in turns if t["speaker"] == "Kennedy"]
    assert sum(max(0, min(t["end"], kennedy_end) - t["start"]) for t in spoken) > 0.8 * sum(
        t["end"] - t["start"] for t in spoken
    )  # Kennedy's turns lie in his part
    text = await transcribe(client, auth, body, name="two.wav", known_speakers=voice.json()["id"], timestamps="word")
    labelled = text.json()
    assert "Kennedy" in {s["id"] for s in labelled["speakers"]}
    assert any(s.get("speaker") == "Kennedy" and "country" in s["text"].lower() for s in labelled["segments"])
    missing = await transcribe(client, auth, body, known_speakers="voice_doesnotexist")
    assert missing.status_code == 404 and missing.json()["error"]["param"] == "known_speakers"


async def test_known_speaker_references_are_checked(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    import base64

    import numpy as np

    from shared import audio

    tone = audio.encode(np.zeros(8000, dtype=np.float32), 16000, "wav")  # 0.5 s: too short to recognise anyone
    body = audio.encode(np.zeros(32000, dtype=np.float32), 16000, "wav")

    async def send(names: list[str], references: list[str]) -> httpx.Response:
        form = {"model": "whisper-base", "known_speaker_names[]": names, "known_speaker_references[]": references}
        return await client.post("/v1/audio/transcriptions", headers=auth, files={"file": ("a.wav", body)}, data=form)

    url = "data:audio/wav;base64," + base64.b64encode(tone).decode()
    cases = [
        (["Ann", "Bob"], [url], "one reference recording per name"),
        (["Ann"], ["https://example.com/ann.wav"], "base64 data URL"),
        (["Ann"], ["data:audio/wav;base64,@@@"], "not valid base64"),
        (["Ann"], ["data:audio/wav;base64," + base64.b64encode(b"not audio at all").decode()], "not usable audio"),
        (["Ann"], [url], "lasts 0.5 s"),
    ]
    for names, references, message in cases:
        r = await send(names, references)
        assert r.status_code == 400, r.text
        assert message in r.json()["error"]["message"] and r.json()["error"]["param"] == "known_speaker_references[]"


def test_chinese_text_follows_the_requested_script() -> None:
    from shared.transcripts import Segment, Word
    from workers.transcribe import _convert_script

    def segments() -> list[Segment]:
        return [Segment(id=0, start=0, end=1, text="漢字簡化 汉字", words=[Word(start=0, end=1, word="漢字")])]

    simplified = segments()
    _convert_script(simplified, "simplified")
    assert simplified[0].text == "汉字简化 汉字" and simplified[0].words and simplified[0].words[0].word == "汉字"
    traditional = segments()
    _convert_script(traditional, "traditional")
    assert traditional[0].text == "漢字簡化 漢字"


async def test_chinese_script_defaults_from_the_language_region(
    client: httpx.AsyncClient, auth: dict[str, str], testdata: Path, settings: object
) -> None:
    from shared.db.models import Job
    from shared.db.session import session_scope
    from shared.jobkinds.transcription import TranscriptionJob

    content = (testdata / "jfk.flac").read_bytes()
    scripts = {}
    for language, script in (("zh-TW", None), ("zh", None), ("zh", "traditional")):
        data = {"language": language, "async": True, **({"chinese_script": script} if script else {})}
        r = await transcribe(client, auth, content, **data)
        assert r.status_code == 202, r.text
        with session_scope(settings.sync_database_url) as session:  # type: ignore[attr-defined]
            job = session.get(Job, r.json()["id"])
            assert job is not None
            stored = TranscriptionJob.model_validate(job.request)
        scripts[(language, script)] = (stored.language, stored.chinese_script)
    assert scripts == {
        ("zh-TW", None): ("zh", "traditional"),
        ("zh", None): ("zh", "simplified"),
        ("zh", "traditional"): ("zh", "traditional"),
    }


async def test_coverage_of_the_detected_speech_is_reported(
    client: httpx.AsyncClient, auth: dict[str, str], testdata: Path
) -> None:
    from shared.transcripts import Segment
    from workers.transcribe import _uncovered

    spans = [Segment(id=0, start=10.5, end=12.0, text="a")]
    assert _uncovered([(0.0, 1.0), (1.5, 3.0), (4.0, 6.0)], spans, offset=10.0) == [(4.0, 6.0)]
    body = (await transcribe(client, auth, (testdata / "jfk.flac").read_bytes(), response_format="verbose_json")).json()
    assert 0.9 <= body["coverage"] <= 1.0  # clean speech: every VAD region has its words


def test_long_speech_is_decoded_in_batches_with_sentence_segments(
    model_dir: Path, testdata: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import numpy as np

    import workers.engines.whisper as whisper
    from shared import audio
    from shared.catalog import MODELS
    from workers.engines.base import TranscribeOptions
    from workers.speech_map import WHISPER, SpeechMap

    assert whisper.clips_of([(0.0, 10.0), (11.0, 25.0), (26.0, 40.0), (41.0, 105.0)]) == [
        {"start": 0.0, "end": 25.0},
        {"start": 26.0, "end": 40.0},
        {"start": 41.0, "end": 71.0},
        {"start": 71.0, "end": 101.0},
        {"start": 101.0, "end": 105.0},
    ]
    engine = whisper.WhisperEngine.load(model_dir, MODELS["whisper-base"])
    jfk = audio.decode(str(testdata / "jfk.flac"), sample_rate=16000)
    samples = np.concatenate([jfk, np.zeros(16000, dtype=np.float32)] * 6)
    speech = SpeechMap.of(samples).view(WHISPER)
    monkeypatch.setattr(whisper, "BATCHED_MIN_SECONDS", 30.0)
    calls: list[int] = []
    original = engine.batched

    def spy() -> object:
        calls.append(1)
        return original()

    monkeypatch.setattr(engine, "batched", spy)
    segments, info = engine.transcribe(samples, TranscribeOptions(language="en", speech=speech))
    segments = list(segments)
    assert calls and info.language == "en"
    assert len(segments) >= 6 and all(s.words is None for s in segments)  # sentences, and no words unasked
    assert all(a.end <= b.start + 0.01 for a, b in itertools.pairwise(segments))
    reference = " ".join([(testdata / "jfk.txt").read_text().strip()] * 6)
    assert wer(reference, " ".join(s.text for s in segments)) <= 0.1
