"""Every error path: the exception hierarchy, bad values, wrong types, bad
names and tags, unknown series, bad windows, bad options and documents.
Each error is a PerfError, and the Python base users expect, and its
message names the argument or field."""

from __future__ import annotations

import math
from typing import Any, Callable

import pytest

import perf_core
from perf_core import Monitor


def raises(
    exc: type[BaseException], match: str, fn: Callable[[], Any]
) -> pytest.ExceptionInfo[BaseException]:
    with pytest.raises(exc, match=match) as info:
        fn()
    assert isinstance(info.value, perf_core.PerfError)
    return info


def test_hierarchy() -> None:
    P = perf_core
    assert issubclass(P.PerfError, Exception)
    value_errors: list[type[Exception]] = [P.InvalidArgumentError, P.InvalidNameError, P.InvalidTagError,
                    P.InvalidValueError, P.InvalidWindowError, P.InvalidRuleError,
                    P.InvalidConfigError, P.InvalidBaselineError]
    for cls in value_errors:
        assert issubclass(cls, P.PerfError) and issubclass(cls, ValueError), cls
        assert issubclass(cls, P.InvalidArgumentError)
    type_errors: list[type[Exception]] = [P.ArgumentTypeError, P.KindMismatchError]
    for cls in type_errors:
        assert issubclass(cls, P.PerfError) and issubclass(cls, TypeError)
    lookup_errors: list[type[Exception]] = [P.UnknownSeriesError, P.UnknownAlertError]
    for cls in lookup_errors:
        assert issubclass(cls, P.PerfError) and issubclass(cls, LookupError)
    assert issubclass(P.PerfIOError, OSError) and issubclass(P.PerfIOError, P.PerfError)
    assert issubclass(P.TooManyMetricsError, P.PerfError)
    assert issubclass(P.WindowsDisabledError, P.PerfError)
    assert P.PerfError.__module__ == "perf_core"
    assert P.InvalidValueError.__doc__


@pytest.mark.parametrize("bad, match", [
    (math.nan, "value: invalid value NaN"),
    (math.inf, "value: invalid value inf"),
    (-math.inf, "value: invalid value -inf"),
    (-1.0, "value: invalid value -1: histogram values must be non-negative"),
    (2.0 ** 64, "value: .*below 2\\^64"),
])
def test_bad_histogram_values(monitor: Monitor, bad: float, match: str) -> None:
    h = monitor.histogram("h")
    raises(perf_core.InvalidValueError, match, lambda: h.record(bad))
    raises(perf_core.InvalidValueError, match, lambda: monitor.record("h", bad))
    with pytest.raises(ValueError):
        h.record(bad)
    assert monitor.stats("h").count == 0


def test_bad_gauge_values(monitor: Monitor) -> None:
    g = monitor.gauge("g")
    raises(perf_core.InvalidValueError, "value: invalid value NaN", lambda: g.set(math.nan))
    raises(perf_core.InvalidValueError, "delta: ", lambda: g.add(math.inf))
    g.set(-5.0)  # gauges take negative values
    assert g.value == -5.0


@pytest.mark.parametrize("bad", ["12", None, [1.0], b"1"])
def test_wrong_value_types(monitor: Monitor, bad: Any) -> None:
    h = monitor.histogram("h")
    info = raises(perf_core.ArgumentTypeError, "value must be a real number, got", lambda: h.record(bad))
    assert isinstance(info.value, TypeError)
    raises(perf_core.ArgumentTypeError, "value must be a real number",
           lambda: monitor.record("h", bad))
    raises(perf_core.ArgumentTypeError, "value must be a real number",
           lambda: monitor.gauge("g").set(bad))


def test_counter_increments(monitor: Monitor) -> None:
    c = monitor.counter("c")
    raises(perf_core.InvalidArgumentError, "n: must be within", lambda: c.inc(-1))
    raises(perf_core.InvalidArgumentError, "n: must be within", lambda: c.inc(2 ** 64))
    raises(perf_core.ArgumentTypeError, "n must be an int, got float", lambda: c.inc(1.5))  # type: ignore[arg-type]
    raises(perf_core.ArgumentTypeError, "n must be an int, got bool", lambda: c.inc(True))
    assert c.value == 0


@pytest.mark.parametrize("name, match", [
    ("", "must not be empty"),
    ("9lives", "must start with a letter"),
    ("has space", "may contain only"),
    ("__reserved", "reserved"),
    ("perf_core_mine", "reserved"),
    ("x" * 201, "at most 200 bytes"),
])
def test_bad_names(monitor: Monitor, name: str, match: str) -> None:
    for make in (monitor.histogram, monitor.counter, monitor.gauge, monitor.timer):
        info = raises(perf_core.InvalidNameError, match, lambda: make(name))
        assert "invalid metric name" in str(info.value)
    raises(perf_core.InvalidNameError, match, lambda: monitor.record(name, 1.0))
    assert monitor.series() == []


