"""Fish Speech 1.5 engine: a dual-AR Llama writes VQ codes, the Firefly GAN decoder turns them into 44.1 kHz audio.

Weights: the published fish-speech-1.5 folder under `<model_dir>/fish-speech-v1.5/`: `config.json` (DualARModelArgs),
`model.pth` (text2semantic weights), `tokenizer.tiktoken` (+ `special_tokens.json`) and
`firefly-gan-vq-fsq-8x1024-21hz-generator.pth` (the VQ-GAN: ConvNeXt encoder, downsampling grouped-residual FSQ
with 8 x 1024 codes at ~21.5 Hz, HiFi-GAN head). An optional `firefly-gan-vq-fsq-8x1024-21hz-generator.json` overrides
the decoder's architecture (absent: the published 1.5 configuration below).

Cloning follows fish-speech's `generate_long`: a system turn ("Speak out the provided text."), the reference as
a user turn with its transcript and an assistant turn `<|voice|>` + the reference's VQ codes, then per text chunk a
user turn and an open assistant `<|voice|>` turn the model completes with semantic tokens until `<|im_end|>`.

What is not the official package, and why: `fish-speech` on PyPI (0.1.0) is the later OpenAudio code (a different
decoder), and `fish-speech-lib` (a 1.5 packaging) pins numpy<=1.26.4 and pydantic==2.9.2 and imports torchaudio,
which does not load beside torch 2.13. So the 1.5 networks are implemented here in plain torch with the published
state-dict names; the grouped residual FSQ is `vector_quantize_pytorch.GroupedResidualFSQ` (the library fish-speech
uses), the mel filterbank is librosa's slaney filterbank (what torchaudio's `melscale_fbanks(norm="slaney",
mel_scale="slaney")` computes), tokenisation is tiktoken as in fish-speech's FishTokenizer. Not ported: fish-speech's
text normaliser (`clean_text`) beyond whitespace, torch.compile, and its int8/int4 quantised checkpoints.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import numpy as np

from shared.catalog import EngineSpec, HubFiles, ModelSpec, Prices
from workers.engines.base import Conditioning, InvalidInput, ModelNotInstalled, SynthesisOptions, VoiceReference
from workers.engines.common import (
    reference_audio,
    require_module,
    require_weights,
    to_float32,
    torch_device,
)
from workers.synthesis import pack_sentences

DECODER_FILE = "firefly-gan-vq-fsq-8x1024-21hz-generator.pth"

ENGINE = EngineSpec(
    name="fish_speech",
    loader="FishSpeechEngine",
    models=(
        ModelSpec(
            id="fish-speech-v1.5",
            kind="tts",
            license="CC-BY-NC-SA-4.0",
            description="State-of-the-art multilingual TTS (Fish Speech 1.5)",
            can_clone=True,
            emotions=False,
            required_files=("config.json", "model.pth", "tokenizer.tiktoken", DECODER_FILE),
            hub=(
                HubFiles(
                    "fishaudio/fish-speech-1.5",
                    dict.fromkeys(
                        ("config.json", "model.pth", "tokenizer.tiktoken", "special_tokens.json", DECODER_FILE), ""
                    ),
                ),
            ),
            install_hint=(
                "Copy the published fish-speech-1.5 folder (config.json, model.pth, tokenizer.tiktoken, "
                "special_tokens.json, firefly-gan-vq-fsq-8x1024-21hz-generator.pth) with "
                "`s2s models install fish-speech-v1.5 --from DIR`, and pip install -e '.[fish-speech]'."
            ),
            extra="fish-speech",
            preference=40,
            prices=Prices(per_1k_chars=15.0, per_clone=100.0),
        ),
    ),
)
TOKENIZER_FILE = "tokenizer.tiktoken"
SYSTEM_PROMPT = "Speak out the provided text."
# Sampling defaults of fish-speech 1.5's API server.
TEMPERATURE = 0.7
TOP_P = 0.7
REPETITION_PENALTY = 1.2
REPETITION_WINDOW = 16
MAX_NEW_TOKENS = 1024  # per text chunk (~47 s at 21.5 Hz)
CHUNK_CHARS = 200
MAX_REFERENCE_SECONDS = 30.0

# FishTokenizer's special tokens, in id order after the BPE ranks (tokenizer.py of fish-speech 1.5).
IM_START, IM_END, VOICE = "<|im_start|>", "<|im_end|>", "<|voice|>"
SPECIAL_TOKENS = [
    "<|begin_of_text|>",
    "<|end_of_text|>",
    "<|pad|>",
    IM_START,
    IM_END,
    *(f"<|placeholder:{i}|>" for i in range(4)),
    "<|text|>",
    VOICE,
    "<|interleave|>",
    *(f"<|semantic:{i}|>" for i in range(1024)),
]
TIKTOKEN_PATTERN = "|".join(
    [
        r"(?i:'s|'t|'re|'ve|'m|'ll|'d)",
        r"\p{P}",
        r"[^\r\n\p{L}\p{N}]?\p{L}+",
        r"\p{N}",
        r" ?[^\s\p{L}\p{N}]+[\r\n]*",
        r"\s*[\r\n]+",
        r"\s+(\?!\S)",
        r"\s+",
    ]
)

# The published decoder (fish-speech 1.5 configs/firefly_gan_vq.yaml).
FIREFLY_CONFIG: dict[str, Any] = {
    "spec_transform": {"sample_rate": 44100, "n_mels": 160, "n_fft": 2048, "hop_length": 512, "win_length": 2048},
    "backbone": {"input_channels": 160, "depths": [3, 3, 9, 3], "dims": [128, 256, 384, 512], "kernel_size": 7},
    "head": {
        "hop_length": 512,
        "upsample_rates": [8, 8, 2, 2, 2],
        "upsample_kernel_sizes": [16, 16, 4, 4, 4],
        "resblock_kernel_sizes": [3, 7, 11],
        "resblock_dilation_sizes": [[1, 3, 5], [1, 3, 5], [1, 3, 5]],
        "num_mels": 512,
        "upsample_initial_channel": 512,
        "pre_conv_kernel_size": 13,
        "post_conv_kernel_size": 13,
    },
    "quantizer": {
        "input_dim": 512,
        "n_groups": 8,
        "n_codebooks": 1,
        "levels": [8, 5, 5, 5],
        "downsample_factor": [2, 2],
    },
}


class FishTokenizer:
    """fish-speech 1.5's tiktoken tokenizer: BPE ranks from tokenizer.tiktoken, special tokens after them."""

    def __init__(self, folder: Path) -> None:
        import tiktoken

        ranks: dict[bytes, int] = {}
        for line in (folder / TOKENIZER_FILE).read_text().splitlines():
            if line.strip():
                token, rank = line.split()
                ranks[base64.b64decode(token)] = int(rank)
        special_file = folder / "special_tokens.json"
        if special_file.is_file():
            specials = {str(k): int(v) for k, v in json.loads(special_file.read_text()).items()}
        else:
            specials = {tok: len(ranks) + i for i, tok in enumerate(SPECIAL_TOKENS)}
        self.specials = specials
        self.semantic_begin_id = specials["<|semantic:0|>"]
        self.semantic_end_id = specials["<|semantic:1023|>"]
        self.im_end_id = specials[IM_END]
        self.encoding = tiktoken.Encoding(
            name="fish", pat_str=TIKTOKEN_PATTERN, mergeable_ranks=ranks, special_tokens=specials
        )

    def encode(self, text: str) -> list[int]:
        return list(self.encoding.encode(text, allowed_special="all", disallowed_special=()))


