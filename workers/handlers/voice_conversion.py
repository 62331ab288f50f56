"""Speech to speech: the stored upload re-voiced (transcribed, re-spoken phrase by phrase on the source's timeline,
each speaker in their own voice, optionally dubbed into English) or converted in tone colour (OpenVoice V2).
Audio is streamed as each part becomes final."""

from __future__ import annotations

import hashlib
import time
from contextlib import ExitStack
from typing import Any

import numpy as np

from shared import audio
from shared.catalog import MODELS
from shared.errors import ErrorCode
from shared.jobkinds.voice_conversion import Phrase, TargetVoice, VoiceConversionJob, VoiceConversionResult
from workers.engines.base import InvalidAudio, InvalidInput, ModelNotInstalled, SynthesisOptions
from workers.engines.diarize import SpeakerConstraints
from workers.engines.revoice import (
    Revoicer,
    SourcePhrase,
    median_pitch,
    phrases_of,
    pick_voices,
    spoken_transcript,
)
from workers.handlers.transcription import diarizer
from workers.output import AudioOutput
from workers.runner import JobContext, Outcome, local_input
from workers.synthesis import fade, trim_silence
from workers.transcribe import STTRequest, transcribe_file
from workers.voices import enroll_for, load_voice

TRANSCRIBE_SHARE = 0.5  # of the progress: the transcription, then the phrases
PITCH_SECONDS = 30.0  # of each speaker's speech measured for `voices=auto`


def convert(job: JobContext) -> Outcome:
    req: VoiceConversionJob = job.request
    if not req.audio_key:
        raise InvalidInput("the job has no input audio")
    try:
        if MODELS[job.model].converts:
            return _tone_color(job, req)
        return _revoice(job, req)
    except audio.AudioDecodeError as exc:
        raise InvalidAudio(f"The uploaded file is not usable audio: {exc}.") from exc


def _tone_color(job: JobContext, req: VoiceConversionJob) -> Outcome:
    """The converter's own conversion: the input's timbre replaced by the target voice's, its prosody kept."""
    ctx = job.worker
    voice = req.voice
    if voice is None:
        raise InvalidInput("Tone-colour conversion needs `voice`.")
    started = time.monotonic()
    with ctx.residency.use(job.model) as engine, local_input(ctx.store, req.audio_key) as path:
        rate = int(engine.sample_rate)
        samples = audio.decode(str(path), sample_rate=rate)
        conditioning = enroll_for(ctx, engine, job.model, load_voice(ctx, voice.voice_id)) if voice.voice_id else None
        target = req.sample_rate or rate
        output = AudioOutput(job, req.response_format, target, stream=req.stream, pcm_rate=req.sample_rate)
        done = 0
        for chunk in engine.convert_voice(samples, voice=voice.preset, conditioning=conditioning):
            chunk = np.asarray(chunk, dtype=np.float32).reshape(-1)
            output.write(audio.resample(chunk, rate, target))
            done += chunk.size
            job.progress(min(0.99, done / max(1, samples.size)))
    out, data = output.finish()
    duration = samples.size / rate
    return _outcome(job, req, data, out, target, duration, started, method="tone-color", voices={"": voice.requested})


def _voice_for(req: VoiceConversionJob, speaker: str | None, auto: dict[str, str]) -> TargetVoice:
    if speaker is not None and speaker in req.voices:
        return req.voices[speaker]
    if speaker is not None and speaker in auto:
        return next(v for v in req.auto_voices if v.preset == auto[speaker])
    if req.voice is not None:
        return req.voice
    if req.auto_voices:  # no speaker found at all (silence, or diarization off): the first candidate
        return req.auto_voices[0]
    named = ", ".join(sorted(req.voices)) or "none"
    raise InvalidInput(
        f"Speaker {speaker or '(undiarized)'} has no voice: `voices` names {named}; add it there, or send `voice` "
        "for every speaker it does not name.",
        code=ErrorCode.invalid_request,
    )


def _auto_voices(
    req: VoiceConversionJob, path: Any, phrases: list[SourcePhrase]
) -> tuple[dict[str, str], dict[str, float | None]]:
    """`voices=auto`: each speaker's median pitch over their first PITCH_SECONDS of phrases picks a distinct
    preset of the matching gender; (the picks, the pitches)."""
    talk: dict[str, float] = {}
    for phrase in phrases:
        if phrase.speaker is not None:
            talk[phrase.speaker] = talk.get(phrase.speaker, 0.0) + phrase.span
    if not talk or not req.auto_voices:
        return {}, {}
    rate = 16000
    spans: dict[str, list[tuple[int, int]]] = {speaker: [] for speaker in talk}  # samples measured per speaker
    for speaker in talk:
        total = 0.0
        for phrase in phrases:
            if phrase.speaker == speaker and total < PITCH_SECONDS:
                spans[speaker].append((int(phrase.start * rate), int(phrase.end * rate)))
                total += phrase.span
    last = max(end for ranges in spans.values() for _, end in ranges)
    pieces: dict[str, list[np.ndarray]] = {speaker: [] for speaker in talk}
    offset = 0
    for block in audio.iter_decode(str(path), sample_rate=rate, chunk_seconds=60.0):  # never the whole file at once
        for speaker, ranges in spans.items():
            for start, end in ranges:
                if start < offset + block.size and end > offset:
                    pieces[speaker].append(block[max(0, start - offset) : end - offset])
        offset += block.size
        if offset >= last:
            break
    pitches: dict[str, float | None] = {
        speaker: median_pitch(np.concatenate(parts), rate) if parts else None for speaker, parts in pieces.items()
    }
    candidates = [(v.preset, req.auto_genders.get(v.preset)) for v in req.auto_voices]
    return pick_voices(pitches, candidates, sorted(talk, key=lambda s: -talk[s])), pitches


