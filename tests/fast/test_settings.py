"""Settings: one class, env-driven, refusing placeholder secrets in production."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from shared.config import Settings


def test_defaults_are_local_and_embedded(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DATABASE_URL", "REDIS_URL", "MODEL_DIR", "DATA_DIR", "STORE__BACKEND"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.sync_database_url.startswith("sqlite:///")
    assert settings.async_database_url.startswith("sqlite+aiosqlite:///")
    assert settings.store.backend == "local"
    assert settings.port == 8000


def test_nested_settings_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STORE__BACKEND", "s3")
    monkeypatch.setenv("STORE__S3_BUCKET", "audio")
    monkeypatch.setenv("LIMITS__MAX_UPLOAD_BYTES", "1234")
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:p@db/s2s")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.store.backend == "s3" and settings.store.s3_bucket == "audio"
    assert settings.limits.max_upload_bytes == 1234
    assert settings.sync_database_url == "postgresql+psycopg://u:p@db/s2s"
    assert settings.async_database_url == "postgresql+psycopg://u:p@db/s2s"


@pytest.mark.parametrize("token", [None, "change-me", "short"])
def test_production_refuses_placeholder_admin_token(token: str | None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ADMIN_TOKEN", raising=False)
    with pytest.raises(ValidationError, match="ADMIN_TOKEN"):
        Settings(_env_file=None, environment="production", admin_token=token, redis_url="redis://r")  # type: ignore[call-arg]


def test_production_with_real_secret() -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, environment="production", admin_token="a-real-secret-of-32-characters!!", redis_url="redis://r"
    )
    assert settings.environment == "production"
