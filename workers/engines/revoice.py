"""Re-voicing: speech to speech on every machine, from the platform's own parts.

The input is transcribed with word times (and, asked for, its speakers), cut into phrases at its pauses and speaker
changes, and each phrase is spoken again by a TTS voice (a preset of Kokoro or Piper, or a cloned voice), stretched
in time (FFmpeg's `atempo`, pitch kept) to the span its source took, and placed where the source phrase started on
a timeline as long as the input. Pauses stay where the input paused; the words are re-spoken, so the source's
prosody (intonation, emphasis) is not carried over; that is what tone-colour conversion (`openvoice-v2`) keeps.
Dubbing (`target_language=en`) takes Whisper's translation instead of the transcript, phrased the same way.

The model has no weights of its own: it is installed wherever a Whisper model and a speech model are, and the
worker that hosts it loads those through its residency manager.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from shared import audio
from shared.catalog import MODELS, EngineSpec, ModelSpec, Prices
from shared.jobkinds.voice_conversion import Phrase
from shared.transcripts import Segment, Transcript, Word

PHRASE_PAUSE = 0.3  # seconds between words that end a phrase (a pause the output keeps)
SENTENCE_PHRASE_SECONDS = 2.0  # a phrase this long also ends at a sentence's end
MAX_PHRASE_SECONDS = 8.0  # ... and one this long at the next word
SLOWEST_TEMPO = 0.85  # a short rendition is slowed at most this much (then it ends early: a longer pause)
COMFORT_TEMPO = 1.3  # a long one is sped up this much to fit its source span ...
FASTEST_TEMPO = 2.5  # ... and up to this to fit before the next phrase starts
PHRASE_GAP = 0.05  # seconds kept free before the next phrase
FEMALE_PITCH_HZ = 165.0  # median F0 above this: a female voice is picked for `voices=auto`
_SPEAKABLE = re.compile(r"\w", re.UNICODE)
_SENTENCE_END = re.compile(r"[.!?…。！？]$")


def _installed(model_dir: Path) -> bool:
    """A Whisper model (word times, the translate task) and a speech model are installed."""
    whisper = any(m.kind == "stt" and m.family == "whisper" and m.is_installed(model_dir) for m in MODELS.values())
    return whisper and any(m.kind == "tts" and m.is_installed(model_dir) for m in MODELS.values())


ENGINE = EngineSpec(
    name="revoice",
    loader="Revoicer",
    models=(
        ModelSpec(
            id="revoice",
            kind="vc",
            license="Apache-2.0",
            description="Re-voicing: the speech is transcribed with word times and re-spoken in the target voice, "
            "each phrase fitted to its source's time (the words are re-spoken; prosody is not carried over)",
            installed_with=_installed,
            install_hint="Needs a Whisper model and a speech model on the worker: `s2s models install bundled`.",
            preference=1,
            prices=Prices(per_audio_second=0.05),
        ),
    ),
)


@dataclass(frozen=True)
class SourcePhrase:
    """A phrase of the input: where it lies, what it says, who says it."""

    start: float
    end: float
    text: str
    speaker: str | None = None

    @property
    def span(self) -> float:
        return max(0.0, self.end - self.start)


def _join(words: list[Word]) -> str:
    return "".join(w.word for w in words).strip()


def phrases_of(transcript: Transcript, *, pause: float = PHRASE_PAUSE) -> list[SourcePhrase]:
    """The transcript's phrases: words grouped until a pause of `pause` seconds, a change of speaker, a sentence's
    end (past SENTENCE_PHRASE_SECONDS) or MAX_PHRASE_SECONDS; a segment without word times is one phrase, spoken
    by the speaker who talks most within it. A translation's words carry Whisper's times for the English tokens,
    so dubbing phrases too end at the source's pauses."""
    out: list[SourcePhrase] = []
    turns = [(t.start, t.end, t.speaker) for t in transcript.turns or []]

    def close(words: list[Word]) -> None:
        text = _join(words)
        if words and _SPEAKABLE.search(text):
            out.append(SourcePhrase(words[0].start, max(words[-1].end, words[0].start), text, words[0].speaker))

    for segment in transcript.segments:
        if not segment.words:
            if _SPEAKABLE.search(segment.text):
                speaker = segment.speaker or speaker_at(turns, segment.start, segment.end)
                out.append(SourcePhrase(segment.start, segment.end, segment.text.strip(), speaker))
            continue
        current: list[Word] = []
        for word in segment.words:
            if current:
                last = current[-1]
                length = last.end - current[0].start
                if (
                    word.start - last.end >= pause
                    or word.speaker != current[0].speaker
                    or (length >= SENTENCE_PHRASE_SECONDS and _SENTENCE_END.search(last.word.strip()))
                    or length >= MAX_PHRASE_SECONDS
                ):
                    close(current)
                    current = []
            current.append(word)
        close(current)
    return sorted(out, key=lambda p: p.start)


