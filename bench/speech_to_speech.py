"""Speech to speech: POST /v1/audio/voice-conversions (model `revoice`) on real speech, end to end on a real platform.

Per case: intelligibility (WER of whisper-base, the platform's own /v1/audio/transcriptions with language en, on
the output; against the source's reference transcript when re-voicing, against the job's English transcript when
dubbing), timing (mean absolute offset of each phrase's onset in the output from its `source_start`, target
<= 100 ms; output length / input length), voice (cosine similarity of the output, per voice, to the target voice
reading a reference passage via /v1/audio/speech and to the source speaker's own audio of the same phrases, with
resemblyzer and with CAM++, the platform's diarization embedder: the output should be closer to the target), and
speed: real-time factor of the sync request and, with stream=true, time to the first audio byte, against a bare
faster-whisper transcribe (translate when dubbing) + Kokoro synthesis of the whole text in this process (no
phrasing, no fitting, no platform): the ratio is the platform's overhead.

Cases: jfk.flac, leopard_test_en.wav and the LibriSpeech clip re-voiced to af_bella and am_michael; leopard_test_es
and _fr dubbed into English; the synthetic two-speaker conversation of tests/conversations.py (diarization, two
mapped voices); and, for acceptance only (reported, nothing chosen on it), the holdout pyannote_sample.wav
(diarization, voices=auto). The LibriSpeech clip lives in the holdout folder too: it is only measured here.
Writes bench/results/speech_to_speech.json and .md.

    python -m bench.speech_to_speech [--runs 2]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import time
import wave
from dataclasses import dataclass, field
from typing import Any

import httpx
import numpy as np

from bench.common import RESULTS, Platform, running_platform, write_result
from shared import audio
from tests.services import ROOT, TESTDATA
from tests.text import wer

HOLDOUT = ROOT.parent / "shared" / "testdata" / "holdout"
SHARED = ROOT.parent / "shared" / "testdata"
MODELS_USED = "piper,kokoro,whisper-base"
REFERENCE_PASSAGE = (
    "The birch canoe slid on the smooth planks. Glue the sheet to the dark blue background. "
    "It is easy to tell the depth of a well. These days a chicken leg is a rare dish. "
    "Rice is often served in round bowls. The juice of lemons makes fine punch."
)
RATE = 16000  # embeddings and onsets are measured at 16 kHz


@dataclass
class Case:
    """One conversion to measure."""

    name: str
    content: bytes
    form: dict[str, str]
    reference: str | None  # the source's transcript (None: the job's own transcript is the reference)
    dub: bool = False
    holdout: bool = False
    baseline_voice: str = "af_bella"
    extra: dict[str, Any] = field(default_factory=dict)


def wav_samples(content: bytes) -> tuple[np.ndarray, int]:
    with wave.open(io.BytesIO(content)) as w:
        rate = w.getframerate()
        data = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
    return data.astype(np.float32) / 32768.0, rate


def onset(samples: np.ndarray, rate: int, start: float, end: float, threshold_db: float = -40.0) -> float | None:
    """The first 10 ms frame above the threshold within [start, end] seconds."""
    frame = rate // 100
    piece = samples[int(start * rate) : int(end * rate)]
    n = piece.size // frame
    if n == 0:
        return None
    energy = 20 * np.log10(np.sqrt(np.mean(np.square(piece[: n * frame].reshape(n, frame)), axis=1)) + 1e-9)
    loud = np.nonzero(energy > threshold_db)[0]
    return start + loud[0] * frame / rate if loud.size else None


def phrase_offsets(out: np.ndarray, rate: int, phrases: list[dict[str, Any]]) -> list[float]:
    """|onset - source_start| per phrase, the onset searched from 0.3 s before its source start (not before the
    previous phrase's placed end) to its source end."""
    offsets, previous_end = [], 0.0
    for phrase in phrases:
        lo = max(previous_end, phrase["source_start"] - 0.3, 0.0)
        found = onset(out, rate, lo, max(phrase["source_end"], lo + 0.5))
        if found is not None:
            offsets.append(abs(found - phrase["source_start"]))
        previous_end = phrase["end"]
    return offsets


def cut(samples: np.ndarray, spans: list[tuple[float, float]]) -> np.ndarray:
    pieces = [samples[int(a * RATE) : int(b * RATE)] for a, b in spans if b > a]
    return np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.float32)


