"""Shared fixtures: monitors on a manual clock, so time-dependent behaviour
(windows, rules, cooldowns, timers, emergency mode) is deterministic."""

from __future__ import annotations

import pytest

import perf_core


@pytest.fixture
def clock() -> perf_core.ManualClock:
    """A clock standing at t = 1000 s."""
    return perf_core.ManualClock(1000.0)


@pytest.fixture
def monitor(clock: perf_core.ManualClock) -> perf_core.Monitor:
    """A monitor reading `clock`."""
    return perf_core.Monitor(clock=clock)
