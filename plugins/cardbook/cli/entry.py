"""The `cardbook` console script.

A short-lived run builds many small objects and frees little: the cyclic collector's repeated
full scans cost 15% at 10000 cards, and nothing it would free matters before the process ends.
The collector is turned off here, in the program's own entry point, never in library code: a
test or a program that calls the click group keeps its collector as it was.

A plain `cardbook check` or `cardbook tangle` is answered without importing click
(cli/fastpath.py), and ends without the interpreter's teardown: freeing each of a large
runbook's objects one by one took a few percent of a 1000-card check, and neither holds a
file, lock or process to release by then (a tangle's files are written, closed and renamed,
its lock released, before it prints its last line).

The output streams are made steady first: a pipe its parent left non-blocking would drop
what does not fit its buffer (the writes fail with EAGAIN), and a terminal or a file with a
narrow encoding (PYTHONIOENCODING=latin-1) would end the run with a traceback at the first
character it cannot hold; such a character is written as a backslash escape instead. A
report that cannot be written at all (a full disk) ends with one line on stderr, exit 1.
"""

from __future__ import annotations

import errno
import gc
import io
import os
import sys

GONE = "cardbook: the working directory no longer exists (deleted or moved): cd into the runbook again"


def _working_directory_gone() -> bool:
    try:
        os.getcwd()
    except FileNotFoundError:
        return True
    return False


def _steady_streams() -> None:
    for stream in (sys.stdout, sys.stderr):
        if stream is None:  # closed by the caller (`cardbook check >&-`): nothing is printed
            continue
        try:
            if not os.get_blocking(stream.fileno()):
                os.set_blocking(stream.fileno(), True)
        except (OSError, ValueError, io.UnsupportedOperation):
            pass  # no file descriptor (a test's captured stream): nothing to steady
        if isinstance(stream, io.TextIOWrapper) and stream.errors == "strict":
            stream.reconfigure(errors="backslashreplace")


def _unwritable(exc: OSError) -> None:
    """A write failed (the report to a full disk, a closed descriptor): say so, exit 1."""
    message = f"cardbook: cannot write ({exc.strerror or exc}): the output is incomplete\n"
    try:
        if sys.stderr is not None:
            sys.stderr.write(message)
            sys.stderr.flush()
    except (OSError, ValueError):
        pass
    os._exit(1)  # the interpreter's own last flush would fail again, with a traceback


_OUTPUT_ERRORS = {errno.ENOSPC, errno.EIO, errno.EFBIG, errno.EDQUOT, errno.EBADF, errno.EAGAIN}


def _end_fast(done: SystemExit) -> None:
    """Exit with the fast path's status once its output is out, skipping the teardown (a
    tangle's files are closed and renamed by then); a message as the status takes the ordinary
    way out."""
    if not isinstance(done.code, int | None):
        raise done
    for stream in (sys.stdout, sys.stderr):
        if stream is None:
            continue
        try:
            stream.flush()
        except OSError as exc:
            if exc.errno == errno.EPIPE:  # the reader left: as the fast path itself answers it
                os._exit(1)
            _unwritable(exc)
        except ValueError:  # closed
            pass
    os._exit(done.code or 0)


def main() -> None:
    gc.disable()
    _steady_streams()
    if _working_directory_gone():
        print(GONE, file=sys.stderr)
        sys.exit(2)
    try:
        if sys.argv[1:2] in (["check"], ["tangle"]):  # plain ones run without click, else return
            from .fastpath import run

            try:
                run(sys.argv[1], sys.argv[2:])
            except SystemExit as done:
                _end_fast(done)
        from .main import main as cardbook

        cardbook()
    except OSError as exc:
        if exc.errno in _OUTPUT_ERRORS:
            _unwritable(exc)
        if not _working_directory_gone():
            raise
        print(GONE, file=sys.stderr)  # deleted under the run: the writes are all or nothing
        sys.exit(2)
