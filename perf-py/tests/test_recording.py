"""Recording and reading: handles, one-shot records, tags, statistics,
windows, rates, timers and the `timed` decorator."""

from __future__ import annotations

import asyncio
import math
from datetime import timedelta

import pytest

import perf_core
from perf_core import ManualClock, Monitor


def test_histogram_handle_records_exact_count_sum_and_extremes(monitor: Monitor) -> None:
    h = monitor.histogram("db.query", table="users")
    for v in range(1, 1001):
        h.record(float(v))
    s = monitor.stats("db.query", table="users")
    assert (s.count, s.sum, s.min, s.max) == (1000, 500500.0, 1.0, 1000.0)
    assert s.mean == pytest.approx(500.5)
    assert s.stddev == pytest.approx(288.675, rel=1e-4)
    for q, exact in [(50, 500), (75, 750), (90, 900), (95, 950), (99, 990), (99.9, 999)]:
        assert s.percentile(q) == pytest.approx(exact, rel=0.004)
    assert s.p50 == s.percentile(50) and s.p999 == s.percentile(99.9)
    assert s.p75 == s.percentile(75) and s.p90 == s.percentile(90)
    assert s.p95 == s.percentile(95) and s.p99 == s.percentile(99)
    assert len(s) == 1000 and not s.is_empty() and s.rejected == 0


def test_ints_and_float_like_values_are_accepted(monitor: Monitor) -> None:
    class Ms:
        def __float__(self) -> float:
            return 7.5

    h = monitor.histogram("x")
    h.record(3)
    h.record(Ms())  # type: ignore[arg-type]
    assert h.stats().sum == 10.5


def test_record_one_shot_equals_handle(monitor: Monitor) -> None:
    monitor.record("api.latency", 10.0, route="/a")
    monitor.record("api.latency", 20.0, {"route": "/a"})
    monitor.histogram("api.latency", route="/a").record(30.0)
    s = monitor.stats("api.latency", {"route": "/a"})
    assert (s.count, s.sum) == (3, 60.0)


def test_tag_order_and_form_do_not_matter(monitor: Monitor) -> None:
    monitor.record("m", 1.0, a="1", b="2")
    monitor.record("m", 1.0, {"b": "2", "a": "1"})
    monitor.record("m", 1.0, {"b": "2"}, a="1")
    assert monitor.stats("m", b="2", a="1").count == 3
    assert monitor.series()[0].tags == {"a": "1", "b": "2"}


def test_a_tag_named_tags_or_name_is_an_ordinary_tag(monitor: Monitor) -> None:
    monitor.record("m", 1.0, tags="x", name="y", value="z")
    assert monitor.stats("m", {"tags": "x", "name": "y", "value": "z"}).count == 1


def test_stats_to_dict_lists_every_attribute(monitor: Monitor) -> None:
    monitor.record("m", 4.0)
    d = monitor.stats("m").to_dict()
    assert list(d) == ["count", "sum", "min", "max", "mean", "stddev",
                       "p50", "p75", "p90", "p95", "p99", "p999", "rejected"]
    assert d["count"] == 1 and d["max"] == 4.0 and d["stddev"] == 0.0
    assert "count=1" in repr(monitor.stats("m"))
    assert monitor.stats("m") == monitor.stats("m")
    monitor.record("m", 5.0, k="v")
    assert monitor.stats("m") != monitor.stats("m", k="v")


def test_empty_series_stats_are_nan(monitor: Monitor) -> None:
    monitor.histogram("empty")
    s = monitor.stats("empty")
    assert s.count == 0 and s.sum == 0.0 and s.is_empty()
    assert math.isnan(s.p50) and math.isnan(s.mean) and math.isnan(s.percentile(10))


def test_rejected_values_are_counted_not_recorded(monitor: Monitor) -> None:
    h = monitor.histogram("r")
    h.record(1.0)
    for bad in (float("nan"), float("inf"), -1.0):
        with pytest.raises(perf_core.InvalidValueError):
            h.record(bad)
    assert h.rejected == 3
    s = monitor.stats("r")
    assert (s.count, s.rejected) == (1, 3)


def test_counter_and_gauge(monitor: Monitor) -> None:
    c = monitor.counter("jobs.done", queue="mail")
    c.inc()
    c.inc(41)
    assert c.value == 42
    assert monitor.counter("jobs.done", queue="mail").value == 42
    g = monitor.gauge("queue.depth")
    g.set(10)
    g.add(-2.5)
    assert g.value == 7.5
    assert "Counter(value=42)" == repr(c) and "Gauge(value=7.5)" == repr(g)


