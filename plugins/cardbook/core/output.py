"""Safe output: generated files are written atomically, only when changed, only inside the
output roots, and never over a person's edit or a hand-written file."""

from __future__ import annotations

import contextlib
import difflib
import fcntl
import hashlib
import json
import os
import re
import stat
import sys
import tempfile
import time
from collections.abc import Container, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .generated import ParsedFile, is_generated, parse_generated
from .markers import RESERVED_PREFIX, comment_style
from .problems import Problem, error
from .settings import Settings
from .tangle import OutputFile, TangleResult

TEMP_PREFIX = RESERVED_PREFIX
MANIFEST = ".cardbook-manifest.json"  # the record of what was written, for annotate: false
LOCK_TIMEOUT = 120.0


@dataclass
class WriteReport:
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def same_text(a: str, b: str) -> bool:
    """Equal but for trailing whitespace at the end, which formatters like to add."""
    return a.rstrip() == b.rstrip()


_DIGEST = re.compile(r"( ~~ begin \S+\[\d+\]) [0-9a-f]{10} ~~")


def same_but_digests(a: str, b: str) -> bool:
    """Equal once the block hashes are left out: after a stitch, only the hashes are stale."""
    return same_text(_DIGEST.sub(r"\1 ~~", a), _DIGEST.sub(r"\1 ~~", b))


def _digest(text: str) -> str:
    return hashlib.sha256(text.rstrip().encode()).hexdigest()


# What is on disk ---------------------------------------------------------------------


@dataclass
class OnDisk:
    path: str
    text: str | None  # None when missing
    state: str  # missing | generated | edited | foreign | unreadable
    detail: str = ""
    first_line: int = 1


def _read(path: str | Path) -> str | None:
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return "\x00"  # a directory, a named pipe (reading blocks), a device: not text we wrote
        with open(path, "rb") as handle:
            return handle.read().decode("utf-8")
    except FileNotFoundError:
        return None
    except (UnicodeDecodeError, IsADirectoryError, NotADirectoryError):
        return "\x00"  # not text we wrote


def inspect(
    settings: Settings, rel: str, manifest: dict[str, tuple[str, ...]], text: str | None = None
) -> OnDisk:
    """Classify the file at `rel`: did cardbook write it, and has a person edited it since?

    `text` is the file's content when the caller has read it already."""
    if text is None:
        text = _read(settings.root / rel)
    if text is None:
        return OnDisk(rel, None, "missing")
    if settings.annotate:
        style = comment_style(settings, rel)
        parsed: ParsedFile | None = parse_generated(text, style) if style else None
        if parsed is None or not parsed.has_record:
            return OnDisk(rel, text, "foreign")
        if parsed.malformed:
            return OnDisk(rel, text, "edited", f"its block markers were changed ({parsed.malformed})")
        if parsed.body_edited:
            return OnDisk(rel, text, "edited", "it was changed after cardbook wrote it", first_line=4)
        if parsed.edited_blocks:
            block = parsed.edited_blocks[0]
            return OnDisk(
                rel, text, "edited", f"block {block.rel}#{block.name} was changed", first_line=block.line + 1
            )
        if parsed.stray_lines:
            return OnDisk(rel, text, "edited", "lines were added outside the blocks", parsed.stray_lines[0])
        return OnDisk(rel, text, "generated")
    recorded = manifest.get(rel)
    if recorded is None:
        return OnDisk(rel, text, "foreign")
    if _digest(text) not in recorded:
        return OnDisk(rel, text, "edited", "it differs from what cardbook last wrote")
    return OnDisk(rel, text, "generated")


def first_edited_line(disk: OnDisk, expected: str) -> int:
    """The first line at or after the edited block's start where the file differs from what
    the cards produce (block hashes aside): where a person's edit begins."""
    if disk.text is None or disk.first_line <= 1:
        return disk.first_line
    have, want = disk.text.split("\n"), expected.split("\n")
    for index in range(disk.first_line - 1, len(have)):
        if index >= len(want) or _DIGEST.sub(r"\1 ~~", have[index]) != _DIGEST.sub(r"\1 ~~", want[index]):
            return index + 1
    return disk.first_line


