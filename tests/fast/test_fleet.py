"""What the API makes of worker heartbeats: live, installed somewhere, or installed nowhere."""

from __future__ import annotations

import time

from shared.errors import ErrorCode, status_of
from shared.worker_registry import SEEN_FOR_SECONDS, Fleet, WorkerBeat, ttl_for


def beat(models: list[str], installed: list[str], **extra: object) -> WorkerBeat:
    now = time.time()
    return WorkerBeat(
        id=f"node:{len(models)}",
        node="node",
        hostname="h",
        pid=1,
        version="0",
        models=models,
        installed=installed,
        queues=[],
        concurrency=1,
        started_at=now,
        beat_at=now,
        interval=5.0,
        **extra,  # type: ignore[arg-type]
    )


def test_a_model_is_live_only_where_a_worker_hosts_it_with_its_weights() -> None:
    fleet = Fleet(
        workers=[
            beat(["piper", "whisper-base"], ["piper", "whisper-base"], voices={"piper": ["joe", "amy"]}),
            beat(["xtts-v2"], []),
        ]
    )
    assert fleet.is_live("piper") and fleet.is_live("whisper-base")
    assert not fleet.is_live("xtts-v2") and fleet.hosted_without_weights("xtts-v2")
    assert fleet.voices("piper") == ["amy", "joe"]
    assert not fleet.is_live("fish-speech-v1.5") and not fleet.hosted_without_weights("fish-speech-v1.5")


def test_weights_seen_recently_mean_unavailable_not_missing() -> None:
    now = time.time()
    fleet = Fleet(workers=[], seen={"piper": now - 60, "whisper-base": now - SEEN_FOR_SECONDS - 1}, taken_at=now)
    assert fleet.recently_installed("piper") and not fleet.recently_installed("whisper-base")
    assert ttl_for(5.0) == 15 and ttl_for(0.1) == 2


def test_error_codes_have_one_status_everywhere() -> None:
    assert status_of(ErrorCode.invalid_audio) == 400 and status_of(ErrorCode.model_unavailable) == 503
    assert status_of(ErrorCode.model_not_installed) == 404 and status_of("something else") == 500


def test_readiness_wants_a_live_worker_for_every_model_that_should_be_served(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from types import SimpleNamespace

    from api.fleet import FleetView
    from api.routes.health import workers_check
    from shared.config import Settings

    state = SimpleNamespace(fleet=FleetView(None, Settings(model_dir=tmp_path)))  # an API holding no models
    now = time.time()
    assert workers_check(state, Fleet()).startswith("error: no live worker")  # type: ignore[arg-type]
    node = beat(["piper"], ["piper"], role="node")
    assert workers_check(state, Fleet(workers=[node], seen={"piper": now}, taken_at=now)) == "ok"  # type: ignore[arg-type]
    # whisper-base was served seconds ago and is not now: a pool just died
    lost = Fleet(workers=[node], seen={"piper": now, "whisper-base": now - 5}, taken_at=now)
    assert workers_check(state, lost) == "error: no live worker serves whisper-base"  # type: ignore[arg-type]
    # retired for long: the operator's choice, not an outage
    retired = Fleet(workers=[node], seen={"piper": now, "whisper-base": now - 3600}, taken_at=now)
    assert workers_check(state, retired) == "ok"  # type: ignore[arg-type]
    # a child's beat alone serves nothing: its worker's main process must be alive
    assert not Fleet(workers=[beat(["piper"], ["piper"], role="process")]).is_live("piper")
