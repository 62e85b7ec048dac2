"""Safe file operations: reading without blocking, atomic writes, and the runbook's lock."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import stat
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from .markers import RESERVED_PREFIX
from .settings import Settings

TEMP_PREFIX = RESERVED_PREFIX


class LockError(Exception):
    """The runbook's lock cannot be taken: its file or folder is not what cardbook made."""


class LockTimeout(LockError):
    """Another cardbook run kept the runbook locked longer than the caller would wait."""


class DiskError(Exception):
    """The machine refused a write (a full disk, a read-only folder, an immutable file); every
    file is as it was before the run. `path` is the file the step was for."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"cannot write {path}: {reason}")
        self.path = path
        self.reason = reason


LOCK_TIMEOUT = 120.0


def inside(path: str, folder: str) -> bool:
    """`path` is `folder` or below it (posix paths, compared as strings)."""
    return path == folder or path.startswith(folder.rstrip("/") + "/")


# What Path.is_file() takes for "no file here" rather than an error to report.
_NO_FILE = frozenset({errno.ENOENT, errno.ENOTDIR, errno.EBADF, errno.ELOOP})


def file_stat(path: str | Path) -> os.stat_result | None:
    """The stat of a regular file (symlinks followed), or None where Path.is_file() is False;
    other errors are raised, as is_file() raises them. One stat where is_file() and a stat()
    for the size made two."""
    try:
        info = os.stat(path)
    except OSError as exc:
        if exc.errno in _NO_FILE:
            return None
        raise
    except ValueError:  # a name the file system cannot take (a NUL, an unencodable character)
        return None
    return info if stat.S_ISREG(info.st_mode) else None


def read_known_size(path: str | Path, size: int) -> bytes:
    """The bytes of a file that a stat just found regular and `size` bytes long: one open and
    one read, without the buffered file object (and its own fstat) that open() builds around
    them. Read to the end, as open().read() does, should the file have changed since the stat
    or the read come back short."""
    fd = os.open(path, os.O_RDONLY)  # os.open's descriptors are close-on-exec, as open()'s are
    try:
        data = os.read(fd, size + 1)
        if len(data) != size:
            chunks = [data]
            while chunk := os.read(fd, 1 << 20):
                chunks.append(chunk)
            data = b"".join(chunks)
        return data
    finally:
        os.close(fd)


def walk_with_links(top: str) -> Iterator[tuple[str, list[str], list[str], set[str]]]:
    """os.walk(top), each folder with the names in it that are symlinks: the folder listing
    tells, where os.path.islink would take one more system call per file. As os.walk, a
    folder that cannot be listed is left out, and a symlink to a folder is not followed; the
    caller may sort or shorten the folder names to walk next."""
    try:
        with os.scandir(top) as listing:
            entries = list(listing)
    except OSError:
        return
    dirnames, filenames, links = [], [], set()
    for entry in entries:
        try:
            is_dir = entry.is_dir()
        except OSError:
            is_dir = False
        (dirnames if is_dir else filenames).append(entry.name)
        try:
            if entry.is_symlink():
                links.add(entry.name)
        except OSError:
            pass
    yield top, dirnames, filenames, links
    for name in dirnames:
        if name not in links:
            yield from walk_with_links(os.path.join(top, name))


def read_text(path: str | Path, max_bytes: int | None = None) -> str | None:
    """The file's UTF-8 text; None when it does not exist; "\x00" when it is no text to read:
    not a regular file, not UTF-8, or (with max_bytes) larger than that, which is not read."""
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            return "\x00"  # a directory, a named pipe (reading blocks), a device: not text we wrote
        if max_bytes is not None and info.st_size > max_bytes:
            return "\x00"
        return read_known_size(path, info.st_size).decode("utf-8")
    except FileNotFoundError:
        return None
    except (UnicodeDecodeError, IsADirectoryError, NotADirectoryError):
        return "\x00"  # not text we wrote (a file where a folder on the way should be)
    except OSError as exc:
        if exc.errno == errno.ENAMETOOLONG:
            return None  # no such file can exist; writing it is refused with its own message
        if exc.errno == errno.ELOOP:
            return "\x00"  # a symlink loop: no text we wrote
        raise


def kind_of(path: str | Path) -> str:
    """What is at a path, in words (for messages about something in the way)."""
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return "missing"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISLNK(mode):
        return "a symlink to a file" if os.path.exists(path) else "a symlink to nothing"
    return "a file" if stat.S_ISREG(mode) else "not a regular file"


def regular_file(path: str) -> bool:
    """A regular file, not a symlink: never open a named pipe, whose read blocks forever."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def atomic_write(path: Path, text: str, journal: Journal | None = None) -> None:
    """Write to a temporary file beside the target, then rename over it."""
    apply_changes({path: text}, journal=journal)


