"""The thin MkDocs adapter over the cardbook core and the site's one renderer.

Per build: read and check the cards once, tangle and write the generated files (the same rules
as `cardbook tangle`), add cardbook's pages and files, and hand every page to the cardbook
Markdown extension (extension.py, build.py), the same one Zensical runs. Nothing is ever
written into docs_dir: the overview, the generated-files page, the raw generated files and
the stylesheet are virtual files (`File.generated`); the raw files are written into the site
by the second drawing process when there is one (site/publish.py). ProperDocs loads this plugin through the
same `mkdocs.plugins` entry point.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

from mkdocs.config import base
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.livereload import LiveReloadServer
from mkdocs.plugins import BasePlugin, event_priority, get_plugin_logger
from mkdocs.structure.files import File, Files, InclusionLevel
from mkdocs.structure.pages import Page

from cardbook.core.check import CheckResult
from cardbook.core.disk import LockError
from cardbook.core.engines import css_listed, extension_problems
from cardbook.core.layout import layout_problems, raise_first
from cardbook.core.problems import ConfigError, plural
from cardbook.core.settings import Settings, load_settings
from cardbook.core.tangle import TangleResult
from cardbook.pipeline import load_and_check

from . import files_page, overview
from .build import (
    FILES_URI,
    GRAPH_URI,
    OVERVIEW_URI,
    SiteBuild,
    collector_paused,
    line_offset,
)
from .dot import DotRenderer
from .extension import CardbookExtension, Session
from .pages import cards_by_source, marked_page
from .styles import stylesheet_text
from .urls import SiteLinks
from .wikilinks import default_slugify

log = get_plugin_logger(__name__)

CSS_URI = "assets/cardbook/cardbook.css"
EMPTY_PAGE = "<!-- cardbook: a page with no body of its own -->\n"
EXTENSION_NAMES = ("cardbook", "cardbook.site.extension")  # mkdocs.yml's entry for Zensical


class RawFile(File):
    """A raw generated file: MkDocs copies it with the other static files, unless the second
    drawing process writes it (`written_aside`, site/publish.py), in which case the plugin
    makes sure it is there at the build's end."""

    written_aside = False

    def copy_file(self, dirty: bool = False) -> None:
        if not self.written_aside:
            super().copy_file(dirty)


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
        self.session = Session()  # what the Markdown extension is told about each page
        self._reset()

    def _reset(self) -> None:
        """Per-build state; `mkdocs serve` reuses this instance for every rebuild."""
        self.settings: Settings | None = None
        self.result: CheckResult | None = None
        self.tangled: TangleResult | None = None
        self.session.build = self.session.src = None
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
                self.settings = self.settings.replace(site_dir=str(config.site_dir))
            raise_first(layout_problems(self.settings))
            raise_first(extension_problems(self.settings))  # the `cardbook` entry's options
        except ConfigError as exc:
            raise PluginError("\n".join(problem.format() for problem in exc.problems)) from None
        # Material shows frontmatter tags itself when its tags plugin is on: no second copy.
        self.show_tags = not any(name in config.plugins for name in ("tags", "material/tags"))
        toc = config.mdx_configs.get("toc", {})
        if callable(toc.get("slugify")):  # heading ids made like the toc extension makes them
            custom, separator = toc["slugify"], toc.get("separator", "-")
            self.slugify = functools.lru_cache(maxsize=4096)(lambda text: custom(text, separator))
        if not css_listed(self._css_uri(), list(config.extra_css)):
            config.extra_css.append(self._css_uri())
        # One mkdocs.yml for every engine: the `cardbook` extension listed for Zensical is this
        # plugin's own renderer, added once here with the page it converts.
        config.markdown_extensions[:] = [
            entry
            for entry in config.markdown_extensions
            if not (isinstance(entry, str) and entry in EXTENSION_NAMES)
        ]
        for name in EXTENSION_NAMES:
            config.mdx_configs.pop(name, None)
        config.markdown_extensions.append(CardbookExtension(session=self.session))
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

    def _css_uri(self) -> str:
        """The stylesheet's place in the site: the `stylesheet:` file's, else a virtual file's."""
        assert self.settings is not None
        return self.settings.stylesheet.removeprefix(self.settings.docs_prefix) or CSS_URI

    def _refuse(self, message: str) -> None:
        """Stop a build; while serving, report and keep serving (the files stay as they are)."""
        if self.serving:
            log.error(message)
            return
        raise PluginError(message)

    def on_files(self, files: Files, *, config: MkDocsConfig) -> Files:
        with collector_paused():  # the build's own objects: nothing here is garbage yet
            return self._add_files(files, config)

    def _add_files(self, files: Files, config: MkDocsConfig) -> Files:
        assert self.settings is not None and self.result is not None and self.tangled is not None
        settings, result = self.settings, self.result
        pages = {file.src_uri: file.url for file in files.documentation_pages()}
        card_by_src = cards_by_source(result, settings, set(pages))
        links = SiteLinks({card.stem: pages[src] for src, card in card_by_src.items()})
        if files.get_file_from_path(self._css_uri()) is None:  # else the `stylesheet:` file, tangled
            files.append(File.generated(config, self._css_uri(), content=stylesheet_text(settings.statuses)))
        # The pages holding a marker, else the docs' own at the default path (as under Zensical),
        # else one of ours.
        marked = {
            uri: marked_page(result.texts, settings, marker, uri, set(pages))
            for uri, marker in (
                (OVERVIEW_URI, overview.OVERVIEW_MARKER),
                (GRAPH_URI, overview.GRAPH_MARKER),
                (FILES_URI, files_page.GENERATED_MARKER),
            )
        }
        overview_src = graph_src = files_src = None
        if card_by_src or result.runbook.cards:
            heading = "# Runbook overview\n\n"
            overview_src = marked[OVERVIEW_URI] or self._page(files, config, OVERVIEW_URI, heading)
            if settings.graphs:
                heading = overview.GRAPH_PAGE_HEADING
                graph_src = marked[GRAPH_URI] or self._page(files, config, GRAPH_URI, heading)
        # Ordinary pages tangle too: a runbook whose chains are all closed and stripped (no card
        # left) still publishes its generated files. One that tangles nothing gets no empty page.
        if self.tangled.files or (result.runbook.cards and marked[FILES_URI] is not None):
            files_src = marked[FILES_URI] or self._page(files, config, FILES_URI, "# Generated files\n\n")
        raw_files: dict[str, str] = {}  # destination in the site -> text
        raw_entries: list[RawFile] = []
        for path, output in sorted(self.tangled.files.items()):
            if path == settings.stylesheet:  # a docs file: MkDocs publishes it as one
                continue
            if files.get_file_from_path(path) is not None:
                log.warning(f"{path}: a docs file has the same path; the generated file is not published")
                continue
            raw = RawFile.generated(config, path, content=output.text)
            files.append(raw)
            raw_entries.append(raw)
            raw_files[raw.abs_dest_path] = output.text
            links.raw_urls[path] = raw.url
        page_urls = {file.src_uri: file.url for file in files.documentation_pages()}
        links.overview_url, links.graph_url, links.files_page_url = (
            page_urls.get(overview_src or ""),
            page_urls.get(graph_src or ""),
            page_urls.get(files_src or ""),
        )
        build = SiteBuild(
            settings=settings,
            result=result,
            links=links,
            page_urls=page_urls,
            card_by_src=card_by_src,
            show_tags=self.show_tags,
            slugify=self.slugify,
            overview_src=overview_src,
            graph_src=graph_src,
            files_src=files_src,
            dot=self.dot,
            warn=lambda problem: log.warning(problem.format()),
        )
        self.session.build = build
        if not self.serving:  # `mkdocs serve` runs a server thread: no fork next to it
            build.raw_files = raw_files
            build.start_drawing()  # a second process draws the cards' parts (site/prefetch.py)
            for raw in raw_entries:  # and writes the raw files (site/publish.py): MkDocs does not
                raw.written_aside = build.raw_files_aside
        note = build.start_whole_graph()  # Graphviz runs in a thread while MkDocs renders pages
        if note:
            log.info(note)
        return files

    @staticmethod
    def _page(files: Files, config: MkDocsConfig, uri: str, heading: str) -> str:
        """A page of ours: the docs' own file when there is one, else a virtual one.

        Only the overview joins the navigation. The All cards graph and the generated-files
        page are reached from it and from every card header: in the navigation they would be
        two more entries on every page of the site (and Material draws the navigation anew
        for each page, the largest part of a build)."""
        if files.get_file_from_path(uri) is None:
            markers = {OVERVIEW_URI: overview.OVERVIEW_MARKER, GRAPH_URI: overview.GRAPH_MARKER}
            marker = markers.get(uri, files_page.GENERATED_MARKER)
            inclusion = InclusionLevel.UNDEFINED if uri == OVERVIEW_URI else InclusionLevel.NOT_IN_NAV
            files.append(File.generated(config, uri, content=heading + marker + "\n", inclusion=inclusion))
        return uri

    def on_serve(self, server: LiveReloadServer, *, config: MkDocsConfig, builder: Any) -> LiveReloadServer:
        """Saving a card re-tangles; a hand edit under an output root is reported at once."""
        assert self.settings is not None
        docs_dir = Path(config.docs_dir).resolve()
        for folder in (*self.settings.card_roots, *self.settings.output_roots):
            path = (self.settings.root / folder).resolve()
            if path.is_dir() and not path.is_relative_to(docs_dir):
                server.watch(str(path))
        return server

    # Pages: the extension converts them; the plugin says which page, and splices late ----------

    def on_page_markdown(self, markdown: str, *, page: Page, config: MkDocsConfig, files: Files) -> str:
        """The next conversion is this page's; a card's frontmatter line count maps its fence
        lines (only cards' fences are titled, so other pages need no count, nor a second read)."""
        build = self.session.build
        self.session.src = page.file.src_uri
        self.session.converting = None  # a page's conversion that raised never ended
        card = build.card_by_src.get(page.file.src_uri) if build is not None else None
        self.session.offset = line_offset(card.text, markdown) if card is not None else None
        if not markdown.strip() and build is not None and build.concerns(page.file.src_uri):
            return EMPTY_PAGE  # Python-Markdown skips a blank page's extensions: give it a line
        return markdown

    @event_priority(-100)  # after the search plugin indexed the page
    def on_page_context(self, context: Any, *, page: Page, config: MkDocsConfig, nav: Any) -> Any:
        """Add a card's header, captions and graph, and fill in the overview and files pages.

        Done after the search plugin read `page.content`, so graph labels and header links stay
        out of the search index, and on the page's content rather than the finished page: the
        theme's navigation around it makes that several times longer to search through.
        """
        build = self.session.build
        if build is not None and page.content and build.concerns(page.file.src_uri):
            with collector_paused():
                page.content = build.splice(page.file.src_uri, page.content)
        return context

    def on_post_build(self, *, config: MkDocsConfig) -> None:
        self.session.src = None
        if self.session.build is not None:
            self.session.build.publish_raw_files()
            self.session.build.close()

    def on_shutdown(self) -> None:
        self.dot.close()
