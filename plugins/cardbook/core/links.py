"""Obsidian-style wiki-links found in a page's Markdown: `[[stem]]`, `[[stem|text]]`,
`[[stem#Heading]]`, `[[#Heading]]`, `[[folder/stem]]`. Finding them is the core's job (the
check, `cardbook mv`); turning them into HTML links is the site's."""

from __future__ import annotations

import re
from dataclasses import dataclass

# One pass over the text, in C: each match is a whole fenced block, a whole code span, a run
# of backticks that opens no span, a whole HTML comment, or a wiki-link; only the last kind is
# kept. A fence closes with at least as many of its character on a line of their own (or
# never, at the end); a code span closes with the same number of backticks, within its
# paragraph. Every branch starts with a literal newline, backtick, `<` or `[` (outside any
# group), so the regex engine skips plain text with a fast character check; a fence is
# matched from the newline before it (the text gets a newline in front). `![[...]]` (an
# Obsidian embed) and `\[[` are not links.
_SCAN = re.compile(
    r"""
      \n[ \t]*(?P<backticks>`{3,})[^`\n]*(?:\n.*?)??(?:\n[ \t]*(?P=backticks)`*[ \t]*(?=\n|\Z)|\Z)
    | \n[ \t]*(?P<tildes>~{3,})[^\n]*(?:\n.*?)??(?:\n[ \t]*(?P=tildes)~*[ \t]*(?=\n|\Z)|\Z)
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


@dataclass(frozen=True)
class WikiLink:
    start: int  # offsets in the Markdown text
    end: int
    line: int  # 1-based line in that text
    target: str  # stem, "" for a link to a heading of the same page
    heading: str | None
    text: str | None


def find_wikilinks(text: str) -> list[WikiLink]:
    """Wiki-links of a Markdown text, outside code and comments, in order."""
    if "[[" not in text:
        return []
    links: list[WikiLink] = []
    line = 1
    counted = 0  # offset up to which `line` is counted
    scanned = "\n" + text  # offsets below are one more than in `text`
    for match in _SCAN.finditer(scanned):
        target = match["target"]
        if target is None or scanned[match.start() - 1] in "!\\":
            continue  # code or a comment (skipped whole), an embed, or an escaped bracket
        start, end = match.start() - 1, match.end() - 1
        line += text.count("\n", counted, start)
        counted = start
        heading, label = match["heading"], match["text"]
        links.append(
            WikiLink(
                start=start,
                end=end,
                line=line,
                target=target.strip(),
                heading=heading.strip() if heading is not None else None,
                text=label.strip() if label is not None else None,
            )
        )
    return links
