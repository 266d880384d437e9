"""Rules, budgets, evaluation, alerts and their callbacks, and the
background evaluator."""

from __future__ import annotations

import json
import logging
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest

import perf_core
from perf_core import AlertEvent, Budget, ManualClock, Monitor, Rule

LADDER = [{"severity": "warning", "threshold": 100}, {"severity": "critical", "threshold": 500}]


def slow_rule(**fields: object) -> Rule:
    return Rule("slow", "api.latency", stat="p95", levels=LADDER, **fields)


def test_rule_objects_round_trip_through_dicts() -> None:
    rule = slow_rule(for_=timedelta(seconds=10), clear_for=5, window=120,
                     tags={"route": "/a"}, description="p95 too high")
    d = rule.to_dict()
    assert d["for"] == "10s" and d["clear_for"] == "5s" and d["window"] == "2m"
    assert d["tags"] == {"route": "/a"} and d["description"] == "p95 too high"
    assert (rule.name, rule.metric) == ("slow", "api.latency")
    assert Rule.from_dict(d) == rule
    assert Rule.from_dict(json.dumps(d)) == rule
    assert rule != slow_rule()
    assert repr(rule).startswith("Rule({'name': 'slow'")


def test_budget_objects_and_presets() -> None:
    web = Budget.web_vitals()
    assert web.name == "web_vitals"
    items = web.to_dict()["items"]
    assert [(i["metric"], i["good"], i["poor"]) for i in items][:3] == [
        ("web_vitals.lcp", 2500.0, 4000.0), ("web_vitals.inp", 200.0, 500.0),
        ("web_vitals.cls", 0.1, 0.25)]
    api = Budget.api_latency("api", "http.duration", 50, 150, 300)
    assert [i["stat"] for i in api.to_dict()["items"]] == ["p50", "p95", "p99"]
    alerting = api.with_alerts(window=60, for_=30)
    assert alerting.to_dict()["alerts"] == {"window": "1m", "for": "30s"}
    custom = Budget("db", items=[{"metric": "db.query", "stat": "p95", "good": 20, "poor": 50}])
    assert Budget.from_dict(custom.to_dict()) == custom
    assert "Budget(" in repr(custom)


def test_rule_and_budget_dicts_are_the_core_items() -> None:
    # to_dict() is the core's Rule/Budget::to_json (settings at their
    # defaults left out, the shorthand threshold written as levels).
    rule = Rule("slow", "lat", stat="p999", threshold=5, for_=60)
    assert rule.to_dict() == {"name": "slow", "metric": "lat", "stat": "p99.9",
                              "levels": [{"severity": "warning", "threshold": 5.0}],
                              "for": "1m"}
    budget = Budget("b", metric="lat", limits={"p95": 300}, alerts={})
    assert budget.to_dict() == {"name": "b", "items": [
        {"metric": "lat", "stat": "p95", "good": 300.0}], "alerts": {}}
    assert Budget.from_dict(json.dumps(budget.to_dict())) == budget
    # One item, not a document: a document's keys are unknown fields.
    with pytest.raises(perf_core.InvalidRuleError, match="version: unknown field"):
        Rule.from_dict({"version": 1, "rules": []})


def test_durations_fields_come_from_the_core() -> None:
    from perf_core import _config, _native

    assert _config.DURATION_FIELDS is _native.DURATION_FIELDS
    assert perf_core.DURATION_FIELDS == frozenset(
        {"window", "for", "clear_for", "min_dwell", "flap_window", "max_dwell",
         "evaluate_every"})
    emergency = json.loads(_config.dumps({"evaluate_every": 2, "threshold": 2}))
    assert emergency == {"evaluate_every": "2000000000ns", "threshold": 2}


def test_rules_lists_what_the_core_lists(monitor: Monitor) -> None:
    # Rust's Monitor::rules(): the rules added, then those a budget with
    # `alerts` generates (named budget:<budget>:<metric>:<stat>).
    monitor.add_rule(slow_rule())
    monitor.add_budget(Budget.api_latency("api", "api.latency", 50, 150, 300).with_alerts())
    monitor.add_budget(Budget.web_vitals())  # no alerts: no rules
    assert [r.name for r in monitor.rules()] == [
        "slow", "budget:api:api.latency:p50", "budget:api:api.latency:p95",
        "budget:api:api.latency:p99"]
    assert all(r.metric == "api.latency" for r in monitor.rules())
    # A rules document lists the rules written, not the generated ones.
    assert [r["name"] for r in json.loads(monitor.rules_json())["rules"]] == ["slow"]
    monitor.remove_budget("api")
    assert [r.name for r in monitor.rules()] == ["slow"]


