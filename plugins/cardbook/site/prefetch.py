"""Drawing in a second process while the engine converts pages.

Every card's header and neighbourhood graph, the overview's goal graphs and the generated-files
page are pure functions of the checked runbook: about a second of work at 1000 cards, while the
engine itself keeps one core busy converting pages. A forked copy of the build draws them on
another core and sends the result through a pipe; a page takes it when it needs it, and draws
its own part itself when the copy is not done yet or failed, so the site is the same either way
(tests/test_site_build.py builds it both ways and compares).

Only where forking a running interpreter is sound: POSIX but not macOS (whose system
libraries are not safe to use in a forked child), and more than one CPU to draw on. The copy
runs cardbook's drawing code only, never the engine's, and leaves with os._exit, so none of
the parent's cleanup runs twice.
"""

from __future__ import annotations

import os
import pickle
import select
import signal
import sys
import warnings
from collections.abc import Callable

PENDING = object()  # result(): the copy is still drawing
CHUNK = 1 << 20
READ_TIMEOUT = 60.0  # seconds without a byte from a copy that began to send: it is stuck
COPY_SECONDS = 600  # the copy ends itself after this long, whatever became of its parent


def usable() -> bool:
    return (
        hasattr(os, "fork")
        and sys.platform != "darwin"
        and (os.cpu_count() or 1) > 1
        and os.environ.get("CARDBOOK_PREFETCH", "1") != "0"  # documented in docs/reference/engines.md
    )


class Drawing:
    """The copy drawing in the background, and its result once it came."""

    def __init__(self, pid: int, reader: int) -> None:
        self.pid = pid
        self.reader = reader
        self.chunks: list[bytes] = []
        self.finished = False
        self.value: object = None

    def result(self) -> object:
        """The work's result, PENDING while the copy is drawing, None when it failed."""
        if self.finished:
            return self.value
        ready, _, _ = select.select([self.reader], [], [], 0)
        if not ready:
            return PENDING
        try:  # it began to send (or ended): read to the end
            while True:
                chunk = os.read(self.reader, CHUNK)
                if not chunk:
                    break
                self.chunks.append(chunk)
                if not select.select([self.reader], [], [], READ_TIMEOUT)[0]:
                    self.chunks.clear()
                    break
        except OSError:
            self.chunks.clear()
        self.close()
        return self.value

    def close(self) -> None:
        """Stop the copy if it still runs, and take its result if it sent one whole."""
        if self.finished:
            return
        self.finished = True
        data = b"".join(self.chunks)
        self.chunks.clear()
        os.close(self.reader)
        try:
            ended, status = os.waitpid(self.pid, os.WNOHANG)
            if ended == 0:  # still drawing: not wanted any more
                os.kill(self.pid, signal.SIGKILL)
                _, status = os.waitpid(self.pid, 0)
        except OSError:
            status = -1
        if status == 0 and data:
            try:
                self.value = pickle.loads(data)
            except Exception:  # a cut-off or unreadable result is no result: draw in-process
                self.value = None


def start(work: Callable[[], object]) -> Drawing | None:
    """Run `work` in a forked copy of this process; None where that is not done or failed."""
    if not usable():
        return None
    try:
        reader, writer = os.pipe()
    except OSError:
        return None
    try:
        with warnings.catch_warnings():  # Python 3.12+ warns about forking with threads around
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
    except OSError:
        os.close(reader)
        os.close(writer)
        return None
    if pid == 0:  # the copy: draw, send, leave
        status = 1
        try:
            signal.alarm(COPY_SECONDS)  # SIGALRM's default action ends the process
            os.close(reader)
            view = memoryview(pickle.dumps(work(), protocol=pickle.HIGHEST_PROTOCOL))
            while view:
                view = view[os.write(writer, view) :]
            status = 0
        except BaseException:  # whatever went wrong, the parent draws in-process instead
            pass
        finally:
            os._exit(status)
    os.close(writer)
    return Drawing(pid, reader)
