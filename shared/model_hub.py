"""`s2s models pull`: a model's published weights from the Hugging Face Hub, with huggingface_hub.

The revision an engine declares (or `--revision`) is resolved to its commit first and every file is downloaded at
that commit; each file is checked against what the Hub publishes for it (the sha256 of an LFS file, the git blob
id of a small one) before the folder is installed as `s2s models install --from` would. Downloads resume where
an interrupted one stopped (huggingface_hub keeps the partial file under the staging folder), gated repositories
use HF_TOKEN, and HF_ENDPOINT points at a mirror.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from shared.catalog import HubFiles, ModelSpec, sha256_file
from shared.model_store import InstallError, install_from_dir

PULL_MANIFEST = ".s2s-pulled.json"


def git_blob_id(path: Path) -> str:
    """The git object id of a file (what the Hub publishes for files kept outside LFS)."""
    header = f"blob {path.stat().st_size}\0".encode()
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, lambda: hashlib.sha1(header)).hexdigest()


def _hub_error(exc: Exception, source: HubFiles) -> InstallError:
    from huggingface_hub.errors import GatedRepoError, RepositoryNotFoundError, RevisionNotFoundError

    if isinstance(exc, GatedRepoError):
        return InstallError(
            f"{source.repo_id} is gated: accept its conditions at https://huggingface.co/{source.repo_id} with your "
            "account, then set HF_TOKEN to a token of that account and pull again"
        )
    if isinstance(exc, RevisionNotFoundError):
        return InstallError(f"{source.repo_id} has no revision '{source.revision}'")
    if isinstance(exc, RepositoryNotFoundError):
        return InstallError(
            f"{source.repo_id} was not found (or is private: set HF_TOKEN); check HF_ENDPOINT if you use a mirror"
        )
    return InstallError(f"downloading from {source.repo_id} failed: {exc}; run the pull again to resume it")


def _select(listing: dict[str, Any], source: HubFiles) -> dict[str, Any]:
    """Repository path -> its RepoFile, for the declared paths and globs (each must match something)."""
    chosen: dict[str, Any] = {}
    for pattern in source.files:
        matched = [p for p in listing if fnmatch.fnmatchcase(p, pattern)]
        if not matched:
            raise InstallError(f"{source.repo_id} has no file matching '{pattern}' at that revision")
        chosen.update({p: listing[p] for p in matched})
    return chosen


def _target(path: str, source: HubFiles) -> str:
    for pattern, folder in source.files.items():
        if fnmatch.fnmatchcase(path, pattern):
            name = path.rsplit("/", 1)[-1] if folder else path
            return f"{folder.rstrip('/')}/{name}" if folder else name
    raise AssertionError(path)


def check_file(path: Path, info: Any) -> None:
    """The downloaded file against the Hub's own record of it; a mismatch deletes it."""
    if path.stat().st_size != info.size:
        path.unlink()
        raise InstallError(f"{info.path}: downloaded {path.stat().st_size} bytes, the Hub lists {info.size}")
    if info.lfs is not None:
        expected, actual, what = info.lfs.sha256, sha256_file(path), "sha256"
    else:
        expected, actual, what = info.blob_id, git_blob_id(path), "git blob id"
    if actual != expected:
        path.unlink()
        raise InstallError(f"{info.path}: {what} {actual} does not match the Hub's {expected}; refused")


def pull(
    spec: ModelSpec,
    model_dir: Path,
    *,
    revision: str | None = None,
    token: str | None = None,
    endpoint: str | None = None,
    tqdm_class: Any = None,
    log: Callable[[str], None] = lambda _line: None,
) -> Path:
    """Download the model's declared Hub files, check them, and install them under model_dir."""
    if not spec.hub:
        raise InstallError(
            f"model '{spec.id}' declares no Hugging Face repository to pull from. {spec.install_hint}".strip()
        )
    from huggingface_hub import HfApi, hf_hub_download

    api = HfApi(endpoint=endpoint, token=token)
    staging = model_dir / f".pull-{spec.id}"
    assembled = staging / "model"
    pulled: list[dict[str, str]] = []
    for source in spec.hub:
        wanted = revision if revision and source is spec.hub[0] else source.revision
        try:
            commit = api.model_info(source.repo_id, revision=wanted).sha
            listing = {
                f.path: f
                for f in api.list_repo_tree(source.repo_id, revision=commit, recursive=True, expand=True)
                if hasattr(f, "size")
            }
        except Exception as exc:  # huggingface_hub's errors, mapped to what to do
            raise _hub_error(exc, source) from exc
        assert commit is not None
        log(f"{source.repo_id} at {wanted} is commit {commit}")
        downloads = staging / "downloads" / source.repo_id.replace("/", "--")
        for path, info in _select(listing, source).items():
            try:
                local = Path(
                    hf_hub_download(
                        source.repo_id,
                        path,
                        revision=commit,
                        local_dir=downloads,
                        token=token,
                        endpoint=endpoint,
                        tqdm_class=tqdm_class,
                    )
                )
            except Exception as exc:
                raise _hub_error(exc, source) from exc
            check_file(local, info)
            target = assembled / _target(path, source)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(local, target)
        pulled.append({"repo_id": source.repo_id, "revision": wanted, "commit": commit})
    (assembled / PULL_MANIFEST).write_text(json.dumps({"model": spec.id, "sources": pulled}, indent=2))
    installed = install_from_dir(spec, assembled, model_dir)
    shutil.rmtree(staging, ignore_errors=True)
    return installed