class Encoders:
    """resemblyzer's VoiceEncoder and the platform's CAM++ (workers/engines/segmentation_diarizer.py)."""

    def __init__(self) -> None:
        from resemblyzer import VoiceEncoder, preprocess_wav

        from workers.engines.segmentation_diarizer import SegmentationDiarizer

        self._resemblyzer = VoiceEncoder("cpu", verbose=False)
        self._preprocess = preprocess_wav
        self._campplus = SegmentationDiarizer.load()

    def embed(self, samples: np.ndarray) -> dict[str, np.ndarray] | None:
        if samples.size < RATE:  # under a second: no reliable voice
            return None
        r = self._resemblyzer.embed_utterance(self._preprocess(samples, source_sr=RATE))
        try:
            c = self._campplus.embed(samples)
        except ValueError:
            return None
        return {"resemblyzer": np.asarray(r / np.linalg.norm(r)), "campplus": c}


class Bench:
    def __init__(self, p: Platform) -> None:
        from faster_whisper import WhisperModel

        from shared.catalog import MODELS
        from workers.engines.kokoro import KokoroEngine

        self.client = httpx.Client(base_url=p.base_url, headers={"Authorization": f"Bearer {p.api_key}"}, timeout=900)
        self.whisper = WhisperModel(str(p.model_dir / "whisper-base"), device="cpu", compute_type="int8")
        self.kokoro = KokoroEngine.load(p.model_dir, MODELS["kokoro"])
        self.encoders = Encoders()
        self._targets: dict[str, dict[str, np.ndarray] | None] = {}

    def target(self, voice: str) -> dict[str, np.ndarray] | None:
        """The embeddings of `voice` reading the reference passage (through /v1/audio/speech)."""
        if voice not in self._targets:
            r = self.client.post(
                "/v1/audio/speech",
                json={"model": "kokoro", "voice": voice, "input": REFERENCE_PASSAGE, "response_format": "wav",
                      "stream": False},
            )  # fmt: skip
            r.raise_for_status()
            samples, rate = wav_samples(r.content)
            self._targets[voice] = self.encoders.embed(audio.resample(samples, rate, RATE))
        return self._targets[voice]

    def transcribe(self, content: bytes) -> str:
        r = self.client.post(
            "/v1/audio/transcriptions",
            files={"file": ("out.wav", content)},
            data={"model": "whisper-base", "language": "en", "response_format": "json"},
        )
        r.raise_for_status()
        return str(r.json()["text"])

    def convert(self, case: Case, **extra: str) -> httpx.Response:
        return self.client.post(
            "/v1/audio/voice-conversions",
            files={"file": (case.name, case.content)},
            data={**case.form, "response_format": "wav", **extra},
        )

    def first_byte(self, case: Case) -> tuple[float, float]:
        """(seconds to the first audio byte, seconds to the last) of the conversion streamed as raw PCM."""
        t0 = time.perf_counter()
        first = None
        with self.client.stream(
            "POST",
            "/v1/audio/voice-conversions",
            files={"file": (case.name, case.content)},
            data={**case.form, "response_format": "pcm", "stream": "true"},
        ) as r:
            r.raise_for_status()
            for chunk in r.iter_raw():
                if chunk and first is None:
                    first = time.perf_counter() - t0
        return first if first is not None else float("nan"), time.perf_counter() - t0

    def baseline(self, case: Case) -> tuple[float, float]:
        """(seconds to the first audio, seconds in all) of a bare faster-whisper transcribe (translate when
        dubbing) and Kokoro reading the whole text in one voice: no phrasing, fitting, placing or platform."""
        from workers.engines.base import SynthesisOptions
        from workers.engines.whisper import DEFAULT_TEMPERATURES
        from workers.synthesis import synthesize_pieces

        samples = audio.decode(io.BytesIO(case.content), sample_rate=RATE)
        t0 = time.perf_counter()
        segments, _ = self.whisper.transcribe(
            samples,
            task="translate" if case.dub else "transcribe",
            beam_size=5,
            vad_filter=True,
            condition_on_previous_text=False,
            temperature=DEFAULT_TEMPERATURES,
        )
        text = " ".join(s.text.strip() for s in segments)
        first = None
        for _ in synthesize_pieces(self.kokoro, text, SynthesisOptions(voice=case.baseline_voice)):
            if first is None:
                first = time.perf_counter() - t0
        return first if first is not None else float("nan"), time.perf_counter() - t0


def similarities(bench: Bench, out16: np.ndarray, source16: np.ndarray, phrases: list[dict[str, Any]]) -> dict:
    """Per output voice: cosine of its output to the target voice and to the source speaker of the same phrases."""
    by_voice: dict[str, list[dict[str, Any]]] = {}
    for phrase in phrases:
        by_voice.setdefault(phrase["voice"], []).append(phrase)
    out: dict[str, Any] = {}
    for voice, group in by_voice.items():
        converted = bench.encoders.embed(cut(out16, [(p["start"], p["end"]) for p in group]))
        source = bench.encoders.embed(cut(source16, [(p["source_start"], p["source_end"]) for p in group]))
        target = bench.target(voice)
        if converted is None or source is None or target is None:
            continue
        row: dict[str, Any] = {"phrases": len(group)}
        for encoder in ("resemblyzer", "campplus"):
            to_target = float(converted[encoder] @ target[encoder])
            to_source = float(converted[encoder] @ source[encoder])
            row[encoder] = {"target": round(to_target, 3), "source": round(to_source, 3),
                            "closer_to_target": to_target > to_source}  # fmt: skip
        out[voice] = row
    return out


