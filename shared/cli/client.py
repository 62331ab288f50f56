"""The client side of `s2s`: speak, transcribe, convert (speech to speech), clone, jobs and voices, talking to a
server through the Python SDK.

The SDK (`speechtospeechai`) is imported inside the commands, so the server commands work without it; the server
URL and key come from --base-url / --api-key or S2S_BASE_URL / S2S_API_KEY, and without a key, the one `s2s run`
keeps in its data dir (DATA_DIR/local-api-key). Progress goes to stderr, results to stdout (or the output file),
and any error prints the server's message to stderr and exits 1.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable, Iterator
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, BinaryIO, Literal, cast

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    SpinnerColumn,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)

if TYPE_CHECKING:
    from speechtospeechai import Client, Job
    from speechtospeechai import types as sdk


class AudioFormat(StrEnum):
    mp3 = "mp3"
    wav = "wav"
    ogg = "ogg"
    flac = "flac"
    opus = "opus"
    aac = "aac"
    pcm = "pcm"


class Emotion(StrEnum):
    neutral = "neutral"
    happy = "happy"
    sad = "sad"
    angry = "angry"


class Granularity(StrEnum):
    word = "word"
    segment = "segment"


class TranscriptFormat(StrEnum):
    text = "text"
    json = "json"
    verbose_json = "verbose_json"
    diarized_json = "diarized_json"
    srt = "srt"
    vtt = "vtt"
    rttm = "rttm"


class TranslationFormat(StrEnum):
    text = "text"
    json = "json"
    verbose_json = "verbose_json"
    srt = "srt"
    vtt = "vtt"


SDK_MISSING = (
    "The client commands need the Python SDK: pip install speechtospeechai "
    "(from a checkout of this repository: pip install -e sdk/python)."
)

err = Console(stderr=True, highlight=False, soft_wrap=True)

BaseUrlOption = Annotated[
    str | None,
    typer.Option(
        "--base-url", envvar="S2S_BASE_URL", show_envvar=True, help="API URL (default http://127.0.0.1:8000/v1)."
    ),
]
ApiKeyOption = Annotated[
    str | None, typer.Option("--api-key", envvar="S2S_API_KEY", show_envvar=True, help="API key (`s2s keys create`).")
]
MinSpeakersOption = Annotated[
    int | None, typer.Option("--min-speakers", min=1, max=32, help="At least this many speakers (with diarization).")
]
MaxSpeakersOption = Annotated[
    int | None, typer.Option("--max-speakers", min=1, max=32, help="At most this many speakers (with diarization).")
]

jobs_app = typer.Typer(help="Background jobs on a server: list, state, progress, result, cancel.", no_args_is_help=True)
voices_app = typer.Typer(help="Cloned and preset voices on a server.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add the client commands to the `s2s` application."""
    panel = "Client (talks to a running server)"
    app.command(rich_help_panel=panel)(speak)
    app.command(rich_help_panel=panel)(transcribe)
    app.command(rich_help_panel=panel)(translate)
    app.command(rich_help_panel=panel)(convert)
    app.command(rich_help_panel=panel)(clone)
    app.add_typer(jobs_app, name="jobs", rich_help_panel=panel)
    app.add_typer(voices_app, name="voices", rich_help_panel=panel)
    from shared.cli.batch import batch_app

    app.add_typer(batch_app, name="batch", rich_help_panel=panel)


def _fail(message: str) -> typer.Exit:
    err.print(f"[red]Error:[/] {escape(message)}")
    return typer.Exit(1)


@contextlib.contextmanager
def _client(base_url: str | None, api_key: str | None) -> Iterator[Client]:
    """An SDK client; every SDK error inside the block is printed (the server's message) and exits 1."""
    try:
        import speechtospeechai as sdk
    except ImportError as exc:
        raise _fail(SDK_MISSING) from exc
    try:
        with sdk.Client(api_key=api_key or local_api_key(), base_url=base_url) as client:
            yield client
    except sdk.APIStatusError as exc:
        details = ", ".join(str(x) for x in (exc.status, exc.code, exc.param and f"param {exc.param}") if x)
        request = f"; request id {exc.request_id}" if exc.request_id else ""
        err.print(f"[red]Error:[/] {escape(exc.message)}\n[dim]({escape(details)}{escape(request)})[/]")
        raise typer.Exit(1) from exc
    except sdk.SpeechToSpeechAIError as exc:
        raise _fail(str(exc)) from exc
    except OSError as exc:  # unreadable input, unwritable output
        raise _fail(f"{exc.strerror or exc}: {exc.filename}" if exc.filename else str(exc)) from exc


