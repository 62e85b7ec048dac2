"""Counts of the reliability suite (issue 8), printed at the end of every pytest run that
collected one of its modules.

Each reliability module declares `pytest_plugins = ["reliability_counts"]`, which registers
this module as a plugin (pytest accepts the variable in test modules; only non-root conftest
files may not use it), so `pytest_terminal_summary` below runs without touching conftest.py.
The tests themselves `import reliability_counts` (the same module object) and call `add`.
"""

from __future__ import annotations

from typing import Any

MODULES = (
    "test_hostile.py",
    "test_hostile_properties.py",
    "test_interruptions.py",
    "test_concurrency.py",
    "test_work_kept.py",
)

HOSTILE = "hostile inputs tried"
TREES = "generated trees checked"
INTERRUPTED = "runs interrupted"
CONCURRENT = "concurrent runs"

COUNTS: dict[str, int] = {HOSTILE: 0, TREES: 0, INTERRUPTED: 0, CONCURRENT: 0}


def add(kind: str, n: int = 1) -> None:
    COUNTS[kind] += n


def _ours(report: Any) -> bool:
    path = str(getattr(report, "nodeid", "")).split("::", 1)[0]
    return path.rsplit("/", 1)[-1] in MODULES


def summary_line(failures: int) -> str:
    counts = ", ".join(f"{n} {kind}" for kind, n in COUNTS.items())
    return f"reliability: {counts}, {failures} failures"


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: Any) -> None:
    failed = [
        report
        for key in ("failed", "error")
        for report in terminalreporter.stats.get(key, [])
        if _ours(report)
    ]
    ran = [report for key in ("passed", "skipped") for report in terminalreporter.stats.get(key, [])]
    if not failed and not any(COUNTS.values()) and not any(_ours(report) for report in ran):
        return
    terminalreporter.write_line(summary_line(len(failed)))
