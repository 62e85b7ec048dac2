"""Everything `cardbook check` verifies, as one function over the settings."""

from __future__ import annotations

import datetime as dt

from .cards import MAX_CARD_BYTES, Runbook, is_section_index, load_runbook
from .disk import read_text
from .graph import Graph, build_graph
from .layout import fence_extension_problems, layout_problems, no_cards_problems, raise_first
from .links import index_link_problems, link_problems, orphan_problems
from .pagerules import frontmatter_problems
from .problems import Problem, warning
from .record import Record
from .settings import Settings
from .tangle import TangleResult, tangle


class CheckResult(Record):
    __slots__ = ("runbook", "graph", "tangled", "problems", "diffs", "texts")

    def __init__(
        self,
        runbook: Runbook,
        graph: Graph,
        tangled: TangleResult,
        problems: list[Problem],
        texts: dict[str, str] | None = None,  # every page's Markdown, read once
    ) -> None:
        self.runbook = runbook
        self.graph = graph
        self.tangled = tangled
        self.problems = problems
        # (path, unified diff) between each drifted file on disk and what the cards produce
        self.diffs: list[tuple[str, str]] = []
        self.texts = {} if texts is None else texts

    @property
    def diff(self) -> str:
        return "".join(diff for _, diff in self.diffs)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]


def check_cards(
    settings: Settings, *, today: dt.date | None = None, layout: bool = False
) -> CheckResult:
    """Read the cards, apply every graph rule and tangle in memory; problems unsorted.

    With `layout` (the command line and the site), the project's layout is checked first, and
    a setup that makes the cards unreadable or unrenderable raises ConfigError before anything
    is written.
    """
    if layout:
        raise_first(layout_problems(settings))
    runbook = load_runbook(settings, today=today)
    graph, graph_problems = build_graph(runbook.cards)
    tangled = tangle(runbook, graph)
    if layout:
        needs_fences = any("{" in fence.info for fences in tangled.fences.values() for fence in fences)
        raise_first(fence_extension_problems(settings, needs_fences))
        card_prefixes = tuple(card_root.rstrip("/") + "/" for card_root in settings.card_roots)
        pages_in_roots = any(
            page.rel.startswith(card_prefixes) for group in runbook.pages.values() for page in group
        )
        if not runbook.cards and not pages_in_roots:  # pages that are no cards report themselves
            raise_first(no_cards_problems(settings))
    unchecked = _checks_without_build(tangled, runbook)
    texts = page_texts(runbook)
    link_rules = ("broken-link", "ambiguous-link", "link-folder", "link-spaces", "path-link")
    links = (
        link_problems(runbook.pages, texts, settings.link_ignore)
        if any(settings.severity(rule) != "off" for rule in link_rules)
        else []
    )
    pages = frontmatter_problems(runbook, texts)
    # Rules that are off by default and cost a pass over every page (or a git log) run when on.
    if settings.severity("index-links") != "off":
        pages += index_link_problems(runbook.pages, texts, is_section_index)
    if settings.severity("orphan-page") != "off":
        required = {need.stem for card in runbook.cards.values() for need in card.requires}
        pages += orphan_problems(
            runbook.pages, texts, required, settings.nav_pages, settings.docs_dir, is_section_index
        )
    if settings.severity("unrendered-callout") != "off" and settings.markdown_config is not None:
        # A page without `[!` holds no callout: the module is loaded only for those that may.
        for rel, text in [(rel, text) for rel, text in texts.items() if "[!" in text]:
            from .callouts import callout_problems

            pages += callout_problems(rel, text, settings.markdown_config)
    problems = [*runbook.problems, *graph_problems, *tangled.problems, *unchecked, *links, *pages]
    return CheckResult(runbook, graph, tangled, problems, texts=texts)


def page_texts(runbook: Runbook) -> dict[str, str]:
    """The Markdown of every page: the cards as read already, the other pages read here.

    A page under the card roots that is no card was read as one first: one too large to be a
    card was refused with a message then, and is not read in full here."""
    cards = {card.rel: card.text for card in runbook.sources.values()}
    card_prefixes = tuple(root.rstrip("/") + "/" for root in runbook.settings.card_roots)
    texts = {}
    for group in runbook.pages.values():
        for page in group:
            text = cards.get(page.rel)
            if text is None:
                limit = MAX_CARD_BYTES if page.rel.startswith(card_prefixes) else None
                text = read_text(page.path, limit)
            if text is not None and text != "\x00":
                texts[page.rel] = text
    return texts


def _checks_without_build(tangled: TangleResult, runbook: Runbook) -> list[Problem]:
    """A {.check} block verifies what the card's `build:` builds: without one it never runs."""
    return [
        warning(
            card.rel,
            fence.line,
            "this {.check} block never runs: checks run on what the card's `build:` builds "
            "(cardbook check --nix); add `build:` to the card, or drop .check", rule="check-without-build",
        )
        for stem, fences in tangled.fences.items()
        if not (card := runbook.sources[stem]).build
        for fence in fences
        if fence.is_check
    ]
