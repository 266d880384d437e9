"""The FastAPI example (examples/python/fastapi_service.py) served by
uvicorn in its own process on a loopback socket, under bounded real HTTP
load from threads: checks the recorded counts and percentiles through
/perf, the Prometheus exposition through /metrics, that the
slow-route rule fires for the slow route only, and Web Vitals through
/vitals."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "python"
FAST_REQUESTS = 3000
SLOW_REQUESTS = 60
SLOW_MS = 400.0
FAILED_REQUESTS = 40
CLIENT_THREADS = 8


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """The service's base URL; the server is stopped afterwards."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    env = dict(os.environ, PERF_APP_EVALUATE_EVERY="0.2")
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "fastapi_service:app", "--app-dir", str(EXAMPLE),
         "--fd", str(sock.fileno()), "--log-level", "info", "--no-access-log"],
        pass_fds=[sock.fileno()], env=env, stderr=subprocess.PIPE, text=True)
    sock.close()
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, process)
        yield url
    finally:
        process.terminate()
        try:
            _, stderr = process.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            _, stderr = process.communicate()
        # uvicorn shuts down gracefully, then re-raises SIGTERM.
        assert process.returncode in (0, -15), stderr
        assert "Finished server process" in stderr, stderr
        assert "Traceback" not in stderr, stderr


def wait_until_up(url: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()[1]
        try:
            httpx.get(f"{url}/perf", timeout=1.0)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("the example did not start within 30 s")


def drive_load(url: str) -> None:
    """Fast, slow and failing requests from several threads at once."""
    paths = ([f"/users/{i}" for i in range(FAST_REQUESTS)]
             + [f"/search?q=x&delay_ms={SLOW_MS}"] * SLOW_REQUESTS
             + ["/fail"] * FAILED_REQUESTS)
    chunks = [paths[i::CLIENT_THREADS] for i in range(CLIENT_THREADS)]

    def client(chunk: list[str]) -> list[int]:
        with httpx.Client(base_url=url, timeout=30.0) as http:
            return [http.get(path).status_code for path in chunk]

    with ThreadPoolExecutor(CLIENT_THREADS) as pool:
        statuses = [s for chunk in pool.map(client, chunks) for s in chunk]
    assert statuses.count(200) == FAST_REQUESTS + SLOW_REQUESTS
    assert statuses.count(503) == FAILED_REQUESTS


def series(perf: dict[str, Any], route: str, status: str) -> dict[str, Any]:
    rows: list[dict[str, Any]] = [
        r for r in perf["routes"]
        if r["tags"] == {"method": "GET", "route": route, "status": status}]
    assert len(rows) == 1, perf["routes"]
    return rows[0]


def test_counts_percentiles_metrics_and_alerts(server: str) -> None:
    drive_load(server)
    users = series(httpx.get(f"{server}/perf").json(), "/users/{user_id}", "200")
    assert users["total"]["count"] == FAST_REQUESTS
    assert users["last_60s"]["count"] == FAST_REQUESTS
    assert 0 < users["total"]["p50"] <= users["total"]["p95"] <= users["total"]["p99"]
    assert users["total"]["p50"] < SLOW_MS

    # The slow route's p95 is above 250 ms for longer than `for`: it fires.
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        perf = httpx.get(f"{server}/perf").json()
        if any(a["rule"] == "slow-route" for a in perf["alerts"]):
            break
        time.sleep(0.2)
    slow_alerts = [a for a in perf["alerts"] if a["rule"] == "slow-route"]
    assert [a["series"]["tags"]["route"] for a in slow_alerts] == ["/search"], perf["alerts"]
    assert slow_alerts[0]["severity"] == "warning"
    assert any(n["rule"] == "slow-route" and n["kind"] == "fired" for n in perf["notifications"])
    # Every /fail request failed: the error-ratio rule fires for that route.
    errors = [a for a in perf["alerts"] if a["rule"] == "server-errors"]
    assert [a["series"]["tags"]["route"] for a in errors] == ["/fail"]

    search = series(perf, "/search", "200")["total"]
    assert search["count"] == SLOW_REQUESTS
    assert SLOW_MS <= search["min"] <= search["p50"] <= search["p95"] < SLOW_MS * 10
    assert series(perf, "/fail", "503")["total"]["count"] == FAILED_REQUESTS
    ratings = {(r["series"]["tags"]["route"], r["stat"]): r["rating"]
               for r in perf["budget"]["rows"] if r["series"]["tags"].get("status") == "200"}
    assert ratings[("/search", "p95")] == "poor"

    metrics = httpx.get(f"{server}/metrics")
    assert metrics.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = metrics.text
    assert "# TYPE http_server_duration histogram\n" in text
    assert (f'http_server_duration_count{{method="GET",route="/users/{{user_id}}",'
            f'status="200"}} {FAST_REQUESTS}\n') in text
    assert (f'http_server_requests_total{{method="GET",route="/users/{{user_id}}"}} '
            f"{FAST_REQUESTS}\n") in text
    assert f'http_server_errors_total{{method="GET",route="/fail"}} {FAILED_REQUESTS}\n' in text
    inf = re.search(r'http_server_duration_bucket\{method="GET",route="/search",status="200",'
                    r'le="\+Inf"\} (\d+)', text)
    assert inf is not None and int(inf.group(1)) == SLOW_REQUESTS


def test_web_vitals_are_recorded_and_rated(server: str) -> None:
    answer = httpx.post(f"{server}/vitals", params={"page": "/checkout"},
                        json={"lcp": 3100, "inp": 80, "cls": None})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"lcp": "needs-improvement", "inp": "good"}
    bad = httpx.post(f"{server}/vitals", json={"lcp": 1000, "inp": -1})
    assert bad.status_code == 422 and bad.json()["detail"].startswith("vitals: ")
    unknown = httpx.post(f"{server}/vitals", json={"lpc": 1000})
    assert unknown.status_code == 422 and "unknown Web Vital" in unknown.json()["detail"]
    text = httpx.get(f"{server}/metrics").text
    assert 'web_vitals_lcp_count{page="/checkout"} 1\n' in text
    assert 'web_vitals_lcp_count{page="/"} 0\n' in text  # all or nothing
