"""The fast tier: pure logic, contracts, rendering, pricing. No servers and no models may start here."""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent

SERVERS_AND_MODELS = (
    "redis_url",
    "s3",
    "postgres_url",
    "platform_env",
    "settings",
    "worker",
    "model_dir",
    "app",
    "client",
    "live_api",
    "pg_client",
    "idle_client",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE not in Path(str(item.path)).parents:
            continue
        used = set(getattr(item, "fixturenames", ())) & set(SERVERS_AND_MODELS)
        if used:
            raise pytest.UsageError(
                f"{item.nodeid} is in the fast tier but uses {sorted(used)}: move it out of tests/fast"
            )
