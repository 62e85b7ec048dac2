"""Safe file operations: reading without blocking, atomic writes, and the runbook's lock."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import stat
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from .markers import RESERVED_PREFIX
from .settings import Settings

TEMP_PREFIX = RESERVED_PREFIX


class LockTimeout(Exception):
    """Another cardbook run kept the runbook locked longer than the caller would wait."""


LOCK_TIMEOUT = 120.0


def inside(path: str, folder: str) -> bool:
    """`path` is `folder` or below it (posix paths, compared as strings)."""
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def read_text(path: str | Path) -> str | None:
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return "\x00"  # a directory, a named pipe (reading blocks), a device: not text we wrote
        with open(path, "rb") as handle:
            return handle.read().decode("utf-8")
    except FileNotFoundError:
        return None
    except (UnicodeDecodeError, IsADirectoryError, NotADirectoryError):
        return "\x00"  # not text we wrote


def regular_file(path: str) -> bool:
    """A regular file, not a symlink: never open a named pipe, whose read blocks forever."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def atomic_write(path: Path, text: str) -> None:
    """Write to a temporary file beside the target, then rename over it."""
    atomic_write_many({path: text})


def atomic_write_many(files: dict[Path, str], modes: dict[Path, int] | None = None) -> None:
    """Write each file atomically: every temporary file first, one sync for the whole batch
    (as durable as an fsync per file, and a thousand times cheaper for a thousand files),
    then the renames. Interrupted anywhere, each target holds its old or its new content.

    A file keeps its mode, or gets the one in `modes`; a new file otherwise gets the umask's."""
    modes = modes or {}
    temps: list[tuple[str, Path]] = []
    try:
        for path, text in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, temp = tempfile.mkstemp(dir=path.parent, prefix=TEMP_PREFIX, suffix=".tmp")
            temps.append((temp, path))
            with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
                stream.write(text)
                if len(files) == 1:
                    stream.flush()
                    os.fsync(stream.fileno())
            if path in modes:
                mode = modes[path]
            else:
                mode = path.stat().st_mode & 0o777 if path.exists() else 0o666 & ~_umask()
            os.chmod(temp, mode)
        if len(files) > 1:
            os.sync()
        for temp, path in temps:
            os.replace(temp, path)
    except BaseException:
        for temp, _ in temps:
            with contextlib.suppress(OSError):
                os.unlink(temp)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def remove_leftover_temps(settings: Settings, roots: tuple[str, ...] | None = None) -> None:
    """An interrupted run may leave its temporary file behind; the target itself is intact.

    Call with the runbook's lock held: another run's temporary files are never removed."""
    for root in settings.output_roots if roots is None else roots:
        base = settings.root / root
        if not base.is_dir() or base.is_symlink():
            continue
        for directory, _, filenames in os.walk(base):
            for name in filenames:
                if name.startswith(TEMP_PREFIX) and name.endswith(".tmp"):
                    with contextlib.suppress(OSError):
                        os.unlink(Path(directory, name))


@contextlib.contextmanager
def runbook_lock(settings: Settings, *, timeout: float | None = None) -> Iterator[None]:
    """One writer per runbook at a time: a second run waits (saying so) until the first ends,
    or gives up with LockTimeout after `timeout` seconds (LOCK_TIMEOUT by default)."""
    timeout = LOCK_TIMEOUT if timeout is None else timeout
    key = hashlib.sha256(str(settings.root.resolve()).encode()).hexdigest()[:16]
    directory = Path(tempfile.gettempdir()) / "cardbook-locks"
    directory.mkdir(exist_ok=True)
    with open(directory / f"{key}.lock", "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"cardbook: waiting for another run writing {settings.root} ...", file=sys.stderr)
            deadline = time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        message = f"another cardbook run kept {settings.root} locked for {timeout:g} s"
                        raise LockTimeout(f"{message}: gave up waiting") from None
                    time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
