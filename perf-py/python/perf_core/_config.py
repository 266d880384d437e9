"""Rules documents written as Python objects.

``dumps`` turns a dict (a rules document, or one rule, budget or emergency
section) into the JSON the engine reads: durations given as seconds or
``datetime.timedelta`` become duration strings (in the fields the core
names, ``DURATION_FIELDS``, and in ``repeat`` objects), ``for_`` becomes ``for``
(``for`` is a Python keyword), and ``Rule`` / ``Budget`` objects become
their dicts. Everything else is passed through unchanged for the engine
to check.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Mapping
from typing import Any

from perf_core._native import DURATION_FIELDS as DURATION_FIELDS

# ``DURATION_FIELDS`` (the fields whose values are durations, wherever they
# appear) is the core's list, ``RulesConfig::DURATION_FIELDS``; the values
# of every ``repeat`` object are durations too.


def _duration(value: Any) -> Any:
    """Seconds or a timedelta as a duration string; anything else as is."""
    if isinstance(value, datetime.timedelta):
        value = value.total_seconds()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if value >= 0 and value == value and value != float("inf"):
            return f"{round(value * 1_000_000_000)}ns"
    return value


def _normalize(value: Any, key: str | None = None) -> Any:
    """``value`` (found under ``key``) with durations and names converted."""
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict) and not isinstance(value, Mapping):
        value = to_dict()
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            name = "for" if k == "for_" else k
            if key == "repeat":
                out[name] = _duration(v)
            elif name in DURATION_FIELDS:
                out[name] = _duration(_normalize(v, name))
            else:
                out[name] = _normalize(v, name)
        return out
    if isinstance(value, (list, tuple)):
        return [_normalize(v, key) for v in value]
    return value


def dumps(document: Any) -> str:
    """The JSON text of ``document``."""
    return json.dumps(_normalize(document), allow_nan=True)