def local_api_key() -> str | None:
    """The key `s2s run` keeps for its local account (DATA_DIR/local-api-key), when there is one."""
    from shared.config import get_settings

    path = get_settings().resolved_data_dir / "local-api-key"
    try:
        return path.read_text().strip() or None
    except OSError:
        return None


def _progress(*, transfer: bool = False) -> Progress:
    columns = [SpinnerColumn(), TextColumn("{task.description}"), BarColumn()]
    columns.append(DownloadColumn() if transfer else TaskProgressColumn())
    # progress bars are for people at a terminal; in pipes and logs only results and errors are printed
    return Progress(*columns, TimeElapsedColumn(), console=err, transient=True, disable=not err.is_terminal)


class _ProgressFile:
    """A binary file that reports how far an upload has read it (a retry rewinds it, and the bar with it)."""

    def __init__(self, fh: BinaryIO, advance: Callable[[int], None]) -> None:
        self._fh = fh
        self._advance = advance
        self.name = fh.name

    def read(self, size: int = -1) -> bytes:
        data = self._fh.read(size)
        self._advance(len(data))
        return data

    def seek(self, offset: int, whence: int = 0) -> int:
        before = self._fh.tell()
        after = self._fh.seek(offset, whence)
        self._advance(after - before)
        return after

    def tell(self) -> int:
        return self._fh.tell()

    def seekable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._fh.fileno()


@contextlib.contextmanager
def _uploading(paths: list[Path], progress: Progress) -> Iterator[list[BinaryIO]]:
    """The files opened for upload, behind one progress bar for all of them."""
    total = sum(p.stat().st_size for p in paths)
    label = paths[0].name if len(paths) == 1 else f"{len(paths)} files"
    task = progress.add_task(f"Uploading {label}", total=total)
    with contextlib.ExitStack() as stack:
        files = [stack.enter_context(p.open("rb")) for p in paths]
        yield [cast(BinaryIO, _ProgressFile(fh, lambda n: progress.advance(task, n))) for fh in files]
    progress.update(task, completed=total)


def _follow(client: Client, job: Job, description: str, timeout: float | None = None) -> Job:
    """Poll the job until it ends, with a progress bar fed by its progress field."""
    with _progress() as progress:
        task = progress.add_task(description, total=1.0)
        progress.update(task, completed=job.progress)

        def show(current: Job) -> None:
            progress.update(task, completed=current.progress, description=f"{description} ({current.status})")

        return client.jobs.wait(job.id, timeout=timeout, poll_interval=0.5, on_progress=show)


def _job_failure(job: Job) -> typer.Exit:
    reason = job.error.message if job.error and job.error.message else "no reason given"
    return _fail(f"Job {job.id} {job.status}: {reason}")


def _print_json(text: str) -> None:
    sys.stdout.write(text + "\n")


