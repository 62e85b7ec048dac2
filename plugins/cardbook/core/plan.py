"""The write plan: every write and removal decided before the first one, from what the cards
produce and what is on disk (Entangled's transaction). `cardbook tangle` and the site build
carry a plan out; `cardbook check` shows the same plan as drift, so the two cannot disagree."""

from __future__ import annotations

import difflib
import json
import os
from dataclasses import dataclass, field, replace

from .disk import atomic_write, atomic_write_many, read_text, remove_leftover_temps, runbook_lock
from .ondisk import (
    _DIGEST,
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
from .problems import Problem, error
from .settings import Settings
from .tangle import OutputFile, TangleResult


@dataclass
class WriteReport:
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


# What is on disk ---------------------------------------------------------------------


# Planning and writing -----------------------------------------------------------------


@dataclass
class Plan:
    writes: dict[str, str] = field(default_factory=dict)
    removals: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    # annotate: false only: the digest of each file of the manifest as it is now on disk
    on_disk: dict[str, str] = field(default_factory=dict)
    # What the plan saw on disk (None: missing) for every file it writes, removes or refuses.
    seen: dict[str, str | None] = field(default_factory=dict)
    # Files to get a mode their card asks for (mode=0755), new ones and ones missing its bits.
    modes: dict[str, int] = field(default_factory=dict)


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
        text = read_text(os.path.join(settings.root, rel))
        outcome.seen[rel] = text
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
        outcome.seen[rel] = disk.text
        if rel in manifest and disk.text is not None:
            outcome.on_disk[rel] = _digest(disk.text)
        if disk.state == "edited" and not force:
            outcome.problems.append(edited_message(disk))
        elif disk.state in ("generated", "edited") and unsafe_target(settings, rel, resolved) is None:
            outcome.removals.append(rel)
    for rel in [*outcome.writes, *outcome.unchanged]:  # not the refused ones
        asked = result.files[rel].mode
        mode = _mode_to_set(os.path.join(settings.root, rel), asked) if asked is not None else None
        if mode is not None:
            outcome.modes[rel] = mode
    if not force and not outcome.problems:
        _refuse_mass_removal(outcome, produced_on_disk=present)
    return outcome


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
    """At the fence that names the file (file=), not at a chunk its first lines come from."""
    if output.origin is not None:
        rel, line = output.origin
        return replace(error(rel, line, f"{output.path}: {message}"), subject=output.path)
    return error(output.path, 1, message)


def write_outputs(settings: Settings, result: TangleResult, *, force: bool = False) -> WriteReport:
    report = WriteReport()
    with runbook_lock(settings):
        remove_leftover_temps(settings)
        outcome = plan(settings, result, force=force)
        report.unchanged = [rel for rel in outcome.unchanged if rel not in outcome.modes]
        report.problems = outcome.problems
        if outcome.problems:
            return report
        if not settings.annotate and outcome.writes:
            # Record what is about to be written first: if this run is killed among its renames,
            # the files it already wrote are still known as cardbook's, never as a person's.
            _write_manifest(settings, result, pending=outcome)
        modes = {settings.root / rel: mode for rel, mode in outcome.modes.items() if rel in outcome.writes}
        atomic_write_many({settings.root / rel: text for rel, text in outcome.writes.items()}, modes)
        report.written.extend(outcome.writes)
        for rel, mode in outcome.modes.items():
            if rel not in outcome.writes:  # the text is right, the mode is not
                os.chmod(settings.root / rel, mode)
                report.written.append(rel)
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
    if read_text(path) != text:
        atomic_write(path, text)


# Drift: the plan, shown instead of carried out -------------------------------------------


def drift(settings: Settings, result: TangleResult) -> tuple[list[Problem], list[tuple[str, str]]]:
    """What `cardbook tangle` would do or refuse, as problems, with a diff per file."""
    shown = plan(settings, result)
    problems = list(shown.problems)
    for rel in sorted(shown.writes):
        on_disk = shown.seen.get(rel)
        output = result.files[rel]
        if on_disk is None:
            found = _at_card(output, "missing: the cards produce it; run `cardbook tangle`")
        else:
            found = _first_difference(output, on_disk)
        problems.append(replace(found, subject=rel))
    for rel, mode in sorted(shown.modes.items()):
        if rel not in shown.writes:
            current = os.stat(os.path.join(settings.root, rel)).st_mode & 0o7777
            found = _at_card(
                result.files[rel],
                f"its mode is {current:04o}, the card asks for mode={result.files[rel].mode:04o}: "
                f"run `cardbook tangle` (it becomes {mode:04o})",
            )
            problems.append(found)
    for rel in shown.removals:
        problems.append(
            error(rel, 1, "generated by cardbook but no card produces it any more; run `cardbook tangle`")
        )
    diffs = []
    for rel in sorted({*shown.writes, *shown.removals, *(p.path for p in shown.problems)}):
        if rel not in shown.seen:
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
