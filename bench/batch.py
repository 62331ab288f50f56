"""Batches: N short speech items as one batch vs the same N as synchronous requests from 8 clients, and the
latency of interactive requests while the batch runs vs on an idle platform (and, as the baseline without
latency classes, while the same load runs as synchronous requests).

Both sides run on the same real platform (Redis, one Celery worker, the API as processes, SQLite): throughput is
items per second from submit to the last result (the batch side includes validation, dispatch by the batch
runner, and finalization: the output file and the manifest). Interactive probes are sequential synchronous
requests of one short sentence; target: p95 while a batch runs <= 1.5x idle. Writes bench/results/batch.json.

    python -m bench.batch [--items 1000] [--clients 8] [--probes 30]
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from bench.common import running_platform, write_result

PROBE = {"model": "piper", "voice": "joe", "input": "Is the platform still quick?", "format": "wav"}


def item(n: int) -> dict[str, object]:
    return {"model": "piper", "voice": "joe", "input": f"Item number {n}.", "format": "wav"}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def probe_latencies(client: httpx.Client, count: int, stop: threading.Event | None = None) -> list[float]:
    out: list[float] = []
    for _ in range(count):
        if stop is not None and stop.is_set():
            break
        t0 = time.perf_counter()
        r = client.post("/v1/audio/speech", json=PROBE)
        r.raise_for_status()
        out.append(time.perf_counter() - t0)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--probes", type=int, default=30)
    parser.add_argument("--concurrency", type=int, default=8, help="The batch's max_concurrency.")
    parser.add_argument("--worker-concurrency", type=int, default=1, help="Processes of the one worker.")
    args = parser.parse_args()

    with running_platform("piper", worker_concurrency=args.worker_concurrency) as p:
        headers = {"Authorization": f"Bearer {p.api_key}"}
        client = httpx.Client(base_url=p.base_url, headers=headers, timeout=600)
        probe_latencies(client, 3)  # warm the model and the connection

        idle = probe_latencies(client, args.probes)

        # N synchronous requests from `clients` threads
        def one(n: int) -> None:
            with httpx.Client(base_url=p.base_url, headers=headers, timeout=600) as c:
                c.post("/v1/audio/speech", json=item(n)).raise_for_status()

        t0 = time.perf_counter()
        with ThreadPoolExecutor(args.clients) as pool:
            list(pool.map(one, range(args.items)))
        sync_seconds = time.perf_counter() - t0

        def submit(count: int) -> str:
            body = {
                "endpoint": "/v1/audio/speech",
                "requests": [{"custom_id": f"i{n}", "body": item(n)} for n in range(count)],
                "completion_window": "24h",
                "max_concurrency": args.concurrency,
            }
            r = client.post("/v1/batches", json=body)
            r.raise_for_status()
            return str(r.json()["id"])

        def finished(batch_id: str) -> dict[str, object]:
            while True:
                batch = client.get(f"/v1/batches/{batch_id}").json()
                if batch["status"] in ("completed", "failed", "expired", "cancelled"):
                    assert batch["status"] == "completed", batch
                    return dict(batch)
                time.sleep(0.2)

        # the same N as one batch, alone on the platform
        t0 = time.perf_counter()
        finished(submit(args.items))
        batch_seconds = time.perf_counter() - t0

        # the baseline for latency: the same load as synchronous requests (interactive, like the probes)
        crowd: list[float] = []
        stop = threading.Event()
        prober = threading.Thread(target=lambda: crowd.extend(probe_latencies(client, args.probes * 20, stop)))
        with ThreadPoolExecutor(args.clients) as pool:
            pending = [pool.submit(one, n) for n in range(max(args.items // 3, args.probes * 4))]
            time.sleep(1.0)
            prober.start()
            for future in pending:
                future.result()
        stop.set()
        prober.join()

        # another batch, with interactive probes beside it for as long as it runs
        stop = threading.Event()
        busy: list[float] = []
        background = submit(max(args.items // 3, args.probes * 4))
        time.sleep(1.0)  # let the batch fill its concurrency first
        prober = threading.Thread(target=lambda: busy.extend(probe_latencies(client, args.probes * 20, stop)))
        prober.start()
        finished(background)
        stop.set()
        prober.join()

    sync_rate, batch_rate = args.items / sync_seconds, args.items / batch_seconds
    idle_p50, idle_p95 = statistics.median(idle), percentile(idle, 0.95)
    busy_p50, busy_p95 = statistics.median(busy), percentile(busy, 0.95)
    rows = {
        "items": args.items,
        "clients": args.clients,
        "batch_max_concurrency": args.concurrency,
        "worker_concurrency": args.worker_concurrency,
        "sync_seconds": round(sync_seconds, 2),
        "batch_seconds": round(batch_seconds, 2),
        "sync_items_per_second": round(sync_rate, 2),
        "batch_items_per_second": round(batch_rate, 2),
        "batch_vs_sync_throughput": round(batch_rate / sync_rate, 3),
        "interactive_idle_p50_s": round(idle_p50, 3),
        "interactive_idle_p95_s": round(idle_p95, 3),
        "interactive_during_batch_p50_s": round(busy_p50, 3),
        "interactive_during_batch_p95_s": round(busy_p95, 3),
        "interactive_p50_ratio": round(busy_p50 / idle_p50, 3),
        "interactive_during_sync_load_p50_s": round(statistics.median(crowd), 3),
        "interactive_during_sync_load_p95_s": round(percentile(crowd, 0.95), 3),
        "interactive_p95_ratio": round(busy_p95 / idle_p95, 3),
        "probes_idle": len(idle),
        "probes_during_batch": len(busy),
    }
    suffix = "" if args.worker_concurrency == 1 else f"-w{args.worker_concurrency}-c{args.concurrency}"
    path = write_result("batch" + suffix, rows)
    print(f"{args.items} items: sync from {args.clients} clients {sync_rate:.2f}/s, one batch {batch_rate:.2f}/s")
    print(f"batch / sync throughput: {rows['batch_vs_sync_throughput']}x")
    print(f"interactive p50 idle {idle_p50:.3f}s, during batch {busy_p50:.3f}s ({rows['interactive_p50_ratio']}x)")
    print(f"interactive p95 idle {idle_p95:.3f}s, during batch {busy_p95:.3f}s ({rows['interactive_p95_ratio']}x)")
    print(
        "for comparison, the same load as sync requests: interactive p50 "
        f"{rows['interactive_during_sync_load_p50_s']}s, p95 {rows['interactive_during_sync_load_p95_s']}s"
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
