"""What a page and a card are called, and the headings a link can name: read from the
Markdown as MkDocs shows it (the heading's text, not its syntax), outside code fences and HTML
comments. Pure functions over text."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

from . import frontmatter
from .cards import Card, Runbook

_HEADING = re.compile(r"^[ ]{0,3}(?P<level>#{1,6})[ \t]+(?P<text>.+?)[ \t]*#*[ \t]*$")
_FENCE = re.compile(r"^[ ]{0,3}(`{3,}|~{3,})")
_SETEXT_UNDERLINE = re.compile(r"^[ ]{0,3}(=+|-+)[ \t]*$")


def first_heading(body: str) -> str | None:
    """The text of the page's first level-1 heading outside code fences and HTML comments, as
    MkDocs finds a title: `# Title`, or a line of text underlined with `=` (found by an outside
    probe); its inline Markdown read as the text it shows (heading_text)."""
    for level, written in headings_written(body):
        if level == 1:
            return heading_text(written) or None
    return None


def headings_written(body: str) -> Iterator[tuple[int, str]]:
    """Each heading of a page as written (level, inline Markdown), outside code fences and HTML
    comments: `# Title`, or a line of text underlined with `=` (level 1) or `-` (level 2)."""
    fence = ""
    in_comment = False
    previous = ""  # the line before, when it could be a setext heading's text
    block_start = True  # the line follows a blank line (Python-Markdown's setext text opens a block)
    for line in body.splitlines():
        if in_comment:
            in_comment = "-->" not in line
            block_start = not in_comment
            continue
        opened = _FENCE.match(line)
        if fence:
            if opened and opened.group(1).startswith(fence):
                fence, block_start = "", True
            continue
        if opened:
            fence, previous = opened.group(1), ""
            continue
        # A `# heading` commented out is no heading; `<!--` in indented code opens no comment.
        if line.lstrip().startswith("<!--") and not line.startswith(("    ", "\t")):
            in_comment = "-->" not in line.split("<!--", 1)[1]
            previous, block_start = "", not in_comment
            continue
        found = _HEADING.match(line)
        if found:
            yield len(found["level"]), found["text"]
            previous, block_start = "", True
            continue
        underline = _SETEXT_UNDERLINE.match(line)
        if previous and underline:
            yield (1 if underline[1][0] == "=" else 2), previous
            previous, block_start = "", True
            continue
        text = line.strip()
        opens = block_start and text and not line.startswith(("    ", "\t")) and text[0] not in "<>-*+|"
        previous = text if opens else ""
        block_start = not text


_OWN_ID = re.compile(r"\{[^}]*#([\w-]+)[^}]*\}[ \t]*$")  # attr_list's `{#id}` at a heading's end


def heading_key(text: str) -> str:
    """What two ways of writing a heading share: its letters and digits, case folded (a link
    may name it as shown, as written, or as Obsidian writes it)."""
    return re.sub(r"[\W_]+", "", text.casefold())


def page_headings(body: str) -> dict[str, tuple[str, str]]:
    """Every heading of a page by heading_key of its shown text and of its text as written:
    (the shown text, its own id from an attribute list, or "")."""
    found: dict[str, tuple[str, str]] = {}
    for _, written in headings_written(body):
        own = _OWN_ID.search(written)
        entry = (heading_text(written), own[1] if own else "")
        for key in (heading_key(entry[0]), heading_key(_ATTR_LIST.sub("", written))):
            found.setdefault(key, entry)
    return found


_ATTR_LIST = re.compile(r"[ \t]*\{(?::[^}]*|[ \t]*[#.][^}]*|[ \t]*[\w-]+=[^}]*)\}[ \t]*$")  # attr_list's
_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")  # a backslash before ASCII punctuation
_CODE_SPAN = re.compile(r"(`+)(.+?)\1")
_IMAGE = re.compile(r"!\[[^\]]*\](?:\([^)]*\)|\[[^\]]*\])")
_LINK = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\[[^\]]*\])")
_AUTOLINK = re.compile(r"<((?:https?|ftp|mailto):[^>\s]+)>")
_WIKI_LINK = re.compile(r"!?\[\[([^\]|#]*)(?:#([^\]|]*))?(?:\|([^\]]*))?\]\]")
_TAG = re.compile(r"<[^>]*>")
_EMPHASIS = re.compile(r"(\*{1,3}|~~|==|\^\^|(?<!\w)_{1,3}|_{1,3}(?!\w))")
_ENTITY = re.compile(r"&(amp|lt|gt|quot|#39|#x27);")
_ENTITIES = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "#39": "'", "#x27": "'"}


def heading_text(markdown: str) -> str:
    """A heading's inline Markdown as the text a reader sees, which MkDocs titles the page with:
    no attribute list, code spans' text, links' and wiki-links' text, autolinks' address, no
    images, emphasis marks or tags, escaped characters and the common entities as the
    characters they stand for (found by outside probes: a card titled by `# Drain a node
    *safely* with `kubectl`` was called that, stars and backticks included)."""
    text = _ATTR_LIST.sub("", markdown)
    kept: list[str] = []  # text shown as written: set aside first, put back last

    def keep(shown: str) -> str:
        kept.append(shown)
        return f"\x00{len(kept) - 1}\x00"

    # An escaped backtick opens no code span, and a backslash inside one is shown as written.
    text = _ESCAPE.sub(lambda found: "\x01" + str(ord(found[1])) + "\x01", text)
    text = _CODE_SPAN.sub(lambda found: keep(_unescape(found[2], raw=True).strip()), text)
    text = _AUTOLINK.sub(lambda found: keep(found[1]), text)
    text = _WIKI_LINK.sub(lambda found: found[3] or found[1].rsplit("/", 1)[-1] or found[2] or "", text)
    text = _IMAGE.sub("", text)
    text = _LINK.sub(lambda found: found[1], text)
    text = _EMPHASIS.sub("", _TAG.sub("", text))
    text = _ENTITY.sub(lambda found: _ENTITIES[found[1]], _unescape(text, raw=False))
    text = re.sub(r"\x00(\d+)\x00", lambda found: kept[int(found[1])], text)
    return " ".join(text.split())


def _unescape(text: str, *, raw: bool) -> str:
    """The escaped characters set aside by heading_text, with their backslash when `raw`."""
    return re.sub(r"\x01(\d+)\x01", lambda found: ("\\" if raw else "") + chr(int(found[1])), text)


def card_title(card: Card) -> str:
    """What a card is called wherever it is shown (graphs, lists, links, the CLI): its
    `title`, else its page's first level-1 heading, as a link to it shows, else its file name.
    Found by an outside probe: a card without `title` was its heading in links and its file
    name in the graphs."""
    return card.title or first_heading(card.text[card.body_offset :]) or card.stem


def page_titles(runbook: Runbook, texts: Mapping[str, str]) -> dict[str, str]:
    """stem -> the title a link to the page shows: a card's title, else the page's frontmatter
    `title`, else its first `# heading`. A page with none of them is left out (its stem shows),
    and so are stems shared by several pages (no link resolves to them)."""
    cards = {card.rel: card for card in runbook.sources.values()}
    titles: dict[str, str] = {}
    for stem, group in runbook.pages.items():
        if len(group) != 1:
            continue
        page = group[0]
        card = cards.get(page.rel)
        if card is not None and card.title:
            titles[stem] = card.title
            continue
        text = texts.get(page.rel)
        if not text:
            continue
        try:
            parsed = frontmatter.parse(text)
        except frontmatter.FrontmatterError:
            parsed = None
        title = parsed.values.get("title") if parsed is not None else None
        if isinstance(title, str) and title.strip():
            titles[stem] = title.strip()
            continue
        heading = first_heading(text[parsed.body_offset :] if parsed is not None else text)
        if heading:
            titles[stem] = heading
    return titles
