"""Fence recognition: both fence forms, ids, `.check`, quoting, comments, nesting, CRLF."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from cardbook.core.fences import Fence, parse_fences
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
