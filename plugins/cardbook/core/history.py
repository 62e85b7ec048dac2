"""The `modified-stale` rule: a page's `modified` date against the date git last committed it
(read by cardbook.gitlog, outside the core, which runs no process)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from .inventory import PageMeta
from .problems import Problem, warning

# A commit made a day or two after the edit it records (after midnight, in another zone) is
# the same change, not a stale date: the same slack `modified` has for dates in the future.
SLACK_DAYS = 2


def modified_stale_problems(
    pages: list[PageMeta],
    committed: Mapping[str, dt.date] | None,
    config_name: str,
    config_line: int,
    unavailable: str = "this runbook is not in a git work tree (or git is missing)",
) -> list[Problem]:
    """Each page committed more than SLACK_DAYS after its `modified` date: the date says the
    page is newer news than it is, or older; either way a reader is misled."""
    if committed is None:
        return [
            warning(
                config_name,
                config_line,
                f"rule modified-stale needs git: {unavailable}",
                rule="modified-stale",
            )
        ]
    problems = []
    for page in pages:
        last = committed.get(page.rel)
        if page.modified is None or last is None:
            continue
        if (last - page.modified).days > SLACK_DAYS:
            problems.append(
                warning(
                    page.rel,
                    page.modified_line,
                    f"modified: {page.modified.isoformat()}, but the page was last committed on "
                    f"{last.isoformat()}: set `modified` to the date of the change",
                    rule="modified-stale",
                )
            )
    return problems