def _transcriber(ctx: Any) -> str | None:
    """The best Whisper model this worker has, multilingual ones first (any input language, and the translate
    task for dubbing): Whisper gives the word times phrasing needs."""
    model_dir = ctx.settings.resolved_model_dir
    found = [m for m in MODELS.values() if m.kind == "stt" and m.family == "whisper" and m.is_installed(model_dir)]
    return max(found, key=lambda m: (not m.languages, m.preference)).id if found else None


def _revoice(job: JobContext, req: VoiceConversionJob) -> Outcome:
    ctx = job.worker
    stt_model = _transcriber(ctx)
    if stt_model is None:
        raise ModelNotInstalled(
            "Re-voicing needs a Whisper model on the worker (word times, and Whisper's translate task for dubbing): "
            "`s2s models install bundled`."
        )
    started = time.monotonic()
    dubbing = req.target_language is not None
    request = STTRequest(
        language=req.language,
        words=True,
        diarization=req.diarization,
        constraints=SpeakerConstraints(
            num_speakers=req.num_speakers, min_speakers=req.min_speakers, max_speakers=req.max_speakers
        ),
        task="translate" if dubbing else "transcribe",
    )
    with local_input(ctx.store, req.audio_key) as path:
        with ctx.residency.use(stt_model) as stt:
            transcript = transcribe_file(
                stt,
                path,
                request,
                expected_duration=req.header_duration,
                chunk_seconds=ctx.settings.stt_chunk_seconds,
                diarizer=diarizer(ctx) if req.diarization else None,
                on_progress=lambda p: job.progress(p * TRANSCRIBE_SHARE),
            )
        phrases = phrases_of(transcript)
        auto, pitches = _auto_voices(req, path, phrases) if req.auto_voices and req.diarization else ({}, {})
    voices = {phrase.speaker: _voice_for(req, phrase.speaker, auto) for phrase in phrases}
    language = req.target_language or transcript.language or "en"
    with ExitStack() as stack:
        engines: dict[str, Any] = {}
        conditioning: dict[str, Any] = {}
        for voice in {v.model: v for v in voices.values()}.values():
            engines[voice.model] = stack.enter_context(ctx.residency.use(voice.model))
        for voice in voices.values():
            if voice.voice_id and voice.voice_id not in conditioning:
                engine = engines[voice.model]
                conditioning[voice.voice_id] = enroll_for(ctx, engine, voice.model, load_voice(ctx, voice.voice_id))
        first = next(iter(voices.values()), req.voice)
        rate = req.sample_rate or (int(engines[first.model].sample_rate) if first is not None else 24000)

        def speak(phrase: SourcePhrase) -> np.ndarray:
            voice = voices[phrase.speaker]
            engine = engines[voice.model]
            options = SynthesisOptions(
                voice=voice.preset,
                language=language,
                voice_id=voice.voice_id,
                conditioning=conditioning.get(voice.voice_id) if voice.voice_id else None,
            )
            chunks = [np.asarray(c, dtype=np.float32).reshape(-1) for c in engine.synthesize(phrase.text, options)]
            spoken = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)
            own = int(engine.sample_rate)
            return audio.resample(fade(trim_silence(spoken, own), own), own, rate)

        output = AudioOutput(job, req.response_format, rate, stream=req.stream, pcm_rate=req.sample_rate)
        placed: list[Phrase] = []
        revoicer: Revoicer = stack.enter_context(ctx.residency.use(job.model))
        for final, phrase, start, end, tempo in revoicer.render(phrases, transcript.duration, rate, speak):
            output.write(final)
            if phrase is None:
                continue
            voice = voices[phrase.speaker]
            placed.append(
                Phrase(
                    start=round(start, 3),
                    end=round(end, 3),
                    source_start=round(phrase.start, 3),
                    source_end=round(phrase.end, 3),
                    text=phrase.text,
                    speaker=phrase.speaker,
                    voice=voice.requested,
                    tempo=tempo,
                )
            )
            job.progress(TRANSCRIBE_SHARE + (1 - TRANSCRIBE_SHARE) * len(placed) / max(1, len(phrases)))
    out, data = output.finish()
    spoken = {speaker or "": voice.requested for speaker, voice in voices.items()}
    return _outcome(
        job,
        req,
        data,
        out,
        rate,
        transcript.duration,
        started,
        method="revoice",
        voices=spoken,
        pitches={speaker: round(hz, 1) for speaker, hz in pitches.items() if hz is not None},
        language=transcript.language,
        phrases=placed,
        transcript=spoken_transcript(placed, transcript.duration, language),
    )


def _outcome(
    job: JobContext,
    req: VoiceConversionJob,
    data: bytes,
    samples: int,
    rate: int,
    input_duration: float,
    started: float,
    **fields: Any,
) -> Outcome:
    fmt = audio.OUTPUT_FORMATS[req.response_format]
    key = job.put_output(data, fmt.extension, fmt.content_type)
    result = VoiceConversionResult(
        duration=round(samples / rate, 3),
        input_duration=round(input_duration, 3),
        sample_rate=(req.sample_rate if req.response_format == "pcm" else None) or fmt.sample_rate or rate,
        format=req.response_format,
        bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        target_language=req.target_language,
        processing_seconds=round(time.monotonic() - started, 3),
        **fields,
    )
    return Outcome(result=result, output_key=key, content_type=fmt.content_type)