def apply_changes(
    writes: dict[Path, str],
    modes: dict[Path, int] | None = None,
    removals: Sequence[Path] = (),
    journal: Journal | None = None,
) -> None:
    """Write, re-mode and remove files as one change: all of it happens, or none of it.

    Every temporary file is written first, with one sync for the whole batch (as durable as an
    fsync per file, and a thousand times cheaper for a thousand files); then each target is
    replaced, each mode set and each file to remove renamed aside. If the machine refuses any
    step (a full disk, a read-only folder, an immutable file), the steps taken are undone from
    copies kept until the end, and DiskError names the file. A file keeps its mode, or gets the
    one in `modes`; a new file otherwise gets the umask's. Every temporary name is recorded in
    the journal before the file exists: a run killed in the middle leaves nothing the next run
    cannot tell from a person's file."""
    modes = modes or {}
    temps: list[tuple[Path, Path]] = []  # (temporary file, target)
    aside: list[Path] = []  # old contents and removed files, deleted once everything is done
    undo: list[Callable[[], None]] = []
    folders: set[Path] = set()  # known to exist: one check per folder, not per file
    new_file_mode = 0o666 & ~_umask()
    current: Path | None = None
    try:
        for path, text in writes.items():
            current = path
            if path.parent not in folders:
                _make_folders(path.parent, undo)
                folders.add(path.parent)
            temp, descriptor = _temporary(path, journal)
            temps.append((temp, path))
            try:
                _write_all(descriptor, text.encode("utf-8"))
                if path in modes:
                    mode = modes[path]
                else:
                    try:
                        mode = os.stat(path).st_mode & 0o777
                    except OSError as exc:  # as Path.exists() takes it: no file here, or raise
                        if exc.errno not in _NO_FILE:
                            raise
                        mode = new_file_mode
                os.fchmod(descriptor, mode)
                if len(writes) == 1:
                    os.fsync(descriptor)
            finally:
                os.close(descriptor)
        if len(writes) > 1:
            os.sync()
        for temp, path in temps:
            current = path
            if os.path.lexists(path):
                old = _reserved(path, journal)
                _keep_copy(path, old)
                aside.append(old)
                os.replace(temp, path)
                undo.append(lambda path=path, old=old: os.replace(old, path))
            else:
                os.replace(temp, path)
                undo.append(lambda path=path: os.unlink(path))
        for path, mode in modes.items():
            if path not in writes:
                current = path
                before = os.stat(path).st_mode & 0o7777
                os.chmod(path, mode)
                undo.append(lambda path=path, before=before: os.chmod(path, before))
        for path in removals:
            current = path
            old = _reserved(path, journal)
            os.replace(path, old)
            aside.append(old)
            undo.append(lambda path=path, old=old: os.replace(old, path))
    except BaseException as exc:
        with interrupts_held():  # a second Ctrl-C must not leave the undoing half done
            for temp, _ in temps:  # first, so that the folders made for them are empty again
                _quietly_remove(temp)
            for step in reversed(undo):
                with contextlib.suppress(OSError):
                    step()
            for leftover in aside:
                _quietly_remove(leftover)
            if journal is not None:  # one made just before the interrupt, not yet in `temps`
                journal.remove_leftovers()
        if isinstance(exc, OSError) and current is not None:
            raise DiskError(current, exc.strerror or str(exc)) from None
        raise
    with interrupts_held():  # the change is made: a Ctrl-C now waits for the old copies to go
        for old in aside:
            _quietly_remove(old)
        if journal is not None:
            journal.clear()


@contextlib.contextmanager
def interrupts_held() -> Iterator[None]:
    """Ctrl-C held until the block is done, then delivered, the caller's handler back: a cleanup
    runs to its end. Outside the main thread (no handler can be set there) it runs as it is."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: held.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if held:
            if callable(previous):
                previous(signal.SIGINT, None)  # Python's own handler raises KeyboardInterrupt
            elif previous == signal.SIG_DFL:
                os.kill(os.getpid(), signal.SIGINT)


def _make_folders(folder: Path, undo: list[Callable[[], None]]) -> None:
    """Make `folder` and its missing parents; undoing removes each one made (if still empty)."""
    missing = []
    while not folder.is_dir():
        missing.append(folder)
        folder = folder.parent
    for made in reversed(missing):
        made.mkdir()
        undo.append(made.rmdir)


def _keep_copy(path: Path, copy: Path) -> None:
    """The old content to go back to: a hard link, or a real copy where links fail."""
    _quietly_remove(copy)
    try:
        os.link(path, copy, follow_symlinks=False)
    except OSError:
        import shutil  # writes only, where links fail: `check` never loads it

        shutil.copy2(path, copy, follow_symlinks=False)


def _temporary(path: Path, journal: Journal | None) -> tuple[Path, int]:
    """A new, empty file beside `path` under a name of cardbook's, recorded before it exists,
    and its descriptor, open for writing."""
    # The target's name, shortened so the whole name stays within 255 bytes.
    hint = path.name.encode()[:200].decode(errors="ignore")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    while True:
        temp = path.parent / f"{TEMP_PREFIX}{hint}.{os.urandom(4).hex()}.tmp"
        if journal is not None:
            journal.record(temp)
        try:
            return temp, os.open(temp, flags, 0o600)
        except FileExistsError:
            continue


def _reserved(path: Path, journal: Journal | None) -> Path:
    """A name of cardbook's beside `path`, recorded, its empty file made: for what is moved aside."""
    temp, descriptor = _temporary(path, journal)
    os.close(descriptor)
    return temp