def speaker_at(turns: Iterable[tuple[float, float, str]], start: float, end: float) -> str | None:
    """The speaker who talks most within [start, end] (for a segment without words to carry one)."""
    talk: dict[str, float] = {}
    for t0, t1, speaker in turns:
        overlap = min(end, t1) - max(start, t0)
        if overlap > 0:
            talk[speaker] = talk.get(speaker, 0.0) + overlap
    return max(talk, key=lambda s: talk[s]) if talk else None


def fit(samples: np.ndarray, rate: int, span: float, room: float) -> tuple[np.ndarray, float]:
    """A rendition stretched to its source's span: slowed at most to SLOWEST_TEMPO when short, sped up to
    COMFORT_TEMPO to end with its source, or more (up to FASTEST_TEMPO) to end before the next phrase (`room`)."""
    length = samples.size / rate
    if length <= 0 or span <= 0:
        return samples, 1.0
    ratio = length / span
    if ratio <= 1.0:
        tempo = max(ratio, SLOWEST_TEMPO)
    elif ratio <= COMFORT_TEMPO:
        tempo = ratio
    else:
        tempo = min(FASTEST_TEMPO, max(COMFORT_TEMPO, length / max(room, span)))
    if abs(tempo - 1.0) < 0.01:
        return samples, 1.0
    stretched = audio.time_stretch(samples, rate, tempo)
    want = round(length / tempo * rate)
    # atempo's output is a frame or so off the exact length (short when slowing: its tail is not flushed)
    stretched = stretched[:want] if stretched.size >= want else np.pad(stretched, (0, want - stretched.size))
    return stretched, round(tempo, 4)


class Timeline:
    """The output: `duration` seconds at `rate`, phrases mixed in where they start, handed out in order as the
    part before the next phrase's start can no longer change. Only what is not handed out yet is held (from the
    first unsent sample to the end of the last phrase placed), so memory stays bounded on long inputs."""

    def __init__(self, duration: float, rate: int) -> None:
        self.rate = rate
        self.total = max(0, round(duration * rate))
        self.sent = 0  # samples handed out; the buffer starts there
        self.buffer = np.zeros(0, dtype=np.float32)

    @property
    def duration(self) -> float:
        return self.total / self.rate

    def place(self, start: float, samples: np.ndarray) -> float:
        """Mix `samples` in at `start` (clipped at the end, and at what was handed out already); returns where
        they end."""
        at = min(self.total, max(0, round(start * self.rate)))
        piece = samples[: self.total - at]
        if at < self.sent:  # a phrase never starts before the next one's start, where the output was cut
            piece, at = piece[self.sent - at :], self.sent
        end = at + piece.size
        if end - self.sent > self.buffer.size:
            self.buffer = np.pad(self.buffer, (0, end - self.sent - self.buffer.size))
        self.buffer[at - self.sent : end - self.sent] += piece
        return end / self.rate

    def take(self, until: float | None = None) -> np.ndarray:
        """The samples not handed out yet, up to `until` seconds (None: to the end)."""
        stop = self.total if until is None else min(self.total, round(until * self.rate))
        if stop <= self.sent:
            return np.zeros(0, dtype=np.float32)
        count = stop - self.sent
        out = np.zeros(count, dtype=np.float32)
        held = min(count, self.buffer.size)
        out[:held] = np.clip(self.buffer[:held], -1.0, 1.0)
        self.buffer = self.buffer[held:].copy()
        self.sent = stop
        return out


