"""`cardbook stitch`: edits made inside generated files go back into the right fences."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
from pathlib import Path

import pytest

from helpers import card, fence, run_cardbook, write_tree

A, B = "docs/how-to/a.md", "docs/how-to/b.md"
DIGEST = re.compile(r"( ~~ begin \S+\[\d+\]) [0-9a-f]{10} ~~")


def cardbook(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cardbook(list(args), root)


def tangled(root: Path, files: dict[str, str | bytes]) -> Path:
    write_tree(root, files)
    result = cardbook(root, "tangle")
    assert result.returncode == 0, result.stdout + result.stderr
    return root


def without_digests(text: str) -> str:
    return DIGEST.sub(r"\1 ~~", text)


TODAY = dt.date.today().isoformat()


def undated(path: Path) -> str:
    """A card as stitch left it, with the `modified` date it set to today put back to the
    fixtures' date: these tests look at the fences (test_stitch_sets_modified_to_today at it)."""
    return path.read_text().replace(f"modified: {TODAY}", "modified: 2026-01-01")


def undated_bytes(path: Path) -> bytes:
    return path.read_bytes().replace(f"modified: {TODAY}".encode(), b"modified: 2026-01-01")


def digests(text: str) -> list[str]:
    return re.findall(r" ~~ begin \S+\[\d+\] ([0-9a-f]{10}) ~~", text)


def hand_edit(path: Path, old: str, new: str) -> str:
    text = path.read_text()
    assert text.count(old) == 1, old
    text = text.replace(old, new)
    path.write_text(text)
    return text


def stitched(root: Path, blocks: int = 1, cards: tuple[str, ...] = (A,)) -> None:
    result = cardbook(root, "stitch")
    card_word = "card" if len(cards) == 1 else "cards"
    block_word = "block" if blocks == 1 else "blocks"
    assert (result.returncode, result.stdout, result.stderr) == (
        0,
        "".join(f"stitched into {rel} (modified: {TODAY})\n" for rel in cards)
        + f"{blocks} {block_word} stitched into {len(cards)} {card_word}\n",
        "",
    )


def assert_in_sync(root: Path, generated: dict[str, str]) -> None:
    """The files hold the edited text (hashes aside), and the cards agree with them."""
    for rel, text in generated.items():
        on_disk = (root / rel).read_text()
        assert without_digests(on_disk) == without_digests(text)
    result = cardbook(root, "check")
    assert result.returncode == 0, result.stdout
    result = cardbook(root, "tangle")
    count = len(generated)
    files = "file" if count == 1 else "files"
    assert (result.returncode, result.stdout) == (
        0,
        f"{count} {files}: 0 written, {count} unchanged, 0 removed\n",
    )
    for rel, text in generated.items():
        assert without_digests((root / rel).read_text()) == without_digests(text)


# one card -------------------------------------------------------------------------------------

CARD_A = card(
    body="# Title\n\nSome prose with `code`.   \n\n"  # lines 5-8, trailing spaces kept
    + fence("```nix {file=nix/a.nix}", "{ pkgs }:", "{", "  <<overrides>>", "}")  # 9-14
    + "\nMore prose.\n\n"  # 15-17
    + fence("``` {.nix #overrides}", "baz = 1;", "", "\tqux = 2;")  # 18-22
    + "\nThe end, without a final newline."
)


def test_an_edit_goes_into_exactly_that_fence(tmp_path: Path) -> None:
    tangled(tmp_path, {A: CARD_A})
    before = (tmp_path / "nix/a.nix").read_text()
    edited = hand_edit(tmp_path / "nix/a.nix", "  baz = 1;\n", "  baz = 3;\n  added = true;\n")
    stitched(tmp_path)
    card_bytes = undated_bytes(tmp_path / A)
    assert card_bytes == CARD_A.replace("baz = 1;\n", "baz = 3;\nadded = true;\n").encode()
    after = (tmp_path / "nix/a.nix").read_text()
    assert after != edited  # the hash of the edited block is new
    assert without_digests(after) == without_digests(edited)
    assert digests(after)[0] == digests(before)[0]  # the untouched outer block keeps its hash
    assert digests(after)[1] != digests(before)[1]
    assert_in_sync(tmp_path, {"nix/a.nix": edited})


