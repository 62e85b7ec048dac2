"""Fence recognition: both fence forms, ids, `.check`, quoting, comments, nesting, CRLF."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cardbook.core.fences import FENCE_LINE, Fence, _dedent, parse_fences, read_fence
from cardbook.core.problems import Problem
from cardbook.core.settings import Settings
from cardbook.pipeline import load_and_check
from helpers import card, write_tree

A = "docs/how-to/a.md"


def fences_of(text: str, first_line: int = 1) -> tuple[list[Fence], list[str]]:
    problems: list[Problem] = []
    fences = parse_fences(text, first_line, A, problems)
    return fences, [problem.format() for problem in problems]


def only_fence(text: str) -> Fence:
    fences, problems = fences_of(text)
    assert problems == []
    assert len(fences) == 1
    return fences[0]


# forms -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "opening",
    [
        "```nix {file=nix/a.nix}",
        "``` {.nix file=nix/a.nix}",
        "```{.nix file=nix/a.nix}",
        "```nix{file=nix/a.nix}",
    ],
)
def test_both_file_forms(opening: str) -> None:
    fence = only_fence(f"{opening}\n{{ pkgs }}:\npkgs.hello\n```\n")
    assert (fence.lang, fence.file, fence.id, fence.classes) == ("nix", "nix/a.nix", None, ())
    assert fence.body == ("{ pkgs }:", "pkgs.hello")
    assert fence.tangles and not fence.is_check
    assert (fence.line, fence.body_line) == (1, 2)


@pytest.mark.parametrize("opening", ["```nix {#python-overrides}", "``` {.nix #python-overrides}"])
def test_both_chunk_forms(opening: str) -> None:
    fence = only_fence(f"{opening}\nx = 1;\n```\n")
    assert (fence.lang, fence.id, fence.file) == ("nix", "python-overrides", None)
    assert fence.tangles


def test_id_and_file_together_in_any_order() -> None:
    fence = only_fence("``` {file=nix/a.nix .nix #main}\nx\n```\n")
    assert (fence.lang, fence.id, fence.file) == ("nix", "main", "nix/a.nix")


@pytest.mark.parametrize("opening", ["```sh {.check}", "``` {.sh .check}"])
def test_check_blocks(opening: str) -> None:
    fence = only_fence(f"{opening}\ntest -e result\n```\n")
    assert (fence.lang, fence.classes, fence.is_check, fence.tangles) == ("sh", ("check",), True, False)


@pytest.mark.parametrize(
    ("attributes", "target"),
    [
        ('{.nix file="nix/my file.nix"}', "nix/my file.nix"),
        ("{.nix file='nix/single.nix'}", "nix/single.nix"),
        ('nix {file="nix/q.nix" mode=755}', "nix/q.nix"),
    ],
)
def test_quoted_values(attributes: str, target: str) -> None:
    fence = only_fence(
        f"``` {attributes}\nx\n```\n" if attributes.startswith("{") else f"```{attributes}\nx\n```\n"
    )
    assert fence.file == target


def test_other_attributes_are_kept() -> None:
    fence = only_fence('``` {.nix file=nix/a.nix mode=755 note="a b"}\nx\n```\n')
    assert fence.attributes == {"file": "nix/a.nix", "mode": "755", "note": "a b"}


def test_plain_fences_are_prose() -> None:
    fences, problems = fences_of("```nix\n{ }\n```\n\n```\nplain\n```\n")
    assert problems == []
    assert [(f.lang, f.file, f.id, f.tangles) for f in fences] == [
        ("nix", None, None, False),
        (None, None, None, False),
    ]


def test_line_numbers_count_from_the_body_start() -> None:
    fences, _ = fences_of("text\n\n```nix {#x}\na\nb\n```\n", first_line=10)
    assert (fences[0].line, fences[0].body_line) == (12, 13)


def test_an_inline_code_span_at_the_start_of_a_line_is_not_a_fence() -> None:
    fences, problems = fences_of("```nix {file=nix/a.nix}``` is how you write it\n\ntext\n")
    assert (fences, problems) == ([], [])


def test_malformed_braces_are_an_error() -> None:
    fences, problems = fences_of("``` {.nix file=}\nx\n```\n")
    assert fences == []
    assert problems == [f"{A}:1: error: cannot read the fence attributes '{{.nix file=}}' [fence-attributes]"]


def test_an_unclosed_brace_is_an_error() -> None:
    fences, problems = fences_of("```nix {file=nix/a.nix\nx\n```\n")
    assert fences == []
    assert problems == [
        f"{A}:1: error: cannot read the fence attributes 'nix {{file=nix/a.nix' [fence-attributes]"
    ]


# comments and nesting ----------------------------------------------------------------------


def test_fences_in_html_comments_are_ignored() -> None:
    text = (
        "<!--\n"  # 1
        "```nix {file=nix/hidden.nix}\n"
        "x\n"
        "```\n"
        "-->\n"  # 5
        "<!-- one line --> text\n"
        "```nix {file=nix/seen.nix}\n"  # 7
        "y\n"
        "```\n"
        "text <!-- opens here\n"  # 10
        "```nix {#hidden}\n"
        "z\n"
        "```\n"
        "and closes here -->\n"
        "``` {.nix #seen}\n"  # 15
        "w\n"
        "```\n"
    )
    fences, problems = fences_of(text)
    assert problems == []
    assert [(f.line, f.file, f.id) for f in fences] == [(7, "nix/seen.nix", None), (15, None, "seen")]


def test_a_comment_marker_inside_a_fence_is_content() -> None:
    fences, problems = fences_of("```nix {#a}\n<!--\n```\n\n```nix {#b}\nb\n```\n")
    assert problems == []
    assert [(f.id, f.body) for f in fences] == [("a", ("<!--",)), ("b", ("b",))]


def test_fences_inside_a_longer_fence_are_content() -> None:
    text = "````markdown\n```nix {file=nix/inner.nix}\nx\n```\n````\n```nix {#after}\ny\n```\n"
    fences, problems = fences_of(text)
    assert problems == []
    assert [(f.line, f.lang, f.file, f.id, f.body) for f in fences] == [
        (1, "markdown", None, None, ("```nix {file=nix/inner.nix}", "x", "```")),
        (6, "nix", None, "after", ("y",)),
    ]


def test_a_fence_inside_a_longer_fence_is_not_tangled(tmp_path: Path, today: dt.date) -> None:
    body = "````markdown\n```nix {file=nix/inner.nix}\nx\n```\n````\n"
    write_tree(tmp_path, {A: card(body=body)})
    result = load_and_check(Settings(root=tmp_path), today=today)
    assert (result.problems, result.tangled.files) == ([], {})


def test_a_fence_in_an_html_comment_is_not_tangled(tmp_path: Path, today: dt.date) -> None:
    body = "<!--\n```nix {file=nix/hidden.nix}\nx\n```\n-->\n"
    write_tree(tmp_path, {A: card(body=body)})
    result = load_and_check(Settings(root=tmp_path), today=today)
    assert (result.problems, result.tangled.files) == ([], {})


def test_an_indented_fence_loses_its_indentation() -> None:
    fence = only_fence("    ``` {.nix file=nix/a.nix}\n    four\n  two\n      six\n\n  \n    ```\n")
    # Lines with less indentation than the fence stay as they are, whitespace included.
    assert (fence.indent, fence.body) == ("    ", ("four", "  two", "  six", "", "  "))


# unclosed fences -------------------------------------------------------------------------


@pytest.mark.parametrize("opening", ["```nix {file=nix/a.nix}", "``` {.nix #chunk}", "```sh {.check}"])
def test_an_unclosed_tangling_fence_is_an_error(opening: str) -> None:
    fences, problems = fences_of(f"prose\n{opening}\nx\n")
    assert fences == []
    assert problems == [f"{A}:2: error: code fence is never closed [unclosed-fence]"]


def test_an_unclosed_prose_fence_is_a_warning() -> None:
    fences, problems = fences_of("prose\n```nix\nx\n")
    assert [(f.line, f.body) for f in fences] == [(2, ("x", ""))]  # up to the end of the card
    assert problems == [f"{A}:2: warning: code fence is never closed [unclosed-code]"]


def test_an_unclosed_fence_in_a_card_is_reported_at_the_card_line(tmp_path: Path, today: dt.date) -> None:
    write_tree(tmp_path, {A: card(body="\n```nix {file=nix/a.nix}\nx\n")})
    result = load_and_check(Settings(root=tmp_path), today=today)
    assert [p.format() for p in result.problems] == [
        f"{A}:6: error: code fence is never closed [unclosed-fence]"
    ]
    assert result.tangled.files == {}


# the brace-less form ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("opening", "lang"), [("```nix file=nix/a.nix", "nix"), ('```sh file="nix/run.sh"', "sh")]
)
def test_a_braceless_file_is_a_warning_and_not_tangled(opening: str, lang: str) -> None:
    fences, problems = fences_of(f"{opening}\nx\n```\n")
    assert [(f.lang, f.file, f.tangles) for f in fences] == [(lang, None, False)]
    assert problems == [
        f"{A}:1: warning: file= outside braces is not tangled and breaks rendering: "
        f"write ```{lang} {{file=...}} [braceless-file]"
    ]


# CRLF ------------------------------------------------------------------------------------


def test_crlf_lines() -> None:
    text = "prose\r\n```nix {file=nix/a.nix}\r\n<<x>>\r\n\r\nb\r\n```\r\n``` {.nix #x}\r\nx\r\n```\r\n"
    fences, problems = fences_of(text)
    assert problems == []
    assert [(f.line, f.file, f.id, f.info, f.body) for f in fences] == [
        (2, "nix/a.nix", None, "nix {file=nix/a.nix}", ("<<x>>", "", "b")),
        (7, None, "x", "{.nix #x}", ("x",)),
    ]


def test_a_crlf_card_tangles_to_lf(tmp_path: Path, today: dt.date) -> None:
    text = card(body="```nix {file=nix/a.nix}\n{\n  <<x>>\n}\n```\n``` {.nix #x}\nx = 1;\n```\n")
    write_tree(tmp_path, {A: text.replace("\n", "\r\n").encode()})
    result = load_and_check(Settings(root=tmp_path, annotate=False), today=today)
    assert result.problems == []
    assert result.tangled.files["nix/a.nix"].text == "{\n  x = 1;\n}"


# parse_fences against the line-by-line scan it replaced -----------------------------------


def scanned_line_by_line(text: str, first_line: int, problems: list[Problem]) -> list[Fence]:
    """parse_fences as it was before it visited only the lines with a backtick, a tilde or a
    comment marker: every line, one at a time. The fence's own checks are shared (read_fence)."""
    fences: list[Fence] = []
    lines = text.split("\n")
    in_comment = False
    index = 0
    count = len(lines)
    while index < count:
        raw = lines[index]
        line = raw[:-1] if raw.endswith("\r") else raw
        if in_comment:
            if "-->" in line:
                in_comment = False
            index += 1
            continue
        match = FENCE_LINE.match(line) if ("`" in line or "~" in line) else None
        if match is None:
            start = line.find("<!--")
            if start != -1 and "-->" not in line[start + 4 :]:
                in_comment = True
            index += 1
            continue
        fence, indent, info = match["fence"], match["indent"], match["info"]
        if fence[0] == "`" and "`" in info:
            index += 1
            continue
        opening = first_line + index
        body: list[str] = []
        index += 1
        closed = False
        while index < count:
            raw = lines[index]
            candidate = raw[:-1] if raw.endswith("\r") else raw
            stripped = candidate.lstrip(" \t")
            if stripped.startswith(fence) and not stripped.strip(fence[0]).strip():
                closed = True
                index += 1
                break
            body.append(_dedent(candidate, indent))
            index += 1
        result = read_fence(match, opening, body, closed, A, problems)
        if result is not None:
            fences.append(result)
    return fences


