"""Multi-process mode under real gunicorn: the FastAPI example with four
uvicorn workers, and the Flask and Django examples with sync workers, each on a
loopback port with ``PERF_CORE_MULTIPROC_DIR`` set and no code change.
Every scrape of ``/metrics`` — whichever worker answers it — must count
every request, a worker killed with ``kill -9`` and restarted must not make
a counter go back, and under ``--preload`` a rule must fire once for the
whole group."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "python"
WORKERS = 4
CLIENT_THREADS = 8
#: perf_core's default publish interval, in seconds.
PUBLISH_INTERVAL = 1.0


@dataclass
class Server:
    url: str
    process: subprocess.Popen[str]
    directory: Path

    def workers(self) -> list[int]:
        """The pids of the master's worker processes."""
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(self.process.pid)],
                             capture_output=True, text=True, check=False).stdout
        return [int(pid) for pid in out.split()]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(app: str, directory: Path, *options: str, workers: int = WORKERS) -> Server:
    port = free_port()
    env = dict(os.environ, PERF_CORE_MULTIPROC_DIR=str(directory),
               PERF_APP_EVALUATE_EVERY="0.2")
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", app, "--chdir", str(EXAMPLES),
         "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
         "--graceful-timeout", "5", *options],
        env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    server = Server(f"http://127.0.0.1:{port}", process, directory)
    deadline = time.monotonic() + 60
    while len(server.workers()) < workers or not answers(server.url):
        assert process.poll() is None, process.communicate()[1]
        assert time.monotonic() < deadline, "gunicorn did not start within 60 s"
        time.sleep(0.1)
    return server


def answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/metrics", timeout=2.0).status_code == 200
    except httpx.TransportError:
        return False


def stop(server: Server) -> str:
    """Stops gunicorn; returns its stderr (every worker's log)."""
    server.process.send_signal(signal.SIGTERM)
    try:
        _, stderr = server.process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        server.process.kill()
        _, stderr = server.process.communicate()
    assert "Traceback" not in stderr and "PanicException" not in stderr, stderr
    return stderr


def drive(url: str, paths: list[str]) -> None:
    chunks = [paths[i::CLIENT_THREADS] for i in range(CLIENT_THREADS)]

    def client(chunk: list[str]) -> None:
        with httpx.Client(base_url=url, timeout=30.0) as http:
            for path in chunk:
                assert http.get(path).status_code == 200, path

    with ThreadPoolExecutor(CLIENT_THREADS) as pool:
        list(pool.map(client, chunks))


def scraped_total(url: str, sample: str) -> int:
    """The sum of every ``sample`` line of one scrape of ``/metrics``."""
    text = httpx.get(f"{url}/metrics", timeout=10.0).text
    pattern = re.compile(rf"^{re.escape(sample)} (\d+)$", re.MULTILINE)
    return sum(int(n) for n in pattern.findall(text))


def settled_total(url: str, sample: str, expected: int) -> list[int]:
    """Ten scrapes of ``sample``'s total, taken once the load has been
    published: a worker reads its own requests live and the others' as of
    their last publish, at most one publish interval (1 s) old. Waits (at
    most 10 s) for one scrape to count ``expected``, then for the staleness
    bound, so that every worker's view is complete."""
    deadline = time.monotonic() + 10
    while scraped_total(url, sample) != expected and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(PUBLISH_INTERVAL * 1.5)
    return [scraped_total(url, sample) for _ in range(10)]


USERS_REQUESTS = 'http_server_requests_total{method="GET",route="/users/{user_id}"}'


@pytest.fixture
def fastapi_server(tmp_path: Path) -> Iterator[Server]:
    server = start("fastapi_service:app", tmp_path, "--worker-class",
                   "uvicorn_worker.UvicornWorker")
    try:
        yield server
    finally:
        stop(server)


def test_every_scrape_counts_every_worker(fastapi_server: Server) -> None:
    n = 2000
    drive(fastapi_server.url, [f"/users/{i}" for i in range(n)])
    assert settled_total(fastapi_server.url, USERS_REQUESTS, n) == [n] * 10
    states = list(fastapi_server.directory.glob("p*.state"))
    assert len(states) >= WORKERS, states  # one file per worker

    # kill -9 one worker: gunicorn starts another; nothing goes back.
    victim = fastapi_server.workers()[0]
    os.kill(victim, signal.SIGKILL)
    totals = []
    deadline = time.monotonic() + 30
    while victim in fastapi_server.workers() or len(fastapi_server.workers()) < WORKERS:
        totals.append(scraped_total(fastapi_server.url, USERS_REQUESTS))
        assert time.monotonic() < deadline, "gunicorn did not replace the worker"
        time.sleep(0.05)
    drive(fastapi_server.url, [f"/users/{i}" for i in range(500)])
    totals += settled_total(fastapi_server.url, USERS_REQUESTS, n + 500)
    assert totals == sorted(totals), f"a counter went back: {totals}"
    assert totals[-10:] == [n + 500] * 10


def test_preload_fires_a_rule_once_for_the_group(tmp_path: Path) -> None:
    server = start("fastapi_service:app", tmp_path, "--preload", "--worker-class",
                   "uvicorn_worker.UvicornWorker")
    try:
        # p95 of /search above 250 ms for 1 s, with at least 20 samples.
        drive(server.url, ["/search?q=x&delay_ms=400"] * 48)
        deadline = time.monotonic() + 20
        while not any(a["rule"] == "slow-route" for a in httpx.get(f"{server.url}/perf").json()["alerts"]):
            assert time.monotonic() < deadline, "the rule never fired"
            time.sleep(0.2)
        time.sleep(1.0)  # room for a duplicate delivery to show up
    finally:
        stderr = stop(server)
    fired = [line for line in stderr.splitlines() if line.startswith("alert fired")]
    assert len(fired) == 1, stderr
    assert 'route="/search"' in fired[0]


@pytest.mark.parametrize(("app", "options"), [
    ("flask_app:create_app()", ()),
    ("django_app:application", ("--preload",)),
], ids=["flask", "django"])
def test_sync_workers_count_every_request(tmp_path: Path, app: str, options: tuple[str, ...]) -> None:
    server = start(app, tmp_path, *options, workers=3)
    try:
        n = 600
        drive(server.url, [f"/users/{i}" for i in range(n)])
        # Flask's route rule and Django's route pattern spell it alike.
        sample = ('http_server_duration_count'
                  '{method="GET",route="/users/<int:user_id>",status="200"}')
        assert settled_total(server.url, sample, n) == [n] * 10
    finally:
        stop(server)