def _write_all(descriptor: int, data: bytes) -> None:
    """os.write until every byte is out (a write may take fewer than it was given)."""
    view = memoryview(data)
    while view:
        view = view[os.write(descriptor, view) :]


def _quietly_remove(path: Path) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


class Journal:
    """The temporary files of the run holding the runbook's lock, one path per line, each
    recorded before the file is made. A run killed in the middle leaves its temporary files
    listed here; the next run removes exactly those, never a person's file of a similar name."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._descriptor: int | None = None  # open while the run records: one open per batch

    def record(self, temp: Path) -> None:
        line = os.fsencode(str(temp.absolute())) + b"\n"
        if self._descriptor is None:
            flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
            self._descriptor = os.open(self.path, flags, 0o600)
        _write_all(self._descriptor, line)

    def close(self) -> None:
        if self._descriptor is not None:
            os.close(self._descriptor)
            self._descriptor = None

    def clear(self) -> None:
        self.close()
        _quietly_remove(self.path)

    def remove_leftovers(self) -> None:
        """Remove the temporary files a killed run left behind: only those it recorded."""
        try:
            with open(self.path, "rb") as handle:
                recorded = handle.read().split(b"\n")
        except OSError:
            return
        for raw in recorded:
            path = os.fsdecode(raw)
            if raw and os.path.basename(path).startswith(TEMP_PREFIX) and regular_file(path):
                _quietly_remove(Path(path))
        self.clear()


def lock_directory() -> Path:
    """Per user, so another user's folder of the same name is never in the way."""
    import tempfile  # locking only: `check` never loads it

    return Path(tempfile.gettempdir()) / f"cardbook-locks-{os.getuid()}"


def _lock_path(root: Path, suffix: str) -> Path:
    """The lock (or journal) of the runbook at `root`: one per project folder."""
    import hashlib  # locking only (markers.py loads it for `check` anyway)

    key = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:16]
    return lock_directory() / f"{key}{suffix}"


def journal_of(root: Path) -> Journal:
    return Journal(_lock_path(root, ".journal"))


def _open_lock(path: Path) -> int:
    """The lock file, opened without following a symlink or blocking on a named pipe."""
    directory = path.parent
    try:
        directory.mkdir(mode=0o700, exist_ok=True)
    except FileExistsError:
        pass
    except OSError as exc:
        raise LockError(f"cannot make the lock folder {directory}: {exc.strerror}") from None
    if directory.is_symlink() or not directory.is_dir():
        raise LockError(f"cannot lock the runbook: {directory} is not a folder; remove it")
    flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        descriptor = os.open(path, flags, 0o600)
    except OSError as exc:
        kind = {errno.ELOOP: "a symlink", errno.EISDIR: "a folder"}.get(exc.errno or 0)
        reason = f"{path} is {kind}; remove it" if kind else f"{path}: {exc.strerror}"
        raise LockError(f"cannot lock the runbook: {reason}") from None
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        os.close(descriptor)
        raise LockError(f"cannot lock the runbook: {path} is not a regular file; remove it")
    return descriptor


@contextlib.contextmanager
def runbook_lock(settings: Settings, *, timeout: float | None = None) -> Iterator[Journal]:
    """One writer per runbook at a time: a second run waits (saying so) until the first ends,
    or gives up with LockTimeout after `timeout` seconds (LOCK_TIMEOUT by default). The holder
    gets the runbook's journal of temporary files, cleared of a killed run's leftovers."""
    timeout = LOCK_TIMEOUT if timeout is None else timeout
    descriptor = _open_lock(_lock_path(settings.root, ".lock"))
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"cardbook: waiting for another run writing {settings.root} ...", file=sys.stderr)
            deadline = time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        message = f"another cardbook run kept {settings.root} locked for {timeout:g} s"
                        raise LockTimeout(f"{message}: gave up waiting") from None
                    time.sleep(0.05)
        journal = Journal(_lock_path(settings.root, ".journal"))
        journal.remove_leftovers()
        try:
            yield journal
        finally:
            journal.close()
    finally:
        os.close(descriptor)  # closing releases the lock
