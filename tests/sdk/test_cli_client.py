"""The `s2s` client commands as a user runs them: subprocesses configured by S2S_BASE_URL / S2S_API_KEY, talking
to the real server."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from speechtospeechai import Client

from shared import audio
from tests.conversations import conversation
from tests.sdk.live import probe_bytes
from tests.services import ROOT
from tests.text import wer

pytestmark = pytest.mark.integration

S2S = Callable[..., subprocess.CompletedProcess[bytes]]


@pytest.fixture(scope="module")
def s2s(live_api: str, api_key: str) -> S2S:
    def run(
        *args: str, env: dict[str, str] | None = None, stdin: bytes | None = None
    ) -> subprocess.CompletedProcess[bytes]:
        environment = {**os.environ, "S2S_BASE_URL": live_api, "S2S_API_KEY": api_key, "COLUMNS": "200"}
        environment.update(env or {})
        return subprocess.run(
            [sys.executable, "-m", "shared.cli.main", *args],
            cwd=ROOT,
            env=environment,
            input=stdin,
            capture_output=True,
            timeout=300,
        )

    return run


def test_speak_writes_audio_in_the_format_of_the_file_name(s2s: S2S, tmp_path: Path) -> None:
    target = tmp_path / "hello.wav"
    done = s2s("speak", "Hello from the command line.", "-o", str(target), "--speed", "1.1")
    assert done.returncode == 0, done.stderr.decode()
    info = probe_bytes(target.read_bytes())
    assert info.container == "wav" and info.duration > 1.0
    assert f"Wrote {target}" in done.stderr.decode()


def test_speak_to_stdout_with_options(s2s: S2S) -> None:
    done = s2s("speak", "-", "-o", "-", "--format", "flac", "--emotion", "neutral", stdin=b"Piped in, piped out.")
    assert done.returncode == 0, done.stderr.decode()
    assert probe_bytes(done.stdout).codec == "flac"


def test_transcribe_prints_the_text(s2s: S2S, testdata: Path) -> None:
    # as at a terminal: the upload and job progress bars are drawn on stderr; stdout holds only the text
    terminal = {"TTY_COMPATIBLE": "1", "TTY_INTERACTIVE": "1"}
    done = s2s("transcribe", str(testdata / "jfk.flac"), "--model", "whisper-base", "--language", "en", env=terminal)
    assert done.returncode == 0, done.stderr.decode()
    assert wer((testdata / "jfk.txt").read_text(), done.stdout.decode()) <= 0.1
    assert "Transcribing with whisper-base" in done.stderr.decode()


def test_translate_prints_english(s2s: S2S, testdata: Path) -> None:
    done = s2s("translate", str(testdata / "leopard_test_de.wav"))
    assert done.returncode == 0, done.stderr.decode()
    words = set(done.stdout.decode().lower().replace(".", " ").split())
    assert {"the", "room"} & words and not {"der", "raum"} & words


def test_transcribe_json_with_word_timestamps(s2s: S2S, testdata: Path, tmp_path: Path) -> None:
    out = tmp_path / "jfk.json"
    done = s2s(
        "transcribe", str(testdata / "jfk.flac"), "--timestamps", "word", "--format", "json", "-o", str(out),
        "--model", "whisper-tiny.en",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr.decode()
    transcript = json.loads(out.read_text())
    assert transcript["language"] == "en" and transcript["segments"] and len(transcript["words"]) >= 15


def test_transcribe_srt(s2s: S2S, testdata: Path) -> None:
    done = s2s("transcribe", str(testdata / "leopard_test_en.wav"), "--model", "whisper-tiny.en", "-f", "srt")
    assert done.returncode == 0, done.stderr.decode()
    assert re.match(r"1\n00:00:0\d,\d{3} --> 00:00:0\d,\d{3}\nMr\.? Quilter", done.stdout.decode()), done.stdout


def test_errors_print_the_servers_message_and_exit_1(s2s: S2S, tmp_path: Path) -> None:
    not_installed = s2s(
        "speak", "Hello!", "--model", "fish-speech-v1.5", "--voice", "nova", "-o", str(tmp_path / "x.mp3")
    )
    assert not_installed.returncode == 1
    stderr = not_installed.stderr.decode()
    assert "not installed" in stderr and "pip install -e '.[fish-speech]'" in stderr and "model_not_installed" in stderr
    assert not_installed.stdout == b""

    no_voice = s2s("speak", "Hello!", "--voice", "nobody", "-o", str(tmp_path / "y.mp3"))
    assert no_voice.returncode == 1 and "Voice 'nobody' does not exist" in no_voice.stderr.decode()

    bad_key = s2s("jobs", "get", "job_x", env={"S2S_API_KEY": "s2s-wrong"})
    assert bad_key.returncode == 1 and "invalid_api_key" in bad_key.stderr.decode()

    no_server = s2s("jobs", "get", "job_x", "--base-url", "http://127.0.0.1:9")
    assert no_server.returncode == 1 and "Could not reach the API" in no_server.stderr.decode()


def test_jobs_get_wait_and_cancel(s2s: S2S, live_api: str, api_key: str, tmp_path: Path) -> None:
    with Client(api_key=api_key, base_url=live_api) as client:
        job = client.audio.speech.create(model="piper", voice="joe", input="Waiting from the shell.", wait=False)
    out = tmp_path / "job.mp3"
    waited = s2s("jobs", "wait", job.id, "-o", str(out), "--timeout", "120")
    assert waited.returncode == 0, waited.stderr.decode()
    assert json.loads(waited.stdout)["status"] == "succeeded"
    assert probe_bytes(out.read_bytes()).container == "mp3"

    # options instead of the environment
    got = s2s("jobs", "get", job.id, "--base-url", live_api, "--api-key", api_key, env={"S2S_API_KEY": ""})
    assert got.returncode == 0, got.stderr.decode()
    assert json.loads(got.stdout)["id"] == job.id

    canceled = s2s("jobs", "cancel", job.id)
    assert canceled.returncode == 0 and "already ended" in canceled.stderr.decode()

    missing = s2s("jobs", "wait", "job_doesnotexist")
    assert missing.returncode == 1 and "does not exist" in missing.stderr.decode()


def test_jobs_wait_exits_1_for_a_canceled_job(s2s: S2S, live_api: str, api_key: str, testdata: Path) -> None:
    with Client(api_key=api_key, base_url=live_api) as client:
        busy = client.audio.transcriptions.create(file=testdata / "jfk.flac", wait=False)
        queued = client.audio.transcriptions.create(file=testdata / "jfk.flac", wait=False)
        client.jobs.cancel(queued.id)
        waited = s2s("jobs", "wait", queued.id)
        assert waited.returncode == 1
        assert json.loads(waited.stdout)["status"] == "canceled" and "canceled" in waited.stderr.decode()
        client.jobs.wait(busy.id, timeout=120)


def test_clone_prints_the_new_voice_id(s2s: S2S, live_api: str, api_key: str, testdata: Path) -> None:
    done = s2s("clone", "--name", "CLI voice", str(testdata / "leopard_test_en.wav"), "--model", "piper", "--consent")
    assert done.returncode == 0, done.stderr.decode()
    voice_id = done.stdout.decode().strip().splitlines()[-1]
    assert voice_id.startswith("voice_")
    with Client(api_key=api_key, base_url=live_api) as client:
        client.voices.delete(voice_id)


def test_without_the_sdk_the_client_commands_say_how_to_install_it() -> None:
    code = "import sys; sys.modules['speechtospeechai'] = None; from shared.cli.main import app; app()"
    done = subprocess.run(
        [sys.executable, "-c", code, "speak", "hi"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1 and "pip install speechtospeechai" in done.stderr
    server_side = subprocess.run(
        [sys.executable, "-c", code, "models", "list"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert server_side.returncode == 0 and "whisper-base" in server_side.stdout


def test_without_a_key_the_local_one_is_used(s2s: S2S, api_key: str, tmp_path: Path) -> None:
    """As after `make run`: no S2S_API_KEY, the key `s2s run` keeps in its data dir."""
    (tmp_path / "local-api-key").write_text(api_key + "\n")
    done = s2s("jobs", "list", "--limit", "2", env={"S2S_API_KEY": "", "DATA_DIR": str(tmp_path)})
    assert done.returncode == 0, done.stderr.decode()
    lines = done.stdout.decode().splitlines()
    assert len(lines) == 2 and all(line.startswith("job_") for line in lines)
    assert "more: s2s jobs list --after job_" in done.stderr.decode()
    nextpage = s2s("jobs", "list", "--limit", "2", "--after", lines[-1].split()[0])
    assert nextpage.returncode == 0 and set(nextpage.stdout.decode().splitlines()).isdisjoint(lines)


def test_voices_list_shows_presets(s2s: S2S) -> None:
    done = s2s("voices", "list")
    assert done.returncode == 0, done.stderr.decode()
    assert any(line.startswith("joe") and "preset" in line for line in done.stdout.decode().splitlines())


def test_an_output_name_that_is_not_the_format_is_refused(s2s: S2S, tmp_path: Path) -> None:
    wrong = s2s("speak", "Hello.", "-o", str(tmp_path / "out.xyz"))
    assert wrong.returncode == 1 and "does not end in an audio format" in wrong.stderr.decode()
    clash = s2s("speak", "Hello.", "-o", str(tmp_path / "out.wav"), "--format", "mp3")
    assert clash.returncode == 1 and "make them agree" in clash.stderr.decode()
    assert not (tmp_path / "out.xyz").exists() and not (tmp_path / "out.wav").exists()


def test_install_hints_keep_their_extras(s2s: S2S, tmp_path: Path) -> None:
    done = s2s("models", "install", "fish-speech-v1.5", env={"MODEL_DIR": str(tmp_path)})
    assert done.returncode == 1
    assert "pip install -e '.[fish-speech]'" in done.stderr.decode().replace("\n", "")


def test_batch_from_a_text_file_and_from_a_folder_of_audio(s2s: S2S, testdata: Path, tmp_path: Path) -> None:
    lines = tmp_path / "lines.txt"
    lines.write_text("First line to speak.\n\nSecond line to speak.\n")
    out = tmp_path / "speech"
    done = s2s("batch", "submit", str(lines), "--format", "wav", "--wait", "-o", str(out))
    assert done.returncode == 0, done.stderr.decode()
    batch_id = done.stdout.decode().strip().splitlines()[0]
    assert batch_id.startswith("batch_") and "2 completed, 0 failed of 2" in done.stderr.decode()
    assert sorted(p.name for p in out.glob("*.wav")) == ["line-1.wav", "line-3.wav"]
    assert all(probe_bytes(p.read_bytes()).duration > 0.5 for p in out.glob("*.wav"))

    status = json.loads(s2s("batch", "status", batch_id).stdout)
    assert status["status"] == "completed" and status["request_counts"]["total"] == 2
    assert batch_id in s2s("batch", "list").stdout.decode()

    folder = tmp_path / "audio"
    (folder / "nested").mkdir(parents=True)
    (folder / "nested" / "jfk.flac").write_bytes((testdata / "jfk.flac").read_bytes())
    (folder / "notes.txt").write_text("not audio")
    done = s2s("batch", "submit", str(folder), "--model", "whisper-tiny.en")
    assert done.returncode == 0, done.stderr.decode()
    stt_id = done.stdout.decode().strip()
    waited = s2s("batch", "wait", stt_id, "-o", str(tmp_path / "stt"))
    assert waited.returncode == 0, waited.stderr.decode()
    output = [json.loads(x) for x in (tmp_path / "stt" / "output.jsonl").read_text().splitlines()]
    assert [o["custom_id"] for o in output] == ["nested/jfk.flac"]
    assert wer(output[0]["response"]["body"]["text"], (testdata / "jfk.txt").read_text()) < 0.2

    canceled = s2s("batch", "cancel", "batch_nope")
    assert canceled.returncode == 1 and "does not exist" in canceled.stderr.decode()


def test_transcribe_speaker_bounds(s2s: S2S, tmp_path: Path) -> None:
    """--min-speakers / --max-speakers reach the diarizer: the two-voice conversation, bounded to 1 and to 3."""
    samples, _ = conversation("conversation_2spk")
    clip = tmp_path / "two.wav"
    clip.write_bytes(audio.encode(samples, 16000, "wav"))
    found: dict[str, set[str]] = {}
    for bound in ("--max-speakers", "--min-speakers"):
        value = "1" if bound == "--max-speakers" else "3"
        done = s2s("transcribe", str(clip), "--model", "whisper-tiny.en", "--diarize", bound, value, "-f", "rttm")
        assert done.returncode == 0, done.stderr.decode()
        found[bound] = {line.split()[7] for line in done.stdout.decode().splitlines() if line.startswith("SPEAKER")}
    assert len(found["--max-speakers"]) == 1 and len(found["--min-speakers"]) == 3, found
