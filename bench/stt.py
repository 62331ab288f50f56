"""Speech-to-text benchmark: platform end to end vs a bare faster-whisper call, WER, DER and long-file memory.

For each clip in tests/data: the real-time factor of POST /v1/audio/transcriptions (sync) and of a bare
`faster_whisper.WhisperModel.transcribe` with the same model and settings in this process (target ratio <= 1.05),
the word error rate against the reference transcript, and the diarization error rate where an RTTM exists.
Then a long file (default 60 minutes, made of the test clips) goes through the platform as an async job while the
worker's peak resident memory is sampled. Results: bench/results/stt.json and a table on stdout.

    python -m bench.stt [--runs 3] [--long-minutes 60]
"""

from __future__ import annotations

import argparse
import contextlib
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import psutil

from bench.common import median, running_platform, write_result
from shared import audio
from tests.media import concat
from tests.services import TESTDATA
from tests.text import wer
from workers.engines.whisper import DEFAULT_TEMPERATURES

CLIPS = [
    "jfk.flac",
    "leopard_test_en.wav",
    "leopard_test_de.wav",
    "leopard_test_es.wav",
    "leopard_test_fr.wav",
    "pyannote_ami_tst00.wav",
]


def der(rttm: Path, segments: list[dict]) -> float:
    from pyannote.core import Annotation, Segment
    from pyannote.metrics.diarization import DiarizationErrorRate

    reference, hypothesis = Annotation(), Annotation()
    for line in rttm.read_text().splitlines():
        p = line.split()
        reference[Segment(float(p[3]), float(p[3]) + float(p[4]))] = p[7]
    for seg in segments:
        hypothesis[Segment(seg["start"], seg["end"])] = seg.get("speaker") or "?"
    return float(DiarizationErrorRate()(reference, hypothesis))


