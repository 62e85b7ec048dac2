"""cardbook as a Python-Markdown extension: the one renderer of every engine's pages.

Under MkDocs and ProperDocs the cardbook plugin adds this extension itself and tells it which
page is being converted (a `Session`). Under Zensical, which runs Python-Markdown extensions
but no MkDocs plugin, `markdown_extensions: [cardbook]` in mkdocs.yml loads it on its own: it
reads the runbook once per build (cardbook's options from the plugin entry of the same
mkdocs.yml) and learns each page's path from Zensical's rendering context.

    preprocessor (before fences are stashed)   SiteBuild.prepare
    treeprocessor (the last one)               marks the page's tree done: the postprocessors'
                                                next run is on the whole page, not on a
                                                heading's text for the toc extension
    postprocessor (after raw HTML is restored)  SiteBuild.resolve_links, then, on the whole
                                                page, SiteBuild.splice (under MkDocs the plugin
                                                splices after search read the page: headers
                                                and graphs stay out of it)

A conversion that starts while a page's is in progress (markdown-exec converting a block's
output with the page's extensions, mkdocstrings a docstring) is nested in it: it resolves its
own wiki-links as the page's and adds nothing else.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from markdown import Extension, Markdown
from markdown.postprocessors import Postprocessor
from markdown.preprocessors import Preprocessor
from markdown.treeprocessors import Treeprocessor

from cardbook.core.engines import extension_option_error

from .build import SiteBuild
from .wikilinks import ResolvedLink

log = logging.getLogger("cardbook")

PREPARE_PRIORITY = 35  # above normalize_whitespace (30): the page's lines as written
TREE_DONE_PRIORITY = -100  # below every treeprocessor: toc (5) renders each heading's text with
# the postprocessors, so this one's mark tells those runs from the page's
# Below every postprocessor (raw_html 30, amp_substitute 20, pymdownx.striphtml 1, ...): the
# parts go into the finished HTML, as the MkDocs plugin puts them in after Markdown, and no
# sanitizer meant for the author's markup strips what they need (an outside probe's find).
SPLICE_PRIORITY = -100


@dataclass
class Session:
    """What the MkDocs plugin tells the extension: the build, and the page being converted."""

    build: SiteBuild | None = None
    src: str | None = None
    offset: int | None = None  # file lines before the page's Markdown (its frontmatter)
    splice: bool = False  # False: the plugin splices in on_page_context
    # The page's own conversion, once it started: a conversion that starts while it is in
    # progress is nested in it (markdown-exec's, mkdocstrings'). The plugin clears it per page.
    converting: _PageFinder | None = None


class CardbookExtension(Extension):
    def __init__(self, session: Session | None = None, **kwargs: Any) -> None:
        # Wrong options are not raised here: MkDocs loads every extension while it reads
        # mkdocs.yml and prints a traceback for any exception. The plugin (MkDocs), the build's
        # first page (Zensical) and `cardbook check` each refuse them at mkdocs.yml's line.
        why = extension_option_error(kwargs or None)
        if why is not None:
            log.warning(f"cardbook: {why}")
            kwargs = {}
        self.config = {
            "config_file": [
                "",
                "the mkdocs.yml whose cardbook plugin entry holds the options, relative to the "
                "project (Zensical: default mkdocs.yml next to the engine's configuration)",
            ]
        }
        super().__init__(**kwargs)
        self.session = session
        # Under Zensical, a new extension for every page: its own record of the page's conversion.
        self.conversions = session if session is not None else Session()

    def extendMarkdown(self, md: Markdown) -> None:  # Python-Markdown's name
        # Also called for a Markdown instance another extension makes inside a page's conversion
        # with this extension among its own (markdown-exec renders a block's output so).
        md.registerExtension(self)
        if self.session is None:  # Zensical: one record per page, whichever instance converts
            from . import zensical

            self.conversions = zensical.page_state(md, Session) or self.conversions
        page = _PageFinder(md, self.session, self.getConfig("config_file"), self.conversions)
        md.preprocessors.register(_Prepare(md, page), "cardbook", PREPARE_PRIORITY)
        md.treeprocessors.register(_TreeDone(md, page), "cardbook", TREE_DONE_PRIORITY)
        md.postprocessors.register(_Splice(md, page), "cardbook", SPLICE_PRIORITY)


def makeExtension(**kwargs: Any) -> CardbookExtension:  # Python-Markdown's name
    return CardbookExtension(**kwargs)


class _PageFinder:
    """Which build and page this conversion belongs to, asked once per page."""

    def __init__(self, md: Markdown, session: Session | None, config_file: str, conversions: Session) -> None:
        self.md, self.session, self.config_file, self.conversions = md, session, config_file, conversions
        self.found: tuple[SiteBuild, str, int | None, bool] | None = None
        self.links: list[ResolvedLink] = []  # this conversion's wiki-links, by placeholder number
        self.nested = False  # converting Markdown inside a page's conversion, for it
        self.tree_done = False  # the postprocessors' next run is on the whole page, to splice

    def start(self) -> None:
        """A conversion begins: the page's own, or one nested in it (found by an outside probe:
        markdown-exec's conversion of a block's output replaced the page's list of wiki-links,
        and the page's own links after the block showed as `cardbookwikilink2x`; under
        Zensical, which gives a nested conversion no page context, they stayed `[[...]]`)."""
        self.tree_done = False
        outer = self.conversions.converting
        self.nested = outer is not None and outer is not self and outer.found is not None
        if self.nested:
            assert outer is not None
            self.found = outer.found
        else:
            self.found = self.page()
            self.conversions.converting = self

    def end(self) -> None:
        """The page's own conversion is over (its whole page was post-processed)."""
        if self.conversions.converting is self:
            self.conversions.converting = None

    def page(self) -> tuple[SiteBuild, str, int | None, bool] | None:
        if self.session is not None:  # MkDocs or ProperDocs, through the plugin
            session = self.session
            if session.build is None or session.src is None:
                return None
            return session.build, session.src, session.offset, session.splice
        from . import zensical

        found = zensical.page_of(self.md, self.config_file)
        return None if found is None else (found[0], found[1], None, True)


