"""docker-compose.yml is written for users (no Docker engine here): parse it and check its wiring."""

from __future__ import annotations

import yaml

from tests.services import ROOT


def test_compose_services_and_settings() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {
        "postgres",
        "redis",
        "minio",
        "minio-init",
        "api",
        "worker-tts",
        "worker-stt",
        "flower",
        "prometheus",
    } <= set(services)
    env = services["api"]["environment"]
    assert env["STORE__BACKEND"] == "s3" and env["REDIS_URL"].startswith("redis://:${REDIS_PASSWORD")
    assert env["METRICS_TOKEN"].startswith("${METRICS_TOKEN")
    # no secret on a command line: Redis takes its password from a file, Flower its from the environment
    assert "REDIS_PASSWORD" in services["redis"]["environment"] and "requirepass" in services["redis"]["entrypoint"]
    assert all("PASSWORD" not in str(part) for part in services["flower"]["command"])
    assert "FLOWER_BASIC_AUTH" in services["flower"]["environment"]
    assert env["DATABASE_URL"].startswith("postgresql+psycopg://")
    # every worker pool names the models it hosts, and those are real catalog ids
    from shared.catalog import MODELS

    for name, svc in services.items():
        if name.startswith("worker"):
            models = svc["command"][svc["command"].index("--models") + 1].split(",")
            assert set(models) <= set(MODELS), name
    for name in ("api", "worker-tts", "worker-stt", "worker-gpu"):
        dockerfile = services[name]["build"]["dockerfile"]
        assert (ROOT / dockerfile).is_file()
