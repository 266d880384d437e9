"""perf_core: in-process performance telemetry.

Record latencies and other values from any thread in well under a
microsecond, read accurate percentiles (cumulative or over sliding
windows), evaluate alerting rules and budgets, switch an emergency mode,
detect regressions against baselines and export to Prometheus, OpenMetrics,
JSON, CSV and HdrHistogram — with no server to run. The engine is the Rust
crate perf-core; see ``docs/python.md``.

>>> import perf_core
>>> monitor = perf_core.Monitor()
>>> monitor.record("http.server.duration", 12.5, route="/users")
>>> monitor.stats("http.server.duration", route="/users").count
1
"""

from __future__ import annotations

import atexit
import functools
import inspect
import os
import weakref
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any, Optional, TypeVar, Union, cast

from perf_core import _native
from perf_core._native import (
    CONTENT_TYPES,
    DURATION_FIELDS,
    ArgumentTypeError,
    Baseline,
    Budget,
    Counter,
    Emergency,
    Evaluator,
    Gauge,
    Histogram,
    InvalidArgumentError,
    InvalidBaselineError,
    InvalidConfigError,
    InvalidNameError,
    InvalidRuleError,
    InvalidTagError,
    InvalidValueError,
    InvalidWindowError,
    KindMismatchError,
    ManualClock,
    MetricsServer,
    PerfError,
    PerfIOError,
    Policy,
    RegressionReport,
    Rule,
    Stats,
    Timer,
    TooManyMetricsError,
    UnknownAlertError,
    UnknownSeriesError,
    WindowsDisabledError,
    compare,
    rate_web_vitals,
)
from perf_core._records import (
    Alert,
    AlertEvent,
    BudgetReport,
    BudgetRow,
    Comparison,
    EmergencyStatus,
    EmergencyTransition,
    MultiprocessStatus,
    SeriesInfo,
    SeriesKey,
    TriggerStatus,
    TriggerValue,
)

__version__: str = _native.__version__

F = TypeVar("F", bound=Callable[..., Any])

#: Monitors whose background evaluator runs: stopped at interpreter exit,
#: before the threads they call back from can outlive the interpreter.
_running: weakref.WeakSet[Monitor] = weakref.WeakSet()

class Monitor(_native.Monitor):
    """The root object: series, statistics, rules, alerts, emergency mode,
    baselines and exports. See ``docs/python.md`` for every option, and
    ``docs/multiprocess.md`` for ``multiprocess_dir`` (or the environment
    variable ``PERF_CORE_MULTIPROC_DIR``): one view of every worker process
    of a gunicorn, uvicorn or Django server."""

    def local(self) -> Monitor:
        """This monitor seen from this process alone: in multi-process
        mode, reads and exports of the returned monitor leave out the other
        processes of the group."""
        return type(self)(_local_of=self)

    def timed(
        self, name: str, tags: Optional[Mapping[str, str]] = None, /, **tag_kwargs: str
    ) -> Callable[[F], F]:
        """Decorator timing every call of a ``def`` or ``async def`` function
        into the histogram ``name{tags}`` (milliseconds; an ``async``
        function is timed until its coroutine finishes)."""
        histogram = self.histogram(name, tags, **tag_kwargs)

        def decorate(function: F) -> F:
            if inspect.iscoroutinefunction(function):

                @functools.wraps(function)
                async def timed_async(*args: Any, **kwargs: Any) -> Any:
                    with histogram.time():
                        return await function(*args, **kwargs)

                return cast(F, timed_async)

            @functools.wraps(function)
            def timed_sync(*args: Any, **kwargs: Any) -> Any:
                with histogram.time():
                    return function(*args, **kwargs)

            return cast(F, timed_sync)

        return decorate

    def start(self, interval: Union[float, timedelta, None] = None) -> Evaluator:
        """Starts the background evaluator (every ``interval`` seconds,
        default 1); ``with monitor.start(1.0): ...`` stops it at the end."""
        evaluator = super().start(interval)
        _running.add(self)
        return evaluator


@atexit.register
def _stop_evaluators() -> None:
    for monitor in list(_running):
        monitor.stop()


# In a child just forked (gunicorn --preload, Django's AppConfig.ready),
# every multi-process monitor starts its own background threads and joins
# its group as a new process at once, even one that only records.
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_native.after_fork)


__all__ = [
    "CONTENT_TYPES",
    "DURATION_FIELDS",
    "Alert",
    "AlertEvent",
    "ArgumentTypeError",
    "Baseline",
    "Budget",
    "BudgetReport",
    "BudgetRow",
    "Comparison",
    "Counter",
    "Emergency",
    "EmergencyStatus",
    "EmergencyTransition",
    "Evaluator",
    "Gauge",
    "Histogram",
    "InvalidArgumentError",
    "InvalidBaselineError",
    "InvalidConfigError",
    "InvalidNameError",
    "InvalidRuleError",
    "InvalidTagError",
    "InvalidValueError",
    "InvalidWindowError",
    "KindMismatchError",
    "ManualClock",
    "MetricsServer",
    "Monitor",
    "MultiprocessStatus",
    "PerfError",
    "PerfIOError",
    "Policy",
    "RegressionReport",
    "Rule",
    "SeriesInfo",
    "SeriesKey",
    "Stats",
    "Timer",
    "TooManyMetricsError",
    "TriggerStatus",
    "TriggerValue",
    "UnknownAlertError",
    "UnknownSeriesError",
    "WindowsDisabledError",
    "compare",
    "rate_web_vitals",
]