def speak(
    text: Annotated[str, typer.Argument(help="Text to speak ('-' reads it from standard input).")],
    output: Annotated[
        str | None,
        typer.Option("--output", "-o", help="Audio file to write (default speech.<format>; '-' for standard output)."),
    ] = None,
    model: Annotated[str, typer.Option(help="Text-to-speech model.")] = "piper",
    voice: Annotated[str, typer.Option(help="Preset voice (e.g. joe) or a cloned voice id (voice_...).")] = "joe",
    speed: Annotated[float | None, typer.Option(min=0.5, max=2.0, help="Speed multiplier, 0.5-2.0.")] = None,
    audio_format: Annotated[
        AudioFormat | None,
        typer.Option("--format", "-f", case_sensitive=False, help="Audio format (default: from -o, else mp3)."),
    ] = None,
    emotion: Annotated[Emotion | None, typer.Option(case_sensitive=False, help="Emotion tag.")] = None,
    base_url: BaseUrlOption = None,
    api_key: ApiKeyOption = None,
) -> None:
    """Text to speech: synthesize TEXT and write the audio as it streams in."""
    if text == "-":
        text = sys.stdin.read()
    fmt = output_format(output, audio_format)
    target = output or f"speech.{fmt}"
    with _client(base_url, api_key) as client, _progress(transfer=True) as progress:
        task = progress.add_task(f"Synthesizing with {model} / {voice}", total=None)
        with client.audio.speech.with_streaming_response.create(
            model=model,
            voice=voice,
            input=text,
            speed=speed,
            format=cast("sdk.AudioFormat", fmt),
            emotion=cast("sdk.Emotion", emotion.value) if emotion else None,
        ) as response:
            length = response.headers.get("content-length")
            progress.update(task, description=f"Receiving {fmt}", total=int(length) if length else None)
            with contextlib.ExitStack() as stack:
                sink = sys.stdout.buffer if target == "-" else stack.enter_context(Path(target).open("wb"))
                for chunk in response.iter_bytes():
                    sink.write(chunk)
                    sink.flush()
                    progress.advance(task, len(chunk))
            job_id = response.job_id
    if target != "-":
        size = Path(target).stat().st_size
        err.print(f"Wrote {escape(target)} ({size:,} bytes, {fmt}" + (f", job {job_id})" if job_id else ")"))


def output_format(output: str | None, requested: AudioFormat | None) -> str:
    """The audio format to ask for: --format, else the output file's extension (which must name a format and
    agree with --format), else mp3."""
    suffix = Path(output).suffix.lstrip(".").lower() if output and output != "-" else ""
    if suffix and suffix not in AudioFormat.__members__:
        formats = ", ".join(f".{f}" for f in AudioFormat.__members__)
        raise _fail(f"'{output}' does not end in an audio format ({formats}); rename it or pass --format.")
    if suffix and requested and suffix != requested.value:
        raise _fail(f"'{output}' ends in .{suffix} but --format is {requested.value}; make them agree.")
    return requested.value if requested else (suffix or "mp3")


def transcribe(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="Audio or video file to transcribe.")
    ],
    model: Annotated[str | None, typer.Option(help="Speech-to-text model (server default: whisper-base).")] = None,
    language: Annotated[str | None, typer.Option(help="Language code such as en (detected when unset).")] = None,
    diarize: Annotated[bool, typer.Option("--diarize", help="Label segments with speakers.")] = False,
    speakers: Annotated[
        int | None, typer.Option("--speakers", min=1, max=32, help="Number of speakers, when known (with --diarize).")
    ] = None,
    min_speakers: MinSpeakersOption = None,
    max_speakers: MaxSpeakersOption = None,
    timestamps: Annotated[Granularity | None, typer.Option(case_sensitive=False, help="Timestamp granularity.")] = None,
    output_format: Annotated[
        TranscriptFormat, typer.Option("--format", "-f", case_sensitive=False, help="Output format.")
    ] = TranscriptFormat.text,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")] = None,
    timeout: Annotated[float | None, typer.Option(help="Give up waiting after this many seconds.")] = None,
    base_url: BaseUrlOption = None,
    api_key: ApiKeyOption = None,
) -> None:
    """Speech to text: upload FILE, follow the job, print the transcript (text, json, srt, vtt...)."""
    fmt = cast("sdk.TranscriptionFormat", output_format.value)
    with _client(base_url, api_key) as client:
        with _progress(transfer=True) as progress, _uploading([file], progress) as (upload,):
            job = client.audio.transcriptions.create(
                file=upload,
                model=model,
                language=language,
                diarization=diarize or None,
                num_speakers=speakers,
                min_speakers=min_speakers,
                max_speakers=max_speakers,
                timestamps=cast("sdk.TimestampGranularity", timestamps.value) if timestamps else None,
                response_format=fmt,
                wait=False,
            )
        done = _follow(client, job, f"Transcribing with {job.model}", timeout)
        if done.status != "succeeded":
            raise _job_failure(done)
        result = client.jobs.transcription(done.id, response_format=fmt)
    text = result if isinstance(result, str) else result.model_dump_json(indent=2, exclude_none=True)
    if output is None:
        sys.stdout.write(text.rstrip("\n") + "\n")
    else:
        output.write_text(text.rstrip("\n") + "\n", encoding="utf-8")
        err.print(f"Wrote {escape(str(output))} ({fmt})")


