"""The build under Zensical: read once, shared by every page's extension instance.

Zensical makes a new Python-Markdown instance, and a new extension, for every page, and runs
them one after another in one Python process. It hands the extension the page's Markdown
without its frontmatter; the page itself (path, URL, metadata) and the project's settings are
on its `rendering_context` preprocessor. That object is Zensical's own and undocumented: when
it is missing, the extension leaves pages as they are and says so once.

The runbook is read at the first page of a build and kept for as long as Zensical's settings
object is the same one, i.e. for one build (`zensical serve` makes a new one per rebuild).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn, TypeVar

from markdown import Markdown

from cardbook.core.disk import read_text
from cardbook.core.engines import stylesheet_listed
from cardbook.core.layout import layout_problems, raise_first
from cardbook.core.problems import ConfigError, plural
from cardbook.core.settings import Settings, load_settings
from cardbook.core.tangle import OutputFile
from cardbook.pipeline import load_and_check

from .build import FILES_URI, GRAPH_URI, OVERVIEW_URI, SiteBuild, collector_paused
from .dot import DotRenderer
from .files_page import GENERATED_MARKER
from .overview import GRAPH_MARKER, OVERVIEW_MARKER
from .pages import cards_by_source, marked_page, page_sources
from .styles import stylesheet_text
from .urls import SiteLinks

log = logging.getLogger("cardbook")
T = TypeVar("T")


class CardbookBuildError(RuntimeError):
    """The runbook's configuration is one cardbook refuses: Zensical stops the build."""


@dataclass
class _Cached:
    engine_config: Any  # Zensical's settings object of the build this was read for
    build: SiteBuild


_current: list[_Cached] = []  # at most one: the build in progress
_warned: list[str] = []


_page_state: list[tuple[Any, Any]] = []  # Zensical's page object, and what the extension keeps for it


def page_state(md: Markdown, make: Callable[[], T]) -> T | None:
    """What the extension keeps for the page Zensical is converting, made at the first Markdown
    instance converting for it and shared by every other one (found by an outside probe: with
    markdown-exec's plugin listed, markdown-exec converts a block's output with new instances of
    the page's extensions, Zensical's page context among them: each added a card header). None
    without Zensical's page context."""
    page = getattr(_context(md), "page", None)
    if page is None:
        return None
    if not _page_state or _page_state[0][0] is not page:
        _page_state[:] = [(page, make())]
    return _page_state[0][1]


def _context(md: Markdown) -> Any:
    registry = md.preprocessors  # a Registry: no get()
    return registry["rendering_context"] if "rendering_context" in registry else None  # noqa: SIM401


def page_of(md: Markdown, config_file: str) -> tuple[SiteBuild, str] | None:
    """The build and the page (relative to docs_dir) Zensical is converting, or None."""
    context = _context(md)
    page = getattr(context, "page", None)
    engine_config = getattr(context, "config", None)
    path = getattr(page, "path", None)
    if not isinstance(path, str) or not isinstance(engine_config, dict) or "root_dir" not in engine_config:
        _say_once(_no_page_context())
        return None
    if not _current or _current[0].engine_config is not engine_config:
        if _current:
            _current[0].build.close()
        try:
            with collector_paused():  # the build's own objects, kept for every page: no garbage
                _current[:] = [_Cached(engine_config, read_build(engine_config, config_file))]
        except CardbookBuildError as exc:
            _stop_build(str(exc))
    return _current[0].build, path.replace("\\", "/")


def _no_page_context() -> str:
    if "zensical" in sys.modules:  # a Zensical that renders without the context cardbook reads
        return (
            "the cardbook Markdown extension found no page in Zensical's rendering context "
            "(this Zensical renders pages in a way cardbook does not know; see "
            "docs/reference/engines.md for the versions it is tested with): pages are left as they are"
        )
    return (
        "the cardbook Markdown extension found no page context (it works under Zensical, and "
        "under MkDocs or ProperDocs through the cardbook plugin): pages are left as they are"
    )


