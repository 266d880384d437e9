"""Multi-process mode side by side: perf_core (PERF_CORE_MULTIPROC_DIR)
against prometheus_client's multiprocess mode (PROMETHEUS_MULTIPROC_DIR),
on the same workloads, in one run.

Workload: 1,000 histogram series (10 metrics x 100 routes). Four live
worker processes each record 100 lognormal latencies into every series and
stay alive; then 200 more workers each record 10 values into every series
and exit (a service that restarted its workers 200 times). For each library
the scraping process — a process of the group that records nothing — times
a full Prometheus text scrape of the merged view, with the 4 live workers
and again after the 200 dead ones, and checks that every scrape counts
every value. The one-process rows are the same data recorded in a single
process and scraped there (no multi-process mode).

Run through benches/python/run.sh multiprocess (a release build). Workers
are this script started again with --worker.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

METRICS = 10
ROUTES = 100
SERIES = METRICS * ROUTES
LIVE_WORKERS = 4
LIVE_VALUES = 100
DEAD_WORKERS = 200
DEAD_VALUES = 10
DEAD_AT_ONCE = 8


def values(seed: int, n: int) -> list[float]:
    rng = random.Random(seed)
    return [rng.lognormvariate(3.0, 1.0) for _ in range(n)]  # median 20 ms


def series() -> list[tuple[str, str]]:
    return [(f"svc_op{m}_duration", f"/route/{r}") for m in range(METRICS) for r in range(ROUTES)]


def record_perf_core(n: int, seed: int) -> object:
    import perf_core

    monitor = perf_core.Monitor(max_series_per_metric=ROUTES)
    for i, (name, route) in enumerate(series()):
        h = monitor.histogram(name, route=route)
        h.record_many(values(seed * 1_000_003 + i, n))
    monitor.publish()
    return monitor


def record_prometheus(n: int, seed: int) -> object:
    import prometheus_client

    histograms = {}
    for i, (name, route) in enumerate(series()):
        if name not in histograms:
            histograms[name] = prometheus_client.Histogram(name, "latency", ["route"])
        child = histograms[name].labels(route)
        for v in values(seed * 1_000_003 + i, n):
            child.observe(v)
    return histograms


RECORDERS: dict[str, Callable[[int, int], object]] = {
    "perf_core": record_perf_core,
    "prometheus_client": record_prometheus,
}


def worker(library: str, n: int, seed: int, stay: bool) -> None:
    """Records, says "ready", and (if `stay`) lives until stdin closes."""
    kept = RECORDERS[library](n, seed)
    print("ready", flush=True)
    if stay:
        sys.stdin.read()
    del kept


def start_worker(library: str, env: dict[str, str], n: int, seed: int, stay: bool) -> subprocess.Popen:
    args = [sys.executable, __file__, "--worker", library, str(n), str(seed), "1" if stay else "0"]
    proc = subprocess.Popen(args, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    if proc.stdout.readline().strip() != "ready":
        raise RuntimeError(f"{library} worker {seed} failed")
    return proc


def scraper(library: str, directory: Path) -> Callable[[], str]:
    """A scrape of the merged view, from a process of the group."""
    if library == "perf_core":
        import perf_core

        monitor = perf_core.Monitor(multiprocess_dir=directory, max_series_per_metric=ROUTES)
        return monitor.export_prometheus
    import prometheus_client
    from prometheus_client import multiprocess

    def scrape() -> str:
        registry = prometheus_client.CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=str(directory))
        return prometheus_client.generate_latest(registry).decode()

    return scrape


def one_process_scraper(library: str, dead: bool) -> Callable[[], str]:
    """The same data recorded in this process, scraped without the mode."""
    if library == "perf_core":
        import perf_core

        monitor = perf_core.Monitor(max_series_per_metric=ROUTES)
        for i, (name, route) in enumerate(series()):
            h = monitor.histogram(name, route=route)
            for seed in range(LIVE_WORKERS):
                h.record_many(values(seed * 1_000_003 + i, LIVE_VALUES))
            for seed in range(DEAD_WORKERS if dead else 0):
                h.record_many(values((1000 + seed) * 1_000_003 + i, DEAD_VALUES))
        return monitor.export_prometheus
    import prometheus_client

    registry = prometheus_client.CollectorRegistry()
    histograms: dict[str, prometheus_client.Histogram] = {}
    for i, (name, route) in enumerate(series()):
        if name not in histograms:
            histograms[name] = prometheus_client.Histogram(name, "latency", ["route"], registry=registry)
        child = histograms[name].labels(route)
        for seed in range(LIVE_WORKERS):
            for v in values(seed * 1_000_003 + i, LIVE_VALUES):
                child.observe(v)
        for seed in range(DEAD_WORKERS if dead else 0):
            for v in values((1000 + seed) * 1_000_003 + i, DEAD_VALUES):
                child.observe(v)
    return lambda: prometheus_client.generate_latest(registry).decode()


def total_count(text: str) -> int:
    """The sum of every histogram's _count sample."""
    total = 0.0
    for line in text.splitlines():
        if not line.startswith("#") and "_count{" in line:
            total += float(line.rsplit(" ", 1)[1])
    return int(total)