def translate(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="Audio or video file to translate.")
    ],
    model: Annotated[str | None, typer.Option(help="Multilingual speech-to-text model (default whisper-base).")] = None,
    output_format: Annotated[
        TranslationFormat, typer.Option("--format", "-f", case_sensitive=False, help="Output format.")
    ] = TranslationFormat.text,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")] = None,
    base_url: BaseUrlOption = None,
    api_key: ApiKeyOption = None,
) -> None:
    """Speech in any language to English text: upload FILE, print the translation (text, json, srt, vtt)."""
    fmt = cast('Literal["json", "text", "srt", "verbose_json", "vtt"]', output_format.value)
    with (
        _client(base_url, api_key) as client,
        _progress(transfer=True) as progress,
        _uploading([file], progress) as (upload,),
    ):
        result = client.audio.translations.create(file=upload, model=model, response_format=fmt)
    text = result if isinstance(result, str) else result.model_dump_json(indent=2, exclude_none=True)
    if output is None:
        sys.stdout.write(text.rstrip("\n") + "\n")
    else:
        output.write_text(text.rstrip("\n") + "\n", encoding="utf-8")
        err.print(f"Wrote {escape(str(output))} ({fmt})")


def _voices_option(value: str | None) -> dict[str, str] | Literal["auto"] | None:
    """--voices: `auto`, or a JSON object speaker -> voice."""
    if value is None or value.strip().lower() == "auto":
        return "auto" if value is not None else None
    try:
        mapping = json.loads(value)
    except ValueError:
        mapping = None
    if not isinstance(mapping, dict) or not all(isinstance(v, str) for v in mapping.values()):
        raise _fail(f'--voices takes auto or a JSON object such as \'{{"SPEAKER_00": "af_bella"}}\', not {value!r}.')
    return {str(k): v for k, v in mapping.items()}


