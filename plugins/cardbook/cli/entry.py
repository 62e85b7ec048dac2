"""The `cardbook` console script.

A short-lived run builds many small objects and frees little: the cyclic collector's repeated
full scans cost 15% at 10000 cards, and nothing it would free matters before the process ends.
The collector is turned off here, in the program's own entry point, never in library code: a
test or a program that calls the click group keeps its collector as it was.

A plain `cardbook check` is answered without importing click (cli/fastpath.py), and ends
without the interpreter's teardown: freeing each of a large runbook's objects one by one took
a few percent of a 1000-card check, and a check holds no file, lock or process to release.
"""

from __future__ import annotations

import gc
import os
import sys

GONE = "cardbook: the working directory no longer exists (deleted or moved): cd into the runbook again"


def _working_directory_gone() -> bool:
    try:
        os.getcwd()
    except FileNotFoundError:
        return True
    return False


def _end_check(done: SystemExit) -> None:
    """Exit with the check's status once its output is out, skipping the teardown; anything
    unusual (a message as the status, a closed pipe) takes the ordinary way out."""
    if not isinstance(done.code, int | None):
        raise done
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        raise done from None
    os._exit(done.code or 0)


def main() -> None:
    gc.disable()
    if _working_directory_gone():
        print(GONE, file=sys.stderr)
        sys.exit(2)
    try:
        if sys.argv[1:2] == ["check"]:  # a plain check runs without click, else returns here
            from .fastpath import run

            try:
                run(sys.argv[2:])
            except SystemExit as done:
                _end_check(done)
        from .main import main as cardbook

        cardbook()
    except OSError:
        if not _working_directory_gone():
            raise
        print(GONE, file=sys.stderr)  # deleted under the run: the writes are all or nothing
        sys.exit(2)
