"""The quickstart of docs/python.md as a runnable program (the tests run
it): recording, timers, statistics, rules on a manual clock, emergency
mode, a baseline comparison and exports."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

import perf_core
from perf_core import Budget, ManualClock, Monitor, Policy, Rule


def run(version: str, ms: float) -> perf_core.Baseline:
    """A baseline of 500 requests around `ms` milliseconds."""
    m = Monitor()
    h = m.histogram("api.latency", route="/search")
    for i in range(500):
        h.record(ms + (i % 10) / 10)
    return m.baseline(version)


def main() -> None:
    clock = ManualClock(0)
    monitor = Monitor(clock=clock)

    # Record: one-shot, through a handle, tags as keywords or a dict.
    monitor.record("http.server.duration", 12.5, route="/users", method="GET")
    latency = monitor.histogram("http.server.duration", route="/users", method="GET")
    for ms in (9.8, 11.0, 230.0):
        latency.record(ms)
    monitor.record("db.query", 4.2, {"table": "users", "class": "primary"})

    # Timers read the monitor's clock: 40 ms here.
    with monitor.timer("job.duration", kind="email"):
        clock.advance(0.040)

    @monitor.timed("http.client.duration", backend="s3")
    async def fetch(key: str) -> bytes:
        clock.advance(0.015)
        return key.encode()

    asyncio.run(fetch("avatar.png"))

    s = monitor.stats("http.server.duration", route="/users", method="GET")
    print(f"count={s.count} p50={s.p50:.1f} p95={s.p95:.1f} max={s.max:.1f} ms")
    print("job p50 =", monitor.stats("job.duration", kind="email").p50, "ms")
    print("fetch p50 =", monitor.stats("http.client.duration", backend="s3").p50, "ms")

    # A bad value is a clear error and never reaches the statistics.
    try:
        latency.record(float("nan"))
    except perf_core.InvalidValueError as err:
        print("refused:", err)

    # Rules, budgets and alerts, deterministic on the manual clock.
    monitor.add_rule(Rule("slow-api", "http.server.duration", stat="p95", threshold=100,
                          for_=10))
    monitor.add_budget(Budget.api_latency("api", "http.server.duration", 50, 150, 300))
    monitor.on_alert(lambda e: print("alert:", e.kind, e.severity, e.series, e.value))
    assert monitor.evaluate() == []  # pending: `for` has not held yet
    clock.advance(11)
    latency.record(250.0)
    assert [e.kind for e in monitor.evaluate()] == ["fired"]
    monitor.flush_notifications()  # callbacks run on the notification thread
    print(monitor.budget_report())

    # Emergency mode by hand.
    monitor.emergency.activate("load test")
    assert monitor.emergency.is_active()
    monitor.emergency.deactivate("done")

    # Baselines of two runs, saved, loaded and compared: 50 % slower fails.
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "baseline.json"
        run("v1", 10.0).save(path)
        report = perf_core.compare(perf_core.Baseline.load(path), run("v2", 15.0),
                                   Policy(threshold=0.2, seed=1))
        print("regression check:", report.verdict)
        print(report)

    print(monitor.export_prometheus().splitlines()[0])


if __name__ == "__main__":
    main()
