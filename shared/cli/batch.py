"""`s2s batch`: submit a batch (a JSONL file, a folder of audio, or a text file), follow it, download it, cancel it.

- a `.jsonl` file is sent as it is (OpenAI's `{custom_id, method, url, body}` lines, or `{custom_id, body}`);
- a folder: every audio file in it (recursively) is uploaded (purpose `audio`) and transcribed, one item per file,
  its custom_id the file's path relative to the folder;
- any other file: one speech item per non-empty line, custom_id `line-<n>`.
The batch input always travels as a JSONL file (`POST /v1/files`), so batches of tens of thousands of lines work.
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from shared.cli.client import ApiKeyOption, BaseUrlOption, _client, _fail, _print_json, _progress, err

if TYPE_CHECKING:
    from speechtospeechai import Batch, Client

batch_app = typer.Typer(help="Batches on a server: submit, status, wait, download, cancel.", no_args_is_help=True)

AUDIO_SUFFIXES = {".wav", ".mp3", ".flac", ".ogg", ".opus", ".m4a", ".aac", ".webm", ".mp4", ".mkv", ".mov", ".wma"}
SPEECH, TRANSCRIPTIONS = "/v1/audio/speech", "/v1/audio/transcriptions"
BatchIdArgument = Annotated[str, typer.Argument(help="Batch id (batch_...).")]


def _jsonl_endpoint(path: Path) -> str:
    """The endpoint a JSONL file's first line names (`url`), else speech."""
    with path.open("rb") as fh:
        for raw in fh:
            if raw.strip():
                try:
                    url = json.loads(raw).get("url")
                except (ValueError, AttributeError):
                    return SPEECH
                return str(url) if url else SPEECH
    return SPEECH


def _speech_lines(path: Path, body: dict[str, Any]) -> bytes:
    out = io.StringIO()
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if text.strip():
            line = {"custom_id": f"line-{number}", "method": "POST", "url": SPEECH, "body": {**body, "input": text}}
            out.write(json.dumps(line) + "\n")
    return out.getvalue().encode()


def _audio_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES)


def _transcription_lines(client: Client, folder: Path, body: dict[str, Any]) -> bytes:
    files = _audio_files(folder)
    if not files:
        raise _fail(f"No audio files in {folder} (looked for {', '.join(sorted(AUDIO_SUFFIXES))}).")
    out = io.StringIO()
    with _progress(transfer=True) as progress:
        task = progress.add_task(f"Uploading {len(files)} audio files", total=sum(p.stat().st_size for p in files))
        for path in files:
            uploaded = client.files.create(file=path, purpose="audio")
            progress.advance(task, path.stat().st_size)
            custom_id = str(path.relative_to(folder))
            line = {
                "custom_id": custom_id,
                "method": "POST",
                "url": TRANSCRIPTIONS,
                "body": {**body, "file_id": uploaded.id},
            }
            out.write(json.dumps(line) + "\n")
    return out.getvalue().encode()


def _follow(client: Client, batch: Batch, timeout: float | None) -> Batch:
    with _progress() as progress:
        counts = batch.request_counts
        task = progress.add_task(f"Batch {batch.id}", total=max(counts.total, 1))

        def show(current: Batch) -> None:
            c = current.request_counts
            progress.update(
                task,
                completed=c.completed + c.failed + c.canceled,
                description=f"Batch {current.id} ({current.status}: {c.completed} done, {c.failed} failed, "
                f"{c.running} running)",
            )

        return client.batches.wait(batch.id, timeout=timeout, poll_interval=1.0, on_progress=show)


def _download(client: Client, batch_id: str, output: Path) -> None:
    got = client.batches.download(batch_id, output)
    written = [p for p in (got.output, got.errors) if p is not None]
    err.print(f"Wrote {len(written)} JSONL file(s) and {len(got.audio)} audio file(s) to {escape(str(output))}")


def _summary(batch: Batch) -> None:
    c = batch.request_counts
    err.print(f"Batch {batch.id}: {batch.status}; {c.completed} completed, {c.failed} failed of {c.total}")
    for error in (batch.errors.data if batch.errors else [])[:10]:
        err.print(f"  line {error.line}: {escape(error.message)} [{error.code}]")