class PeakRSS:
    """Samples the resident memory of a process tree (the worker and its pool children) in the background."""

    def __init__(self, pid: int) -> None:
        self.root = psutil.Process(pid)
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> int:
        procs = [self.root, *self.root.children(recursive=True)]
        return max((p.memory_info().rss for p in procs if p.is_running()), default=0)

    def _run(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(psutil.Error):
                self.peak = max(self.peak, self._sample())
            time.sleep(0.2)

    def __enter__(self) -> PeakRSS:
        self.baseline = self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--model", default="whisper-base")
    parser.add_argument("--long-minutes", type=float, default=60.0)
    args = parser.parse_args()

    from faster_whisper import WhisperModel

    with running_platform(f"piper,{args.model}") as p:
        bare = WhisperModel(str(p.model_dir / args.model), device="cpu", compute_type="int8")
        client = httpx.Client(base_url=p.base_url, headers={"Authorization": f"Bearer {p.api_key}"}, timeout=3600)
        rows = []
        for clip in CLIPS:
            path = TESTDATA / clip
            seconds = audio.probe(path).duration

            def direct(path: Path = path) -> str:
                segments, _ = bare.transcribe(
                    str(path),
                    beam_size=5,
                    vad_filter=True,
                    condition_on_previous_text=False,
                    temperature=DEFAULT_TEMPERATURES,
                )
                return " ".join(s.text.strip() for s in segments)

            def platform(path: Path = path, clip: str = clip) -> dict:
                r = client.post(
                    "/v1/audio/transcriptions",
                    files={"file": (clip, path.read_bytes())},
                    data={"model": args.model, "response_format": "verbose_json"},  # with `coverage`
                )
                r.raise_for_status()
                return dict(r.json())

            direct()
            platform()
            d_times, p_times = [], []
            for _ in range(args.runs):
                t0 = time.perf_counter()
                d_text = direct()
                d_times.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                body = platform()
                p_times.append(time.perf_counter() - t0)
            row = {
                "clip": clip,
                "seconds": seconds,
                "rtf_direct": round(median(d_times) / seconds, 4),
                "rtf_platform": round(median(p_times) / seconds, 4),
                "ratio": round(median(p_times) / median(d_times), 4),
                "language": body["language"],
                "coverage": body.get("coverage"),  # share of the VAD speech some segment covers
            }
            reference = path.with_suffix(".txt")
            if reference.exists():
                row["wer_platform"] = round(wer(reference.read_text(), body["text"]), 4)
                row["wer_direct"] = round(wer(reference.read_text(), d_text), 4)
            rttm = path.with_suffix(".rttm")
            if rttm.exists():
                r = client.post(
                    "/v1/audio/transcriptions",
                    files={"file": (clip, path.read_bytes())},
                    data={"model": args.model, "diarization": "true"},
                )
                row["der"] = round(der(rttm, r.json()["segments"]), 4)
                row["speakers"] = len(r.json().get("speakers", []))
            rows.append(row)
            print(row, flush=True)

        long_result = None
        if args.long_minutes > 0:
            clips = [TESTDATA / c for c in CLIPS[:5]]
            one_round = concat(clips, gap_seconds=2.0)
            repeats = int(np.ceil(args.long_minutes * 60 * 16000 / one_round.size))
            with tempfile.TemporaryDirectory() as tmp:
                long_path = Path(tmp) / "long.mp3"
                encoder = audio.StreamEncoder("mp3", 16000, streaming=False)
                with long_path.open("wb") as fh:
                    for _ in range(repeats):
                        fh.write(encoder.write(one_round))
                    fh.write(encoder.close())
                seconds = audio.probe(long_path).duration
                print(f"long file: {seconds / 60:.1f} min, {long_path.stat().st_size / 1e6:.1f} MB mp3", flush=True)
                worker_pid = next(
                    pr.pid
                    for pr in psutil.Process().children(recursive=True)
                    if "worker" in " ".join(pr.cmdline()) and "uvicorn" not in " ".join(pr.cmdline())
                )
                with PeakRSS(worker_pid) as mem, long_path.open("rb") as fh:
                    t0 = time.perf_counter()
                    r = client.post(
                        "/v1/audio/transcriptions",
                        files={"file": ("long.mp3", fh)},
                        data={"model": args.model, "async": "true"},
                    )
                    job_id = r.json()["id"]
                    last = -1.0
                    while True:
                        job = client.get(f"/v1/jobs/{job_id}").json()
                        if job["progress"] - last >= 0.1:
                            last = job["progress"]
                            print(f"  progress {job['progress']:.2f}", flush=True)
                        if job["status"] in ("succeeded", "failed"):
                            break
                        time.sleep(2)
                    took = time.perf_counter() - t0
                long_result = {
                    "minutes": round(seconds / 60, 2),
                    "status": job["status"],
                    "rtf": round(took / seconds, 4),
                    "worker_rss_before_mb": round(mem.baseline / 2**20, 1),
                    "worker_rss_peak_mb": round(mem.peak / 2**20, 1),
                    "segments": len((job.get("result") or {}).get("segments", [])),
                }
                print(long_result, flush=True)
        client.close()

    print(
        f"\n{'clip':28} {'sec':>6} {'RTF direct':>10} {'RTF platform':>12} {'ratio':>6} {'WER':>6} {'DER':>6} "
        f"{'coverage':>8}"
    )
    for row in rows:
        w = f"{row['wer_platform']:.3f}" if "wer_platform" in row else "-"
        d = f"{row['der']:.3f}" if "der" in row else "-"
        print(
            f"{row['clip']:28} {row['seconds']:6.1f} {row['rtf_direct']:10.3f} {row['rtf_platform']:12.3f} "
            f"{row['ratio']:6.3f} {w:>6} {d:>6} {row['coverage'] if row['coverage'] is not None else '-':>8}"
        )
    path = write_result(
        "stt", {"model": args.model, "runs": args.runs, "target_ratio": 1.05, "clips": rows, "long_file": long_result}
    )
    print(f"written to {path}")


if __name__ == "__main__":
    main()