def test_an_edit_of_the_outer_block_keeps_the_reference(tmp_path: Path) -> None:
    tangled(tmp_path, {A: CARD_A})
    edited = hand_edit(tmp_path / "nix/a.nix", "{ pkgs }:\n", "{ pkgs, lib }:\n# a comment\n")
    stitched(tmp_path)
    assert undated(tmp_path / A) == CARD_A.replace("{ pkgs }:\n", "{ pkgs, lib }:\n# a comment\n")
    assert_in_sync(tmp_path, {"nix/a.nix": edited})


def test_removing_lines_and_blank_lines(tmp_path: Path) -> None:
    tangled(tmp_path, {A: CARD_A})
    edited = hand_edit(tmp_path / "nix/a.nix", "  baz = 1;\n\n  \tqux = 2;\n", "  \tqux = 2;\n")
    stitched(tmp_path)
    assert undated(tmp_path / A) == CARD_A.replace("baz = 1;\n\n\tqux", "\tqux")
    assert_in_sync(tmp_path, {"nix/a.nix": edited})


def test_no_edit_changes_nothing(tmp_path: Path) -> None:
    tangled(tmp_path, {A: CARD_A})
    before = (tmp_path / "nix/a.nix").read_bytes()
    stitched(tmp_path, blocks=0, cards=())
    assert undated(tmp_path / A) == CARD_A
    assert (tmp_path / "nix/a.nix").read_bytes() == before


# refusals -------------------------------------------------------------------------------------


def test_both_changed_refuses_and_writes_nothing(tmp_path: Path) -> None:
    tangled(tmp_path, {A: CARD_A})
    card_text = hand_edit(tmp_path / A, "baz = 1;", "baz = 2;")
    hand_edit(tmp_path / "nix/a.nix", "  baz = 1;", "  baz = 3;")
    hand_edit(tmp_path / "nix/a.nix", "{ pkgs }:", "{ pkgs, lib }:")  # a clean edit elsewhere
    file_text = (tmp_path / "nix/a.nix").read_text()
    result = cardbook(tmp_path, "stitch")
    assert (result.returncode, result.stdout, result.stderr) == (
        1,
        f"{A}:18: error: both this card and nix/a.nix:6 changed block overrides: nothing was stitched; "
        "merge the two edits by hand [stitch]\n",
        "nothing stitched\n",
    )
    assert undated(tmp_path / A) == card_text
    assert (tmp_path / "nix/a.nix").read_text() == file_text


def test_one_chunk_edited_differently_in_two_places_refuses(tmp_path: Path) -> None:
    body = fence("```nix {file=nix/a.nix}", "<<x>>") + fence("```nix {file=nix/b.nix}", "<<x>>")
    tangled(tmp_path, {A: card(body=body + fence("```nix {#x}", "x = 1;"))})
    hand_edit(tmp_path / "nix/a.nix", "x = 1;", "x = 2;")
    hand_edit(tmp_path / "nix/b.nix", "x = 1;", "x = 3;")
    before = (tmp_path / A).read_bytes()
    result = cardbook(tmp_path, "stitch")
    assert (result.returncode, result.stdout) == (
        1,
        f"nix/b.nix:4: error: cannot stitch: {A}#x was edited differently in nix/a.nix [stitch]\n",
    )
    assert (tmp_path / A).read_bytes() == before


def test_lines_outside_every_block_cannot_be_stitched(tmp_path: Path) -> None:
    tangled(tmp_path, {A: CARD_A})
    hand_edit(
        tmp_path / "nix/a.nix", f"# ~~ end {A}#nix/a.nix[0] ~~\n", f"# ~~ end {A}#nix/a.nix[0] ~~\nstray\n"
    )
    result = cardbook(tmp_path, "stitch")
    assert (result.returncode, result.stdout) == (
        1,
        "nix/a.nix:13: error: cannot stitch: lines outside every block belong to no card; "
        "move them inside a block [stitch]\n",
    )
    assert undated(tmp_path / A) == CARD_A


