"""The thin MkDocs adapter over the cardbook core.

Per build: read and check the cards once, tangle and write the generated files (the same rules
as `cardbook tangle`), then hand each page's context to the pure renderers of this site part and
wikilinks.py. Nothing is ever written into docs_dir: the overview, the generated-files page,
the raw generated files and the stylesheet are virtual files (`File.generated`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import gc
import os
import re
from collections.abc import Iterator
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mkdocs.config import base
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.livereload import LiveReloadServer
from mkdocs.plugins import BasePlugin, event_priority, get_plugin_logger
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

from cardbook.core.cards import Card
from cardbook.core.check import CheckResult
from cardbook.core.disk import LockError
from cardbook.core.inventory import page_titles
from cardbook.core.layout import layout_problems, raise_first
from cardbook.core.problems import ConfigError, Problem, plural
from cardbook.core.settings import Settings, load_settings
from cardbook.core.tangle import TangleResult
from cardbook.pipeline import load_and_check

from . import captions, card_page, files_page, overview
from .context import PageContext
from .dot import DotError, DotRenderer
from .styles import StatusStyle, status_css, status_styles
from .urls import SiteLinks, file_anchors, wikilink_html
from .wikilinks import PLACEHOLDER, PageIndex, ResolvedLink, default_slugify, rewrite_wikilinks

log = get_plugin_logger(__name__)

OVERVIEW_URI = "runbook.md"
GRAPH_URI = "runbook-graph.md"  # every card in one drawing; the overview draws each goal
FILES_URI = "generated-files.md"
CSS_URI = "assets/cardbook/cardbook.css"
STATIC_CSS = Path(__file__).with_name("assets") / "cardbook.css"
DOT_WAIT = 120.0  # seconds the overview waits for Graphviz before drawing it itself


@dataclass(frozen=True)
class CardParts:
    """The HTML a card page gets: a header after its title, a graph at its end, captions."""

    header: str
    graph: str
    title_bars: list[tuple[str, str]]  # each tangling block's title bar: (as rendered, with caption)


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic collector off for one batch of our own work, and as it was afterwards.

    Reading the cards and drawing every card's parts make many objects and free none: the
    collector would only walk the build's data again and again (0.4 s at 1000 cards). No
    process-wide state outlives our own call, and no gc.freeze touches other plugins' objects."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


class CardbookPlugin(BasePlugin):  # type: ignore[type-arg]  # no typed config: see load_config
    def load_config(
        self, options: dict[str, Any], config_file_path: str | None = None
    ) -> tuple[list[Any], list[Any]]:
        """Keep the options as written; cardbook's own schema validates them in on_config.

        The `cardbook` command reads the same entry of mkdocs.yml with the same schema
        (core.settings), so the site and the command accept and refuse exactly the same
        options, each problem reported at its own line. MkDocs handles `enabled` itself."""
        self.config = base.LegacyConfig((), config_file_path=config_file_path)
        return [], []

    def __init__(self) -> None:
        self.serving = False
        self.dot = DotRenderer()  # kept across `mkdocs serve` rebuilds: its memory cache too
        self._reset()

    def _reset(self) -> None:
        """Per-build state; `mkdocs serve` reuses this instance for every rebuild."""
        self.settings: Settings | None = None
        self.result: CheckResult | None = None
        self.tangled: TangleResult | None = None
        self.links = SiteLinks({})
        self.styles: dict[str, StatusStyle] = {}
        self.fence_index: captions.FenceIndex | None = None
        self.generates: dict[str, list[str]] = {}
        self.card_by_src: dict[str, Card] = {}
        self.card_parts: dict[str, CardParts] = {}
        self.page_index = PageIndex({}, {})
        self.page_urls: dict[str, str] = {}
        self.wikilinks: dict[str, list[ResolvedLink]] = {}  # page -> links behind its placeholders
        self.overview_src: str | None = None
        self.graph_src: str | None = None
        self.files_src: str | None = None
        self.overview_graph: Future[str] | None = None
        self.show_tags = True
        self.slugify = default_slugify

    # Configuration and the build's data ------------------------------------------------------

    def on_startup(self, *, command: str, dirty: bool) -> None:
        self.serving = command == "serve"

    def on_config(self, config: MkDocsConfig) -> MkDocsConfig:
        self._reset()
        try:
            # The same reading of mkdocs.yml as the `cardbook` command: one set of rules, and
            # every problem at its own line.
            self.settings = load_settings(Path(config.config_file_path))
            written = os.path.realpath(self.settings.root / self.settings.site_dir)
            if os.path.realpath(config.site_dir) != written:
                # `mkdocs build -d DIR` overrides mkdocs.yml: check the folder MkDocs will empty
                self.settings = dataclasses.replace(self.settings, site_dir=str(config.site_dir))
            raise_first(layout_problems(self.settings))
        except ConfigError as exc:
            raise PluginError("\n".join(problem.format() for problem in exc.problems)) from None
        self.styles = status_styles(self.settings.statuses)
        # Material shows frontmatter tags itself when its tags plugin is on: no second copy.
        self.show_tags = not any(name in config.plugins for name in ("tags", "material/tags"))
        toc = config.mdx_configs.get("toc", {})
        if callable(toc.get("slugify")):  # heading ids made like the toc extension makes them
            custom, separator = toc["slugify"], toc.get("separator", "-")
            self.slugify = functools.lru_cache(maxsize=4096)(lambda text: custom(text, separator))
        if CSS_URI not in [str(entry) for entry in config.extra_css]:
            config.extra_css.append(CSS_URI)
        return config

    def on_pre_build(self, *, config: MkDocsConfig) -> None:
        assert self.settings is not None
        try:
            with collector_paused():
                self.result = load_and_check(self.settings, layout=True)
        except ConfigError as exc:
            raise PluginError("\n".join(problem.format() for problem in exc.problems)) from None
        tangled = self.result.tangled
        problems = self.result.problems  # the card, graph and tangle problems of `cardbook check`
        self.tangled = tangled
        self.fence_index = captions.FenceIndex(tangled)
        self.generates = card_page.generated_paths(tangled)
        for problem in problems:  # warnings fail `mkdocs build --strict`; info never does
            (log.info if problem.severity == "info" else log.warning)(problem.format())
        errors = [problem for problem in problems if problem.severity == "error"]
        if errors:
            log.warning(
                f"generated files not written: {plural(len(errors), 'error')} in the cards (see above)"
            )
            return
        self._write_outputs(tangled)

    def _write_outputs(self, tangled: TangleResult) -> None:
        from cardbook.core.plan import write_outputs  # the core's safe writer: atomic, never over a hand edit

        assert self.settings is not None
        try:
            report = write_outputs(self.settings, tangled)
        except LockError as exc:  # another cardbook run holds the runbook's lock, or it cannot be made
            self._refuse(str(exc))
            return
        refusals = [problem for problem in report.problems if problem.severity == "error"]
        for problem in report.problems:
            if problem not in refusals:
                log.warning(problem.format())
        if refusals:
            self._refuse("\n".join([*(problem.format() for problem in refusals), "nothing written"]))
            return
        if report.written or report.removed:
            log.info(
                f"generated files: {len(report.written)} written, {len(report.removed)} removed, "
                f"{len(report.unchanged)} unchanged"
            )

    def _refuse(self, message: str) -> None:
        """Stop a build; while serving, report and keep serving (the files stay as they are)."""
        if self.serving:
            log.error(message)
            return
        raise PluginError(message)

    def on_files(self, files: Files, *, config: MkDocsConfig) -> Files:
        assert self.settings is not None and self.result is not None and self.tangled is not None
        cards = self.result.runbook.cards
        docs_dir = self.settings.docs_dir
        card_urls: dict[str, str] = {}
        by_uri = files.src_uris  # a dict: no path object made per card
        prefix = "" if docs_dir in ("", ".") else docs_dir.rstrip("/") + "/"
        for card in cards.values():
            src = card.rel[len(prefix) :] if card.rel.startswith(prefix) else None
            file = by_uri.get(src) if src is not None else None
            if file is not None and file.is_documentation_page():
                card_urls[card.stem] = file.url
                self.card_by_src[src] = card
        css = STATIC_CSS.read_text(encoding="utf-8")
        files.append(File.generated(config, CSS_URI, content=status_css(self.styles) + "\n" + css))
        self.links = SiteLinks(card_urls)
        if cards:
            self.overview_src = self._page(files, config, OVERVIEW_URI, "# Runbook overview\n\n")
            self.links.overview_url = files.get_file_from_path(self.overview_src).url
            if self.settings.graphs:
                self.graph_src = self._page(files, config, GRAPH_URI, overview.GRAPH_PAGE_HEADING)
                self.links.graph_url = files.get_file_from_path(self.graph_src).url
        # Ordinary pages tangle too: a runbook whose chains are all closed and stripped (no card
        # left) still publishes its generated files. One that tangles nothing gets no empty page.
        if self.tangled.files or (cards and files.get_file_from_path(FILES_URI) is not None):
            self.files_src = self._page(files, config, FILES_URI, "# Generated files\n\n")
            self.links.files_page_url = files.get_file_from_path(self.files_src).url
        self.links.file_anchors = file_anchors(self.tangled.files)
        for path, output in sorted(self.tangled.files.items()):
            if files.get_file_from_path(path) is not None:
                log.warning(f"{path}: a docs file has the same path; the generated file is not published")
                continue
            raw = File.generated(config, path, content=output.text)
            files.append(raw)
            self.links.raw_urls[path] = raw.url
        # One rule for every page's link text: its title, else its first heading (core/inventory).
        titles = page_titles(self.result.runbook, self.result.texts) if self.result else {}
        self.page_urls = {file.src_uri: file.url for file in files.documentation_pages()}
        self.page_index = PageIndex.from_sources(self.page_urls, titles)
        self._start_overview_graph()
        return files

    @staticmethod
    def _page(files: Files, config: MkDocsConfig, uri: str, heading: str) -> str:
        """A page of ours: the docs' own file when there is one, else a virtual one."""
        if files.get_file_from_path(uri) is None:
            markers = {OVERVIEW_URI: overview.OVERVIEW_MARKER, GRAPH_URI: overview.GRAPH_MARKER}
            marker = markers.get(uri, files_page.GENERATED_MARKER)
            files.append(File.generated(config, uri, content=heading + marker + "\n"))
        return uri

    def _start_overview_graph(self) -> None:
        """Graphviz runs in a thread while MkDocs renders the pages; on_page_context collects it."""
        if self.links.graph_url is None:  # no cards, or graphs turned off: no page to draw for
            return
        if not self.dot.available:
            log.info(
                "Graphviz dot not found: the All cards graph uses cardbook's own layout (install graphviz)"
            )
            return
        source = overview.full_graph_dot(self._context(self.links.graph_url))
        if source is not None:  # None: too wide for dot; full_graph_html draws it instead
            self.overview_graph = self.dot.submit(source)

    def on_serve(self, server: LiveReloadServer, *, config: MkDocsConfig, builder: Any) -> LiveReloadServer:
        """Saving a card re-tangles; a hand edit under an output root is reported at once."""
        assert self.settings is not None
        docs_dir = Path(config.docs_dir).resolve()
        for folder in (*self.settings.card_roots, *self.settings.output_roots):
            path = (self.settings.root / folder).resolve()
            if path.is_dir() and not path.is_relative_to(docs_dir):
                server.watch(str(path))
        return server

    # Pages ---------------------------------------------------------------------------------

    def _warn(self, problems: list[Problem]) -> None:
        for problem in problems:
            (log.info if problem.severity == "info" else log.warning)(problem.format())

    def on_page_markdown(self, markdown: str, *, page: Page, config: MkDocsConfig, files: Files) -> str:
        src = page.file.src_uri
        if src == self.overview_src:
            sections = overview.overview_markdown()
            if overview.OVERVIEW_MARKER in markdown:
                markdown = markdown.replace(overview.OVERVIEW_MARKER, sections, 1)
            else:
                markdown = markdown.rstrip() + "\n\n" + sections + "\n"
        elif src == self.graph_src and overview.GRAPH_MARKER not in markdown:
            markdown = markdown.rstrip() + "\n\n" + overview.GRAPH_MARKER + "\n"
        elif src == self.files_src and files_page.GENERATED_MARKER not in markdown:
            markdown = markdown.rstrip() + "\n\n" + files_page.GENERATED_MARKER + "\n"
        card = self.card_by_src.get(src)
        original = markdown  # line numbers refer to this text; wiki-links keep the line count
        if "[[" in markdown:
            links: list[ResolvedLink] = []
            markdown, _problems = rewrite_wikilinks(
                markdown,
                page_src=src,
                index=self.page_index,
                rel=src,
                slugify=self.slugify,
                placeholders=links,
            )
            if links:
                self.wikilinks[src] = links
            # A link that resolves nowhere is reported by the check (core.links), for every page.
        if card is not None and self.fence_index is not None:
            markdown = captions.title_fences(
                markdown, self._line_offset(page, original, card), card, self.fence_index
            )
        return markdown

    def _rel(self, page: Page) -> str:
        """The page's path for messages: relative to the project, like the core's."""
        if page.file.abs_src_path is None or self.settings is None:
            return page.file.src_uri
        path = Path(page.file.abs_src_path)
        root = self.settings.root.resolve()
        return (
            path.resolve().relative_to(root).as_posix() if path.resolve().is_relative_to(root) else str(path)
        )

    @staticmethod
    def _line_offset(page: Page, markdown: str, card: Card | None) -> int:
        """File lines before the Markdown MkDocs hands us (its frontmatter), 0 if unknown."""
        if card is not None:
            source = card.text
        elif page.file.generated_by is None:
            source = page.file.content_string
        else:
            return 0
        if source.endswith(markdown):
            return source.count("\n", 0, len(source) - len(markdown))
        return 0

    def on_page_content(self, html: str, *, page: Page, config: MkDocsConfig, files: Files) -> str:
        """Wiki-links become real links here, before the search plugin reads the page."""
        links = self.wikilinks.pop(page.file.src_uri, None)
        if links:
            html = PLACEHOLDER.sub(lambda found: self._wikilink(found, links, page.file.url), html)
        return html

    def _wikilink(self, found: re.Match[str], links: list[ResolvedLink], page_url: str) -> str:
        number = int(found[1])
        if number >= len(links):
            return found[0]  # the word was in the page itself, not one of ours
        link = links[number]
        target = self.page_urls.get(link.target) if link.target else page_url
        return wikilink_html(target, link.anchor, link.label, page_url)

    def on_env(self, env: Any, *, config: MkDocsConfig, files: Files) -> Any:
        """Render every card's header, graph and code block captions in one go.

        MkDocs calls this once, between converting the pages and rendering their templates.
        In one tight loop the work takes about a third of the time it takes spread over the
        pages, where the theme's templating evicts its data from the CPU caches in between.
        """
        with collector_paused():
            self.card_parts = {
                src: self._card_parts(card, self.page_urls[src])
                for src, card in self.card_by_src.items()
                if src in self.page_urls
            }
        return env

    @event_priority(-100)  # after the search plugin indexed the page
    def on_page_context(self, context: Any, *, page: Page, config: MkDocsConfig, nav: Any) -> Any:
        """Add a card's header, captions and graph, and fill in the overview and files pages.

        Done after the search plugin read `page.content`, so graph labels and header links stay
        out of the search index, and on the page's content rather than the finished page: the
        theme's navigation around it makes that several times longer to search through.
        """
        assert self.result is not None and self.settings is not None
        src = page.file.src_uri
        content = page.content or ""
        url = page.file.url
        card = self.card_by_src.get(src)
        if card is not None:
            parts = self.card_parts.get(src) or self._card_parts(card, url)
            content = captions.replace_in_order(content, parts.title_bars)
            content = card_page.insert_after_title(content, parts.header) + parts.graph
        if src == self.overview_src:
            sections = overview.overview_sections(self._context(url), graphs=self.settings.graphs)
            for name, html in sections.items():
                content = content.replace(overview.placeholder(name), html, 1)
        if src == self.graph_src:
            content = content.replace(overview.GRAPH_MARKER, self._overview_graph(url), 1)
        if src == self.files_src and self.tangled is not None:
            body = files_page.generated_files_html(self.tangled, self._context(url))
            content = content.replace(files_page.GENERATED_MARKER, body, 1)
        page.content = content
        return context

    def _context(self, page_url: str) -> PageContext:
        assert self.result is not None
        return PageContext(self.result.graph, self.links, self.styles, page_url)

    def _card_parts(self, card: Card, url: str) -> CardParts:
        """What a card page gets besides its own content."""
        assert self.result is not None and self.settings is not None
        ctx = self._context(url)
        generates = self.generates.get(card.stem, [])
        header = card_page.card_header(card, ctx, generates=generates, show_tags=self.show_tags)
        section = ""
        if self.settings.graphs:
            svg = card_page.neighbourhood_svg(card.stem, ctx)
            section = card_page.neighbourhood_section(svg, ctx)
        bars = []
        if self.fence_index is not None:
            bars = captions.fence_title_bars(card, self.fence_index, ctx)
        return CardParts(header, section, bars)

    def _overview_graph(self, page_url: str) -> str:
        """The All cards graph: Graphviz's drawing when it came in time and fits the page."""
        ctx = self._context(page_url)
        if self.overview_graph is None:
            if self.dot.available:  # full_graph_dot found it too wide for dot
                return overview.full_graph_html(ctx, None)
            return overview.full_graph_html(ctx, None, "Drawn by cardbook: Graphviz is not installed.")
        try:
            svg = self.overview_graph.result(timeout=DOT_WAIT)
        except (DotError, FutureTimeout) as exc:
            log.info(f"All cards graph: {exc or 'Graphviz took too long'}; using cardbook's own layout")
            return overview.full_graph_html(ctx, None, "Drawn by cardbook: Graphviz failed.")
        return overview.full_graph_html(ctx, svg)

    def on_shutdown(self) -> None:
        self.dot.close()