# Pieces of lines that matter to the scan: fences of each kind and length, indented, with
# attributes good and bad; comment markers; CRs; other line breakers; stray backticks.
LINE_PIECES = st.sampled_from(
    [
        "```", "````", "~~~", "~~~~", "```nix {file=nix/a.nix}", "``` {.nix #c}", "```sh {.check}",
        "```nix {#c #c}", "``` {.nix", "```nix file=nix/b.nix", "  ```", "\t~~~~", "    ```nix {#d}",
        "<!--", "-->", "<!-- x -->", "text", "`code` here", "``` `x`", "\r", "\u2028", "\x0c",
        "> ```nix {file=nix/q.nix}", "", " ", "  ", "~", "`", "{", "}", "#a", "file=x", "<<c>>",
    ]
)
CARD_TEXTS = st.lists(st.lists(LINE_PIECES, max_size=4).map("".join), max_size=25).map("\n".join)


def every_field(fences: list[Fence]) -> list[tuple[object, ...]]:
    """Each fence's fields, its attributes too (Fence's == leaves them out)."""
    return [(f.line, f.indent, f.info, f.lang, f.id, f.file, f.classes, f.attributes, f.body) for f in fences]


@settings(max_examples=1500, deadline=None)
@given(CARD_TEXTS, st.integers(min_value=1, max_value=40))
def test_parse_fences_finds_what_the_line_by_line_scan_finds(text: str, first_line: int) -> None:
    expected: list[Problem] = []
    expected_fences = scanned_line_by_line(text, first_line, expected)
    found: list[Problem] = []
    found_fences = parse_fences(text, first_line, A, found)
    assert every_field(found_fences) == every_field(expected_fences)
    assert [p.format() for p in found] == [p.format() for p in expected]
