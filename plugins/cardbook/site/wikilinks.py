"""Obsidian-style wiki-links: `[[stem]]`, `[[stem|text]]`, `[[stem#Heading]]`, `[[#Heading]]`.

Each link becomes an ordinary Markdown link to the target page's source file, relative to the
page holding it, so MkDocs itself turns it into the right URL (sub-paths, use_directory_urls)
and checks it like any other link. Links inside code spans, fenced code and HTML comments are
left alone. A stem matching no page, or several, is a warning at `path:line`.
"""

from __future__ import annotations

import functools
import posixpath
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import quote

from cardbook.core.links import WikiLink, find_wikilinks
from cardbook.core.problems import Problem, warning
from cardbook.core.suggest import did_you_mean
from cardbook.core.titles import heading_key

from .urls import relative_url


@functools.lru_cache(maxsize=4096)  # the same headings ("Check", "Steps") recur on every card
def default_slugify(text: str) -> str:
    """Python-Markdown's default heading ids (toc extension), for `[[stem#Heading]]`."""
    import unicodedata

    value = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    value = re.sub(r"[^\w\s-]", "", value).strip().lower()
    return re.sub(r"[-\s]+", "-", value)


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!])")


def markdown_text(text: str) -> str:
    """Plain text made safe as Markdown link text (no emphasis, no raw HTML)."""
    escaped = _MARKDOWN_SPECIAL.sub(r"\\\1", text).replace("&", "&amp;").replace("<", "&lt;")
    return escaped.replace("|", "&#124;")  # a bare | would split a table row


@dataclass
class PageIndex:
    """The site's pages by stem; `src` paths are relative to docs_dir, as MkDocs has them."""

    pages: dict[str, list[str]]
    titles: dict[str, str]  # stem -> title to show when the link has no text (cards)
    # page -> its headings (core.titles.page_headings), for the ids a `{#id}` gives them
    headings: Callable[[str], Mapping[str, tuple[str, str]]] | None = None

    @classmethod
    def from_sources(cls, sources: Iterable[str], titles: Mapping[str, str] | None = None) -> PageIndex:
        pages: dict[str, list[str]] = {}
        for src in sorted(sources):
            if src.endswith(".md"):
                pages.setdefault(posixpath.basename(src)[:-3], []).append(src)
        return cls(pages, dict(titles or {}))


@dataclass(frozen=True)
class ResolvedLink:
    """Where a wiki-link goes: a page of the site (its docs path) and an anchor on it."""

    target: str  # page path relative to docs_dir; "" for the page holding the link
    anchor: str  # element id, or ""
    label: str  # plain text to show


def resolve(
    link: WikiLink, written: str, *, index: PageIndex, slugify: Callable[[str], str]
) -> ResolvedLink | str:
    """The link's target, or why it has none."""
    anchor = slugify(link.heading) if link.heading else ""
    if not link.target:
        return ResolvedLink("", anchor, link.text or link.heading or "")
    stem = link.target[:-3] if link.target.endswith(".md") else link.target
    stem = stem.rpartition("/")[2]
    candidates = index.pages.get(stem, [])
    if "/" in link.target:  # a path link picks the page in the folders written (as core.links)
        suffix = "/" + (link.target if link.target.endswith(".md") else link.target + ".md").lstrip("/")
        candidates = [src for src in candidates if ("/" + src).endswith(suffix)]
    if len(candidates) > 1:
        return f"wiki-link {written} is ambiguous: {', '.join(candidates)} share the stem {stem!r}"
    if not candidates:
        return f"wiki-link {written} matches no page{did_you_mean(stem, index.pages)}"
    title = index.titles.get(stem, stem)
    if link.heading and index.headings is not None:
        # The heading's own id when it has one (found by a re-check of an outside probe's
        # findings: `# Label the nodes {#labels}` is `#labels`, not `#label-the-nodes`).
        found = index.headings(candidates[0]).get(heading_key(link.heading.rsplit("#", 1)[-1]))
        if found is not None:
            anchor = found[1] or slugify(found[0])
    if link.heading and heading_key(link.heading) != heading_key(title):  # to its own title: the title
        title = f"{title} \N{SINGLE RIGHT-POINTING ANGLE QUOTATION MARK} {link.heading}"
    return ResolvedLink(candidates[0], anchor, link.text or title)


def rewrite_wikilinks(
    text: str,
    *,
    page_src: str,
    index: PageIndex,
    rel: str,
    first_line: int = 1,
    slugify: Callable[[str], str] = default_slugify,
    placeholders: list[ResolvedLink] | None = None,
) -> tuple[str, list[Problem]]:
    """`text` with its wiki-links as Markdown links, and a warning per link that cannot resolve.

    `rel` is the page's path for messages; `first_line` the file line of the text's first line.

    With a `placeholders` list, a link outside a heading becomes a plain word instead
    (`placeholder_token(n)`, the link appended as the n-th entry) for the caller to swap for
    an HTML link after Markdown ran: Markdown then treats it as text, which costs a fraction
    of a link. Links in headings stay Markdown links, so the table of contents shows text.
    """
    links = find_wikilinks(text)
    if not links:
        return text, []
    problems: list[Problem] = []
    out: list[str] = []
    previous = 0
    page_dir = page_src.rpartition("/")[0]
    for link in links:
        out.append(text[previous : link.start])
        previous = link.end
        written = text[link.start : link.end]
        if not link.target and not link.heading:
            out.append(written)  # `[[]]` or `[[|x]]`: not a link
            continue
        resolved = resolve(link, written, index=index, slugify=slugify)
        if isinstance(resolved, str):
            problems.append(warning(rel, first_line + link.line - 1, resolved, rule="broken-link"))
            out.append(written)
            continue
        line_start = text.rfind("\n", 0, link.start) + 1
        if _in_attribute_list(text, line_start, link.start, link.end):
            # Found by an outside probe: `# T {data-toc-label="... [[x]]"}` became a Markdown
            # link there, which broke attr_list's braces. An attribute holds text: the label.
            out.append(resolved.label.replace('"', "'"))
            continue
        if placeholders is not None and not text[line_start : link.start].lstrip().startswith("#"):
            out.append(placeholder_token(len(placeholders)))
            placeholders.append(resolved)
            continue
        base = page_dir + "/" if page_dir else ""  # the folder of the page holding the link
        href = quote(relative_url(resolved.target, base)) if resolved.target else ""
        href += "#" + resolved.anchor if resolved.anchor else ""
        out.append(f"[{markdown_text(resolved.label)}]({href})")
    out.append(text[previous:])
    return "".join(out), problems


def _in_attribute_list(text: str, line_start: int, start: int, end: int) -> bool:
    """The link sits inside `{...}` braces that close its line: an attr_list attribute list."""
    opening = text.rfind("{", line_start, start)
    if opening == -1 or "}" in text[opening:start]:
        return False
    line_end = text.find("\n", end)
    rest = text[end : len(text) if line_end == -1 else line_end].rstrip()
    return rest.endswith("}")


_TOKEN_PREFIX = "cardbookwikilink"
PLACEHOLDER = re.compile(_TOKEN_PREFIX + r"(\d+)x")


def placeholder_token(number: int) -> str:
    """A word Markdown leaves alone (letters and digits only)."""
    return f"{_TOKEN_PREFIX}{number}x"