def build_dual_ar(cfg: dict[str, Any]) -> Any:
    """fish-speech 1.5's DualARTransformer (slow Llama over time + fast Llama over codebooks), inference only, with
    the published parameter names (embeddings, codebook_embeddings, layers.N.attention.wqkv, ..., fast_layers,
    fast_embeddings, fast_output)."""
    import torch
    from torch import nn
    from torch.nn import functional as F

    @dataclasses.dataclass
    class Args:
        dim: int
        n_head: int
        n_local_heads: int
        head_dim: int
        intermediate_size: int
        norm_eps: float
        attention_qkv_bias: bool

    dim = int(cfg["dim"])
    n_head = int(cfg["n_head"])
    n_local = int(cfg.get("n_local_heads", -1))
    n_local = n_head if n_local == -1 else n_local
    inter = cfg.get("intermediate_size") or (lambda h: h if h % 256 == 0 else h + 256 - h % 256)(int(8 * dim / 3))
    slow = Args(
        dim,
        n_head,
        n_local,
        dim // n_head,
        int(inter),
        float(cfg.get("norm_eps", 1e-5)),
        bool(cfg.get("attention_qkv_bias", False)),
    )
    fast_dim = int(cfg.get("fast_dim") or dim)
    fast_heads = int(cfg.get("fast_n_head") or n_head)
    fast = Args(
        fast_dim,
        fast_heads,
        int(cfg.get("fast_n_local_heads") or n_local),
        int(cfg.get("fast_head_dim") or fast_dim // fast_heads),
        int(cfg.get("fast_intermediate_size") or inter),
        slow.norm_eps,
        bool(cfg["fast_attention_qkv_bias"])
        if cfg.get("fast_attention_qkv_bias") is not None
        else slow.attention_qkv_bias,
    )
    num_codebooks = int(cfg["num_codebooks"])
    codebook_size = int(cfg["codebook_size"])
    max_seq_len = int(cfg.get("max_seq_len", 2048))
    rope_base = float(cfg.get("rope_base", 10000))

    def rope_cache(seq_len: int, n_elem: int) -> torch.Tensor:
        freqs = 1.0 / (rope_base ** (torch.arange(0, n_elem, 2)[: n_elem // 2].float() / n_elem))
        angles = torch.outer(torch.arange(seq_len).float(), freqs)
        cis = torch.polar(torch.ones_like(angles), angles)
        return torch.stack([cis.real, cis.imag], dim=-1).to(torch.bfloat16)  # as trained

    def apply_rope(x: torch.Tensor, cis: torch.Tensor) -> torch.Tensor:
        xs = x.float().reshape(*x.shape[:-1], -1, 2)
        cis = cis.view(1, xs.size(1), 1, xs.size(3), 2)
        out = torch.stack(
            [xs[..., 0] * cis[..., 0] - xs[..., 1] * cis[..., 1], xs[..., 1] * cis[..., 0] + xs[..., 0] * cis[..., 1]],
            -1,
        )
        return out.flatten(3).type_as(x)

    class RMSNorm(nn.Module):
        def __init__(self, d: int, eps: float):
            super().__init__()
            self.eps = eps
            self.weight = nn.Parameter(torch.ones(d))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            xf = x.float()
            return (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps)).type_as(x) * self.weight

    class Attention(nn.Module):
        def __init__(self, a: Args):
            super().__init__()
            self.a = a
            self.wqkv = nn.Linear(a.dim, (a.n_head + 2 * a.n_local_heads) * a.head_dim, bias=a.attention_qkv_bias)
            self.wo = nn.Linear(a.n_head * a.head_dim, a.dim, bias=False)
            self.cache: tuple[torch.Tensor, torch.Tensor] | None = None
            self._register_load_state_dict_pre_hook(self._merge_qkv)

        @staticmethod
        def _merge_qkv(state: dict[str, Any], prefix: str, *args: Any) -> None:
            if prefix + "wq.weight" in state:  # checkpoints with separate q/k/v projections
                parts = [state.pop(prefix + f"w{n}.weight") for n in "qkv"]
                state[prefix + "wqkv.weight"] = torch.cat(parts)

        def forward(self, x: torch.Tensor, cis: torch.Tensor, mask: torch.Tensor, pos: torch.Tensor) -> torch.Tensor:
            a = self.a
            b, s, _ = x.shape
            kv = a.n_local_heads * a.head_dim
            q, k, v = self.wqkv(x).split([a.n_head * a.head_dim, kv, kv], dim=-1)
            q = apply_rope(q.view(b, s, a.n_head, a.head_dim), cis).transpose(1, 2)
            k = apply_rope(k.view(b, s, a.n_local_heads, a.head_dim), cis).transpose(1, 2)
            v = v.view(b, s, a.n_local_heads, a.head_dim).transpose(1, 2)
            if self.cache is not None:
                k_cache, v_cache = self.cache
                k_cache[:, :, pos] = k
                v_cache[:, :, pos] = v
                k, v = k_cache, v_cache
            rep = a.n_head // a.n_local_heads
            k, v = k.repeat_interleave(rep, dim=1), v.repeat_interleave(rep, dim=1)
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
            return self.wo(y.transpose(1, 2).contiguous().view(b, s, a.n_head * a.head_dim))

    class FeedForward(nn.Module):
        def __init__(self, a: Args):
            super().__init__()
            self.w1 = nn.Linear(a.dim, a.intermediate_size, bias=False)
            self.w3 = nn.Linear(a.dim, a.intermediate_size, bias=False)
            self.w2 = nn.Linear(a.intermediate_size, a.dim, bias=False)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.w2(F.silu(self.w1(x)) * self.w3(x))

    class TransformerBlock(nn.Module):
        def __init__(self, a: Args):
            super().__init__()
            self.attention = Attention(a)
            self.feed_forward = FeedForward(a)
            self.ffn_norm = RMSNorm(a.dim, a.norm_eps)
            self.attention_norm = RMSNorm(a.dim, a.norm_eps)

        def forward(self, x: torch.Tensor, cis: torch.Tensor, mask: torch.Tensor, pos: torch.Tensor) -> torch.Tensor:
            h = x + self.attention(self.attention_norm(x), cis, mask, pos)
            return h + self.feed_forward(self.ffn_norm(h))

    class DualARTransformer(nn.Module):
        causal: torch.Tensor
        fast_causal: torch.Tensor
        freqs_cis: torch.Tensor
        fast_freqs_cis: torch.Tensor

        def __init__(self) -> None:
            super().__init__()
            self.num_codebooks = num_codebooks
            self.codebook_size = codebook_size
            self.max_seq_len = max_seq_len
            self.share_codebook_embeddings = bool(cfg.get("share_codebook_embeddings", True))
            self.tie_word_embeddings = bool(cfg.get("tie_word_embeddings", True))
            self.embeddings = nn.Embedding(int(cfg["vocab_size"]), dim)
            self.codebook_embeddings = nn.Embedding(codebook_size * num_codebooks, dim)
            self.layers = nn.ModuleList(TransformerBlock(slow) for _ in range(int(cfg["n_layer"])))
            self.norm = RMSNorm(dim, slow.norm_eps)
            if not self.tie_word_embeddings:
                self.output = nn.Linear(dim, int(cfg["vocab_size"]), bias=False)
            self.fast_project_in = nn.Linear(dim, fast_dim) if fast_dim != dim else nn.Identity()
            self.fast_embeddings = nn.Embedding(codebook_size, fast_dim)
            self.fast_layers = nn.ModuleList(TransformerBlock(fast) for _ in range(int(cfg.get("n_fast_layer", 4))))
            self.fast_norm = RMSNorm(fast_dim, fast.norm_eps)
            self.fast_output = nn.Linear(fast_dim, codebook_size, bias=False)
            self.register_buffer("freqs_cis", rope_cache(max_seq_len, slow.head_dim), persistent=False)
            self.register_buffer("fast_freqs_cis", rope_cache(num_codebooks, fast.head_dim), persistent=False)
            self.semantic_range = (0, 0)
            self.causal = torch.ones(1, 1, 1, 1, dtype=torch.bool)
            self.fast_causal = torch.ones(1, 1, dtype=torch.bool)

        def setup_caches(self, seq_len: int, dtype: torch.dtype) -> None:
            device = self.embeddings.weight.device
            self.causal = torch.tril(torch.ones(seq_len, seq_len, dtype=torch.bool, device=device))[None, None]
            self.fast_causal = torch.tril(torch.ones(num_codebooks, num_codebooks, dtype=torch.bool, device=device))
            for block, a, n in [(b, slow, seq_len) for b in self.layers] + [
                (b, fast, num_codebooks) for b in self.fast_layers
            ]:
                shape = (1, a.n_local_heads, n, a.head_dim)
                cast(Attention, block.attention).cache = (
                    torch.zeros(shape, dtype=dtype, device=device),
                    torch.zeros(shape, dtype=dtype, device=device),
                )

        def embed(self, inp: torch.Tensor) -> torch.Tensor:
            """inp [1, 1 + num_codebooks, T]: row 0 tokens, rows 1.. the codes at semantic positions."""
            offsets = torch.arange(num_codebooks, device=inp.device)[None, :, None] * codebook_size
            codes = inp[:, 1:] + offsets if self.share_codebook_embeddings else inp[:, 1:]
            vq = self.codebook_embeddings(codes).sum(dim=1)
            lo, hi = self.semantic_range
            is_semantic = (inp[:, 0] >= lo) & (inp[:, 0] <= hi)
            vq = vq * is_semantic[..., None].to(vq.dtype)
            return self.embeddings(inp[:, 0]) + vq

        def forward_slow(self, inp: torch.Tensor, pos: torch.Tensor) -> tuple[Any, Any]:
            """Tokens at positions `pos` through the slow transformer (KV cache from setup_caches)."""
            x = self.embed(inp)
            mask = self.causal[:, :, pos]
            cis = self.freqs_cis[pos]
            for layer in self.layers:
                x = layer(x, cis, mask, pos)
            x = x[:, -1:]
            out = self.norm(x)
            logits = F.linear(out, self.embeddings.weight) if self.tie_word_embeddings else self.output(out)
            return logits, self.fast_project_in(x)

        def forward_fast(self, x: torch.Tensor, index: int) -> torch.Tensor:
            pos = torch.tensor([index], device=x.device)
            mask = self.fast_causal[None, None, pos]
            x = x.view(1, 1, -1)
            for layer in self.fast_layers:
                x = layer(x, self.fast_freqs_cis[pos], mask, pos)
            return self.fast_output(self.fast_norm(x))

    return DualARTransformer()


def build_firefly(cfg: dict[str, Any]) -> Any:
    """fish-speech 1.5's FireflyArchitecture (VQ-GAN generator) with the published parameter names."""
    import torch
    from torch import nn
    from torch.nn import functional as F
    from torch.nn.utils.parametrizations import weight_norm
    from vector_quantize_pytorch import GroupedResidualFSQ

    class FishConvNet(nn.Module):
        """Causal-style padded conv: all padding on the left plus what makes the length a multiple of stride."""

        def __init__(self, cin: int, cout: int, kernel: int, dilation: int = 1, stride: int = 1, groups: int = 1):
            super().__init__()
            self.conv = nn.Conv1d(cin, cout, kernel, stride=stride, dilation=dilation, groups=groups)
            self.stride = stride
            self.kernel = (kernel - 1) * dilation + 1

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            pad = self.kernel - self.stride
            frames = (x.shape[-1] - self.kernel + pad) / self.stride + 1
            extra = (math.ceil(frames) - 1) * self.stride + (self.kernel - pad) - x.shape[-1]
            return self.conv(F.pad(x, (pad, extra))).contiguous()

        def weight_norm(self) -> FishConvNet:
            self.conv = weight_norm(self.conv)
            return self

    class FishTransConvNet(nn.Module):
        def __init__(self, cin: int, cout: int, kernel: int, stride: int = 1):
            super().__init__()
            self.conv = nn.ConvTranspose1d(cin, cout, kernel, stride=stride)
            self.trim = kernel - stride

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            x = self.conv(x)
            return x[..., : x.shape[-1] - self.trim].contiguous()

        def weight_norm(self) -> FishTransConvNet:
            self.conv = weight_norm(self.conv)
            return self

    class ResBlock1(nn.Module):
        def __init__(self, ch: int, kernel: int, dilation: list[int]):
            super().__init__()
            self.convs1 = nn.ModuleList(FishConvNet(ch, ch, kernel, dilation=d).weight_norm() for d in dilation)
            self.convs2 = nn.ModuleList(FishConvNet(ch, ch, kernel, dilation=d).weight_norm() for d in dilation)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            for c1, c2 in zip(self.convs1, self.convs2, strict=True):
                x = x + c2(F.silu(c1(F.silu(x))))
            return x

    class ParallelBlock(nn.Module):
        def __init__(self, ch: int, kernels: list[int], dilations: list[list[int]]):
            super().__init__()
            self.blocks = nn.ModuleList(ResBlock1(ch, k, d) for k, d in zip(kernels, dilations, strict=True))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.stack([b(x) for b in self.blocks], dim=0).mean(dim=0)

    class HiFiGANGenerator(nn.Module):
        def __init__(self, c: dict[str, Any]):
            super().__init__()
            ch0 = c["upsample_initial_channel"]
            if math.prod(c["upsample_rates"]) != c["hop_length"]:
                raise ValueError("the decoder's upsample rates must multiply to its hop length")
            self.conv_pre = FishConvNet(c["num_mels"], ch0, c["pre_conv_kernel_size"]).weight_norm()
            self.ups = nn.ModuleList(
                FishTransConvNet(ch0 // 2**i, ch0 // 2 ** (i + 1), k, stride=u).weight_norm()
                for i, (u, k) in enumerate(zip(c["upsample_rates"], c["upsample_kernel_sizes"], strict=True))
            )
            self.resblocks = nn.ModuleList(
                ParallelBlock(ch0 // 2 ** (i + 1), c["resblock_kernel_sizes"], c["resblock_dilation_sizes"])
                for i in range(len(self.ups))
            )
            self.conv_post = FishConvNet(ch0 // 2 ** len(self.ups), 1, c["post_conv_kernel_size"]).weight_norm()

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            x = self.conv_pre(x)
            for up, block in zip(self.ups, self.resblocks, strict=True):
                x = block(up(F.silu(x)))
            return torch.tanh(self.conv_post(F.silu(x)))

    class LayerNorm(nn.Module):
        def __init__(self, d: int, channels_first: bool = False):
            super().__init__()
            self.weight = nn.Parameter(torch.ones(d))
            self.bias = nn.Parameter(torch.zeros(d))
            self.channels_first = channels_first

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            if not self.channels_first:
                return F.layer_norm(x, (x.shape[-1],), self.weight, self.bias, 1e-6)
            u = x.mean(1, keepdim=True)
            s = (x - u).pow(2).mean(1, keepdim=True)
            return self.weight[:, None] * ((x - u) / torch.sqrt(s + 1e-6)) + self.bias[:, None]

    class ConvNeXtBlock(nn.Module):
        def __init__(self, d: int, kernel: int = 7):
            super().__init__()
            self.dwconv = FishConvNet(d, d, kernel, groups=d)
            self.norm = LayerNorm(d)
            self.pwconv1 = nn.Linear(d, 4 * d)
            self.act = nn.GELU()
            self.pwconv2 = nn.Linear(4 * d, d)
            self.gamma = nn.Parameter(1e-6 * torch.ones(d))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            y = self.norm(self.dwconv(x).permute(0, 2, 1))
            y = self.gamma * self.pwconv2(self.act(self.pwconv1(y)))
            return x + y.permute(0, 2, 1)

    class ConvNeXtEncoder(nn.Module):
        def __init__(self, c: dict[str, Any]):
            super().__init__()
            dims, depths = c["dims"], c["depths"]
            self.downsample_layers = nn.ModuleList(
                [nn.Sequential(FishConvNet(c["input_channels"], dims[0], 7), LayerNorm(dims[0], True))]
                + [
                    nn.Sequential(LayerNorm(dims[i], True), nn.Conv1d(dims[i], dims[i + 1], 1))
                    for i in range(len(dims) - 1)
                ]
            )
            self.stages = nn.ModuleList(
                nn.Sequential(*[ConvNeXtBlock(d, c.get("kernel_size", 7)) for _ in range(n)])
                for d, n in zip(dims, depths, strict=True)
            )
            self.norm = LayerNorm(dims[-1], True)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            for down, stage in zip(self.downsample_layers, self.stages, strict=True):
                x = stage(down(x))
            return self.norm(x)

    class DownsampleFiniteScalarQuantize(nn.Module):
        def __init__(self, c: dict[str, Any]):
            super().__init__()
            d = c["input_dim"]
            factors = c["downsample_factor"]
            self.groups = c["n_groups"]
            self.residual_fsq = GroupedResidualFSQ(
                dim=d, levels=c["levels"], num_quantizers=c["n_codebooks"], groups=c["n_groups"]
            )
            self.downsample = nn.Sequential(
                *[nn.Sequential(FishConvNet(d, d, f, stride=f), ConvNeXtBlock(d)) for f in factors]
            )
            self.upsample = nn.Sequential(
                *[nn.Sequential(FishTransConvNet(d, d, f, stride=f), ConvNeXtBlock(d)) for f in reversed(factors)]
            )
            self.factor = math.prod(factors)

        def encode(self, z: torch.Tensor) -> torch.Tensor:
            _, indices = self.residual_fsq(self.downsample(z).mT)  # [groups, b, frames, residual]
            g, b, n, r = indices.shape
            return indices.permute(1, 0, 3, 2).reshape(b, g * r, n)

        def decode(self, indices: torch.Tensor) -> torch.Tensor:
            b, gr, n = indices.shape
            idx = indices.reshape(b, self.groups, gr // self.groups, n).permute(1, 0, 3, 2)
            z_q = self.residual_fsq.get_output_from_indices(idx)
            return self.upsample(z_q.mT)

    class LogMelSpectrogram(nn.Module):
        fb: torch.Tensor
        window: torch.Tensor

        def __init__(self, c: dict[str, Any]):
            super().__init__()
            import librosa

            self.sample_rate, self.n_fft = c["sample_rate"], c["n_fft"]
            self.hop_length, self.win_length = c["hop_length"], c["win_length"]
            fb = librosa.filters.mel(
                sr=self.sample_rate,
                n_fft=self.n_fft,
                n_mels=c["n_mels"],
                fmin=0.0,
                fmax=self.sample_rate / 2,
                htk=False,
                norm="slaney",
            )
            self.register_buffer("fb", torch.from_numpy(fb).float(), persistent=False)
            self.register_buffer("window", torch.hann_window(self.win_length), persistent=False)

        def forward(self, y: torch.Tensor) -> torch.Tensor:
            pad = self.win_length - self.hop_length
            y = F.pad(y.unsqueeze(1), (pad // 2, (pad + 1) // 2), mode="reflect").squeeze(1)
            spec = torch.stft(
                y,
                self.n_fft,
                hop_length=self.hop_length,
                win_length=self.win_length,
                window=self.window,
                center=False,
                normalized=False,
                onesided=True,
                return_complex=True,
            )
            linear = torch.sqrt(spec.real.pow(2) + spec.imag.pow(2) + 1e-6)
            return torch.log(torch.clamp(torch.matmul(self.fb, linear), min=1e-5))

    class FireflyArchitecture(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.backbone = ConvNeXtEncoder(cfg["backbone"])
            self.head = HiFiGANGenerator(cfg["head"])
            self.quantizer = DownsampleFiniteScalarQuantize(cfg["quantizer"])
            self.spec_transform = LogMelSpectrogram(cfg["spec_transform"])
            self.sample_rate = int(cfg["spec_transform"]["sample_rate"])
            self.samples_per_code = self.quantizer.factor * int(cfg["spec_transform"]["hop_length"])

        def encode(self, audio: torch.Tensor) -> torch.Tensor:
            """[1, samples] at sample_rate -> codes [1, groups, frames]."""
            mels = self.spec_transform(audio.float())
            frames = audio.shape[-1] // self.spec_transform.hop_length
            mask = (torch.arange(mels.shape[2], device=mels.device) < frames)[None, None].float()
            codes = self.quantizer.encode(self.backbone(mels * mask) * mask)
            return codes[..., : frames // self.quantizer.factor]

        def decode(self, codes: torch.Tensor) -> torch.Tensor:
            """codes [1, groups, frames] -> audio [1, 1, frames * samples_per_code]."""
            return self.head(self.quantizer.decode(codes))

    return FireflyArchitecture()


def _load_state(path: Path) -> dict[str, Any]:
    import torch

    state = torch.load(path, map_location="cpu", mmap=True, weights_only=True)
    if "state_dict" in state:  # a Lightning checkpoint
        state = state["state_dict"]
    return state


class FishSpeechEngine:
    def __init__(self, path: Path, spec: ModelSpec, *, device: str | None = None) -> None:
        require_weights(path, spec)
        torch = require_module(spec, "torch", "PyTorch")
        for module, what in [
            ("tiktoken", "tiktoken"),
            ("vector_quantize_pytorch", "vector-quantize-pytorch"),
            ("librosa", "librosa"),
        ]:
            require_module(spec, module, what)
        self.spec = spec
        self.path = path
        self.device = torch_device(device)
        self.dtype = torch.bfloat16 if self.device.startswith("cuda") else torch.float32
        self.tokenizer = FishTokenizer(path)
        cfg = json.loads((path / "config.json").read_text())
        if cfg.get("model_type") != "dual_ar":
            raise ModelNotInstalled(f"{path / 'config.json'} is not a fish-speech dual_ar config. {spec.install_hint}")
        model = build_dual_ar(cfg)
        model.semantic_range = (self.tokenizer.semantic_begin_id, self.tokenizer.semantic_end_id)
        state = _load_state(path / "model.pth")
        if next(iter(state)).startswith("model."):
            state = {k.removeprefix("model."): v for k, v in state.items()}
        self._load(model, state, path / "model.pth")
        self.model: Any = model.to(device=self.device, dtype=self.dtype).eval()

        decoder_cfg = FIREFLY_CONFIG
        override = path / DECODER_FILE.replace(".pth", ".json")
        if override.is_file():
            decoder_cfg = json.loads(override.read_text())
        decoder = build_firefly(decoder_cfg)
        dstate = _load_state(path / DECODER_FILE)
        if any(k.startswith("generator.") for k in dstate):
            dstate = {k.removeprefix("generator."): v for k, v in dstate.items() if k.startswith("generator.")}
        self._load(decoder, dstate, path / DECODER_FILE)
        self.decoder: Any = decoder.to(self.device).eval()
        self.sample_rate = int(decoder.sample_rate)
        self.max_new_tokens = MAX_NEW_TOKENS

    def _load(self, module: Any, state: dict[str, Any], source: Path) -> None:
        missing, _unexpected = module.load_state_dict(state, strict=False)
        if missing:
            raise ModelNotInstalled(
                f"{source} does not fit the fish-speech 1.5 architecture (missing {len(missing)} weights, e.g. "
                f"{missing[0]}). {self.spec.install_hint}"
            )

    @classmethod
    def load(cls, model_dir: Path, spec: ModelSpec) -> FishSpeechEngine:
        return cls(spec.weights_dir(model_dir), spec)

    def voices(self) -> list[str]:
        return []  # no preset speakers: clone a voice, or get an unconditioned (random) one

    # --- prompt ---------------------------------------------------------------------------------------------

    def _message(self, role: str, text: str, codes: Any = None, end: bool = True) -> Any:
        """One turn as [1 + num_codebooks, T] rows, as fish-speech's Conversation.encode_for_inference."""
        import torch

        tok = self.tokenizer
        parts = [torch.tensor(tok.encode(f"{IM_START}{role}\n{text}"), dtype=torch.long)]
        vq_rows = None
        if codes is not None:
            parts.append(codes[0].long().cpu() + tok.semantic_begin_id)
            vq_rows = codes.long().cpu()
        if end:
            parts.append(torch.tensor(tok.encode(IM_END), dtype=torch.long))
        tokens = torch.cat(parts)
        rows = torch.zeros((1 + self.model.num_codebooks, tokens.numel()), dtype=torch.long)
        rows[0] = tokens
        if vq_rows is not None:
            start = parts[0].numel()
            rows[1:, start : start + vq_rows.shape[1]] = vq_rows
        return rows

    def enroll(self, reference: VoiceReference) -> Conditioning:
        """The reference as a (transcript, VQ codes) exchange after the system turn: the prompt every piece of
        this voice's speech continues."""
        import torch

        if not (reference.transcript or "").strip():
            raise InvalidInput(
                f"Model '{self.spec.id}' clones from the reference recording and its transcript; voice "
                f"'{reference.voice_id}' has no transcript. Enrol it again with the text that is spoken."
            )
        samples = reference_audio(reference, self.sample_rate, max_seconds=MAX_REFERENCE_SECONDS)
        with torch.inference_mode():
            codes = self.decoder.encode(torch.from_numpy(samples)[None].to(self.device))[0]
        prompt = torch.cat(
            [
                self._message("system", SYSTEM_PROMPT),
                self._message("user", " ".join(str(reference.transcript).split())),
                self._message("assistant", VOICE, codes=codes.cpu()),
            ],
            dim=1,
        )
        return {"prompt": prompt.numpy().astype(np.int64)}

    # --- generation -----------------------------------------------------------------------------------------

    def _sample(self, logits: Any, previous: Any) -> Any:
        import torch

        logits = logits.float().clone()
        if previous is not None and previous.numel():
            score = torch.gather(logits, 0, previous)
            logits.scatter_(0, previous, torch.where(score < 0, score * REPETITION_PENALTY, score / REPETITION_PENALTY))
        sorted_logits, order = torch.sort(logits, descending=True)
        cum = torch.cumsum(torch.softmax(sorted_logits, dim=-1), dim=-1)
        remove = cum > TOP_P
        remove[0] = False
        logits = logits.masked_fill(remove.scatter(0, order, remove), float("-inf"))
        probs = torch.softmax(logits / max(TEMPERATURE, 1e-5), dim=-1)
        return torch.multinomial(probs, 1)

    def generate(self, prompt: Any) -> Any:
        """Continue `prompt` ([1 + num_codebooks, T]) until <|im_end|>; returns the generated codes
        [num_codebooks, frames] (fish-speech's `generate` with `decode_one_token_ar`)."""
        import torch

        model = self.model
        n_cb = model.num_codebooks
        tok = self.tokenizer
        length = prompt.shape[1]
        budget = min(self.max_new_tokens, model.max_seq_len - length)
        if budget <= 0:
            raise InvalidInput("The text and the reference together are too long for the model's context.")
        cache_len = length + budget
        cache_len += -cache_len % 8
        model.setup_caches(cache_len, self.dtype)
        # The main head may only say a semantic token or end the turn: what the trained model does, made certain.
        allowed = torch.full((model.embeddings.num_embeddings,), float("-inf"), device=self.device)
        allowed[tok.semantic_begin_id : tok.semantic_end_id + 1] = 0.0
        allowed[tok.im_end_id] = 0.0
        history = torch.zeros((n_cb + 1, budget), dtype=torch.long, device=self.device)
        x = prompt[None].to(self.device)
        pos = torch.arange(length, device=self.device)
        produced = 0
        with torch.inference_mode():
            for step in range(budget):
                logits, hidden = model.forward_slow(x, pos)
                window = history[:, max(0, step - REPETITION_WINDOW) : step]
                main = self._sample(logits[0, -1] + allowed, window[0])
                if int(main) == tok.im_end_id:
                    break
                codes = [main]
                code = (main - tok.semantic_begin_id).clamp(min=0)
                codes.append(code)
                model.forward_fast(hidden, 0)
                for index in range(1, n_cb):
                    fast_logits = model.forward_fast(model.fast_embeddings(code), index)
                    code = self._sample(fast_logits[0, -1], window[index + 1])
                    codes.append(code)
                column = torch.cat(codes).view(n_cb + 1, 1)
                history[:, step : step + 1] = column
                produced = step + 1
                x = column[None]
                pos = torch.tensor([length + step], device=self.device)
        return history[1:, :produced]

    def synthesize(self, text: str, options: SynthesisOptions) -> Iterator[np.ndarray]:
        import torch

        if not text.strip():
            raise InvalidInput("The input text is empty.")
        cond = options.conditioning
        base = torch.from_numpy(cond["prompt"]) if cond is not None else self._message("system", SYSTEM_PROMPT)
        history: list[Any] = []  # earlier (text turn, generated codes) pairs: the voice stays consistent
        for piece in pack_sentences(" ".join(text.split()), CHUNK_CHARS):
            turn = torch.cat([self._message("user", piece), self._message("assistant", VOICE, end=False)], dim=1)
            context = [base]
            room = self.model.max_seq_len - self.max_new_tokens - base.shape[1] - turn.shape[1]
            for earlier in reversed(history):
                if earlier.shape[1] > room:
                    break
                context.insert(1, earlier)
                room -= earlier.shape[1]
            codes = self.generate(torch.cat([*context, turn], dim=1))
            if codes.shape[1] == 0:
                continue
            end = torch.tensor(self.tokenizer.encode(IM_END), dtype=torch.long)
            done = torch.zeros((codes.shape[0] + 1, codes.shape[1] + end.numel()), dtype=torch.long)
            done[0, : codes.shape[1]] = codes[0].cpu() + self.tokenizer.semantic_begin_id
            done[1:, : codes.shape[1]] = codes.cpu()
            done[0, codes.shape[1] :] = end
            history.append(torch.cat([turn, done], dim=1))
            with torch.inference_mode():
                audio = self.decoder.decode(codes[None].to(self.device))
            yield to_float32(audio)