def edited_message(disk: OnDisk, expected: str | None = None) -> Problem:
    line = disk.first_line if expected is None else first_edited_line(disk, expected)
    return error(
        disk.path,
        line,
        f"edited by hand: {disk.detail}; run `cardbook stitch` to carry the edit into the cards, "
        "or `cardbook tangle --force` to discard it",
    )


def foreign_message(disk: OnDisk, card_rel: str) -> Problem:
    return error(
        disk.path,
        1,
        f"a file cardbook did not write is in the way of {card_rel}: move it away "
        "or change the card's file= target (it is never overwritten)",
    )


def _manifest_path(settings: Settings) -> Path:
    return settings.root / settings.output_roots[0] / MANIFEST


def read_manifest(settings: Settings) -> dict[str, tuple[str, ...]]:
    """The digests cardbook may have left in each file it wrote (annotate: false only).

    `files` is what the last complete run wrote; `pending` what a run was about to write when
    it was interrupted: either content is cardbook's own, so the next run can repair the tree."""
    if settings.annotate:
        return {}
    try:
        text = _read(_manifest_path(settings))
        data = json.loads(text) if text is not None else {}
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    manifest: dict[str, tuple[str, ...]] = {}
    for section in ("files", "pending"):
        entries = data.get(section)
        for rel, digest in entries.items() if isinstance(entries, dict) else ():
            manifest[str(rel)] = (*manifest.get(str(rel), ()), str(digest))
    return manifest


def generated_on_disk(
    settings: Settings, manifest: dict[str, tuple[str, ...]], skip: Container[str] = ()
) -> list[str]:
    """Files under the output roots that cardbook wrote earlier, except those in `skip`.

    The callers pass the files the cards produce, which they have read already: only the
    others are opened here, to look for cardbook's header.
    """
    if not settings.annotate:
        return sorted(rel for rel in manifest if rel not in skip)
    found = []
    project = str(settings.root)
    for root in settings.output_roots:
        base = os.path.join(project, root)
        if not os.path.isdir(base) or os.path.islink(base):
            continue
        for directory, dirnames, filenames in os.walk(base):
            dirnames.sort()
            folder = os.path.relpath(directory, project).replace(os.sep, "/")
            for name in sorted(filenames):
                rel = f"{folder}/{name}"
                if rel in skip or name.startswith(TEMP_PREFIX):
                    continue
                style = comment_style(settings, name)
                path = os.path.join(directory, name)
                if style is None or not _regular(path):
                    continue
                try:
                    with open(path, encoding="utf-8") as handle:
                        head = handle.read(4096)
                except (OSError, UnicodeDecodeError):
                    continue
                if is_generated(head, style):
                    found.append(rel)
    return found


