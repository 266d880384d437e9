"""Baselines (capture, metadata, save, load, merge) and compare."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

import perf_core
from perf_core import Baseline, ManualClock, Monitor, Policy, compare


def run(latency_ms: float, n: int = 2000, seed: int = 1) -> Baseline:
    rng = random.Random(seed)
    m = Monitor(clock=ManualClock(50))
    h = m.histogram("api.latency", route="/a")
    for _ in range(n):
        h.record(rng.gauss(latency_ms, latency_ms * 0.05))
    m.counter("jobs").inc()  # counters are not part of baselines
    return m.baseline(f"v{latency_ms}", metadata={"commit": "abc123"})


def test_baseline_capture_and_accessors() -> None:
    b = run(100.0)
    assert (b.version, b.created, len(b)) == ("v100.0", 50.0, 1)
    assert b.metadata["commit"] == "abc123" and "perf_core" in b.metadata
    assert [str(k) for k in b.series] == ['api.latency{route="/a"}']
    stats = b.stats("api.latency", route="/a")
    assert stats is not None and stats.count == 2000
    assert stats.p50 == pytest.approx(100.0, rel=0.02)
    assert b.stats("api.latency") is None
    assert b.with_metadata("host", "ci-1").metadata["host"] == "ci-1"
    assert "host" not in b.metadata
    assert repr(b) == 'Baseline(version="v100.0", series=1)'


def test_save_load_and_json_round_trip(tmp_path: Path) -> None:
    b = run(100.0)
    path = tmp_path / "baseline.json"
    b.save(path)
    loaded = Baseline.load(str(path))
    assert loaded.to_json() == b.to_json()
    assert Baseline.from_json(b.to_json()).version == "v100.0"
    assert json.loads(b.to_json())["format"] == "perf-core-baseline"
    b.save(path)  # overwriting is atomic: the file is whole either way
    assert Baseline.load(path).version == "v100.0"


def test_from_runs_adds_histograms() -> None:
    merged = Baseline.from_runs("v1", [run(100.0, seed=1), run(100.0, seed=2)])
    stats = merged.stats("api.latency", route="/a")
    assert stats is not None and stats.count == 4000
    assert merged.metadata["runs"] == "2"


def test_compare_passes_unchanged_and_fails_regressed() -> None:
    base = run(100.0, seed=1)
    same = compare(base, run(100.0, seed=2), Policy(seed=7))
    assert same.passed and same.verdict == "pass" and same.regressions() == []
    slower = compare(base, run(150.0, seed=3), Policy(threshold=0.2, seed=7))
    assert not slower.passed and slower.verdict == "fail"
    row = slower.row("api.latency", "p95", route="/a")
    assert row is not None
    assert (row.verdict, row.statistic, row.series.tags) == ("regressed", "p95", {"route": "/a"})
    assert row.change == pytest.approx(0.5, abs=0.05) and row.p_value < 0.05
    assert slower.row("api.latency", "p95") is None
    assert {r.statistic for r in slower.regressions()} >= {"p50", "p95"}
    d = slower.to_dict()
    assert json.loads(slower.to_json()) == d
    assert slower.baseline_version == "v100.0" and slower.current_version == "v150.0"
    assert "p95" in str(slower) and "RegressionReport(verdict=\"fail\"" in repr(slower)
    assert 0 < slower.alpha < 1


def test_compare_reports_missing_and_added_series() -> None:
    a = Monitor()
    a.record("only.in.baseline", 1.0)
    b = Monitor()
    b.record("only.in.current", 1.0)
    report = compare(a.baseline("a"), b.baseline("b"))
    assert [k.name for k in report.missing] == ["only.in.baseline"]
    assert [k.name for k in report.added] == ["only.in.current"]
    assert report.rows == [] and report.passed


def test_policy_settings() -> None:
    p = Policy(statistics=["p50", "p99"], threshold=0.1, thresholds={"p99": 0.3}, alpha=0.01,
               min_samples=10, noise=0.02, resamples=200, seed=3)
    d = p.to_dict()
    assert d["statistics"] == ["p50", "p99"] and d["thresholds"] == {"p99": 0.3}
    assert (d["threshold"], d["alpha"], d["min_samples"], d["seed"]) == (0.1, 0.01, 10, 3)
    report = compare(run(100.0), run(100.0, seed=5), p)
    assert {r.statistic for r in report.rows} == {"p50", "p99"}
    assert "Policy(" in repr(p)
    with pytest.raises(perf_core.InvalidConfigError):
        Policy(resamples=0)


def test_regression_policy_from_a_rules_document() -> None:
    m = Monitor()
    assert m.regression_policy().to_dict() == Policy().to_dict()
    m.load_rules({"version": 1, "regression": {"threshold": 0.1, "alpha": 0.01}})
    policy = m.regression_policy()
    assert (policy.to_dict()["threshold"], policy.to_dict()["alpha"]) == (0.1, 0.01)
    report = compare(run(100.0), run(115.0, seed=2), policy)
    assert not report.passed  # +15 % fails a 10 % threshold
    assert compare(run(100.0), run(115.0, seed=2), Policy(seed=7)).passed