@pytest.mark.parametrize("bad", [5, None, b"lat"])
def test_wrong_name_types(monitor: Monitor, bad: Any) -> None:
    raises(perf_core.ArgumentTypeError, "name must be a str", lambda: monitor.record(bad, 1.0))
    raises(perf_core.ArgumentTypeError, "name must be a str", lambda: monitor.histogram(bad))
    raises(perf_core.ArgumentTypeError, "name must be a str", lambda: monitor.stats(bad))


def test_bad_tags(monitor: Monitor) -> None:
    raises(perf_core.InvalidTagError, 'invalid tag "le": key is reserved',
           lambda: monitor.record("m", 1.0, le="1"))
    raises(perf_core.InvalidTagError, 'invalid tag "route": value must not be empty',
           lambda: monitor.record("m", 1.0, route=""))
    raises(perf_core.InvalidTagError, "invalid tag", lambda: monitor.record("m", 1.0, {"bad key": "v"}))
    raises(perf_core.InvalidTagError, "invalid tag", lambda: monitor.record("m", 1.0, {"a": "1"}, a="1"))
    too_many = {f"k{i}": "v" for i in range(17)}
    raises(perf_core.InvalidTagError, "invalid tag", lambda: monitor.record("m", 1.0, too_many))
    raises(perf_core.ArgumentTypeError, 'tag "status" must be a str, got int',
           lambda: monitor.record("m", 1.0, status=200))  # type: ignore[arg-type]
    raises(perf_core.ArgumentTypeError, "a tag key must be a str, got int",
           lambda: monitor.record("m", 1.0, {1: "x"}))  # type: ignore[dict-item]
    raises(perf_core.ArgumentTypeError, "tags must be a mapping of str to str, got list",
           lambda: monitor.record("m", 1.0, ["a"]))  # type: ignore[arg-type]
    assert monitor.series() == []


def test_unknown_series_and_kind_mismatch(monitor: Monitor) -> None:
    raises(perf_core.UnknownSeriesError, 'no series nope{route="/x"}',
           lambda: monitor.stats("nope", route="/x"))
    with pytest.raises(LookupError):
        monitor.stats("nope")
    monitor.counter("c")
    info = raises(perf_core.KindMismatchError, 'metric "c" is a counter, not a histogram',
                  lambda: monitor.histogram("c"))
    assert isinstance(info.value, TypeError)
    raises(perf_core.KindMismatchError, "not a histogram", lambda: monitor.stats("c"))
    monitor.histogram("h")
    raises(perf_core.KindMismatchError, "not a counter", lambda: monitor.counter_rate("h", 10))


def test_bad_percentiles(monitor: Monitor) -> None:
    monitor.record("m", 1.0)
    s = monitor.stats("m")
    for q in (-1, 100.5, math.nan):
        raises(perf_core.InvalidValueError, "q: invalid percentile", lambda: s.percentile(q))
    raises(perf_core.ArgumentTypeError, "q must be a real number", lambda: s.percentile("p95"))  # type: ignore[arg-type]


def test_bad_windows(monitor: Monitor) -> None:
    monitor.record("m", 1.0)
    raises(perf_core.InvalidArgumentError, "window: must be a finite, non-negative",
           lambda: monitor.window_stats("m", -1))
    raises(perf_core.InvalidArgumentError, "window: must be a finite",
           lambda: monitor.window_stats("m", math.nan))
    raises(perf_core.InvalidWindowError, "invalid window 0ns", lambda: monitor.window_stats("m", 0))
    raises(perf_core.InvalidWindowError, "at most the retention 300s",
           lambda: monitor.window_stats("m", 301))
    raises(perf_core.ArgumentTypeError, "window must be seconds",
           lambda: monitor.window_stats("m", "60s"))  # type: ignore[arg-type]
    raises(perf_core.ArgumentTypeError, "window must be seconds",
           lambda: monitor.window_stats("m", True))
    no_windows = Monitor(windows=False)
    no_windows.record("m", 1.0)
    raises(perf_core.WindowsDisabledError, "disabled", lambda: no_windows.window_stats("m", 1))


