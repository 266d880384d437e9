"""Web Vitals recorded and rated by the core (`Monitor.record_web_vitals`,
`rate_web_vitals`)."""

from __future__ import annotations

from typing import Any

import pytest

import perf_core
from perf_core import Monitor


def test_record_web_vitals_records_every_vital_and_rates_it(monitor: Monitor) -> None:
    ratings = monitor.record_web_vitals(
        {"lcp": 3100, "inp": 120.0, "cls": 0.3, "ttfb": None}, page="/home")
    assert ratings == {"lcp": "needs-improvement", "inp": "good", "cls": "poor"}
    assert list(ratings) == ["lcp", "inp", "cls"]  # the core's order
    assert monitor.stats("web_vitals.lcp", page="/home").max == pytest.approx(3100, rel=0.01)
    assert monitor.stats("web_vitals.cls", {"page": "/home"}).count == 1
    names = {s.name for s in monitor.series()}
    assert names == {"web_vitals.lcp", "web_vitals.inp", "web_vitals.cls"}
    # They feed the Web Vitals budget.
    monitor.add_budget(perf_core.Budget.web_vitals())
    rows = {r.metric: r.rating for r in monitor.budget_report().rows if r.series}
    assert rows["web_vitals.cls"] == "poor"


def test_record_web_vitals_is_all_or_nothing(monitor: Monitor) -> None:
    with pytest.raises(perf_core.InvalidValueError, match="^vitals: "):
        monitor.record_web_vitals({"lcp": 1800, "inp": -5}, page="/")
    assert monitor.stats("web_vitals.lcp", page="/").count == 0
    assert monitor.histogram("web_vitals.inp", page="/").rejected == 1


def test_bad_web_vitals(monitor: Monitor) -> None:
    bad: Any = 5
    bad_value: Any = "low"
    with pytest.raises(perf_core.InvalidArgumentError,
                       match='unknown Web Vital "lpc" \\(use lcp, inp, cls, fcp, ttfb, fid\\)'):
        monitor.record_web_vitals({"lpc": 1})
    with pytest.raises(perf_core.ArgumentTypeError, match="vitals must be a mapping"):
        monitor.record_web_vitals(bad)
    with pytest.raises(perf_core.ArgumentTypeError, match="cls must be a real number"):
        perf_core.rate_web_vitals({"cls": bad_value})
    assert monitor.series() == []


def test_rate_web_vitals_uses_the_core_thresholds() -> None:
    # On a boundary a value gets the better rating.
    assert perf_core.rate_web_vitals(
        {"lcp": 2500, "inp": 500, "cls": 0.25, "fcp": 3000.1, "ttfb": 0, "fid": 100}
    ) == {"lcp": "good", "inp": "needs-improvement", "cls": "needs-improvement",
          "fcp": "poor", "ttfb": "good", "fid": "good"}
    assert perf_core.rate_web_vitals({}) == {}
