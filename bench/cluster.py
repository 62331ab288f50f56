"""The namespace cluster (tests/cluster_stack.py: Redis, PostgreSQL, S3, the API and worker hosts, each in a
network namespace of its own): throughput of short speech jobs with one worker host vs two, and the latency a
cross-host hop adds vs the single-machine mode (Redis, worker and API on loopback, SQLite, local store).

Throughput: `--items` sync speech requests (one sentence each) from `--clients` client threads, first with one
worker host, then after a second host with the same model joins (same run, same cluster). Latency: sequential
short sync requests, p50/p95, on the single-machine platform and on the cluster with one worker host.
Needs root (network namespaces). Writes bench/results/cluster.json.

    python -m bench.cluster [--items 120] [--clients 8] [--probes 30]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from bench.batch import PROBE, percentile, probe_latencies
from bench.common import running_platform, write_result
from tests.cluster_stack import cluster_stack, why_not


def sentence(n: int) -> dict[str, object]:
    text = f"Request number {n} asks for one sentence of speech, long enough to keep a worker busy for a moment."
    return {"model": "piper", "voice": "joe", "input": text, "format": "wav"}


def throughput(base_url: str, headers: dict[str, str], items: int, clients: int) -> float:
    """Items per second, from the first request sent to the last answer."""

    def one(n: int) -> None:
        with httpx.Client(base_url=base_url, headers=headers, timeout=600) as client:
            r = client.post("/v1/audio/speech", json=sentence(n))
            r.raise_for_status()

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(one, range(items)))
    return items / (time.perf_counter() - started)


def latencies(base_url: str, headers: dict[str, str], probes: int) -> list[float]:
    with httpx.Client(base_url=base_url, headers=headers, timeout=600) as client:
        probe_latencies(client, 3)  # warm: models loaded, connections open
        return probe_latencies(client, probes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=120)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--probes", type=int, default=30)
    parser.add_argument(
        "--pin", action=argparse.BooleanOptionalAction, default=True,
        help="Give each worker host a core of its own (taskset): the first host core 1, the second core 0.",
    )  # fmt: skip
    args = parser.parse_args()
    reason = why_not()
    if reason:
        raise SystemExit(f"the namespace cluster cannot run here: {reason}")

    with running_platform("piper") as p:
        local = latencies(p.base_url, {"Authorization": f"Bearer {p.api_key}"}, args.probes)
    print(f"single machine: probe p50 {statistics.median(local):.3f}s")

    with tempfile.TemporaryDirectory(prefix="s2s-bench-cluster-") as tmp, cluster_stack(Path(tmp)) as cluster:
        cluster.start_worker("w1", "piper", cpus="1" if args.pin else None)
        cluster.wait_live("piper", 1)
        remote = latencies(cluster.api_url, cluster.auth, args.probes)
        print(f"cluster, one worker host: probe p50 {statistics.median(remote):.3f}s")
        throughput(cluster.api_url, cluster.auth, 8, args.clients)  # warm
        one_host = throughput(cluster.api_url, cluster.auth, args.items, args.clients)
        print(f"one worker host: {one_host:.2f} items/s")
        cluster.start_worker("w2", "piper", cpus="0" if args.pin else None)
        cluster.wait_live("piper", 2)
        throughput(cluster.api_url, cluster.auth, 8, args.clients)  # warm the new host
        two_hosts = throughput(cluster.api_url, cluster.auth, args.items, args.clients)
        print(f"two worker hosts: {two_hosts:.2f} items/s ({two_hosts / one_host:.2f}x)")

    result = {
        "items": args.items,
        "clients": args.clients,
        "pinned": args.pin,
        "one_host_items_per_second": round(one_host, 2),
        "two_hosts_items_per_second": round(two_hosts, 2),
        "scaling": round(two_hosts / one_host, 3),
        "single_machine_p50_s": round(statistics.median(local), 4),
        "single_machine_p95_s": round(percentile(local, 0.95), 4),
        "cluster_p50_s": round(statistics.median(remote), 4),
        "cluster_p95_s": round(percentile(remote, 0.95), 4),
        "hop_added_p50_s": round(statistics.median(remote) - statistics.median(local), 4),
        "hop_p50_ratio": round(statistics.median(remote) / statistics.median(local), 3),
        "probe": PROBE["input"],
    }
    print(f"cross-host hop adds {result['hop_added_p50_s'] * 1000:.0f} ms at p50 ({result['hop_p50_ratio']:.2f}x)")
    print(f"wrote {write_result('cluster' if args.pin else 'cluster-unpinned', result)}")


if __name__ == "__main__":
    main()