def test_bad_monitor_options() -> None:
    raises(perf_core.InvalidConfigError, "precision: .*2..=10 bits, got 1", lambda: Monitor(precision=1))
    raises(perf_core.InvalidConfigError, "precision", lambda: Monitor(precision=300))
    raises(perf_core.InvalidConfigError, "max_metrics and max_series_per_metric",
           lambda: Monitor(max_metrics=0))
    raises(perf_core.ArgumentTypeError, "unexpected keyword argument \"bogus\"",
           lambda: Monitor(bogus=1))  # type: ignore[call-arg]
    raises(perf_core.ArgumentTypeError, "clock must be a ManualClock",
           lambda: Monitor(clock="system"))  # type: ignore[arg-type]
    raises(perf_core.InvalidArgumentError, "window_interval: must be a finite",
           lambda: Monitor(window_interval=math.nan))
    raises(perf_core.InvalidConfigError, "invalid configuration", lambda: Monitor(window_interval=0))
    raises(perf_core.InvalidArgumentError, "repeat_intervals: unknown severity",
           lambda: Monitor(repeat_intervals={"urgent": 5}))
    raises(perf_core.ArgumentTypeError, "max_series_per_metric must be an int",
           lambda: Monitor(max_series_per_metric="10"))  # type: ignore[arg-type]
    raises(perf_core.InvalidArgumentError, "start: must be", lambda: perf_core.ManualClock(-1))


def test_too_many_metrics() -> None:
    m = Monitor(max_metrics=2)
    m.record("a", 1.0)
    m.record("b", 1.0)
    raises(perf_core.TooManyMetricsError, "the limit is 2", lambda: m.record("c", 1.0))


def test_bad_rule_documents(monitor: Monitor) -> None:
    raises(perf_core.InvalidRuleError, "invalid rules JSON", lambda: monitor.load_rules("{"))
    raises(perf_core.InvalidRuleError, "at version: unsupported version 2",
           lambda: monitor.load_rules('{"version": 2}'))
    raises(perf_core.InvalidRuleError, r"at rules\[0\]\.for: invalid duration \"soon\"",
           lambda: monitor.load_rules({"version": 1, "rules": [
               {"name": "x", "metric": "m", "stat": "p95", "threshold": 1, "for_": "soon"}]}))
    raises(perf_core.InvalidRuleError, r"rules\[0\]\.stat",
           lambda: monitor.load_rules({"version": 1, "rules": [
               {"name": "x", "metric": "m", "stat": "p101", "threshold": 1}]}))
    raises(perf_core.InvalidRuleError, "unknown field `colour`",
           lambda: monitor.load_rules({"version": 1, "colour": "red"}))
    raises(perf_core.ArgumentTypeError, "document must be a JSON str or a dict, got int",
           lambda: monitor.load_rules(5))  # type: ignore[arg-type]
    raises(perf_core.InvalidRuleError, "cannot read /no/such/rules.json",
           lambda: monitor.load_rules_file("/no/such/rules.json"))
    assert monitor.rules() == [] and monitor.budgets() == []


def test_bad_rule_and_budget_objects(monitor: Monitor) -> None:
    # The core's messages (Rule/Budget::from_json): the rule's name once it
    # is known, then the field as the item spells it.
    raises(perf_core.InvalidRuleError, 'invalid rule "r": levels: is required',
           lambda: perf_core.Rule("r", "m", stat="p95"))
    raises(perf_core.InvalidRuleError, "bogus: unknown field `bogus`",
           lambda: perf_core.Rule("r", "m", stat="p95", threshold=1, bogus=2))
    raises(perf_core.InvalidRuleError, "for: invalid type: integer `-5`",
           lambda: perf_core.Rule("r", "m", stat="p95", threshold=1, for_=-5))
    raises(perf_core.InvalidRuleError, 'op: unknown operator "~"',
           lambda: perf_core.Rule("r", "m", stat="p95", threshold=1, op="~"))
    raises(perf_core.InvalidRuleError, r'invalid rule "r": levels\[1\]\.clear: must be at or below',
           lambda: perf_core.Rule("r", "m", stat="p95", levels=[
               {"severity": "critical", "threshold": 9},
               {"severity": "warning", "threshold": 5, "clear": 7}]))
    raises(perf_core.InvalidRuleError, r"\.: a rule is a JSON object",
           lambda: perf_core.Rule.from_dict("[1]"))
    raises(perf_core.InvalidRuleError, 'invalid rule "b": items: is required',
           lambda: perf_core.Budget("b"))
    raises(perf_core.InvalidRuleError, r'"api": items\[0\]\.poor: must be at or above good',
           lambda: perf_core.Budget("api", items=[
               {"metric": "lat", "stat": "p95", "good": 300, "poor": 100}]))
    raises(perf_core.ArgumentTypeError, "rule must be a Rule or a dict, got int",
           lambda: monitor.add_rule(5))  # type: ignore[arg-type]
    raises(perf_core.ArgumentTypeError, "budget must be a Budget or a dict",
           lambda: monitor.add_budget(5))  # type: ignore[arg-type]
    rule = perf_core.Rule("dup", "m", stat="p95", threshold=1)
    monitor.add_rule(rule)
    raises(perf_core.InvalidRuleError, 'a rule named "dup" already exists',
           lambda: monitor.add_rule(rule))
    raises(perf_core.InvalidWindowError, "invalid window 3600s", lambda: monitor.add_rule(
        perf_core.Rule("long", "m", stat="p95", threshold=1, window=3600)))


