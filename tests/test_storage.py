"""Object stores: local disk, and S3 against a real SeaweedFS server (credentials, signatures, presigning)."""

from __future__ import annotations

import io
from pathlib import Path

import httpx
import pytest

from shared.storage import LocalStore, ObjectNotFound, S3Store
from tests.services import S3Server


def _exercise(store: LocalStore | S3Store) -> None:
    store.put_bytes("outputs/acct/job.mp3", b"ID3 audio bytes", "audio/mpeg")
    assert store.exists("outputs/acct/job.mp3")
    assert store.get_bytes("outputs/acct/job.mp3") == b"ID3 audio bytes"
    big = bytes(range(256)) * 40_000  # 10 MB, multipart on S3
    store.put_file("inputs/acct/big.bin", io.BytesIO(big))
    assert b"".join(store.iter_chunks("inputs/acct/big.bin", 1 << 20)) == big
    store.delete("outputs/acct/job.mp3")
    assert not store.exists("outputs/acct/job.mp3")
    with pytest.raises(ObjectNotFound):
        store.get_bytes("outputs/acct/job.mp3")
    with pytest.raises(ValueError):
        store.put_bytes("../escape", b"x")
    store.check()


def test_local_store(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    _exercise(store)
    assert store.presigned_url("inputs/acct/big.bin") is None
    store.download_to("inputs/acct/big.bin", tmp_path / "copy.bin")
    assert (tmp_path / "copy.bin").stat().st_size == 10_240_000


def _s3(s3: S3Server, bucket: str, secret: str | None = None, **kw: object) -> S3Store:
    return S3Store(bucket, endpoint_url=s3.endpoint, access_key=s3.access_key, secret_key=secret or s3.secret_key, **kw)  # type: ignore[arg-type]


def test_s3_store_roundtrip_and_presigned_urls(s3: S3Server, tmp_path: Path) -> None:
    store = _s3(s3, "store-test")
    _exercise(store)
    store.put_bytes("outputs/a/b.wav", b"RIFF....WAVE", "audio/wav")
    url = store.presigned_url("outputs/a/b.wav", filename="b.wav")
    assert url and "X-Amz-Signature=" in url
    response = httpx.get(url)
    assert response.status_code == 200 and response.content == b"RIFF....WAVE"
    tampered = url.replace("X-Amz-Signature=", "X-Amz-Signature=0")
    assert httpx.get(tampered).status_code == 403
    unsigned = url.split("?", 1)[0]
    assert httpx.get(unsigned).status_code in (401, 403)


def test_s3_store_rejects_wrong_credentials(s3: S3Server) -> None:
    with pytest.raises(Exception, match=r"403|Forbidden|SignatureDoesNotMatch|AccessDenied"):
        _s3(s3, "store-test", secret="not-the-secret")


def test_s3_presign_with_public_endpoint(s3: S3Server) -> None:
    store = _s3(s3, "store-test", public_endpoint_url="http://speech.example.com:9000")
    url = store.presigned_url("outputs/a/b.wav")
    assert url is not None and url.startswith("http://speech.example.com:9000/store-test/outputs/a/b.wav?")
