"""Wiki-links: found outside code, resolved by stem, warned about at path:line."""

from __future__ import annotations

import posixpath
import re

import markdown
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from cardbook.site.urls import relative_url
from cardbook.site.wikilinks import (
    PLACEHOLDER,
    PageIndex,
    ResolvedLink,
    default_slugify,
    find_wikilinks,
    markdown_text,
    placeholder_token,
    rewrite_wikilinks,
)

INDEX = PageIndex.from_sources(
    [
        "index.md",
        "how-to/db/database.md",
        "how-to/app/backend.md",
        "reference/ports.md",
        "a/setup.md",
        "b/setup.md",
    ],
    {"database": "Set up the database", "backend": "Build *the* backend"},
)


def rewrite(text: str, page: str = "how-to/app/deploy.md", first_line: int = 1) -> tuple[str, list[str]]:
    out, problems = rewrite_wikilinks(
        text, page_src=page, index=INDEX, rel=f"docs/{page}", first_line=first_line
    )
    return out, [problem.format() for problem in problems]


def test_a_card_link_gets_the_card_title_and_a_relative_path() -> None:
    assert rewrite("See [[database]].") == ("See [Set up the database](../db/database.md).", [])


def test_link_text_and_heading() -> None:
    out, problems = rewrite("[[ports|the ports]] and [[ports#HTTP Port]] and [[ports#HTTP Port|http]]")
    assert problems == []
    assert out == (
        "[the ports](../../reference/ports.md) and "
        "[ports \N{SINGLE RIGHT-POINTING ANGLE QUOTATION MARK} HTTP Port]"
        "(../../reference/ports.md#http-port) and "
        "[http](../../reference/ports.md#http-port)"
    )


def test_a_heading_of_the_same_page() -> None:
    assert rewrite("[[#Check it]]")[0] == "[Check it](#check-it)"


def test_a_stem_written_with_md_or_a_folder_still_resolves() -> None:
    assert rewrite("[[database.md]] [[db/database]]")[0] == (
        "[Set up the database](../db/database.md) [Set up the database](../db/database.md)"
    )


def test_titles_are_escaped_as_markdown() -> None:
    out, _ = rewrite("[[backend]]")
    assert out == r"[Build \*the\* backend](backend.md)"
    assert "<em>" not in markdown.markdown(out)


def test_markdown_text_keeps_html_and_table_cells_safe() -> None:
    rendered = markdown.markdown(
        "| a |\n|---|\n| [" + markdown_text("x | <b>y</b> & z") + "](t.md) |", extensions=["tables"]
    )
    assert "<b>" not in rendered
    assert rendered.count("<td>") == 1


def test_a_table_link_with_an_escaped_pipe() -> None:
    assert rewrite(r"| [[ports\|Ports]] |")[0] == "| [Ports](../../reference/ports.md) |"


def test_unresolved_and_ambiguous_links_are_warnings_with_the_file_line() -> None:
    text = "# Title\n\nfirst [[nope]]\n\nthen [[setup]] and [[databse]]\n"
    out, problems = rewrite(text, first_line=6)
    assert out == text  # left as written
    assert problems == [
        "docs/how-to/app/deploy.md:8: warning: wiki-link [[nope]] matches no page [broken-link]",
        "docs/how-to/app/deploy.md:10: warning: wiki-link [[setup]] is ambiguous: a/setup.md, b/setup.md "
        "share the stem 'setup' [broken-link]",
        "docs/how-to/app/deploy.md:10: warning: wiki-link [[databse]] matches no page "
        "(did you mean 'database'?) [broken-link]",
    ]


@pytest.mark.parametrize(
    "text",
    [
        "`[[database]]`",
        "``a `[[database]]` b``",
        "```\n[[database]]\n```",
        "~~~nix\n[[database]]\n~~~",
        "- item\n\n    ```nix {file=nix/a.nix}\n    [[database]]\n    ```",
        "````md\n```\n[[database]]\n```\n````",
        "<!-- [[database]] -->",
        "<!--\n[[database]]\n-->",
        "![[database]]",
        r"\[[database]]",
    ],
)
def test_code_comments_embeds_and_escapes_are_left_alone(text: str) -> None:
    assert rewrite(text) == (text, [])


def test_a_code_span_ends_at_its_paragraph() -> None:
    # An unmatched backtick does not swallow the rest of the page.
    out, _ = rewrite("a ` b\n\n[[database]]")
    assert out.endswith("[Set up the database](../db/database.md)")


def test_links_after_a_fence_keep_their_line_numbers() -> None:
    links = find_wikilinks("```\n[[x]]\n```\n\n[[y]] [[z]]\n")
    assert [(link.target, link.line) for link in links] == [("y", 5), ("z", 5)]


