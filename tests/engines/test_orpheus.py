"""Orpheus engine on a tiny randomly initialised Llama (real Orpheus vocabulary size and special ids) and a tiny
SNAC 24 kHz decoder, saved in the published layout: the HF model folder + `snac/config.json` +
`snac/pytorch_model.bin`. Random weights give noise; the test checks prompt format, code de-interleaving, the
frame -> sample arithmetic, dtype and the 24 kHz rate.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from shared.catalog import MODELS
from tests.engines.conftest import check_chunks, model_root
from workers.engines import load_engine
from workers.engines.base import InvalidInput, ModelNotInstalled, SynthesisOptions, VoiceReference

SPEC = MODELS["orpheus-3b"]
ORPHEUS_VOCAB = 156940  # 128256 Llama 3 tokens + Orpheus' special and 7 x 4096 audio tokens (+ padding)
SNAC_24KHZ_TINY = {
    "sampling_rate": 24000,
    "encoder_dim": 8,
    "encoder_rates": [2, 4, 8, 8],
    "decoder_dim": 32,
    "decoder_rates": [8, 8, 4, 2],
    "attn_window_size": None,
    "codebook_size": 4096,
    "codebook_dim": 8,
    "vq_strides": [4, 2, 1],
    "noise": True,
    "depthwise": True,
}


def build_tiny_orpheus(weights: Path) -> None:
    transformers = pytest.importorskip("transformers", reason="needs the `orpheus` extra: pip install -e '.[orpheus]'")
    snac = pytest.importorskip("snac", reason="needs the `orpheus` extra: pip install -e '.[orpheus]'")
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers

    torch.manual_seed(0)
    chars = list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'.,!?:<>-")
    vocab = {"<unk>": 0, **{c: i + 1 for i, c in enumerate(chars)}}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Split("", "isolated")
    fast = transformers.PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>")
    fast.save_pretrained(str(weights))

    config = transformers.LlamaConfig(
        vocab_size=ORPHEUS_VOCAB,
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=1,
        max_position_embeddings=4096,
        tie_word_embeddings=True,
        bos_token_id=128000,
        eos_token_id=128009,
    )
    transformers.LlamaForCausalLM(config).save_pretrained(str(weights))

    (weights / "snac").mkdir()
    (weights / "snac" / "config.json").write_text(json.dumps(SNAC_24KHZ_TINY))
    torch.save(snac.SNAC(**SNAC_24KHZ_TINY).state_dict(), weights / "snac" / "pytorch_model.bin")


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory):
    root, weights = model_root(tmp_path_factory.mktemp("orpheus"), SPEC.id)
    build_tiny_orpheus(weights)
    return load_engine(SPEC, root)


def test_deinterleave_matches_reference_layout() -> None:
    from workers.engines.orpheus import AUDIO_TOKEN_OFFSET, END_OF_SPEECH, redistribute_codes, tokens_to_codes

    frames = [[10, 11, 12, 13, 14, 15, 16], [20, 21, 22, 23, 24, 25, 26]]
    tokens = [AUDIO_TOKEN_OFFSET + i * 4096 + c for f in frames for i, c in enumerate(f)]
    codes = tokens_to_codes([*tokens, AUDIO_TOKEN_OFFSET + 5, END_OF_SPEECH])  # half a frame then the end
    assert codes == frames[0] + frames[1]
    assert redistribute_codes(codes) == ([10, 20], [11, 14, 21, 24], [12, 13, 15, 16, 22, 23, 25, 26])
    # a token in the wrong codebook position ends the speech
    assert tokens_to_codes([AUDIO_TOKEN_OFFSET + 4096 + 1]) == []


def test_synthesize_24khz_frames(engine) -> None:
    from workers.engines.orpheus import END_OF_HUMAN, END_OF_TEXT, START_OF_AI, START_OF_HUMAN, START_OF_SPEECH

    assert engine.sample_rate == 24000
    assert "tara" in engine.voices()
    prompt = engine.prompt_ids("Hi.", "tara")
    assert prompt[0] == START_OF_HUMAN
    assert prompt[-4:] == [END_OF_TEXT, END_OF_HUMAN, START_OF_AI, START_OF_SPEECH]
    engine.max_new_tokens = 7 * 3  # three frames keep the tiny test fast
    audio = check_chunks(engine.synthesize("Hi there. <laugh> Bye!", SynthesisOptions(voice="tara")))
    # one chunk per sentence; each SNAC frame is 4 x 512 samples at 24 kHz
    assert audio.size % 2048 == 0 and audio.size >= 2048


def test_emotion_tag_reaches_the_prompt(engine, monkeypatch: pytest.MonkeyPatch) -> None:
    from workers.engines.orpheus import EMOTION_TAGS

    prompts: list[list[int]] = []
    real = engine.prompt_ids
    monkeypatch.setattr(engine, "prompt_ids", lambda text, voice: prompts.append(real(text, voice)) or prompts[-1])
    engine.max_new_tokens = 7
    list(engine.synthesize("Hi there.", SynthesisOptions(voice="tara", emotion="happy")))
    list(engine.synthesize("Hi there.", SynthesisOptions(voice="tara")))
    tag = engine.tokenizer.encode(EMOTION_TAGS["happy"], add_special_tokens=False)
    happy, neutral = prompts
    assert any(happy[i : i + len(tag)] == tag for i in range(len(happy))), "the <chuckle> tag is not in the prompt"
    assert not any(neutral[i : i + len(tag)] == tag for i in range(len(neutral)))
    assert len(happy) > len(neutral)


def test_rejects_unknown_voice_clone_and_language(engine, reference: VoiceReference) -> None:
    with pytest.raises(InvalidInput, match="no voice"):
        list(engine.synthesize("Hello.", SynthesisOptions(voice="nobody")))
    with pytest.raises(InvalidInput, match="does not clone"):
        list(engine.synthesize("Hello.", SynthesisOptions(voice="tara", voice_id=reference.voice_id)))
    with pytest.raises(InvalidInput, match="English only"):
        list(engine.synthesize("Hola.", SynthesisOptions(voice="tara", language="es")))


def test_missing_weights_names_install_command(tmp_path: Path) -> None:
    with pytest.raises(ModelNotInstalled, match=r"s2s models install orpheus-3b"):
        load_engine(SPEC, tmp_path)


def test_missing_package_names_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root, weights = model_root(tmp_path, SPEC.id)
    for name in (*SPEC.required_files, "model.safetensors"):
        (weights / name).parent.mkdir(parents=True, exist_ok=True)
        (weights / name).write_bytes(b"x")
    monkeypatch.setitem(sys.modules, "snac", None)  # as if the snac package were not installed
    with pytest.raises(ModelNotInstalled, match=r"pip install -e '\.\[orpheus\]'"):
        load_engine(SPEC, root)
