"""core/callouts.py: Obsidian callouts that the configured Markdown extensions show as raw text."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
import yaml

from cardbook.core.callouts import UNRENDERED_CALLOUT, callout_problems, find_callouts
from cardbook.core.problems import Problem
from runbook_shape import FIXTURE, facts, recipe_config

QUOTES_ON: list[Any] = ["admonition", {"pymdownx.quotes": {"callouts": True}}]

PAGE = """\
---
title: Restore a snapshot
---

# Restore a snapshot

> [!note]
> Plain note.

> [!warning] Mind the gap
> Body.

> [!tip]- Closed
> Hidden.

> [!tip]+ Open
> Shown.
"""


def lines_of(problems: list[Problem]) -> list[int]:
    return [problem.line for problem in problems]


def test_each_callout_is_a_warning_at_its_file_line_naming_the_extension() -> None:
    problems = callout_problems("docs/how-to/a.md", PAGE, ["admonition", "pymdownx.details"])
    assert lines_of(problems) == [7, 10, 13, 16]
    first = problems[0]
    assert (first.path, first.severity, first.rule) == ("docs/how-to/a.md", "warning", "unrendered-callout")
    assert first.format() == (
        "docs/how-to/a.md:7: warning: callout [!note] is shown as raw text: add "
        "`pymdownx.quotes: {callouts: true}` to markdown_extensions [unrendered-callout]"
    )
    assert [p.message.split(" is ")[0] for p in problems] == [
        "callout [!note]",
        "callout [!warning]",
        "callout [!tip]-",
        "callout [!tip]+",
    ]


def test_the_rule_id_is_a_module_constant_known_to_the_rule_table() -> None:
    assert UNRENDERED_CALLOUT == "unrendered-callout"
    rules = pytest.importorskip("cardbook.core.rules")
    assert UNRENDERED_CALLOUT in rules.RULES


@pytest.mark.parametrize(
    "extensions",
    [
        QUOTES_ON,
        [{"pymdownx.quotes": {"callouts": True}}, {"toc": {"permalink": True}}],
        ["pymdownx.quotes:QuotesExtension", {" pymdownx.quotes ": {"callouts": True}}],
        {"pymdownx.quotes": {"callouts": True}, "toc": None},  # the mapping form of the key
        # MkDocs's loaded config (and Zensical's): names in one key, options in another
        {
            "markdown_extensions": ["toc", "pymdownx.quotes"],
            "mdx_configs": {"pymdownx.quotes": {"callouts": True}},
        },
        {"site_name": "x", "markdown_extensions": [{"pymdownx.quotes": {"callouts": True}}]},
        ["obsidian_callouts"],  # obsidian-callouts, on PyPI
        ["obsidian-callouts"],  # markdown-obsidian-callouts
        {"site_name": "x", "plugins": ["search", {"callouts": {"aliases": True}}]},  # mkdocs-callouts
    ],
)
def test_a_configuration_that_renders_callouts_gets_no_warning(extensions: Any) -> None:
    assert callout_problems("docs/a.md", PAGE, extensions) == []


def test_the_guides_recipe_renders_callouts() -> None:
    config = yaml.safe_load(recipe_config())
    assert callout_problems("docs/a.md", PAGE, config) == []
    assert callout_problems("docs/a.md", PAGE, config["markdown_extensions"]) == []


@pytest.mark.parametrize(
    "extensions",
    [["pymdownx.quotes"], [{"pymdownx.quotes": {"callouts": False}}], [{"pymdownx.quotes": None}]],
)
def test_quotes_without_callouts_is_named(extensions: Any) -> None:
    problems = callout_problems("docs/a.md", PAGE, extensions)
    assert lines_of(problems) == [7, 10, 13, 16]
    assert problems[0].message == (
        "callout [!note] is shown as raw text: pymdownx.quotes is in markdown_extensions without "
        "`callouts: true`: set that option"
    )


def test_a_whole_config_without_extensions_is_read_as_having_none() -> None:
    problems = callout_problems("docs/a.md", PAGE, {"site_name": "x", "plugins": ["search"]})
    assert lines_of(problems) == [7, 10, 13, 16]
    assert callout_problems("docs/a.md", PAGE, []) == problems


def test_an_unknown_configuration_reports_nothing() -> None:
    assert callout_problems("docs/a.md", PAGE, None) == []


def test_names_only_trusts_quotes_and_options_when_given_are_read() -> None:
    """Names without options (the checker's settings keep only names) cannot tell whether
    `callouts: true` is set: no guess. An object with mdx_configs is read in full."""
    names_only = SimpleNamespace(markdown_extensions=("toc", "pymdownx.quotes"))
    assert callout_problems("docs/a.md", PAGE, names_only) == []
    missing = SimpleNamespace(markdown_extensions=("toc",))
    assert lines_of(callout_problems("docs/a.md", PAGE, missing)) == [7, 10, 13, 16]
    with_options = SimpleNamespace(markdown_extensions=["pymdownx.quotes"], mdx_configs={})
    assert "without `callouts: true`" in callout_problems("docs/a.md", PAGE, with_options)[0].message
    configured = SimpleNamespace(
        markdown_extensions=["pymdownx.quotes"], mdx_configs={"pymdownx.quotes": {"callouts": True}}
    )
    assert callout_problems("docs/a.md", PAGE, configured) == []


def test_github_callouts_renders_only_githubs_five_plain_alerts() -> None:
    text = (
        "> [!NOTE]\n> Rendered.\n\n"  # 1
        "> [!warning]\n> Rendered too: the name is read in any case.\n\n"  # 4
        "> [!warning] Title\n> A title is not read.\n\n"  # 7
        "> [!tip]-\n> Nor -/+.\n\n"  # 10
        "> [!faq]\n> Nor Obsidian's other types.\n\n"  # 13
        "> [!note]\n\n"  # 16: no body
        "> [!note]\n> Outer.\n> > [!tip]\n> > Nested.\n"  # 18, 20
    )
    problems = callout_problems("docs/a.md", text, ["github-callouts"])
    assert lines_of(problems) == [7, 10, 13, 16, 20]
    assert "github-callouts reads only [!NOTE], [!TIP], [!IMPORTANT], [!WARNING] and [!CAUTION]" in (
        problems[0].message
    )
    assert "use `pymdownx.quotes: {callouts: true}`" in problems[0].message
    assert callout_problems("docs/a.md", text, ["markdown_callouts.github_callouts", *QUOTES_ON]) == []


def test_a_type_quotes_cannot_read_is_named() -> None:
    text = (
        "> [!my note] Spaces\n> body\n\n"
        "> [!tip|wide]\n> metadata after | is read\n\n"
        "> [!note ] a space before the bracket\n> body\n"
    )
    problems = callout_problems("docs/a.md", text, QUOTES_ON)
    assert lines_of(problems) == [1, 7]
    assert "not 'my note'" in problems[0].message
    assert problems[1].message.startswith("callout [!note ] is shown as raw text")


def test_examples_in_code_comments_and_frontmatter_are_not_callouts() -> None:
    text = "\n".join(
        [
            "---",
            "title: Callouts",
            "example: |",
            "  > [!note] in the frontmatter",
            "---",
            "Write `> [!note]` to get a note; a quote starting with `[!note]` is not one:",
            "",
            "> `[!note]` in inline code",
            "",
            "````markdown",
            "```",
            "> [!note] inside a fence inside a longer fence",
            "```",
            "> [!note] still inside the longer fence",
            "````",
            "",
            "~~~",
            "> [!tip] a tilde fence",
            "~~~",
            "",
            "> Quoted example:",
            "> ```markdown",
            "> > [!note] a fence inside a quote",
            "> ```",
            "",
            "<!--",
            "> [!warning] commented out",
            "-->",
            "",
            "Indented code:",
            "",
            "    > [!note] an indented code block",
            "",
            "> [!note] the only callout",  # line 34
            "> body",
        ]
    )
    assert [callout.line for callout in find_callouts(text)] == [34]
    assert lines_of(callout_problems("docs/a.md", text, [])) == [34]


def test_an_unclosed_fence_hides_the_rest_of_the_page() -> None:
    text = "> [!note]\n> one\n\n```sh\nls\n\n> [!note]\n> two\n"
    assert lines_of(callout_problems("docs/a.md", text, [])) == [1]


def test_a_fence_in_a_quote_ends_with_the_quote() -> None:
    text = "> ```sh\n> ls\n\n> [!note]\n> after the quote\n"
    assert lines_of(callout_problems("docs/a.md", text, [])) == [4]


def test_only_the_first_line_of_a_quote_makes_a_callout() -> None:
    text = (
        "> A quote\n> [!note] not its first line\n\n"  # 1-2
        "Right after a paragraph line:\n> [!note] a callout\n\n"  # 4-5
        "> [!note] Outer\n> text\n> > [!tip] Nested callout\n> > text\n"  # 7, 9
    )
    found = find_callouts(text)
    assert [(c.line, c.type, c.depth) for c in found] == [(5, "note", 1), (7, "note", 1), (9, "tip", 2)]
    assert found[1].title == "Outer"


def test_callouts_in_list_items_are_found_and_indented_code_is_not() -> None:
    text = (
        "1. Stop the service.\n\n"
        "    > [!warning]\n"  # 3: four spaces, in the list item
        "    > Users are logged out.\n\n"
        "- Then:\n"
        "  > [!tip]+ Faster\n"  # 7: two spaces, in the list item
        "  > Use the script.\n\n"
        "Paragraph.\n\n"
        "    > [!note] code\n"  # 11: an indented code block after a paragraph
    )
    assert [callout.line for callout in find_callouts(text)] == [3, 7]


def test_the_fold_title_and_body_are_read() -> None:
    text = ">[!TIP]-   Title  here \n>\n> body\n\n> [!info]+\n"
    first, second = find_callouts(text)
    assert (first.type, first.fold, first.title, first.has_body) == ("TIP", "-", "Title  here", True)
    assert (second.type, second.fold, second.title, second.has_body) == ("info", "+", "", False)
    assert first.written == "[!TIP]-"


def test_crlf_line_endings() -> None:
    text = PAGE.replace("\n", "\r\n")
    assert lines_of(callout_problems("docs/a.md", text, [])) == [7, 10, 13, 16]
    assert find_callouts(text)[1].title == "Mind the gap"


def test_a_page_without_callouts_costs_nothing() -> None:
    assert callout_problems("docs/a.md", "# Title\n\n> A quote [with] brackets\n", []) == []


def test_every_callout_of_the_runbook_shaped_fixture_is_found() -> None:
    docs = FIXTURE / "docs"
    found = sorted(
        f"{path.relative_to(docs).as_posix()}:{callout.line}"
        for path in docs.rglob("*.md")
        for callout in find_callouts(path.read_text(encoding="utf-8"))
    )
    assert found == sorted(facts()["callout_locations"])
    assert len(found) == 22
    markers: dict[str, int] = {}
    for path in docs.rglob("*.md"):
        for callout in find_callouts(path.read_text(encoding="utf-8")):
            key = callout.type + callout.fold
            markers[key] = markers.get(key, 0) + 1
    assert markers == facts()["callouts_by_marker"]
