"""`Monitor.serve_metrics`: the core's HTTP endpoint, scraped over loopback."""

from __future__ import annotations

import threading
import urllib.error
import urllib.request

import pytest

import perf_core
from perf_core import MetricsServer, Monitor


def get(url: str, accept: str | None = None) -> tuple[int, str, str]:
    request = urllib.request.Request(url)
    if accept is not None:
        request.add_header("Accept", accept)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.headers["Content-Type"], err.read().decode()


def test_metrics_are_served_over_http_until_closed() -> None:
    m = Monitor()
    m.record("http.duration", 12.0, route="/")
    server = m.serve_metrics(global_labels={"service": "api"}, units={"http.duration": "ms"})
    assert isinstance(server, MetricsServer) and server.running
    assert server.host == "127.0.0.1" and server.port != 0
    assert server.address == f"127.0.0.1:{server.port}"
    assert server.url == f"http://127.0.0.1:{server.port}/metrics"
    status, content_type, body = get(server.url)
    assert status == 200 and content_type.startswith("text/plain")
    assert 'http_duration_ms_count{route="/",service="api"} 1\n' in body
    # Every scrape reads the registry now.
    m.record("http.duration", 30.0, route="/")
    assert 'http_duration_ms_count{route="/",service="api"} 2\n' in get(server.url)[2]
    # OpenMetrics when the scraper asks for it.
    status, content_type, body = get(server.url, accept="application/openmetrics-text")
    assert content_type.startswith("application/openmetrics-text") and body.endswith("# EOF\n")
    assert get(f"http://{server.address}/nope")[0] == 404
    server.close()
    assert not server.running and "closed" in repr(server)
    server.close()  # idempotent
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(server.url, timeout=5)


def test_serve_metrics_is_a_context_manager_and_takes_limits() -> None:
    m = Monitor()
    m.counter("jobs").inc(3)
    with m.serve_metrics("127.0.0.1:0", connection_limit=4, header_read_timeout=2,
                         write_timeout=2.5, max_head=32 << 10, max_request_line=16 << 10) as server:
        assert "jobs_total 3\n" in get(server.url)[2]
    assert not server.running


def test_serving_does_not_need_the_gil() -> None:
    m = Monitor()
    m.record("h", 1.0)
    with m.serve_metrics() as server:
        # A scrape from another thread while this one holds the GIL in
        # Python code: the server answers from the core's own thread.
        results: list[int] = []
        scraper = threading.Thread(target=lambda: results.append(get(server.url)[0]))
        scraper.start()
        scraper.join(timeout=20)
        assert results == [200]


def test_bad_server_arguments() -> None:
    m = Monitor()
    with pytest.raises(perf_core.InvalidConfigError, match="connection_limit"):
        m.serve_metrics(connection_limit=0)
    with pytest.raises(perf_core.InvalidConfigError, match="header_read_timeout"):
        m.serve_metrics(header_read_timeout=0.001)
    with pytest.raises(perf_core.InvalidConfigError, match="max_request_line"):
        m.serve_metrics(max_request_line=1)
    with pytest.raises(perf_core.InvalidTagError, match='invalid tag "le"'):
        m.serve_metrics(global_labels={"le": "1"})
    with pytest.raises(perf_core.ArgumentTypeError, match="addr must be a str, got int"):
        m.serve_metrics(80)  # type: ignore[arg-type]
    with pytest.raises(perf_core.PerfIOError):
        m.serve_metrics("not an address")
    with m.serve_metrics() as first, pytest.raises(perf_core.PerfIOError):
        m.serve_metrics(first.address)  # the port is taken
