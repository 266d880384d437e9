"""A single-file Django project instrumented with perf_core (the Django
recipe of docs/python.md): a middleware recording latency per method, URL
route and status, and a /metrics view.

Run it:  python examples/python/django_app.py runserver
Under gunicorn, with several workers:
    PERF_CORE_MULTIPROC_DIR=/dev/shm/myapp-perf \
        gunicorn --chdir examples/python -w 4 django_app:application
(every worker's /metrics then shows the whole group: docs/multiprocess.md).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path

import perf_core

LATENCY = "http.server.duration"
monitor = perf_core.Monitor()


class PerfMiddleware:
    """Records every request's latency in milliseconds."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        start = time.perf_counter_ns()
        response = self.get_response(request)
        match = request.resolver_match
        route = "/" + match.route if match else "unmatched"
        monitor.record(LATENCY, (time.perf_counter_ns() - start) / 1e6,
                       method=request.method or "GET", route=route,
                       status=str(response.status_code))
        return response


def metrics(request: HttpRequest) -> HttpResponse:
    """The Prometheus text exposition."""
    return HttpResponse(monitor.export_prometheus(),
                        content_type=perf_core.CONTENT_TYPES["prometheus"])


def get_user(request: HttpRequest, user_id: int) -> JsonResponse:
    return JsonResponse({"id": user_id})


def home(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"ok": True})


urlpatterns = [
    path("", home),
    path("users/<int:user_id>", get_user),
    path("metrics", metrics),
]

if not settings.configured:
    settings.configure(
        DEBUG=False,
        ALLOWED_HOSTS=["*"],
        ROOT_URLCONF=__name__,
        MIDDLEWARE=[f"{__name__}.PerfMiddleware"],
        SECRET_KEY="perf-core-example",
    )

#: The WSGI entry point, for gunicorn and other WSGI servers.
application = get_wsgi_application()

if __name__ == "__main__":
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
