"""The write plan: every write and removal decided before the first one, from what the cards
produce and what is on disk (Entangled's transaction). `cardbook tangle` and the site build
carry a plan out; `cardbook check` shows the same plan as drift, so the two cannot disagree."""

from __future__ import annotations

import os
from collections.abc import Iterable

from .disk import DiskError, Journal, apply_changes, atomic_write, kind_of, read_text, runbook_lock
from .markers import block_hash
from .ondisk import (
    _DIGEST,
    OnDisk,
    _digest,
    _manifest_path,
    edited_message,
    foreign_message,
    generated_on_disk,
    inspect,
    read_manifest,
    same_but_digests,
    same_text,
    unsafe_target,
)
from .problems import Problem, error, warning
from .record import Record
from .settings import Settings
from .tangle import OutputFile, TangleResult


class WriteReport(Record):
    __slots__ = ("written", "unchanged", "removed", "problems")

    def __init__(self) -> None:
        self.written: list[str] = []
        self.unchanged: list[str] = []
        self.removed: list[str] = []
        self.problems: list[Problem] = []


# What is on disk ---------------------------------------------------------------------


# Planning and writing -----------------------------------------------------------------


class Plan(Record):
    __slots__ = ("writes", "removals", "unchanged", "problems", "on_disk", "seen", "modes", "edited")

    def __init__(self) -> None:
        self.writes: dict[str, str] = {}
        self.removals: list[str] = []
        self.unchanged: list[str] = []
        self.problems: list[Problem] = []
        # annotate: false only: the digest of each file of the manifest as it is now on disk
        self.on_disk: dict[str, str] = {}
        # What the plan saw on disk (None: missing) for every file it writes, removes or refuses.
        self.seen: dict[str, str | None] = {}
        # Files to get a mode their card asks for (mode=0755), new ones and ones missing its bits.
        self.modes: dict[str, int] = {}
        self.edited: list[str] = []  # files holding a hand edit

    @property
    def refused(self) -> bool:
        """Any error means nothing is written; warnings are only reported."""
        return any(problem.severity == "error" for problem in self.problems)


def plan(
    settings: Settings, result: TangleResult, *, force: bool = False, carried: dict[str, str] | None = None
) -> Plan:
    """Decide every write and removal first; any refusal means nothing is written.

    `carried`: files whose edits a stitch has just carried into the cards, with the text it
    read; each may be replaced while it still holds exactly that text."""
    carried = carried or {}
    outcome = Plan()
    manifest = read_manifest(settings)
    resolved: dict[str, str] = {}
    folders: dict[str, str | None] = {}
    aliased = _one_file_on_disk(settings, result.files, resolved)
    for rel, output in sorted(result.files.items()):
        reason = unsafe_target(settings, rel, resolved) or _folder_obstacle(settings, rel, result, folders)
        if reason is None and rel in aliased:
            reason = f"{rel} and {aliased[rel]} are one file on disk (a symlinked folder joins them)"
        if reason is not None:
            outcome.problems.append(_at_card(output, f"refusing to write: {reason}", "unsafe-target"))
            continue
        text = read_text(os.path.join(settings.root, rel))
        outcome.seen[rel] = text
        if text is not None and rel in manifest:
            outcome.on_disk[rel] = _digest(text)
        # The common case, decided without reading the markers. Identical text proves nothing
        # about ownership without annotations: there only the manifest says the file is ours.
        if text is not None and (settings.annotate or rel in manifest) and same_text(text, output.text):
            outcome.unchanged.append(rel)
            continue
        disk = inspect(settings, rel, manifest, text)
        if disk.state == "foreign":
            first = output.origin[0] if output.origin else output.segments[0].rel if output.segments else None
            outcome.problems.append(foreign_message(disk, first, stylesheet=rel == settings.stylesheet))
        elif (
            disk.state == "edited"
            and not force
            and not same_but_digests(disk.text or "", output.text)
            and carried.get(rel) != disk.text
        ):
            outcome.problems.append(edited_message(disk, output.text))
            outcome.edited.append(rel)
        elif disk.text is not None and same_text(disk.text, output.text):
            outcome.unchanged.append(rel)
        else:
            outcome.writes[rel] = output.text
    skip = {*result.files, *result.unproduced}
    earlier = generated_on_disk(settings, manifest, skip=skip)
    for rel in [*earlier, *(rel for rel in result.retired if rel not in skip and rel not in earlier)]:
        disk = inspect(settings, rel, manifest)
        if disk.state in ("missing", "foreign"):
            continue
        outcome.seen[rel] = disk.text
        if rel in manifest and disk.text is not None:
            outcome.on_disk[rel] = _digest(disk.text)
        stitched = disk.owned and carried.get(rel) == disk.text  # a stitch carried every edit
        problem = None if stitched else _stale_problem(disk, result)
        if problem is not None:
            outcome.problems.append(problem)
            if disk.state == "edited":
                outcome.edited.append(rel)
        elif unsafe_target(settings, rel, resolved, in_docs=rel in result.retired) is None:
            outcome.removals.append(rel)
    for rel in [*outcome.writes, *outcome.unchanged]:  # not the refused ones
        asked = result.files[rel].mode
        mode = _mode_to_set(os.path.join(settings.root, rel), asked) if asked is not None else None
        if mode is not None:
            outcome.modes[rel] = mode
    if not force and not outcome.refused:
        _refuse_mass_removal(outcome, produced=len(result.files))
    return outcome