def _regular(path: str) -> bool:
    """A regular file, not a symlink: never open a named pipe, whose read blocks forever."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def unsafe_target(settings: Settings, rel: str, resolved: dict[str, str] | None = None) -> str | None:
    """Why writing `rel` could land outside its output root (symlinks), or None.

    `resolved` caches directory resolutions across the files of one run."""
    cache = resolved if resolved is not None else {}

    def resolve(path: str) -> str:
        if path not in cache:
            cache[path] = os.path.realpath(path)
        return cache[path]

    project_dir = str(settings.root)
    project = resolve(project_dir)
    for root in settings.output_roots:
        if not rel.startswith(root.rstrip("/") + "/"):
            continue
        resolved_root = resolve(os.path.join(project_dir, root))
        if not _inside(resolved_root, project):
            return f"output root {root} leads outside the project (symlink to {resolved_root})"
        target = os.path.join(project_dir, rel)
        if os.path.islink(target):
            return f"{rel} is a symlink"
        parent = resolve(os.path.dirname(target))
        if not _inside(parent, resolved_root):
            return f"a symlinked directory leads {rel} outside {root}/ (to {parent})"
        return None
    return f"{rel} is outside the output roots"


# Planning and writing -----------------------------------------------------------------


@dataclass
class Plan:
    writes: dict[str, str] = field(default_factory=dict)
    removals: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    # annotate: false only: the digest of each file of the manifest as it is now on disk
    on_disk: dict[str, str] = field(default_factory=dict)


def plan(settings: Settings, result: TangleResult, *, force: bool = False) -> Plan:
    """Decide every write and removal first; any refusal means nothing is written."""
    outcome = Plan()
    manifest = read_manifest(settings)
    resolved: dict[str, str] = {}
    present = 0  # files the cards produce that are on disk already
    for rel, output in sorted(result.files.items()):
        reason = unsafe_target(settings, rel, resolved)
        if reason is not None:
            outcome.problems.append(_at_card(output, f"refusing to write: {reason}"))
            continue
        text = _read(os.path.join(settings.root, rel))
        present += text is not None
        if text is not None and rel in manifest:
            outcome.on_disk[rel] = _digest(text)
        # The common case, decided without reading the markers. Identical text proves nothing
        # about ownership without annotations: there only the manifest says the file is ours.
        if text is not None and (settings.annotate or rel in manifest) and same_text(text, output.text):
            outcome.unchanged.append(rel)
            continue
        disk = inspect(settings, rel, manifest, text)
        if disk.state == "foreign":
            first = output.segments[0].rel if output.segments else "a card"
            outcome.problems.append(foreign_message(disk, first))
        elif disk.state == "edited" and not force and not same_but_digests(disk.text or "", output.text):
            outcome.problems.append(edited_message(disk, output.text))
        elif disk.text is not None and same_text(disk.text, output.text):
            outcome.unchanged.append(rel)
        else:
            outcome.writes[rel] = output.text
    for rel in generated_on_disk(settings, manifest, skip=result.files):
        disk = inspect(settings, rel, manifest)
        if disk.state == "missing":
            continue
        if rel in manifest and disk.text is not None:
            outcome.on_disk[rel] = _digest(disk.text)
        if disk.state == "edited" and not force:
            outcome.problems.append(edited_message(disk))
        elif disk.state in ("generated", "edited") and unsafe_target(settings, rel, resolved) is None:
            outcome.removals.append(rel)
    if not force and not outcome.problems:
        _refuse_mass_removal(outcome, produced_on_disk=present)
    return outcome


def _refuse_mass_removal(outcome: Plan, produced_on_disk: int) -> None:
    """Removing more than half of the generated files at once is more often a wrong setting (a
    card root renamed, cards moved) than intended: it needs --force."""
    existing = produced_on_disk + len(outcome.removals)
    if len(outcome.removals) * 2 <= existing:
        return
    shown = ", ".join(outcome.removals[:3]) + (", ..." if len(outcome.removals) > 3 else "")
    outcome.problems.append(
        error(
            outcome.removals[0],
            1,
            f"refusing to remove {len(outcome.removals)} of {existing} generated files in one run "
            f"({shown}): no card produces them any more; if that is intended, run "
            "`cardbook tangle --force`",
        )
    )


def _at_card(output: OutputFile, message: str) -> Problem:
    if output.segments:
        segment = output.segments[0]
        return error(segment.rel, segment.fence_line, f"{output.path}: {message}")
    return error(output.path, 1, message)


def atomic_write(path: Path, text: str) -> None:
    """Write to a temporary file beside the target, then rename over it."""
    atomic_write_many({path: text})


def atomic_write_many(files: dict[Path, str]) -> None:
    """Write each file atomically: every temporary file first, one sync for the whole batch
    (as durable as an fsync per file, and a thousand times cheaper for a thousand files),
    then the renames. Interrupted anywhere, each target holds its old or its new content."""
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


def _remove_leftover_temps(settings: Settings, roots: tuple[str, ...] | None = None) -> None:
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
    or gives up with TimeoutError after `timeout` seconds (LOCK_TIMEOUT by default)."""
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
                        raise TimeoutError(f"{message}: gave up waiting") from None
                    time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def write_outputs(settings: Settings, result: TangleResult, *, force: bool = False) -> WriteReport:
    report = WriteReport()
    with runbook_lock(settings):
        _remove_leftover_temps(settings)
        outcome = plan(settings, result, force=force)
        report.unchanged = outcome.unchanged
        report.problems = outcome.problems
        if outcome.problems:
            return report
        if not settings.annotate and outcome.writes:
            # Record what is about to be written first: if this run is killed among its renames,
            # the files it already wrote are still known as cardbook's, never as a person's.
            _write_manifest(settings, result, pending=outcome)
        atomic_write_many({settings.root / rel: text for rel, text in outcome.writes.items()})
        report.written.extend(outcome.writes)
        for rel in outcome.removals:
            (settings.root / rel).unlink()
            report.removed.append(rel)
        if not settings.annotate:
            _write_manifest(settings, result)
    return report


