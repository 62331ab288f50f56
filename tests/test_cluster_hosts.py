"""The platform on several hosts (network namespaces joined by a bridge, tests/netcluster.py): Redis, PostgreSQL,
S3 and the API each on a host of its own, and worker hosts with different model sets.

What crosses hosts is real TCP between namespaces; the API holds no model file and learns what is live from the
workers' heartbeats only. A worker host killed mid-job, a worker host cut off for 30 s, and a worker host joining
late are each handled without a manual step, and every job runs and is charged exactly once.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from shared import credits
from shared.catalog import MODELS
from shared.db.models import Account, Job, LedgerEntry
from shared.db.session import session_scope
from shared.pricing import tts_cost
from tests.cluster_stack import ClusterStack, cluster_stack, why_not
from tests.services import TESTDATA, wait_for

pytestmark = pytest.mark.skipif(bool(why_not()), reason=why_not() or "")

W1_MODELS = "piper,whisper-tiny.en"  # only this host transcribes with tiny.en
W2_MODELS = "piper"
LATE_MODELS = "whisper-base"  # a host that joins later, serving what no other host has
SPEECH = {"model": "piper", "voice": "joe", "input": "Every request here crosses three hosts before it is spoken."}
LONG_TEXT = " ".join(
    f"Sentence {i} of a long passage, written so that its synthesis takes several seconds on one core."
    for i in range(14)
)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterStack]:
    with cluster_stack(tmp_path_factory.mktemp("cluster")) as stack:
        stack.start_worker("w1", W1_MODELS)
        stack.start_worker("w2", W2_MODELS)
        stack.wait_live("piper", 2)
        stack.wait_live("whisper-tiny.en", 1)
        yield stack


@pytest.fixture
def api(cluster: ClusterStack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=cluster.api_url, headers=cluster.auth, timeout=120) as client:
        yield client


def wait_job(api: httpx.Client, job_id: str, states: set[str], timeout: float = 180) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job: dict = api.get(f"/v1/jobs/{job_id}").json()
        if job["status"] in states:
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} never reached {states}")


def host_of(cluster: ClusterStack, job_id: str) -> str:
    """The host whose worker claimed the job last (worker ids are `s2s-<pid>@<hostname>:<pid>`)."""
    with session_scope(cluster.db_url) as session:
        job = session.get(Job, job_id)
        assert job is not None and job.worker_id, job
        return job.worker_id.split("@", 1)[1].split(":", 1)[0]


def test_requests_cross_hosts_and_the_api_holds_no_models(cluster: ClusterStack, api: httpx.Client) -> None:
    assert not any((cluster.workdir / "api" / "models").iterdir())
    piper = api.get("/v1/models/piper").json()
    assert piper["live"] and piper["workers"] == 2 and piper["voices"] == ["joe"]
    assert api.get("/v1/models/whisper-tiny.en").json()["workers"] == 1

    sync = api.post("/v1/audio/speech", json=SPEECH)
    assert sync.status_code == 200 and sync.headers["content-type"] == "audio/mpeg", (sync.text, cluster.tails())
    queued = api.post("/v1/audio/speech", json={**SPEECH, "async": True})
    assert queued.status_code == 202
    done = wait_job(api, queued.json()["id"], {"succeeded", "failed"})
    assert done["status"] == "succeeded" and host_of(cluster, done["id"]) in {"w1", "w2"}
    assert api.get(f"/v1/jobs/{done['id']}/result").content[:3] in (b"ID3", b"\xff\xfb", b"\xff\xf3")

    heard = api.post("/v1/audio/transcriptions", files={"file": ("s.mp3", sync.content)},
                     data={"model": "whisper-tiny.en"})  # fmt: skip
    assert heard.status_code == 200 and "three hosts" in heard.json()["text"].lower(), heard.text
    with (TESTDATA / "jfk.flac").open("rb") as fh:
        later = api.post("/v1/audio/transcriptions", files={"file": ("jfk.flac", fh)},
                         data={"model": "whisper-tiny.en", "async": "true"})  # fmt: skip
    assert later.status_code == 202
    text = wait_job(api, later.json()["id"], {"succeeded", "failed"})
    assert text["status"] == "succeeded" and host_of(cluster, text["id"]) == "w1"
    assert "country" in api.get(f"/v1/jobs/{text['id']}/result").json()["text"]

    # every process reached Redis across the bridge, from its own host's address
    import redis

    clients = redis.Redis.from_url(cluster.env["REDIS_URL"]).client_list()
    addresses = {c["addr"].rsplit(":", 1)[0] for c in clients}
    hosts = cluster.net.hosts
    assert {hosts["api"].ip, hosts["w1"].ip, hosts["w2"].ip} <= addresses
    assert "127.0.0.1" not in addresses


def test_a_dead_worker_host_s_job_completes_once_on_the_other(cluster: ClusterStack, api: httpx.Client) -> None:
    cost = tts_cost(MODELS["piper"], LONG_TEXT).micros
    r = api.post("/v1/audio/speech", json={**SPEECH, "input": LONG_TEXT, "format": "wav", "async": True})
    assert r.status_code == 202, r.text
    job_id = r.json()["id"]
    running = wait_job(api, job_id, {"running", "succeeded", "failed"})
    assert running["status"] == "running", running
    victim = host_of(cluster, job_id)
    survivor = "w2" if victim == "w1" else "w1"
    # `s2s status` (run on the operator's machine, across the bridge) shows both hosts and the job on its host
    import json
    import subprocess
    import sys

    from tests.services import ROOT, settings_env

    def status_of() -> dict:
        shown = subprocess.run(
            [sys.executable, "-m", "shared.cli.main", "status", "--json"],
            capture_output=True, text=True, timeout=60, cwd=ROOT, env=settings_env(cluster.env),
        )  # fmt: skip
        assert shown.returncode == 0, shown.stderr
        return json.loads(shown.stdout)

    for _ in range(10):  # the heartbeat names the running job at its next beat (one second here)
        status = status_of()
        if any(job_id in w["running"] for w in status["workers"] if w["hostname"] == victim):
            break
        time.sleep(0.3)
    assert {"w1", "w2"} <= {w["hostname"] for w in status["workers"]}
    assert any(job_id in w["running"] for w in status["workers"] if w["hostname"] == victim), status
    assert next(m for m in status["models"] if m["id"] == "piper")["workers"] == 2
    assert job_id in {j["id"] for j in status["running"]} and status["jobs"]["running"] >= 1
    killed = cluster.net.hosts[victim].kill_all()  # every process on the host, at once
    assert killed >= 2  # the worker's parent and its child at least

    done = wait_job(api, job_id, {"succeeded", "failed", "canceled"})
    assert done["status"] == "succeeded", done
    assert done["attempts"] == 2 and host_of(cluster, job_id) == survivor
    with session_scope(cluster.db_url) as session:
        job = session.get(Job, job_id)
        assert job is not None and job.charged_credits == cost
        entries = session.execute(select(LedgerEntry).where(LedgerEntry.job_id == job_id)).scalars().all()
        assert Counter(e.reason for e in entries) == {"reserve": 1, "release": 1, "charge": 1}
        assert sum(e.amount for e in entries) == -cost  # charged once
        account = session.get(Account, job.account_id)
        assert account is not None
        balance, from_ledger = credits.audit(session, account.id)
        assert balance == from_ledger
    assert api.get(f"/v1/jobs/{job_id}/result").content[:4] == b"RIFF"

    # the host comes back (a new machine with the same role) and serves again
    cluster.start_worker(victim, cluster.workers[victim])
    cluster.wait_live("piper", 2)


def test_a_worker_host_cut_off_for_30_s_serves_again_by_itself(cluster: ClusterStack, api: httpx.Client) -> None:
    cluster.wait_live("whisper-tiny.en", 1)
    w1 = cluster.net.hosts["w1"]
    pids = [p.popen.pid for p in w1.procs]
    with (TESTDATA / "jfk.flac").open("rb") as fh:
        audio = fh.read()
    w1.set_link(False)
    try:
        started = time.monotonic()

        def gone() -> bool:
            return not api.get("/v1/models/whisper-tiny.en").json()["live"]

        wait_for(gone, timeout=15, what="w1's models dropping out")
        cut_off = api.post("/v1/audio/transcriptions", files={"file": ("jfk.flac", audio)},
                           data={"model": "whisper-tiny.en"})  # fmt: skip
        assert cut_off.status_code == 503 and cut_off.json()["error"]["code"] == "model_unavailable"
        time.sleep(max(0.0, 30 - (time.monotonic() - started)))
    finally:
        w1.set_link(True)
    back = cluster.wait_live("whisper-tiny.en", 1, timeout=120)
    print(f"w1 live again {back:.1f}s after its link came back")
    assert [p.popen.pid for p in w1.procs] == pids and all(p.popen.poll() is None for p in w1.procs)  # no restart
    heard = api.post("/v1/audio/transcriptions", files={"file": ("jfk.flac", audio)},
                     data={"model": "whisper-tiny.en"})  # fmt: skip
    assert heard.status_code == 200 and "country" in heard.json()["text"], heard.text


def test_a_worker_host_that_joins_later_gets_its_models_jobs(cluster: ClusterStack, api: httpx.Client) -> None:
    with (TESTDATA / "jfk.flac").open("rb") as fh:
        audio = fh.read()
    before = api.post("/v1/audio/transcriptions", files={"file": ("jfk.flac", audio)}, data={"model": "whisper-base"})
    assert before.status_code == 404 and before.json()["error"]["code"] == "model_not_installed"

    started = time.monotonic()
    cluster.start_worker("w3", LATE_MODELS)
    live = cluster.wait_live("whisper-base", 1)
    heard = api.post("/v1/audio/transcriptions", files={"file": ("jfk.flac", audio)}, data={"model": "whisper-base"})
    served = time.monotonic() - started
    assert heard.status_code == 200 and "country" in heard.json()["text"], heard.text
    print(f"w3 live {live:.1f}s after it started, first job served after {served:.1f}s")
    with session_scope(cluster.db_url) as session:
        job = session.get(Job, heard.headers["x-job-id"])
        assert job is not None and job.worker_id and "@w3:" in job.worker_id


def test_cluster_tests_leave_nothing_behind(tmp_path: Path) -> None:
    """Namespaces, links and processes of a cluster are all gone once it is closed."""
    import subprocess

    from tests.netcluster import NetCluster

    with NetCluster() as net:
        host = net.add_host("probe")
        proc = host.spawn("sleep", ["sleep", "300"], tmp_path)
        assert subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout.count(host.ns) == 1
    assert proc.popen.poll() is not None
    assert host.ns not in subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert net.bridge not in subprocess.run(["ip", "link"], capture_output=True, text=True).stdout
