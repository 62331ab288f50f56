"""Closest stock voice (POST /v1/voices/design): how close the designed Kokoro voice sounds to a reference, with two
speaker encoders (CAM++, which ranks the stock voices, and resemblyzer, which does not), beside the blend of the
two closest, the best single stock voice and the default voice (af_heart).

References: the real single-speaker development clips, and Kokoro's own voices held out one at a time (the voice
is removed from the candidates, standing in for an unseen speaker). Development data only.

    python -m bench.voice_design
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
from shared.model_store import install_bundled
from tests.services import TESTDATA
from workers.enroll import cosine
from workers.handlers.design import CALIBRATION, PROBE_TEXT, choose

REAL = ["jfk.flac", "leopard_test_en.wav"]
HELD_OUT = ["af_heart", "am_adam", "bf_emma", "bm_lewis"]
SPOKEN = "Four hours of steady work faced us, and the box was thrown beside the parked truck."


def main() -> None:
    from resemblyzer import VoiceEncoder

    from workers.engines.base import SynthesisOptions
    from workers.engines.kokoro import KokoroEngine, describe_voice
    from workers.engines.segmentation_diarizer import SegmentationDiarizer
    from workers.synthesis import synthesize_pieces

    model_dir = Path(os.environ.get("MODEL_DIR") or tempfile.mkdtemp(prefix="s2s-design-"))
    install_bundled(MODELS["kokoro"], model_dir)
    engine = KokoroEngine.load(model_dir, MODELS["kokoro"])
    campplus = SegmentationDiarizer.load(model_dir)
    resemblyzer = VoiceEncoder("cpu", verbose=False)

    def speak(voice: str, text: str) -> np.ndarray:
        out = np.concatenate(list(synthesize_pieces(engine, text, SynthesisOptions(voice=voice))))
        return audio.resample(out, engine.sample_rate, 16000)

    def embed(samples: np.ndarray) -> dict[str, np.ndarray]:
        return {"campplus": np.asarray(campplus.embed(samples)), "resemblyzer": resemblyzer.embed_utterance(samples)}

    def similarity(a: np.ndarray, b: np.ndarray) -> float:
        return round(cosine(a, b), 4)

    english = [v for v in engine.voices() if describe_voice(v).get("language") == "en"]
    stock = {v: embed(speak(v, CALIBRATION["en"])) for v in english}
    references: dict[str, np.ndarray] = {c: audio.decode(TESTDATA / c, sample_rate=16000) for c in REAL}
    references.update({f"kokoro:{v}": speak(v, SPOKEN) for v in HELD_OUT})
    rows: list[dict[str, Any]] = []
    for name, samples in references.items():
        ref = embed(samples)
        candidates = [v for v in english if f"kokoro:{v}" != name]
        ranked, designed = choose(ref, stock, candidates, 2)
        row: dict[str, Any] = {"reference": name, "blend": designed, "best_single": ranked[0].voice}
        for label, voice in (("blend", designed), ("best_single", ranked[0].voice), ("default", "af_heart")):
            spoken = embed(speak(voice, PROBE_TEXT))
            row[label + "_similarity"] = {k: similarity(ref[k], spoken[k]) for k in ref}
        # what the service returns: the blend only where CAM++ finds it closer than the best voice alone
        keep = row["blend_similarity"]["campplus"] >= row["best_single_similarity"]["campplus"]
        row["designed"] = designed if keep else ranked[0].voice
        row["designed_similarity"] = row["blend_similarity" if keep else "best_single_similarity"]
        rows.append(row)
        print(row, flush=True)
    print(f"\n{'reference':22} {'designed voice':34} {'CAM++ d/best/def':>20} {'resemblyzer d/best/def':>24}")
    for row in rows:
        c = [row[f"{k}_similarity"]["campplus"] for k in ("designed", "best_single", "default")]
        r = [row[f"{k}_similarity"]["resemblyzer"] for k in ("designed", "best_single", "default")]
        print(f"{row['reference']:22} {row['designed']:34} {'/'.join(f'{x:.2f}' for x in c):>20} "
              f"{'/'.join(f'{x:.2f}' for x in r):>24}")  # fmt: skip
    print(f"written to {write_result('voice-design', {'rows': rows})}")


if __name__ == "__main__":
    main()
