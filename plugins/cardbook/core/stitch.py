"""Stitch: carry edits made inside generated files back into the fences they came from."""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from .cards import CONFLICT_LINE, Card, Runbook
from .disk import DiskError, apply_changes, read_text, runbook_lock
from .fences import FENCE_LINE, Fence
from .generated import ParsedBlock, parse_generated
from .markers import block_hash, comment_style
from .ondisk import editor_changes, generated_on_disk
from .problems import ConfigError, Problem, error
from .settings import Settings
from .tangle import TangleResult

_CONFLICT = re.compile(CONFLICT_LINE)


@dataclass
class StitchReport:
    cards_written: list[str] = field(default_factory=list)
    blocks: int = 0
    problems: list[Problem] = field(default_factory=list)
    # The generated files the edits came from, with the text stitch read: once the cards
    # hold every edit, the next write may replace exactly that text (see plan.write_outputs).
    carried: dict[str, str] = field(default_factory=dict)
    dated: list[str] = field(default_factory=list)  # cards whose `modified` became today


def _edited_files(settings: Settings, result: TangleResult) -> list[str]:
    """The files to look for edits in: those the cards produce, and those no card produces any
    more that name their own path (a card's `file=` target changed after the edit)."""
    stale = generated_on_disk(settings, {}, skip=result.files)
    return [*sorted(result.files), *stale]


def collect_edits(
    settings: Settings, result: TangleResult, seen: dict[str, str] | None = None
) -> tuple[dict[tuple[str, str, int], tuple[ParsedBlock, str]], list[Problem]]:
    """Edited blocks of every generated file, keyed by (card path, name, index); `seen` gets
    the text of each file that has any."""
    edits: dict[tuple[str, str, int], tuple[ParsedBlock, str]] = {}
    problems: list[Problem] = []
    seen = {} if seen is None else seen
    for rel in _edited_files(settings, result):
        style = comment_style(settings, rel)
        text = read_text(settings.root / rel)
        if text is None or style is None:
            continue
        parsed = parse_generated(editor_changes(text)[0], style)
        if parsed is None or (rel not in result.files and parsed.named_path != rel):
            continue  # not cardbook's, or a copy of a generated file under another name
        if parsed.malformed:
            message = f"cannot stitch: {parsed.malformed}: restore the marker lines first"
            problems.append(error(rel, 1, message, rule="stitch"))
            continue
        outside = parsed.header_edited or (parsed.stray_lines[0] if parsed.stray_lines else 0)
        if outside:
            problems.append(
                error(
                    rel,
                    outside,
                    "cannot stitch: lines outside every block belong to no card; move them inside a block",
                    rule="stitch",
                )
            )
            continue
        for block in parsed.edited_blocks:
            if any(_CONFLICT.match(line) for line in block.body):
                message = "cannot stitch: the block holds an unresolved merge conflict; resolve it first"
                problems.append(error(rel, block.line, message, rule="stitch"))
                continue
            previous = edits.get(block.key)
            if previous is not None and previous[0].body != block.body:
                problems.append(
                    error(
                        rel,
                        block.line,
                        f"cannot stitch: {block.rel}#{block.name} was edited differently in {previous[1]}",
                        rule="stitch",
                    )
                )
                continue
            edits[block.key] = (block, rel)
            seen[rel] = text
    return edits, problems