def measure(bench: Bench, case: Case, runs: int) -> dict[str, Any]:
    """One case: quality from the first sync conversion; each timing the fastest of `runs` (the platform's and
    the bare pipeline's taken in turn, so that load from elsewhere on the machine hits both alike)."""
    seconds = audio.decode(io.BytesIO(case.content), sample_rate=RATE).size / RATE
    t0 = time.perf_counter()
    r = bench.convert(case)
    took = time.perf_counter() - t0
    r.raise_for_status()
    first, streamed = bench.first_byte(case)
    base_first, base_total = bench.baseline(case)
    for _ in range(runs - 1):
        t0 = time.perf_counter()
        bench.convert(case).raise_for_status()
        took = min(took, time.perf_counter() - t0)
        first, streamed = (min(a, b) for a, b in zip((first, streamed), bench.first_byte(case), strict=True))
        base_first, base_total = (
            min(a, b) for a, b in zip((base_first, base_total), bench.baseline(case), strict=True)
        )
    job = bench.client.get(f"/v1/jobs/{r.headers['x-job-id']}").json()
    result = job["result"]
    out, rate = wav_samples(r.content)
    phrases = result["phrases"]
    english = (result.get("transcript") or {}).get("text") or ""
    heard = bench.transcribe(r.content)
    reference = case.reference if case.reference is not None else english
    offsets = phrase_offsets(out, rate, phrases)
    out16 = audio.resample(out, rate, RATE)
    source16 = audio.decode(io.BytesIO(case.content), sample_rate=RATE)
    row: dict[str, Any] = {
        "case": case.name,
        "form": case.form,
        "holdout": case.holdout,
        "seconds": round(seconds, 2),
        "language": result.get("language"),
        "voices": result.get("voices"),
        "pitches": result.get("pitches"),
        "phrases": len(phrases),
        "wer": round(wer(reference, heard), 4),
        "wer_reference": "job transcript (English)" if case.reference is None else "source transcript",
        "heard": heard,
        "said": english,
        "onset_offset_ms": round(float(np.mean(offsets)) * 1000, 1) if offsets else None,
        "onset_offset_max_ms": round(float(np.max(offsets)) * 1000, 1) if offsets else None,
        "onsets_found": f"{len(offsets)}/{len(phrases)}",
        "length_ratio": round(out.size / rate / seconds, 4),
        "tempo_range": [min(p["tempo"] for p in phrases), max(p["tempo"] for p in phrases)] if phrases else None,
        "similarity": similarities(bench, out16, source16, phrases),
        "timing_runs": runs,
        "load_average_1min": round(os.getloadavg()[0], 2),  # other work on this machine skews every timing
        "rtf_platform": round(took / seconds, 3),
        "rtf_worker": round(result["processing_seconds"] / seconds, 3) if result.get("processing_seconds") else None,
        "rtf_baseline": round(base_total / seconds, 3),
        "rtf_ratio": round(took / base_total, 3),
        "first_audio_s": round(first, 3),
        "stream_total_s": round(streamed, 3),
        "first_audio_baseline_s": round(base_first, 3),
        "first_audio_ratio": round(first / base_first, 3),
    }
    return row


def cases() -> list[Case]:
    from tests.conversations import conversation

    out: list[Case] = []
    revoice = [
        (TESTDATA / "jfk.flac", False),
        (TESTDATA / "leopard_test_en.wav", False),
        (HOLDOUT / "librispeech_2412-153948-0000.flac", True),
    ]
    for path, holdout in revoice:
        for voice in ("af_bella", "am_michael"):
            out.append(Case(f"{path.name}->{voice}", path.read_bytes(), {"voice": voice},
                            path.with_suffix(".txt").read_text(), holdout=holdout, baseline_voice=voice))  # fmt: skip
    for name in ("leopard_test_es.wav", "leopard_test_fr.wav"):
        path = TESTDATA / name
        out.append(Case(f"{name}->en af_bella", path.read_bytes(), {"voice": "af_bella", "target_language": "en"},
                        None, dub=True))  # fmt: skip
    samples, _turns = conversation("conversation_2spk")
    voices = {"SPEAKER_00": "af_bella", "SPEAKER_01": "am_michael"}
    out.append(Case("conversation_2spk", audio.encode(samples, RATE, "wav"),
                    {"diarization": "true", "num_speakers": "2", "voices": json.dumps(voices)}, None))  # fmt: skip
    sample = HOLDOUT / "pyannote_sample.wav"
    out.append(Case("holdout/pyannote_sample.wav", sample.read_bytes(),
                    {"diarization": "true", "voices": "auto", "tts_model": "kokoro"},
                    sample.with_suffix(".txt").read_text(), holdout=True))  # fmt: skip
    return out


