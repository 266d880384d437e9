"""The quickstart example of docs/python.md runs and prints what it says."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import perf_core

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "python"


def test_quickstart_runs() -> None:
    out = subprocess.run([sys.executable, str(EXAMPLES / "quickstart.py")],
                         capture_output=True, text=True, timeout=120, check=True).stdout
    assert "count=4 p50=11.0 p95=230.0 max=230.0 ms" in out
    assert "job p50 = 40.0 ms" in out and "fetch p50 = 15.0 ms" in out
    assert "refused: value: invalid value NaN" in out
    assert 'alert: fired warning http.server.duration{method="GET",route="/users"} 250.0' in out
    assert "regression check: fail" in out and "REGRESSED" in out
    assert out.rstrip().endswith("# HELP db_query perf-core histogram db.query")


def test_flask_recipe_records_per_route() -> None:
    sys.path.insert(0, str(EXAMPLES))
    import flask_app

    monitor = perf_core.Monitor()
    client = flask_app.create_app(monitor).test_client()
    for i in range(25):
        assert client.get(f"/users/{i}").status_code == 200
    assert client.get("/nope").status_code == 404
    stats = monitor.stats("http.server.duration", method="GET", route="/users/<int:user_id>",
                          status="200")
    assert stats.count == 25 and 0 < stats.p50 <= stats.p99
    assert monitor.stats("http.server.duration", method="GET", route="unmatched",
                         status="404").count == 1
    text = client.get("/metrics").get_data(as_text=True)
    assert ('http_server_duration_count{method="GET",route="/users/<int:user_id>",'
            'status="200"} 25\n') in text


def test_django_recipe_records_per_route() -> None:
    sys.path.insert(0, str(EXAMPLES))
    import django
    import django_app
    from django.test import Client

    django.setup()
    client = Client()
    for i in range(25):
        assert client.get(f"/users/{i}").status_code == 200
    assert client.get("/").status_code == 200
    assert client.get("/nope").status_code == 404
    m = django_app.monitor
    assert m.stats("http.server.duration", method="GET", route="/users/<int:user_id>",
                   status="200").count == 25
    assert m.stats("http.server.duration", method="GET", route="/", status="200").count == 1
    assert m.stats("http.server.duration", method="GET", route="unmatched",
                   status="404").count == 1
    text = client.get("/metrics").content.decode()
    assert 'http_server_duration_count{method="GET",route="/",status="200"} 1\n' in text


def test_package_docstring_example() -> None:
    import doctest

    result = doctest.testmod(perf_core)
    assert result.attempted >= 3 and result.failed == 0
