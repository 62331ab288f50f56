"""Diarization: the new pipeline (segmentation-3.0 + CAM++, workers/engines/segmentation_diarizer.py) against the
previous bundled one (VAD regions, resemblyzer windows, agglomerative clustering) and two one-speaker baselines
(every reference speech second labelled as one speaker; and, without the reference, the VAD's speech regions as one
speaker), per file with a reference RTTM. `--analyse` splits the development clips' error: the ceiling of a model
that hears at most 2 (or 3) voices at once, and the pipeline with a perfect clustering
(bench/results/diarization-analysis.json). pyannote.audio's own pipeline with the same models, the reference for
the port, runs in bench/diarization_pyannote.py (a venv of its own).

DER with a 0.25 s collar, with and without overlapped speech scored; missed / false alarm / confusion; speakers
found vs true; real-time factor; peak resident memory of this process. Development clips by default
(tests/data, plus the synthetic conversations of tests/conversations.py); `--holdout` scores the acceptance
clips of ../shared/testdata/holdout (evaluation only: nothing in
the pipeline was chosen on them). Writes bench/results/diarization[-holdout].json.

    python -m bench.diarization [--holdout] [--long 60] [--analyse]
"""

from __future__ import annotations

import argparse
import resource
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import write_result
from tests.services import ROOT, TESTDATA

HOLDOUT = ROOT.parent / "shared" / "testdata" / "holdout"


def decode(path: Path) -> np.ndarray:
    from shared import audio

    return audio.decode(str(path), sample_rate=16000)


def reference(path: Path) -> Any:
    from pyannote.core import Annotation, Segment

    ref = Annotation()
    for line in path.read_text().splitlines():
        parts = line.split()
        if parts and parts[0] == "SPEAKER":
            start, duration = float(parts[3]), float(parts[4])
            ref[Segment(start, start + duration)] = parts[7]
    return ref


def score(ref: Any, turns: list[Any], seconds: float, skip_overlap: bool = False) -> dict[str, float]:
    from pyannote.core import Annotation, Segment
    from pyannote.metrics.diarization import DiarizationErrorRate

    hyp = Annotation()
    for t in turns:
        if t.end > t.start:
            hyp[Segment(t.start, t.end)] = t.speaker
    metric = DiarizationErrorRate(collar=0.25, skip_overlap=skip_overlap)
    parts = metric(ref, hyp, uem=Segment(0, seconds), detailed=True)
    total = parts["total"] or 1.0
    return {
        "der": round(parts["diarization error rate"], 4),
        "missed": round(parts["missed detection"] / total, 4),
        "false_alarm": round(parts["false alarm"] / total, 4),
        "confusion": round(parts["confusion"] / total, 4),
        "speakers": len(hyp.labels()),
        "scored_seconds": round(parts["total"], 3),  # reference speech scored (outside the collars)
    }


def clips(folder: Path, synthetic: bool) -> Iterator[tuple[str, np.ndarray, Any]]:
    """(name, samples, reference) of each clip with an RTTM in folder, then the synthetic conversations."""
    from pyannote.core import Annotation, Segment

    from tests.conversations import CONVERSATIONS, conversation

    for rttm in sorted(p for p in folder.glob("*.rttm") if p.with_suffix(".wav").exists()):
        yield rttm.with_suffix(".wav").name, decode(rttm.with_suffix(".wav")), reference(rttm)
    for name in CONVERSATIONS if synthetic else ():
        samples, turns = conversation(name)
        ref = Annotation()
        for start, end, label in turns:
            ref[Segment(start, end)] = label
        yield name, samples, ref


def one_speaker(ref: Any) -> list[Any]:
    """Every reference speech second as one speaker: the baseline given the true speech regions for free."""
    from workers.engines.diarize import Turn

    return [Turn(s.start, s.end, "ONE") for s in ref.get_timeline().support()]


def one_speaker_vad(speech: list[tuple[float, float]]) -> list[Any]:
    """The VAD's speech regions as one speaker: the one-speaker baseline a system without the reference gets."""
    from workers.engines.diarize import Turn

    return [Turn(start, end, "ONE") for start, end in speech]


