"""Consent-recording thresholds: how well whisper-base and a speaker encoder (resemblyzer, CAM++) tell a real
consent recording from others.

For each speaker (Kokoro's voices standing in for people, plus the real single-speaker development clips split in
two), a "sample" and a "consent recording" are compared with the encoder the clone job uses:
- same speaker, different words: the similarity a genuine consent recording gets;
- different speakers: what someone else reading the phrase gets.
And whisper-base's word error rate on the consent phrase read by each voice, against its WER on a different
sentence (what a recording of the wrong words scores). The thresholds of workers/consent.py sit between the two
distributions. Development data only (never the holdout clips).

    python -m bench.consent
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import write_result
from shared import audio
from shared.catalog import MODELS
from shared.config import Settings
from shared.model_store import install_bundled
from tests.services import TESTDATA
from workers.consent import MAX_PHRASE_WER, MIN_SPEAKER_SIMILARITY, phrase_error
from workers.enroll import cosine

VOICES = ["af_heart", "af_bella", "af_nicole", "af_sky", "am_adam", "am_michael", "am_onyx", "bf_emma", "bm_george",
          "bm_lewis"]  # fmt: skip
SAMPLE_TEXT = (
    "The birch canoe slid on the smooth planks. Glue the sheet to the dark blue background. "
    "It is easy to tell the depth of a well. These days a chicken leg is a rare dish."
)
OTHER_TEXT = "Rice is often served in round bowls, and the juice of lemons makes fine punch."
REAL_CLIPS = ["jfk.flac", "leopard_test_en.wav", "leopard_test_es.wav", "leopard_test_fr.wav", "leopard_test_de.wav"]


def main() -> None:
    from resemblyzer import VoiceEncoder

    from workers.engines.base import SynthesisOptions, TranscribeOptions
    from workers.engines.kokoro import KokoroEngine
    from workers.engines.whisper import WhisperEngine
    from workers.synthesis import synthesize_pieces

    phrase = Settings().consent_phrase
    model_dir = Path(os.environ.get("MODEL_DIR") or tempfile.mkdtemp(prefix="s2s-consent-"))
    for model_id in ("kokoro", "whisper-base"):
        install_bundled(MODELS[model_id], model_dir)
    kokoro = KokoroEngine.load(model_dir, MODELS["kokoro"])
    whisper = WhisperEngine.load(model_dir, MODELS["whisper-base"])
    encoder = VoiceEncoder("cpu", verbose=False)
    from workers.engines.segmentation_diarizer import SegmentationDiarizer

    campplus = SegmentationDiarizer.load(model_dir)

    def speak(voice: str, text: str) -> np.ndarray:
        out = np.concatenate(list(synthesize_pieces(kokoro, text, SynthesisOptions(voice=voice))))
        return audio.resample(out, kokoro.sample_rate, 16000)

    def heard(samples: np.ndarray) -> str:
        segments, _ = whisper.transcribe(samples, TranscribeOptions(language=None))
        return " ".join(s.text for s in segments)

    def embed(samples: np.ndarray) -> dict[str, np.ndarray]:
        return {
            "resemblyzer": np.asarray(encoder.embed_utterance(samples), dtype=np.float64),
            "campplus": np.asarray(campplus.embed(samples), dtype=np.float64),
        }

    samples: dict[str, dict[str, np.ndarray]] = {}
    consents: dict[str, dict[str, np.ndarray]] = {}
    rows: list[dict[str, Any]] = []
    for voice in VOICES:
        samples[voice] = embed(speak(voice, SAMPLE_TEXT))
        spoken = speak(voice, phrase)
        consents[voice] = embed(spoken)
        other = speak(voice, OTHER_TEXT)
        rows.append(
            {
                "voice": voice,
                "phrase_wer": round(phrase_error(phrase, heard(spoken)), 3),
                "other_sentence_wer": round(phrase_error(phrase, heard(other)), 3),
            }
        )
        print(rows[-1], flush=True)
    for clip in REAL_CLIPS:  # a real person: the first half is the sample, the second the "recording"
        wave = audio.decode(TESTDATA / clip, sample_rate=16000)
        half = wave.size // 2
        samples[clip], consents[clip] = embed(wave[:half]), embed(wave[half:])

    encoders: dict[str, Any] = {}
    for name in ("resemblyzer", "campplus"):
        same = {k: round(cosine(samples[k][name], consents[k][name]), 3) for k in samples}
        different = sorted(
            (round(cosine(samples[a][name], consents[b][name]), 3), a, b) for a in samples for b in samples if a != b
        )
        print(f"\n{name}: same speaker (sample vs its consent recording):")
        for k, v in same.items():
            print(f"  {k:22} {v:.3f}")
        p95 = float(np.percentile([d[0] for d in different], 95))
        print(f"{name}: different speakers: {len(different)} pairs, max {different[-1]}, 95th percentile {p95:.3f}")
        margin = min(same.values()) - different[-1][0]
        print(f"{name}: lowest genuine {min(same.values()):.3f}, highest impostor {different[-1][0]:.3f}")
        grid = {
            f"{t:.2f}": (int(sum(v < t for v in same.values())), int(sum(d[0] >= t for d in different)))
            for t in np.arange(0.60, 0.86, 0.02)
        }
        print(f"{name}: threshold -> (genuine refused of {len(same)}, impostors accepted of {len(different)}): {grid}")
        encoders[name] = {
            "same_speaker": same,
            "different_speakers_max": list(different[-1]),
            "different_speakers_p95": round(p95, 3),
            "margin": round(margin, 3),
            "errors_by_threshold": grid,
        }
    threshold = MIN_SPEAKER_SIMILARITY
    same = encoders["campplus"]["same_speaker"]
    false_rejects = [k for k, v in same.items() if v < threshold]
    false_accepts = [
        (a, b)
        for a in samples
        for b in samples
        if a != b and cosine(samples[a]["campplus"], consents[b]["campplus"]) >= threshold
    ]
    print(
        f"CAM++ at threshold {threshold}: {len(false_rejects)} genuine refused {false_rejects}, "
        f"{len(false_accepts)} impostor pairs accepted {false_accepts}"
    )
    wers = [r["phrase_wer"] for r in rows]
    others = [r["other_sentence_wer"] for r in rows]
    print(f"phrase WER: max {max(wers)}; other sentence WER: min {min(others)} (threshold {MAX_PHRASE_WER})")
    path = write_result(
        "consent",
        {
            "phrase": phrase,
            "thresholds": {"max_phrase_wer": MAX_PHRASE_WER, "min_speaker_similarity": MIN_SPEAKER_SIMILARITY},
            "wer": rows,
            "encoders": encoders,
            "false_rejects": false_rejects,
            "false_accepts": [list(d) for d in false_accepts],
        },
    )
    print(f"written to {path}")


if __name__ == "__main__":
    main()
