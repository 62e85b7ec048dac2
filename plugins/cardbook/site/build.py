"""One build's rendering: what cardbook adds to every page, whatever engine runs Markdown.

A `SiteBuild` holds the checked runbook and where every page is. The Python-Markdown extension
(extension.py) calls it for each page, under MkDocs, ProperDocs and Zensical alike:

    prepare(src, markdown)  before Markdown: the overview's sections, wiki-links as
                            placeholders (and the links they stand for), tangling fences titled
    resolve_links(src, html, links) after Markdown: wiki-link placeholders become links
    splice(src, html)       the card header, fence captions, the neighbourhood graph, the
                            overview, the All cards graph and the generated-files page

Page addresses are whatever the engine links by: MkDocs' page URLs (`how-to/a/`), or, under
Zensical, which rewrites every relative link of a page as relative to its source file, the
source paths themselves (`how-to/a.md`). The same renderers serve both (urls.relative_url).
"""

from __future__ import annotations

import contextlib
import functools
import gc
import logging
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field

from cardbook.core.cards import Card
from cardbook.core.check import CheckResult
from cardbook.core.links import body_only
from cardbook.core.problems import Problem
from cardbook.core.settings import Settings
from cardbook.core.titles import page_headings, page_titles

from . import captions, card_page, files_page, overview, prefetch, publish
from .context import PageContext
from .dot import DotError, DotRenderer
from .pages import marker_line
from .styles import StatusStyle, status_styles
from .urls import SiteLinks, ascii_html, file_anchors, wikilink_html
from .wikilinks import PLACEHOLDER, PageIndex, ResolvedLink, default_slugify, rewrite_wikilinks

OVERVIEW_URI = "runbook.md"
GRAPH_URI = "runbook-graph.md"  # every card in one drawing; the overview draws each goal
FILES_URI = "generated-files.md"
DOT_WAIT = 120.0  # seconds the All cards graph waits for Graphviz before drawing it itself
RAW_WAIT = 60.0  # seconds the build's end waits for the second process to write the raw files


@dataclass(frozen=True)
class CardParts:
    """The HTML a card page gets: a header after its title, a graph at its end, captions."""

    header: str
    graph: str
    title_bars: list[tuple[str, str]]  # each tangling block's title bar: (as rendered, with caption)


@dataclass(frozen=True)
class Drawn:
    """What a second process drew for the build (prefetch.py): every card's parts, the
    overview's sections, the generated-files page's body and the All cards graph (None: the
    build has no such page, or Graphviz draws it)."""

    card_parts: dict[str, CardParts]
    overview: dict[str, str] | None
    files: str | None
    whole_graph: str | None = None  # cardbook's own All cards graph, when Graphviz will not draw it


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic collector off for one batch of our own work, and as it was afterwards.

    Reading the cards and drawing every card's parts make many objects and free none: the
    collector would only walk the build's data again and again (0.4 s at 1000 cards). No
    process-wide state outlives our own call."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


log = logging.getLogger("cardbook")


def _say(problem: Problem) -> None:
    log.warning(f"cardbook: {problem.format()}")


