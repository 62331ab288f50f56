"""Schemathesis against the live API: generated requests for every documented operation, bounded; any 5xx fails.

The API runs as a real uvicorn server on the test database and a Redis database whose worker consumes nothing
(`idle_worker`), so generated speech and transcription requests are accepted (202, `Prefer: respond-async`) and
stay queued instead of running for minutes.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from shared.config import Settings
from tests.accounts import key_with_credits
from tests.services import start_api

ADMIN_TOKEN = "test-admin-token-0123456789"
EXAMPLES = 15  # per operation and mode: about a minute in all on this machine


@pytest.fixture(scope="module")
def hostile_api(platform_env: dict[str, str], idle_worker: tuple[str, Any], session_dir: Path) -> Iterator[str]:
    proc, base = start_api({**platform_env, "REDIS_URL": idle_worker[0]}, session_dir / "logs", name="api-fuzz")
    yield base
    proc.stop()


@pytest.fixture(scope="module")
def api_schema(hostile_api: str) -> Any:
    return schemathesis.openapi.from_url(f"{hostile_api}/openapi.json")


@pytest.fixture(scope="module")
def fuzz_key(settings: Settings) -> str:
    # a generous key: the fuzzer's own limits (429, 402) are answers too, just not the interesting ones
    return key_with_credits(
        settings.sync_database_url, "fuzzer", credits=1_000_000, requests_per_minute=0, max_concurrent_jobs=0
    )


def test_no_request_makes_the_server_fail(api_schema: Any, fuzz_key: str) -> None:
    """Every operation, a bounded number of generated cases each (deterministic: the same cases every run)."""
    failures: list[str] = []
    calls = 0

    def check(case: schemathesis.Case) -> None:
        nonlocal calls
        token = ADMIN_TOKEN if case.path.startswith("/v1/admin") else fuzz_key
        headers = {"Authorization": f"Bearer {token}", "Prefer": "respond-async", **(case.headers or {})}
        response = case.call(headers=headers, timeout=60)
        calls += 1
        if response.status_code >= 500:
            failures.append(f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:300]}")

    for result in api_schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):  # valid requests, and broken ones
            run = settings(
                max_examples=EXAMPLES,
                deadline=None,
                derandomize=True,
                database=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )(given(operation.as_strategy(generation_mode=mode))(check))
            try:
                run()
            except Unsatisfiable:  # nothing negative to make of this operation (no parameters, no body)
                continue
    print(f"{calls} generated requests, {len(failures)} server errors")
    assert calls > 100
    assert not failures, "\n".join(failures[:20])
