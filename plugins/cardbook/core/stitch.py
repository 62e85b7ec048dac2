"""Stitch: carry edits made inside generated files back into the fences they came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import PurePosixPath

from .cards import Card, Runbook
from .disk import atomic_write, read_text, remove_leftover_temps, runbook_lock
from .fences import Fence
from .generated import ParsedBlock, parse_generated
from .markers import block_hash, comment_style
from .problems import Problem, error
from .settings import Settings
from .tangle import TangleResult


@dataclass
class StitchReport:
    cards_written: list[str] = field(default_factory=list)
    blocks: int = 0
    problems: list[Problem] = field(default_factory=list)


def _find_fence(result: TangleResult, card: Card, name: str, index: int) -> Fence | None:
    seen = 0
    for fence in result.fences.get(card.stem, []):
        # As in tangle.collect_blocks: `#id file=` blocks are named by their id.
        fence_name = fence.id if fence.id is not None else PurePosixPath(fence.file or "").as_posix()
        if fence_name == name:
            if seen == index:
                return fence
            seen += 1
    return None


def collect_edits(
    settings: Settings, result: TangleResult
) -> tuple[dict[tuple[str, str, int], tuple[ParsedBlock, str]], list[Problem]]:
    """Edited blocks of every generated file, keyed by (card path, name, index)."""
    edits: dict[tuple[str, str, int], tuple[ParsedBlock, str]] = {}
    problems: list[Problem] = []
    for rel in sorted(result.files):
        style = comment_style(settings, rel)
        text = read_text(settings.root / rel)
        if text is None or style is None:
            continue
        parsed = parse_generated(text, style)
        if parsed is None:
            continue
        if parsed.malformed:
            problems.append(error(rel, 1, f"cannot stitch: {parsed.malformed}"))
            continue
        if parsed.stray_lines:
            problems.append(
                error(
                    rel,
                    parsed.stray_lines[0],
                    "cannot stitch: lines outside every block belong to no card; move them inside a block",
                )
            )
            continue
        for block in parsed.edited_blocks:
            previous = edits.get(block.key)
            if previous is not None and previous[0].body != block.body:
                problems.append(
                    error(
                        rel,
                        block.line,
                        f"cannot stitch: {block.rel}#{block.name} was edited differently in {previous[1]}",
                    )
                )
                continue
            edits[block.key] = (block, rel)
    return edits, problems


def stitch(settings: Settings, runbook: Runbook, result: TangleResult) -> StitchReport:
    report = StitchReport()
    if not settings.annotate:
        report.problems.append(
            error(
                settings.config_name,
                1,
                "stitch needs the block markers: it does not work with annotate: false",
            )
        )
        return report
    cards_by_rel = {card.rel: card for card in runbook.cards.values()}
    with runbook_lock(settings):
        remove_leftover_temps(settings, settings.card_roots)  # from a stitch killed mid-write
        edits, problems = collect_edits(settings, result)
        report.problems.extend(problems)
        replacements: dict[str, list[tuple[Fence, list[str]]]] = {}
        for (rel, name, index), (block, file_rel) in sorted(edits.items()):
            card = cards_by_rel.get(rel)
            fence = _find_fence(result, card, name, index) if card is not None else None
            if card is None or fence is None:
                report.problems.append(
                    error(file_rel, block.line, f"cannot stitch: {rel} no longer has block {name}[{index}]")
                )
                continue
            if block_hash(fence.body) == block_hash(block.body):
                continue  # the card already holds this edit: a stitch interrupted before its tangle
            if block_hash(fence.body) != block.digest:
                report.problems.append(
                    error(
                        card.rel,
                        fence.line,
                        f"both this card and {file_rel}:{block.line} changed block {name}: "
                        "nothing was stitched; merge the two edits by hand",
                    )
                )
                continue
            replacements.setdefault(card.rel, []).append((fence, block.body))
        if report.problems:
            return report
        for rel, changes in sorted(replacements.items()):
            card = cards_by_rel[rel]
            atomic_write(card.path, _replace_fences(card, changes))
            report.cards_written.append(rel)
            report.blocks += len(changes)
    return report


def _replace_fences(card: Card, changes: list[tuple[Fence, list[str]]]) -> str:
    """The card text with each fence body replaced; every other byte stays as it was."""
    raw = card.path.read_bytes().decode("utf-8")
    bom = "\ufeff" if raw.startswith("\ufeff") else ""
    lines = raw[len(bom) :].split("\n")
    for fence, body in sorted(changes, key=lambda change: change[0].line, reverse=True):
        first = fence.line  # index of the first body line (fence.line is 1-based)
        old = lines[first : first + len(fence.body)]
        crlf = (bool(old) and old[0].endswith("\r")) or (not old and lines[fence.line - 1].endswith("\r"))
        new = [(fence.indent + line if line else line) + ("\r" if crlf else "") for line in body]
        lines[first : first + len(fence.body)] = new
    return bom + "\n".join(lines)
