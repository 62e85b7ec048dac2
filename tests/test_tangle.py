"""Tangle in memory: references, indentation, order, errors, headers, markers and line maps."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from cardbook.core.settings import Settings
from cardbook.core.tangle import Segment, block_hash
from cardbook.pipeline import CheckResult, load_and_check
from cardbook.site.captions import BlockRef, FenceIndex
from helpers import card, fence, run_cardbook, write_tree

A, B, C = "docs/how-to/a.md", "docs/how-to/b.md", "docs/how-to/c.md"
HEADER_TAIL = "# Do not edit: change the cards, then run `cardbook tangle` (or `mkdocs build`)."


def tangled(root: Path, today: dt.date, files: dict[str, str | bytes], **options: object) -> CheckResult:
    write_tree(root, files)
    return load_and_check(Settings(root=root, **options), today=today)  # type: ignore[arg-type]


def messages(result: CheckResult) -> list[str]:
    return [problem.format() for problem in result.problems]


def naked(root: Path, today: dt.date, body: str) -> str:
    """The text of nix/a.nix tangled from one card, without annotations; no problems allowed."""
    result = tangled(root, today, {A: card(body=body)}, annotate=False)
    assert messages(result) == []
    return result.tangled.files["nix/a.nix"].text


# references and indentation ------------------------------------------------------------------


def test_a_reference_is_indented_by_its_own_indentation(tmp_path: Path, today: dt.date) -> None:
    body = fence("``` {.nix file=nix/a.nix}", "{", "  <<inner>>", "}") + fence(
        "``` {.nix #inner}", "a = 1;", "b = {", "  c = 2;", "};"
    )
    assert naked(tmp_path, today, body) == "{\n  a = 1;\n  b = {\n    c = 2;\n  };\n}"


def test_tabs_and_mixed_indentation_are_copied_verbatim(tmp_path: Path, today: dt.date) -> None:
    body = fence("``` {.nix file=nix/a.nix}", "\tx", "\t<<c>>", "  \t<<c>>") + fence(
        "``` {.nix #c}", "\tc1", "", "\tc2  "
    )
    assert naked(tmp_path, today, body) == "\tx\n\t\tc1\n\n\t\tc2  \n  \t\tc1\n\n  \t\tc2  "


def test_nested_references_with_blank_and_whitespace_only_lines(tmp_path: Path, today: dt.date) -> None:
    # The example of FINDINGS.md §4, measured with entangled tangle -a naked.
    body = (
        fence("``` {.nix file=nix/a.nix}", "top {", "  <<level1>>", "}")
        + fence("``` {.nix #level1}", "l1-first", "", "l1 {", "  <<level2>>", "}")
        + fence("``` {.nix #level2}", "l2-a", "", "\tl2-tab", "  ", "l2-end")
    )
    assert naked(tmp_path, today, body) == (
        "top {\n  l1-first\n\n  l1 {\n    l2-a\n\n    \tl2-tab\n  \n    l2-end\n  }\n}"
    )


def test_a_reference_must_be_alone_on_its_line(tmp_path: Path, today: dt.date) -> None:
    body = fence(
        "``` {.nix file=nix/a.nix}", "x = <<inner>>;", "<<inner>> trailing", "  <<inner>>   \t", "<< inner >>"
    ) + fence("``` {.nix #inner}", "I")
    assert naked(tmp_path, today, body) == "x = <<inner>>;\n<<inner>> trailing\n  I\n<< inner >>"


def test_an_empty_chunk_still_takes_a_line(tmp_path: Path, today: dt.date) -> None:
    body = fence("``` {.nix file=nix/a.nix}", "<<e>>", "after", "  <<e>>") + fence("``` {.nix #e}")
    assert naked(tmp_path, today, body) == "\nafter\n"


# concatenation and order -------------------------------------------------------------------


def test_blocks_of_one_chunk_are_concatenated_in_document_order(tmp_path: Path, today: dt.date) -> None:
    body = (
        fence("``` {.nix file=nix/a.nix}", "<<c>>")
        + fence("``` {.nix #c}", "first")
        + "\nSome prose.\n\n"
        + fence("```nix {#c}", "second", "")
        + fence("``` {.nix #c}", "", "third")
    )
    assert naked(tmp_path, today, body) == "first\nsecond\n\nthird"


def test_blocks_of_one_file_are_concatenated_in_document_order(tmp_path: Path, today: dt.date) -> None:
    body = fence("``` {.nix file=nix/a.nix}", "A1") + "prose\n" + fence("```nix {file=nix/a.nix}", "A2")
    assert naked(tmp_path, today, body) == "A1\nA2"


def test_an_id_with_a_file_makes_the_file_hold_every_block_of_that_id(tmp_path: Path, today: dt.date) -> None:
    body = (
        fence("``` {.nix #main file=nix/a.nix}", "M1")
        + fence("``` {.nix #main}", "M2")
        + fence("``` {.nix #main file=nix/b.nix}", "M3")
    )
    result = tangled(tmp_path, today, {A: card(body=body)}, annotate=False)
    assert messages(result) == []
    assert {path: out.text for path, out in result.tangled.files.items()} == {
        "nix/a.nix": "M1\nM2\nM3",
        "nix/b.nix": "M1\nM2\nM3",
    }


def test_across_cards_a_card_comes_after_the_cards_it_requires(tmp_path: Path, today: dt.date) -> None:
    # a sorts first, but requires m which requires z: z, m, a.
    files = {
        A: card(
            requires=["m"], body=fence("``` {.nix #c}", "from a") + fence("``` {.nix file=nix/a.nix}", "A")
        ),
        "docs/how-to/m.md": card(requires=["z"], body=fence("``` {.nix #c}", "from m")),
        "docs/how-to/z.md": card(
            body=fence("``` {.nix file=nix/a.nix}", "<<c>>") + fence("``` {.nix #c}", "from z")
        ),
    }
    result = tangled(tmp_path, today, files, annotate=False)
    assert messages(result) == []
    assert result.tangled.files["nix/a.nix"].text == "from z\nfrom m\nfrom a\nA"
    assert result.tangled.files["nix/a.nix"].cards == ["z", "m", "a"]


def test_two_unordered_cards_adding_to_one_file_is_an_error(tmp_path: Path, today: dt.date) -> None:
    files = {
        A: card(body=fence("```nix {file=nix/a.nix}", "A")),
        B: card(body="\n" + fence("```nix {file=nix/a.nix}", "B")),
    }
    assert messages(tangled(tmp_path, today, files)) == [
        f"{B}:6: error: a and b both add to nix/a.nix, but neither requires the other, so their order "
        "would be arbitrary: add one to the other's requires [block-order]"
    ]


def test_two_unordered_cards_adding_to_one_chunk_is_an_error(tmp_path: Path, today: dt.date) -> None:
    files = {
        A: card(body=fence("```nix {file=nix/a.nix}", "<<x>>") + fence("```nix {#x}", "A")),
        B: card(body=fence("```nix {#x}", "B")),
        C: card(body=fence("```nix {#x}", "C")),
    }
    assert messages(tangled(tmp_path, today, files)) == [
        f"{B}:5: error: a and b both add to x, but neither requires the other, so their order "
        "would be arbitrary: add one to the other's requires [block-order]",
        f"{C}:5: error: a and c both add to x, but neither requires the other, so their order "
        "would be arbitrary: add one to the other's requires [block-order]",
        f"{C}:5: error: b and c both add to x, but neither requires the other, so their order "
        "would be arbitrary: add one to the other's requires [block-order]",
    ]


def test_an_order_error_writes_nothing(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            A: card(body=fence("```nix {file=nix/a.nix}", "A") + fence("```nix {file=nix/ok.nix}", "ok")),
            B: card(body=fence("```nix {file=nix/a.nix}", "B")),
        },
    )
    result = run_cardbook(["tangle"], tmp_path)
    assert result.returncode == 1
    assert "both add to nix/a.nix" in result.stdout
    assert result.stderr == "nothing written: fix the errors above first\n"
    assert not (tmp_path / "nix").exists()


# errors in references ----------------------------------------------------------------------


def test_unknown_chunk(tmp_path: Path, today: dt.date) -> None:
    body = (
        "\n"
        + fence("``` {.nix file=nix/a.nix}", "x", "  <<nope>>")
        + fence("``` {.nix file=nix/ok.nix}", "ok")
    )
    result = tangled(tmp_path, today, {A: card(body=body)})
    assert messages(result) == [f"{A}:8: error: unknown chunk <<nope>> [unknown-chunk]"]
    assert "nix/a.nix" not in result.tangled.files


def test_an_unknown_chunk_in_a_chunk_is_reported_at_that_chunk(tmp_path: Path, today: dt.date) -> None:
    files = {
        A: card(requires=["b"], body=fence("```nix {file=nix/a.nix}", "<<outer>>")),
        B: card(body=fence("```nix {#outer}", "o", "  <<missing-one>>")),
    }
    assert messages(tangled(tmp_path, today, files)) == [
        f"{B}:7: error: unknown chunk <<missing-one>> [unknown-chunk]"
    ]


@pytest.mark.parametrize(
    ("chunks", "expected"),
    [
        ({"a": "<<a>>"}, "docs/how-to/a.md:9: error: chunk references itself: <<a>> -> <<a>> [chunk-cycle]"),
        (
            {"a": "<<b>>", "b": "<<a>>"},
            "docs/how-to/a.md:12: error: chunk references itself: <<a>> -> <<b>> -> <<a>> [chunk-cycle]",
        ),
        (
            {"a": "x\n<<b>>", "b": "<<c>>", "c": "  <<a>>"},
            "docs/how-to/a.md:16: error: chunk references itself: <<a>> -> <<b>> -> <<c>> -> <<a>> "
            "[chunk-cycle]",
        ),
    ],
)
def test_cycles_are_printed_as_their_path(
    tmp_path: Path, today: dt.date, chunks: dict[str, str], expected: str
) -> None:
    body = fence("```nix {file=nix/a.nix}", "<<a>>") + "".join(
        fence(f"```nix {{#{name}}}", text) for name, text in chunks.items()
    )
    result = tangled(tmp_path, today, {A: card(body=body)})
    assert messages(result) == [expected]
    assert result.tangled.files == {}


def test_a_file_block_referencing_its_own_id_is_a_cycle(tmp_path: Path, today: dt.date) -> None:
    result = tangled(tmp_path, today, {A: card(body=fence("``` {.nix #m file=nix/a.nix}", "<<m>>"))})
    assert messages(result) == [f"{A}:6: error: chunk references itself: <<m>> -> <<m>> [chunk-cycle]"]


def test_a_cycle_is_reported_once(tmp_path: Path, today: dt.date) -> None:
    body = (
        fence("```nix {file=nix/a.nix}", "<<a>>", "<<b>>")
        + fence("```nix {file=nix/b.nix}", "<<a>>")
        + fence("```nix {#a}", "<<b>>")
        + fence("```nix {#b}", "<<a>>")
    )
    assert messages(tangled(tmp_path, today, {A: card(body=body)})) == [
        f"{A}:16: error: chunk references itself: <<a>> -> <<b>> -> <<a>> [chunk-cycle]"
    ]


def test_an_unused_chunk_is_a_warning(tmp_path: Path, today: dt.date) -> None:
    body = (
        fence("```nix {file=nix/a.nix}", "a")
        + "\n"
        + fence("```nix {#spare}", "s")
        + fence("```nix {#spare}")
    )
    assert messages(tangled(tmp_path, today, {A: card(body=body)})) == [
        f"{A}:9: warning: chunk #spare is not used by any file [unused-chunk]"
    ]


def test_fences_without_file_or_id_are_left_alone(tmp_path: Path, today: dt.date) -> None:
    body = fence("```nix", "{ example }") + fence("```", "<<nope>>") + fence("```sh {.check}", "true")
    result = tangled(tmp_path, today, {A: card(body=body)})
    never_runs = (
        "docs/how-to/a.md:11: warning: this {.check} block never runs: checks run on what the card's "
        "`build:` builds (cardbook check --nix); add `build:` to the card, or drop .check "
        "[check-without-build]"
    )
    assert (messages(result), result.tangled.files) == ([never_runs], {})


def test_one_file_from_two_differently_named_blocks_is_an_error(tmp_path: Path, today: dt.date) -> None:
    body = fence("```nix {file=nix/a.nix}", "plain") + fence("``` {.nix #m file=nix/a.nix}", "m")
    assert messages(tangled(tmp_path, today, {A: card(body=body)})) == [
        f"{A}:8: error: nix/a.nix is already written from blocks named 'nix/a.nix', not 'm' [file-target]"
    ]


# targets -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "/etc/passwd",
        "/work/nix/a.nix",
        "../a.nix",
        "nix/../a.nix",
        "nix/sub/../../a.nix",
        "~/a.nix",
        "~root/a.nix",
        "nix/%2e%2e/a.nix",
        "%2e%2e/a.nix",
        "nix%2Fa.nix",
        "other/a.nix",
        "nixx/a.nix",
        "a.nix",
        "nix",
        "nix/",
        "C:/nix/a.nix",
        "nix\\..\\a.nix",
    ],
)
def test_targets_outside_the_output_roots(tmp_path: Path, today: dt.date, target: str) -> None:
    body = fence(f'``` {{.nix file="{target}"}}', "x")
    assert messages(tangled(tmp_path, today, {A: card(body=body)})) == [
        f"{A}:5: error: file target {target!r} is outside the output roots (nix/) [file-target]"
    ]


def test_a_target_outside_the_roots_writes_nothing(tmp_path: Path) -> None:
    body = fence("```nix {file=nix/ok.nix}", "ok") + fence("```nix {file=nix/../escape.nix}", "x")
    write_tree(tmp_path, {A: card(body=body)})
    result = run_cardbook(["tangle"], tmp_path)
    assert result.returncode == 1
    assert result.stdout.splitlines()[0] == (
        f"{A}:8: error: file target 'nix/../escape.nix' is outside the output roots (nix/) [file-target]"
    )
    assert not (tmp_path / "nix").exists()
    assert not (tmp_path / "escape.nix").exists()


@pytest.mark.parametrize(
    ("target", "normal"), [("./nix/a.nix", "nix/a.nix"), ("nix//sub/./a.nix", "nix/sub/a.nix")]
)
def test_targets_are_normalised(tmp_path: Path, today: dt.date, target: str, normal: str) -> None:
    result = tangled(tmp_path, today, {A: card(body=fence(f"``` {{.nix file={target}}}", "x"))})
    assert (messages(result), list(result.tangled.files)) == ([], [normal])


def test_every_configured_output_root_is_allowed(tmp_path: Path, today: dt.date) -> None:
    body = fence("```nix {file=nix/a.nix}", "a") + fence("```yaml {file=deploy/b.yaml}", "b: 1")
    result = tangled(tmp_path, today, {A: card(body=body)}, output_roots=("nix", "deploy"))
    assert (messages(result), sorted(result.tangled.files)) == ([], ["deploy/b.yaml", "nix/a.nix"])


# annotated output ----------------------------------------------------------------------------


def test_header_names_the_cards_and_markers_wrap_each_block(tmp_path: Path, today: dt.date) -> None:
    files = {
        A: card(body=fence("```nix {file=nix/a.nix}", "{ pkgs }:", "{", "  <<overrides>>", "}")),
        B: card(requires=["a"], body=fence("``` {.nix #overrides}", "baz = 1;")),
    }
    result = tangled(tmp_path, today, files)
    assert messages(result) == []
    assert result.tangled.files["nix/a.nix"].text == (
        f"# Generated by cardbook from {A}, {B} into nix/a.nix.\n"
        f"{HEADER_TAIL}\n"
        f"# ~~ begin {A}#nix/a.nix[0] {block_hash(['{ pkgs }:', '{', '  <<overrides>>', '}'])} ~~\n"
        "{ pkgs }:\n"
        "{\n"
        f"  # ~~ begin {B}#overrides[0] {block_hash(['baz = 1;'])} ~~\n"
        "  baz = 1;\n"
        f"  # ~~ end {B}#overrides[0] ~~\n"
        "}\n"
        f"# ~~ end {A}#nix/a.nix[0] ~~\n"
    )


def test_the_marker_index_counts_blocks_of_one_name_per_card(tmp_path: Path, today: dt.date) -> None:
    files = {
        A: card(
            body=fence("```nix {file=nix/a.nix}", "<<x>>")
            + fence("```nix {#x}", "1")
            + fence("```nix {#x}", "2")
        ),
        B: card(requires=["a"], body=fence("```nix {#x}", "3")),
    }
    text = tangled(tmp_path, today, files).tangled.files["nix/a.nix"].text
    begins = [
        line.split(" ~~ begin ")[1].rsplit(" ", 2)[0] for line in text.splitlines() if "~~ begin" in line
    ]
    assert begins == [f"{A}#nix/a.nix[0]", f"{A}#x[0]", f"{A}#x[1]", f"{B}#x[0]"]


def test_a_shebang_stays_the_first_line(tmp_path: Path, today: dt.date) -> None:
    body = fence("```sh {file=nix/run.sh}", "#!/bin/sh", "set -eu", "<<more>>") + fence(
        "```sh {#more}", "echo more"
    )
    result = tangled(tmp_path, today, {A: card(body=body)})
    assert messages(result) == []
    assert result.tangled.files["nix/run.sh"].text == (
        "#!/bin/sh\n"
        f"# Generated by cardbook from {A} into nix/run.sh.\n"
        f"{HEADER_TAIL}\n"
        f"# ~~ begin {A}#nix/run.sh[0] {block_hash(['#!/bin/sh', 'set -eu', '<<more>>'])} ~~\n"
        "set -eu\n"
        f"# ~~ begin {A}#more[0] {block_hash(['echo more'])} ~~\n"
        "echo more\n"
        f"# ~~ end {A}#more[0] ~~\n"
        f"# ~~ end {A}#nix/run.sh[0] ~~\n"
    )


@pytest.mark.parametrize(
    ("path", "first", "last"),
    [
        ("nix/a.nix", f"# Generated by cardbook from {A} into nix/a.nix.", f"# ~~ end {A}#nix/a.nix[0] ~~"),
        ("nix/a.sh", f"# Generated by cardbook from {A} into nix/a.sh.", f"# ~~ end {A}#nix/a.sh[0] ~~"),
        (
            "nix/a.yaml",
            f"# Generated by cardbook from {A} into nix/a.yaml.",
            f"# ~~ end {A}#nix/a.yaml[0] ~~",
        ),
        (
            "nix/a.toml",
            f"# Generated by cardbook from {A} into nix/a.toml.",
            f"# ~~ end {A}#nix/a.toml[0] ~~",
        ),
        ("nix/a.py", f"# Generated by cardbook from {A} into nix/a.py.", f"# ~~ end {A}#nix/a.py[0] ~~"),
        ("nix/a.lua", f"-- Generated by cardbook from {A} into nix/a.lua.", f"-- ~~ end {A}#nix/a.lua[0] ~~"),
        ("nix/a.sql", f"-- Generated by cardbook from {A} into nix/a.sql.", f"-- ~~ end {A}#nix/a.sql[0] ~~"),
        (
            "nix/a.css",
            f"/* Generated by cardbook from {A} into nix/a.css. */",
            f"/* ~~ end {A}#nix/a.css[0] ~~ */",
        ),
        ("nix/a.c", f"/* Generated by cardbook from {A} into nix/a.c. */", f"/* ~~ end {A}#nix/a.c[0] ~~ */"),
        ("nix/a.el", f";; Generated by cardbook from {A} into nix/a.el.", f";; ~~ end {A}#nix/a.el[0] ~~"),
        (
            "nix/a.scss",
            f"/* Generated by cardbook from {A} into nix/a.scss. */",
            f"/* ~~ end {A}#nix/a.scss[0] ~~ */",
        ),
    ],
)
def test_comment_style_follows_the_suffix(
    tmp_path: Path, today: dt.date, path: str, first: str, last: str
) -> None:
    from cardbook.core.settings import DEFAULT_COMMENT_STYLES

    styles = {**DEFAULT_COMMENT_STYLES, ".el": (";;", ""), ".scss": ("/*", "*/")}
    result = tangled(
        tmp_path, today, {A: card(body=fence(f"``` {{file={path}}}", "x"))}, comment_styles=styles
    )
    assert messages(result) == []
    lines = result.tangled.files[path].text.split("\n")
    assert (lines[0], lines[-2], lines[-1]) == (first, last, "")


def test_comment_styles_come_from_mkdocs_yml(tmp_path: Path) -> None:
    config = (
        "site_name: t\nmarkdown_extensions: [pymdownx.superfences]\nplugins:\n  - cardbook:\n"
        '      comment_styles:\n        .el: ";;"\n        .scss: "/* */"\n'
    )
    body = fence("``` {file=nix/a.el}", "(x)") + fence("``` {file=nix/a.scss}", "a {}")
    write_tree(tmp_path, {"mkdocs.yml": config, A: card(body=body)})
    result = run_cardbook(["tangle"], tmp_path)
    assert (result.returncode, result.stdout) == (0, "2 files: 2 written, 0 unchanged, 0 removed\n")
    assert (
        (tmp_path / "nix/a.el").read_text().startswith(f";; Generated by cardbook from {A} into nix/a.el.\n")
    )
    assert (
        (tmp_path / "nix/a.scss")
        .read_text()
        .startswith(f"/* Generated by cardbook from {A} into nix/a.scss. */\n")
    )


@pytest.mark.parametrize(("path", "shown"), [("nix/notes.txt", ".txt"), ("nix/Makefile", "(none)")])
def test_an_unknown_suffix_is_an_error(tmp_path: Path, today: dt.date, path: str, shown: str) -> None:
    result = tangled(tmp_path, today, {A: card(body=fence(f"``` {{file={path}}}", "x"))})
    assert messages(result) == [
        f"{A}:5: error: no comment style for {shown} files: add one under the plugin's comment_styles "
        "[comment-style]"
    ]
    assert result.tangled.files == {}


def test_an_unknown_suffix_is_fine_without_annotations(tmp_path: Path, today: dt.date) -> None:
    result = tangled(tmp_path, today, {A: card(body=fence("``` {file=nix/notes.txt}", "x"))}, annotate=False)
    assert (messages(result), result.tangled.files["nix/notes.txt"].text) == ([], "x")


# line map and segments ---------------------------------------------------------------------


def line_map_tree() -> dict[str, str | bytes]:
    return {
        # body starts at line 5: fence at 5, lines 6-10
        A: card(body=fence("```nix {file=nix/a.nix}", "{ pkgs }:", "{", "  <<inner>>", "  tail = 1;", "}")),
        # body starts at line 6: prose 6-7, fence at 8 with lines 9-11, fence at 13 with line 14
        B: card(
            requires=["a"],
            body="prose\n\n"
            + fence("``` {.nix #inner}", "a = 1;", "", "<<deep>>")
            + fence("``` {.nix #deep}", "deep = 2;"),
        ),
    }


@pytest.mark.parametrize("annotate", [True, False])
def test_line_sources_map_every_line_to_its_card_line(tmp_path: Path, today: dt.date, annotate: bool) -> None:
    files = line_map_tree()
    result = tangled(tmp_path, today, files, annotate=annotate)
    assert messages(result) == []
    output = result.tangled.files["nix/a.nix"]
    lines = output.text.split("\n")
    if annotate:
        assert lines.pop() == ""
    assert len(lines) == len(output.line_sources)
    mapped = [
        (line, (source.rel, source.line) if source else None)
        for line, source in zip(lines, output.line_sources, strict=True)
        if source is not None or not annotate
    ]
    assert mapped == [
        ("{ pkgs }:", (A, 6)),
        ("{", (A, 7)),
        ("  a = 1;", (B, 9)),
        ("", (B, 10)),
        ("  deep = 2;", (B, 14)),
        ("  tail = 1;", (A, 9)),
        ("}", (A, 10)),
    ]
    # Every sourced line is its card line plus the reference indentation.
    for line, source in zip(lines, output.line_sources, strict=True):
        if source is not None:
            card_line = str(files[source.rel]).split("\n")[source.line - 1]
            assert line.strip() == card_line.strip()
    if annotate:
        assert [source is None for source in output.line_sources].count(True) == 8  # header + markers


def test_segments(tmp_path: Path, today: dt.date) -> None:
    result = tangled(tmp_path, today, line_map_tree())
    output = result.tangled.files["nix/a.nix"]
    assert output.segments == [
        Segment("a", A, 5, "nix/a.nix", 4, 5),
        Segment("b", B, 8, "inner", 7, 8),
        Segment("b", B, 13, "deep", 10, 10),
        Segment("a", A, 5, "nix/a.nix", 13, 14),
    ]
    assert output.cards == ["a", "b"]
    index = FenceIndex(result.tangled)  # the site's index over the tangle result (TangleResult has none)
    assert index.fence_files == {
        ("a", 5): ["nix/a.nix"],
        ("b", 8): ["nix/a.nix"],
        ("b", 13): ["nix/a.nix"],
    }
    assert index.chunk_parts == {"inner": [BlockRef("b", 8)], "deep": [BlockRef("b", 13)]}
    lines = output.text.split("\n")
    for segment in output.segments:
        for number in range(segment.start, segment.end + 1):
            source = output.line_sources[number - 1]
            assert source is not None
            assert (source.card, source.rel) == (segment.stem, segment.rel)
            assert segment.fence_line < source.line
        assert "~~" not in "".join(lines[segment.start - 1 : segment.end])


def test_segments_without_annotations(tmp_path: Path, today: dt.date) -> None:
    output = tangled(tmp_path, today, line_map_tree(), annotate=False).tangled.files["nix/a.nix"]
    assert output.segments == [
        Segment("a", A, 5, "nix/a.nix", 1, 2),
        Segment("b", B, 8, "inner", 3, 4),
        Segment("b", B, 13, "deep", 5, 5),
        Segment("a", A, 5, "nix/a.nix", 6, 7),
    ]


# Parity with Entangled: inputs the two tools would otherwise write differently -----------------


@pytest.mark.parametrize(
    ("info", "repeated"),
    [("```nix {file=nix/a.nix file=nix/b.nix}", "file="), ("```nix {#one #two}", "#id")],
)
def test_a_fence_with_a_repeated_attribute_is_an_error(
    tmp_path: Path, today: dt.date, info: str, repeated: str
) -> None:
    body = fence(info, "x") + fence("```nix {file=nix/c.nix}", "<<one>>", "<<two>>")
    problems = messages(tangled(tmp_path, today, {A: card(body=body)}))
    assert (
        f"{A}:5: error: the fence has {repeated} twice: keep one (tools disagree on which wins) "
        "[fence-attributes]"
        in problems
    )


@pytest.mark.parametrize("breaker", ["\r", "\v", "\f", "\x1c", "\x1e", "\x85", "\u2028"])
def test_a_line_breaking_character_inside_a_block_line_is_an_error(
    tmp_path: Path, today: dt.date, breaker: str
) -> None:
    body = fence("```nix {file=nix/a.nix}", "first", f"c{breaker}d")
    problems = messages(tangled(tmp_path, today, {A: card(body=body)}))
    assert any(
        problem.startswith(f"{A}:7: error: this line holds the character {breaker!r}") for problem in problems
    ), problems


def test_a_crlf_card_is_not_a_line_breaking_character(tmp_path: Path, today: dt.date) -> None:
    body = fence("```nix {file=nix/a.nix}", "a", "b").replace("\n", "\r\n")
    assert messages(tangled(tmp_path, today, {A: card(body=body)})) == []


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o7777


def test_mode_makes_a_tangled_script_executable_and_is_never_loosened(tmp_path: Path) -> None:
    body = fence("```sh {file=nix/run.sh mode=0755}", "#!/bin/sh", "echo hi")
    write_tree(tmp_path, {A: card(body=body)})
    assert run_cardbook(["tangle"], tmp_path).returncode == 0
    script = tmp_path / "nix/run.sh"
    assert mode(script) == 0o755
    script.chmod(0o644)  # a checkout or an editor dropped the execute bits: drift, then fixed
    checked = run_cardbook(["check"], tmp_path)
    assert checked.returncode == 1
    assert f"{A}:5: error: nix/run.sh: its mode is 0644, the card asks for mode=0755" in checked.stdout
    assert run_cardbook(["tangle"], tmp_path).stdout == "1 file: 1 written, 0 unchanged, 0 removed\n"
    assert mode(script) == 0o755
    script.chmod(0o700)  # tightened by hand: kept
    assert run_cardbook(["check"], tmp_path).returncode == 0
    assert run_cardbook(["tangle"], tmp_path).returncode == 0
    assert mode(script) == 0o700


def test_a_bad_or_conflicting_mode_is_an_error(tmp_path: Path, today: dt.date) -> None:
    body = fence("```sh {file=nix/a.sh mode=755x}", "a") + fence("```sh {file=nix/b.sh mode=0755}", "b")
    body += fence("```sh {file=nix/b.sh mode=0700}", "c")
    problems = messages(tangled(tmp_path, today, {A: card(body=body)}))
    assert f"{A}:5: error: mode=755x is not an octal mode like 0755 [file-mode]" in problems
    assert (
        f"{A}:11: error: mode=0700 differs from 0755, asked for nix/b.sh by another of its blocks [file-mode]"
        in problems
    )
