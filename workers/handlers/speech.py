"""Text to speech: speak the text in the requested voice, streaming encoded chunks as soon as each is ready."""

from __future__ import annotations

import hashlib

from shared import audio
from shared.jobkinds.speech import SpeechJob, SpeechResult
from workers.engines.base import SynthesisOptions
from workers.output import AudioOutput
from workers.runner import JobContext, Outcome
from workers.synthesis import synthesize_pieces
from workers.voices import enroll_for, load_voice


def synthesize(job: JobContext) -> Outcome:
    req: SpeechJob = job.request
    fmt = audio.OUTPUT_FORMATS[req.format]
    with job.worker.residency.use(job.model) as engine:
        conditioning = None
        if req.voice_id:
            conditioning = enroll_for(job.worker, engine, job.model, load_voice(job.worker, req.voice_id))
        options = SynthesisOptions(
            voice=req.voice,
            speed=req.speed,
            emotion=req.emotion,
            language=req.language,
            instructions=req.instructions,
            voice_id=req.voice_id,
            conditioning=conditioning,
        )
        rate = int(engine.sample_rate)
        output = AudioOutput(job, req.format, rate, stream=req.stream)
        for chunk in synthesize_pieces(engine, req.input, options, on_progress=job.progress):
            output.write(chunk)
    samples, data = output.finish()
    key = job.put_output(data, fmt.extension, fmt.content_type)
    result = SpeechResult(
        duration=round(samples / rate, 3),
        sample_rate=fmt.sample_rate or rate,
        format=req.format,
        bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        characters=len(req.input),
    )
    return Outcome(result=result, output_key=key, content_type=fmt.content_type)