def table(rows: list[dict[str, Any]]) -> str:
    head = ("| case | s | WER | onset ms (mean/max) | length | voice: target / source (resemblyzer; CAM++) | "
            "RTF platform / bare | ratio | first audio s platform / bare | ratio |")  # fmt: skip
    lines = [head, "|" + "---|" * 10]
    for row in rows:
        sims = "; ".join(
            f"{voice}: {s['resemblyzer']['target']:.2f}/{s['resemblyzer']['source']:.2f}; "
            f"{s['campplus']['target']:.2f}/{s['campplus']['source']:.2f}"
            for voice, s in row["similarity"].items()
        )
        lines.append(
            f"| {row['case']}{' (holdout)' if row['holdout'] else ''} | {row['seconds']:.1f} | {row['wer']:.3f} | "
            f"{row['onset_offset_ms']} / {row['onset_offset_max_ms']} | {row['length_ratio']:.3f} | {sims} | "
            f"{row['rtf_platform']:.2f} / {row['rtf_baseline']:.2f} | {row['rtf_ratio']:.2f} | "
            f"{row['first_audio_s']:.2f} / {row['first_audio_baseline_s']:.2f} | {row['first_audio_ratio']:.2f} |"
        )
    return "\n".join(lines) + "\n"


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    dev = [r for r in rows if not r["holdout"]] or rows
    closer = [
        s[e]["closer_to_target"] for r in rows for s in r["similarity"].values() for e in ("resemblyzer", "campplus")
    ]
    offsets = [r["onset_offset_ms"] for r in rows if r["onset_offset_ms"] is not None]
    return {
        "rtf_ratio_median": round(float(np.median([r["rtf_ratio"] for r in dev])), 3),
        "first_audio_ratio_median": round(float(np.median([r["first_audio_ratio"] for r in dev])), 3),
        "onset_offset_ms_worst_case_mean": max(offsets) if offsets else None,
        "onset_within_100ms": sum(o <= 100 for o in offsets),
        "cases": len(rows),
        "closer_to_target": f"{sum(closer)}/{len(closer)}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=2, help="Timing runs per case (the fastest is reported).")
    args = parser.parse_args()
    with running_platform(MODELS_USED) as p:
        bench = Bench(p)
        todo = cases()
        warm = todo[0]
        bench.convert(warm).raise_for_status()  # loads the worker's transcriber and voices
        bench.first_byte(warm)
        bench.baseline(warm)
        rows: list[dict[str, Any]] = []
        for case in todo:
            row = measure(bench, case, max(1, args.runs))
            rows.append(row)
            print(
                f"{row['case']:36s} {row['seconds']:5.1f}s WER {row['wer']:.3f}  onset {row['onset_offset_ms']} ms  "
                f"len {row['length_ratio']:.3f}  RTF {row['rtf_platform']:.2f} vs bare {row['rtf_baseline']:.2f} "
                f"(ratio {row['rtf_ratio']:.2f})  first audio {row['first_audio_s']:.2f}s vs bare "
                f"{row['first_audio_baseline_s']:.2f}s (ratio {row['first_audio_ratio']:.2f})  "
                f"sim {json.dumps(row['similarity'])}",
                flush=True,
            )
        bench.client.close()
    totals = summary(rows)
    path = write_result("speech_to_speech", {"models": MODELS_USED, "summary": totals, "cases": rows})
    md = RESULTS / "speech_to_speech.md"
    md.write_text(
        "# Speech to speech (revoice) benchmark\n\n"
        "WER: whisper-base on the output (vs the source transcript; dubbing and the synthetic conversation vs the "
        "job's transcript). Onset: |output onset - phrase source_start|. Voice: cosine of the output to the target "
        "voice / to the source speaker. Bare: faster-whisper transcribe + Kokoro of the whole text in-process.\n\n"
        + table(rows)
        + f"\nSummary: {json.dumps(totals)}\n"
    )
    print(f"RTF ratio platform / bare (median over development cases): {totals['rtf_ratio_median']}")
    print(f"first-audio ratio platform (stream=true) / bare (median): {totals['first_audio_ratio_median']}")
    print(f"output closer to the target voice than to the source: {totals['closer_to_target']}")
    print(f"wrote {path} and {md}")


if __name__ == "__main__":
    main()
