"""What a team asks of its pages besides the graph: which tags are in use, and which pages
have not been looked at for longest. Pure functions over the runbook's pages."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from . import frontmatter
from .cards import Runbook
from .disk import read_text
from .frontmatter import as_date
from .suggest import close_names


@dataclass(frozen=True, slots=True)
class PageMeta:
    rel: str
    title: str
    modified: dt.date | None
    tags: tuple[str, ...]
    modified_line: int = 1  # the line of its `modified` key


def page_meta(runbook: Runbook) -> list[PageMeta]:
    """Title, `modified` and tags of every page of the docs tree (cards as read already; other
    pages' frontmatter read here; a page whose frontmatter cannot be read has none)."""
    cards = {card.rel: card for card in runbook.sources.values()}
    found = []
    for page in sorted((page for group in runbook.pages.values() for page in group), key=lambda p: p.rel):
        card = cards.get(page.rel)
        if card is not None:
            found.append(
                PageMeta(page.rel, card.title, card.modified, tuple(card.tags), card.line_of("modified"))
            )
            continue
        values: Mapping[str, object] = {}
        line = 1
        text = read_text(page.path)
        try:
            parsed = frontmatter.parse(text) if text and text != "\x00" else None
        except frontmatter.FrontmatterError:
            parsed = None
        if parsed is not None:
            values, line = parsed.values, parsed.line_of("modified")
        raw_tags = values.get("tags")
        tags = raw_tags if isinstance(raw_tags, list) else [raw_tags] if isinstance(raw_tags, str) else []
        title = values.get("title")
        found.append(
            PageMeta(
                page.rel,
                title if isinstance(title, str) else "",
                as_date(values.get("modified")),
                tuple(str(tag) for tag in tags if isinstance(tag, (str, int, float))),
                line,
            )
        )
    return found


@dataclass
class TagReport:
    pages: dict[str, list[str]] = field(default_factory=dict)  # tag -> pages using it
    near: list[tuple[str, str, str]] = field(default_factory=list)  # (tag, other, why)


def tag_report(pages: list[PageMeta]) -> TagReport:
    """Every tag with its pages, and pairs of tags that are probably one (case, a plural, a
    typo)."""
    report = TagReport()
    for page in pages:
        for tag in page.tags:
            report.pages.setdefault(tag, []).append(page.rel)
    tags = sorted(report.pages)
    seen: set[frozenset[str]] = set()
    for tag in tags:
        others = [other for other in tags if other != tag]
        for other in others:
            pair = frozenset((tag, other))
            if pair in seen:
                continue
            why = None
            if tag.casefold() == other.casefold():
                why = "differ only in case"
            elif tag.casefold().rstrip("s") == other.casefold().rstrip("s"):
                why = "singular and plural"
            elif min(len(tag), len(other)) >= 3 and (
                tag.casefold().startswith(other.casefold()) or other.casefold().startswith(tag.casefold())
            ):
                why = "one starts with the other"
            elif other in close_names(tag, others, n=3) and min(len(tag), len(other)) >= 4:
                why = "spelled alike"
            if why is not None:
                seen.add(pair)
                report.near.append((tag, other, why))
    return report


@dataclass(frozen=True, slots=True)
class StaleRow:
    rel: str
    modified: dt.date | None
    age_days: int | None
    committed: dt.date | None  # the last commit that touched the page, when git knows it


def stale_rows(
    pages: list[PageMeta], today: dt.date, committed: Mapping[str, dt.date] | None = None
) -> list[StaleRow]:
    """Pages by `modified`, oldest first; pages without a date first of all (never dated)."""
    committed = committed or {}
    rows = [
        StaleRow(
            page.rel,
            page.modified,
            (today - page.modified).days if page.modified is not None else None,
            committed.get(page.rel),
        )
        for page in pages
    ]
    return sorted(rows, key=lambda row: (row.modified is not None, row.modified or dt.date.min, row.rel))
