"""Platform overhead: sync endpoints (API -> Redis -> Celery worker -> store -> API) vs a direct engine call.

Same text, voice, format and model settings on both sides; the direct side includes the same encode/decode
work the worker does. Prints the median of several runs and the ratio (target: platform <= 1.05x direct for
a ~10-second utterance), and writes bench/results/overhead.json.

    python -m bench.overhead [--runs 7]
"""

from __future__ import annotations

import argparse
import io

import httpx
import numpy as np

from bench.common import median, running_platform, time_runs, write_result
from shared import audio
from shared.catalog import MODELS

TEXT = (
    "Speech to Speech AI runs on a laptop with one command and scales to a cluster of workers. "
    "This sentence is long enough to produce about ten seconds of audio, which is what we measure here."
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--format", default="mp3")
    args = parser.parse_args()

    from workers.engines.base import SynthesisOptions, TranscribeOptions
    from workers.engines.piper import PiperEngine
    from workers.engines.whisper import WhisperEngine

    with running_platform("piper,whisper-base") as p:
        tts = PiperEngine.load(p.model_dir, MODELS["piper"])
        stt = WhisperEngine.load(p.model_dir, MODELS["whisper-base"])

        def direct_tts() -> bytes:
            samples = np.concatenate(list(tts.synthesize(TEXT, SynthesisOptions(voice="joe"))))
            return audio.encode(samples, tts.sample_rate, args.format)

        clip = direct_tts()
        clip_seconds = audio.probe(io.BytesIO(clip)).duration

        def direct_stt() -> str:
            samples = audio.decode(io.BytesIO(clip), sample_rate=16000)
            segments, _ = stt.transcribe(samples, TranscribeOptions())
            return " ".join(s.text for s in segments)

        client = httpx.Client(base_url=p.base_url, headers={"Authorization": f"Bearer {p.api_key}"}, timeout=300)

        def platform_tts() -> bytes:
            r = client.post(
                "/v1/audio/speech", json={"model": "piper", "voice": "joe", "input": TEXT, "format": args.format}
            )
            r.raise_for_status()
            return r.content

        def platform_stt() -> str:
            r = client.post(
                "/v1/audio/transcriptions",
                files={"file": (f"clip.{args.format}", clip)},
                data={"model": "whisper-base"},
            )
            r.raise_for_status()
            return str(r.json()["text"])

        # interleave so machine-speed drift hits both sides alike
        rows = {}
        for name, direct, via_api in (("tts", direct_tts, platform_tts), ("stt", direct_stt, platform_stt)):
            d_times: list[float] = []
            p_times: list[float] = []
            time_runs(direct, 0, warmup=1)
            time_runs(via_api, 0, warmup=1)
            for _ in range(args.runs):
                d_times += time_runs(direct, 1, warmup=0)
                p_times += time_runs(via_api, 1, warmup=0)
            rows[name] = {
                "direct_median_s": round(median(d_times), 4),
                "platform_median_s": round(median(p_times), 4),
                "ratio": round(median(p_times) / median(d_times), 4),
                "overhead_ms": round((median(p_times) - median(d_times)) * 1000, 1),
                "direct_runs_s": [round(t, 4) for t in d_times],
                "platform_runs_s": [round(t, 4) for t in p_times],
            }
        client.close()

    print(f"clip: {clip_seconds:.2f} s of audio ({args.format}), {args.runs} runs each, medians")
    print(f"{'':5} {'direct':>10} {'platform':>10} {'ratio':>7} {'overhead':>10}")
    for name, row in rows.items():
        print(
            f"{name:5} {row['direct_median_s']:>9.3f}s {row['platform_median_s']:>9.3f}s "
            f"{row['ratio']:>6.3f}x {row['overhead_ms']:>8.1f}ms"
        )
    path = write_result(
        "overhead",
        {"clip_seconds": clip_seconds, "format": args.format, "runs": args.runs, "target_ratio": 1.05, "results": rows},
    )
    print(f"written to {path}")


if __name__ == "__main__":
    main()