@dataclass
class SiteBuild:
    settings: Settings
    result: CheckResult
    links: SiteLinks
    page_urls: dict[str, str]  # page source (relative to docs_dir) -> its address on the site
    card_by_src: dict[str, Card]
    show_tags: bool = True
    slugify: Callable[[str], str] = default_slugify
    overview_src: str | None = None
    graph_src: str | None = None
    files_src: str | None = None
    dot: DotRenderer | None = None
    styles: dict[str, StatusStyle] = field(default_factory=dict)
    page_index: PageIndex = field(default_factory=lambda: PageIndex({}, {}))
    fence_index: captions.FenceIndex | None = None
    generates: dict[str, list[str]] = field(default_factory=dict)
    card_parts: dict[str, CardParts] | None = None  # every card's parts, drawn in one batch
    whole_graph: Future[str] | None = None
    whole_graph_dot: str | None = None  # its Graphviz source, once made (start_whole_graph)
    whole_graph_planned: bool = False  # whole_graph_dot was made: None means cardbook draws it
    source_links: bool = False  # the engine rewrites links relative to the page's source (Zensical)
    inline_css: str = ""  # without the plugin's stylesheet (Zensical), each drawn page carries it
    drawing: prefetch.Drawing | None = None  # a second process drawing the parts (start_drawing)
    drawn: Drawn | None = None  # what it drew, once taken
    # The raw generated files to publish (absolute destination -> text): under MkDocs the
    # second process writes them after its drawing, else publish_raw_files does (publish.py).
    raw_files: dict[str, str] = field(default_factory=dict)
    second: prefetch.Drawing | None = None  # that process, kept until the build's end
    node_facts: dict[str, tuple[str, str, str]] = field(default_factory=dict)  # PageContext.node_facts
    # How a problem found while building is told: the MkDocs plugin's logger (--strict counts
    # its warnings), else cardbook's.
    warn: Callable[[Problem], None] = _say

    def __post_init__(self) -> None:
        self.styles = status_styles(self.settings.statuses)
        tangled = self.result.tangled
        self.fence_index = captions.FenceIndex(tangled)
        self.generates = card_page.generated_paths(tangled)
        self.links.file_anchors = file_anchors(tangled.files)
        # One rule for every page's link text: its title, else its first heading (core/titles).
        titles = page_titles(self.result.runbook, self.result.texts)
        self.page_index = PageIndex.from_sources(self.page_urls, titles)
        self.page_index.headings = functools.cache(self._headings_of)
        cards = self.result.graph.cards
        self.links.pages = {
            stem: (self.page_urls[sources[0]], titles.get(stem, stem))
            for stem, sources in self.page_index.pages.items()
            if len(sources) == 1 and stem not in cards
        }

    def _headings_of(self, src: str) -> dict[str, tuple[str, str]]:
        text = self.result.texts.get(self.settings.docs_prefix + src)
        return page_headings(body_only(text)) if text else {}

    # Before Markdown -------------------------------------------------------------------------

    def prepare(
        self, src: str, markdown: str, offset: int | None = None, *, nested: bool = False
    ) -> tuple[str, list[ResolvedLink]]:
        """The page's Markdown with cardbook's parts in place (the line count is kept for a
        card's own lines), and its wiki-links, which resolve_links puts in after Markdown.
        `offset`: file lines before `markdown` (its frontmatter), if known. `nested`: Markdown
        another extension converts inside the page (markdown-exec's output, say): its
        wiki-links only, resolved as the page's."""
        links: list[ResolvedLink] = []
        if not nested:
            if src == self.overview_src:
                markdown = at_marker(markdown, overview.OVERVIEW_MARKER, overview.overview_markdown())
            elif src == self.graph_src:
                markdown = at_marker(markdown, overview.GRAPH_MARKER, overview.placeholder("graph"))
            elif src == self.files_src:
                files_spot = overview.placeholder("generated-files")
                markdown = at_marker(markdown, files_page.GENERATED_MARKER, files_spot)
        card = None if nested else self.card_by_src.get(src)
        original = markdown
        if "[[" in markdown:
            markdown, problems = rewrite_wikilinks(
                markdown,
                page_src=src,
                index=self.page_index,
                rel=self.settings.docs_prefix + src,
                slugify=self.slugify,
                placeholders=links,
            )
            # A link that resolves nowhere is reported by the check (core.links), for every page,
            # but not one in Markdown another extension makes during the build (markdown-exec's
            # output): the build says so (found by an outside probe: the page showed the link
            # as text, the build and the check were clean). MkDocs' --strict fails on it.
            for problem in problems if nested else ():
                made = f"{problem.message}, in Markdown made for the page during the build"
                # at the page's top: the lines are the made Markdown's, not the page's
                self.warn(Problem(problem.path, 1, problem.severity, made, rule=problem.rule))
        if card is None:
            return markdown, links
        if self.fence_index is not None:
            if offset is None:
                offset = line_offset(card.text, original)
            markdown = captions.title_fences(markdown, offset, card, self.fence_index)
        return markdown, links

    # After Markdown --------------------------------------------------------------------------

    def resolve_links(self, src: str, html: str, links: list[ResolvedLink]) -> str:
        """Wiki-link placeholders become links (before the search index reads the page):
        `links`, as prepare found them in the same conversion."""
        if not links or "cardbookwikilink" not in html:
            return html
        page_url = self.page_urls.get(src, src)

        def link(found: object) -> str:
            number = int(found[1])  # type: ignore[index]
            if number >= len(links):
                return found[0]  # type: ignore[index]  # the word was in the page itself, not ours
            resolved = links[number]
            target = self.page_urls.get(resolved.target) if resolved.target else page_url
            return ascii_html(wikilink_html(target, resolved.anchor, resolved.label, page_url))

        return PLACEHOLDER.sub(link, html)

    def splice(self, src: str, html: str) -> str:
        """A whole page's HTML with cardbook's parts: a card's header after its title, its
        captions and its graph at its end; the overview, graph and files pages' content at
        their markers. A page of no concern comes back unchanged."""
        page_url = self.page_urls.get(src, src)
        original = html
        card = self.card_by_src.get(src)
        if card is not None:
            parts = self.parts(src)
            html = captions.replace_in_order(html, parts.title_bars)
            html = card_page.insert_after_title(html, parts.header) + parts.graph
        if src == self.overview_src and overview.placeholder("overview-summary") in html:
            drawn = self._take_drawn()
            sections = (
                drawn.overview
                if drawn is not None and drawn.overview is not None
                else overview.overview_sections(self.context(page_url), graphs=self.settings.graphs)
            )
            for name, section in sections.items():
                html = html.replace(overview.placeholder(name), ascii_html(section), 1)
        if src == self.graph_src and overview.placeholder("graph") in html:
            whole = ascii_html(self.whole_graph_html(page_url))
            html = html.replace(overview.placeholder("graph"), whole, 1)
        if src == self.files_src and overview.placeholder("generated-files") in html:
            drawn = self._take_drawn()
            body = (
                drawn.files
                if drawn is not None and drawn.files is not None
                else files_page.generated_files_html(
                    self.result.tangled, self.context(page_url), self.settings.stylesheet
                )
            )
            html = html.replace(overview.placeholder("generated-files"), ascii_html(body), 1)
        if self.inline_css and html is not original:
            html = f"{html}\n<style>{self.inline_css}</style>"  # last: the title stays first
        return html

    def concerns(self, src: str) -> bool:
        return src in self.card_by_src or src in (self.overview_src, self.graph_src, self.files_src)

    # The parts -------------------------------------------------------------------------------

    def context(self, page_url: str) -> PageContext:
        return PageContext(self.result.graph, self.links, self.styles, page_url, self.node_facts)

    def parts(self, src: str) -> CardParts:
        """A card page's parts. Every card's are drawn in one batch: by the second process when
        one was started (a page that comes before it is done draws its own), else here at the
        first call, in one tight loop: spread over the pages, the theme's templating evicts
        their data from the CPU caches in between, and the same work takes about three times
        as long."""
        if self.card_parts is None:
            drawn = self._take_drawn()
            if drawn is not None:
                self.card_parts = drawn.card_parts
            elif self.drawing is not None:  # still drawing
                return self._card_parts(self.card_by_src[src], self.page_urls.get(src, src))
            else:
                with collector_paused():
                    self.card_parts = self._every_card_parts()
        found = self.card_parts.get(src)
        return found if found is not None else self._card_parts(self.card_by_src[src], src)

    def _every_card_parts(self) -> dict[str, CardParts]:
        return {
            page: self._card_parts(card, self.page_urls[page])
            for page, card in self.card_by_src.items()
            if page in self.page_urls
        }

    # Drawing in a second process (prefetch.py) -------------------------------------------------

    def start_drawing(self) -> None:
        """Have a second process draw every card's parts, the overview and the files page
        while the engine converts pages. Call it before any thread of ours starts."""
        if self.drawing is None and self.drawn is None and self.card_parts is None:
            self._plan_whole_graph()  # before the fork: the copy draws it when Graphviz will not
            then = self._write_raw_files if self.raw_files else None
            self.drawing = self.second = prefetch.start(self._draw_everything, then)

    @property
    def raw_files_aside(self) -> bool:
        """The second process was started to write the raw files (until the build closes)."""
        return self.second is not None and self.second.then

    def _write_raw_files(self) -> None:
        publish.write_files(self.raw_files)

    def publish_raw_files(self) -> None:
        """At the build's end: the raw files the second process was to write are in the site,
        written by it or, if it did not finish them, here."""
        if self.second is None or not self.second.then:
            return  # no second process took them: the engine wrote them with the other files
        if not self.second.wait(RAW_WAIT):
            self._write_raw_files()

    def _draw_everything(self) -> Drawn:
        """Runs in the second process."""
        gc.disable()  # a short-lived copy: nothing it makes needs collecting
        sections = files = None
        if self.overview_src is not None:
            ctx = self.context(self.page_urls.get(self.overview_src, self.overview_src))
            sections = overview.overview_sections(ctx, graphs=self.settings.graphs)
        if self.files_src is not None:
            ctx = self.context(self.page_urls.get(self.files_src, self.files_src))
            files = files_page.generated_files_html(self.result.tangled, ctx, self.settings.stylesheet)
        whole = None
        if self.graph_src is not None and self.whole_graph_planned and self.whole_graph_dot is None:
            whole = self._own_whole_graph(self._graph_page_url())
        return Drawn(self._every_card_parts(), sections, files, whole)

    def _graph_page_url(self) -> str | None:
        return self.page_urls.get(self.graph_src, self.graph_src) if self.graph_src else None

    def _take_drawn(self) -> Drawn | None:
        """What the second process drew, if it is done; None while it draws, or if it failed
        (then `drawing` is None and the caller draws in-process)."""
        if self.drawing is not None:
            found = self.drawing.result()
            if found is prefetch.PENDING:
                return None
            self.drawing = None
            self.drawn = found if isinstance(found, Drawn) else None
        return self.drawn

    def close(self) -> None:
        """The build is over: stop a second process still drawing."""
        if self.second is not None:
            self.second.close()
            self.second = None
        self.drawing = None

    def _card_parts(self, card: Card, url: str) -> CardParts:
        ctx = self.context(url)
        generates = self.generates.get(card.stem, [])
        header = card_page.card_header(card, ctx, generates=generates, show_tags=self.show_tags)
        section = ""
        if self.settings.graphs:
            section = card_page.neighbourhood_section(card_page.neighbourhood_svg(card.stem, ctx), ctx)
        bars = captions.fence_title_bars(card, self.fence_index, ctx) if self.fence_index else []
        captioned = [(bar, ascii_html(new)) for bar, new in bars]
        return CardParts(ascii_html(header), ascii_html(section), captioned)

    def _plan_whole_graph(self) -> None:
        """Make the All cards graph's Graphviz source once; it stays None when there is no such
        page, no Graphviz, or dot could not keep the graph within the page's width."""
        if self.whole_graph_planned or self.links.graph_url is None:
            return
        self.whole_graph_planned = True
        if self.dot is not None and self.dot.available:
            self.whole_graph_dot = overview.full_graph_dot(self.context(self.links.graph_url))

    def start_whole_graph(self) -> str | None:
        """Graphviz draws the All cards graph in a thread while pages render; None, or why not."""
        if self.links.graph_url is None or self.dot is None or self.whole_graph is not None:
            return None
        if not self.dot.available:
            return "Graphviz dot not found: the All cards graph uses cardbook's own layout (install graphviz)"
        self._plan_whole_graph()
        if self.whole_graph_dot is not None:  # None: too wide for dot; cardbook draws it instead
            self.whole_graph = self.dot.submit(self.whole_graph_dot)
        return None

    def _own_whole_graph(self, page_url: str) -> str:
        """The All cards graph in cardbook's own layout, captioned with why not Graphviz's."""
        ctx = self.context(page_url)
        if self.dot is not None and self.dot.available:  # full_graph_dot found it too wide for dot
            return overview.full_graph_html(ctx, None)
        return overview.full_graph_html(ctx, None, "Drawn by cardbook: Graphviz is not installed.")

    def whole_graph_html(self, page_url: str) -> str:
        """The All cards graph: Graphviz's drawing when it came in time and fits the page."""
        ctx = self.context(page_url)
        self.start_whole_graph()
        if self.whole_graph is None:
            drawn = self._take_drawn()
            if drawn is not None and drawn.whole_graph is not None and page_url == self._graph_page_url():
                return drawn.whole_graph  # drawn by the copy, for this page's address
            return self._own_whole_graph(page_url)
        try:
            svg = self.whole_graph.result(timeout=DOT_WAIT)
        except (DotError, FutureTimeout):
            return overview.full_graph_html(ctx, None, "Drawn by cardbook: Graphviz failed.")
        if self.source_links:  # Zensical rewrites an SVG link's `href`, not Graphviz's `xlink:href`
            svg = svg.replace(' xlink:href="', ' href="')
        return overview.full_graph_html(ctx, svg)


def at_marker(markdown: str, marker: str, content: str) -> str:
    """`markdown` with its marker line replaced by `content`, or `content` appended."""
    lines = markdown.split("\n")
    at = marker_line(lines, marker)
    if at is None:
        return markdown.rstrip() + "\n\n" + content + "\n"
    lines[at] = content
    return "\n".join(lines)


def line_offset(source: str, markdown: str) -> int:
    """File lines before the Markdown the engine hands over (its frontmatter), 0 if unknown.

    MkDocs reads a page with universal newlines: a card saved with CRLF reaches it with LF."""
    if "\r" in source and "\r" not in markdown:
        source = source.replace("\r\n", "\n").replace("\r", "\n")
    if source.endswith(markdown):
        return source.count("\n", 0, len(source) - len(markdown))
    stripped = markdown.lstrip("\n")
    if stripped and source.endswith(stripped):  # Zensical drops the blank lines after it too
        return source.count("\n", 0, len(source) - len(stripped)) - (len(markdown) - len(stripped))
    return 0
