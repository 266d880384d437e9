"""Exports: Prometheus, OpenMetrics, JSON, CSV and HdrHistogram V2
(checked against the `hdrhistogram` package)."""

from __future__ import annotations

import json
from typing import Any, Callable

import pytest
from hdrh.histogram import HdrHistogram

import perf_core
from perf_core import ManualClock, Monitor


def populated() -> Monitor:
    m = Monitor(clock=ManualClock(1_700_000_000))
    for v in (1.5, 2.0, 250.0):
        m.record("http.duration", v, route="/")
    m.counter("jobs.done", queue="mail").inc(3)
    m.gauge("queue.depth").set(7)
    return m


def test_prometheus_text() -> None:
    text = populated().export_prometheus()
    assert "# TYPE jobs_done_total counter\n" in text
    assert 'jobs_done_total{queue="mail"} 3\n' in text
    assert "# TYPE http_duration histogram\n" in text
    assert 'http_duration_count{route="/"} 3\n' in text
    assert "queue_depth 7\n" in text


def test_openmetrics_text() -> None:
    text = populated().export_openmetrics()
    assert "# TYPE jobs_done counter\n" in text and text.endswith("# EOF\n")


def test_json_export() -> None:
    doc = json.loads(populated().export_json())
    assert doc["format"] == "perf-core-export"
    assert doc["timestamp_unix_nanos"] == 1_700_000_000 * 10**9
    series = {s["name"]: s for s in doc["series"]}
    assert series["http.duration"]["count"] == 3 and series["http.duration"]["max"] == 250.0
    assert series["jobs.done"]["value"] == 3
    with_buckets = json.loads(populated().export_json(histograms=True))
    assert "histogram" in {s["name"]: s for s in with_buckets["series"]}["http.duration"]


def test_csv_export() -> None:
    lines = populated().export_csv().splitlines()
    assert lines[0] == "timestamp,metric,tags,stat,value"
    assert "2023-11-14T22:13:20.000Z,jobs.done,queue=mail,value,3" in lines
    assert any(line.startswith("2023-11-14T22:13:20.000Z,http.duration,route=/,count,3")
               for line in lines)


def test_hdr_export_decodes_with_the_hdrhistogram_package_and_merges() -> None:
    m = populated()
    encoded = m.export_hdr("http.duration", route="/")
    assert encoded.startswith("HISTF")
    decoded = HdrHistogram.decode(encoded)
    assert decoded.get_total_count() == 3
    # Values are thousandths of a millisecond (microseconds).
    assert abs(decoded.get_max_value() - 250_000) <= 250_000 * 0.01
    other = Monitor()
    other.import_hdr("http.duration", encoded, {"route": "/"})
    other.import_hdr("http.duration", encoded, route="/")
    stats = other.stats("http.duration", route="/")
    assert stats.count == 6 and abs(stats.max - 250.0) <= 2.5
    # A histogram written by the hdrhistogram package imports too.
    theirs = HdrHistogram(1, 60_000_000, 3)
    for us in (1_000, 2_000, 3_000):
        theirs.record_value(us)
    other.import_hdr("from.python", theirs.encode().decode())
    assert other.stats("from.python").count == 3
    assert abs(other.stats("from.python").p50 - 2.0) <= 0.02


def test_hdr_options_scale_and_significant_digits() -> None:
    m = Monitor()
    m.record("payload.bytes", 1_500.0, kind="json")
    # scale=1: whole units, as Node's exportHdr(name, tags, {scale: 1}).
    whole = m.export_hdr("payload.bytes", kind="json", scale=1, significant_digits=2)
    assert HdrHistogram.decode(whole).get_max_value() == pytest.approx(1_500, rel=0.01)
    assert whole != m.export_hdr("payload.bytes", {"kind": "json"})
    # Importing with the same scale gives the values back.
    other = Monitor()
    other.import_hdr("payload.bytes", whole, scale=1, kind="json")
    assert other.stats("payload.bytes", kind="json").max == pytest.approx(1_500, rel=0.01)
    # A tag named like an option goes in the positional mapping.
    m.record("q", 2.0, {"scale": "x"})
    assert m.export_hdr("q", {"scale": "x"}, scale=1e6).startswith("HISTF")
    with pytest.raises(perf_core.InvalidValueError, match="significant"):
        m.export_hdr("payload.bytes", kind="json", significant_digits=9)
    with pytest.raises(perf_core.InvalidValueError, match="scale"):
        other.import_hdr("payload.bytes", whole, scale=0, kind="json")
    with pytest.raises(perf_core.ArgumentTypeError, match="scale must be a real number"):
        m.export_hdr("payload.bytes", scale="big")  # type: ignore[arg-type]


