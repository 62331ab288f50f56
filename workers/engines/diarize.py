"""Speaker diarization: who spoke when.

Two backends behind one interface:
- `PyannoteDiarizer`: a pyannote.audio pipeline installed under `<model_dir>/pyannote-diarization/` (optional
  extra; its weights are gated, so they are never bundled).
- `BundledDiarizer`: the job's speech regions (the one VAD pass, workers/speech_map.py) -> resemblyzer speaker
  embeddings on sliding windows -> agglomerative clustering (speaker count estimated by a distance threshold, or
  fixed / bounded by the request) -> speaker turns.

Both consume 16 kHz mono audio in chunks (`add_chunk`) so long files never sit in memory whole, and produce
turns with `finish()`. Words and segments are then labelled through an interval index of the turns
(`assign_speakers`).
"""

from __future__ import annotations

import bisect
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from workers.engines.base import ModelNotInstalled, Segment

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000
PYANNOTE_DIR = "pyannote-diarization"

# Window and clustering parameters of the bundled pipeline, tuned on tests/data/pyannote_ami_tst00.wav (RTTM)
# and fw_stereo_diarization.wav; never on the holdout set.
WINDOW_SECONDS = 1.5
HOP_SECONDS = 0.75
MIN_REGION_SECONDS = 0.3
DISTANCE_THRESHOLD = 0.4  # cosine distance (average linkage) above which clusters stay apart
# Multichannel recordings (a microphone per participant): where a window was heard is a speaker cue too, as in
# the TDOA/delay features meeting diarizers fuse with acoustic ones. Channels correlated above the limit are
# copies of one mix and carry no such cue.
CHANNEL_WEIGHT = 0.5
CHANNEL_CORRELATION_LIMIT = 0.8
CHANNEL_DB_SCALE = 20.0


@dataclass(frozen=True)
class Turn:
    start: float
    end: float
    speaker: str
    # how strongly the speaker dominates the turn (mean activation, 0-1): in overlapped speech a word goes to the
    # speaker who dominates it (speaker_at weighs overlap by it); 1.0 where a pipeline has no such measure
    weight: float = 1.0


@dataclass
class SpeakerConstraints:
    num_speakers: int | None = None
    min_speakers: int | None = None
    max_speakers: int | None = None


class Diarizer(Protocol):
    name: str

    def reset(self) -> None: ...

    def add_chunk(
        self,
        audio: np.ndarray,
        offset: float,
        channels: np.ndarray | None,
        speech: list[tuple[float, float]],
    ) -> None:
        """One chunk of the recording: its mono mix, where it starts, its channels (multichannel files) and its
        speech regions (seconds from the chunk's start)."""
        ...

    def finish(self, constraints: SpeakerConstraints) -> list[Turn]: ...


def load_speaker_encoder() -> Any:
    """resemblyzer's speaker encoder (the 17 MB model inside its package)."""
    try:
        from resemblyzer import VoiceEncoder
    except ImportError as exc:
        raise ModelNotInstalled("Speaker embeddings need resemblyzer: pip install -e '.[cpu]'") from exc
    return VoiceEncoder("cpu", verbose=False)


# --- the bundled pipeline --------------------------------------------------------------------------------------


@dataclass
class _Window:
    start: float
    end: float
    embedding: np.ndarray
    channels: np.ndarray | None = None  # per-channel level in dB relative to the channels' mean (multichannel)


