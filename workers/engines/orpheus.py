"""Orpheus 3B engine: a Llama causal LM that writes SNAC audio codes, decoded to 24 kHz speech.

Weights under `<model_dir>/orpheus-3b/`: the published Hugging Face model folder as it is (config.json,
model.safetensors or the sharded model-*.safetensors + model.safetensors.index.json, tokenizer.json,
tokenizer_config.json, special_tokens_map.json) plus the SNAC 24 kHz decoder in `snac/` (config.json +
pytorch_model.bin, the published hubertsiuzdak/snac_24khz files). Libraries: transformers + snac
(`pip install -e '.[orpheus]'`).

Prompt and code layout follow the Orpheus reference implementation: `<start of human> voice: text <eot>
<end of human> <start of AI> <start of speech>`, then 7 tokens per SNAC frame, token i of a frame being
`128266 + i*4096 + code`, redistributed to SNAC's three codebooks as [0], [1, 4], [2, 3, 5, 6].
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import numpy as np

from shared.catalog import EngineSpec, HubFiles, ModelSpec, Prices
from workers.engines.base import InvalidInput, ModelNotInstalled, SynthesisOptions
from workers.engines.common import require_module, require_weights, to_float32, torch_device
from workers.synthesis import pack_sentences

SAMPLE_RATE = 24000
# Special token ids of the Orpheus tokenizer (Llama 3 vocabulary of 128256 + Orpheus' own tokens).
END_OF_TEXT = 128009
START_OF_SPEECH = 128257
END_OF_SPEECH = 128258
START_OF_HUMAN = 128259
END_OF_HUMAN = 128260
START_OF_AI = 128261
AUDIO_TOKEN_OFFSET = 128266
CODEBOOK_SIZE = 4096
TOKENS_PER_FRAME = 7
# The finetuned model's preset speakers, in the order of the model card.
VOICES = ("tara", "leah", "jess", "leo", "dan", "mia", "zac", "zoe")
ENGINE = EngineSpec(
    name="orpheus",
    loader="OrpheusEngine",
    models=(
        ModelSpec(
            id="orpheus-3b",
            kind="tts",
            description="Expressive Llama-based TTS (Orpheus 3B)",
            languages=("en",),
            emotions=True,
            voices=VOICES,
            required_files=("config.json", "tokenizer.json", "snac/config.json", "snac/pytorch_model.bin"),
            hub=(
                HubFiles("canopylabs/orpheus-3b-0.1-ft", {"*.json": "", "*.safetensors": ""}, gated=True),
                HubFiles("hubertsiuzdak/snac_24khz", {"config.json": "snac", "pytorch_model.bin": "snac"}),
            ),
            install_hint=(
                "Put the published Orpheus model folder (config.json, model*.safetensors, tokenizer.json, "
                "tokenizer_config.json) and the SNAC 24 kHz decoder in its snac/ subfolder (config.json, "
                "pytorch_model.bin) in DIR, run `s2s models install orpheus-3b --from DIR`, and "
                "pip install -e '.[orpheus]'."
            ),
            extra="orpheus",
            preference=30,
            prices=Prices(per_1k_chars=15.0),
        ),
    ),
)
# Our emotion field mapped onto the paralinguistic tags Orpheus was trained with (<laugh>, <chuckle>, <sigh>,
# <cough>, <sniffle>, <groan>, <yawn>, <gasp>); tags written in the text itself pass through unchanged.
EMOTION_TAGS = {"happy": "<chuckle>", "sad": "<sigh>", "angry": "<groan>"}
# Sampling settings of the reference implementation.
TEMPERATURE = 0.6
TOP_P = 0.8
REPETITION_PENALTY = 1.3
MAX_NEW_TOKENS = 2000  # about 24 s of audio per piece
PIECE_CHARS = 300
# Token budget per piece: SNAC 24 kHz has ~11.7 frames/s; speech runs ~14 characters/s. Allow 3x that.
FRAMES_PER_CHAR = 2.5


def redistribute_codes(codes: list[int]) -> tuple[list[int], list[int], list[int]]:
    """Orpheus' 7-codes-per-frame order -> SNAC's three codebooks (1, 2 and 4 codes per frame)."""
    layer_1: list[int] = []
    layer_2: list[int] = []
    layer_3: list[int] = []
    for i in range(len(codes) // TOKENS_PER_FRAME):
        f = codes[TOKENS_PER_FRAME * i : TOKENS_PER_FRAME * (i + 1)]
        layer_1.append(f[0])
        layer_2 += [f[1], f[4]]
        layer_3 += [f[2], f[3], f[5], f[6]]
    return layer_1, layer_2, layer_3


def tokens_to_codes(token_ids: list[int]) -> list[int]:
    """Generated token ids -> SNAC codes (0..4095), whole frames only; stops at the first non-audio token.

    Audio token k of the stream (k counted from the start of speech) encodes `AUDIO_TOKEN_OFFSET + (k % 7) * 4096 +
    code`; a token outside that frame position's range ends the speech, as in the reference decoder.
    """
    codes: list[int] = []
    for k, token in enumerate(token_ids):
        code = token - AUDIO_TOKEN_OFFSET - (k % TOKENS_PER_FRAME) * CODEBOOK_SIZE
        if not 0 <= code < CODEBOOK_SIZE:
            break
        codes.append(code)
    return codes[: len(codes) // TOKENS_PER_FRAME * TOKENS_PER_FRAME]


def _frame_constraint(prompt_len: int) -> Any:
    """A logits processor keeping generation on well-formed frames: position k of a frame may only take codebook
    k's 4096 tokens, and end-of-speech is allowed only between frames. The trained model emits exactly this
    layout; the mask makes a stray text token impossible rather than silently cutting the audio."""
    import torch
    from transformers import LogitsProcessor

    class FrameConstraint(LogitsProcessor):
        def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
            k = (input_ids.shape[1] - prompt_len) % TOKENS_PER_FRAME
            start = AUDIO_TOKEN_OFFSET + k * CODEBOOK_SIZE
            mask = torch.full_like(scores, float("-inf"))
            mask[:, start : start + CODEBOOK_SIZE] = 0.0
            if k == 0:
                mask[:, END_OF_SPEECH] = 0.0
            return cast(torch.FloatTensor, scores + mask)

    return FrameConstraint()


class OrpheusEngine:
    sample_rate = SAMPLE_RATE

    def __init__(self, path: Path, spec: ModelSpec, *, device: str | None = None) -> None:
        require_weights(path, spec)
        if not (path / "model.safetensors").is_file() and not (path / "model.safetensors.index.json").is_file():
            raise ModelNotInstalled(
                f"Model '{spec.id}' is not installed (no model.safetensors or model.safetensors.index.json in "
                f"{path}). {spec.install_hint}"
            )
        transformers = require_module(spec, "transformers", "transformers")
        snac = require_module(spec, "snac", "the SNAC audio codec (snac)")
        import torch

        self.spec = spec
        self.device = torch_device(device)
        dtype = torch.bfloat16 if self.device.startswith("cuda") else torch.float32
        self.tokenizer: Any = transformers.AutoTokenizer.from_pretrained(str(path), local_files_only=True)
        model = transformers.AutoModelForCausalLM.from_pretrained(str(path), dtype=dtype, local_files_only=True)
        self.model: Any = model.to(self.device).eval()
        self.snac: Any = snac.SNAC.from_pretrained(str(path / "snac")).to(self.device).eval()
        snac_rate = int(self.snac.sampling_rate)
        if snac_rate != SAMPLE_RATE:
            raise ModelNotInstalled(
                f"Model '{spec.id}' needs the 24 kHz SNAC decoder in {path / 'snac'} (found {snac_rate} Hz). "
                f"{spec.install_hint}"
            )
        self.max_new_tokens = MAX_NEW_TOKENS

    @classmethod
    def load(cls, model_dir: Path, spec: ModelSpec) -> OrpheusEngine:
        return cls(spec.weights_dir(model_dir), spec)

    def voices(self) -> list[str]:
        return list(VOICES)

    def prompt_ids(self, text: str, voice: str) -> list[int]:
        ids = self.tokenizer(f"{voice}: {text}")["input_ids"]
        return [START_OF_HUMAN, *ids, END_OF_TEXT, END_OF_HUMAN, START_OF_AI, START_OF_SPEECH]

    def generate_codes(self, text: str, voice: str) -> list[int]:
        import torch
        from transformers import LogitsProcessorList

        prompt = self.prompt_ids(text, voice)
        budget = TOKENS_PER_FRAME * math.ceil(FRAMES_PER_CHAR * len(text) + 12)
        input_ids = torch.tensor([prompt], dtype=torch.long, device=self.device)
        with torch.inference_mode():
            out = self.model.generate(
                input_ids=input_ids,
                attention_mask=torch.ones_like(input_ids),
                max_new_tokens=min(self.max_new_tokens, budget),
                do_sample=True,
                temperature=TEMPERATURE,
                top_p=TOP_P,
                repetition_penalty=REPETITION_PENALTY,
                eos_token_id=END_OF_SPEECH,
                pad_token_id=END_OF_SPEECH,
                logits_processor=LogitsProcessorList([_frame_constraint(len(prompt))]),
            )
        return tokens_to_codes(out[0, len(prompt) :].tolist())

    def decode(self, codes: list[int]) -> np.ndarray:
        import torch

        layers = redistribute_codes(codes)
        tensors = [torch.tensor(layer, dtype=torch.long, device=self.device)[None] for layer in layers]
        with torch.inference_mode():
            audio = self.snac.decode(tensors)
        return to_float32(audio)

    def synthesize(self, text: str, options: SynthesisOptions) -> Iterator[np.ndarray]:
        voice, language = options.voice, options.language
        if options.voice_id is not None:
            raise InvalidInput(f"Model '{self.spec.id}' does not clone voices; use one of: {', '.join(VOICES)}.")
        if voice not in VOICES:
            raise InvalidInput(
                f"Model '{self.spec.id}' has no voice '{voice}'; voices: {', '.join(VOICES)}.", code="voice_not_found"
            )
        if language and language.split("-")[0] != "en":
            raise InvalidInput(f"Model '{self.spec.id}' speaks English only (got '{language}').")
        if not text.strip():
            raise InvalidInput("The input text is empty.")
        tag = EMOTION_TAGS.get(options.emotion or "")
        for index, piece in enumerate(pack_sentences(text, PIECE_CHARS)):
            codes = self.generate_codes(f"{tag} {piece}" if tag and index == 0 else piece, voice)
            if codes:
                yield self.decode(codes)