def run(diarizer: Any, samples: np.ndarray, speech: list[tuple[float, float]]) -> tuple[list[Any], float]:
    from workers.engines.diarize import SpeakerConstraints

    started = time.perf_counter()
    diarizer.reset()
    diarizer.add_chunk(samples, 0.0, None, speech)
    turns = diarizer.finish(SpeakerConstraints())
    return turns, time.perf_counter() - started


def capped(ref: Any, seconds: float, most: int, step: float = 0.01) -> list[Any]:
    """The reference itself with at most `most` speakers per frame (the most talkative kept): the best a model
    that labels at most `most` voices at once can do, with no confusion."""
    from workers.engines.diarize import Turn

    labels = sorted(ref.labels(), key=lambda label: -ref.label_duration(label))
    active = np.zeros((round(seconds / step), len(labels)), dtype=bool)
    for seg, _, label in ref.itertracks(yield_label=True):
        active[round(seg.start / step) : round(seg.end / step), labels.index(label)] = True
    kept = active & (np.cumsum(active, axis=1) <= most)  # columns ordered by talk time
    turns = []
    for k, label in enumerate(labels):
        edges = np.flatnonzero(np.diff(np.concatenate([[0], kept[:, k].astype(int), [0]])))
        turns += [Turn(a * step, b * step, label) for a, b in edges.reshape(-1, 2)]
    return turns


def oracle_clusters(diarizer: Any, ref: Any) -> list[Any]:
    """The pipeline's own windows and local speakers (after `finish`), each local speaker given the reference
    speaker it overlaps most in its window (one-to-one): the DER of a perfect clustering."""
    from scipy.optimize import linear_sum_assignment

    labels = sorted(ref.labels())
    step, frames = diarizer.frame_step, diarizer.windows[0].activity.shape[0]
    offset = float(diarizer.segmentation.frame_start) + float(diarizer.segmentation.frame_duration) / 2
    assignment = np.full((len(diarizer.windows), diarizer.windows[0].activity.shape[1]), -1)
    for w, window in enumerate(diarizer.windows):
        times = window.start + offset + np.arange(frames) * step
        truth = np.zeros((frames, len(labels)))
        for seg, _, label in ref.itertracks(yield_label=True):
            truth[(times >= seg.start) & (times < seg.end), labels.index(label)] = 1
        rows, cols = linear_sum_assignment(-(window.activity.T @ truth))
        for r, c in zip(rows, cols, strict=True):
            if window.activity[:, r].any():
                assignment[w, r] = c
    return diarizer._reconstruct(assignment, len(labels))[0]


def analyse(folder: Path) -> None:
    """Where the bundled pipeline's error comes from, per development clip: the ceiling of a model that hears at
    most 2 (or 3) voices at once, the pipeline with a perfect clustering, and the pipeline as it is."""
    from workers.engines.segmentation_diarizer import SegmentationDiarizer
    from workers.speech_map import speech_regions

    diarizer = SegmentationDiarizer.load()
    rows = []
    for name, samples, ref in clips(folder, synthetic=True):
        seconds = samples.size / 16000
        turns, _ = run(diarizer, samples, speech_regions(samples))
        row = {
            "file": name,
            "speaker_seconds": round(sum(ref.label_duration(label) for label in ref.labels()), 2),
            "ceiling_2_at_once": score(ref, capped(ref, seconds, 2), seconds),
            "ceiling_3_at_once": score(ref, capped(ref, seconds, 3), seconds),
            "perfect_clustering": score(ref, oracle_clusters(diarizer, ref), seconds),
            "pipeline": score(ref, turns, seconds),
        }
        rows.append(row)
        print(name, {k: v["der"] if isinstance(v, dict) else v for k, v in row.items() if k != "file"})
    print(f"wrote {write_result('diarization-analysis', {'files': rows})}")


