"""Text-to-speech benchmark: platform vs direct Piper per format, time to first audio, clone similarity.

1. Real-time factor of POST /v1/audio/speech (sync) against the same synthesis called directly in this process
   (the engine with the same splitting and encoding), per output format; target ratio <= 1.05.
2. Time to the first audio byte with `stream=true` against the time to the whole non-streamed response, for a
   multi-sentence input; target: first audio <= 250 ms on a 2-core machine.
3. Clone similarity: resemblyzer cosine similarity between speech in a voice cloned from each reference clip in
   tests/data and that clip, next to the base voice's similarity to the same clip (never the holdout set).

    python -m bench.tts [--runs 5]
"""

from __future__ import annotations

import argparse
import io
import time

import httpx
import numpy as np

from bench.common import median, running_platform, write_result
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
SPOKEN = "The quick brown fox jumps over the lazy dog, and then it runs far away into the quiet forest."
REFERENCES = ["jfk.flac", "leopard_test_en.wav", "leopard_test_de.wav", "leopard_test_es.wav", "leopard_test_fr.wav"]
FORMATS = ["mp3", "wav", "ogg", "flac", "opus", "aac", "pcm"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    from resemblyzer import VoiceEncoder

    from workers.engines.base import SynthesisOptions
    from workers.engines.piper import PiperEngine
    from workers.synthesis import synthesize_pieces

    encoder = VoiceEncoder("cpu", verbose=False)

    def embed(samples: np.ndarray, rate: int) -> np.ndarray:
        return np.asarray(encoder.embed_utterance(audio.resample(samples, rate, 16000)))

    with running_platform("piper,whisper-base") as p:
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
                "/v1/voices/clone", files={"file": (clip, path.read_bytes())}, data={"name": clip, "model": "piper"}
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

    print(f"\n{'format':6} {'RTF direct':>10} {'RTF platform':>12} {'ratio':>6}")
    for fmt, row in formats.items():
        print(f"{fmt:6} {row['rtf_direct']:10.3f} {row['rtf_platform']:12.3f} {row['ratio']:6.3f}")
    print(f"\n{'format':6} {'first audio':>12} {'full response':>14}")
    for fmt, row in ttfa.items():
        print(f"{fmt:6} {row['first_audio_ms']:10.0f}ms {row['full_response_ms']:12.0f}ms")
    print(f"\n{'reference':24} {'cloned':>7} {'base':>7}")
    for row in clones:
        print(f"{row['reference']:24} {row['cloned_similarity']:7.3f} {row['base_similarity']:7.3f}")
    path = write_result(
        "tts",
        {
            "runs": args.runs,
            "target_ratio": 1.05,
            "target_first_audio_ms": 250,
            "formats": formats,
            "time_to_first_audio": ttfa,
            "clone_similarity": clones,
        },
    )
    print(f"written to {path}")


if __name__ == "__main__":
    main()