def test_stitch_needs_annotations(tmp_path: Path) -> None:
    config = (
        "site_name: t\nmarkdown_extensions: [pymdownx.superfences]\n"
        "plugins:\n  - cardbook:\n      annotate: false\n"
    )
    tangled(tmp_path, {A: CARD_A, "mkdocs.yml": config})
    result = cardbook(tmp_path, "stitch")
    assert (result.returncode, result.stdout, result.stderr) == (
        2,  # the setup, not the cards (an outside probe found exit status 1)
        "",
        "mkdocs.yml:5: error: stitch needs the block markers: it does not work with annotate: false "
        "[config]\n",
    )


# several cards, nesting --------------------------------------------------------------------------


def test_a_nested_chunk_edit_goes_to_the_chunks_card(tmp_path: Path) -> None:
    card_a = card(body=fence("```nix {file=nix/a.nix}", "{", "  inherit (x) y;", "  <<from-b>>", "}"))
    card_b = card(
        requires=["a"],
        body="Prose.\n\n"
        + fence("```nix {#from-b}", "b = {", "  <<deeper>>", "};")
        + fence("```nix {#deeper}", "d = 1;"),
    )
    tangled(tmp_path, {A: card_a, B: card_b})
    edited = hand_edit(tmp_path / "nix/a.nix", "    d = 1;\n", "    d = 2;\n    e = 3;\n")
    stitched(tmp_path, cards=(B,))
    assert undated(tmp_path / A) == card_a
    assert undated(tmp_path / B) == card_b.replace("d = 1;\n", "d = 2;\ne = 3;\n")
    assert_in_sync(tmp_path, {"nix/a.nix": edited})


def test_edits_in_two_cards_at_once(tmp_path: Path) -> None:
    card_a = card(body=fence("```nix {file=nix/a.nix}", "a = 1;", "<<b>>"))
    card_b = card(requires=["a"], body=fence("```nix {#b}", "b = 1;"))
    tangled(tmp_path, {A: card_a, B: card_b})
    edited = hand_edit(tmp_path / "nix/a.nix", "a = 1;\n", "a = 2;\n")
    edited = hand_edit(tmp_path / "nix/a.nix", "b = 1;\n", "b = 2;\n")
    stitched(tmp_path, blocks=2, cards=(A, B))
    assert undated(tmp_path / A) == card_a.replace("a = 1;", "a = 2;")
    assert undated(tmp_path / B) == card_b.replace("b = 1;", "b = 2;")
    assert_in_sync(tmp_path, {"nix/a.nix": edited})


def test_the_same_chunk_referenced_on_consecutive_lines(tmp_path: Path) -> None:
    body = fence("```nix {file=nix/a.nix}", "[", "  <<x>>", "  <<x>>", "]") + fence("```nix {#x}", "1")
    text = card(body=body)
    tangled(tmp_path, {A: text})
    stitched(tmp_path, blocks=0, cards=())
    assert undated(tmp_path / A) == text
    edited = hand_edit(tmp_path / "nix/a.nix", "[\n", "[\n  0\n")
    stitched(tmp_path)
    assert undated(tmp_path / A) == text.replace("[\n", "[\n  0\n")
    assert_in_sync(tmp_path, {"nix/a.nix": edited})


def test_whitespace_only_lines_survive_a_stitch(tmp_path: Path) -> None:
    body = fence("```nix {file=nix/a.nix}", "{", "    <<x>>", "}") + fence(
        "```nix {#x}", "a", "  ", "      ", "b"
    )
    text = card(body=body)
    tangled(tmp_path, {A: text})
    edited = hand_edit(tmp_path / "nix/a.nix", "    a\n", "    a2\n")
    stitched(tmp_path)
    assert undated(tmp_path / A) == text.replace("\na\n", "\na2\n")
    assert_in_sync(tmp_path, {"nix/a.nix": edited})