def test_add_list_remove_rules_and_budgets(monitor: Monitor) -> None:
    monitor.add_rule(slow_rule())
    monitor.add_rule({"name": "errors", "metric": "http.errors", "stat": "ratio",
                      "denominator": "http.requests", "threshold": 0.05})
    monitor.add_budget(Budget.api_latency("api", "api.latency", 50, 150, 300))
    monitor.add_budget({"name": "db", "metric": "db.query", "limits": {"p95": 20}})
    assert [r.name for r in monitor.rules()] == ["slow", "errors"]
    assert [b.name for b in monitor.budgets()] == ["api", "db"]
    assert monitor.rules()[0] == slow_rule()
    assert monitor.remove_rule("slow") and not monitor.remove_rule("slow")
    assert monitor.remove_budget("db") and not monitor.remove_budget("db")
    assert [r.name for r in monitor.rules()] == ["errors"]


def test_load_rules_from_json_dict_and_file(monitor: Monitor, tmp_path: Path) -> None:
    doc = {"version": 1,
           "rules": [{"name": "slow", "metric": "api.latency", "stat": "p95",
                      "threshold": 500, "for_": 60}],
           "budgets": [{"name": "web", "preset": "web_vitals"}]}
    assert monitor.load_rules(doc) == 2
    copy = Monitor()
    assert copy.load_rules(monitor.rules_json()) == 2
    assert copy.rules() == monitor.rules() and copy.budgets() == monitor.budgets()
    path = tmp_path / "rules.json"
    path.write_text(json.dumps({"version": 1, "rules": [slow_rule().to_dict()]}))
    third = Monitor()
    assert third.load_rules_file(path) == 1
    assert third.rules() == [slow_rule()]
    # A document may hold Rule and Budget objects.
    fourth = Monitor()
    assert fourth.load_rules({"version": 1, "rules": [slow_rule()],
                              "budgets": [Budget.web_vitals()]}) == 2


def test_load_rules_is_all_or_nothing(monitor: Monitor) -> None:
    monitor.add_rule(slow_rule())
    with pytest.raises(perf_core.InvalidRuleError, match="already exists"):
        monitor.load_rules({"version": 1, "rules": [
            {"name": "fresh", "metric": "m", "stat": "p95", "threshold": 1},
            {"name": "slow", "metric": "m", "stat": "p95", "threshold": 1}]})
    assert [r.name for r in monitor.rules()] == ["slow"]


def test_alert_lifecycle_with_for_escalation_ack_and_resolution(
    monitor: Monitor, clock: ManualClock
) -> None:
    monitor.add_rule(slow_rule(for_=10, clear_for=5, window=30))
    h = monitor.histogram("api.latency", route="/a")
    for _ in range(50):
        h.record(200.0)
    assert monitor.evaluate() == []  # pending: `for` not yet held
    clock.advance(11)
    h.record(200.0)
    [fired] = monitor.evaluate()
    assert (fired.kind, fired.rule, fired.severity, fired.value, fired.threshold) == (
        "fired", "slow", "warning", 200.0, 100.0)
    assert fired.series.name == "api.latency" and fired.series.tags == {"route": "/a"}
    assert str(fired.series) == 'api.latency{route="/a"}'
    assert fired.at == 1011.0
    [alert] = monitor.alerts()
    assert (alert.id, alert.state, alert.acknowledged) == (fired.id, "firing", False)
    monitor.acknowledge(fired.id)
    assert monitor.alerts()[0].acknowledged
    for _ in range(200):
        h.record(900.0)
    [escalated] = monitor.evaluate()
    assert (escalated.kind, escalated.severity, escalated.previous_severity) == (
        "escalated", "critical", "warning")
    clock.advance(31)  # the window empties: no data keeps the last state
    assert monitor.evaluate() == []
    for _ in range(100):
        h.record(10.0)
    kinds = [e.kind for e in monitor.evaluate()]
    assert kinds == ["recovered"]
    clock.advance(6)
    h.record(10.0)
    assert [e.kind for e in monitor.evaluate()] == ["resolved"]
    assert monitor.alerts() == []
    history = [e.kind for e in monitor.alert_history()]
    assert history == ["fired", "escalated", "recovered", "resolved"]
    assert fired.to_dict()["series"] == {"name": "api.latency", "tags": {"route": "/a"}}