def _folder_obstacle(
    settings: Settings, rel: str, result: TangleResult, cache: dict[str, str | None]
) -> str | None:
    """Why a folder on the way to `rel` cannot be made: a file this runbook writes, or
    something on disk that is not a folder. `cache` holds the answer per folder."""
    parts = rel.split("/")
    for end in range(1, len(parts)):
        folder = "/".join(parts[:end])
        if folder not in cache:
            path = os.path.join(settings.root, folder)
            if folder in result.files:
                cache[folder] = f"{folder} is also a file the cards write"
            elif os.path.lexists(path) and not os.path.isdir(path):
                cache[folder] = f"{folder} is {kind_of(path)}, not a folder"
            else:
                cache[folder] = None
        if cache[folder] is not None:
            return cache[folder]
    return None


def _stale_problem(disk: OnDisk, result: TangleResult) -> Problem | None:
    """Why a file that no card produces any more must stay, or None to remove it.

    Only a file cardbook can prove it wrote, and that holds no line a person wrote, is ever
    removed; `--force` does not change that (docs/reference/guarantees.md)."""
    if not disk.owned:
        return warning(
            disk.path,
            1,
            "left alone: it looks generated by cardbook but was not written under this name "
            "(a copy, or a file of an older cardbook); no card produces it: delete it if you do not need it",
            rule="generated-copy",
        )
    if disk.state != "edited" or edits_carried(disk, result):
        return None
    if disk.blocks_only and disk.edited_blocks and all(b.key in result.keyed for b in disk.edited_blocks):
        advice = "run `cardbook stitch` to carry the edit into its card, then `cardbook tangle`"
    else:
        advice = "keep what you need from it, then delete it yourself"
    return error(
        disk.path,
        disk.first_line,
        f"no card produces this file any more, and it holds a hand edit ({disk.detail}); "
        f"it is never removed while it does: {advice}", rule="stale-generated",
    )


def edits_carried(disk: OnDisk, result: TangleResult) -> bool:
    """Every edited block of the file now reads as its fence does (a stitch carried the edits)."""
    if not (disk.blocks_only and disk.edited_blocks):
        return False
    for block in disk.edited_blocks:
        fence = result.keyed.get(block.key)
        if fence is None or block_hash(fence.body) != block_hash(block.body):
            return False
    return True


def _mode_to_set(path: str, asked: int) -> int | None:
    """The mode to give a file whose card asks for `asked` (mode=0755), or None to leave it.

    A new file gets `asked`. An existing one only gains the execute bits asked for where it
    can be read already: a mode a person tightened by hand is never loosened."""
    try:
        current = os.stat(path).st_mode & 0o7777
    except FileNotFoundError:
        return asked
    except OSError:
        return None
    wanted = asked & 0o111 & ((current & 0o444) >> 2)
    return current | wanted if current & wanted != wanted else None


def _refuse_mass_removal(outcome: Plan, produced: int) -> None:
    """Removing more than half of the generated files at once is more often a wrong setting (a
    card root renamed, cards moved) than intended: it needs --force."""
    existing = produced + len(outcome.removals)  # a renamed target counts once on each side
    if len(outcome.removals) * 2 <= existing:
        return
    shown = ", ".join(outcome.removals[:3]) + (", ..." if len(outcome.removals) > 3 else "")
    outcome.problems.append(
        error(
            outcome.removals[0],
            1,
            f"refusing to remove {len(outcome.removals)} of {existing} generated files in one run "
            f"({shown}): no card produces them any more; if that is intended, run "
            "`cardbook tangle --force`", rule="mass-removal",
        )
    )


def _at_card(output: OutputFile, message: str, rule: str) -> Problem:
    """At the fence that names the file (file=), not at a chunk its first lines come from."""
    if output.origin is not None:
        rel, line = output.origin
        return error(rel, line, f"{output.path}: {message}", rule=rule).replace(subject=output.path)
    return error(output.path, 1, message, rule=rule)


def _one_file_on_disk(settings: Settings, rels: Iterable[str], resolved: dict[str, str]) -> dict[str, str]:
    """Targets that name one file through a symlinked folder (`nix/sub -> .`: nix/x.nix and
    nix/sub/x.nix), each with another of its names: writing both would let the cards take
    turns over one file, neither run ever clean. `resolved` is unsafe_target's folder cache."""
    root = str(settings.root)
    named: dict[str, str] = {}
    found: dict[str, str] = {}
    for rel in sorted(rels):
        folder, name = os.path.split(os.path.join(root, rel))
        if folder not in resolved:
            resolved[folder] = os.path.realpath(folder)
        first = named.setdefault(os.path.join(resolved[folder], name), rel)
        if first != rel:
            found[rel] = first
            found.setdefault(first, rel)
    return found