def test_an_id_with_a_file(tmp_path: Path) -> None:
    text = card(body=fence("``` {.nix #m file=nix/a.nix}", "m1") + fence("``` {.nix #m}", "m2"))
    tangled(tmp_path, {A: text})
    edited = hand_edit(tmp_path / "nix/a.nix", "m1\n", "m1-edited\n")
    stitched(tmp_path)
    assert undated(tmp_path / A) == text.replace("m1\n", "m1-edited\n")
    assert_in_sync(tmp_path, {"nix/a.nix": edited})


def test_a_shebang_script(tmp_path: Path) -> None:
    text = card(body=fence("```sh {file=nix/run.sh}", "#!/bin/sh", "echo hi"))
    tangled(tmp_path, {A: text})
    edited = hand_edit(tmp_path / "nix/run.sh", "echo hi\n", "echo hello\n")
    stitched(tmp_path)
    assert undated(tmp_path / A) == text.replace("echo hi", "echo hello")
    assert_in_sync(tmp_path, {"nix/run.sh": edited})


# line endings and indentation ----------------------------------------------------------------------


def test_a_crlf_card_stays_crlf(tmp_path: Path) -> None:
    crlf = CARD_A.replace("\n", "\r\n").encode()
    tangled(tmp_path, {A: crlf})
    generated = (tmp_path / "nix/a.nix").read_bytes()
    assert b"\r" not in generated
    edited = hand_edit(tmp_path / "nix/a.nix", "  baz = 1;\n", "  baz = 3;\n  added = true;\n")
    stitched(tmp_path)
    assert undated_bytes(tmp_path / A) == crlf.replace(b"baz = 1;\r\n", b"baz = 3;\r\nadded = true;\r\n")
    assert_in_sync(tmp_path, {"nix/a.nix": edited})


def test_a_card_with_a_byte_order_mark_keeps_it(tmp_path: Path) -> None:
    text = "\ufeff" + card(body=fence("```nix {file=nix/a.nix}", "a"))
    tangled(tmp_path, {A: text})
    hand_edit(tmp_path / "nix/a.nix", "\na\n", "\nb\n")
    stitched(tmp_path)
    assert undated_bytes(tmp_path / A) == text.replace("\na\n", "\nb\n").encode()


@pytest.mark.parametrize("indent", ["    ", "   ", "\t"])
def test_a_fence_in_a_list_item_keeps_its_indentation(tmp_path: Path, indent: str) -> None:
    lines = ["```nix {file=nix/a.nix}", "{", "", "  a = 1;", "}", "```"]
    body = "1. Write the file:\n\n" + "".join((indent + line if line else "") + "\n" for line in lines)
    text = card(body=body)
    tangled(tmp_path, {A: text})
    assert "\n{\n\n  a = 1;\n}\n" in (tmp_path / "nix/a.nix").read_text()
    edited = hand_edit(tmp_path / "nix/a.nix", "  a = 1;\n", "  a = 1;\n  b = 2;\n")
    stitched(tmp_path)
    assert undated(tmp_path / A) == text.replace(
        f"{indent}  a = 1;\n", f"{indent}  a = 1;\n{indent}  b = 2;\n"
    )
    assert_in_sync(tmp_path, {"nix/a.nix": edited})


def test_stitch_sets_modified_to_today(tmp_path: Path) -> None:
    """A card a stitch changed was modified today: its date says so, and stitch tells."""
    tangled(tmp_path, {A: CARD_A})
    hand_edit(tmp_path / "nix/a.nix", "  baz = 1;", "  baz = 2;")
    stitched(tmp_path)
    lines = (tmp_path / A).read_text().splitlines()
    assert lines[2] == f"modified: {TODAY}"
    assert cardbook(tmp_path, "check").returncode == 0