def convert(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="Speech (audio or video) to convert.")
    ],
    output: Annotated[
        str | None,
        typer.Option(
            "--output", "-o", help="Audio file to write (default <input>.converted.<format>; '-' for standard output)."
        ),
    ] = None,
    voice: Annotated[
        str | None,
        typer.Option(help="Target voice: a preset (af_bella, nova, ...) or a cloned voice id (voice_...)."),
    ] = None,
    voices: Annotated[
        str | None,
        typer.Option(
            help='Per speaker (implies --diarize): a JSON object such as {"SPEAKER_00": "af_bella"} (--voice speaks '
            "for the rest), or auto (distinct voices picked by each speaker's pitch)."
        ),
    ] = None,
    diarize: Annotated[bool, typer.Option("--diarize", help="Find the speakers and give each one a voice.")] = False,
    num_speakers: Annotated[
        int | None, typer.Option("--num-speakers", min=1, max=32, help="Number of speakers, when known.")
    ] = None,
    min_speakers: MinSpeakersOption = None,
    max_speakers: MaxSpeakersOption = None,
    language: Annotated[str | None, typer.Option(help="Language of the input, e.g. en (detected when unset).")] = None,
    target_language: Annotated[
        str | None, typer.Option("--target-language", help="Dub into this language (en: English).")
    ] = None,
    model: Annotated[
        str | None, typer.Option(help="Conversion model: revoice (server default) or openvoice-v2.")
    ] = None,
    tts_model: Annotated[
        str | None, typer.Option("--tts-model", help="revoice: the text-to-speech model that speaks (e.g. kokoro).")
    ] = None,
    audio_format: Annotated[
        AudioFormat | None,
        typer.Option("--format", "-f", case_sensitive=False, help="Audio format (default: from -o, else mp3)."),
    ] = None,
    sample_rate: Annotated[
        int | None, typer.Option("--sample-rate", help="Output sample rate in Hz (default: the voice's own).")
    ] = None,
    srt: Annotated[
        Path | None, typer.Option("--srt", help="Also save what the output says, with its times, as SRT subtitles.")
    ] = None,
    timeout: Annotated[float | None, typer.Option(help="Give up waiting after this many seconds.")] = None,
    base_url: BaseUrlOption = None,
    api_key: ApiKeyOption = None,
) -> None:
    """Speech to speech: upload FILE, follow the job, write the same speech in another voice (on its timeline)."""
    if target_language is not None and target_language != "en":
        raise _fail(f"--target-language '{target_language}' is not offered; dubbing speaks English (en).")
    voice_map = _voices_option(voices)
    fmt = output_format(output, audio_format)
    target = output or f"{file.stem}.converted.{fmt}"
    with _client(base_url, api_key) as client:
        with _progress(transfer=True) as progress, _uploading([file], progress) as (upload,):
            job = client.audio.voice_conversions.create(
                file=upload,
                voice=voice,
                voices=voice_map,
                model=model,
                tts_model=tts_model,
                diarization=diarize or None,
                num_speakers=num_speakers,
                min_speakers=min_speakers,
                max_speakers=max_speakers,
                language=language,
                target_language="en" if target_language else None,
                response_format=cast("sdk.AudioFormat", fmt),
                sample_rate=sample_rate,
                wait=False,
            )
        done = _follow(client, job, f"Converting with {job.model}", timeout)
        if done.status != "succeeded":
            raise _job_failure(done)
        with _progress(transfer=True) as progress, client.jobs.with_streaming_response.result(done.id) as response:
            length = response.headers.get("content-length")
            task = progress.add_task(f"Receiving {fmt}", total=int(length) if length else None)
            with contextlib.ExitStack() as stack:
                sink = sys.stdout.buffer if target == "-" else stack.enter_context(Path(target).open("wb"))
                for chunk in response.iter_bytes():
                    sink.write(chunk)
                    progress.advance(task, len(chunk))
                sink.flush()
        if srt is not None:
            srt.write_text(client.jobs.transcription(done.id, response_format="srt"), encoding="utf-8")
    result = done.voice_conversion
    seconds = f", {result.duration:.1f} s" if result else ""
    if target != "-":
        size = Path(target).stat().st_size
        err.print(f"Wrote {escape(target)} ({size:,} bytes, {fmt}{seconds}, job {done.id})")
    if srt is not None:
        err.print(f"Wrote {escape(str(srt))} (srt)")


def clone(
    files: Annotated[
        list[Path],
        typer.Argument(exists=True, dir_okay=False, readable=True, help="Reference audio (10-30 s of clean speech)."),
    ],
    name: Annotated[str, typer.Option("--name", "-n", help="Name of the new voice.")],
    model: Annotated[str | None, typer.Option(help="Cloning model (server default when unset).")] = None,
    language: Annotated[str | None, typer.Option(help="Language code (detected when unset).")] = None,
    consent: Annotated[
        bool, typer.Option("--consent", help="Attest that the speaker agreed to have their voice cloned.")
    ] = False,
    consent_statement: Annotated[
        str | None, typer.Option(help="How and when the speaker agreed (stored with the voice).")
    ] = None,
    base_url: BaseUrlOption = None,
    api_key: ApiKeyOption = None,
) -> None:
    """Clone a voice from reference audio; prints the new voice id (use it as --voice of `s2s speak`)."""
    with (
        _client(base_url, api_key) as client,
        _progress(transfer=True) as progress,
        _uploading(files, progress) as uploads,
    ):
        voice = client.voices.clone(
            name=name,
            files=list(uploads),
            model=model,
            language=language,
            consent=consent,
            consent_statement=consent_statement,
        )
    err.print(f"Voice '{escape(voice.name)}' ({voice.model}, {voice.language or 'language unknown'}): {voice.status}")
    for warning in voice.warnings:
        err.print(f"[yellow]Warning:[/] {escape(warning)}")
    sys.stdout.write(voice.id + "\n")


