"""XTTS v2 engine on a tiny randomly initialised XTTS saved in the published layout.

config.json + model.pth ({"model": state_dict}) + vocab.json (a BPE tokenizer built here with `tokenizers`)
+ speakers_xtts.pth (one preset). Random weights speak noise: the test checks loading, conditioning on a real
reference clip, streaming chunks, dtype and the 24 kHz rate; not quality.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from shared.catalog import MODELS
from tests.engines.conftest import check_chunks, cloned, model_root
from workers.engines import load_engine
from workers.engines.base import InvalidInput, ModelNotInstalled, SynthesisOptions, VoiceReference

SPEC = MODELS["xtts-v2"]
LANGS = ["en", "es", "fr", "de"]


def _coqui():
    try:
        from TTS.tts.configs.xtts_config import XttsConfig
        from TTS.tts.layers.xtts.tokenizer import VoiceBpeTokenizer
        from TTS.tts.models.xtts import Xtts
    except ImportError as exc:  # coqui-tts refuses to import without a loadable torchaudio + torchcodec
        reason = str(exc).strip().splitlines()[0]
        pytest.skip(f"the `xtts` extra (pip install -e '.[xtts]') is not importable here: {reason}")
    return XttsConfig, VoiceBpeTokenizer, Xtts


def build_tiny_xtts(weights: Path, reference: VoiceReference) -> None:
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers

    XttsConfig, VoiceBpeTokenizer, Xtts = _coqui()
    torch.manual_seed(0)
    specials = ["[STOP]", "[UNK]", "[SPACE]", "[START]", *(f"[{lang}]" for lang in LANGS)]
    chars = list("abcdefghijklmnopqrstuvwxyz0123456789'.,!?-")
    vocab = {tok: i for i, tok in enumerate(specials + chars)}
    tokenizer = Tokenizer(models.BPE(vocab=vocab, merges=[], unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.add_special_tokens(specials)
    tokenizer.save(str(weights / "vocab.json"))

    config = XttsConfig()
    config.languages = LANGS
    args = config.model_args
    args.gpt_layers = 1
    args.gpt_n_model_channels = 32
    args.gpt_n_heads = 2
    args.decoder_input_dim = 32
    args.gpt_max_audio_tokens = 24  # bounds generation: random weights rarely sample the stop token
    args.gpt_max_text_tokens = 120
    args.gpt_use_perceiver_resampler = True  # as in the published v2 config
    model = Xtts(config)
    model.tokenizer = VoiceBpeTokenizer(vocab_file=str(weights / "vocab.json"))
    model.init_models()
    model.eval()
    torch.save({"model": model.state_dict()}, weights / "model.pth")
    config.save_json(str(weights / "config.json"))

    # one preset studio speaker, computed the way Coqui computes them: latents of a real recording
    from shared import audio

    wav = torch.from_numpy(audio.decode(reference.audio_path, sample_rate=22050))[None]
    speakers = {
        "Ana Florence": {
            "gpt_cond_latent": model.get_gpt_cond_latents(wav, 22050, length=6, chunk_length=6),
            "speaker_embedding": model.get_speaker_embedding(wav, 22050),
        }
    }
    torch.save(speakers, weights / "speakers_xtts.pth")


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory, reference: VoiceReference):
    root, weights = model_root(tmp_path_factory.mktemp("xtts"), SPEC.id)
    build_tiny_xtts(weights, reference)
    assert {p.name for p in weights.iterdir()} >= set(SPEC.required_files)
    return load_engine(SPEC, root)


def test_clone_streams_24khz_float32(engine, reference: VoiceReference) -> None:
    assert engine.sample_rate == 24000
    audio = check_chunks(engine.synthesize("Hello there, how are you?", cloned(engine, reference)))
    # each GPT code is 1024 samples at 22.05 kHz, decoded at 24 kHz
    assert audio.size >= 1024


def test_preset_speaker_and_language(engine) -> None:
    assert engine.voices() == ["Ana Florence"]
    audio = check_chunks(engine.synthesize("Hola, buenos dias.", SynthesisOptions(voice="Ana Florence", language="es")))
    assert audio.size > 0
    with pytest.raises(InvalidInput, match="no preset voice"):
        list(engine.synthesize("Hello.", SynthesisOptions(voice="nobody")))
    with pytest.raises(InvalidInput, match="does not speak"):
        list(engine.synthesize("Hello.", SynthesisOptions(voice="Ana Florence", language="xx")))


def test_streaming_yields_several_chunks(engine, reference: VoiceReference, monkeypatch: pytest.MonkeyPatch) -> None:
    import workers.engines.xtts as xtts

    monkeypatch.setattr(xtts, "STREAM_CHUNK_TOKENS", 4)  # up to 24 GPT tokens: several decoded chunks
    chunks = list(engine.synthesize("A longer sentence to speak now.", cloned(engine, reference)))
    assert len(chunks) >= 2
    assert np.concatenate(chunks).dtype == np.float32


def test_missing_weights_names_install_command(tmp_path: Path) -> None:
    with pytest.raises(ModelNotInstalled, match=r"s2s models install xtts-v2"):
        load_engine(SPEC, tmp_path)


def test_missing_package_names_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root, weights = model_root(tmp_path, SPEC.id)
    for name in SPEC.required_files:
        (weights / name).write_bytes(b"x")
    monkeypatch.setitem(sys.modules, "TTS", None)  # as if coqui-tts were not installed
    for mod in [m for m in sys.modules if m.startswith("TTS.")]:
        monkeypatch.delitem(sys.modules, mod)
    with pytest.raises(ModelNotInstalled, match=r"pip install -e '\.\[xtts\]'"):
        load_engine(SPEC, root)