class _Prepare(Preprocessor):
    def __init__(self, md: Markdown, finder: _PageFinder) -> None:
        super().__init__(md)
        self.finder = finder

    def run(self, lines: list[str]) -> list[str]:
        finder = self.finder
        finder.start()
        finder.links = []
        found = finder.found
        if found is None:
            return lines
        build, src, offset, _splice = found
        if (finder.nested or not build.concerns(src)) and not any("[[" in line for line in lines):
            return lines
        markdown, finder.links = build.prepare(src, "\n".join(lines), offset, nested=finder.nested)
        return markdown.split("\n")


class _TreeDone(Treeprocessor):
    """Runs after every other treeprocessor. The card's parts go in where the finished page
    has its places (the header after its title, the graph at its end): no marker lines in the
    Markdown, each of which cost a paragraph's worth of Markdown's work on every card page
    (0.08 s of 1000 cards)."""

    def __init__(self, md: Markdown, finder: _PageFinder) -> None:
        super().__init__(md)
        self.finder = finder

    def run(self, root: object) -> None:
        self.finder.tree_done = True


class _Splice(Postprocessor):
    """Also run on each heading's text by the toc extension: there, only wiki-link placeholders
    are touched; the card's parts go into the whole page, once."""

    def __init__(self, md: Markdown, finder: _PageFinder) -> None:
        super().__init__(md)
        self.finder = finder

    def run(self, text: str) -> str:
        finder = self.finder
        whole_page = finder.tree_done
        if whole_page:
            finder.tree_done = False  # spliced: once
            finder.end()
        found = finder.found
        if found is None:
            return text
        build, src, _offset, splice = found
        text = build.resolve_links(src, text, finder.links)
        if not splice or not whole_page or finder.nested:
            return text
        return build.splice(src, text)
