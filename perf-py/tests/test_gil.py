"""Heavy engine work releases the GIL: another Python thread runs during
exports, snapshots, comparisons, file writes and evaluation.

With a huge switch interval the main thread never hands the GIL over on
its own; a spinning thread that yields with `sleep(0)` can only progress
while the main thread is inside a call that released it. A pure-Python
control proves the method: it lets the spinner do nothing."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import perf_core
from perf_core import Monitor, Rule


class Spinner:
    """A thread counting while it holds the GIL."""

    def __init__(self) -> None:
        self.count = 0
        self.stop = False
        self.thread = threading.Thread(target=self.spin, daemon=True)

    def spin(self) -> None:
        while not self.stop:
            self.count += 1
            time.sleep(0)

    def progress_during(self, call: Callable[[], object]) -> int:
        before = self.count
        call()
        return self.count - before


@pytest.fixture
def spinner() -> Iterator[Spinner]:
    old = sys.getswitchinterval()
    sys.setswitchinterval(100.0)
    s = Spinner()
    s.thread.start()
    time.sleep(0.01)
    try:
        yield s
    finally:
        s.stop = True
        s.thread.join()
        sys.setswitchinterval(old)


def busy_monitor() -> Monitor:
    m = Monitor()
    for i in range(300):
        h = m.histogram("lat", route=f"/r{i}")
        for v in range(40):
            h.record(float(v + i % 7))
    for i in range(200):
        m.add_rule(Rule(f"slow{i}", "lat", stat="p95", threshold=1000.0 + i))
    return m


def test_heavy_calls_release_the_gil(spinner: Spinner, tmp_path: Path) -> None:
    m = busy_monitor()
    base, current = m.baseline("a"), m.baseline("b")
    heavy: dict[str, Callable[[], object]] = {
        "export_prometheus": m.export_prometheus,
        "export_openmetrics": m.export_openmetrics,
        "export_json": lambda: m.export_json(histograms=True),
        "export_csv": m.export_csv,
        "baseline": lambda: m.baseline("c"),
        "save": lambda: base.save(tmp_path / "b.json"),
        "compare": lambda: perf_core.compare(base, current, perf_core.Policy(resamples=100)),
        "evaluate": lambda: [m.evaluate() for _ in range(5)],
    }
    for name, call in heavy.items():
        # Without the GIL released the spinner cannot move at all; with it,
        # a short call may still end before the spinner is scheduled.
        moved = any(spinner.progress_during(call) > 0 for _ in range(5))
        assert moved, f"{name} held the GIL"


def test_pure_python_control_holds_the_gil(spinner: Spinner) -> None:
    assert spinner.progress_during(lambda: sum(range(2_000_000))) == 0