def test_bad_alert_ids_and_callbacks(monitor: Monitor) -> None:
    raises(perf_core.UnknownAlertError, "id: no active alert with id 12345",
           lambda: monitor.acknowledge(12345))
    raises(perf_core.InvalidArgumentError, "id: must be within", lambda: monitor.acknowledge(-1))
    raises(perf_core.ArgumentTypeError, "callback must be callable, got int",
           lambda: monitor.on_alert(5))  # type: ignore[arg-type]
    raises(perf_core.ArgumentTypeError, "callback must be callable",
           lambda: monitor.emergency.on_change("x"))  # type: ignore[arg-type]
    raises(perf_core.InvalidConfigError, "interval: .*at least 1 ms", lambda: monitor.start(0))


def test_bad_emergency_input(monitor: Monitor) -> None:
    raises(perf_core.InvalidConfigError, "reason: .*must not be blank",
           lambda: monitor.emergency.activate("  "))
    # The section is read on its own (EmergencyConfig::from_json) and
    # applied with configure_emergency: fields are named within it.
    raises(perf_core.InvalidConfigError,
           r'invalid emergency configuration: triggers\[0\]\.rule: no rule named "nope"',
           lambda: monitor.emergency.configure({"triggers": [{"rule": "nope"}]}))
    raises(perf_core.InvalidConfigError, r"triggers\[0\]\.threshold: is required",
           lambda: monitor.emergency.configure({"triggers": [{"metric": "m", "stat": "p95"}]}))
    raises(perf_core.InvalidConfigError, "bogus: unknown field",
           lambda: monitor.emergency.configure('{"bogus": 1}'))
    assert not monitor.emergency.is_active()


def test_bad_baselines_and_policies(monitor: Monitor, tmp_path: Any) -> None:
    raises(perf_core.InvalidBaselineError, "cannot read",
           lambda: perf_core.Baseline.load(tmp_path / "missing.json"))
    (tmp_path / "corrupt.json").write_text('{"format": "perf-core-baseline", "vers')
    raises(perf_core.InvalidBaselineError, "corrupt.json",
           lambda: perf_core.Baseline.load(tmp_path / "corrupt.json"))
    raises(perf_core.InvalidBaselineError, "json: invalid baseline",
           lambda: perf_core.Baseline.from_json("{}"))
    raises(perf_core.PerfIOError, "I/O error on /no/such/dir/b.json",
           lambda: monitor.baseline("v").save("/no/such/dir/b.json"))
    raises(perf_core.InvalidConfigError, "alpha: 2 must be within", lambda: perf_core.Policy(alpha=2))
    raises(perf_core.InvalidArgumentError, 'statistics: percentile "p101"',
           lambda: perf_core.Policy(statistics=["p101"]))
    raises(perf_core.InvalidArgumentError, "thresholds: ",
           lambda: perf_core.Policy(thresholds={"median-ish": 0.1}))
    raises(perf_core.InvalidConfigError, "runs: .*at least one run",
           lambda: perf_core.Baseline.from_runs("v", []))


def test_bad_hdr_input(monitor: Monitor) -> None:
    raises(perf_core.InvalidValueError, "encoded: invalid HdrHistogram snapshot",
           lambda: monitor.import_hdr("h", "garbage"))
    raises(perf_core.UnknownSeriesError, "no series nope", lambda: monitor.export_hdr("nope"))
    assert monitor.series() == []


