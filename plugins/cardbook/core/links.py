"""Obsidian-style wiki-links found in a page's Markdown: `[[stem]]`, `[[stem|text]]`,
`[[stem#Heading]]`, `[[#Heading]]`, `[[folder/stem]]`. Finding them is the core's job (the
check, `cardbook mv`); turning them into HTML links is the site's."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping

from . import frontmatter
from .problems import Problem, warning
from .record import Record
from .suggest import did_you_mean

TYPE_CHECKING = False  # typing is not imported at run time: it costs start-up
if TYPE_CHECKING:
    from .cards import Page

# One pass over the text, in C: each match is a whole fenced block, a whole code span, a run
# of backticks that opens no span, a whole HTML comment, or a wiki-link; only the last kind is
# kept. A fence closes with at least as many of its character on a line of their own (or
# never, at the end); a code span closes with the same number of backticks, within its
# paragraph. Every branch starts with a literal newline, backtick, `<` or `[` (outside any
# group), so the regex engine skips plain text with a fast character check; a fence is
# matched from the newline before it (the text gets a newline in front). `![[...]]` (an
# Obsidian embed) and `\[[` are not links.
#
# A fence's body is taken line by line (each line not its closing one), and a code span of
# one backtick with none inside by a character class, before the general span branch: the
# same matches as lazy `.*?` scans (tests/test_wikilinks.py compares them with those), at a
# fraction of the cost on pages full of code.
_SCAN = re.compile(
    r"""
      \n[ \t]*(?P<backticks>`{3,})[^`\n]*
        (?:\n(?![ \t]*(?P=backticks)`*[ \t]*(?:\n|\Z))[^\n]*)*
        (?:\n[ \t]*(?P=backticks)`*[ \t]*(?=\n|\Z)|\Z)
    | \n[ \t]*(?P<tildes>~{3,})[^\n]*
        (?:\n(?![ \t]*(?P=tildes)~*[ \t]*(?:\n|\Z))[^\n]*)*
        (?:\n[ \t]*(?P=tildes)~*[ \t]*(?=\n|\Z)|\Z)
    | `(?!`)[^`\n]*(?:\n(?![ \t]*\n)[^`\n]*)*`(?!`)
    | `(?P<ticks>`*)(?!`)(?:(?!\n[ \t]*\n).)*?(?<!`)`(?P=ticks)(?!`)
    | ``*
    | <!--.*?(?:-->|\Z)
    | \[\[
        (?P<target>[^\[\]\n|\#\\]*)
        (?:\#(?P<heading>[^\[\]\n|\\]*))?
        (?:\\?\|(?P<text>[^\[\]\n]*))?
      \]\]
    """,
    re.VERBOSE | re.DOTALL,
)


class WikiLink(Record):
    __slots__ = ("start", "end", "line", "target", "heading", "text")

    def __init__(
        self, start: int, end: int, line: int, target: str, heading: str | None, text: str | None
    ) -> None:
        self.start = start  # offsets in the Markdown text
        self.end = end
        self.line = line  # 1-based line in that text
        self.target = target  # stem, "" for a link to a heading of the same page
        self.heading = heading
        self.text = text


_BLANK_LINE = re.compile(r"\n[ \t]*(?:\n|\Z)")


def _scan_end(text: str) -> int:
    """Where the scan for links may stop: the end of the paragraph holding the last `]]`.

    No link ends later, and no code span crosses a blank line, so everything that can hide a
    link before it is still seen whole; a fence or comment still open there runs to the end,
    as an unclosed one does. Most pages link early: the rest is not scanned (the scan
    costs about 20 ns a character, and 160 inside code spans)."""
    blank = _BLANK_LINE.search(text, text.rfind("]]"))
    return blank.start() if blank is not None else len(text)


def _skipping_matches(scanned: str, end: int) -> Iterator[re.Match[str]]:
    """What `_SCAN.finditer(scanned, 0, end)` yields, for a text without `~` or `<!--`: every
    match then starts at a backtick, at a `[[`, or at the newline that starts the line of one
    (a fence). From the end of each match, str.find (a memchr, several times faster than the
    regex engine's check of each character against the pattern's first characters) finds the
    next backtick or `[[`, and the regex searches from the start of that line."""
    search = _SCAN.search
    find = scanned.find
    rfind = scanned.rfind
    tick = find("`", 0, end)
    bracket = find("[[", 0, end)
    pos = 0
    while True:
        if 0 <= tick < pos:
            tick = find("`", pos, end)
        if 0 <= bracket < pos:
            bracket = find("[[", pos, end)
        if tick == -1:
            if bracket == -1:
                return
            first = bracket
        elif bracket == -1 or tick < bracket:
            first = tick
        else:
            first = bracket
        line_start = rfind("\n", pos, first)
        match = search(scanned, pos if line_start == -1 else line_start, end)
        if match is None:
            return
        yield match
        pos = match.end()


def find_wikilinks(text: str) -> list[WikiLink]:
    """Wiki-links of a Markdown text, outside code and comments, in order."""
    if "[[" not in text or "]]" not in text:
        return []
    links: list[WikiLink] = []
    line = 1
    counted = 0  # offset up to which `line` is counted
    scanned = "\n" + text  # offsets below are one more than in `text`
    end = _scan_end(text) + 1
    # A tilde fence or a comment can start a match too: with one, the regex engine looks at
    # every character itself. (`<` first: a search for one character is a memchr.)
    if "~" in text or ("<" in text and "<!--" in text):
        matches = _SCAN.finditer(scanned, 0, end)
    else:
        matches = _skipping_matches(scanned, end)
    for match in matches:
        target = match["target"]
        if target is None:
            continue  # code or a comment, skipped whole
        start, stop = match.span()
        start -= 1
        if scanned[start] in "!\\":
            continue  # an embed, or an escaped bracket
        line += text.count("\n", counted, start)
        counted = start
        heading, label = match["heading"], match["text"]
        links.append(  # positional arguments: keywords cost more, once per link
            WikiLink(
                start,
                stop - 1,
                line,
                target.strip(),
                heading.strip() if heading is not None else None,
                label.strip() if label is not None else None,
            )
        )
    return links


def link_problems(
    pages: Mapping[str, list[Page]], texts: Mapping[str, str], ignore: Iterable[str] = ()
) -> list[Problem]:
    """Every wiki-link of every page (`texts`: page path -> text) that resolves to no page, to
    several, or is written in a way some tools do not follow; `ignore`: targets that exist
    outside the site (a CHANGELOG at the project's root). Problems at `path:line`."""
    skip = set(ignore)
    problems: list[Problem] = []
    # A link written the same way (the same target, heading and text) reads the same on every
    # page: its padding and its page are worked out once. Most links of a runbook repeat.
    known: dict[str, tuple[bool, Page | str]] = {}
    headings: dict[str, dict[str, tuple[str, str]]] = {}  # page -> its headings, read once
    for rel, text in sorted(texts.items()):
        if "[[" not in text:
            continue
        text = body_only(text)
        for link in find_wikilinks(text):
            if not link.target:
                continue  # [[#Heading]], [[]]: on the page itself
            written = text[link.start : link.end]
            seen = known.get(written)
            if seen is None:
                inner = written[2:].split("|", 1)[0].split("#", 1)[0].rstrip("]")
                seen = known[written] = (inner != inner.strip(), resolve_target(link.target, pages))
            padded, found = seen
            if padded:
                problems.append(
                    warning(
                        rel,
                        link.line,
                        f"wiki-link {written} has spaces inside the brackets: write [[{link.target}]] "
                        "(some tools do not resolve it)", rule="link-spaces",
                    )
                )
            if isinstance(found, str) and link.target not in skip and _stem(link.target) not in skip:
                problems.append(
                    warning(rel, link.line, f"wiki-link {written} {found}", rule=_link_rule(found))
                )
            elif link.heading and (missing := _missing_heading(link.heading, found, texts, headings)):
                problems.append(warning(rel, link.line, f"wiki-link {written} {missing}", rule="broken-link"))
            elif "/" in link.target:  # off by default: for teams whose editor follows stems only
                stem = _stem(link.target)
                problems.append(
                    warning(
                        rel,
                        link.line,
                        f"wiki-link {written} names a folder: write [[{stem}]]",
                        rule="path-link",
                    )
                )
    return problems


def _missing_heading(
    heading: str, page: Page | str, texts: Mapping[str, str], headings: dict[str, dict[str, tuple[str, str]]]
) -> str:
    """Why `[[page#heading]]` has no heading to go to on the page, or "" (found by a re-check of
    an outside probe's findings: such links were checked nowhere, and a misspelt heading made
    a link to the page's top)."""
    from .titles import heading_key, page_headings  # here: a check without heading links never imports it

    if isinstance(page, str) or page.rel not in texts:
        return ""
    found = headings.get(page.rel)
    if found is None:
        found = headings[page.rel] = page_headings(body_only(texts[page.rel]))
    wanted = heading.rsplit("#", 1)[-1]  # Obsidian's [[page#Section#Subsection]]: the last one
    if heading_key(wanted) in found or any(own == wanted for _, own in found.values()):
        return ""
    shown = sorted({text for text, _ in found.values()})
    return f"names no heading of {page.rel}{did_you_mean(wanted, shown)}"


def body_only(text: str) -> str:
    """The text with its frontmatter blanked (line numbers kept): `[[...]]` there is YAML."""
    try:
        parts = frontmatter.split(text)
    except frontmatter.FrontmatterError:
        return text
    if parts is None:
        return text
    _, body_line, body_offset = parts
    return "\n" * (body_line - 1) + text[body_offset:]


def _stem(target: str) -> str:
    name = target.rpartition("/")[2]
    return name[:-3] if name.endswith(".md") else name


def _link_rule(reason: str) -> str:
    if reason.startswith("names a folder"):
        return "link-folder"
    return "ambiguous-link" if reason.startswith("is ambiguous") else "broken-link"


def resolve_target(target: str, pages: Mapping[str, list[Page]]) -> Page | str:
    """The page a link's target names (`stem`, `stem.md`, `folder/stem`), or why none."""
    stem = _stem(target)
    candidates = pages.get(stem, [])
    if "/" in target:  # a path link: the folders written must be the page's own
        suffix = "/" + (target if target.endswith(".md") else target + ".md").lstrip("/")
        matching = [page for page in candidates if ("/" + page.rel).endswith(suffix)]
        if candidates and not matching:
            return f"names a folder the page is not in (it is {candidates[0].rel})"
        candidates = matching
    if len(candidates) > 1:
        shared = ", ".join(page.rel for page in candidates)
        return f"is ambiguous: {shared} share the stem {stem!r}"
    if not candidates:
        return f"matches no page{did_you_mean(stem, pages)}"
    return candidates[0]


_MARKDOWN_LINK = re.compile(r"\]\((?P<target>[^)\s#]+\.md)(?:#[^)]*)?\)")


def linked_stems(text: str) -> set[str]:
    """Stems of the pages a text links to: wiki-links, and Markdown links to `.md` files."""
    body = body_only(text)
    stems = {_stem(link.target) for link in find_wikilinks(body) if link.target}
    stems.update(_stem(found["target"]) for found in _MARKDOWN_LINK.finditer(body))
    return stems


def index_link_problems(
    pages: Mapping[str, list[Page]], texts: Mapping[str, str], is_index: Callable[[str], bool]
) -> list[Problem]:
    """Each page of a folder that has an index page (`index.md`, `README.md` or one named like
    the folder) and is not linked from it: a reader browsing the section never finds it."""
    indexes = {
        page.rel.rpartition("/")[0]: page.rel
        for group in pages.values()
        for page in group
        if is_index(page.rel)
    }
    problems: list[Problem] = []
    linked: dict[str, set[str]] = {}
    for group in pages.values():
        for page in group:
            folder = page.rel.rpartition("/")[0]
            index = indexes.get(folder)
            if index is None or index == page.rel or is_index(page.rel):
                continue
            if index not in linked:
                linked[index] = linked_stems(texts.get(index, ""))
            if page.stem not in linked[index]:
                problems.append(
                    warning(
                        page.rel,
                        1,
                        f"not linked from its section's index page {index}: add [[{page.stem}]] there",
                        rule="index-links",
                    )
                )
    return sorted(problems, key=lambda problem: problem.path)


def orphan_problems(
    pages: Mapping[str, list[Page]],
    texts: Mapping[str, str],
    required: Iterable[str],
    nav_pages: tuple[str, ...] | None,
    docs_dir: str,
    is_index: Callable[[str], bool],
) -> list[Problem]:
    """Pages a reader cannot reach: no page links to them (a wiki-link or a Markdown link), no
    card requires them, and `nav` does not list them. Without a `nav`, MkDocs lists every page,
    so only links count (a reader of a large runbook follows links, not a 125-entry sidebar).
    Section index pages and the home page are reached through their folder, never orphans."""
    reached = set(required)
    for rel, text in texts.items():
        own = _stem(rel)
        reached.update(stem for stem in linked_stems(text) if stem != own)
    listed = {f"{docs_dir}/{rel}" for rel in nav_pages or ()}
    problems = []
    for stem, group in sorted(pages.items()):
        if stem in reached:
            continue
        for page in group:
            if is_index(page.rel) or page.rel in listed:
                continue
            where = "no page links to it" + (" and no nav entry lists it" if nav_pages is not None else "")
            problems.append(
                warning(page.rel, 1, f"orphan page: {where}; link it from its section", rule="orphan-page")
            )
    return problems