@batch_app.command("submit")
def submit(
    source: Annotated[
        Path, typer.Argument(exists=True, readable=True, help="A .jsonl file, a folder of audio, or a text file.")
    ],
    model: Annotated[str | None, typer.Option(help="Model for a folder (STT) or a text file (TTS).")] = None,
    voice: Annotated[str, typer.Option(help="Voice for a text file's lines.")] = "joe",
    audio_format: Annotated[str, typer.Option("--format", "-f", help="Audio format of a text file's lines.")] = "mp3",
    language: Annotated[str | None, typer.Option(help="Language code of the items.")] = None,
    diarize: Annotated[bool, typer.Option("--diarize", help="Folder of audio: label speakers.")] = False,
    concurrency: Annotated[int | None, typer.Option(min=1, help="Items of this batch running at once.")] = None,
    window: Annotated[str, typer.Option("--completion-window", help="e.g. 24h, 90m: pending items expire.")] = "24h",
    webhook_url: Annotated[str | None, typer.Option(help="Also send the batch.* event here.")] = None,
    wait: Annotated[bool, typer.Option("--wait", help="Follow it until it ends, with a progress bar.")] = False,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="With --wait: download the results here.")
    ] = None,
    base_url: BaseUrlOption = None,
    api_key: ApiKeyOption = None,
) -> None:
    """Submit a batch; print its id (and, with --wait, follow it to the end)."""
    with _client(base_url, api_key) as client:
        common = {k: v for k, v in {"model": model, "language": language}.items() if v is not None}
        if source.is_dir():
            endpoint = TRANSCRIPTIONS
            data = _transcription_lines(client, source, {**common, **({"diarization": True} if diarize else {})})
        elif source.suffix.lower() == ".jsonl":
            endpoint, data = _jsonl_endpoint(source), source.read_bytes()
        else:
            endpoint = SPEECH
            data = _speech_lines(source, {"model": model or "piper", "voice": voice, "format": audio_format, **common})
            if not data:
                raise _fail(f"{source} has no lines to speak.")
        uploaded = client.files.create(file=(f"{source.stem}.jsonl", data), purpose="batch")
        batch = client.batches.create(
            endpoint=endpoint,  # type: ignore[arg-type]
            input_file_id=uploaded.id,
            completion_window=window,
            max_concurrency=concurrency,
            webhook_url=webhook_url,
        )
        _summary(batch)
        sys.stdout.write(batch.id + "\n")
        sys.stdout.flush()
        if wait or output is not None:
            done = _follow(client, batch, None)
            _summary(done)
            if output is not None:
                _download(client, batch.id, output)
            if done.status != "completed":
                raise typer.Exit(1)


@batch_app.command("status")
def status(batch_id: BatchIdArgument, base_url: BaseUrlOption = None, api_key: ApiKeyOption = None) -> None:
    """Print a batch as JSON: status, request counts, files."""
    with _client(base_url, api_key) as client:
        _print_json(client.batches.retrieve(batch_id).model_dump_json(indent=2, exclude_none=True))


@batch_app.command("wait")
def wait_batch(
    batch_id: BatchIdArgument,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Download the results here.")] = None,
    timeout: Annotated[float | None, typer.Option(help="Give up after this many seconds (it keeps running).")] = None,
    base_url: BaseUrlOption = None,
    api_key: ApiKeyOption = None,
) -> None:
    """Follow a batch with a progress bar until it ends (exit 1 unless it completed)."""
    with _client(base_url, api_key) as client:
        done = _follow(client, client.batches.retrieve(batch_id), timeout)
        _summary(done)
        if output is not None and done.status == "completed":
            _download(client, batch_id, output)
    _print_json(done.model_dump_json(indent=2, exclude_none=True))
    if done.status != "completed":
        raise typer.Exit(1)


@batch_app.command("download")
def download(
    batch_id: BatchIdArgument,
    output: Annotated[Path, typer.Argument(help="Folder for output.jsonl, errors.jsonl and the audio.")],
    no_audio: Annotated[bool, typer.Option("--no-audio", help="Only the JSONL files.")] = False,
    base_url: BaseUrlOption = None,
    api_key: ApiKeyOption = None,
) -> None:
    """Download a batch's output and error files and, for speech, each item's audio as <custom_id>.<format>."""
    with _client(base_url, api_key) as client:
        got = client.batches.download(batch_id, output, audio=not no_audio)
    written = [p for p in (got.output, got.errors) if p is not None]
    err.print(f"Wrote {len(written)} JSONL file(s) and {len(got.audio)} audio file(s) to {escape(str(output))}")


@batch_app.command("cancel")
def cancel(batch_id: BatchIdArgument, base_url: BaseUrlOption = None, api_key: ApiKeyOption = None) -> None:
    """Cancel a batch: queued items are refunded, running ones stopped."""
    with _client(base_url, api_key) as client:
        _print_json(client.batches.cancel(batch_id).model_dump_json(indent=2, exclude_none=True))


@batch_app.command("list")
def list_batches(
    limit: Annotated[int, typer.Option(min=1, max=100)] = 20,
    after: Annotated[str | None, typer.Option(help="The last id of the previous page.")] = None,
    base_url: BaseUrlOption = None,
    api_key: ApiKeyOption = None,
) -> None:
    """List batches, newest first."""
    with _client(base_url, api_key) as client:
        page = client.batches.list(limit=limit, after=after)
    for b in page.data:
        c = b.request_counts
        sys.stdout.write(f"{b.id}  {b.endpoint:26}  {b.status:11}  {c.completed}/{c.total} ({c.failed} failed)\n")
    if page.has_more:
        err.print(f"more: s2s batch list --after {page.last_id}")
