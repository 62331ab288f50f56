"""Speech to text: the stored upload through the transcription pipeline, segments streamed as they are decoded."""

from __future__ import annotations

from shared import audio
from shared.jobkinds.transcription import TranscriptionJob
from shared.transcripts import Segment
from workers.engines.base import InvalidAudio, InvalidInput
from workers.engines.diarize import Diarizer, SpeakerConstraints, load_diarizer
from workers.handlers.clone import speaker_encoder
from workers.runner import JobContext, Outcome, WorkerContext, local_input
from workers.transcribe import STTRequest, transcribe_file


def diarizer(ctx: WorkerContext) -> Diarizer:
    """The diarization pipeline of this process, loaded on first use and kept warm."""
    model_dir = ctx.settings.resolved_model_dir
    return ctx.component("diarizer", lambda: load_diarizer(model_dir, encoder=speaker_encoder(ctx)))  # type: ignore[no-any-return]


def transcribe(job: JobContext) -> Outcome:
    req: TranscriptionJob = job.request
    if not req.audio_key:
        raise InvalidInput("the job has no input audio")
    request = STTRequest(
        language=req.language,
        words=req.words,
        diarization=req.diarization,
        constraints=SpeakerConstraints(
            num_speakers=req.num_speakers, min_speakers=req.min_speakers, max_speakers=req.max_speakers
        ),
        split_channels=req.channels == "split",
        prompt=req.prompt,
        temperature=req.temperature,
        transcribe=not req.speakers_only,
        task=req.task,
        chinese_script=req.chinese_script or "simplified",
    )

    def on_segment(segment: Segment) -> None:
        if req.stream:
            job.stream({"type": "segment", "segment": segment.model_dump(mode="json", exclude_none=True)})

    ctx = job.worker
    for known in req.known:  # the reference recordings of the voices it may recognise
        name = known.name
        if name in request.known:  # a library voice and a reference of the same name: both stay recognisable
            name = f"{name} ({known.voice_id or len(request.known) + 1})"
        with local_input(ctx.store, known.reference_key) as reference:
            request.known[name] = audio.decode(str(reference), sample_rate=16000)
    with ctx.residency.use(job.model) as engine, local_input(ctx.store, req.audio_key) as path:
        pipeline = diarizer(ctx) if request.diarization and not request.split_channels else None
        try:
            transcript = transcribe_file(
                engine,
                path,
                request,
                expected_duration=req.header_duration,
                chunk_seconds=ctx.settings.stt_chunk_seconds,
                diarizer=pipeline,
                on_segment=on_segment,
                on_progress=job.progress,
            )
        except audio.AudioDecodeError as exc:
            raise InvalidAudio(f"The uploaded file is not usable audio: {exc}.") from exc
    return Outcome(result=transcript)