def test_wrong_types_of_other_str_arguments(monitor: Monitor) -> None:
    bad: Any = 5
    cases: list[tuple[str, Callable[[], object]]] = [
        ("name must be a str", lambda: perf_core.Rule(bad, "m", stat="p95", threshold=1)),
        ("metric must be a str", lambda: perf_core.Rule("r", bad, stat="p95", threshold=1)),
        ("name must be a str", lambda: perf_core.Budget(bad, limits={"p95": 1})),
        ("metric must be a str", lambda: perf_core.Budget.api_latency("b", bad, 1, 2, 3)),
        ("name must be a str", lambda: monitor.remove_rule(bad)),
        ("name must be a str", lambda: monitor.remove_budget(bad)),
        ("reason must be a str", lambda: monitor.emergency.activate(bad)),
        ("reason must be a str", lambda: monitor.emergency.deactivate(bad)),
        ("version must be a str", lambda: monitor.baseline(bad)),
        ("key must be a str", lambda: monitor.baseline("v").with_metadata(bad, "x")),
        ("json must be a str", lambda: perf_core.Baseline.from_json(bad)),
        ("version must be a str", lambda: perf_core.Baseline.from_runs(bad, [])),
        ("encoded must be a str", lambda: monitor.import_hdr("h", bad)),
    ]
    for match, call in cases:
        info = raises(perf_core.ArgumentTypeError, match, call)
        assert isinstance(info.value, TypeError)


def test_arity_of_record_and_timer(monitor: Monitor) -> None:
    anything: Any = monitor
    raises(perf_core.ArgumentTypeError, r"record\(\) takes 2 to 3 positional arguments .*got 0",
           lambda: anything.record())
    raises(perf_core.ArgumentTypeError, "got 1", lambda: anything.record("m"))
    raises(perf_core.ArgumentTypeError, "got 4", lambda: anything.record("m", 1.0, None, 4))
    raises(perf_core.ArgumentTypeError, r"timer\(\) takes 1 to 2 positional arguments",
           lambda: anything.timer())
    raises(perf_core.InvalidTagError, "duplicate tag key",
           lambda: monitor.record("m", 1.0, {"x": "1"}, x="2"))
    assert monitor.series() == []


@pytest.mark.parametrize("call", [
    lambda m, name: m.record(name, 1.0),
    lambda m, name: m.histogram(name),
    lambda m, name: m.counter(name),
    lambda m, name: m.gauge(name),
])
def test_an_unpaired_surrogate_in_a_name_is_an_invalid_name(call) -> None:  # type: ignore[no-untyped-def]
    monitor = perf_core.Monitor()
    name = b"latency\xff".decode("utf-8", "surrogateescape")  # "latency\udcff"
    with pytest.raises(perf_core.InvalidNameError, match="unpaired surrogate") as caught:
        call(monitor, name)
    assert isinstance(caught.value, perf_core.PerfError)
    assert monitor.series() == []


@pytest.mark.parametrize("tags", [{"route": "/a\ud800"}, {"rou\ud800te": "/a"}])
def test_an_unpaired_surrogate_in_a_tag_is_an_invalid_tag(tags: dict[str, str]) -> None:
    monitor = perf_core.Monitor()
    with pytest.raises(perf_core.InvalidTagError, match="unpaired surrogate"):
        monitor.record("latency", 1.0, tags)
    with pytest.raises(perf_core.InvalidTagError):
        monitor.histogram("latency", **tags)
    assert monitor.series() == []


def test_error_messages_quote_a_short_prefix_of_huge_input() -> None:
    monitor = perf_core.Monitor()
    with pytest.raises(perf_core.InvalidNameError) as caught:
        monitor.record("9" + "a" * (1 << 20), 1.0)
    assert len(str(caught.value)) < 300
    assert "1048577 bytes in all" in str(caught.value)


def test_core_errors_carry_the_core_error_code(monitor: Monitor) -> None:
    # Several codes share a class; `code` tells them apart.
    rule = perf_core.Rule("dup", "m", stat="p95", threshold=1)
    monitor.add_rule(rule)
    codes: list[tuple[str, Callable[[], object]]] = [
        ("duplicate_rule", lambda: monitor.add_rule(rule)),
        ("invalid_rule", lambda: perf_core.Rule("r", "m", stat="p95")),
        ("invalid_rules_json", lambda: monitor.load_rules("{")),
        ("invalid_percentile", lambda: monitor.stats("h").percentile(101)),
        ("invalid_value", lambda: monitor.record("h", -1.0)),
        ("unknown_series", lambda: monitor.stats("nope")),
        ("invalid_emergency", lambda: monitor.emergency.configure({"bogus": 1})),
    ]
    monitor.record("h", 1.0)
    for code, call in codes:
        with pytest.raises(perf_core.PerfError) as caught:
            call()
        assert caught.value.code == code, (code, caught.value)
    # The binding's own argument checks have no core code.
    with pytest.raises(perf_core.ArgumentTypeError) as wrong:
        monitor.record("h", "x")  # type: ignore[arg-type]
    assert wrong.value.code is None
    assert perf_core.PerfError("by hand").code is None