def test_on_alert_callbacks_receive_events_in_order(
    monitor: Monitor, clock: ManualClock
) -> None:
    seen: list[AlertEvent] = []
    sub = monitor.on_alert(seen.append)
    monitor.add_rule(slow_rule())
    monitor.record("api.latency", 1000.0)
    events = monitor.evaluate()
    assert monitor.flush_notifications()  # callbacks run on their own thread
    assert seen == events and [e.kind for e in seen] == ["fired"]
    assert monitor.remove_alert_callback(sub) and not monitor.remove_alert_callback(sub)
    clock.advance(3600)
    monitor.record("api.latency", 1000.0)
    monitor.evaluate()
    assert monitor.flush_notifications()
    assert len(seen) == 1


def test_a_raising_callback_is_logged_and_isolated(
    monitor: Monitor, caplog: pytest.LogCaptureFixture
) -> None:
    after: list[str] = []

    def broken(event: AlertEvent) -> None:
        raise RuntimeError(f"callback bug on {event.rule}")

    monitor.on_alert(broken)
    monitor.on_alert(lambda e: after.append(e.kind))
    monitor.add_rule(slow_rule())
    monitor.record("api.latency", 1000.0)
    with caplog.at_level(logging.ERROR, logger="perf_core"):
        events = monitor.evaluate()
        assert monitor.flush_notifications()
    assert [e.kind for e in events] == ["fired"] and after == ["fired"]
    assert monitor.callback_errors == 1
    [log] = [r for r in caplog.records if r.name == "perf_core"]
    assert "on_alert callback" in log.getMessage()
    assert log.exc_info is not None and "callback bug on slow" in str(log.exc_info[1])


def test_background_evaluator_calls_back_from_its_thread() -> None:
    monitor = Monitor()
    monitor.add_rule(slow_rule())
    fired = threading.Event()
    threads: list[str] = []

    def on_alert(event: AlertEvent) -> None:
        threads.append(threading.current_thread().name)
        fired.set()

    monitor.on_alert(on_alert)
    monitor.record("api.latency", 1000.0)
    with monitor.start(0.01) as evaluator:
        assert evaluator.running and monitor.is_evaluating
        assert fired.wait(5.0)
    assert not monitor.is_evaluating and not evaluator.running
    assert threads and threads[0] != threading.main_thread().name
    assert monitor.alerts()[0].rule == "slow"


def test_start_stop_and_restart() -> None:
    monitor = Monitor()
    evaluator = monitor.start(timedelta(milliseconds=5))
    assert monitor.is_evaluating
    monitor.start(0.01)  # replaces the running one
    evaluator.stop()
    assert not monitor.is_evaluating
    monitor.stop()  # nothing runs: no-op


def test_a_callback_may_call_back_into_the_monitor(monitor: Monitor) -> None:
    seen: list[int] = []

    def reentrant(event: AlertEvent) -> None:
        seen.append(len(monitor.alerts()))
        monitor.record("api.latency", 1.0)
        monitor.stop()

    monitor.on_alert(reentrant)
    monitor.add_rule(slow_rule())
    monitor.record("api.latency", 1000.0)
    monitor.evaluate()
    assert monitor.flush_notifications()
    assert seen == [1]


