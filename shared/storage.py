"""Object store for audio inputs and outputs: one interface, a local-disk and an S3 implementation.

Keys are POSIX-style paths such as `outputs/<account>/<job_id>.mp3`. Both implementations are synchronous;
async callers run them in a thread.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, Protocol, runtime_checkable

from shared.config import Settings

CHUNK = 1 << 20


class ObjectNotFound(KeyError):
    """The key does not exist in the store."""


@runtime_checkable
class ObjectStore(Protocol):
    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> None: ...

    def put_file(self, key: str, fileobj: IO[bytes], content_type: str | None = None) -> None: ...

    def get_bytes(self, key: str) -> bytes: ...

    def download_to(self, key: str, path: Path) -> None: ...

    def iter_chunks(self, key: str, chunk_size: int = CHUNK) -> Iterator[bytes]: ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None: ...

    def presigned_url(self, key: str, filename: str | None = None) -> str | None: ...

    def check(self) -> None:
        """Raise when the store cannot be used (readiness probe)."""
        ...


def _safe_key(key: str) -> str:
    parts = [p for p in key.split("/") if p]
    if not parts or any(p in (".", "..") for p in parts):
        raise ValueError(f"invalid object key: {key!r}")
    return "/".join(parts)


class LocalStore:
    """Objects as files under one root folder; writes are atomic (temp file + rename)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        return self.root / _safe_key(key)

    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)

    def put_file(self, key: str, fileobj: IO[bytes], content_type: str | None = None) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as fh:
            shutil.copyfileobj(fileobj, fh, CHUNK)
        os.replace(tmp, path)

    def get_bytes(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError as exc:
            raise ObjectNotFound(key) from exc

    def download_to(self, key: str, path: Path) -> None:
        try:
            shutil.copyfile(self._path(key), path)
        except FileNotFoundError as exc:
            raise ObjectNotFound(key) from exc

    def local_path(self, key: str) -> Path:
        """The file behind a key (lets workers read inputs without a copy)."""
        path = self._path(key)
        if not path.is_file():
            raise ObjectNotFound(key)
        return path

    def iter_chunks(self, key: str, chunk_size: int = CHUNK) -> Iterator[bytes]:
        try:
            fh = self._path(key).open("rb")
        except FileNotFoundError as exc:
            raise ObjectNotFound(key) from exc
        with fh:
            while block := fh.read(chunk_size):
                yield block

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def presigned_url(self, key: str, filename: str | None = None) -> str | None:
        return None  # served through the API instead

    def check(self) -> None:
        probe = self.root / ".ready-probe"
        probe.write_bytes(b"ok")
        probe.unlink()


class S3Store:
    """Objects in an S3-compatible bucket (AWS, MinIO, SeaweedFS), path-style addressing."""

    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str | None,
        access_key: str | None,
        secret_key: str | None,
        region: str = "us-east-1",
        public_endpoint_url: str | None = None,
        presign_ttl: int = 3600,
        create_bucket: bool = True,
    ) -> None:
        import boto3
        from botocore.config import Config

        config = Config(
            s3={"addressing_style": "path"},
            signature_version="s3v4",
            retries={"max_attempts": 5, "mode": "standard"},
            connect_timeout=5,
            read_timeout=60,
        )
        common: dict[str, Any] = {
            "aws_access_key_id": access_key,
            "aws_secret_access_key": secret_key,
            "region_name": region,
            "config": config,
        }
        self.bucket = bucket
        self.presign_ttl = presign_ttl
        self.client = boto3.client("s3", endpoint_url=endpoint_url, **common)
        self.presign_client = (
            boto3.client("s3", endpoint_url=public_endpoint_url, **common) if public_endpoint_url else self.client
        )
        if create_bucket:
            self._ensure_bucket()

    def _ensure_bucket(self) -> None:
        from botocore.exceptions import ClientError

        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code not in ("404", "NoSuchBucket", "NotFound"):
                raise
            try:
                self.client.create_bucket(Bucket=self.bucket)
            except ClientError as race:  # another process created it meanwhile
                if str(race.response.get("Error", {}).get("Code", "")) not in (
                    "BucketAlreadyOwnedByYou",
                    "BucketAlreadyExists",
                ):
                    raise

    def _not_found(self, exc: Exception) -> bool:
        from botocore.exceptions import ClientError

        if isinstance(exc, ClientError):
            code = str(exc.response.get("Error", {}).get("Code", ""))
            return code in ("404", "NoSuchKey", "NotFound")
        return False

    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> None:
        extra = {"ContentType": content_type} if content_type else {}
        self.client.put_object(Bucket=self.bucket, Key=_safe_key(key), Body=data, **extra)

    def put_file(self, key: str, fileobj: IO[bytes], content_type: str | None = None) -> None:
        extra = {"ContentType": content_type} if content_type else {}
        self.client.upload_fileobj(fileobj, self.bucket, _safe_key(key), ExtraArgs=extra or None)

    def get_bytes(self, key: str) -> bytes:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=_safe_key(key))["Body"].read()
        except Exception as exc:
            if self._not_found(exc):
                raise ObjectNotFound(key) from exc
            raise

    def download_to(self, key: str, path: Path) -> None:
        try:
            self.client.download_file(self.bucket, _safe_key(key), str(path))
        except Exception as exc:
            if self._not_found(exc):
                raise ObjectNotFound(key) from exc
            raise

    def iter_chunks(self, key: str, chunk_size: int = CHUNK) -> Iterator[bytes]:
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=_safe_key(key))["Body"]
        except Exception as exc:
            if self._not_found(exc):
                raise ObjectNotFound(key) from exc
            raise
        yield from body.iter_chunks(chunk_size)

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=_safe_key(key))
            return True
        except Exception as exc:
            if self._not_found(exc):
                return False
            raise

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=_safe_key(key))

    def presigned_url(self, key: str, filename: str | None = None) -> str | None:
        params: dict[str, Any] = {"Bucket": self.bucket, "Key": _safe_key(key)}
        if filename:
            params["ResponseContentDisposition"] = f'attachment; filename="{filename}"'
        return str(self.presign_client.generate_presigned_url("get_object", Params=params, ExpiresIn=self.presign_ttl))

    def check(self) -> None:
        self.client.head_bucket(Bucket=self.bucket)


def make_store(settings: Settings) -> ObjectStore:
    cfg = settings.store
    if cfg.backend == "s3":
        return S3Store(
            cfg.s3_bucket,
            endpoint_url=cfg.s3_endpoint_url,
            access_key=cfg.s3_access_key,
            secret_key=cfg.s3_secret_key.get_secret_value() if cfg.s3_secret_key else None,
            region=cfg.s3_region,
            public_endpoint_url=cfg.s3_public_endpoint_url,
            presign_ttl=cfg.presign_ttl_seconds,
        )
    return LocalStore(settings.resolved_store_root)


def input_key(account_id: str, job_id: str, ext: str) -> str:
    return f"inputs/{account_id}/{job_id}.{ext.lstrip('.') or 'bin'}"


def output_key(account_id: str, job_id: str, ext: str) -> str:
    return f"outputs/{account_id}/{job_id}.{ext.lstrip('.')}"


def batch_output_key(batch_id: str, job_id: str, ext: str) -> str:
    """Where a batch item's audio goes: one prefix per batch, with the batch's manifest.json."""
    return f"batches/{batch_id}/{job_id}.{ext.lstrip('.')}"
