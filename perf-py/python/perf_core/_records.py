"""Plain data returned by perf_core: frozen dataclasses with ``to_dict()``.

The native module builds these; times are seconds on the monitor's clock
(Unix time with the real clock), durations are seconds.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Optional

from perf_core import _native


class _Record:
    """Adds ``to_dict()`` to a dataclass."""

    __slots__ = ()

    def to_dict(self) -> dict[str, Any]:
        """The fields as a dict (nested records become dicts too)."""
        return dataclasses.asdict(self)  # type: ignore[call-overload, no-any-return]


@dataclass(frozen=True, slots=True)
class SeriesKey(_Record):
    """A series' identity: a metric name and its tags. ``str()`` prints it
    as the core does in every language: ``name{k="v",...}``, tags sorted by
    key, ``\\`` and ``"`` in values escaped."""

    name: str
    tags: dict[str, str]

    def __str__(self) -> str:
        return _native._series_text(self.name, self.tags)


@dataclass(frozen=True, slots=True)
class SeriesInfo(_Record):
    """A series and its kind (``histogram``, ``counter`` or ``gauge``)."""

    name: str
    tags: dict[str, str]
    kind: str


@dataclass(frozen=True, slots=True)
class AlertEvent(_Record):
    """One alert notification.

    ``kind`` is ``fired``, ``escalated``, ``de_escalated``, ``recovered``,
    ``relapsed``, ``resolved`` or ``repeated``.
    """

    id: int
    kind: str
    rule: str
    series: SeriesKey
    severity: str
    previous_severity: Optional[str]
    value: Optional[float]
    threshold: float
    at: float
    fired_at: float


@dataclass(frozen=True, slots=True)
class Alert(_Record):
    """An active alert (``state`` is ``firing`` or ``recovering``)."""

    id: int
    rule: str
    series: SeriesKey
    severity: str
    state: str
    value: Optional[float]
    threshold: float
    fired_at: float
    last_notified: Optional[float]
    acknowledged: bool
    inhibited: bool


@dataclass(frozen=True, slots=True)
class TriggerValue(_Record):
    """What an emergency trigger read."""

    trigger: str
    series: Optional[SeriesKey]
    value: Optional[float]
    op: str
    threshold: float


@dataclass(frozen=True, slots=True)
class EmergencyTransition(_Record):
    """A change of emergency mode (``activated``, ``held``, ``deactivated``)."""

    change: str
    source: str
    triggers: list[str]
    reason: str
    at: float
    values: list[TriggerValue]
    dwell: Optional[float]


@dataclass(frozen=True, slots=True)
class TriggerStatus(_Record):
    """One emergency trigger, now."""

    name: str
    holding: bool
    true_since: Optional[float]
    last: Optional[TriggerValue]


@dataclass(frozen=True, slots=True)
class EmergencyStatus(_Record):
    """The emergency mode and each trigger, now."""

    active: bool
    manual: bool
    since: Optional[float]
    dwell_until: Optional[float]
    triggers: list[TriggerStatus]


@dataclass(frozen=True, slots=True)
class MultiprocessStatus(_Record):
    """The process group as this process sees it (``Monitor.multiprocess``):
    its directory, this process's pid and instance id, whether it leads the
    group, the processes the last read merged (live ones among them), dead
    processes it archived, publishes (and failures), files skipped as
    truncated, corrupt or foreign, series left out of the merged view, and
    the latest reason for a skip or failure."""

    dir: str
    pid: int
    instance: int
    leader: bool
    processes: int
    live_processes: int
    archived: int
    publishes: int
    publish_errors: int
    skipped_files: int
    dropped_series: int
    last_error: Optional[str]


@dataclass(frozen=True, slots=True)
class BudgetRow(_Record):
    """One budget item rated on one series (``rating``: ``good``,
    ``needs-improvement``, ``poor``, or None without data)."""

    budget: str
    metric: str
    series: Optional[SeriesKey]
    stat: str
    window: Optional[float]
    count: int
    value: Optional[float]
    good: float
    poor: Optional[float]
    rating: Optional[str]
    headroom: Optional[float]


@dataclass(frozen=True, slots=True)
class BudgetReport(_Record):
    """Every budget item rated on every series it applies to; ``text`` is
    the report as a table."""

    at: float
    rows: list[BudgetRow]
    worst: Optional[str]
    text: str

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class Comparison(_Record):
    """One row of a regression report (``verdict``: ``regressed``,
    ``improved``, ``unchanged``, ``insufficient_data``)."""

    series: SeriesKey
    statistic: str
    baseline: float
    baseline_count: int
    current: float
    current_count: int
    change: float
    ratio_low: float
    ratio_high: float
    p_value: float
    q_value: float
    threshold: float
    verdict: str