def test_window_stats_and_counter_rate_follow_the_clock(
    monitor: Monitor, clock: ManualClock
) -> None:
    monitor.record("q", 10.0)
    clock.advance(30)
    monitor.record("q", 20.0)
    assert monitor.window_stats("q", 10).count == 1
    assert monitor.window_stats("q", timedelta(seconds=60)).count == 2
    assert monitor.stats("q").count == 2
    requests = monitor.counter("requests")
    for _ in range(10):
        clock.advance(1)
        requests.inc(30)
    assert monitor.counter_rate("requests", 10) == 30.0


def test_clock_set_and_now(monitor: Monitor, clock: ManualClock) -> None:
    assert clock.now() == 1000.0 == monitor.now()
    clock.set(2000)
    assert monitor.now() == 2000.0
    clock.set(10)  # the past is ignored
    assert clock.now() == 2000.0
    clock.advance(timedelta(milliseconds=250))
    assert clock.now() == 2000.25
    assert repr(clock) == "ManualClock(now=2000.25)"


def test_timer_records_milliseconds_on_the_monitor_clock(
    monitor: Monitor, clock: ManualClock
) -> None:
    with monitor.timer("job.duration", kind="email") as t:
        clock.advance(0.040)
    assert t.elapsed_ms == 40.0
    h = monitor.histogram("job.duration", kind="email")
    with h.time():
        clock.advance(0.010)
    s = monitor.stats("job.duration", kind="email")
    assert (s.count, s.min, s.max) == (2, 10.0, 40.0)


def test_timer_records_when_the_block_raises(monitor: Monitor, clock: ManualClock) -> None:
    with pytest.raises(RuntimeError):
        with monitor.timer("t"):
            clock.advance(0.005)
            raise RuntimeError("boom")
    assert monitor.stats("t").max == 5.0


def test_timer_can_be_reentered_and_exit_without_enter_records_nothing(
    monitor: Monitor, clock: ManualClock
) -> None:
    t = monitor.timer("t")
    for ms in (1, 2, 3):
        with t:
            clock.advance(ms / 1000)
    t.__exit__(None, None, None)
    assert monitor.stats("t").count == 3


def test_timed_decorates_sync_functions(monitor: Monitor, clock: ManualClock) -> None:
    @monitor.timed("work", step="parse")
    def work(x: int, *, y: int = 1) -> int:
        """Docstring kept."""
        clock.advance(0.002)
        return x + y

    assert work(1, y=2) == 3
    assert work.__name__ == "work" and work.__doc__ == "Docstring kept."
    s = monitor.stats("work", step="parse")
    assert (s.count, s.max) == (1, 2.0)


def test_timed_decorates_async_functions(monitor: Monitor, clock: ManualClock) -> None:
    @monitor.timed("fetch", {"backend": "s3"})
    async def fetch(n: int) -> int:
        await asyncio.sleep(0)
        clock.advance(0.003)
        return n * 2

    assert asyncio.iscoroutinefunction(fetch)
    assert asyncio.run(fetch(21)) == 42
    s = monitor.stats("fetch", backend="s3")
    assert (s.count, s.max) == (1, 3.0)


def test_timed_records_failures_too(monitor: Monitor, clock: ManualClock) -> None:
    @monitor.timed("fails")
    def fails() -> None:
        clock.advance(0.001)
        raise KeyError("x")

    with pytest.raises(KeyError):
        fails()
    assert monitor.stats("fails").count == 1


def test_real_clock_timer_measures_elapsed_time() -> None:
    import time

    m = Monitor()
    with m.timer("sleep") as t:
        time.sleep(0.02)
    assert 15.0 <= t.elapsed_ms < 2000.0
    assert m.stats("sleep").count == 1
    assert m.now() > 1.5e9  # Unix time in seconds


def test_series_lists_every_series_sorted(monitor: Monitor) -> None:
    monitor.counter("b.count")
    monitor.record("a.lat", 1.0, route="/x")
    monitor.gauge("c.gauge", host="h1")
    infos = monitor.series()
    assert [(i.name, i.tags, i.kind) for i in infos] == [
        ("a.lat", {"route": "/x"}, "histogram"),
        ("b.count", {}, "counter"),
        ("c.gauge", {"host": "h1"}, "gauge"),
    ]
    assert infos[0].to_dict() == {"name": "a.lat", "tags": {"route": "/x"}, "kind": "histogram"}


