"""Job metrics aggregated in Redis, so that every process that ends a job (any worker host) adds to one set of
cluster-wide counters, and any API process renders them at scrape time (api/routes/health.py).

Histograms (queue wait, run time, real-time factor per model) and counters (jobs ended by kind, model and state,
credits charged per model) live in one Redis hash; fields are `<metric>|<label>|...`. They only grow, like
Prometheus counters; if Redis loses them (a restart without its append-only file) Prometheus sees a counter reset.
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

KEY = "s2s:metrics:jobs"
WAIT_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 1800.0)
RUN_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 1800.0, 7200.0)
RTF_BUCKETS = (0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 5.0)
HISTOGRAMS = {"wait": WAIT_BUCKETS, "run": RUN_BUCKETS, "rtf": RTF_BUCKETS}


def _observe(fields: dict[str, float], name: str, model: str, value: float) -> None:
    for bound in HISTOGRAMS[name]:
        if value <= bound:
            fields[f"{name}|{model}|{bound}"] = fields.get(f"{name}|{model}|{bound}", 0) + 1
    fields[f"{name}|{model}|+Inf"] = fields.get(f"{name}|{model}|+Inf", 0) + 1
    fields[f"{name}_sum|{model}"] = fields.get(f"{name}_sum|{model}", 0.0) + value


def record_end(
    redis: Any,
    *,
    kind: str,
    model: str,
    state: str,
    wait_seconds: float | None = None,
    run_seconds: float | None = None,
    audio_seconds: float | None = None,
    charged_credits: int = 0,
) -> None:
    """Count one job that ended; never raises (metrics must not fail a job)."""
    fields: dict[str, float] = {f"ended|{kind}|{model}|{state}": 1}
    if wait_seconds is not None and wait_seconds >= 0:
        _observe(fields, "wait", model, wait_seconds)
    if run_seconds is not None and run_seconds >= 0:
        _observe(fields, "run", model, run_seconds)
        if audio_seconds and audio_seconds > 0:
            _observe(fields, "rtf", model, run_seconds / audio_seconds)
    if charged_credits:
        fields[f"charged|{model}"] = charged_credits
    try:
        pipe = redis.pipeline(transaction=False)
        for field, amount in fields.items():
            if "_sum|" in field:
                pipe.hincrbyfloat(KEY, field, amount)
            else:
                pipe.hincrby(KEY, field, int(amount))
        pipe.execute()
    except Exception:
        log.warning("could not record the metrics of a %s job", kind, exc_info=True)


@dataclass
class Histogram:
    buckets: list[tuple[str, float]]  # (le, cumulative count), ending with +Inf
    total: float


def parse(raw: dict[bytes | str, bytes | str]) -> tuple[dict[tuple[str, ...], float], dict[tuple[str, str], Histogram]]:
    """The hash as counters ({(metric, *labels): value}) and histograms ({(name, model): Histogram})."""
    counters: dict[tuple[str, ...], float] = {}
    buckets: dict[tuple[str, str], dict[str, float]] = defaultdict(dict)
    sums: dict[tuple[str, str], float] = {}
    for key, value in raw.items():
        field = key.decode() if isinstance(key, bytes) else key
        number = float(value)
        parts = tuple(field.split("|"))
        if parts[0] in HISTOGRAMS and len(parts) == 3:
            buckets[(parts[0], parts[1])][parts[2]] = number
        elif parts[0].endswith("_sum") and parts[0][:-4] in HISTOGRAMS and len(parts) == 2:
            sums[(parts[0][:-4], parts[1])] = number
        else:
            counters[parts] = number
    histograms = {}
    for (name, model), counts in buckets.items():
        ordered = sorted(((b, counts.get(str(b), 0.0)) for b in HISTOGRAMS[name]), key=lambda x: x[0])
        rows = [(_le(b), c) for b, c in ordered] + [("+Inf", counts.get("+Inf", 0.0))]
        histograms[(name, model)] = Histogram(rows, sums.get((name, model), 0.0))
    return counters, histograms


def _le(bound: float) -> str:
    return "+Inf" if math.isinf(bound) else repr(float(bound))


def families(raw: dict[bytes | str, bytes | str]) -> Iterator[Any]:
    """Prometheus metric families for the hash (used by the API's collector)."""
    from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily

    counters, histograms = parse(raw)
    ended = CounterMetricFamily(
        "s2s_jobs_ended", "Jobs that reached a terminal state on a worker", labels=["kind", "model", "state"]
    )
    charged = CounterMetricFamily("s2s_credits_charged", "Credits charged for succeeded jobs", labels=["model"])
    for parts, value in sorted(counters.items()):
        if parts[0] == "ended" and len(parts) == 4:
            ended.add_metric(list(parts[1:]), value)
        elif parts[0] == "charged" and len(parts) == 2:
            charged.add_metric([parts[1]], value / 1_000_000)
    yield ended
    yield charged
    help_text = {
        "wait": ("s2s_job_queue_wait_seconds", "Seconds from a job's creation until a worker started it"),
        "run": ("s2s_job_run_seconds", "Seconds a worker spent on a job that ended"),
        "rtf": ("s2s_job_real_time_factor", "Processing seconds per second of audio (below 1: faster than real time)"),
    }
    for name, (metric, doc) in help_text.items():
        family = HistogramMetricFamily(metric, doc, labels=["model"])
        for (kind, model), hist in sorted(histograms.items()):
            if kind == name:
                family.add_metric([model], hist.buckets, hist.total)
        yield family
