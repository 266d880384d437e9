"""Emergency mode: triggers, dwell, manual switching, history, status and
listeners (including one that raises)."""

from __future__ import annotations

import logging

import pytest

import perf_core

from perf_core import EmergencyTransition, ManualClock, Monitor, Rule

TRIGGER = {"name": "slow-api", "metric": "api.latency", "stat": "p95", "threshold": 1000,
           "window": 60, "min_samples": 5, "for_": 30}


def test_triggers_switch_the_mode_on_and_off(monitor: Monitor, clock: ManualClock) -> None:
    seen: list[EmergencyTransition] = []
    monitor.emergency.on_change(seen.append)
    monitor.emergency.configure({"triggers": [TRIGGER], "clear_for": 60, "min_dwell": 120})
    assert monitor.emergency.config()["min_dwell"] == "2m"
    for _ in range(10):
        monitor.record("api.latency", 2000.0)
    monitor.evaluate()
    assert not monitor.emergency.is_active()  # `for` 30 s not yet held
    clock.advance(31)
    monitor.record("api.latency", 2000.0)
    monitor.evaluate()
    assert monitor.emergency.is_active() and bool(monitor.emergency)
    assert monitor.flush_notifications()  # listeners run on their own thread
    [on] = seen
    assert (on.change, on.source, on.triggers, on.at, on.dwell) == (
        "activated", "triggers", ["slow-api"], 1031.0, 120.0)
    assert on.values[0].value == 2000.0 and on.values[0].op == ">"
    status = monitor.emergency.status()
    assert status.active and not status.manual and status.since == 1031.0
    assert status.triggers[0].holding and status.triggers[0].name == "slow-api"
    # The window empties; after clear_for and the dwell the mode ends.
    for _ in range(20):
        clock.advance(10)
        monitor.record("api.latency", 5.0)
        monitor.evaluate()
    assert not monitor.emergency.is_active()
    assert [t.change for t in monitor.emergency.history()] == ["activated", "deactivated"]
    assert monitor.emergency.flush_notifications(timeout=5)
    assert seen == monitor.emergency.history()


def test_manual_activation_holds_until_deactivated(monitor: Monitor) -> None:
    e = monitor.emergency
    assert e.activate("load test") is True
    assert e.activate("again") is False
    assert e.is_active() and e.status().manual
    monitor.evaluate()
    assert e.is_active()
    assert e.deactivate("done") is True and not e.is_active()
    assert e.deactivate("done") is False
    assert [(t.change, t.source, t.reason) for t in e.history()] == [
        ("activated", "manual", "load test"), ("deactivated", "manual", "done")]
    assert "Emergency(active=False)" == repr(e)


def test_rule_reference_triggers_come_from_rules_documents(
    monitor: Monitor, clock: ManualClock
) -> None:
    monitor.load_rules({"version": 1,
                        "rules": [Rule("slow", "api.latency", stat="p95", threshold=500)],
                        "emergency": {"triggers": [{"rule": "slow", "severity": "warning"}]}})
    monitor.record("api.latency", 900.0)
    monitor.evaluate()
    assert monitor.emergency.is_active()


def test_raising_listener_is_isolated(monitor: Monitor, caplog: pytest.LogCaptureFixture) -> None:
    calls: list[str] = []

    def broken(t: EmergencyTransition) -> None:
        raise ValueError("listener bug")

    first = monitor.emergency.on_change(broken)
    monitor.emergency.on_change(lambda t: calls.append(t.change))
    with caplog.at_level(logging.ERROR, logger="perf_core"):
        monitor.emergency.activate("x")
        assert monitor.flush_notifications()
    assert calls == ["activated"] and monitor.callback_errors == 1
    assert any("emergency callback" in r.getMessage() for r in caplog.records)
    assert monitor.emergency.remove_listener(first)
    assert not monitor.emergency.remove_listener(first)
    monitor.emergency.deactivate("y")
    assert monitor.flush_notifications()
    assert calls == ["activated", "deactivated"] and monitor.callback_errors == 1


def test_config_is_the_core_section(monitor: Monitor) -> None:
    assert monitor.emergency.config() == {}
    monitor.emergency.configure('{"min_dwell": "5m", "clear_for": "2m"}')
    assert monitor.emergency.config() == {"clear_for": "2m", "min_dwell": "5m"}
    # The section alone: the monitor's rules and budgets are untouched.
    monitor.add_rule(Rule("slow", "api.latency", stat="p95", threshold=500))
    monitor.emergency.configure({"triggers": [{"rule": "slow"}]})
    assert monitor.emergency.config() == {"triggers": [{"rule": "slow"}]}
    assert [r.name for r in monitor.rules()] == ["slow"]
    # A failed configure keeps the configuration in effect.
    with pytest.raises(perf_core.InvalidConfigError, match=r"triggers\[0\]\.rule"):
        monitor.emergency.configure({"triggers": [{"rule": "nope"}]})
    assert monitor.emergency.config() == {"triggers": [{"rule": "slow"}]}
    monitor.emergency.configure({})
    assert monitor.emergency.config() == {}