def test_series_keys_print_as_the_core_prints_them(monitor: Monitor) -> None:
    tags = {"t": "x,y=}", "k": 'a"b\\c'}
    assert str(perf_core.SeriesKey("lat", tags)) == 'lat{k="a\\"b\\\\c",t="x,y=}"}'
    assert str(perf_core.SeriesKey("lat", {})) == "lat"
    # The same text as the core's own reports (Rust's SeriesKey Display).
    monitor.record("lat", 5.0, tags)
    monitor.add_budget(perf_core.Budget("b", metric="lat", limits={"p95": 1}))
    report = monitor.budget_report()
    key = report.rows[0].series
    assert key is not None and str(key) in report.text
    assert str(key) == str(perf_core.SeriesKey("lat", tags))


def test_monitor_options(clock: ManualClock) -> None:
    m = Monitor(clock=clock, precision=9, max_series_per_metric=2,
                window_interval=timedelta(seconds=2), window_retention=120,
                alert_history=10, repeat_intervals={"critical": 60})
    assert m.precision == 9 and m.window_interval == 2.0
    for route in "abcd":
        m.record("lat", 1.0, route=route)
    names = [(i.name, i.tags) for i in m.series()]
    assert names == [
        ("lat", {"perf_overflow": "true"}),
        ("lat", {"route": "a"}),
        ("lat", {"route": "b"}),
        ("perf_core_series_folded_total", {"metric": "lat"}),
    ]
    assert m.stats("lat", perf_overflow="true").count == 2
    assert Monitor(windows=False).window_interval is None
    assert Monitor().precision == 7


def test_monitor_is_a_context_manager(clock: ManualClock) -> None:
    with Monitor(clock=clock) as m:
        m.start(0.05)
        assert m.is_evaluating
    assert not m.is_evaluating


def test_tick_and_reprs(monitor: Monitor) -> None:
    h = monitor.histogram("m")
    h.record(1.0)
    monitor.tick()
    assert monitor.window_stats("m", 1).count == 1
    assert repr(h) == "Histogram(count=1)"
    assert repr(monitor) == "Monitor(series=1)"
    assert perf_core.__version__ == "0.1.0"


def test_calls_with_tags_leak_no_references(monitor: Monitor, clock: ManualClock) -> None:
    import sys

    route = "".join(["/us", "ers"])  # not interned: its count is ours alone
    value = float("12.5")
    tags = {"route": route}
    before = (sys.getrefcount(route), sys.getrefcount(value), sys.getrefcount(tags))
    for _ in range(1000):
        monitor.record("m", value, route=route)
        monitor.record("m", value, tags)
        with monitor.timer("t", tags, method=route):
            pass
        try:
            monitor.record("m", value, route=route, bad=5)  # type: ignore[arg-type]
        except perf_core.ArgumentTypeError:
            pass
    after = (sys.getrefcount(route), sys.getrefcount(value), sys.getrefcount(tags))
    assert after == before
    assert monitor.stats("m", route=route).count == 2000


def test_record_n_and_record_many(monitor: Monitor) -> None:
    import array

    h = monitor.histogram("batch")
    h.record_n(4.0, 1000)
    h.record_n(1.0, 0)
    h.record_many([1.0, 2, 3.5])
    h.record_many(array.array("d", [10.0, 20.0]))
    h.record_many(float(v) for v in range(5))
    s = h.stats()
    assert (s.count, s.sum, s.max) == (1010, 4000.0 + 6.5 + 30.0 + 10.0, 20.0)
    with pytest.raises(perf_core.InvalidValueError, match="values: invalid value NaN"):
        h.record_many([5.0, math.nan, 6.0, -1.0])
    assert (h.stats().count, h.rejected) == (1012, 2)  # the valid ones are recorded
    with pytest.raises(perf_core.ArgumentTypeError, match=r"values\[1\] must be a real number"):
        h.record_many([1.0, "2"])  # type: ignore[list-item]
    with pytest.raises(perf_core.ArgumentTypeError, match="values must be an iterable"):
        h.record_many(5)  # type: ignore[arg-type]
    with pytest.raises(perf_core.InvalidValueError, match="value: invalid value -1"):
        h.record_n(-1.0, 3)
    with pytest.raises(perf_core.InvalidArgumentError, match="n: must be within"):
        h.record_n(1.0, -3)
    assert h.stats().count == 1012 and h.rejected == 5


def test_counts_saturate_instead_of_wrapping(monitor: Monitor) -> None:
    top = 2**64 - 1
    h = monitor.histogram("bulk")
    h.record_n(1.0, top)
    h.record_n(1.0, 2)
    assert monitor.stats("bulk").count == top
    c = monitor.counter("bytes")
    c.inc(top - 1)
    c.inc(5)
    assert c.value == top
    assert f"bytes_total {top}\n" in monitor.export_prometheus()