def median_pitch(samples: np.ndarray, rate: int) -> float | None:
    """Median F0 (Hz) of the voiced frames (WORLD's DIO with StoneMask refinement); None without voiced speech."""
    import pyworld

    x = np.asarray(samples, dtype=np.float64).reshape(-1)
    if x.size < rate // 4:
        return None
    f0, times = pyworld.dio(x, rate, f0_floor=60.0, f0_ceil=500.0, frame_period=10.0)
    f0 = pyworld.stonemask(x, f0, times, rate)
    voiced = f0[f0 > 0]
    return float(np.median(voiced)) if voiced.size >= 10 else None


def pick_voices(
    pitches: dict[str, float | None], candidates: list[tuple[str, str | None]], order: list[str]
) -> dict[str, str]:
    """`voices=auto`: a distinct candidate voice (name, gender) per speaker, in `order` (most talk first), of the
    gender its pitch suggests where one is left, else any unused one, else the candidates again in turn."""
    chosen: dict[str, str] = {}
    used: set[str] = set()
    for index, speaker in enumerate(order):
        pitch = pitches.get(speaker)
        gender = None if pitch is None else ("female" if pitch >= FEMALE_PITCH_HZ else "male")
        free = [(name, g) for name, g in candidates if name not in used]
        matching = [name for name, g in free if g == gender]
        name = (matching or [name for name, _ in free] or [candidates[index % len(candidates)][0]])[0]
        chosen[speaker] = name
        used.add(name)
    return chosen


def spoken_transcript(phrases: list[Phrase], duration: float, language: str) -> Transcript:
    """What the output says, with its times: one segment per placed phrase (for SRT, VTT and the job's result)."""
    segments = [Segment(id=i, start=p.start, end=p.end, text=p.text, speaker=p.speaker) for i, p in enumerate(phrases)]
    return Transcript(
        text=" ".join(s.text for s in segments), language=language, duration=round(duration, 3), segments=segments
    )


class Revoicer:
    """The re-voicing pipeline's own part (phrasing, fitting, placing); the transcriber and the voices are the
    worker's other engines, passed in."""

    sample_rate = 0  # the output's rate is the voice's

    @classmethod
    def load(cls, model_dir: Path, spec: ModelSpec) -> Revoicer:
        return cls()

    def render(
        self,
        phrases: list[SourcePhrase],
        duration: float,
        rate: int,
        speak: Callable[[SourcePhrase], np.ndarray],
    ) -> Iterator[tuple[np.ndarray, SourcePhrase | None, float, float, float]]:
        """Speak every phrase (`speak` returns its rendition at `rate`), fit and place it; yield, in order, the
        output that became final with the phrase it came from, the phrase's placed start, end and tempo (then the
        rest of the timeline with no phrase)."""
        timeline = Timeline(duration, rate)
        for index, phrase in enumerate(phrases):
            following = phrases[index + 1].start if index + 1 < len(phrases) else timeline.duration
            room = max(phrase.span, following - phrase.start - PHRASE_GAP)
            spoken = speak(phrase)
            fitted, tempo = fit(spoken, rate, phrase.span, room)
            end = timeline.place(phrase.start, fitted)
            yield timeline.take(following), phrase, phrase.start, end, tempo
        yield timeline.take(), None, timeline.duration, timeline.duration, 1.0
