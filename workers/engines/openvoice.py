"""OpenVoice V2 engine: a base TTS voice converted to a cloned voice's tone colour by OpenVoice's converter.

OpenVoice V2 is two stages: a base TTS (MeloTTS in the official release) and the tone-colour converter, a VITS-style
`SynthesizerTrn` with a reference encoder (speaker embedding from a linear spectrogram), a posterior encoder, a
normalising flow and a HiFi-GAN decoder. Voice conversion runs the posterior encoder on the source audio, maps it
through the flow conditioned on the source speaker embedding and back conditioned on the target's, then decodes.

Weights: the published `checkpoints_v2/converter/` files under `<model_dir>/openvoice-v2/converter/`
(`config.json`, `checkpoint.pth` holding {"model": state_dict}). Optionally `converter/base_speakers/<voice>.pth`
holds a precomputed source speaker embedding for a base voice (as OpenVoice's `base_speakers/ses/*.pth`).

What is not the official stack, and why: neither MeloTTS (its PyPI sdist does not build) nor OpenVoice's own
package (`openvoice-cli` pulls torchaudio, which does not load beside torch 2.13) installs here, so the base voices
are this server's Piper voices (`<model_dir>/piper/`, VITS at 22.05 kHz like the converter) and the converter network
is implemented below in plain torch with the published checkpoint's module names, so the published
`checkpoint.pth` loads unchanged. OpenVoice's optional audio watermark (wavmark) is not applied.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from shared.catalog import MODELS, EngineSpec, HubFiles, ModelSpec, Prices
from workers.engines.base import Conditioning, InvalidInput, ModelNotInstalled, SynthesisOptions, VoiceReference
from workers.engines.common import (
    reference_audio,
    require_module,
    require_weights,
    to_float32,
    to_numpy,
    torch_device,
)

CONVERTER = "converter"

ENGINE = EngineSpec(
    name="openvoice",
    loader="OpenVoiceEngine",
    models=(
        ModelSpec(
            id="openvoice-v2",
            kind="tts",
            license="MIT",
            description="Fast voice cloning and conversion (OpenVoice V2)",
            can_clone=True,
            converts=True,  # POST /v1/audio/voice-conversions: the recording's tone colour to the voice's
            required_files=("converter/config.json", "converter/checkpoint.pth"),
            hub=(HubFiles("myshell-ai/OpenVoiceV2", {"converter/config.json": "", "converter/checkpoint.pth": ""}),),
            install_hint=(
                "Put OpenVoice V2's converter folder (checkpoints_v2/converter: config.json, checkpoint.pth) in "
                "DIR/converter, run `s2s models install openvoice-v2 --from DIR`, and `s2s models install piper` "
                "for the base voice (pip install -e '.[openvoice]')."
            ),
            extra="openvoice",
            preference=20,
            prices=Prices(per_1k_chars=10.0, per_audio_second=0.05, per_clone=50.0),
        ),
    ),
)
TAU = 0.3  # OpenVoice's default sampling temperature of the posterior encoder in convert()
LRELU_SLOPE = 0.1
SE_WINDOW_SECONDS = 10.0  # OpenVoice's se_extractor cuts references into ~10 s speech segments
SE_MIN_SECONDS = 1.0
CONVERT_PIECE_SECONDS = 12.0  # a recording is converted (and streamed) in pieces of at most this length
# Read by the base voice once to estimate its own tone colour (the source speaker embedding).
CALIBRATION_TEXT = (
    "The birch canoe slid on the smooth planks. Glue the sheet to the dark blue background. "
    "It is easy to tell the depth of a well. These days a chicken leg is a rare dish. "
    "Rice is often served in round bowls. The juice of lemons makes fine punch."
)


def build_converter(model_cfg: dict[str, Any], spec_channels: int) -> Any:
    """OpenVoice's tone-colour converter network (SynthesizerTrn with n_speakers=0), as torch modules whose
    state-dict names match the published checkpoint (enc_q, flow, dec, ref_enc; old-style weight_g/weight_v
    weight-norm keys load through torch's compatibility hook)."""
    import torch
    from torch import nn
    from torch.nn import functional as F
    from torch.nn.utils.parametrizations import weight_norm

    def padding(kernel: int, dilation: int = 1) -> int:
        return (kernel * dilation - dilation) // 2

    class WN(nn.Module):
        """Non-causal WaveNet stack with global conditioning (VITS modules.WN)."""

        def __init__(self, hidden: int, kernel: int, dilation_rate: int, n_layers: int, gin: int, p_dropout=0.0):
            super().__init__()
            self.hidden = hidden
            self.n_layers = n_layers
            self.in_layers = nn.ModuleList()
            self.res_skip_layers = nn.ModuleList()
            self.drop = nn.Dropout(p_dropout)
            if gin:
                self.cond_layer = weight_norm(nn.Conv1d(gin, 2 * hidden * n_layers, 1))
            for i in range(n_layers):
                dilation = dilation_rate**i
                self.in_layers.append(
                    weight_norm(
                        nn.Conv1d(hidden, 2 * hidden, kernel, dilation=dilation, padding=padding(kernel, dilation))
                    )
                )
                out = 2 * hidden if i < n_layers - 1 else hidden
                self.res_skip_layers.append(weight_norm(nn.Conv1d(hidden, out, 1)))

        def forward(self, x: torch.Tensor, mask: torch.Tensor, g: torch.Tensor | None = None) -> torch.Tensor:
            output = torch.zeros_like(x)
            cond = self.cond_layer(g) if g is not None else None
            h = self.hidden
            for i in range(self.n_layers):
                x_in = self.in_layers[i](x)
                if cond is not None:
                    x_in = x_in + cond[:, i * 2 * h : (i + 1) * 2 * h, :]
                acts = self.drop(torch.tanh(x_in[:, :h]) * torch.sigmoid(x_in[:, h:]))
                res_skip = self.res_skip_layers[i](acts)
                if i < self.n_layers - 1:
                    x = (x + res_skip[:, :h]) * mask
                    output = output + res_skip[:, h:]
                else:
                    output = output + res_skip
            return output * mask

    class PosteriorEncoder(nn.Module):
        def __init__(self, in_ch: int, out_ch: int, hidden: int, kernel: int, dil: int, n_layers: int, gin: int):
            super().__init__()
            self.out_channels = out_ch
            self.pre = nn.Conv1d(in_ch, hidden, 1)
            self.enc = WN(hidden, kernel, dil, n_layers, gin)
            self.proj = nn.Conv1d(hidden, out_ch * 2, 1)

        def forward(self, x: torch.Tensor, lengths: torch.Tensor, g: torch.Tensor, tau: float) -> Any:
            mask = (torch.arange(x.size(2), device=x.device)[None] < lengths[:, None]).unsqueeze(1).to(x.dtype)
            x = self.pre(x) * mask
            x = self.enc(x, mask, g=g)
            stats = self.proj(x) * mask
            m, logs = torch.split(stats, self.out_channels, dim=1)
            z = (m + torch.randn_like(m) * tau * torch.exp(logs)) * mask
            return z, mask

    class ResidualCouplingLayer(nn.Module):
        def __init__(self, channels: int, hidden: int, kernel: int, dil: int, n_layers: int, gin: int):
            super().__init__()
            self.half_channels = channels // 2
            self.pre = nn.Conv1d(self.half_channels, hidden, 1)
            self.enc = WN(hidden, kernel, dil, n_layers, gin)
            self.post = nn.Conv1d(hidden, self.half_channels, 1)  # mean only

        def forward(self, x: torch.Tensor, mask: torch.Tensor, g: torch.Tensor, reverse: bool) -> torch.Tensor:
            x0, x1 = torch.split(x, [self.half_channels, self.half_channels], 1)
            m = self.post(self.enc(self.pre(x0) * mask, mask, g=g)) * mask
            x1 = (x1 - m) * mask if reverse else m + x1 * mask
            return torch.cat([x0, x1], 1)

    class Flip(nn.Module):
        def forward(self, x: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
            return torch.flip(x, [1])

    class ResidualCouplingBlock(nn.Module):
        def __init__(self, channels: int, hidden: int, kernel: int, dil: int, n_layers: int, n_flows: int, gin: int):
            super().__init__()
            self.flows = nn.ModuleList()
            for _ in range(n_flows):
                self.flows.append(ResidualCouplingLayer(channels, hidden, kernel, dil, n_layers, gin))
                self.flows.append(Flip())

        def forward(self, x: torch.Tensor, mask: torch.Tensor, g: torch.Tensor, reverse: bool = False) -> torch.Tensor:
            for flow in reversed(self.flows) if reverse else self.flows:
                x = flow(x, mask, g, reverse)
            return x

    class ResBlock1(nn.Module):
        def __init__(self, ch: int, kernel: int, dilation: list[int]):
            super().__init__()
            self.convs1 = nn.ModuleList(
                weight_norm(nn.Conv1d(ch, ch, kernel, dilation=d, padding=padding(kernel, d))) for d in dilation
            )
            self.convs2 = nn.ModuleList(
                weight_norm(nn.Conv1d(ch, ch, kernel, padding=padding(kernel))) for _ in dilation
            )

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            for c1, c2 in zip(self.convs1, self.convs2, strict=True):
                x = x + c2(F.leaky_relu(c1(F.leaky_relu(x, LRELU_SLOPE)), LRELU_SLOPE))
            return x

    class ResBlock2(nn.Module):
        def __init__(self, ch: int, kernel: int, dilation: list[int]):
            super().__init__()
            self.convs = nn.ModuleList(
                weight_norm(nn.Conv1d(ch, ch, kernel, dilation=d, padding=padding(kernel, d))) for d in dilation
            )

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            for c in self.convs:
                x = x + c(F.leaky_relu(x, LRELU_SLOPE))
            return x

    class Generator(nn.Module):
        def __init__(self, cfg: dict[str, Any], in_ch: int, gin: int):
            super().__init__()
            kernels, dilations = cfg["resblock_kernel_sizes"], cfg["resblock_dilation_sizes"]
            rates, up_kernels = cfg["upsample_rates"], cfg["upsample_kernel_sizes"]
            ch0 = cfg["upsample_initial_channel"]
            block = ResBlock1 if str(cfg["resblock"]) == "1" else ResBlock2
            self.num_kernels = len(kernels)
            self.conv_pre = nn.Conv1d(in_ch, ch0, 7, 1, padding=3)
            self.ups = nn.ModuleList(
                weight_norm(nn.ConvTranspose1d(ch0 // 2**i, ch0 // 2 ** (i + 1), k, u, padding=(k - u) // 2))
                for i, (u, k) in enumerate(zip(rates, up_kernels, strict=True))
            )
            self.resblocks = nn.ModuleList(
                block(ch0 // 2 ** (i + 1), k, d)
                for i in range(len(rates))
                for k, d in zip(kernels, dilations, strict=True)
            )
            self.conv_post = nn.Conv1d(ch0 // 2 ** len(rates), 1, 7, 1, padding=3, bias=False)
            if gin:
                self.cond = nn.Conv1d(gin, ch0, 1)

        def forward(self, x: torch.Tensor, g: torch.Tensor | None) -> torch.Tensor:
            x = self.conv_pre(x)
            if g is not None:
                x = x + self.cond(g)
            for i, up in enumerate(self.ups):
                x = up(F.leaky_relu(x, LRELU_SLOPE))
                blocks = self.resblocks[i * self.num_kernels : (i + 1) * self.num_kernels]
                x = sum(b(x) for b in blocks) / self.num_kernels
            return torch.tanh(self.conv_post(F.leaky_relu(x)))

    class ReferenceEncoder(nn.Module):
        """Linear spectrogram [N, T, F] -> tone-colour embedding [N, gin]."""

        def __init__(self, spec_channels: int, gin: int, layernorm: bool = True):
            super().__init__()
            self.spec_channels = spec_channels
            filters = [1, 32, 32, 64, 64, 128, 128]
            self.convs = nn.ModuleList(
                weight_norm(nn.Conv2d(filters[i], filters[i + 1], (3, 3), stride=(2, 2), padding=(1, 1)))
                for i in range(len(filters) - 1)
            )
            freq = spec_channels
            for _ in range(len(filters) - 1):
                freq = (freq - 3 + 2) // 2 + 1
            self.gru = nn.GRU(input_size=filters[-1] * freq, hidden_size=128, batch_first=True)
            self.proj = nn.Linear(128, gin)
            self.layernorm = nn.LayerNorm(spec_channels) if layernorm else None

        def forward(self, spec: torch.Tensor) -> torch.Tensor:
            out = spec.view(spec.size(0), 1, -1, self.spec_channels)
            if self.layernorm is not None:
                out = self.layernorm(out)
            for conv in self.convs:
                out = F.relu(conv(out))
            out = out.transpose(1, 2)
            out = out.contiguous().view(out.size(0), out.size(1), -1)
            self.gru.flatten_parameters()
            _, hidden = self.gru(out)
            return self.proj(hidden.squeeze(0))

    class ToneColorConverterNet(nn.Module):
        def __init__(self, cfg: dict[str, Any], spec_channels: int):
            super().__init__()
            inter, hidden, gin = cfg["inter_channels"], cfg["hidden_channels"], cfg.get("gin_channels", 256)
            self.zero_g = bool(cfg.get("zero_g", False))
            self.dec = Generator(cfg, inter, gin)
            self.enc_q = PosteriorEncoder(spec_channels, inter, hidden, 5, 1, 16, gin)
            self.flow = ResidualCouplingBlock(inter, hidden, 5, 1, 4, 4, gin)
            self.ref_enc = ReferenceEncoder(spec_channels, gin)

        def voice_conversion(
            self, spec: torch.Tensor, lengths: torch.Tensor, g_src: torch.Tensor, g_tgt: torch.Tensor, tau: float
        ) -> torch.Tensor:
            z, mask = self.enc_q(spec, lengths, torch.zeros_like(g_src) if self.zero_g else g_src, tau)
            z_p = self.flow(z, mask, g=g_src)
            z_hat = self.flow(z_p, mask, g=g_tgt, reverse=True)
            return self.dec(z_hat * mask, g=torch.zeros_like(g_tgt) if self.zero_g else g_tgt)

    return ToneColorConverterNet(model_cfg, spec_channels)


def linear_spectrogram(y: Any, n_fft: int, hop: int, win: int) -> Any:
    """OpenVoice's spectrogram_torch: reflect-padded STFT magnitude, center=False -> [N, n_fft//2+1, frames]."""
    import torch

    pad = (n_fft - hop) // 2
    y = torch.nn.functional.pad(y.unsqueeze(1), (pad, pad), mode="reflect").squeeze(1)
    window = torch.hann_window(win, dtype=y.dtype, device=y.device)
    spec = torch.stft(
        y,
        n_fft,
        hop_length=hop,
        win_length=win,
        window=window,
        center=False,
        normalized=False,
        onesided=True,
        return_complex=True,
    )
    return torch.sqrt(spec.real.pow(2) + spec.imag.pow(2) + 1e-6)


def resample(samples: np.ndarray, source_rate: int, target_rate: int) -> np.ndarray:
    if source_rate == target_rate:
        return samples
    from scipy.signal import resample_poly

    g = math.gcd(source_rate, target_rate)
    return resample_poly(samples, target_rate // g, source_rate // g).astype(np.float32)


def quiet_pieces(samples: np.ndarray, rate: int, max_seconds: float) -> Iterator[np.ndarray]:
    """`samples` in consecutive pieces of at most `max_seconds`, each cut at the quietest 20 ms of the last third
    of its allowed length (a pause, where one is), so no word is split."""
    longest = max(1, int(max_seconds * rate))
    frame = max(1, rate // 50)
    start = 0
    while samples.size - start > longest:
        lo, hi = start + longest * 2 // 3, start + longest
        window = samples[lo:hi]
        n = window.size // frame
        energy = np.square(window[: n * frame].reshape(n, frame)).mean(axis=1)
        cut = lo + int(np.argmin(energy)) * frame + frame // 2
        yield samples[start:cut]
        start = cut
    yield samples[start:]


class OpenVoiceEngine:
    def __init__(self, model_dir: Path, spec: ModelSpec, *, device: str | None = None) -> None:
        path = spec.weights_dir(model_dir)
        require_weights(path, spec)
        torch = require_module(spec, "torch", "PyTorch")
        require_module(spec, "scipy.signal", "SciPy")
        from workers.engines.piper import PiperEngine

        self.spec = spec
        self.path = path
        self.device = torch_device(device)
        try:
            self.base = PiperEngine.load(model_dir, MODELS["piper"])
        except ModelNotInstalled as exc:
            raise ModelNotInstalled(
                f"Model '{spec.id}' speaks through a base Piper voice and none is usable ({exc}). "
                "Run `s2s models install piper` (pip install -e '.[openvoice]')."
            ) from exc
        cfg = json.loads((path / CONVERTER / "config.json").read_text())
        data, model_cfg = cfg["data"], cfg["model"]
        self.version = str(cfg.get("_version_", "v1"))
        self.sample_rate = int(data["sampling_rate"])
        self.n_fft, self.hop, self.win = int(data["filter_length"]), int(data["hop_length"]), int(data["win_length"])
        net = build_converter(model_cfg, self.n_fft // 2 + 1)
        checkpoint = torch.load(path / CONVERTER / "checkpoint.pth", map_location="cpu", weights_only=True)
        state = checkpoint.get("model", checkpoint)
        missing, _unexpected = net.load_state_dict(state, strict=False)
        if missing:
            raise ModelNotInstalled(
                f"{path / CONVERTER / 'checkpoint.pth'} is not an OpenVoice tone-colour converter checkpoint "
                f"(missing {len(missing)} weights, e.g. {missing[0]}). {spec.install_hint}"
            )
        self.net: Any = net.to(self.device).eval()
        self._se: dict[tuple[str, ...], Any] = {}
        self._lock = threading.Lock()

    @classmethod
    def load(cls, model_dir: Path, spec: ModelSpec) -> OpenVoiceEngine:
        return cls(model_dir, spec)

    def voices(self) -> list[str]:
        """The base voices (Piper voices installed on this worker); cloned voices convert one of them."""
        return self.base.voices()

    def extract_se(self, samples: np.ndarray) -> Any:
        """Tone-colour embedding [1, gin, 1]: the mean of the reference encoder over ~10 s windows."""
        import torch

        window = int(SE_WINDOW_SECONDS * self.sample_rate)
        pieces = [samples[i : i + window] for i in range(0, samples.size, window)]
        pieces = [p for p in pieces if p.size >= SE_MIN_SECONDS * self.sample_rate] or [samples]
        embeddings = []
        with torch.inference_mode():
            for piece in pieces:
                y = torch.from_numpy(np.ascontiguousarray(piece, dtype=np.float32))[None].to(self.device)
                spec = linear_spectrogram(y, self.n_fft, self.hop, self.win)
                embeddings.append(self.net.ref_enc(spec.transpose(1, 2)).unsqueeze(-1))
        return torch.stack(embeddings).mean(0)

    def source_se(self, voice: str) -> Any:
        """The base voice's own tone colour: a precomputed `base_speakers/<voice>.pth`, else measured once on a
        calibration passage the base voice reads."""
        import torch

        key = ("base", voice)
        with self._lock:
            if key in self._se:
                return self._se[key]
        stored = self.path / CONVERTER / "base_speakers" / f"{voice}.pth"
        if stored.is_file():
            se = torch.load(stored, map_location="cpu", weights_only=True).to(self.device)
        else:
            se = self.extract_se(self._base_audio(CALIBRATION_TEXT, voice, 1.0))
        with self._lock:
            self._se[key] = se
        return se

    def enroll(self, reference: VoiceReference) -> Conditioning:
        """The cloned voice's tone colour (the target speaker embedding of the conversion)."""
        return {"tone_color": to_numpy(self.extract_se(reference_audio(reference, self.sample_rate)))}

    def _base_chunks(self, text: str, voice: str, speed: float) -> Iterator[np.ndarray]:
        if voice not in self.voices():
            raise InvalidInput(
                f"Model '{self.spec.id}' has no base voice '{voice}'; voices: {', '.join(self.voices())}.",
                code="voice_not_found",
            )
        for chunk in self.base.synthesize(text, SynthesisOptions(voice=voice, speed=speed)):
            yield resample(chunk, int(self.base.sample_rate), self.sample_rate)

    def _base_audio(self, text: str, voice: str, speed: float) -> np.ndarray:
        return np.concatenate(list(self._base_chunks(text, voice, speed)))

    def convert(self, samples: np.ndarray, src_se: Any, tgt_se: Any, tau: float = TAU) -> np.ndarray:
        """OpenVoice's ToneColorConverter.convert on samples at the converter's rate."""
        import torch

        with torch.inference_mode():
            y = torch.from_numpy(np.ascontiguousarray(samples, dtype=np.float32))[None].to(self.device)
            spec = linear_spectrogram(y, self.n_fft, self.hop, self.win)
            lengths = torch.tensor([spec.size(-1)], device=self.device)
            audio = self.net.voice_conversion(spec, lengths, src_se, tgt_se, tau)
        return to_float32(audio[0, 0])

    def convert_voice(
        self, samples: np.ndarray, *, voice: str, conditioning: Conditioning | None = None
    ) -> Iterator[np.ndarray]:
        """Voice conversion of a recording at the converter's rate: its own tone colour (measured on it) replaced by
        the target's (a cloned voice's conditioning, else the base voice `voice`'s), converted in pieces cut at
        quiet points (at most CONVERT_PIECE_SECONDS each) and yielded as each is done; the output is exactly as
        long as the input, its timing and prosody the input's."""
        import torch

        if conditioning is not None:
            tgt = torch.from_numpy(conditioning["tone_color"]).to(self.device)
        elif voice in self.voices():
            tgt = self.source_se(voice)
        else:
            raise InvalidInput(
                f"Model '{self.spec.id}' has no voice '{voice}'; use a base voice ({', '.join(self.voices())}) or a "
                "cloned voice id.",
                code="voice_not_found",
            )
        samples = np.asarray(samples, dtype=np.float32).reshape(-1)
        if samples.size < self.win:
            yield samples
            return
        src = self.extract_se(samples)
        for piece in quiet_pieces(samples, self.sample_rate, CONVERT_PIECE_SECONDS):
            out = self.convert(piece, src, tgt) if piece.size >= self.win else piece
            yield np.pad(out[: piece.size], (0, max(0, piece.size - out.size)))

    def synthesize(self, text: str, options: SynthesisOptions) -> Iterator[np.ndarray]:
        import torch

        if not text.strip():
            raise InvalidInput("The input text is empty.")
        if options.conditioning is None:
            yield from self._base_chunks(text, options.voice, options.speed)
            return
        # a cloned voice: the base voice named by the request (or the first one) converted to the reference
        base_voice = options.voice if options.voice in self.voices() else self.voices()[0]
        tgt = torch.from_numpy(options.conditioning["tone_color"]).to(self.device)
        src = self.source_se(base_voice)
        for chunk in self._base_chunks(text, base_voice, options.speed):
            yield self.convert(chunk, src, tgt)