def test_a_blocking_callback_delays_neither_evaluation_nor_emergency_mode(
    monitor: Monitor, clock: ManualClock
) -> None:
    release = threading.Event()
    monitor.on_alert(lambda event: release.wait(10))
    monitor.load_rules({"version": 1, "rules": [slow_rule()],
                        "emergency": {"triggers": [{"rule": "slow", "severity": "warning"}]}})
    monitor.record("api.latency", 1000.0)
    started = time.monotonic()
    for _ in range(5):
        clock.advance(1)
        monitor.evaluate()
    assert time.monotonic() - started < 0.5
    assert monitor.emergency.is_active()
    assert not monitor.flush_notifications(timeout=0.05)
    release.set()
    assert monitor.flush_notifications()
    assert monitor.notifications_dropped == 0


def test_remove_alert_callback_waits_for_a_delivery_in_progress(monitor: Monitor) -> None:
    started, finished = threading.Event(), threading.Event()

    def slow(event: AlertEvent) -> None:
        started.set()
        time.sleep(0.2)
        finished.set()

    sub = monitor.on_alert(slow)
    monitor.add_rule(slow_rule())
    monitor.record("api.latency", 1000.0)
    monitor.evaluate()
    assert started.wait(5)
    assert monitor.remove_alert_callback(sub)
    assert finished.is_set()  # the callback had returned


def test_a_full_notification_queue_drops_and_counts() -> None:
    monitor = Monitor(clock=ManualClock(0), notification_capacity=1)
    release = threading.Event()
    monitor.on_alert(lambda event: release.wait(10))
    for i in range(5):
        monitor.add_rule(Rule(f"slow{i}", f"lat{i}", stat="p95", threshold=500))
        monitor.record(f"lat{i}", 1000.0)
    assert len(monitor.evaluate()) == 5
    assert monitor.notifications_dropped in (3, 4)
    release.set()
    assert monitor.flush_notifications()
    assert "perf_core_notifications_dropped_total" in monitor.export_prometheus()
    with pytest.raises(perf_core.InvalidConfigError):
        Monitor(notification_capacity=0)


def test_budget_report(monitor: Monitor) -> None:
    monitor.add_budget(Budget.api_latency("api", "api.latency", 50, 150, 300))
    h = monitor.histogram("api.latency", route="/a")
    for _ in range(100):
        h.record(200.0)
    report = monitor.budget_report()
    assert report.at == 1000.0
    assert [(r.stat, r.rating) for r in report.rows] == [
        ("p50", "poor"), ("p95", "poor"), ("p99", "good")]
    row = report.rows[2]
    assert (row.budget, row.metric, row.count, row.value, row.good, row.headroom) == (
        "api", "api.latency", 100, 200.0, 300.0, 100.0)
    assert row.series is not None and row.series.tags == {"route": "/a"}
    assert report.worst == "poor"
    assert "api.latency{route=\"/a\"}" in str(report)
    assert report.to_dict()["rows"][0]["rating"] == "poor"


def test_budget_alerts_fire_through_evaluate(monitor: Monitor) -> None:
    monitor.add_budget(Budget.api_latency("api", "api.latency", 50, 150, 300).with_alerts())
    for _ in range(10):
        monitor.record("api.latency", 1000.0)
    events = monitor.evaluate()
    assert {e.severity for e in events} == {"critical"} and len(events) == 3


def test_time_to_fire_uses_the_manual_clock(monitor: Monitor, clock: ManualClock) -> None:
    monitor.add_rule(slow_rule(for_="2m"))
    for _ in range(11):
        monitor.record("api.latency", 1000.0)
        clock.advance(10)
        monitor.evaluate()
    assert monitor.alerts() == []  # 110 s: `for` has not held yet
    for _ in range(2):
        monitor.record("api.latency", 1000.0)
        clock.advance(10)
        monitor.evaluate()
    assert [a.rule for a in monitor.alerts()] == ["slow"]


def test_durations_in_documents_accept_strings_seconds_and_timedeltas() -> None:
    rule = slow_rule(window="90s", for_=timedelta(minutes=2), clear_for=0.5,
                     repeat={"warning": 7200, "critical": timedelta(minutes=10)})
    d = rule.to_dict()
    assert (d["window"], d["for"], d["clear_for"]) == ("1m 30s", "2m", "500ms")
    assert d["repeat"] == {"warning": "2h", "critical": "10m"}
    with pytest.raises(perf_core.InvalidRuleError, match='invalid rule "": window: expected value'):
        slow_rule(window=float("nan"))
