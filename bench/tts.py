"""Text-to-speech benchmark: platform vs direct Piper per format, time to first audio, clone similarity.

1. Real-time factor of POST /v1/audio/speech (sync) against the same synthesis called directly in this process
   (the engine with the same splitting and encoding), per output format; target ratio <= 1.05.
2. Time to the first audio byte with `stream=true` against the time to the whole non-streamed response, for a
   multi-sentence input; target: first audio <= 250 ms on a 2-core machine.
3. Clone similarity: resemblyzer cosine similarity between speech in a voice cloned from each reference clip in
   tests/data and that clip, next to the base voice's similarity to the same clip (never the holdout set).
4. Kokoro beside Piper: real-time factor of the engines called directly on 1 and 2 ONNX Runtime threads, time to
   first audio through the platform (streamed, the default), and the word error rate of whisper-base (through the
   platform) on the ten Harvard sentences of list 1, for several voices.

    python -m bench.tts [--runs 5] [--only engines]
"""

from __future__ import annotations

import argparse
import io
import time
from typing import Any

import httpx
import numpy as np

from bench.common import Platform, median, running_platform, write_result
from shared import audio
from shared.catalog import MODELS
from tests.services import TESTDATA

TEXT = (
    "Speech to Speech AI runs on a laptop with one command and scales to a cluster of workers. "
    "This sentence is long enough to produce about ten seconds of audio, which is what we measure here."
)
STREAM_TEXT = (
    "Good morning, and welcome to the show. Today we talk about self-hosted speech models, how they are "
    "deployed, and what they cost. Our first guest has run them in production for years. Let us begin."
)
HARVARD = (
    "The birch canoe slid on the smooth planks. Glue the sheet to the dark blue background. "
    "It's easy to tell the depth of a well. These days a chicken leg is a rare dish. "
    "Rice is often served in round bowls. The juice of lemons makes fine punch. "
    "The box was thrown beside the parked truck. The hogs were fed chopped corn and garbage. "
    "Four hours of steady work faced us. A large size in stockings is hard to sell."
)
VOICES = [
    ("piper", "joe"),
    ("kokoro", "af_heart"),
    ("kokoro", "af_nova"),
    ("kokoro", "bm_fable"),
    ("kokoro", "am_onyx"),
]
SPOKEN = "The quick brown fox jumps over the lazy dog, and then it runs far away into the quiet forest."
REFERENCES = ["jfk.flac", "leopard_test_en.wav", "leopard_test_de.wav", "leopard_test_es.wav", "leopard_test_fr.wav"]
FORMATS = ["mp3", "wav", "ogg", "flac", "opus", "aac", "pcm"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--only", choices=["engines"], help="run only this part")
    args = parser.parse_args()
    if args.only == "engines":
        with running_platform("piper,kokoro,whisper-base") as p:
            rows = engines(p, args.runs)
        print_engines(rows)
        print(f"written to {write_result('tts-engines', {'runs': args.runs, 'engines': rows})}")
        return

    from resemblyzer import VoiceEncoder

    from workers.engines.base import SynthesisOptions
    from workers.engines.piper import PiperEngine
    from workers.synthesis import synthesize_pieces

    encoder = VoiceEncoder("cpu", verbose=False)

    def embed(samples: np.ndarray, rate: int) -> np.ndarray:
        return np.asarray(encoder.embed_utterance(audio.resample(samples, rate, 16000)))

    with running_platform("piper,kokoro,whisper-base") as p:
        engine = PiperEngine.load(p.model_dir, MODELS["piper"])
        client = httpx.Client(base_url=p.base_url, headers={"Authorization": f"Bearer {p.api_key}"}, timeout=300)

        formats = {}
        for fmt in FORMATS:

            def direct(fmt: str = fmt) -> bytes:
                samples = np.concatenate(list(synthesize_pieces(engine, TEXT, SynthesisOptions(voice="joe"))))
                return audio.encode(samples, engine.sample_rate, fmt)

            def platform(fmt: str = fmt) -> bytes:
                r = client.post(
                    "/v1/audio/speech", json={"model": "piper", "voice": "joe", "input": TEXT, "format": fmt}
                )
                r.raise_for_status()
                return r.content

            direct()
            platform()
            d_times, p_times = [], []
            for _ in range(args.runs):  # interleaved, so drift hits both sides alike
                t0 = time.perf_counter()
                direct()
                d_times.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                platform()
                p_times.append(time.perf_counter() - t0)
            seconds = (
                np.concatenate(list(synthesize_pieces(engine, TEXT, SynthesisOptions(voice="joe")))).size
                / engine.sample_rate
            )
            formats[fmt] = {
                "audio_seconds": round(seconds, 2),
                "rtf_direct": round(median(d_times) / seconds, 4),
                "rtf_platform": round(median(p_times) / seconds, 4),
                "ratio": round(median(p_times) / median(d_times), 4),
            }
            print(fmt, formats[fmt], flush=True)

        ttfa = {}
        for fmt in ("pcm", "wav", "mp3"):
            firsts, fulls = [], []
            for _ in range(args.runs):
                t0 = time.perf_counter()
                with client.stream(
                    "POST",
                    "/v1/audio/speech",
                    json={"model": "piper", "voice": "joe", "input": STREAM_TEXT, "format": fmt, "stream": True},
                ) as r:
                    first = None
                    for chunk in r.iter_raw():
                        if chunk and first is None:
                            first = time.perf_counter() - t0
                firsts.append(first or float("nan"))
                t0 = time.perf_counter()
                client.post(
                    "/v1/audio/speech", json={"model": "piper", "voice": "joe", "input": STREAM_TEXT, "format": fmt}
                ).raise_for_status()
                fulls.append(time.perf_counter() - t0)
            ttfa[fmt] = {
                "first_audio_ms": round(median(firsts) * 1000, 1),
                "full_response_ms": round(median(fulls) * 1000, 1),
            }
            print("ttfa", fmt, ttfa[fmt], flush=True)

        clones = []
        base = client.post(
            "/v1/audio/speech", json={"model": "piper", "voice": "joe", "input": SPOKEN, "format": "wav"}
        ).content
        base_samples = audio.decode(io.BytesIO(base), sample_rate=16000)
        for clip in REFERENCES:
            path = TESTDATA / clip
            voice = client.post(
                "/v1/voices/clone",
                files={"file": (clip, path.read_bytes())},
                data={"name": clip, "model": "piper", "consent": "true"},
            ).json()
            speech = client.post(
                "/v1/audio/speech", json={"model": "piper", "voice": voice["id"], "input": SPOKEN, "format": "wav"}
            ).content
            reference = embed(audio.decode(path, sample_rate=16000), 16000)
            cloned = float(embed(audio.decode(io.BytesIO(speech), sample_rate=16000), 16000) @ reference)
            plain = float(embed(base_samples, 16000) @ reference)
            clones.append(
                {
                    "reference": clip,
                    "cloned_similarity": round(cloned, 4),
                    "base_similarity": round(plain, 4),
                    "closer": cloned > plain,
                }
            )
            print("clone", clones[-1], flush=True)
        client.close()
        rows = engines(p, args.runs)

    print(f"\n{'format':6} {'RTF direct':>10} {'RTF platform':>12} {'ratio':>6}")
    for fmt, row in formats.items():
        print(f"{fmt:6} {row['rtf_direct']:10.3f} {row['rtf_platform']:12.3f} {row['ratio']:6.3f}")
    print(f"\n{'format':6} {'first audio':>12} {'full response':>14}")
    for fmt, row in ttfa.items():
        print(f"{fmt:6} {row['first_audio_ms']:10.0f}ms {row['full_response_ms']:12.0f}ms")
    print(f"\n{'reference':24} {'cloned':>7} {'base':>7}")
    for clone in clones:
        print(f"{clone['reference']:24} {clone['cloned_similarity']:7.3f} {clone['base_similarity']:7.3f}")
    print_engines(rows)
    path = write_result(
        "tts",
        {
            "runs": args.runs,
            "target_ratio": 1.05,
            "target_first_audio_ms": 250,
            "formats": formats,
            "time_to_first_audio": ttfa,
            "clone_similarity": clones,
            "engines": rows,
        },
    )
    print(f"written to {path}")


def engines(p: Platform, runs: int) -> list[dict[str, object]]:
    """Kokoro beside Piper: RTF direct on 1 and 2 threads, time to first audio through the platform, WER."""
    from tests.text import wer
    from workers.engines.base import SynthesisOptions
    from workers.engines.kokoro import KokoroEngine
    from workers.engines.piper import PiperEngine
    from workers.synthesis import synthesize_pieces

    model_dir = p.model_dir
    client = httpx.Client(
        base_url=p.base_url,
        headers={"Authorization": f"Bearer {p.api_key}"},
        timeout=600,
    )
    built: dict[tuple[str, int], Any] = {}

    def engine(model: str, threads: int) -> Any:
        if (model, threads) not in built:
            spec = MODELS[model]
            built[model, threads] = (
                KokoroEngine(spec.weights_dir(model_dir), spec, threads=threads)
                if model == "kokoro"
                else PiperEngine.load(model_dir, spec)
            )
        return built[model, threads]

    rows: list[dict[str, object]] = []
    for model, voice in VOICES:
        row: dict[str, object] = {"model": model, "voice": voice}
        for threads in (1, 2) if model == "kokoro" else (0,):
            eng = engine(model, threads)
            options = SynthesisOptions(voice=voice)
            list(synthesize_pieces(eng, SPOKEN, options))  # warm
            times, seconds = [], 0.0
            for _ in range(max(1, runs // 2)):
                t0 = time.perf_counter()
                out = np.concatenate(list(synthesize_pieces(eng, TEXT, options)))
                times.append(time.perf_counter() - t0)
                seconds = out.size / eng.sample_rate
            row[f"rtf_{threads or 'default'}_threads"] = round(median(times) / seconds, 3)
        firsts = []
        for _ in range(runs):
            t0 = time.perf_counter()
            with client.stream(
                "POST", "/v1/audio/speech", json={"model": model, "voice": voice, "input": STREAM_TEXT, "format": "pcm"}
            ) as r:
                r.raise_for_status()
                first = None
                for chunk in r.iter_raw():
                    if chunk and first is None:
                        first = time.perf_counter() - t0
            firsts.append(first or float("nan"))
        row["first_audio_ms"] = round(median(firsts) * 1000, 1)
        speech = client.post(
            "/v1/audio/speech",
            json={"model": model, "voice": voice, "input": HARVARD, "format": "wav", "stream": False},
        )
        speech.raise_for_status()
        heard = client.post(
            "/v1/audio/transcriptions", files={"file": ("h.wav", speech.content)}, data={"model": "whisper-base"}
        ).json()["text"]
        row["wer_whisper_base"] = round(wer(HARVARD, heard), 4)
        rows.append(row)
        print("engine", row, flush=True)
    client.close()
    return rows


def print_engines(rows: list[dict[str, object]]) -> None:
    print(f"\n{'model':7} {'voice':9} {'RTF 1 thr':>9} {'RTF 2 thr':>9} {'first audio':>11} {'WER':>6}")
    for row in rows:
        one = row.get("rtf_1_threads", row.get("rtf_default_threads"))
        two = row.get("rtf_2_threads", "")
        print(
            f"{row['model']:7} {row['voice']:9} {one!s:>9} {two!s:>9} {row['first_audio_ms']!s:>9}ms "
            f"{row['wer_whisper_base']!s:>6}"
        )


if __name__ == "__main__":
    main()
