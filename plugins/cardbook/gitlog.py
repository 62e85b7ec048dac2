"""The date git last committed each page: one `git log` for the whole tree.

Outside the core, which runs no process: `cardbook stale` and the `modified-stale` rule
(core/history.py) get the dates from here."""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path


def _git(root: Path, *args: str, timeout: float) -> str | None:
    """The output of one git command in `root`; None when git, the repository or time is missing."""
    try:
        done = subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, text=True, timeout=timeout, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


def committed_dates(root: Path, rels: list[str]) -> dict[str, dt.date] | None:
    """The date of the last commit touching each page (paths relative to `root`, which may be a
    folder inside the repository); None when git or the repository is not there."""
    log = _git(
        root,
        "log",
        "--format=%x00%as",  # the author date: a rebase or a cherry-pick keeps it
        "--name-only",
        "--no-renames",
        "--relative",  # names relative to `root`, as the pages are
        "--",
        *sorted({rel.split("/", 1)[0] for rel in rels}),
        timeout=60,
    )
    if log is None:
        return None
    wanted: set[str] = set(rels)
    dates: dict[str, dt.date] = {}
    current: dt.date | None = None
    for line in log.splitlines():
        if line.startswith("\x00"):
            current = dt.date.fromisoformat(line[1:])
        elif line in wanted and line not in dates and current is not None:
            dates[line] = current
    return dates


def shallow(root: Path) -> bool:
    """A clone with part of its history (CI's default `fetch-depth: 1`): its oldest commit
    touches every file, so every page would look last changed on that day."""
    return (_git(root, "rev-parse", "--is-shallow-repository", timeout=30) or "").strip() == "true"