@dataclass
class BundledDiarizer:
    encoder: Any
    name: str = "bundled"
    windows: list[_Window] = field(default_factory=list)
    channel_weight: float = 0.0

    @classmethod
    def load(cls, encoder: Any | None = None) -> BundledDiarizer:
        return cls(encoder=encoder if encoder is not None else load_speaker_encoder())

    def reset(self) -> None:
        self.windows = []
        self.channel_weight = 0.0

    def add_chunk(
        self,
        audio: np.ndarray,
        offset: float,
        channels: np.ndarray | None,
        speech: list[tuple[float, float]],
    ) -> None:
        """Embed the speech in one chunk. `channels` (C, n), when given, adds where each window was heard."""
        use_channels = channels is not None and channels.shape[0] > 1 and _channels_differ(channels)
        if use_channels:
            self.channel_weight = CHANNEL_WEIGHT
        for start, end in speech:
            if end - start < MIN_REGION_SECONDS:
                continue
            for w_start, w_end in _windows(start, end):
                lo, hi = int(w_start * SAMPLE_RATE), int(w_end * SAMPLE_RATE)
                embedding = np.asarray(self.encoder.embed_utterance(audio[lo:hi].astype(np.float32)))
                profile = None
                if use_channels and channels is not None:
                    level = 20 * np.log10(np.sqrt(np.mean(np.square(channels[:, lo:hi]), axis=1)) + 1e-6)
                    level = np.maximum(level, level.max() - CHANNEL_DB_SCALE)  # quieter than that is silence
                    profile = level - level.mean()
                self.windows.append(_Window(offset + w_start, offset + w_end, embedding, profile))

    def finish(self, constraints: SpeakerConstraints) -> list[Turn]:
        if not self.windows:
            return []
        distances = _cosine_distances(np.stack([w.embedding for w in self.windows]))
        if self.channel_weight and all(w.channels is not None for w in self.windows):
            chan = _level_distances(np.stack([w.channels for w in self.windows]))  # type: ignore[misc]
            distances = (1 - self.channel_weight) * distances + self.channel_weight * chan
        labels = cluster(distances, constraints)
        return _turns_from_windows(self.windows, labels)


def _channels_differ(channels: np.ndarray) -> bool:
    """True when the channels carry different signals (separate microphones), not copies of one mix."""
    a, b = channels[0], channels[1]
    if float(np.std(a)) < 1e-6 or float(np.std(b)) < 1e-6:
        return float(np.std(a) + np.std(b)) > 1e-6
    return abs(float(np.corrcoef(a, b)[0, 1])) < CHANNEL_CORRELATION_LIMIT


def _level_distances(levels: np.ndarray) -> np.ndarray:
    """Distance of where windows were heard: the largest per-channel level difference, CHANNEL_DB_SCALE -> 1."""
    diff = np.abs(levels[:, None, :] - levels[None, :, :]).max(axis=2)
    return np.clip(diff / CHANNEL_DB_SCALE, 0.0, 1.0)


def _cosine_distances(vectors: np.ndarray) -> np.ndarray:
    unit = vectors / (np.linalg.norm(vectors, axis=1, keepdims=True) + 1e-12)
    return np.clip(1.0 - unit @ unit.T, 0.0, 2.0)


def _windows(start: float, end: float) -> list[tuple[float, float]]:
    """Sliding windows over a speech region; a short region is one window."""
    if end - start <= WINDOW_SECONDS:
        return [(start, end)]
    out = []
    t = start
    while t + WINDOW_SECONDS < end:
        out.append((t, t + WINDOW_SECONDS))
        t += HOP_SECONDS
    out.append((max(start, end - WINDOW_SECONDS), end))
    return out


def cluster(distances: np.ndarray, constraints: SpeakerConstraints, threshold: float | None = None) -> np.ndarray:
    """Average-linkage agglomerative clustering on a distance matrix.

    The speaker count is the request's `num_speakers`, else found by the distance threshold and then clipped to
    [min_speakers, max_speakers].
    """
    n = len(distances)
    if n == 1:
        return np.zeros(1, dtype=int)
    from sklearn.cluster import AgglomerativeClustering

    def run(**kw: Any) -> np.ndarray:
        model = AgglomerativeClustering(metric="precomputed", linkage="average", **kw)
        return np.asarray(model.fit_predict(distances))

    if constraints.num_speakers:
        return run(n_clusters=min(constraints.num_speakers, n))
    labels = run(n_clusters=None, distance_threshold=DISTANCE_THRESHOLD if threshold is None else threshold)
    count = len(set(labels.tolist()))
    low = constraints.min_speakers or 1
    high = constraints.max_speakers or n
    if count < low:
        labels = run(n_clusters=min(low, n))
    elif count > high:
        labels = run(n_clusters=min(high, n))
    return labels