def test_exposition_options() -> None:
    m = Monitor()
    m.record("http.duration", 12.0, route="/")
    m.counter("jobs").inc()
    text = m.export_prometheus(global_labels={"service": "api"},
                               help={"http.duration": "Request latency"},
                               units={"http.duration": "milliseconds"},
                               buckets={"http.duration": [10, 100]})
    assert "# HELP http_duration_milliseconds Request latency\n" in text
    assert 'http_duration_milliseconds_bucket{route="/",service="api",le="10"} 0\n' in text
    assert 'http_duration_milliseconds_bucket{route="/",service="api",le="100"} 1\n' in text
    assert 'jobs_total{service="api"} 1\n' in text
    summary = m.export_openmetrics(summaries={"http.duration": [0.5, 0.99]})
    assert "# TYPE http_duration summary\n" in summary
    assert 'http_duration{route="/",quantile="0.99"} 12.0\n' in summary
    everywhere = m.export_prometheus(default_buckets=[1, 20])
    assert 'http_duration_bucket{route="/",le="20"} 1\n' in everywhere
    quantiles = m.export_prometheus(default_summary=[0.5])
    assert 'http_duration{route="/",quantile="0.5"} 12\n' in quantiles


def test_bad_exposition_options() -> None:
    m = Monitor()
    bad: Any = 5
    cases: list[tuple[type[Exception], str, Callable[[], object]]] = [
        # The core's messages (ExpositionOptions::config), unchanged.
        (perf_core.InvalidTagError, '^invalid tag "le": key is reserved',
         lambda: m.export_prometheus(global_labels={"le": "x"})),
        (perf_core.InvalidConfigError, "^invalid configuration: buckets: .*increasing",
         lambda: m.export_prometheus(buckets={"h": [5, 1]})),
        (perf_core.InvalidConfigError, "^invalid configuration: default_summary: .*within \\[0, 1\\]",
         lambda: m.export_openmetrics(default_summary=[2.0])),
        (perf_core.InvalidConfigError, "^invalid configuration: units: ", lambda: m.export_prometheus(units={"x": "a b"})),
        (perf_core.ArgumentTypeError, 'serve_metrics\\(\\) got an unexpected keyword argument "bogus"',
         lambda: m.serve_metrics(bogus=1)),  # type: ignore[call-arg]
        (perf_core.ArgumentTypeError, 'unexpected keyword argument "bogus"',
         lambda: m.export_prometheus(bogus=1)),  # type: ignore[call-arg]
        (perf_core.ArgumentTypeError, "global_labels must be a dict of str to str, got int",
         lambda: m.export_openmetrics(global_labels=bad)),
    ]
    for exc, match, call in cases:
        with pytest.raises(exc, match=match):
            call()


def test_exposition_options_given_as_none_are_left_out() -> None:
    m = Monitor()
    m.record("h", 12.0)
    assert m.export_prometheus(global_labels=None, buckets=None,
                               default_summary=None) == m.export_prometheus()


def test_export_by_format_name_and_content_types(monitor: Monitor) -> None:
    monitor.record("api.latency", 12.0)
    assert set(perf_core.CONTENT_TYPES) == {"prometheus", "openmetrics", "json", "csv", "protobuf"}
    assert perf_core.CONTENT_TYPES["json"] == "application/json"
    assert monitor.export("prometheus") == monitor.export_prometheus()
    assert monitor.export("openmetrics") == monitor.export_openmetrics()
    assert monitor.export("csv") == monitor.export_csv()
    assert monitor.export("json").startswith("{")
    with pytest.raises(perf_core.InvalidConfigError, match="unknown export format"):
        monitor.export("xml")