def stitch(
    settings: Settings, runbook: Runbook, result: TangleResult, today: dt.date | None = None
) -> StitchReport:
    """Carry every edited block into its card; a card's `modified` date becomes today."""
    report = StitchReport()
    today = today or dt.date.today()
    if not settings.annotate:  # the setup, not the cards: exit status 2
        raise ConfigError(
            error(
                settings.config_name,
                settings.line_of("annotate"),
                "stitch needs the block markers: it does not work with annotate: false", rule="config",
            )
        )
    cards_by_rel = {card.rel: card for card in runbook.sources.values()}
    with runbook_lock(settings) as journal:
        edits, problems = collect_edits(settings, result, report.carried)
        report.problems.extend(problems)
        replacements: dict[str, list[tuple[Fence, list[str]]]] = {}
        for (rel, name, index), (block, file_rel) in sorted(edits.items()):
            card = cards_by_rel.get(rel)
            fence = result.keyed.get((rel, name, index)) if card is not None else None
            if card is None or fence is None:
                message = (
                    f"cannot stitch: {rel} no longer has block {name}[{index}]"
                    if card is not None
                    else f"cannot stitch: the card {rel} no longer exists (renamed or removed?): copy the "
                    "edit into the card by hand"
                )
                report.problems.append(error(file_rel, block.line, message, rule="stitch"))
                continue
            if block_hash(fence.body) == block_hash(block.body):
                continue  # the card already holds this edit: a stitch interrupted before its tangle
            added = block.literal_references[0] if block.literal_references else ""
            if added:  # the next tangle would expand the line: the edit would not survive as written
                message = (
                    f"cannot stitch: the edit adds the line {added!r}, which a tangle reads as a chunk "
                    "reference and replaces by that chunk; write the line another way (it cannot stand "
                    "alone in a block)"
                )
                report.problems.append(error(file_rel, block.line, message, rule="stitch"))
                continue
            if block_hash(fence.body) != block.digest:
                report.problems.append(
                    error(
                        card.rel,
                        fence.line,
                        f"both this card and {file_rel}:{block.line} changed block {name}: "
                        "nothing was stitched; merge the two edits by hand", rule="stitch",
                    )
                )
                continue
            replacements.setdefault(card.rel, []).append((fence, block.body))
        if report.problems:
            return report
        writes: dict[Path, str] = {}
        for rel, changes in sorted(replacements.items()):
            card = cards_by_rel[rel]
            # Through a symlinked card to the file it points at: the link stays a link.
            text = _replace_fences(card, changes)
            dated = _dated(text, card.key_lines.get("modified"), today)
            if dated is not None:
                text = dated
                report.dated.append(rel)
            writes[Path(os.path.realpath(card.path))] = text
        try:
            apply_changes(writes, journal=journal)  # every card or none
        except DiskError as exc:
            rel = os.path.relpath(exc.path, settings.root)
            report.problems.append(
                error(rel, 1, f"cannot write: {exc.reason}; no card was changed", rule="cannot-write")
            )
            return report
        report.cards_written = sorted(replacements)
        report.blocks = sum(len(changes) for changes in replacements.values())
    return report


def _replace_fences(card: Card, changes: list[tuple[Fence, list[str]]]) -> str:
    """The card text with each fence body replaced; every other byte stays as it was, but for
    a fence made longer when the new body holds a line that would close it."""
    raw = card.path.read_bytes().decode("utf-8")
    bom = "\ufeff" if raw.startswith("\ufeff") else ""
    lines = raw[len(bom) :].split("\n")
    for fence, body in sorted(changes, key=lambda change: change[0].line, reverse=True):
        first = fence.line  # index of the first body line (fence.line is 1-based)
        old = lines[first : first + len(fence.body)]
        crlf = (bool(old) and old[0].endswith("\r")) or (not old and lines[fence.line - 1].endswith("\r"))
        new = [(fence.indent + line if line else line) + ("\r" if crlf else "") for line in body]
        closing = first + len(fence.body)
        _lengthen(lines, fence.line - 1, closing if closing < len(lines) else None, body)
        lines[first:closing] = new
    return bom + "\n".join(lines)


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _dated(text: str, line: int | None, today: dt.date) -> str | None:
    """The card text with the date on its `modified:` line (1-based `line`) set to today, or
    None when there is no such date or it is today already."""
    if line is None:
        return None
    bom = "\ufeff" if text.startswith("\ufeff") else ""
    lines = text[len(bom) :].split("\n")
    if line > len(lines) or not lines[line - 1].lstrip().startswith("modified"):
        return None
    found = _DATE.search(lines[line - 1])
    if found is None or found.group() == today.isoformat():
        return None
    lines[line - 1] = lines[line - 1][: found.start()] + today.isoformat() + lines[line - 1][found.end() :]
    return bom + "\n".join(lines)


def _lengthen(lines: list[str], opening: int, closing: int | None, body: list[str]) -> None:
    """Make the fence at lines[opening] (closed at lines[closing]) longer than any run of its
    character that a line of `body` holds alone, so that line cannot close it early."""
    found = FENCE_LINE.match(lines[opening].rstrip("\r"))
    if found is None:
        return
    mark = found["fence"]
    longest = max(
        (len(line.strip()) for line in body if line.strip() and set(line.strip()) == {mark[0]}),
        default=0,
    )
    if longest < len(mark):
        return
    longer = mark[0] * (longest + 1)
    lines[opening] = lines[opening].replace(mark, longer, 1)
    if closing is not None and mark in lines[closing]:
        lines[closing] = lines[closing].replace(mark, longer, 1)
