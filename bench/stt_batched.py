"""Long audio: the worker's Whisper path (one VAD pass, speech decoded in batches of up-to-30 s clips, sentences
re-split from word times) against bare faster-whisper, sequential and batched, on the same whisper-base weights
and a 10-minute file built from the development clips (jfk + leopard_test_en, 1 s apart, with their reference
text), rounds interleaved. Reports seconds, the ratio to bare sequential, and WER. The engine is called as the
worker calls it (the API's own overhead is about 1%, bench.overhead). Writes bench/results/stt-batched.json.

    python -m bench.stt_batched [--minutes 10] [--rounds 2]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.common import write_result
from tests.services import TESTDATA
from tests.text import wer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    from faster_whisper import BatchedInferencePipeline

    from shared import audio
    from shared.catalog import MODELS
    from shared.model_store import install_bundled
    from workers.engines.base import TranscribeOptions
    from workers.engines.whisper import WhisperEngine
    from workers.speech_map import WHISPER, SpeechMap

    model_dir = Path(tempfile.mkdtemp(prefix="s2s-bench-stt-"))
    install_bundled(MODELS["whisper-base"], model_dir)
    engine = WhisperEngine.load(model_dir, MODELS["whisper-base"])
    pieces = [
        (TESTDATA / "jfk.flac", TESTDATA / "jfk.txt"),
        (TESTDATA / "leopard_test_en.wav", TESTDATA / "leopard_test_en.txt"),
    ]
    gap = np.zeros(16000, dtype=np.float32)
    one = [np.concatenate([audio.decode(str(a), sample_rate=16000), gap]) for a, _ in pieces]
    texts = [t.read_text().strip() for _, t in pieces]
    repeats = max(1, round(args.minutes * 60 / sum(x.size / 16000 for x in one)))
    samples = np.concatenate(one * repeats)
    reference = " ".join(texts * repeats)
    seconds = samples.size / 16000

    def platform() -> str:
        speech = SpeechMap.of(samples).view(WHISPER)
        segments, _ = engine.transcribe(samples, TranscribeOptions(language="en", word_timestamps=True, speech=speech))
        return " ".join(s.text for s in segments)

    common = {"language": "en", "beam_size": 5, "word_timestamps": True, "condition_on_previous_text": False}

    def sequential() -> str:
        segments, _ = engine.model.transcribe(samples, vad_filter=True, **common)
        return " ".join(s.text for s in segments)

    pipeline = BatchedInferencePipeline(engine.model)

    def batched() -> str:
        kw = {k: v for k, v in common.items() if k != "condition_on_previous_text"}
        segments, _ = pipeline.transcribe(samples, batch_size=engine.batch_size, **kw)
        return " ".join(s.text for s in segments)

    runs = {"platform": platform, "bare_sequential": sequential, "bare_batched": batched}
    times: dict[str, list[float]] = {name: [] for name in runs}
    errors: dict[str, float] = {}
    for _ in range(args.rounds):
        for name, fn in runs.items():
            started = time.perf_counter()
            text = fn()
            times[name].append(time.perf_counter() - started)
            errors[name] = round(wer(reference, text), 4)
    medians = {name: statistics.median(t) for name, t in times.items()}
    base = medians["bare_sequential"]
    for name in runs:
        print(
            f"{name:16s} {medians[name]:6.1f} s  {base / medians[name]:.2f}x vs bare sequential  WER {errors[name]:.3f}"
        )
    path = write_result(
        "stt-batched",
        {
            "audio_seconds": round(seconds, 1),
            "batch_size": engine.batch_size,
            "rounds": args.rounds,
            "seconds": {k: round(v, 2) for k, v in medians.items()},
            "speedup_vs_bare_sequential": {k: round(base / v, 3) for k, v in medians.items()},
            "wer": errors,
        },
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
