"""perf_core's Python recording paths side by side with prometheus_client
and the hdrhistogram package, in one process.

Each case runs its statement `number` times per repeat (timeit, garbage
collection off) and reports the best repeat in nanoseconds per operation,
loop overhead included (the `empty loop` row shows how much that is).
Run through benches/python/run.sh, which installs a release build.
"""

from __future__ import annotations

import argparse
import json
import platform
import timeit
from typing import Any

import prometheus_client
from hdrh.histogram import HdrHistogram

import perf_core


def cases() -> list[tuple[str, str, str, dict[str, Any]]]:
    """(group, label, statement, globals) for every case."""
    monitor = perf_core.Monitor()
    h = monitor.histogram("bench.latency")
    monitor.histogram("bench.tagged", route="/users")
    counter = monitor.counter("bench.requests")
    emergency = monitor.emergency

    @monitor.timed("bench.timed")
    def timed() -> None:
        pass

    registry = prometheus_client.CollectorRegistry()
    prom = prometheus_client.Histogram("prom_latency", "latency", registry=registry)
    prom_labeled = prometheus_client.Histogram("prom_tagged", "latency", ["route"],
                                               registry=registry)
    prom_child = prom_labeled.labels("/users")
    hdr = HdrHistogram(1, 60 * 60 * 1000 * 1000, 3)
    g = {"h": h, "monitor": monitor, "counter": counter, "emergency": emergency,
         "timed": timed, "prom": prom, "prom_labeled": prom_labeled,
         "prom_child": prom_child, "hdr": hdr, "v": 12.5, "iv": 12500,
         "tags": {"route": "/users"}, "batch": [float(i % 50) for i in range(100)]}
    return [
        ("baseline", "empty loop", "pass", g),
        ("record", "perf_core h.record(v)", "h.record(v)", g),
        ("record", "perf_core monitor.record(name, v)",
         "monitor.record('bench.latency', v)", g),
        ("record", "perf_core monitor.record(name, v, route=...)",
         "monitor.record('bench.tagged', v, route='/users')", g),
        ("record", "perf_core monitor.record(name, v, tags_dict)",
         "monitor.record('bench.tagged', v, tags)", g),
        ("record", "perf_core h.record_many(100 values), per call",
         "h.record_many(batch)", g),
        ("record", "prometheus_client Histogram.observe(v)", "prom.observe(v)", g),
        ("record", "prometheus_client labels(route).observe(v)",
         "prom_labeled.labels('/users').observe(v)", g),
        ("record", "prometheus_client child.observe(v) (labels cached)",
         "prom_child.observe(v)", g),
        ("record", "hdrhistogram record_value(int)", "hdr.record_value(iv)", g),
        ("timer", "perf_core with h.time():", "with h.time(): pass", g),
        ("timer", "perf_core with monitor.timer(name):",
         "with monitor.timer('bench.latency'): pass", g),
        ("timer", "perf_core with monitor.timer(name, route=...):",
         "with monitor.timer('bench.tagged', route='/users'): pass", g),
        ("timer", "perf_core @monitor.timed call", "timed()", g),
        ("timer", "prometheus_client with h.time():", "with prom.time(): pass", g),
        ("other", "perf_core counter.inc()", "counter.inc()", g),
        ("other", "perf_core emergency.is_active()", "emergency.is_active()", g),
    ]


def measure(stmt: str, g: dict[str, Any], number: int, repeat: int) -> float:
    """Best nanoseconds per execution of `stmt` over `repeat` runs."""
    timer = timeit.Timer(stmt, globals=g)
    return min(timer.repeat(repeat=repeat, number=number)) / number * 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--number", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args()
    results = []
    for group, label, stmt, g in cases():
        ns = measure(stmt, g, args.number, args.repeat)
        results.append({"group": group, "case": label, "ns_per_op": round(ns, 1)})
    if args.json:
        print(json.dumps({"python": platform.python_version(),
                          "perf_core": perf_core.__version__,
                          "prometheus_client": prometheus_client.__name__,
                          "results": results}, indent=2))
        return
    print(f"Python {platform.python_version()} on {platform.machine()}; best of "
          f"{args.repeat} x {args.number} iterations, ns/op incl. loop overhead")
    width = max(len(r["case"]) for r in results)
    for r in results:
        print(f"  {r['group']:<8} {r['case']:<{width}}  {r['ns_per_op']:>8.1f}")


if __name__ == "__main__":
    main()