def test_a_page_at_the_root_and_a_stem_with_spaces() -> None:
    index = PageIndex.from_sources(["how-to/my card.md", "index.md"])
    out, _ = rewrite_wikilinks("[[my card]]", page_src="index.md", index=index, rel="docs/index.md")
    assert out == "[my card](how-to/my%20card.md)"


def test_default_slugify_matches_python_markdown() -> None:
    from markdown.extensions.toc import slugify

    for heading in ["HTTP Port", "Step 2: check it", "Ünïcode héading", "a -- b"]:
        assert default_slugify(heading) == slugify(heading, "-")


@given(st.text(alphabet=st.characters(blacklist_characters="["), max_size=200))
def test_text_without_links_is_unchanged(text: str) -> None:
    assert rewrite(text) == (text, [])


@given(st.text(alphabet="ab `~\n[]|#!<>-", max_size=120))
def test_any_text_gives_well_formed_results(text: str) -> None:
    out, problems = rewrite(text)
    for link in find_wikilinks(text):
        assert text[link.start : link.end].startswith("[[")
    assert all(problem.startswith("docs/how-to/app/deploy.md:") for problem in problems)
    assert out.count("\n") == text.count("\n")  # line numbers of later warnings stay right


# The scan as first written, with lazy `.*?` bodies: find_wikilinks must find what it finds.
OLD_SCAN = re.compile(
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


def links_by_a_full_scan(text: str) -> list[tuple[int, int, int, str]]:
    """find_wikilinks as it was: the whole text, by the first scan."""
    scanned, found = "\n" + text, []
    for match in OLD_SCAN.finditer(scanned):
        if match["target"] is None or scanned[match.start() - 1] in "!\\":
            continue
        start = match.start() - 1
        found.append((start, match.end() - 1, text.count("\n", 0, start) + 1, match["target"].strip()))
    return found


PIECES = ["[[a]]", "[[b|c]]", "`", "``", "```", "~~~", "\n", "\n\n", "\n \n", "\r\n", "<!--", "-->"]
PIECES += ["x ", "[[", "]]", "!", "\\", "  ```", "````", "~~~~", " ~~~ x", "```nix", "\t", "`a`", "a`b"]


@settings(max_examples=3000, deadline=None)
@given(
    st.one_of(
        st.text(alphabet="ab `~\n\r\t []|#!<>-\\", max_size=160),
        st.lists(st.sampled_from(PIECES), max_size=40).map("".join),
    )
)
def test_the_scan_stops_after_the_last_link_and_finds_what_a_full_scan_finds(text: str) -> None:
    found = [(link.start, link.end, link.line, link.target) for link in find_wikilinks(text)]
    assert found == links_by_a_full_scan(text)
    # Every match, links or not, is the one the first scan made.
    from cardbook.core.links import _SCAN

    spans = [match.span() for match in _SCAN.finditer("\n" + text)]
    assert spans == [match.span() for match in OLD_SCAN.finditer("\n" + text)]


def test_placeholders_stand_for_links_outside_headings() -> None:
    links: list[ResolvedLink] = []
    out, problems = rewrite_wikilinks(
        "# See [[database]]\n\nand [[ports#HTTP Port|http]], [[#Top]] and [[nope]]\n",
        page_src="how-to/app/deploy.md",
        index=INDEX,
        rel="docs/how-to/app/deploy.md",
        placeholders=links,
    )
    assert out == (
        "# See [Set up the database](../db/database.md)\n\n"
        f"and {placeholder_token(0)}, {placeholder_token(1)} and [[nope]]\n"
    )
    assert links == [ResolvedLink("reference/ports.md", "http-port", "http"), ResolvedLink("", "top", "Top")]
    assert len(problems) == 1
    assert PLACEHOLDER.fullmatch(placeholder_token(12))[1] == "12"  # type: ignore[index]


path_part = st.sampled_from(["a", "b", "how-to", "x.y"])


@given(st.lists(path_part, min_size=1, max_size=4), st.lists(path_part, max_size=3))
def test_relative_path_agrees_with_posixpath(target: list[str], start: list[str]) -> None:
    target_path = "/".join(target) + ".md"
    start_dir = "/".join(start)
    # the site's one relative-URL helper, with the page's folder as a folder URL
    base = start_dir + "/" if start_dir else ""
    assert relative_url(target_path, base) == posixpath.relpath(target_path, start_dir or ".")


@settings(max_examples=2000, deadline=None)
@given(
    st.one_of(
        st.text(alphabet="ab `\n\r\t []|#!<>-\\", max_size=160),
        st.lists(st.sampled_from([p for p in PIECES if "~" not in p and "<!--" not in p]), max_size=40).map(
            "".join
        ),
    ),
    st.integers(min_value=0, max_value=200),
)
def test_the_scan_that_skips_plain_text_makes_the_same_matches(text: str, cut: int) -> None:
    # Without `~` or `<!--`, find_wikilinks jumps from marker to marker instead of running the
    # regex over every character: every match, links or not, must be the one finditer makes.
    from cardbook.core.links import _SCAN, _skipping_matches

    assume("<!--" not in text)  # find_wikilinks takes finditer itself for such a text
    scanned = "\n" + text
    for end in (len(scanned), min(cut, len(scanned))):
        expected = [match.span() for match in _SCAN.finditer(scanned, 0, end)]
        assert [match.span() for match in _skipping_matches(scanned, end)] == expected


@pytest.mark.parametrize(
    ("body", "title"),
    [
        ("# Notes on Base\n\ntext\n", "Notes on Base"),
        # Found by an outside probe: an underlined title is a level-1 heading too, and MkDocs
        # and Zensical title the page with it; a wiki-link to the page showed its file name.
        ("Notes on Base\n=============\n\ntext\n", "Notes on Base"),
        ("intro\n\n```\ncode\n===\n```\n\nTitle\n===\n", "Title"),
        ("Para line\nmore\n===\n", None),  # Python-Markdown: the text must open its block
        ("    indented code\n====\n", None),
        ("- item\n===\n", None),
        ("Subtitle\n--------\n", None),  # level 2
        # Found by an outside probe: the title is the text the heading shows, as MkDocs titles
        # the page, and a heading commented out is no title.
        ("# Drain a node *safely* with `kubectl`\n", "Drain a node safely with kubectl"),
        ("# Label the nodes {#labels}\n", "Label the nodes"),
        ("# Use `a *b*` here {: .wide }\n", "Use a *b* here"),
        ("# See [[pin]], [[ports#HTTP|the ports]], [md](http://x)\n", "See pin, the ports, md"),
        ("# A and <em>x</em>\n", "A and x"),
        ("Notes on **Base**\n=====\n", "Notes on Base"),
        ("<!--\n# Old title in a comment\n-->\n\nText.\n", None),
        ("<!-- a pragma -->\n# Real title\n", "Real title"),
        ("# Set {x}\n", "Set {x}"),
        # Found by the re-check of those fixes: escapes, entities, autolinks and images, and a
        # comment opener inside indented code.
        ("# Price \\*not emph\\* &amp; 5 \\`tick\\` `a*b*c`\n", "Price *not emph* & 5 `tick` a*b*c"),
        ("# With <span>html</span> and &lt;tag&gt;\n", "With html and <tag>"),
        ("# See [ref][r], <https://auto.example> and ![alt](i.png)\n", "See ref, https://auto.example and"),
        ("# Code `a\\*b` kept\n", "Code a\\*b kept"),
        ("    <!-- indented code\n\n# Real after it\n", "Real after it"),
    ],
)
def test_a_page_title_is_its_first_level_one_heading(body: str, title: str | None) -> None:
    from cardbook.core.titles import first_heading

    assert first_heading(body) == title


def test_a_link_in_an_attribute_list_becomes_its_text() -> None:
    """Found by an outside probe: in `{data-toc-label="..."}` a wiki-link became a Markdown
    link, which broke attr_list's braces: the heading showed them as text."""
    out, problems = rewrite(
        '# Deploy {data-toc-label="Deploy after [[database]]"}\n\n'
        '## Sub {: #sub data-toc-label="See [[ports#HTTP Port|the "port"]]" }\n\n'
        "A set {like this} and [[database]] {: .note}\n"
    )
    assert out.split("\n")[0] == '# Deploy {data-toc-label="Deploy after Set up the database"}'
    assert out.split("\n")[2] == """## Sub {: #sub data-toc-label="See the 'port'" }"""
    assert out.split("\n")[4] == "A set {like this} and [Set up the database](../db/database.md) {: .note}"
    assert problems == []


def test_a_link_in_other_letter_case_is_suggested_and_a_link_to_a_pages_own_title_is_the_title() -> None:
    """Found by an outside probe: [[FIX-THING]] for fix-thing had no did-you-mean, and
    [[write-flake#Write the flake]] (the page's own title) read "Write the flake > Write the flake"
    (with the angle quote cardbook writes)."""
    from cardbook.core.suggest import did_you_mean

    assert did_you_mean("FIX-THING", {"fix-thing": 1, "fix-things": 2}) == " (did you mean 'fix-thing'?)"
    assert did_you_mean("fix-thng", iter(["fix-thing"])) == " (did you mean 'fix-thing'?)"
    out, problems = rewrite("[[database#set up the Database]] and [[database#Backups]]\n")
    assert problems == []
    assert out == (
        "[Set up the database](../db/database.md#set-up-the-database) and "
        "[Set up the database \N{SINGLE RIGHT-POINTING ANGLE QUOTATION MARK} Backups]"
        "(../db/database.md#backups)\n"
    )