def _turns_from_windows(windows: list[_Window], labels: np.ndarray) -> list[Turn]:
    """Per-window labels -> speaker turns: overlapping windows split at their midpoints, equal neighbours merged."""
    order = sorted(range(len(windows)), key=lambda i: windows[i].start)
    # Name speakers by first appearance: SPEAKER_00, SPEAKER_01, ...
    names: dict[int, str] = {}
    for i in order:
        names.setdefault(int(labels[i]), f"SPEAKER_{len(names):02d}")
    turns: list[Turn] = []
    for pos, i in enumerate(order):
        w = windows[i]
        start, end = w.start, w.end
        if pos > 0:
            prev = windows[order[pos - 1]]
            if prev.end > start:
                start = (start + prev.end) / 2
        if pos + 1 < len(order):
            nxt = windows[order[pos + 1]]
            if nxt.start < end:
                end = (end + nxt.start) / 2
        if end <= start:
            continue
        speaker = names[int(labels[i])]
        if turns and turns[-1].speaker == speaker and start - turns[-1].end < 0.5:
            turns[-1] = Turn(turns[-1].start, end, speaker)
        else:
            turns.append(Turn(round(start, 3), round(end, 3), speaker))
    return [Turn(round(t.start, 3), round(t.end, 3), t.speaker) for t in turns]


# --- pyannote.audio ------------------------------------------------------------------------------------------


class PyannoteDiarizer:
    """A pyannote.audio pipeline loaded from a local folder (config.yaml plus the checkpoints it names)."""

    name = "pyannote"

    def __init__(self, pipeline: Any) -> None:
        self.pipeline = pipeline
        self._chunks: list[tuple[float, np.ndarray]] = []

    @staticmethod
    def weights_dir(model_dir: Path) -> Path:
        return model_dir / PYANNOTE_DIR

    @classmethod
    def available(cls, model_dir: Path) -> bool:
        return (cls.weights_dir(model_dir) / "config.yaml").is_file()

    @classmethod
    def load(cls, model_dir: Path, device: str | None = None) -> PyannoteDiarizer:
        path = cls.weights_dir(model_dir)
        if not (path / "config.yaml").is_file():
            raise ModelNotInstalled(
                f"No pyannote pipeline under {path}: copy a pyannote speaker-diarization pipeline folder there "
                "(config.yaml and its checkpoints)."
            )
        try:
            from pyannote.audio import Pipeline
        except ImportError as exc:
            raise ModelNotInstalled(
                f"A pyannote pipeline is installed in {path} but pyannote.audio is not: "
                "pip install -e '.[pyannote]' (it needs a torch/torchaudio pair that load together)."
            ) from exc
        pipeline = Pipeline.from_pretrained(str(path / "config.yaml"))
        if pipeline is None:
            raise ModelNotInstalled(f"pyannote could not build a pipeline from {path / 'config.yaml'}")
        if device:
            import torch

            pipeline.to(torch.device(device))
        return cls(pipeline)

    def reset(self) -> None:
        self._chunks = []

    def add_chunk(
        self,
        audio: np.ndarray,
        offset: float,
        channels: np.ndarray | None,
        speech: list[tuple[float, float]],
    ) -> None:
        self._chunks.append((offset, np.asarray(audio, dtype=np.float32)))

    def finish(self, constraints: SpeakerConstraints) -> list[Turn]:
        import torch

        turns: list[Turn] = []
        kwargs = {k: v for k, v in vars(constraints).items() if v}
        # pyannote clusters per chunk; speakers are re-linked across chunks by their turn embeddings upstream
        for offset, audio in self._chunks:
            result = self.pipeline({"waveform": torch.from_numpy(audio)[None, :], "sample_rate": SAMPLE_RATE}, **kwargs)
            annotation = getattr(result, "speaker_diarization", result)
            for segment, _, label in annotation.itertracks(yield_label=True):
                turns.append(Turn(round(offset + segment.start, 3), round(offset + segment.end, 3), str(label)))
        names: dict[str, str] = {}
        for t in sorted(turns, key=lambda t: t.start):
            names.setdefault(t.speaker, f"SPEAKER_{len(names):02d}")
        return sorted((Turn(t.start, t.end, names[t.speaker]) for t in turns), key=lambda t: t.start)