def read_build(engine_config: dict[str, Any], config_file: str) -> SiteBuild:
    root = Path(str(engine_config["root_dir"]))
    config = config_path(root, config_file)
    try:
        settings = load_settings(config, cwd=root)
        raise_first(layout_problems(settings))
        result = load_and_check(settings)
    except ConfigError as exc:
        raise CardbookBuildError("\n".join(problem.format() for problem in exc.problems)) from None
    counted = [problem for problem in result.problems if problem.severity != "info"]
    if counted:
        log.warning(
            f"cardbook: {plural(len(counted), 'problem')} in the runbook: run `cardbook check` "
            "(Zensical cannot fail a build on them)"
        )
    pages = page_sources(result, settings)
    card_by_src = cards_by_source(result, settings, set(pages))
    links = SiteLinks({card.stem: src for src, card in card_by_src.items()})
    build = SiteBuild(
        settings=settings,
        result=result,
        links=links,
        page_urls={src: src for src in pages},
        card_by_src=card_by_src,
        overview_src=marked_page(result.texts, settings, OVERVIEW_MARKER, OVERVIEW_URI, set(pages)),
        graph_src=marked_page(result.texts, settings, GRAPH_MARKER, GRAPH_URI, set(pages)),
        files_src=marked_page(result.texts, settings, GENERATED_MARKER, FILES_URI, set(pages)),
        show_tags="tags" not in str(engine_config.get("plugins", "")),
        dot=DotRenderer(),
        source_links=True,
    )
    links.overview_url, links.graph_url, links.files_page_url = (
        build.overview_src,
        build.graph_src,
        build.files_src,
    )
    build.inline_css = inline_css(settings, result.tangled.files, engine_config.get("extra_css"))
    # No second drawing process here (site/prefetch.py): forking Zensical's larger process cost
    # more than the drawing it saved (2026-11-28: three rounds of 1000 cards, 21.3 to 24.9 s
    # drawn here, 23.3 to 26.3 s drawn aside). Zensical converts the pages one after another in
    # one thread, first, then does its own work: no thread of ours could overlap the drawing.
    return build


def inline_css(settings: Settings, files: dict[str, OutputFile], extra_css: Any) -> str:
    """The stylesheet each page cardbook draws on must carry, or "" when the pages link to it:
    an extension cannot add a file to a Zensical site, but the `stylesheet:` file that
    `cardbook tangle` writes into docs_dir is one, when extra_css lists it."""
    path = settings.stylesheet
    if path:
        listed = stylesheet_listed(settings, extra_css)
        try:
            written = path in files and read_text(settings.root / path) == files[path].text
        except OSError:  # unreadable: `cardbook check` says why, at the file
            written = False
        if listed and written:
            return ""
        why = "is missing or stale: run `cardbook tangle`" if listed else "is not listed under extra_css"
        _say_once(f"cardbook: {path} {why}; until then each page carries the stylesheet")
    return stylesheet_text(settings.statuses)


def config_path(root: Path, config_file: str, argv: list[str] | None = None) -> Path | None:
    """The mkdocs.yml holding cardbook's options: the one the extension names, else the YAML
    file `zensical build -f` was given (Zensical keeps no record of it in its settings), else
    the first default name next to the project."""
    if config_file:
        return root / config_file
    given = _config_argument(sys.argv if argv is None else argv)
    if given is not None and given.suffix in (".yml", ".yaml"):
        return given if given.is_absolute() else Path.cwd() / given
    for name in ("mkdocs.yml", "mkdocs.yaml"):
        if (root / name).is_file():
            return root / name
    return None


def _config_argument(argv: list[str]) -> Path | None:
    for number, word in enumerate(argv):
        if word in ("-f", "--config-file") and number + 1 < len(argv):
            return Path(argv[number + 1])
        if word.startswith("--config-file="):
            return Path(word.partition("=")[2])
    return None


def _stop_build(message: str) -> NoReturn:
    """End a Zensical build on a configuration cardbook refuses, with the message alone and
    exit status 2, as `cardbook check` does. Zensical turns any exception an extension raises
    into a traceback of its own and goes on to end with status 1; nothing else stops it."""
    sys.stdout.flush()
    sys.stderr.write(f"{message}\ncardbook: the build is stopped\n")
    sys.stderr.flush()
    os._exit(2)


def _say_once(message: str) -> None:
    if message not in _warned:
        _warned.append(message)
        log.warning(message)
