"""Many threads recording at once: no value is lost, counts are exact."""

from __future__ import annotations

import threading

from perf_core import AlertEvent, Monitor, Rule

THREADS = 8
PER_THREAD = 20_000


def run_threads(target: "threading.Thread | object", n: int = THREADS) -> None:
    threads = [threading.Thread(target=target) for _ in range(n)]  # type: ignore[arg-type]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def test_concurrent_handle_records_are_exact() -> None:
    m = Monitor()
    h = m.histogram("lat")
    barrier = threading.Barrier(THREADS)

    def work() -> None:
        barrier.wait()
        for i in range(PER_THREAD):
            h.record(float(i % 100))

    run_threads(work)
    s = m.stats("lat")
    assert s.count == THREADS * PER_THREAD
    assert s.sum == THREADS * (PER_THREAD // 100) * sum(range(100))
    assert (s.min, s.max) == (0.0, 99.0)


def test_concurrent_one_shot_records_counters_and_timers_are_exact() -> None:
    m = Monitor()
    barrier = threading.Barrier(THREADS)

    def work() -> None:
        name = threading.current_thread().name
        barrier.wait()
        c = m.counter("ops")
        for i in range(PER_THREAD // 4):
            m.record("lat", 1.0, route=f"/r{i % 4}")
            m.record("per_thread", 2.0, thread=name)
            c.inc(2)
            with m.timer("timed", route="/t"):
                pass

    run_threads(work)
    total = THREADS * PER_THREAD // 4
    assert sum(m.stats("lat", route=f"/r{r}").count for r in range(4)) == total
    assert m.counter("ops").value == 2 * total
    assert m.stats("timed", route="/t").count == total
    per_thread = [i for i in m.series() if i.name == "per_thread"]
    assert len(per_thread) == THREADS
    assert all(m.stats("per_thread", i.tags).count == PER_THREAD // 4 for i in per_thread)


def test_recording_while_reading_exporting_and_evaluating() -> None:
    m = Monitor()
    m.add_rule(Rule("slow", "lat", stat="p95", threshold=1e9))
    events: list[AlertEvent] = []
    m.on_alert(events.append)
    stop = threading.Event()
    h = m.histogram("lat")

    def reader() -> None:
        while not stop.is_set():
            m.stats("lat")
            m.export_prometheus()
            m.evaluate()

    readers = [threading.Thread(target=reader) for _ in range(2)]
    for t in readers:
        t.start()

    def writer() -> None:
        for _ in range(PER_THREAD):
            h.record(5.0)

    run_threads(writer, 4)
    stop.set()
    for t in readers:
        t.join()
    assert m.stats("lat").count == 4 * PER_THREAD
    assert events == []


def test_no_deadlock_between_the_evaluator_thread_and_python_threads() -> None:
    """The background evaluator calls back into Python (needing the
    interpreter) while Python threads call into the monitor (which waits
    for the evaluator): every blocking call releases the interpreter."""
    m = Monitor(repeat_intervals={"warning": 0.001})
    m.add_rule(Rule("slow", "lat", stat="p95", threshold=1.0))
    m.record("lat", 100.0)
    calls: list[str] = []

    def on_alert(event: AlertEvent) -> None:
        calls.append(event.kind)
        m.alerts()  # calls back into the engine from the evaluator thread

    m.on_alert(on_alert)

    def hammer() -> None:
        for _ in range(200):
            m.start(0.001)
            m.evaluate()
            m.alerts()
            m.rules()
            m.export_json()
            m.stop()

    worker = threading.Thread(target=hammer, daemon=True)
    worker.start()
    worker.join(timeout=60)
    assert not worker.is_alive(), "deadlock: the worker did not finish in 60 s"
    m.stop()
    assert calls[0] == "fired" and "repeated" in calls
