"""A FastAPI service instrumented with perf_core.

* ``PerfMiddleware`` (pure ASGI) records every request's latency in
  milliseconds into the histogram ``http.server.duration`` tagged with the
  method, the route template (``/users/{user_id}``, not the raw path, so
  series stay bounded) and the status code, and counts requests and server
  errors per route (``http.server.requests`` / ``http.server.errors``).
* ``/metrics`` serves the Prometheus text exposition.
* ``/perf`` serves the statistics of every route, the budget report, the
  active alerts and the latest alert notifications as JSON.
* ``POST /vitals?page=/checkout`` takes the Web Vitals a page reports
  (``{"lcp": 1830, "inp": 96, "cls": 0.04}``), records them into
  ``web_vitals.lcp``, ... tagged with the page, and answers their ratings
  (``good`` / ``needs-improvement`` / ``poor``).
* ``rules.json`` alerts when a route's p95 over 30 s stays above 250 ms
  (warning) or 1 s (critical), and when half the requests of a route fail.
  A background evaluator checks the rules every ``PERF_APP_EVALUATE_EVERY``
  seconds (default 1); notifications are logged and kept for ``/perf``.

Run it:  uvicorn fastapi_service:app --app-dir examples/python --port 8000
Under gunicorn with several workers (or ``uvicorn --workers 4``), give the
workers one group directory and nothing else changes:
    PERF_CORE_MULTIPROC_DIR=/dev/shm/myapp-perf gunicorn fastapi_service:app \
        --chdir examples/python -w 4 -k uvicorn_worker.UvicornWorker
``/metrics`` and ``/perf`` then show every worker's requests and the
group's alerts whichever worker answers, and one worker evaluates the rules
(docs/multiprocess.md).
"""

from __future__ import annotations

import asyncio
import collections
import logging
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException
from fastapi.responses import PlainTextResponse

import perf_core

LATENCY = "http.server.duration"
REQUESTS = "http.server.requests"
ERRORS = "http.server.errors"
RULES = Path(__file__).with_name("rules.json")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

log = logging.getLogger("perf_app")


class PerfMiddleware:
    """Records latency, requests and server errors per method, route and
    status. Requests no route matched are tagged ``route="unmatched"``."""

    def __init__(self, app: ASGIApp, monitor: perf_core.Monitor) -> None:
        self.app = app
        self.monitor = monitor

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        start = time.perf_counter_ns()
        try:
            await self.app(scope, receive, send_status)
        finally:
            elapsed_ms = (time.perf_counter_ns() - start) / 1e6
            self.observe(scope, status, elapsed_ms)

    def observe(self, scope: Scope, status: int, elapsed_ms: float) -> None:
        """Records one finished request."""
        route = getattr(scope.get("route"), "path", None) or "unmatched"
        method = scope["method"]
        self.monitor.record(LATENCY, elapsed_ms, method=method, route=route, status=str(status))
        self.monitor.counter(REQUESTS, method=method, route=route).inc()
        errors = self.monitor.counter(ERRORS, method=method, route=route)
        if status >= 500:
            errors.inc()


def route_stats(monitor: perf_core.Monitor) -> list[dict[str, Any]]:
    """Cumulative and last-60-s statistics of every latency series."""
    rows = []
    for series in monitor.series():
        if series.name != LATENCY:
            continue
        rows.append({
            "tags": series.tags,
            "total": monitor.stats(LATENCY, series.tags).to_dict(),
            "last_60s": monitor.window_stats(LATENCY, 60, series.tags).to_dict(),
        })
    return rows


def create_app(monitor: perf_core.Monitor | None = None,
               evaluate_every: float | None = None) -> FastAPI:
    """The service, recording into ``monitor`` (a new one by default)."""
    monitor = monitor or perf_core.Monitor()
    monitor.load_rules_file(RULES)
    every = evaluate_every or float(os.environ.get("PERF_APP_EVALUATE_EVERY", "1"))
    notifications: collections.deque[dict[str, Any]] = collections.deque(maxlen=100)

    def on_alert(event: perf_core.AlertEvent) -> None:
        log.warning("alert %s %s on %s: %s (threshold %s)", event.kind, event.severity,
                    event.series, event.value, event.threshold)
        notifications.append(event.to_dict())

    monitor.on_alert(on_alert)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        with monitor.start(every):
            yield

    app = FastAPI(title="perf_core example", lifespan=lifespan)
    app.add_middleware(PerfMiddleware, monitor=monitor)
    app.state.monitor = monitor

    @app.get("/users/{user_id}")
    async def get_user(user_id: int) -> dict[str, Any]:
        return {"id": user_id, "name": f"user-{user_id}"}

    @app.get("/search")
    async def search(q: str = "", delay_ms: float = 0.0) -> dict[str, Any]:
        await asyncio.sleep(delay_ms / 1000)
        return {"q": q, "results": []}

    @app.get("/fail")
    async def fail() -> None:
        raise HTTPException(status_code=503, detail="backend unavailable")

    @app.get("/metrics", response_class=PlainTextResponse)
    def metrics() -> PlainTextResponse:
        return PlainTextResponse(monitor.export_prometheus(),
                                 media_type=perf_core.CONTENT_TYPES["prometheus"])

    @app.post("/vitals")
    def vitals(payload: dict[str, float | None], page: str = "/") -> dict[str, str]:
        # The core checks the names and values: all are recorded or none.
        # `page` comes from the client; the monitor's max_series_per_metric
        # bounds the series it can create.
        try:
            return monitor.record_web_vitals(payload, page=page)
        except perf_core.PerfError as err:
            raise HTTPException(status_code=422, detail=str(err)) from None

    @app.get("/perf")
    def perf() -> dict[str, Any]:
        return {
            "routes": route_stats(monitor),
            "budget": monitor.budget_report().to_dict(),
            "alerts": [a.to_dict() for a in monitor.alerts()],
            "notifications": list(notifications),
            "emergency": monitor.emergency.is_active(),
        }

    return app


app = create_app()
