"""Drawing in a second process while the engine converts pages.

Every card's header and neighbourhood graph, the overview's goal graphs and the generated-files
page are pure functions of the checked runbook: about a second of work at 1000 cards, while the
engine itself keeps one core busy converting pages. A forked copy of the build draws them on
another core and sends the result through a pipe; a page takes it when it needs it, and draws
its own part itself when the copy is not done yet or failed, so the site is the same either way
(tests/test_site_build.py builds it both ways and compares).

Once the result is sent, the copy can go on with work whose result the build does not need to
read, only to know it was done (`then`: the MkDocs plugin has it write the raw generated files
into the site); `Drawing.wait` says whether it was, and the caller does it itself if not.

Only where forking a running interpreter is sound: POSIX but not macOS (whose system
libraries are not safe to use in a forked child), and more than one CPU to draw on. The copy
runs cardbook's drawing code only, never the engine's, and leaves with os._exit, so none of
the parent's cleanup runs twice.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import select
import signal
import sys
import time
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

    def __init__(self, pid: int, reader: int, *, then: bool = False) -> None:
        self.pid = pid
        self.reader = reader
        self.then = then  # the copy goes on after sending its result
        self.chunks: list[bytes] = []
        self.finished = False  # the result was read (or given up on)
        self.value: object = None
        self.status: int | None = None  # the copy's exit status, once it ended and was reaped

    def result(self) -> object:
        """The work's result, PENDING while the copy is drawing, None when it failed."""
        if self.finished:
            return self.value
        ready, _, _ = select.select([self.reader], [], [], 0)
        if not ready:
            return PENDING
        self._read_to_end()
        return self.value

    def _read_to_end(self) -> None:
        """Read what the copy sends until it closes the pipe, and take it if it is whole (a
        result cut off by a copy that died sending does not unpickle)."""
        whole = False
        try:
            while True:
                chunk = os.read(self.reader, CHUNK)
                if not chunk:
                    whole = True
                    break
                self.chunks.append(chunk)
                if not select.select([self.reader], [], [], READ_TIMEOUT)[0]:
                    self.chunks.clear()
                    break
        except OSError:
            self.chunks.clear()
        self._stop_reading()
        if not whole:  # stuck: it will not finish anything
            self.close()
        elif not self.then:  # the copy leaves once its result is out: no zombie left behind
            self._reap(block=True)

    def _stop_reading(self) -> None:
        self.finished = True
        data = b"".join(self.chunks)
        self.chunks.clear()
        os.close(self.reader)
        if data:
            try:
                self.value = pickle.loads(data)
            except Exception:  # a cut-off or unreadable result is no result: draw in-process
                self.value = None

    def wait(self, timeout: float) -> bool:
        """Whether the copy did all its work, `then` included: it is waited for up to `timeout`
        seconds (its result read meanwhile, so that it is never stuck on a full pipe), and
        stopped if it is not done by then."""
        if not self.finished:
            self._read_to_end()
        deadline = time.monotonic() + timeout
        while self.status is None and time.monotonic() < deadline:
            if not self._reap(block=False):
                time.sleep(0.01)
        if self.status is None:
            self.close()
        return self.status == 0

    def close(self) -> None:
        """Stop the copy if it still runs: neither its result nor the rest of its work is
        wanted any more. A result it sent whole before is kept."""
        if not self.finished:
            self._stop_reading()
        if self.status is None and not self._reap(block=False):
            with contextlib.suppress(OSError):
                os.kill(self.pid, signal.SIGKILL)
            self._reap(block=True)

    def _reap(self, *, block: bool) -> bool:
        """Take the copy's exit status if it ended (or wait until it does); True once taken."""
        try:
            ended, status = os.waitpid(self.pid, 0 if block else os.WNOHANG)
        except OSError:
            ended, status = self.pid, -1
        if ended == 0:
            return False
        self.status = status
        return True


def start(work: Callable[[], object], then: Callable[[], None] | None = None) -> Drawing | None:
    """Run `work` in a forked copy of this process, then `then` once the result is sent; None
    where that is not done or failed."""
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
    if pid == 0:  # the copy: draw, send, do the rest, leave
        status = 1
        try:
            signal.alarm(COPY_SECONDS)  # SIGALRM's default action ends the process
            os.close(reader)
            view = memoryview(pickle.dumps(work(), protocol=pickle.HIGHEST_PROTOCOL))
            while view:
                view = view[os.write(writer, view) :]
            os.close(writer)  # the result is whole: the parent reads it while the rest runs
            status = 2
            if then is not None:
                then()
            status = 0
        except BaseException:  # whatever went wrong, the parent does it in-process instead
            pass
        finally:
            os._exit(status)
    os.close(writer)
    return Drawing(pid, reader, then=then is not None)
