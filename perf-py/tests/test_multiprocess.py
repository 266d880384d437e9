"""Multi-process mode from Python: monitors sharing a directory (in this
process and in forked children) read as one, and a monitor made before
``os.fork()`` works in the children without counting anything twice."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

import perf_core


def member(directory: Path, clock: perf_core.ManualClock) -> perf_core.Monitor:
    return perf_core.Monitor(
        clock=clock,
        multiprocess_dir=directory,
        gauge_modes={"workers_max": "max", "rss_bytes": "per_process"},
    )


def test_two_monitors_read_as_one(tmp_path: Path) -> None:
    clock = perf_core.ManualClock()
    a, b = member(tmp_path, clock), member(tmp_path, clock)
    for i in range(100):
        a.record("latency", float(i), route="/a")
        b.record("latency", 1000.0 + i, route="/a")
    a.counter("requests").inc(100)
    b.counter("requests").inc(50)
    b.gauge("workers_max").set(7)
    a.gauge("workers_max").set(3)
    b.publish()

    merged = a.stats("latency", route="/a")
    assert merged.count == 200
    assert (merged.min, merged.max) == (0.0, 1099.0)
    assert a.local().stats("latency", route="/a").count == 100
    assert isinstance(a.local(), perf_core.Monitor)
    text = a.export_prometheus()
    assert "requests_total 150" in text
    assert "workers_max 7" in text

    status = a.multiprocess
    assert isinstance(status, perf_core.MultiprocessStatus)
    assert (status.processes, status.live_processes, status.skipped_files) == (2, 2, 0)
    assert status.pid == os.getpid() and status.dir == str(tmp_path)
    assert perf_core.Monitor().multiprocess is None


def test_bad_options_are_typed_errors(tmp_path: Path) -> None:
    with pytest.raises(perf_core.InvalidConfigError, match="unknown gauge mode"):
        perf_core.Monitor(multiprocess_dir=tmp_path, default_gauge_mode="average")  # type: ignore[arg-type]
    with pytest.raises(perf_core.ArgumentTypeError, match="multiprocess_dir"):
        perf_core.Monitor(multiprocess_dir=42)  # type: ignore[arg-type]
    with pytest.raises(perf_core.PerfIOError):
        not_a_dir = tmp_path / "file"
        not_a_dir.write_text("x")
        perf_core.Monitor(multiprocess_dir=not_a_dir / "group")


def test_the_environment_variable_turns_the_mode_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PERF_CORE_MULTIPROC_DIR", str(tmp_path))
    monitor = perf_core.Monitor()
    status = monitor.multiprocess
    assert status is not None and status.dir == str(tmp_path)


def wait_for(pid: int) -> int:
    """The exit code of child ``pid`` (killed after 20 s: a hang fails)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.01)
    os.kill(pid, 9)
    raise AssertionError(f"child {pid} hung")


def test_a_monitor_made_before_fork_counts_each_child_once(tmp_path: Path) -> None:
    monitor = perf_core.Monitor(multiprocess_dir=tmp_path, publish_interval=0.01)
    monitor.start(0.01)
    requests = monitor.counter("requests")
    latency = monitor.histogram("latency")
    for i in range(100):
        requests.inc()
        latency.record(float(i))
    children = []
    for child in range(4):
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child
            code = 1
            try:
                for i in range(1000):
                    requests.inc()
                    latency.record(float(i))
                if child == 0:
                    # Only records: adopted by os.register_at_fork, its own
                    # publisher hands the values over.
                    time.sleep(0.3)
                    code = 0
                else:
                    # Its evaluator and publisher run again after the fork.
                    ok = monitor.is_evaluating and monitor.multiprocess is not None
                    monitor.publish()
                    code = 0 if ok else 2
            finally:
                os._exit(code)
        children.append(pid)
    assert [wait_for(pid) for pid in children] == [0, 0, 0, 0]
    assert monitor.stats("latency").count == 4100
    assert "requests_total 4100" in monitor.export_prometheus()
    assert monitor.local().stats("latency").count == 100
    monitor.stop()


def test_emergency_mode_and_alerts_are_the_groups(tmp_path: Path) -> None:
    clock = perf_core.ManualClock()
    leader = member(tmp_path, clock)
    leader.load_rules(
        {
            "version": 1,
            "rules": [{"name": "slow", "metric": "latency", "stat": "max", "threshold": 100}],
        }
    )
    leader.record("latency", 250.0)
    assert [event.kind for event in leader.evaluate()] == ["fired"]
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        code = 1
        try:
            # A new process of the group: it reads the leader's alerts and
            # turns the group's emergency mode on for every process.
            worker = member(tmp_path, clock)
            alerts = worker.alerts()
            status = worker.multiprocess
            ok = [a.rule for a in alerts] == ["slow"] and status is not None and not status.leader
            worker.acknowledge(alerts[0].id)
            worker.emergency.activate("shed load")
            code = 0 if ok and worker.emergency.is_active() else 2
        finally:
            os._exit(code)
    assert wait_for(pid) == 0
    assert leader.emergency.is_active()
    assert [t.reason for t in leader.emergency.history()] == ["shed load"]
    leader.evaluate()
    assert leader.alerts()[0].acknowledged
    assert leader.emergency.deactivate("done")
    assert not leader.emergency.is_active()
