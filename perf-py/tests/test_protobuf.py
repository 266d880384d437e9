"""`Monitor.export_protobuf` and the protobuf scrape of `serve_metrics`: the
Prometheus protobuf exposition with native histograms, read back with a
small protobuf reader (no protobuf package needed)."""

from __future__ import annotations

import urllib.request
from dataclasses import dataclass, field

import pytest

import perf_core
from perf_core import Monitor

PROTOBUF = "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited"
# What Prometheus sends with native histograms on.
PROMETHEUS_ACCEPT = (
    "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited,"
    "application/openmetrics-text;version=1.0.0;q=0.8,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
)
COUNTER, SUMMARY, HISTOGRAM = 0, 2, 4


def varint(data: bytes, at: int) -> tuple[int, int]:
    """The varint at `at` and the offset after it."""
    value = shift = 0
    while True:
        byte = data[at]  # IndexError on a truncated varint
        at += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, at
        shift += 7
        assert shift < 64, "varint too long"


def zigzag(n: int) -> int:
    return (n >> 1) ^ -(n & 1)


def fields(data: bytes) -> list[tuple[int, int | bytes]]:
    """A message's fields in order: (number, varint value or bytes); fixed
    64- and 32-bit fields as their raw bytes."""
    out: list[tuple[int, int | bytes]] = []
    at = 0
    while at < len(data):
        key, at = varint(data, at)
        number, wire = key >> 3, key & 7
        value: int | bytes
        if wire == 0:
            value, at = varint(data, at)
        elif wire == 2:
            size, at = varint(data, at)
            value = data[at:at + size]
            assert len(value) == size, "truncated field"
            at += size
        elif wire in (1, 5):
            size = 8 if wire == 1 else 4
            value = data[at:at + size]
            at += size
        else:
            raise AssertionError(f"wire type {wire}")
        out.append((number, value))
    assert at == len(data)
    return out


def delimited(data: bytes) -> list[bytes]:
    """The messages of a stream of varint-length-prefixed messages."""
    messages = []
    at = 0
    while at < len(data):
        size, at = varint(data, at)
        assert at + size <= len(data), "a length prefix runs past the end"
        messages.append(data[at:at + size])
        at += size
    return messages


@dataclass
class Family:
    name: str = ""
    type: int = -1
    metrics: list[list[tuple[int, int | bytes]]] = field(default_factory=list)

    def first(self, number: int) -> list[tuple[int, int | bytes]]:
        """The message field `number` of the first metric, decoded."""
        value = dict(self.metrics[0])[number]
        assert isinstance(value, bytes)
        return fields(value)


def families(data: bytes) -> dict[str, Family]:
    out = {}
    for message in delimited(data):
        family = Family()
        for number, value in fields(message):
            if number == 1 and isinstance(value, bytes):
                family.name = value.decode()
            elif number == 3 and isinstance(value, int):
                family.type = value
            elif number == 4 and isinstance(value, bytes):
                family.metrics.append(fields(value))
        out[family.name] = family
    return out


def native_counts(histogram: list[tuple[int, int | bytes]]) -> list[int]:
    """The native buckets' counts (positive_delta, field 13, zigzag)."""
    counts, count = [], 0
    for number, value in histogram:
        if number == 13 and isinstance(value, int):
            count += zigzag(value)
            counts.append(count)
    return counts


def recorded() -> Monitor:
    m = Monitor()
    for v in (0.5, 3.0, 40.0):
        m.record("db.query", v, route="/api")
    m.counter("jobs").inc(7)
    return m


def test_export_protobuf_decodes_with_native_histograms() -> None:
    m = recorded()
    data = m.export_protobuf()
    assert isinstance(data, bytes)
    found = families(data)
    assert set(found) == {"db_query", "jobs_total"}
    assert found["jobs_total"].type == COUNTER
    query = found["db_query"]
    assert query.type == HISTOGRAM and len(query.metrics) == 1
    histogram = dict((n, v) for n, v in query.first(7) if n != 3)
    assert histogram[1] == 3  # sample_count
    assert isinstance(histogram[5], int) and zigzag(histogram[5]) == 8  # schema
    assert 12 in histogram  # a positive span
    assert sum(native_counts(query.first(7))) == 3  # every sample in a native bucket
    assert any(n == 3 for n, _ in query.first(7))  # the classic buckets too
    # The same monitor gives the same bytes.
    assert m.export_protobuf() == data


def test_export_protobuf_options() -> None:
    m = recorded()
    assert m.export_protobuf(global_labels=None) == m.export_protobuf()
    found = families(m.export_protobuf(global_labels={"service": "api"},
                                       summaries={"db.query": [0.5]}))
    query = found["db_query"]
    assert query.type == SUMMARY
    labels = [fields(v) for n, v in query.metrics[0] if n == 1 and isinstance(v, bytes)]
    assert [(1, b"service"), (2, b"api")] in labels
    with pytest.raises(perf_core.InvalidConfigError, match="default_buckets"):
        m.export_protobuf(default_buckets=[5.0, 1.0])
    with pytest.raises(perf_core.InvalidTagError):
        m.export_protobuf(global_labels={"le": "1"})
    with pytest.raises(perf_core.ArgumentTypeError, match="export_protobuf\\(\\) got an unexpected"):
        m.export_protobuf(bucket={})  # type: ignore[call-arg]


def test_an_empty_monitor_exports_no_bytes() -> None:
    assert Monitor().export_protobuf() == b""


def test_protobuf_is_a_content_type_but_not_an_export_name() -> None:
    assert perf_core.CONTENT_TYPES["protobuf"] == PROTOBUF
    with pytest.raises(perf_core.InvalidConfigError, match="export_protobuf"):
        Monitor().export("protobuf")


def test_serve_metrics_answers_a_protobuf_scrape() -> None:
    m = recorded()
    with m.serve_metrics(global_labels={"service": "api"}) as server:
        request = urllib.request.Request(server.url, headers={"Accept": PROMETHEUS_ACCEPT})
        with urllib.request.urlopen(request, timeout=10) as response:
            content_type, body = response.headers["Content-Type"], response.read()
        # Without the protobuf Accept: text.
        with urllib.request.urlopen(server.url, timeout=10) as response:
            assert response.headers["Content-Type"].startswith("text/plain")
    assert content_type == PROTOBUF
    found = families(body)
    assert set(found) == {"db_query", "jobs_total"}
    assert found["db_query"].type == HISTOGRAM
    assert sum(native_counts(found["db_query"].first(7))) == 3
    assert body == m.export_protobuf(global_labels={"service": "api"})
