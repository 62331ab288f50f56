"""Where the speech is: one silero VAD pass over a recording, and the views each consumer needs of it.

The VAD model runs once per job (per decoded block, as the file streams in) and the map keeps its speech
probability for every 32 ms window. Each consumer then reads regions out of those probabilities with its own
settings, by silero's own rule (a region starts at a window above the threshold and ends where the probability
stayed below the lower threshold for `min_silence`; regions shorter than `min_speech` are dropped; `pad` is added
and neighbours closer than twice the padding meet in the middle), so no consumer runs the VAD again:
- Whisper reads it with faster-whisper's own defaults: the decoder sees exactly what `vad_filter` would give it;
- diarization splits turns at pauses of 250 ms, drops regions under 200 ms and pads 60 ms;
- chunking looks for the pauses where a long file is cut so no word is split.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from shared.audio import level_gain

SAMPLE_RATE = 16000
WINDOW = 512  # samples per VAD probability (32 ms)


@dataclass(frozen=True)
class View:
    """How a consumer reads the map (silero's VadOptions, without a maximum region length)."""

    min_silence: float
    min_speech: float = 0.0
    pad: float = 0.0
    threshold: float = 0.5

    @property
    def neg_threshold(self) -> float:
        return max(self.threshold - 0.15, 0.01)


WHISPER = View(min_silence=2.0, pad=0.4)  # faster-whisper's VadOptions defaults
DIARIZATION = View(min_silence=0.25, min_speech=0.2, pad=0.06)
PAUSES = View(min_silence=0.3)


def probabilities(audio: np.ndarray) -> np.ndarray:
    """Silero VAD speech probability per WINDOW samples of 16 kHz mono audio (the model faster-whisper ships),
    heard at a normal level (`shared.audio.level_gain` of the block)."""
    from faster_whisper.vad import get_vad_model

    samples = np.asarray(audio, dtype=np.float32).reshape(-1)
    if samples.size == 0:
        return np.zeros(0, dtype=np.float32)
    samples = samples * level_gain(samples)  # a quiet recording is heard as one at a normal level
    padded = np.pad(samples, (0, -samples.size % WINDOW))
    return np.asarray(get_vad_model()(padded), dtype=np.float32).reshape(-1)


def regions_from(probs: np.ndarray, n_samples: int, view: View) -> list[tuple[int, int]]:
    """Speech regions (sample ranges within the n_samples the probabilities cover) by silero's rule."""
    min_speech = SAMPLE_RATE * view.min_speech
    min_silence = SAMPLE_RATE * view.min_silence
    found: list[list[int]] = []
    triggered, start, silent_since = False, 0, 0
    for i, p in enumerate(probs.tolist()):
        position = WINDOW * i
        if p >= view.threshold:
            silent_since = 0
            if not triggered:
                triggered, start = True, position
            continue
        if triggered and p < view.neg_threshold:
            if not silent_since:
                silent_since = position
            if position - silent_since < min_silence:
                continue
            if silent_since - start > min_speech:
                found.append([start, silent_since])
            triggered, silent_since = False, 0
    if triggered and n_samples - start > min_speech:
        found.append([start, n_samples])
    pad = int(SAMPLE_RATE * view.pad)
    for i, region in enumerate(found):
        if i == 0:
            region[0] = max(0, region[0] - pad)
        if i + 1 < len(found):
            gap = found[i + 1][0] - region[1]
            if gap < 2 * pad:
                region[1] += gap // 2
                found[i + 1][0] = max(0, found[i + 1][0] - gap // 2)
            else:
                region[1] = min(n_samples, region[1] + pad)
                found[i + 1][0] = max(0, found[i + 1][0] - pad)
        else:
            region[1] = min(n_samples, region[1] + pad)
    return [(s, e) for s, e in found]


@dataclass
class SpeechMap:
    """VAD probabilities of a recording, built block by block as it decodes; read with `view`."""

    blocks: list[np.ndarray] = field(default_factory=list)
    samples: int = 0  # how much audio has been mapped

    def extend(self, block: np.ndarray) -> None:
        """Map the next block of the recording (appended right after what is already mapped)."""
        if self.samples % WINDOW:
            raise ValueError("only the last block of a recording may end inside a VAD window")
        self.blocks.append(probabilities(block))
        self.samples += int(np.asarray(block).shape[-1])

    @classmethod
    def of(cls, audio: np.ndarray) -> SpeechMap:
        speech = cls()
        speech.extend(audio)
        return speech

    def _probs(self) -> np.ndarray:
        if len(self.blocks) > 1:
            self.blocks = [np.concatenate(self.blocks)]
        return self.blocks[0] if self.blocks else np.zeros(0, dtype=np.float32)

    def view(self, view: View, start: int = 0, end: int | None = None) -> list[tuple[float, float]]:
        """Speech in [start, end) (samples) as `view` reads it, in seconds from `start`."""
        end = self.samples if end is None else min(end, self.samples)
        first, last = start // WINDOW, -(-end // WINDOW)
        origin = first * WINDOW  # the window grid's sample where this range's first window starts
        found = regions_from(self._probs()[first:last], end - origin, view)
        return [
            ((max(s + origin, start) - start) / SAMPLE_RATE, (e + origin - start) / SAMPLE_RATE)
            for s, e in found
            if e + origin > start
        ]

    def speech_seconds(self, view: View = DIARIZATION) -> float:
        return sum(e - s for s, e in self.view(view))


def cut_point(maps: list[SpeechMap], start: int, target: int, search: int) -> int:
    """Where to end a chunk that starts at `start` and should be about `target` samples long: the middle of the
    longest pause (silent in every map) in its last `search` samples; no pause: at the target."""
    window_start = max(start, start + target - search)
    window_end = start + target
    speech = sorted(r for m in maps for r in m.view(PAUSES, window_start, window_end))
    edges = [0.0]
    for region_start, region_end in speech:
        if region_start > edges[-1]:
            edges.extend([region_start, region_end])
        else:
            edges[-1] = max(edges[-1], region_end)
    edges.append((window_end - window_start) / SAMPLE_RATE)
    if len(edges) == 2:  # no speech at all in the window: anywhere will do
        return window_end
    gaps = [(edges[i + 1] - edges[i], (edges[i] + edges[i + 1]) / 2) for i in range(0, len(edges) - 1, 2)]
    length, middle = max(gaps)
    if length < 0.2:
        return window_end
    return window_start + int(middle * SAMPLE_RATE)


def speech_regions(audio: np.ndarray, view: View = DIARIZATION) -> list[tuple[float, float]]:
    """Speech regions of a short recording in seconds, read as `view`."""
    return SpeechMap.of(audio).view(view)
