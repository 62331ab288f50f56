"""Prosody and timbre transforms on the WORLD vocoder (pyworld): emotion for voices without emotion control, and
adapting a base voice towards a cloned voice's reference recording.

This is signal processing, not a neural voice model: it moves pitch level, pitch range, loudness and the average
spectral envelope (formant/timbre balance) of the base voice towards a target. It is documented as an
approximation of cloning; clone-capable neural engines condition on the reference audio directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

FRAME_PERIOD_MS = 5.0
N_BANDS = 48  # envelope profile: log-spaced bands, sample-rate independent
BAND_EDGES = np.geomspace(80.0, 7600.0, N_BANDS + 1)  # the range every reference carries (16 kHz and up)
MAX_EQ_DB = 12.0


@dataclass(frozen=True)
class Prosody:
    """A transform: multiply pitch by `pitch`, scale its range (in log space) by `pitch_range`,
    add `gain_db`, tilt the spectrum by `tilt_db` per octave above 1 kHz, and add a band EQ (dB per band)."""

    pitch: float = 1.0
    pitch_range: float = 1.0
    gain_db: float = 0.0
    tilt_db: float = 0.0
    rate: float = 1.0  # speaking-rate multiplier, realised by the engine's duration control
    eq_db: tuple[float, ...] | None = None

    @property
    def is_identity(self) -> bool:
        return (self.pitch, self.pitch_range, self.gain_db, self.tilt_db) == (1.0, 1.0, 0.0, 0.0) and not self.eq_db


# How the bundled Piper voice realises the contract's emotion tags (documented in the README).
EMOTIONS: dict[str, Prosody] = {
    "neutral": Prosody(),
    "happy": Prosody(pitch=1.12, pitch_range=1.35, gain_db=1.5, tilt_db=1.0, rate=1.12),
    "sad": Prosody(pitch=0.90, pitch_range=0.6, gain_db=-4.0, tilt_db=-2.0, rate=0.8),
    "angry": Prosody(pitch=1.06, pitch_range=1.5, gain_db=4.0, tilt_db=2.5, rate=1.06),
}


def _world(samples: np.ndarray, rate: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    import pyworld

    x = np.asarray(samples, dtype=np.float64)
    f0, times = pyworld.dio(x, rate, frame_period=FRAME_PERIOD_MS)
    f0 = pyworld.stonemask(x, f0, times, rate)
    sp = pyworld.cheaptrick(x, f0, times, rate)
    ap = pyworld.d4c(x, f0, times, rate)
    return f0, sp, ap


def _band_matrix(n_bins: int, rate: int) -> np.ndarray:
    """(N_BANDS, n_bins) averaging weights mapping a linear-frequency envelope onto the log bands."""
    freqs = np.linspace(0, rate / 2, n_bins)
    weights = np.zeros((N_BANDS, n_bins))
    for b in range(N_BANDS):
        mask = (freqs >= BAND_EDGES[b]) & (freqs < BAND_EDGES[b + 1])
        if not mask.any():  # narrow low bands: take the nearest bin
            mask[np.argmin(np.abs(freqs - np.sqrt(BAND_EDGES[b] * BAND_EDGES[b + 1])))] = True
        weights[b, mask] = 1.0 / mask.sum()
    return weights


def profile(samples: np.ndarray, rate: int) -> dict[str, Any]:
    """Voice statistics: median and spread of log pitch, loudness, and the mean log envelope per band."""
    f0, sp, _ = _world(samples, rate)
    voiced = f0 > 0
    if voiced.sum() < 10:
        raise ValueError("not enough voiced speech to measure the voice")
    log_f0 = np.log(f0[voiced])
    bands = _band_matrix(sp.shape[1], rate) @ np.log(sp[voiced].T + 1e-12)  # (bands, frames)
    rms = float(np.sqrt(np.mean(np.square(samples))))
    return {
        "f0_median": float(np.exp(np.median(log_f0))),
        "log_f0_std": float(np.std(log_f0)),
        "rms_db": 20 * float(np.log10(rms + 1e-9)),
        "envelope_db": (10 / np.log(10) * bands.mean(axis=1)).round(3).tolist(),
    }


def towards(base: dict[str, Any], target: dict[str, Any], *, strength: float = 1.0) -> Prosody:
    """The transform that moves a base voice's statistics onto a target voice's."""
    pitch = (target["f0_median"] / base["f0_median"]) ** strength
    spread = (target["log_f0_std"] / max(base["log_f0_std"], 1e-3)) ** strength
    eq = np.asarray(target["envelope_db"]) - np.asarray(base["envelope_db"])
    eq -= eq.mean()  # loudness is not timbre
    eq = np.convolve(np.pad(eq, 2, mode="edge"), np.ones(5) / 5, mode="valid")  # keep only the coarse shape
    return Prosody(
        pitch=float(np.clip(pitch, 0.5, 2.0)),
        pitch_range=float(np.clip(spread, 0.5, 2.0)),
        eq_db=tuple(float(v) for v in np.clip(eq * strength, -MAX_EQ_DB, MAX_EQ_DB)),
    )


def _eq_curve(prosody: Prosody, n_bins: int, rate: int) -> np.ndarray:
    """Linear-frequency gain (power ratio) for the band EQ plus the spectral tilt."""
    freqs = np.linspace(0, rate / 2, n_bins)
    gain_db = np.zeros(n_bins)
    if prosody.eq_db:
        centers = np.sqrt(BAND_EDGES[:-1] * BAND_EDGES[1:])
        gain_db += np.interp(np.log(np.maximum(freqs, 1.0)), np.log(centers), np.asarray(prosody.eq_db))
    if prosody.tilt_db:
        octaves = np.log2(np.maximum(freqs, 1000.0) / 1000.0)
        gain_db += prosody.tilt_db * octaves
    return np.power(10.0, gain_db / 10.0)  # envelope is a power spectrum


def apply(samples: np.ndarray, rate: int, prosody: Prosody) -> np.ndarray:
    """Resynthesise speech with the transform applied (the speaking rate is the engine's job)."""
    if prosody.is_identity or samples.size < rate // 20:
        return soft_limit(np.asarray(samples, dtype=np.float32) * np.float32(10 ** (prosody.gain_db / 20)))
    import pyworld

    f0, sp, ap = _world(samples, rate)
    voiced = f0 > 0
    if voiced.any():
        log_f0 = np.log(f0[voiced])
        center = np.median(log_f0)
        f0 = f0.copy()
        f0[voiced] = np.exp(center + (log_f0 - center) * prosody.pitch_range) * prosody.pitch
    if prosody.eq_db or prosody.tilt_db:
        sp = sp * _eq_curve(prosody, sp.shape[1], rate)[None, :]
    out = pyworld.synthesize(f0, sp, ap, rate, FRAME_PERIOD_MS)[: samples.size]
    out = _keep_silences(np.asarray(samples, dtype=np.float64), out, rate)
    # keep the loudness of the input, then apply the requested gain; never clip
    in_rms = float(np.sqrt(np.mean(np.square(samples)))) + 1e-9
    out_rms = float(np.sqrt(np.mean(np.square(out)))) + 1e-9
    return soft_limit(out * (in_rms / out_rms) * 10 ** (prosody.gain_db / 20))


def _keep_silences(original: np.ndarray, resynthesised: np.ndarray, rate: int, floor_db: float = -45.0) -> np.ndarray:
    """WORLD fills pauses with faint noise; where the original was silent, keep it as quiet as it was."""
    frame = max(1, rate // 100)
    n = min(original.size, resynthesised.size) // frame
    if n == 0:
        return resynthesised
    a = original[: n * frame].reshape(n, frame)
    b = resynthesised[: n * frame].reshape(n, frame).copy()
    rms_a = np.sqrt(np.mean(np.square(a), axis=1)) + 1e-12
    rms_b = np.sqrt(np.mean(np.square(b), axis=1)) + 1e-12
    quiet = 20 * np.log10(rms_a) < floor_db
    b[quiet] *= np.minimum(1.0, rms_a[quiet] / rms_b[quiet])[:, None]
    out = resynthesised.copy()
    out[: n * frame] = b.reshape(-1)
    return out


def soft_limit(samples: np.ndarray, knee: float = 0.7) -> np.ndarray:
    """Peaks above the knee are bent smoothly below 1.0, so a louder voice gets louder without clipping."""
    x = np.asarray(samples, dtype=np.float32)
    over = np.abs(x) > knee
    if over.any():
        x = x.copy()
        mag = np.abs(x[over])
        x[over] = np.sign(x[over]) * (knee + (1 - knee) * np.tanh((mag - knee) / (1 - knee)))
    return x.astype(np.float32)
