"""The Python column of the parity manifest (`docs/parity.md`) against the
package: every name listed exists, every row has a Python cell (names, or
`—` and why Python lacks the operation), and every public operation of the
package is listed."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import perf_core

MANIFEST = Path(__file__).resolve().parents[2] / "docs" / "parity.md"

#: The classes whose public attributes are operations: each must be in the
#: Python column as ``Class.attribute``.
OPERATION_CLASSES = [
    "Monitor",
    "Histogram",
    "Counter",
    "Gauge",
    "Timer",
    "Emergency",
    "Evaluator",
    "Baseline",
    "ManualClock",
    "MetricsServer",
    "Rule",
    "Budget",
]

#: The other public classes, and why their attributes are not operations.
DATA_CLASSES = {
    # Values a call returns: their attributes are the fields of the result.
    "Stats": "statistics of a series (Monitor.stats, window_stats)",
    "Policy": "the options of compare, as data",
    "RegressionReport": "what compare returns",
    "Alert": "a record", "AlertEvent": "a record", "BudgetReport": "a record",
    "BudgetRow": "a record", "Comparison": "a record", "EmergencyStatus": "a record",
    "EmergencyTransition": "a record", "MultiprocessStatus": "a record",
    "SeriesInfo": "a record", "SeriesKey": "a record", "TriggerStatus": "a record",
    "TriggerValue": "a record",
}


def rows() -> list[list[str]]:
    lines = [line for line in MANIFEST.read_text().splitlines() if line.startswith("|")]
    assert lines[0] == "| Rust | Python | Node.js | C |", lines[0]
    assert re.fullmatch(r"\|(---\|){4}", lines[1]), lines[1]
    table = []
    for line in lines[2:]:
        cells = [cell.strip() for cell in line.strip().strip("|").split(" | ")]
        assert len(cells) == 4, f"a row without four cells: {line}"
        table.append(cells)
    return table


def names(cell: str) -> list[str] | None:
    """The backticked names of a cell, hints in parentheses removed (None
    for a ``—`` cell)."""
    if cell.startswith("—"):
        return None
    found = []
    for item in cell.split(", "):
        match = re.fullmatch(r"`([^`]+)`", item.strip())
        assert match, f"not a backticked name: {item!r} in {cell!r}"
        found.append(re.sub(r"\(.*\)$", "", match.group(1)))
    return found


def python_names() -> set[str]:
    listed: set[str] = set()
    for row in rows():
        listed.update(names(row[1]) or [])
    return listed


def resolve(name: str) -> object:
    obj: object = perf_core
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


def test_every_row_has_a_python_cell_and_every_dash_a_reason() -> None:
    for rust, python, _, _ in rows():
        assert python, f"an empty Python cell in the row of {rust}"
        if python.startswith("—"):
            reason = python.removeprefix("—").strip()
            assert len(reason) > 3, f"a — without a reason in the row of {rust}"
        else:
            assert names(python), f"no names in the row of {rust}"


def test_every_python_name_exists() -> None:
    missing = []
    for name in sorted(python_names()):
        assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?", name), name
        try:
            resolve(name)
        except AttributeError:
            missing.append(name)
    assert missing == [], f"names in docs/parity.md that perf_core lacks: {missing}"


def public_operations() -> set[str]:
    operations: set[str] = set()
    for class_name in OPERATION_CLASSES:
        cls = getattr(perf_core, class_name)
        operations.update(f"{class_name}.{attr}" for attr in dir(cls)
                          if not attr.startswith("_"))
    for name in perf_core.__all__:
        obj = getattr(perf_core, name)
        if inspect.isclass(obj):
            is_error = issubclass(obj, BaseException)
            assert is_error or name in OPERATION_CLASSES or name in DATA_CLASSES, (
                f"perf_core.{name}: list it in OPERATION_CLASSES or DATA_CLASSES")
        elif callable(obj):
            operations.add(name)
    for name in dir(perf_core):
        obj = getattr(perf_core, name)
        if (not name.startswith("_") and callable(obj) and not inspect.isclass(obj)
                and getattr(obj, "__module__", "").startswith("perf_core")):
            operations.add(name)
    return operations


def test_every_public_operation_is_in_the_python_column() -> None:
    missing = sorted(public_operations() - python_names())
    assert missing == [], (
        "public operations of perf_core missing from the Python column of "
        f"docs/parity.md (list them in the row of their core operation): {missing}")


def test_the_operation_lists_cover_the_package() -> None:
    # The checks above see what they should: the classes, methods and
    # module functions of the package.
    operations = public_operations()
    assert {"Monitor.record", "Monitor.timed", "MetricsServer.close", "Rule.to_dict",
            "compare", "rate_web_vitals"} <= operations
    assert not any(name.split(".")[-1].startswith("_") for name in operations)