def best_of(scrape: Callable[[], str], repeat: int) -> tuple[float, str]:
    best, text = float("inf"), ""
    for _ in range(repeat):
        start = time.perf_counter()
        text = scrape()
        best = min(best, time.perf_counter() - start)
    return best * 1000, text


def run(library: str, repeat: int) -> list[dict[str, object]]:
    directory = Path(tempfile.mkdtemp(prefix=f"mp-bench-{library}-"))
    env = dict(os.environ)
    env["PERF_CORE_MULTIPROC_DIR" if library == "perf_core" else "PROMETHEUS_MULTIPROC_DIR"] = str(directory)
    rows: list[dict[str, object]] = []
    live = [start_worker(library, env, LIVE_VALUES, seed, True) for seed in range(LIVE_WORKERS)]
    try:
        scrape = scraper(library, directory)
        expected = LIVE_WORKERS * LIVE_VALUES * SERIES
        ms, text = best_of(scrape, repeat)
        rows.append(row(library, "merged, 4 live", ms, total_count(text), expected, directory))
        ms, text = best_of(one_process_scraper(library, dead=False), repeat)
        rows.append(row(library, "one process, same data", ms, total_count(text), expected, None))
        for first in range(0, DEAD_WORKERS, DEAD_AT_ONCE):
            batch = [
                start_worker(library, env, DEAD_VALUES, 1000 + seed, False)
                for seed in range(first, min(first + DEAD_AT_ONCE, DEAD_WORKERS))
            ]
            for proc in batch:
                proc.wait()
        if library == "perf_core":
            # Dead workers are compacted by any live process's publisher
            # (within a publish interval); this does it now.
            scrape.__self__.compact_multiprocess()  # type: ignore[attr-defined]
        expected += DEAD_WORKERS * DEAD_VALUES * SERIES
        ms, text = best_of(scrape, repeat)
        rows.append(row(library, "merged, 4 live + 200 dead", ms, total_count(text), expected, directory))
        ms, text = best_of(one_process_scraper(library, dead=True), repeat)
        rows.append(row(library, "one process, same data (with the dead's)", ms, total_count(text), expected, None))
    finally:
        for proc in live:
            assert proc.stdin is not None
            proc.stdin.close()
            proc.wait()
        shutil.rmtree(directory, ignore_errors=True)
    return rows


def row(library: str, case: str, ms: float, counted: int, expected: int, directory: Path | None) -> dict[str, object]:
    files = len(os.listdir(directory)) if directory else None
    return {"library": library, "case": case, "ms": round(ms, 2), "counted": counted,
            "expected": expected, "exact": counted == expected, "files": files}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", nargs=4, metavar=("LIBRARY", "N", "SEED", "STAY"))
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.worker:
        library, n, seed, stay = args.worker
        worker(library, int(n), int(seed), stay == "1")
        return
    # Imported before any PROMETHEUS_MULTIPROC_DIR is set (only workers get
    # it): prometheus_client picks its value class at import, and this
    # process's one-process rows must not write into a group's directory.
    import prometheus_client  # noqa: F401

    rows = [r for library in RECORDERS for r in run(library, args.repeat)]
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    print(f"{'library':<18} {'case':<42} {'scrape ms':>10} {'files':>6}  counted (expected)")
    for r in rows:
        files = "" if r["files"] is None else r["files"]
        mark = "exact" if r["exact"] else "WRONG"
        print(f"{r['library']:<18} {r['case']:<42} {r['ms']:>10} {files:>6}  {r['counted']} ({r['expected']}) {mark}")
    if not all(r["exact"] for r in rows):
        sys.exit(1)


if __name__ == "__main__":
    main()
