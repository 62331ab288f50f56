"""Fish Speech 1.5 engine on a tiny randomly initialised dual-AR model and Firefly VQ-GAN, saved in the published
layout: config.json + model.pth + tokenizer.tiktoken + special_tokens.json +
firefly-gan-vq-fsq-8x1024-21hz-generator.pth (with a .json beside it shrinking the decoder). Random weights give
noise; the test checks the reference encoding, the prompt layout, generation, the 2048-samples-per-code decoder
arithmetic, dtype and the 44.1 kHz rate.
"""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path

import pytest

from shared.catalog import MODELS
from tests.engines.conftest import check_chunks, cloned, model_root
from workers.engines import load_engine
from workers.engines.base import InvalidInput, ModelNotInstalled, SynthesisOptions, VoiceReference

SPEC = MODELS["fish-speech-v1.5"]
EXTRA = "needs the `fish-speech` extra: pip install -e '.[fish-speech]'"
TINY_DECODER = {
    "spec_transform": {"sample_rate": 44100, "n_mels": 160, "n_fft": 2048, "hop_length": 512, "win_length": 2048},
    "backbone": {"input_channels": 160, "depths": [1, 1], "dims": [16, 64], "kernel_size": 7},
    "head": {
        "hop_length": 512,
        "upsample_rates": [8, 8, 2, 2, 2],
        "upsample_kernel_sizes": [16, 16, 4, 4, 4],
        "resblock_kernel_sizes": [3],
        "resblock_dilation_sizes": [[1, 3, 5]],
        "num_mels": 64,
        "upsample_initial_channel": 64,
        "pre_conv_kernel_size": 13,
        "post_conv_kernel_size": 13,
    },
    "quantizer": {
        "input_dim": 64,
        "n_groups": 8,
        "n_codebooks": 1,
        "levels": [8, 5, 5, 5],
        "downsample_factor": [2, 2],
    },
}


def build_tiny_fish(weights: Path) -> None:
    for module in ("tiktoken", "vector_quantize_pytorch"):
        pytest.importorskip(module, reason=EXTRA)
    import torch

    from workers.engines.fish_speech import DECODER_FILE, SPECIAL_TOKENS, build_dual_ar, build_firefly

    torch.manual_seed(0)
    # byte-level BPE ranks (every byte a token, no merges) and the special tokens after them, as FishTokenizer saves
    ranks = [bytes([b]) for b in range(256)]
    (weights / "tokenizer.tiktoken").write_text(
        "".join(f"{base64.b64encode(t).decode()} {i}\n" for i, t in enumerate(ranks))
    )
    specials = {tok: len(ranks) + i for i, tok in enumerate(SPECIAL_TOKENS)}
    (weights / "special_tokens.json").write_text(json.dumps(specials))
    config = {
        "model_type": "dual_ar",
        "vocab_size": len(ranks) + len(SPECIAL_TOKENS),
        "n_layer": 1,
        "n_head": 2,
        "n_local_heads": 1,
        "dim": 32,
        "head_dim": 16,
        "intermediate_size": 64,
        "rope_base": 1000000.0,
        "norm_eps": 1e-6,
        "max_seq_len": 512,
        "tie_word_embeddings": False,
        "attention_qkv_bias": False,
        "codebook_size": 1024,
        "num_codebooks": 8,
        "share_codebook_embeddings": True,
        "n_fast_layer": 1,
        "fast_dim": 16,
        "fast_n_head": 2,
        "fast_n_local_heads": 1,
        "fast_head_dim": 8,
        "fast_intermediate_size": 32,
        "fast_attention_qkv_bias": False,
    }
    (weights / "config.json").write_text(json.dumps(config))
    torch.save(build_dual_ar(config).state_dict(), weights / "model.pth")
    (weights / DECODER_FILE.replace(".pth", ".json")).write_text(json.dumps(TINY_DECODER))
    torch.save(build_firefly(TINY_DECODER).state_dict(), weights / DECODER_FILE)


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory):
    root, weights = model_root(tmp_path_factory.mktemp("fish"), SPEC.id)
    build_tiny_fish(weights)
    assert {p.name for p in weights.iterdir()} >= set(SPEC.required_files)
    engine = load_engine(SPEC, root)
    engine.max_new_tokens = 6  # a few codes keep the tiny test fast
    return engine


def test_reference_prompt_layout(engine, reference: VoiceReference) -> None:
    import torch

    prompt = torch.from_numpy(engine.enroll(reference)["prompt"])
    tok = engine.tokenizer
    assert prompt.shape[0] == 1 + 8
    rows = prompt[0].tolist()
    semantic = [i for i, t in enumerate(rows) if tok.semantic_begin_id <= t <= tok.semantic_end_id]
    # ~21.5 codes per second of the 5.9 s reference, written as semantic tokens with their 8 codebooks below
    assert 5.8 * 21.5 - 2 <= len(semantic) <= 5.9 * 21.5 + 1
    first = semantic[0]
    assert rows[first] - tok.semantic_begin_id == int(prompt[1, first])
    assert int(prompt[1:, : semantic[0]].abs().sum()) == 0  # no codes under text tokens
    assert rows[-1] == tok.im_end_id


def test_clone_44khz_codes_to_samples(engine, reference: VoiceReference) -> None:
    assert engine.sample_rate == 44100
    assert engine.voices() == []
    chunks = list(engine.synthesize("Hello there. This is a test.", cloned(engine, reference)))
    audio = check_chunks(chunks)
    # each code is 4 mel frames of 512 samples
    assert all(c.size % 2048 == 0 for c in chunks)
    assert audio.size <= 6 * 2048 * len(chunks)


def test_unconditioned_voice_and_missing_transcript(engine, reference: VoiceReference) -> None:
    check_chunks(engine.synthesize("No reference here.", SynthesisOptions(voice="default")))
    no_text = VoiceReference(voice_id="v2", audio_path=reference.audio_path, sample_rate=16000)
    with pytest.raises(InvalidInput, match="transcript"):
        engine.enroll(no_text)


def test_missing_weights_names_install_command(tmp_path: Path) -> None:
    with pytest.raises(ModelNotInstalled, match=r"s2s models install fish-speech-v1\.5"):
        load_engine(SPEC, tmp_path)


def test_missing_package_names_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root, weights = model_root(tmp_path, SPEC.id)
    for name in SPEC.required_files:
        (weights / name).write_bytes(b"x")
    monkeypatch.setitem(sys.modules, "vector_quantize_pytorch", None)  # as if the extra were not installed
    with pytest.raises(ModelNotInstalled, match=r"pip install -e '\.\[fish-speech\]'"):
        load_engine(SPEC, root)