def _write_manifest(settings: Settings, result: TangleResult, pending: Plan | None = None) -> None:
    """The record of what cardbook wrote; with `pending`, written before the writes of that plan:
    what each file holds now, and what it is about to hold."""
    data: dict[str, dict[str, str]] = {}
    if pending is None:
        data["files"] = {rel: _digest(output.text) for rel, output in sorted(result.files.items())}
    else:
        data["files"] = dict(sorted(pending.on_disk.items()))
        data["pending"] = {rel: _digest(text) for rel, text in sorted(pending.writes.items())}
    text = json.dumps(data, indent=1, sort_keys=True) + "\n"
    path = _manifest_path(settings)
    if _read(path) != text:
        atomic_write(path, text)


# Drift --------------------------------------------------------------------------------


def drift(settings: Settings, result: TangleResult) -> tuple[list[Problem], list[tuple[str, str]]]:
    """Differences between the committed files and what the cards produce, with a diff each."""
    problems: list[Problem] = []
    diffs: list[tuple[str, str]] = []
    manifest = read_manifest(settings)
    for rel, output in sorted(result.files.items()):
        text = _read(os.path.join(settings.root, rel))
        if text is not None and same_text(text, output.text):
            continue  # the common case: no need to read the markers
        disk = inspect(settings, rel, manifest, text)
        if disk.state == "missing":
            problems.append(_at_card(output, "missing: the cards produce it; run `cardbook tangle`"))
            diffs.append((rel, _diff(rel, "", output.text)))
            continue
        assert disk.text is not None
        if disk.state == "foreign":
            first = output.segments[0].rel if output.segments else "a card"
            problems.append(foreign_message(disk, first))
        elif disk.state == "edited" and not same_but_digests(disk.text, output.text):
            problems.append(edited_message(disk, output.text))
        else:
            problems.append(_first_difference(output, disk.text))
        diffs.append((rel, _diff(rel, disk.text, output.text)))
    for rel in generated_on_disk(settings, manifest, skip=result.files):
        problems.append(
            error(rel, 1, "generated by cardbook but no card produces it any more; run `cardbook tangle`")
        )
        diffs.append((rel, _diff(rel, _read(settings.root / rel) or "", "")))
    return problems, diffs


def _first_difference(output: OutputFile, on_disk: str) -> Problem:
    expected = output.text.split("\n")
    actual = on_disk.split("\n")
    pairs = list(enumerate(zip(expected, actual, strict=False), start=1))
    # An edited fence changes its begin marker's hash too: point at the changed line itself.
    number = next(
        (n for n, (want, have) in pairs if _DIGEST.sub(r"\1 ~~", want) != _DIGEST.sub(r"\1 ~~", have)),
        next((n for n, (want, have) in pairs if want != have), min(len(expected), len(actual))),
    )
    source = output.line_sources[number - 1] if 0 < number <= len(output.line_sources) else None
    if source is not None:
        return error(
            source.rel,
            source.line,
            f"{output.path}:{number} is out of date with this card; run `cardbook tangle`",
        )
    return error(output.path, number, "out of date with the cards; run `cardbook tangle`")


def _diff(rel: str, old: str, new: str) -> str:
    lines = difflib.unified_diff(
        old.splitlines(keepends=True),
        new.splitlines(keepends=True),
        fromfile=f"{rel} (on disk)",
        tofile=f"{rel} (from the cards)",
    )
    text = "".join(line if line.endswith("\n") else line + "\n" for line in lines)
    return text