JobIdArgument = Annotated[str, typer.Argument(help="Job id (job_...).")]
LimitOption = Annotated[int, typer.Option(min=1, max=100, help="How many per page.")]
AfterOption = Annotated[str | None, typer.Option(help="Show the page after this id (the last one shown).")]


@jobs_app.command("list")
def jobs_list(
    limit: LimitOption = 20,
    after: AfterOption = None,
    status: Annotated[str | None, typer.Option(help="Only jobs in this state (queued, running, ...).")] = None,
    base_url: BaseUrlOption = None,
    api_key: ApiKeyOption = None,
) -> None:
    """List jobs, newest first, a page at a time (then --after the last id shown)."""
    with _client(base_url, api_key) as client:
        page = client.jobs.list(limit=limit, after=after, status=cast("sdk.JobStatus", status) if status else None)
    for job in page.data:
        created = f"{job.created_at:%Y-%m-%d %H:%M:%S}" if job.created_at else ""
        sys.stdout.write(f"{job.id}  {job.kind:5}  {job.model:18}  {job.status:9}  {job.progress:4.0%}  {created}\n")
    if page.has_more:
        err.print(f"more: s2s jobs list --after {page.last_id}")


@jobs_app.command("get")
def jobs_get(job_id: JobIdArgument, base_url: BaseUrlOption = None, api_key: ApiKeyOption = None) -> None:
    """Print a job as JSON: status, progress, error, result."""
    with _client(base_url, api_key) as client:
        _print_json(client.jobs.retrieve(job_id).model_dump_json(indent=2, exclude_none=True))


@jobs_app.command("wait")
def jobs_wait(
    job_id: JobIdArgument,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Save the result: the audio, or the transcription as JSON.")
    ] = None,
    timeout: Annotated[
        float | None, typer.Option(help="Give up after this many seconds (the job keeps running).")
    ] = None,
    base_url: BaseUrlOption = None,
    api_key: ApiKeyOption = None,
) -> None:
    """Follow a job's progress until it ends; print it as JSON (exit 1 unless it succeeded)."""
    with _client(base_url, api_key) as client:
        done = _follow(client, client.jobs.retrieve(job_id), f"Job {job_id}", timeout)
        if output is not None and done.status == "succeeded":
            if done.kind == "stt":
                transcript = client.jobs.transcription(job_id, response_format="verbose_json")
                output.write_text(transcript.model_dump_json(indent=2, exclude_none=True), encoding="utf-8")
            else:
                with client.jobs.with_streaming_response.result(job_id) as response:
                    response.stream_to_file(output)
            err.print(f"Wrote {escape(str(output))}")
    _print_json(done.model_dump_json(indent=2, exclude_none=True))
    if done.status != "succeeded":
        raise _job_failure(done)


@voices_app.command("list")
def voices_list(
    limit: LimitOption = 100,
    after: AfterOption = None,
    base_url: BaseUrlOption = None,
    api_key: ApiKeyOption = None,
) -> None:
    """List your cloned voices (a page at a time) and the preset voices of the live models."""
    with _client(base_url, api_key) as client:
        page = client.voices.list(limit=limit, after=after)
    for voice in page.data:
        sys.stdout.write(f"{voice.id}  {voice.model:18}  {voice.status:10}  {voice.name}\n")
    if page.has_more:
        err.print(f"more: s2s voices list --after {page.last_id}")
    if after is None:
        for preset in page.presets:
            aliases = f"  (also: {', '.join(preset.aliases)})" if preset.aliases else ""
            sys.stdout.write(f"{preset.id:30}  {preset.model:18}  preset{aliases}\n")


@jobs_app.command("cancel")
def jobs_cancel(job_id: JobIdArgument, base_url: BaseUrlOption = None, api_key: ApiKeyOption = None) -> None:
    """Cancel a queued or running job; print its new state as JSON."""
    with _client(base_url, api_key) as client:
        job = client.jobs.cancel(job_id)
    if job.status != "canceled":
        err.print(f"Job {job.id} had already ended ({job.status}); nothing to cancel.")
    _print_json(job.model_dump_json(indent=2, exclude_none=True))
