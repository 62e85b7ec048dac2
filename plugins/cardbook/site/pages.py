"""Which page is which: the pages an engine converts, the cards among them, and the pages
that hold cardbook's markers (the overview, the All cards graph, the generated-files page)."""

from __future__ import annotations

import re

from cardbook.core.cards import Card
from cardbook.core.check import CheckResult
from cardbook.core.settings import Settings

FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")


def marker_line(lines: list[str], marker: str) -> int | None:
    """The index of the line that is `marker` alone, outside fenced code; a page that shows the
    marker in a code block or a sentence is not the page it marks."""
    fence = ""
    for number, line in enumerate(lines):
        opening = FENCE.match(line)
        if fence:
            if opening and opening[1][0] == fence[0] and len(opening[1]) >= len(fence):
                fence = ""
        elif opening:
            fence = opening[1]
        elif line.strip() == marker and not line.startswith(("    ", "\t")):  # 4 spaces: code
            return number
    return None


def page_sources(result: CheckResult, settings: Settings) -> list[str]:
    """Every Markdown page under docs_dir, relative to it, as an engine names its pages."""
    prefix = settings.docs_prefix
    return sorted(
        page.rel[len(prefix) :]
        for group in result.runbook.pages.values()
        for page in group
        if page.rel.startswith(prefix)
    )


def cards_by_source(result: CheckResult, settings: Settings, pages: set[str]) -> dict[str, Card]:
    prefix = settings.docs_prefix
    found = {}
    for card in result.runbook.cards.values():
        src = card.rel[len(prefix) :] if card.rel.startswith(prefix) else None
        if src is not None and src in pages:
            found[src] = card
    return found


def marked_page(
    texts: dict[str, str], settings: Settings, marker: str, uri: str, pages: set[str]
) -> str | None:
    """Where one of cardbook's pages goes, on every engine alike: the first page holding its
    marker on a line of its own, else the docs' page at its default path, else None."""
    held = page_holding(texts, settings, marker)
    if held is not None and held in pages:
        return held
    return uri if uri in pages else None


def page_holding(texts: dict[str, str], settings: Settings, marker: str) -> str | None:
    """The first page (relative to docs_dir) whose Markdown holds `marker`."""
    prefix = settings.docs_prefix
    for rel in sorted(texts):
        text = texts[rel]
        if rel.startswith(prefix) and marker in text and marker_line(text.split("\n"), marker) is not None:
            return rel[len(prefix) :]
    return None