def write_outputs(
    settings: Settings, result: TangleResult, *, force: bool = False, carried: dict[str, str] | None = None
) -> WriteReport:
    report = WriteReport()
    with runbook_lock(settings) as journal:
        outcome = plan(settings, result, force=force, carried=carried)
        report.unchanged = [rel for rel in outcome.unchanged if rel not in outcome.modes]
        report.problems = outcome.problems
        if outcome.refused:
            return report
        try:
            if not settings.annotate and outcome.writes:
                # Record what is about to be written first: if this run is killed among its
                # renames, the files it already wrote are still known as cardbook's.
                _write_manifest(settings, result, journal, pending=outcome)
            apply_changes(
                {settings.root / rel: text for rel, text in outcome.writes.items()},
                {settings.root / rel: mode for rel, mode in outcome.modes.items()},
                [settings.root / rel for rel in outcome.removals],
                journal,
            )
            if not settings.annotate:
                _write_manifest(settings, result, journal)
        except DiskError as exc:
            rel = os.path.relpath(exc.path, settings.root)
            refused = error(rel, 1, f"cannot write: {exc.reason}; nothing was changed", rule="cannot-write")
            report.problems = [*report.problems, refused]
            return report
        report.written.extend(outcome.writes)
        report.written.extend(rel for rel in outcome.modes if rel not in outcome.writes)
        report.removed.extend(outcome.removals)
    return report


def _write_manifest(
    settings: Settings, result: TangleResult, journal: Journal, pending: Plan | None = None
) -> None:
    """The record of what cardbook wrote; with `pending`, written before the writes of that plan:
    what each file holds now, and what it is about to hold."""
    data: dict[str, dict[str, str]] = {}
    if pending is None:
        data["files"] = {rel: _digest(output.text) for rel, output in sorted(result.files.items())}
    else:
        data["files"] = dict(sorted(pending.on_disk.items()))
        data["pending"] = {rel: _digest(text) for rel, text in sorted(pending.writes.items())}
    import json  # only with annotate: false: most runs never load it

    text = json.dumps(data, indent=1, sort_keys=True) + "\n"
    path = _manifest_path(settings)
    if read_text(path) != text:
        atomic_write(path, text, journal)


# Drift: the plan, shown instead of carried out -------------------------------------------


def drift(settings: Settings, result: TangleResult) -> tuple[list[Problem], list[tuple[str, str]]]:
    """What `cardbook tangle` would do or refuse, as problems, with a diff per file."""
    shown = plan(settings, result)
    problems = list(shown.problems)
    for rel in sorted(shown.writes):
        on_disk = shown.seen.get(rel)
        output = result.files[rel]
        if on_disk is None:
            why = "the cards produce it"
            if rel == settings.stylesheet:
                why = "the `stylesheet:` option asks for it"
            found = _at_card(output, f"missing: {why}; run `cardbook tangle`", "drift")
        else:
            found = _first_difference(output, on_disk)
        problems.append(found.replace(subject=rel))
    for rel, mode in sorted(shown.modes.items()):
        if rel not in shown.writes:
            current = os.stat(os.path.join(settings.root, rel)).st_mode & 0o7777
            found = _at_card(
                result.files[rel],
                f"its mode is {current:04o}, the card asks for mode={result.files[rel].mode:04o}: "
                f"run `cardbook tangle` (it becomes {mode:04o})",
                "drift",
            )
            problems.append(found)
    for rel in shown.removals:
        what = "no `stylesheet:` option names it" if rel in result.retired else "no card produces it"
        message = f"generated by cardbook but {what} any more; run `cardbook tangle`"
        problems.append(error(rel, 1, message, rule="stale-generated"))
    diffs = []
    for rel in sorted({*shown.writes, *shown.removals, *(p.path for p in shown.problems)}):
        if rel not in shown.seen or shown.seen[rel] == "\x00":  # not a text file: no lines to show
            continue
        expected = result.files[rel].text if rel in result.files else ""
        diffs.append((rel, _diff(rel, shown.seen[rel] or "", expected)))
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
            f"{output.path}:{number} is out of date with this card; run `cardbook tangle`", rule="drift",
        )
    return error(output.path, number, "out of date with the cards; run `cardbook tangle`", rule="drift")


def _diff(rel: str, old: str, new: str) -> str:
    import difflib  # only when a file drifted: a clean `check` never loads it

    lines = difflib.unified_diff(
        old.splitlines(keepends=True),
        new.splitlines(keepends=True),
        fromfile=f"{rel} (on disk)",
        tofile=f"{rel} (from the cards)",
    )
    text = "".join(line if line.endswith("\n") else line + "\n" for line in lines)
    return text
