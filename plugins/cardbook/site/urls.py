"""URLs between the pages of the site, always relative to the page that links, so the site
works under any sub-path and with or without `use_directory_urls`; and the escaping helpers."""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Iterable
from dataclasses import dataclass, field


def relative_url(target: str, page_url: str) -> str:
    """`target` (a site-root-relative URL) as seen from the page at `page_url`.

    A page URL ending in "/" (or empty, the site root) is a directory; otherwise its last part
    is a file name. Same result as MkDocs' get_relative_url for the URLs MkDocs makes.
    """
    folder = page_url if page_url.endswith("/") or not page_url else page_url.rpartition("/")[0]
    head, _, name = target.rpartition("/")
    if name in ("", ".", ".."):  # a folder: the way there, or "./" to the page's own
        return _way_to_folder(target, folder) or "./"
    return _way_to_folder(head, folder) + name  # a file: the way to its folder, then its name


# Keyed by folders, not pages: under Zensical every page address is a file name, and the
# pages of one folder link the same folders again and again.
@functools.lru_cache(maxsize=4096)
def _way_to_folder(target_folder: str, folder: str) -> str:
    """The relative URL from `folder` to `target_folder`: "" or ending in "/"."""
    base, parts = _url_parts(folder), _url_parts(target_folder)
    common, limit = 0, min(len(base), len(parts))
    while common < limit and base[common] == parts[common]:
        common += 1
    down = "/".join(parts[common:])
    return "../" * (len(base) - common) + (down + "/" if down else "")


@functools.lru_cache(maxsize=4096)
def _url_parts(url: str) -> tuple[str, ...]:
    return tuple(part for part in url.split("/") if part and part != ".")


# Titles and URLs recur on many pages; escaping each once per build is measurably cheaper.
escape = functools.lru_cache(maxsize=16384)(html.escape)


def ascii_html(fragment: str) -> str:
    """An HTML fragment of cardbook's with every non-ASCII character as a numeric character
    reference (`·` as `&#183;`): the same text to a reader. A page stays pure ASCII when its own
    Markdown is, and Python handles such a string on its fast paths: one `·` in a card header
    made MkDocs' UTF-8 encoding of every page of a 1000-card site take the slow one, and the
    pages that follow compare and search it at several times the cost. Not for the text inside
    <style> or <script>, where references are not read."""
    return fragment if fragment.isascii() else fragment.encode("ascii", "xmlcharrefreplace").decode("ascii")


def anchor_slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


@dataclass
class SiteLinks:
    """Site-root-relative URLs of everything a runbook page links to."""

    card_urls: dict[str, str]  # card stem -> page URL
    overview_url: str | None = None
    files_page_url: str | None = None
    raw_urls: dict[str, str] = field(default_factory=dict)  # generated path -> published file
    file_anchors: dict[str, str] = field(default_factory=dict)  # generated path -> id on files page
    graph_url: str | None = None  # the "All cards graph" page
    pages: dict[str, tuple[str, str]] = field(default_factory=dict)  # other page stem -> (URL, title)

    def page(self, stem: str, page_url: str) -> str | None:
        """A page that is not a card (an evergreen how-to that tangles, say), or None."""
        found = self.pages.get(stem)
        return None if found is None else relative_url(found[0], page_url)

    def card(self, stem: str, page_url: str, anchor: str = "") -> str | None:
        url = self.card_urls.get(stem)
        if url is None:
            return None
        if url == page_url and anchor:
            return "#" + anchor
        return relative_url(url, page_url) + ("#" + anchor if anchor else "")

    def generated(self, path: str, page_url: str) -> str | None:
        if self.files_page_url is None or path not in self.file_anchors:
            return None
        if self.files_page_url == page_url:
            return "#" + self.file_anchors[path]
        return relative_url(self.files_page_url, page_url) + "#" + self.file_anchors[path]

    def raw(self, path: str, page_url: str) -> str | None:
        url = self.raw_urls.get(path)
        return None if url is None else relative_url(url, page_url)

    def overview(self, page_url: str) -> str | None:
        return None if self.overview_url is None else relative_url(self.overview_url, page_url)

    def graph(self, page_url: str) -> str | None:
        """The page drawing every card; None when the site has none (graphs turned off)."""
        return None if self.graph_url is None else relative_url(self.graph_url, page_url)


def wikilink_html(target_url: str | None, anchor: str, label: str, page_url: str) -> str:
    """A resolved wiki-link as HTML; `target_url` None: the page is not in the site."""
    if target_url is None:
        return escape(label)
    href = "" if target_url == page_url and anchor else relative_url(target_url, page_url)
    return link_html(href + ("#" + anchor if anchor else ""), escape(label))


def file_anchors(paths: Iterable[str]) -> dict[str, str]:
    """A unique element id per generated file path, stable across builds."""
    anchors: dict[str, str] = {}
    taken: set[str] = set()
    for path in sorted(paths):
        base = "file-" + anchor_slug(path)
        anchor, number = base, 2
        while anchor in taken:
            anchor, number = f"{base}-{number}", number + 1
        taken.add(anchor)
        anchors[path] = anchor
    return anchors


def link_html(href: str | None, content: str, css: str = "") -> str:
    attribute = f' class="{css}"' if css else ""
    if href is None:
        return f"<span{attribute}>{content}</span>"
    return f'<a href="{escape(href)}"{attribute}>{content}</a>'