def load_diarizer(model_dir: Path, encoder: Any | None = None) -> Diarizer:
    """A pyannote pipeline the user installed, when it loads; else segmentation-3.0 + CAM++ (the bundled models,
    workers/engines/segmentation_diarizer.py); else, without those packages, the window pipeline (`encoder`)."""
    if PyannoteDiarizer.available(model_dir):
        try:
            return PyannoteDiarizer.load(model_dir)
        except ModelNotInstalled as exc:
            log.warning("%s; using the bundled diarization pipeline instead", exc)
    from workers.engines.segmentation_diarizer import SegmentationDiarizer

    try:
        return SegmentationDiarizer.load(model_dir)
    except ModelNotInstalled as exc:
        log.warning("%s; using the window diarization pipeline instead", exc)
    return BundledDiarizer.load(encoder)


# --- speaker assignment ----------------------------------------------------------------------------------------


class TurnIndex:
    """Speaker turns indexed by time: the turns overlapping an interval in O(log n + overlaps).

    Turns are sorted by start with a running maximum of their ends, so a query bisects to the last turn starting
    before the interval ends and walks back only while some earlier turn can still reach into the interval.
    """

    def __init__(self, turns: list[Turn]) -> None:
        self.turns = sorted(turns, key=lambda t: (t.start, t.end))
        self.starts = [t.start for t in self.turns]
        self.reach: list[int] = []  # index of the turn with the latest end among turns[0..i]
        for i, t in enumerate(self.turns):
            self.reach.append(i if not self.reach or t.end > self.turns[self.reach[-1]].end else self.reach[-1])

    def overlapping(self, start: float, end: float) -> list[Turn]:
        """Turns that share time with [start, end] (or contain the instant, when start == end), by start."""
        found: list[Turn] = []
        i = bisect.bisect_left(self.starts, end) - 1 if end > start else bisect.bisect_right(self.starts, end) - 1
        while i >= 0 and self.turns[self.reach[i]].end > start:
            if self.turns[i].end > start:
                found.append(self.turns[i])
            i -= 1
        return found[::-1]

    def speaker_at(self, start: float, end: float) -> str | None:
        """The speaker overlapping [start, end] the most (overlap weighted by each turn's dominance); the nearest
        turn's when nothing overlaps."""
        if not self.turns:
            return None
        best, best_overlap = None, 0.0
        for turn in self.overlapping(start, end):
            overlap = (min(end, turn.end) - max(start, turn.start)) * turn.weight
            if overlap > best_overlap:
                best, best_overlap = turn.speaker, overlap
        if best is not None:
            return best
        # nothing overlaps (or a zero-length interval): a turn around its middle, else the nearest one
        mid = (start + end) / 2
        around = self.overlapping(mid, mid)
        if around:
            return around[0].speaker
        i = bisect.bisect_left(self.starts, mid)
        candidates = [self.turns[self.reach[i - 1]]] if i > 0 else []  # ends last before mid
        if i < len(self.turns):
            candidates.append(self.turns[i])  # starts first after mid
        return min(candidates, key=lambda t: min(abs(mid - t.start), abs(mid - t.end))).speaker


def assign_speakers(segments: list[Segment], turns: list[Turn]) -> list[Segment]:
    """Label words and segments by time overlap; a segment whose words change speaker is split there."""
    index = TurnIndex(turns)
    out: list[Segment] = []
    for seg in segments:
        if not seg.words:
            seg.speaker = index.speaker_at(seg.start, seg.end)
            out.append(seg)
            continue
        for word in seg.words:
            word.speaker = index.speaker_at(word.start, word.end)
        run = [seg.words[0]]
        for word in seg.words[1:]:
            if word.speaker != run[-1].speaker:
                out.append(_segment_from_words(seg, run))
                run = [word]
            else:
                run.append(word)
        out.append(_segment_from_words(seg, run))
    for i, seg in enumerate(out):
        seg.id = i
    return out


def _segment_from_words(parent: Segment, words: list[Any]) -> Segment:
    return Segment(
        id=parent.id,
        start=words[0].start,
        end=words[-1].end,
        text="".join(w.word for w in words).strip(),
        words=list(words),
        avg_logprob=parent.avg_logprob,
        no_speech_prob=parent.no_speech_prob,
        compression_ratio=parent.compression_ratio,
        temperature=parent.temperature,
        speaker=words[0].speaker,
        channel=parent.channel,
    )