def long_file(minutes: float) -> None:
    """tst00 repeated to `minutes`, fed in 600 s chunks as the transcription pipeline does: time, peak RSS, and
    whether the same four voices keep the same labels across chunks (DER against the repeated RTTM)."""
    from pyannote.core import Annotation, Segment

    from workers.engines.diarize import SpeakerConstraints
    from workers.engines.segmentation_diarizer import SegmentationDiarizer
    from workers.speech_map import speech_regions

    clip = decode(TESTDATA / "pyannote_ami_tst00.wav")
    ref_clip = reference(TESTDATA / "pyannote_ami_tst00.rttm")
    repeats = max(1, round(minutes * 60 / (clip.size / 16000)))
    samples = np.tile(clip, repeats)
    seconds = samples.size / 16000
    ref = Annotation()
    for k in range(repeats):
        for seg, _, label in ref_clip.itertracks(yield_label=True):
            ref[Segment(seg.start + k * 30.0, seg.end + k * 30.0)] = label
    diarizer = SegmentationDiarizer.load()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    chunk = 600 * 16000
    for offset in range(0, samples.size, chunk):
        piece = samples[offset : offset + chunk]
        diarizer.add_chunk(piece, offset / 16000, None, speech_regions(piece))
    turns = diarizer.finish(SpeakerConstraints())
    took = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    scored = score(ref, turns, seconds)
    print(
        f"{seconds / 60:.0f} min in {took:.0f} s (RTF {took / seconds:.3f}); speakers {scored['speakers']} (true 4); "
        f"DER {scored['der']:.3f}; peak RSS {peak:.0f} MB (after loading the models {before:.0f} MB)"
    )
    write_result(
        "diarization-long",
        {"minutes": round(seconds / 60, 1), "seconds_taken": round(took, 1), "rtf": round(took / seconds, 4),
         "speakers": scored["speakers"], "der": scored["der"], "peak_rss_mb": round(peak),
         "rss_before_mb": round(before)},
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--holdout", action="store_true", help="Score the acceptance clips (evaluation only).")
    parser.add_argument("--long", type=float, metavar="MINUTES", help="Diarize tst00 repeated to this length.")
    parser.add_argument("--analyse", action="store_true", help="Error ceilings of the development clips.")
    args = parser.parse_args()
    if args.long:
        long_file(args.long)
        return
    if args.analyse:
        analyse(TESTDATA)
        return
    from workers.engines.diarize import BundledDiarizer
    from workers.engines.segmentation_diarizer import SegmentationDiarizer
    from workers.speech_map import speech_regions

    folder = HOLDOUT if args.holdout else TESTDATA
    new, old = SegmentationDiarizer.load(), BundledDiarizer.load()
    rows = []
    for name, samples, ref in clips(folder, synthetic=not args.holdout):
        seconds = samples.size / 16000
        speech = speech_regions(samples)
        row: dict[str, Any] = {"file": name, "seconds": round(seconds, 1), "true_speakers": len(ref.labels())}
        for which, diarizer in (("new", new), ("old", old)):
            turns, took = run(diarizer, samples, speech)
            row[which] = {**score(ref, turns, seconds), "der_no_overlap": score(ref, turns, seconds, True)["der"],
                         "rtf": round(took / seconds, 3)}  # fmt: skip
        row["one_speaker"] = score(ref, one_speaker(ref), seconds)
        row["one_speaker_vad"] = score(ref, one_speaker_vad(speech), seconds)
        rows.append(row)
        print(
            f"{name:32s} {seconds:6.1f}s  true {row['true_speakers']}  "
            f"new DER {row['new']['der']:.3f} ({row['new']['speakers']} spk, RTF {row['new']['rtf']:.2f})  "
            f"old {row['old']['der']:.3f} ({row['old']['speakers']} spk)  one-speaker {row['one_speaker']['der']:.3f}"
            f" (on the VAD's regions {row['one_speaker_vad']['der']:.3f})"
        )
    real = [r["new"] for r in rows if r["file"].endswith(".wav")]  # the clips with a human RTTM
    pooled = sum(r["der"] * r["scored_seconds"] for r in real) / max(1e-9, sum(r["scored_seconds"] for r in real))
    print(f"pooled DER of the clips with a human RTTM: {pooled:.3f}")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of this process: {peak_mb:.0f} MB")
    name = "diarization-holdout" if args.holdout else "diarization"
    result = {"files": rows, "pooled_der_human_rttm": round(pooled, 4), "peak_rss_mb": round(peak_mb)}
    print(f"wrote {write_result(name, result)}")


if __name__ == "__main__":
    main()
