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
