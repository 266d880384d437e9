"""A Flask app instrumented with perf_core (the Flask recipe of
docs/python.md): latency per method, route rule and status, and /metrics.

Run it:  flask --app examples/python/flask_app.py run
Under gunicorn with several workers:
    PERF_CORE_MULTIPROC_DIR=/dev/shm/myapp-perf \
        gunicorn --chdir examples/python -w 4 "flask_app:create_app()"
(every worker's /metrics then shows the whole group: docs/multiprocess.md).
"""

from __future__ import annotations

import time

import flask

import perf_core

LATENCY = "http.server.duration"


def create_app(monitor: perf_core.Monitor | None = None) -> flask.Flask:
    """The app, recording into ``monitor`` (a new one by default)."""
    monitor = monitor or perf_core.Monitor()
    app = flask.Flask(__name__)

    @app.before_request
    def start_timer() -> None:
        flask.g.perf_start = time.perf_counter_ns()

    @app.after_request
    def record(response: flask.Response) -> flask.Response:
        rule = flask.request.url_rule
        monitor.record(LATENCY, (time.perf_counter_ns() - flask.g.perf_start) / 1e6,
                       method=flask.request.method,
                       route=rule.rule if rule else "unmatched",
                       status=str(response.status_code))
        return response

    @app.get("/users/<int:user_id>")
    def get_user(user_id: int) -> dict[str, object]:
        return {"id": user_id}

    @app.get("/metrics")
    def metrics() -> flask.Response:
        return flask.Response(monitor.export_prometheus(),
                              content_type=perf_core.CONTENT_TYPES["prometheus"])

    return app
