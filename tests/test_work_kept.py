"""Issue 14: what an outside hostile probe broke, one test per reproducer.

Part of the reliability suite: every test counts one hostile input. The rule under all of
them: no sequence of ordinary actions, following cardbook's own advice included, loses a
line a person wrote; bad input ends in one message at a path, exit status 1 or 2, with
nothing changed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers import HELLO_DERIVATION, card, fence, run_cardbook
from helpers import write_cards_tree as write_tree

pytest_plugins = ["reliability_counts"]

BASE = "docs/how-to/base.md"
CONFIG = "site_name: t\nmarkdown_extensions: [pymdownx.superfences]\nplugins: [search, cardbook]\n"
BASE_CARD = card(
    title="Base",
    body=fence("```nix {file=nix/base.nix}", "{", "  <<base-attrs>>", "}")
    + "\n"
    + fence("```nix {#base-attrs}", "base = 1;"),
)
STITCH = "run `cardbook stitch` to carry the edit into the cards, or `cardbook tangle --force` to discard it"
ROOT_ONLY = pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root (chattr, mount)"
)


def count() -> None:
    import reliability_counts

    reliability_counts.add(reliability_counts.HOSTILE)


def cardbook(root: Path, *args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    result = run_cardbook(list(args), root, **kwargs)  # type: ignore[arg-type]
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    return result


def snapshot(top: Path) -> dict[str, tuple[object, ...]]:
    """Every entry below top: kind and content hash (symlinks recorded, not followed)."""
    entries: dict[str, tuple[object, ...]] = {}
    for directory, dirnames, filenames in os.walk(top):
        for name in [*dirnames, *filenames]:
            path = Path(directory, name)
            info = path.lstat()
            rel = path.relative_to(top).as_posix()
            if stat.S_ISLNK(info.st_mode):
                entries[rel] = ("link", os.readlink(path))
            elif stat.S_ISREG(info.st_mode):
                entries[rel] = ("file", hashlib.sha256(path.read_bytes()).hexdigest(), info.st_mode)
            else:
                entries[rel] = ("other", stat.S_IFMT(info.st_mode))
    return entries


@pytest.fixture
def book(tmp_path: Path) -> Path:
    """A runbook with one tangled card: nix/base.nix holds the chunk base-attrs."""
    root = tmp_path / "book"
    write_tree(root, {"mkdocs.yml": CONFIG, "docs/index.md": "# Runbook\n", BASE: BASE_CARD})
    assert cardbook(root, "tangle").returncode == 0
    return root


def buildable(title: str, target: str) -> str:
    """A card whose `file=` block is a derivation, built as its `build:`."""
    return card(
        title=title, body=fence(f"```nix {{file={target}}}", *HELLO_DERIVATION), extra=f"build: {target}"
    )


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, text
    path.write_text(text.replace(old, new, 1))


# Work lost -----------------------------------------------------------------------------------


def test_a_hand_edit_survives_a_changed_file_target_by_following_the_advice(book: Path) -> None:
    """Edit a generated file, then change the card's file= target: the old file is never
    removed while it holds the edit (--force included), stitch finds the edit by its markers,
    and the edit ends in the card and in the new file."""
    edit(book / "nix/base.nix", "  base = 1;", "  base = 42;  # tuned by hand")
    edit(book / BASE, "file=nix/base.nix", "file=nix/renamed.nix")
    checked = cardbook(book, "check")
    refusal = (
        "nix/base.nix:6: error: no card produces this file any more, and it holds a hand edit (block "
        f"{BASE}#base-attrs was changed); it is never removed while it does: run `cardbook stitch` "
        "to carry the edit into its card, then `cardbook tangle` [stale-generated]"
    )
    assert checked.returncode == 1 and refusal in checked.stdout.splitlines()
    forced = cardbook(book, "tangle", "--force")
    assert forced.returncode == 1 and refusal in forced.stdout.splitlines()
    assert "base = 42;  # tuned by hand" in (book / "nix/base.nix").read_text()
    stitched = cardbook(book, "stitch")
    assert stitched.returncode == 0, stitched.stdout
    assert "base = 42;  # tuned by hand\n" in (book / BASE).read_text()
    assert not (book / "nix/base.nix").exists()
    assert "  base = 42;  # tuned by hand\n" in (book / "nix/renamed.nix").read_text()
    assert cardbook(book, "check").stdout == "0 cards checked: no problems\n"
    count()


def test_stitch_lengthens_a_fence_that_the_edit_would_close(book: Path) -> None:
    """A Nix '' string holding a Markdown fence: the card's fence grows to four backticks, so
    nothing after the block is swallowed and no file is lost at the next tangle."""
    (book / BASE).write_text(
        BASE_CARD + "\nAfter the block.\n\n" + fence("```nix {file=nix/other.nix}", "other")
    )
    assert cardbook(book, "tangle").returncode == 0
    edit(book / "nix/base.nix", "  base = 1;\n", "  base = ''\n    ```sh\n    make\n    ```\n  '';\n")
    assert cardbook(book, "stitch").returncode == 0
    text = (book / BASE).read_text()
    assert "````nix {#base-attrs}\nbase = ''\n  ```sh\n  make\n  ```\n'';\n````\n" in text
    assert cardbook(book, "check").stdout == "0 cards checked: no problems\n"
    assert (book / "nix/other.nix").exists()
    count()


def test_a_comment_added_among_the_header_lines_is_reported_not_overwritten(book: Path) -> None:
    edit(book / "nix/base.nix", "# Do not edit", "# pinned: see the incident of May\n# Do not edit")
    edit(book / BASE, "base = 1;", "base = 2;")  # the card changed too
    before = (book / "nix/base.nix").read_text()
    result = cardbook(book, "tangle")
    assert result.returncode == 1
    assert result.stdout.startswith("nix/base.nix:2: error: edited by hand: its header lines were changed")
    assert (book / "nix/base.nix").read_text() == before
    assert cardbook(book, "stitch").returncode == 1  # lines outside the blocks: stitch says so
    assert (book / "nix/base.nix").read_text() == before
    count()


FORGED = (
    "# Generated by cardbook from docs/how-to/base.md into nix/mine.nix.\n"
    "# Do not edit: change the cards, then run `cardbook tangle` (or `mkdocs build`).\n"
    "# ~~ begin docs/how-to/base.md#nix/mine.nix[0] 0123456789 ~~\n"
    "{ mine = true; }\n"
    "# ~~ end docs/how-to/base.md#nix/mine.nix[0] ~~\n"
)


def test_a_hand_written_file_with_a_forged_header_is_never_removed(book: Path) -> None:
    (book / "nix/mine.nix").write_text(FORGED)
    for args in (("tangle",), ("tangle", "--force")):
        result = cardbook(book, *args)
        assert result.returncode == 1, args
        assert result.stdout.startswith("nix/mine.nix:4: error: no card produces this file any more")
        assert "keep what you need from it, then delete it yourself [stale-generated]" in result.stdout
        assert (book / "nix/mine.nix").read_text() == FORGED
    stitched = cardbook(book, "stitch")
    assert (stitched.returncode, stitched.stdout) == (
        1,
        "nix/mine.nix:3: error: cannot stitch: docs/how-to/base.md no longer has block nix/mine.nix[0] "
        "[stitch]\n",
    )
    assert (book / "nix/mine.nix").read_text() == FORGED
    count()


def test_a_file_listed_in_a_forged_naked_manifest_is_never_removed(tmp_path: Path) -> None:
    root = tmp_path / "naked"
    config = CONFIG.replace("plugins: [search, cardbook]", "plugins:\n  - cardbook:\n      annotate: false")
    write_tree(root, {"mkdocs.yml": config, BASE: BASE_CARD})
    assert cardbook(root, "tangle").returncode == 0
    manifest = root / "nix/.cardbook-manifest.json"
    text = manifest.read_text().replace('"files": {', '"files": {\n  "nix/mine.nix": "' + "0" * 64 + '",')
    manifest.write_text(text)
    (root / "nix/mine.nix").write_text("{ mine = true; }\n")
    for args in (("tangle",), ("tangle", "--force")):
        result = cardbook(root, *args)
        assert result.returncode == 1, result.stdout
        assert result.stdout.startswith("nix/mine.nix:1: error: no card produces this file any more")
        assert (root / "nix/mine.nix").read_text() == "{ mine = true; }\n"
    count()


def test_an_unedited_copy_of_a_generated_file_stays(book: Path) -> None:
    shutil.copy(book / "nix/base.nix", book / "nix/base.backup.nix")
    for args in (("tangle",), ("tangle", "--force")):
        result = cardbook(book, *args)
        assert result.returncode == 0, result.stdout
        assert result.stdout.startswith("nix/base.backup.nix:1: warning: left alone: it looks generated")
    assert (book / "nix/base.backup.nix").read_bytes() == (book / "nix/base.nix").read_bytes()
    count()


def test_a_persons_file_named_like_a_temporary_file_stays(book: Path) -> None:
    mine = {"docs/how-to/.cardbook-x.tmp": "notes\n", "nix/.cardbook-y.tmp": "more notes\n"}
    write_tree(book, mine)
    edit(book / "nix/base.nix", "  base = 1;", "  base = 7;")
    assert cardbook(book, "stitch").returncode == 0
    edit(book / BASE, "base = 7;", "base = 8;")
    assert cardbook(book, "tangle").returncode == 0
    for rel, text in mine.items():
        assert (book / rel).read_text() == text
    count()


def test_stitch_writes_through_a_symlinked_card(book: Path) -> None:
    """The card is a link to a file kept elsewhere in the project: stitch updates that file
    and the link stays a link."""
    shared = book / "docs/shared/base-source.md"
    shared.parent.mkdir()
    (book / BASE).rename(shared)
    (book / BASE).symlink_to("../shared/base-source.md")
    edit(book / "nix/base.nix", "  base = 1;", "  base = 5;")
    assert cardbook(book, "stitch").returncode == 0
    assert (book / BASE).is_symlink()
    assert "base = 5;" in shared.read_text()
    assert cardbook(book, "check").stdout == "0 cards checked: no problems\n"
    count()


def test_a_symlinked_card_root_removes_nothing(book: Path) -> None:
    (book / "docs/how-to").rename(book / "docs/real-how-to")
    (book / "docs/how-to").symlink_to("real-how-to")
    before = snapshot(book / "nix")
    for args in (("tangle",), ("tangle", "--force"), ("check",)):
        result = cardbook(book, *args)
        assert result.returncode == 2
        assert "card root docs/how-to is a symlink" in result.stderr
    assert snapshot(book / "nix") == before
    count()


# Tracebacks and partial writes --------------------------------------------------------------------


def test_a_file_and_a_folder_of_the_same_name(book: Path) -> None:
    (book / "docs/how-to/x.md").write_text(
        card(
            title="X",
            body=fence("```nix {file=nix/x.nix}", "x") + fence("```nix {file=nix/x.nix/y.nix}", "y"),
        )
    )
    before = snapshot(book)
    result = cardbook(book, "tangle")
    assert result.returncode == 1
    assert (
        "docs/how-to/x.md:8: error: nix/x.nix/y.nix: refusing to write: "
        "nix/x.nix is also a file the cards write [unsafe-target]" in (result.stdout.splitlines())
    )
    assert snapshot(book) == before
    count()


@pytest.mark.parametrize("what", ["file", "fifo"])
def test_the_output_root_is_not_a_folder(tmp_path: Path, what: str) -> None:
    root = tmp_path / "book"
    write_tree(root, {"mkdocs.yml": CONFIG, BASE: BASE_CARD})
    if what == "fifo":
        os.mkfifo(root / "nix")
    else:
        (root / "nix").write_text("a person's file\n")
    for args in (("tangle",), ("check",)):
        result = cardbook(root, *args, timeout=30)
        kind = "a named pipe" if what == "fifo" else "a file"
        assert (result.returncode, result.stderr) == (
            2,
            f"mkdocs.yml:3: error: output root nix is {kind}, not a folder: move it away, or name "
            "another folder in output_roots [config]\n",
        )
    count()


def test_a_folder_on_the_way_that_is_a_file(book: Path) -> None:
    (book / "nix/sub").write_text("a person's file\n")
    (book / "docs/how-to/deep.md").write_text(
        card(title="Deep", body=fence("```nix {file=nix/sub/a.nix}", "a"))
    )
    result = cardbook(book, "tangle")
    assert result.returncode == 1
    assert result.stdout.startswith(
        "docs/how-to/deep.md:5: error: nix/sub/a.nix: refusing to write: nix/sub is a file, not a folder "
        "[unsafe-target]"
    )
    assert (book / "nix/sub").read_text() == "a person's file\n"
    count()


@pytest.mark.parametrize(
    ("roots", "message"),
    [
        ("[nix, nix/sub]", "output roots nix and nix/sub overlap"),
        ("[docs]", "output root docs and card root docs/how-to overlap"),
        ("[nix/sub, nix]", "output roots nix/sub and nix overlap"),
    ],
)
def test_overlapping_roots_are_a_configuration_error(book: Path, roots: str, message: str) -> None:
    write_tree(
        book, {"mkdocs.yml": CONFIG.replace("cardbook]", "{cardbook: {output_roots: " + roots + "}}]")}
    )
    before = snapshot(book)
    for args in (("tangle",), ("check",)):
        result = cardbook(book, *args)
        assert result.returncode == 2 and message in result.stderr, result.stderr
    assert snapshot(book) == before
    count()


@ROOT_ONLY
@pytest.mark.parametrize("command", ["tangle", "stitch", "mkdocs"])
def test_an_immutable_file_or_folder_changes_nothing(book: Path, command: str) -> None:
    """chattr +i: the write fails at its rename; the steps already taken are undone."""
    (book / "docs/how-to/more.md").write_text(
        card(title="More", body=fence("```nix {file=nix/more.nix}", "more"))
    )
    assert cardbook(book, "tangle").returncode == 0
    target = book / "nix/base.nix"
    if command == "stitch":
        edit(target, "  base = 1;", "  base = 3;")
        target = book / BASE
    else:
        edit(book / BASE, "base = 1;", "base = 2;")
        edit(book / "docs/how-to/more.md", "\nmore\n", "\nmore2\n")
    if subprocess.run(["chattr", "+i", target], capture_output=True).returncode != 0:
        pytest.skip("chattr +i is not supported here")
    try:
        before = snapshot(book)
        if command == "mkdocs":
            mkdocs = Path(sys.executable).parent / "mkdocs"
            result = subprocess.run([mkdocs, "build", "-q"], cwd=book, capture_output=True, text=True)
            assert result.returncode == 1 and "Traceback" not in result.stderr
            assert (
                "nix/base.nix:1: error: cannot write: Operation not permitted; nothing was changed "
                "[cannot-write]" in result.stderr
            )
            before.pop("site", None)
            after = {rel: v for rel, v in snapshot(book).items() if not rel.startswith("site")}
            before = {rel: v for rel, v in before.items() if not rel.startswith("site")}
            assert after == before
        else:
            result = cardbook(book, command)
            assert result.returncode == 1
            shown = BASE if command == "stitch" else "nix/base.nix"
            assert f"{shown}:1: error: cannot write: Operation not permitted" in result.stdout
            assert snapshot(book) == before
    finally:
        subprocess.run(["chattr", "-i", target], check=True)
    count()


@ROOT_ONLY
def test_a_full_disk_changes_nothing(tmp_path: Path) -> None:
    disk = tmp_path / "tiny"
    disk.mkdir()
    if subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", disk], capture_output=True
    ).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        root = disk / "book"
        big = "\n".join(f'  x{i} = "{"y" * 40}";' for i in range(6000))  # ~300 kB of Nix
        write_tree(root, {"mkdocs.yml": CONFIG, BASE: BASE_CARD})
        assert cardbook(root, "tangle").returncode == 0
        (root / "docs/how-to/big.md").write_text(
            card(title="Big", body=fence("```nix {file=nix/big.nix}", big))
        )
        (root / "docs/how-to/big2.md").write_text(
            card(title="Big 2", body=fence("```nix {file=nix/big2.nix}", big))
        )
        edit(root / BASE, "base = 1;", "base = 2;")
        before = snapshot(root)
        result = cardbook(root, "tangle")
        assert result.returncode == 1
        assert (
            "error: cannot write: No space left on device; nothing was changed [cannot-write]"
            in result.stdout
        )
        assert snapshot(root) == before
    finally:
        subprocess.run(["umount", disk], check=False)
    count()


@pytest.fixture
def lock_dir(tmp_path: Path) -> Iterator[tuple[Path, dict[str, str]]]:
    """A TMPDIR of its own, so the runbook's lock lives where the test can spoil it."""
    temp = tmp_path / "tmp"
    temp.mkdir()
    yield temp / f"cardbook-locks-{os.getuid()}", {"TMPDIR": str(temp)}


@pytest.mark.parametrize(
    "spoil", ["folder-is-file", "lock-is-folder", "lock-is-fifo", "lock-is-dangling-link"]
)
def test_a_spoiled_lock_is_one_clear_message(
    book: Path, tmp_path: Path, lock_dir: tuple[Path, dict[str, str]], spoil: str
) -> None:
    folder, env = lock_dir
    key = hashlib.sha256(str(book.resolve()).encode()).hexdigest()[:16]
    lock = folder / f"{key}.lock"
    outside = tmp_path / "outside-target"
    if spoil == "folder-is-file":
        folder.write_text("not a folder\n")
        expected = f"cardbook: cannot lock the runbook: {folder} is not a folder; remove it\n"
    else:
        folder.mkdir()
        if spoil == "lock-is-folder":
            lock.mkdir()
            expected = f"cardbook: cannot lock the runbook: {lock} is a folder; remove it\n"
        elif spoil == "lock-is-fifo":
            os.mkfifo(lock)
            expected = f"cardbook: cannot lock the runbook: {lock} is not a regular file; remove it\n"
        else:
            lock.symlink_to(outside)
            expected = f"cardbook: cannot lock the runbook: {lock} is a symlink; remove it\n"
    edit(book / BASE, "base = 1;", "base = 2;")
    before = snapshot(book)
    result = cardbook(book, "tangle", env=env, timeout=30)
    assert (result.returncode, result.stdout, result.stderr) == (2, "", expected)
    assert snapshot(book) == before
    assert not outside.exists()  # the dangling link's target is never created
    count()


def test_the_working_directory_deleted_before_the_run(book: Path) -> None:
    gone = book / "gone"
    gone.mkdir()
    script = f"import os, subprocess; os.chdir({str(gone)!r}); os.rmdir({str(gone)!r}); "
    command = str(Path(sys.executable).parent / "cardbook")
    script += f"r = subprocess.run([{command!r}, 'check'], capture_output=True, text=True); "
    script += "print(r.returncode); print(r.stderr, end='')"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert result.stdout == (
        "2\ncardbook: the working directory no longer exists (deleted or moved): cd into the runbook again\n"
    )
    count()


def test_a_2_gb_card_is_refused_before_reading(book: Path) -> None:
    huge = book / "docs/how-to/huge.md"
    with open(huge, "wb") as handle:  # sparse: takes no disk space
        handle.truncate(2 * 1024**3)
    result = cardbook(book, "check", timeout=60)
    assert result.returncode == 1
    assert (
        "docs/how-to/huge.md:1: error: the card is 2,147,483,648 bytes; "
        "cardbook reads cards of at most 67,108,864 [unreadable-page]" in result.stdout.splitlines()
    )
    count()


def test_a_card_refused_as_too_large_is_not_read_for_its_links(
    book: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The refusal is the card's one message: the page is not read in full afterwards (for its
    wiki-links), which for a 2 GB card took most of a minute."""
    from cardbook.core import cards, check
    from cardbook.core.settings import load_settings
    from cardbook.pipeline import load_and_check

    monkeypatch.setattr(cards, "MAX_CARD_BYTES", 200)
    monkeypatch.setattr(check, "MAX_CARD_BYTES", 200)
    large = card(title="Large", body="See [[nowhere]].\n" + "Prose.\n" * 40)
    (book / "docs/how-to/large.md").write_text(large)
    (book / "docs/other.md").write_text("# Other\n\n" + "Prose.\n" * 40 + "See [[nowhere-else]].\n")
    result = load_and_check(load_settings(cwd=book))
    messages = [problem.format() for problem in result.problems]
    refused = f"docs/how-to/large.md:1: error: the card is {len(large):,} bytes; cardbook reads cards"
    assert [m for m in messages if "large.md" in m] == [refused + " of at most 200 [unreadable-page]"]
    assert "docs/how-to/large.md" not in result.texts
    # A page outside the card roots is no card: it is read and checked whatever its size.
    assert any("docs/other.md" in m and "[[nowhere-else]]" in m for m in messages)
    count()


def test_an_alias_bomb_in_mkdocs_yml_is_one_short_message(book: Path) -> None:
    lines = [
        "site_name: t",
        "markdown_extensions: [pymdownx.superfences]",
        "x-anchors:",
        "  a: &a [x,x,x,x,x,x,x,x,x]",
    ]
    previous = "a"
    for name in "bcdefghi":
        lines.append(f"  {name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
        previous = name
    lines += ["plugins:", "  - cardbook:", "      statuses:", "        open: *i"]
    (book / "mkdocs.yml").write_text("\n".join(lines) + "\n")
    result = cardbook(book, "check", timeout=60)
    assert result.returncode == 2
    assert result.stderr.startswith(
        "mkdocs.yml:15: error: plugin cardbook: statuses: 'open' must be declared"
    )
    assert len(result.stderr) < 400
    count()


def test_a_huge_mkdocs_yml_is_refused_before_reading(book: Path) -> None:
    (book / "mkdocs.yml").write_text(
        CONFIG + "extra:\n" + "".join(f"  k{i}: {'v' * 100}\n" for i in range(12000))
    )
    result = cardbook(book, "check")
    assert result.returncode == 2
    assert result.stderr.startswith("mkdocs.yml:1: error: the config file is 1,")
    count()


# Unbounded work ----------------------------------------------------------------------------------


def test_chunks_multiplying_stop_at_a_bounded_size(book: Path) -> None:
    blocks = [fence("```nix {file=nix/bomb.nix}", "<<c0>>")]
    for level in range(8):
        blocks.append(fence(f"```nix {{#c{level}}}", *[f"<<c{level + 1}>>"] * 10))
    blocks.append(fence("```nix {#c8}", "x"))
    (book / "docs/how-to/bomb.md").write_text(card(title="Bomb", body="\n".join(blocks)))
    assert len((book / "docs/how-to/bomb.md").read_bytes()) < 1000
    result = cardbook(book, "check", timeout=120)
    assert result.returncode == 1
    assert any(
        line.startswith("docs/how-to/bomb.md:") and "longer than 1,000,000 lines" in line
        for line in result.stdout.splitlines()
    ), result.stdout
    count()


def test_next_on_a_deep_chain_with_many_goals_prints_each_card_once(tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {"docs/how-to/c0.md": card(title="C0", status="active")}
    for index in range(1, 3000):
        files[f"docs/how-to/c{index}.md"] = card(
            title=f"C{index}", status="active", requires=[f"c{index - 1}"]
        )
    for goal in range(50):
        files[f"docs/how-to/goal{goal}.md"] = card(title=f"Goal {goal}", status="active", requires=["c2999"])
    write_tree(tmp_path, files)
    result = cardbook(tmp_path, "next", timeout=120)
    assert result.returncode == 0
    assert len(result.stdout) < 400_000  # was 905 MB
    chain_rows = [line for line in result.stdout.splitlines() if ": C" in line and line.startswith("    ")]
    assert len(chain_rows) == 3000 + 49  # each card once; the other goals refer to it
    assert sum(line.endswith("(see above)") for line in chain_rows) == 49
    count()


# Wrong answers ---------------------------------------------------------------------------------


def test_paths_with_spaces_hashes_and_unicode_work_end_to_end(book: Path) -> None:
    rel = "docs/how-to/my card #1 é.md"
    target = "nix/a b #c é.nix"
    (book / rel).write_text(
        card(
            title="Spaced",
            body=fence(f'```nix {{file="{target}"}}', "{", "  <<sp>>", "}") + fence("```nix {#sp}", "x = 1;"),
        )
    )
    assert cardbook(book, "tangle").returncode == 0
    edit(book / target, "  x = 1;", "  x = 2;")
    assert cardbook(book, "stitch").returncode == 0
    assert "x = 2;" in (book / rel).read_text()
    assert cardbook(book, "check").stdout == "0 cards checked: no problems\n"
    edit(book / target, "  x = 2;", "  x = 3;")
    assert cardbook(book, "tangle").returncode == 1
    assert cardbook(book, "tangle", "--force").returncode == 0
    assert cardbook(book, "check").stdout == "0 cards checked: no problems\n"
    count()


@pytest.mark.parametrize(
    ("change", "detail"),
    [
        (lambda data: data.replace(b"\n", b"\r\n"), "an editor changed its line endings to CRLF"),
        (lambda data: b"\xef\xbb\xbf" + data, "an editor added a byte order mark"),
    ],
)
def test_a_generated_file_an_editor_converted_is_recognised(book: Path, change, detail: str) -> None:  # type: ignore[no-untyped-def]
    path = book / "nix/base.nix"
    path.write_bytes(change(path.read_bytes()))
    result = cardbook(book, "check")
    assert result.returncode == 1
    assert (
        f"nix/base.nix:1: error: edited by hand: {detail}; its lines are unchanged; run `cardbook tangle "
        "--force` to write it back as the cards produce it (no line is lost) [edited-generated]"
    ) in result.stdout.splitlines()
    assert cardbook(book, "tangle", "--force").returncode == 0
    assert cardbook(book, "check").returncode == 0
    count()


def test_a_card_writing_the_aggregators_path_is_an_error_at_its_fence(book: Path) -> None:
    write_tree(
        book,
        {
            "docs/how-to/hello.md": buildable("Hello", "nix/hello.nix"),
            "docs/how-to/own.md": card(
                title="Own", body=fence("```nix {file=nix/default.nix}", "{ mine = 1; }")
            ),
        },
    )
    result = cardbook(book, "check")
    assert result.returncode == 1
    assert (
        "docs/how-to/own.md:5: error: nix/default.nix is the aggregator cardbook writes from the cards' "
        "`build:` keys: give this block another file= target, or set the plugin's `aggregator:` "
        "to another path [file-target]"
    ) in result.stdout.splitlines()
    count()


def test_a_stem_with_dots_is_one_nix_attribute(book: Path) -> None:
    if shutil.which("nix-instantiate") is None:
        pytest.skip("nix-instantiate is not installed (the Nix tier installs it: scripts/setup-nix)")
    write_tree(
        book,
        {"docs/how-to/py3.11-env.md": buildable("Env", "nix/env.nix")},
    )
    assert cardbook(book, "tangle").returncode == 0
    result = cardbook(book, "check", "--nix", timeout=300)
    assert "attribute 'py3' " not in result.stdout + result.stderr
    assert result.returncode == 0, result.stdout + result.stderr
    count()


def test_a_newline_in_a_card_file_name_is_an_error(book: Path) -> None:
    (book / "docs/how-to/two\nlines.md").write_text(
        card(title="Odd", body=fence("```nix {file=nix/odd.nix}", "odd"))
    )
    result = cardbook(book, "check")
    assert result.returncode == 1
    assert (
        "docs/how-to/two\\nlines.md:1: error: the file's path holds a control character "
        "(a newline, a tab): rename it [unreadable-page]"
    ) in result.stdout.splitlines()
    count()


def test_advice_for_a_hand_edit_in_naked_mode_and_in_the_aggregator(book: Path, tmp_path: Path) -> None:
    write_tree(
        book,
        {"docs/how-to/hello.md": buildable("Hello", "nix/hello.nix")},
    )
    assert cardbook(book, "tangle").returncode == 0
    edit(book / "nix/default.nix", "in\n{", "in\n{\n  extra = 1;")
    result = cardbook(book, "check")
    assert (
        "cardbook makes this file from the cards themselves (their `build:` keys): change the cards instead"
        in result.stdout
    )
    assert "cardbook stitch" not in result.stdout
    naked = tmp_path / "naked"
    config = CONFIG.replace("plugins: [search, cardbook]", "plugins:\n  - cardbook:\n      annotate: false")
    write_tree(naked, {"mkdocs.yml": config, BASE: BASE_CARD})
    assert cardbook(naked, "tangle").returncode == 0
    edit(naked / "nix/base.nix", "base = 1;", "base = 2;")
    result = cardbook(naked, "check")
    assert "stitch cannot place the edit: copy it into its card by hand" in result.stdout
    count()


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("!!binary aGVsbG8=", "binary data (!!binary)"),
        ("!!set {a, b}", "a set (!!set)"),
        ("!!omap [a: 1]", "a list"),
    ],
)
def test_yaml_tags_are_named_in_messages(book: Path, value: str, kind: str) -> None:
    (book / "docs/how-to/tagged.md").write_text(card(title=value, status="active"))
    result = cardbook(book, "check")
    assert result.returncode == 1
    shown = f"docs/how-to/tagged.md:2: error: 'title' must be a non-empty string, not {kind} [bad-value]"
    assert shown in result.stdout.splitlines()
    count()


def test_duplicate_keys_in_mkdocs_yml(book: Path) -> None:
    (book / "mkdocs.yml").write_text(
        CONFIG.replace(
            "plugins: [search, cardbook]",
            "plugins:\n  - cardbook:\n      card_roots: [docs/how-to]\n      card_roots: [docs/typo]",
        )
    )
    result = cardbook(book, "check")
    assert (result.returncode, result.stderr) == (
        2,
        "mkdocs.yml:6: error: duplicate key 'card_roots' (first at line 5): YAML keeps only the last one; "
        "remove one of them [config]\n",
    )
    count()


# Found by this issue's own outside probe ---------------------------------------------------------


PROBE_BASE = card(title="Base", body=fence("```nix {#opts}", "foo = 1;", "bar = 2;"))
PROBE_HELLO = card(
    title="Hello",
    requires=["base"],
    body=fence("```nix {file=nix/a.nix}", "{ pkgs }:", "{", "  <<opts>>", "  baz = 3;", "}")
    + "\n"
    + fence("```nix {file=nix/b.nix}", "{ x = 1; }"),
)


@pytest.fixture
def probe(tmp_path: Path) -> Path:
    root = tmp_path / "probe"
    write_tree(
        root,
        {"mkdocs.yml": CONFIG, "docs/how-to/base.md": PROBE_BASE, "docs/how-to/hello.md": PROBE_HELLO},
    )
    assert cardbook(root, "tangle").returncode == 0
    return root


def edit_bytes(path: Path, change) -> None:  # type: ignore[no-untyped-def]
    path.write_bytes(change(path.read_bytes()))


STITCH_LOOPS = {
    "crlf and an edit": lambda root: edit_bytes(
        root / "nix/a.nix", lambda data: data.replace(b"bar = 2;", b"bar = 22;").replace(b"\n", b"\r\n")
    ),
    "a byte order mark and an edit": lambda root: edit_bytes(
        root / "nix/a.nix", lambda data: b"\xef\xbb\xbf" + data.replace(b"bar = 2;", b"bar = 22;")
    ),
    "chunk lines dedented": lambda root: edit_bytes(
        root / "nix/a.nix",
        lambda data: data.replace(b"  foo = 1;", b"foo = 1;").replace(b"  bar = 2;", b" bar = 2;"),
    ),
    "the card changed too (a pull)": lambda root: (
        edit(root / "nix/a.nix", "bar = 2;", "bar = 22;"),
        edit(root / "docs/how-to/hello.md", "baz = 3;", "baz = 33;"),
    ),
    "a block copied with its markers": lambda root: edit_bytes(
        root / "nix/a.nix",
        lambda data: data.replace(
            b"  baz = 3;\n",
            data[data.index(b"  # ~~ begin docs/how-to/base.md") : data.index(b"  baz")].replace(
                b"bar = 2;", b"bar = 99;"
            )
            + b"  baz = 3;\n",
        ),
    ),
}


@pytest.mark.parametrize("situation", list(STITCH_LOOPS))
def test_stitch_never_advises_itself_in_a_loop(probe: Path, situation: str) -> None:
    """Stitch carried the edit, then said "run `cardbook stitch`" forever (probe rows 2, 5, 9,
    22, 25): once the cards hold every edit, the files it read are written again."""
    STITCH_LOOPS[situation](probe)
    first = cardbook(probe, "stitch")
    assert first.returncode == 0, first.stdout
    again = cardbook(probe, "stitch")
    assert (again.returncode, again.stdout) == (0, "0 blocks stitched into 0 cards\n")
    assert cardbook(probe, "check").stdout == "2 cards checked: no problems\n"
    count()


def test_one_copy_of_a_chunk_used_twice_is_edited(tmp_path: Path) -> None:
    root = tmp_path / "twice"
    body = fence(
        "```nix {file=nix/a.nix}",
        "{",
        "  one = {",
        "    <<opts>>",
        "  };",
        "  two = {",
        "    <<opts>>",
        "  };",
        "}",
    )
    write_tree(
        root,
        {
            "mkdocs.yml": CONFIG,
            "docs/how-to/base.md": PROBE_BASE,
            "docs/how-to/hello.md": card(title="H", requires=["base"], body=body),
        },
    )
    assert cardbook(root, "tangle").returncode == 0
    text = (root / "nix/a.nix").read_text()
    (root / "nix/a.nix").write_text(text.replace("bar = 2;", "bar = 10;", 1))
    assert cardbook(root, "stitch").returncode == 0
    assert "bar = 10;" in (root / "docs/how-to/base.md").read_text()
    assert (root / "nix/a.nix").read_text().count("bar = 10;") == 2
    assert cardbook(root, "check").stdout == "2 cards checked: no problems\n"
    count()


def test_mkdocs_build_into_an_output_root_is_refused(probe: Path) -> None:
    """`mkdocs build -d nix` emptied nix/, a hand-written file with it (probe row 40)."""
    (probe / "nix/handwritten.nix").write_text("{ mine = 1; }\n")
    before = snapshot(probe / "nix")
    mkdocs = Path(sys.executable).parent / "mkdocs"
    result = subprocess.run([mkdocs, "build", "-q", "-d", "nix"], cwd=probe, capture_output=True, text=True)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "output root nix is inside site_dir" in result.stderr
    assert snapshot(probe / "nix") == before
    count()


@pytest.mark.parametrize("length", [260, 248])
def test_a_file_name_too_long(probe: Path, length: int) -> None:
    """Probe rows 31 and 32: a traceback over 255 bytes; just under it, the temporary file's
    longer name could never be made."""
    name = "x" * length + ".nix"
    (probe / "docs/how-to/long.md").write_text(
        card(title="Long", body=fence(f"```nix {{file=nix/{name}}}", "{ }"))
    )
    result = cardbook(probe, "tangle")
    if len(name) > 255:
        assert result.returncode == 1
        assert f"the name {'x' * 40}... is longer than 255 bytes [file-target]" in result.stdout
    else:
        assert result.returncode == 0, result.stdout
        assert (probe / "nix" / name).read_text().startswith("# Generated by cardbook")
    count()


def test_hidden_files_among_the_cards_are_not_cards(probe: Path) -> None:
    """An Emacs lock file `.#hello.md` is a dangling symlink (probe row 13)."""
    (probe / "docs/how-to/.#hello.md").symlink_to("user@host.1234:1700000000")
    (probe / "docs/how-to/.hidden").mkdir()
    (probe / "docs/how-to/.hidden/x.md").write_text("not a card\n")
    assert cardbook(probe, "check").stdout == "2 cards checked: no problems\n"
    count()


CONFLICT = "<<<<<<< HEAD\nbar = 4;\n=======\nbar = 3;\n>>>>>>> A\n"


def test_merge_conflicts_are_errors_and_never_stitched(probe: Path) -> None:
    """Probe rows 16 to 18: conflict markers in a card passed `check`; in a generated file,
    stitch wrote them into the card."""
    edit(probe / "docs/how-to/base.md", "bar = 2;\n", CONFLICT)
    result = cardbook(probe, "check")
    assert result.returncode == 1
    assert (
        "docs/how-to/base.md:7: error: unresolved merge conflict (a <<<<<<< or >>>>>>> line): resolve it "
        "[merge-conflict]" in (result.stdout.splitlines())
    )
    edit(probe / "docs/how-to/base.md", CONFLICT, "bar = 2;\n")
    edit(
        probe / "docs/how-to/base.md",
        "title: Base",
        "<<<<<<< HEAD\ntitle: Base\n=======\ntitle: Bass\n>>>>>>> A",
    )
    assert "docs/how-to/base.md:2: error: unresolved merge conflict" in cardbook(probe, "check").stdout
    edit(
        probe / "docs/how-to/base.md",
        "<<<<<<< HEAD\ntitle: Base\n=======\ntitle: Bass\n>>>>>>> A",
        "title: Base",
    )
    edit(probe / "nix/a.nix", "  bar = 2;\n", "".join(f"  {line}\n" for line in CONFLICT.splitlines()))
    card_before = (probe / "docs/how-to/base.md").read_text()
    stitched = cardbook(probe, "stitch")
    assert stitched.returncode == 1
    assert "cannot stitch: the block holds an unresolved merge conflict; resolve it first" in stitched.stdout
    assert (probe / "docs/how-to/base.md").read_text() == card_before
    count()


def test_stitch_names_a_renamed_card(probe: Path) -> None:
    edit(probe / "nix/a.nix", "baz = 3;", "baz = 4;")
    (probe / "docs/how-to/hello.md").rename(probe / "docs/how-to/greet.md")
    result = cardbook(probe, "stitch")
    assert result.returncode == 1
    assert (
        "cannot stitch: the card docs/how-to/hello.md no longer exists (renamed or removed?)" in result.stdout
    )
    assert "baz = 4;" in (probe / "nix/a.nix").read_text()
    count()


def test_a_hand_written_file_where_the_aggregator_goes(probe: Path) -> None:
    (probe / "nix/default.nix").write_text("{ mine = 1; }\n")
    edit(probe / "docs/how-to/hello.md", "requires: [base]", "requires: [base]\nbuild: nix/a.nix")
    result = cardbook(probe, "tangle")
    assert result.returncode == 1
    assert result.stdout.startswith(
        "nix/default.nix:1: error: a file cardbook did not write is in the way of the aggregator"
    )
    assert (probe / "nix/default.nix").read_text() == "{ mine = 1; }\n"
    count()


def test_stitch_with_annotate_false_points_at_the_setting(probe: Path) -> None:
    (probe / "mkdocs.yml").write_text(
        CONFIG.replace(
            "plugins: [search, cardbook]", "plugins:\n  - search\n  - cardbook:\n      annotate: false"
        )
    )
    assert cardbook(probe, "tangle", "--force").returncode == 0
    result = cardbook(probe, "stitch")
    assert result.returncode == 2
    assert result.stderr.startswith("mkdocs.yml:6: error: stitch needs the block markers")
    count()


def test_a_fence_inside_a_quote_is_not_tangled_and_says_so(probe: Path) -> None:
    (probe / "docs/how-to/q.md").write_text(
        card(title="Q") + "\n> ```nix {file=nix/q.nix}\n> { q = 1; }\n> ```\n"
    )
    result = cardbook(probe, "check", "--strict")
    assert result.returncode == 1
    assert (
        "docs/how-to/q.md:6: warning: a code block with file= or #id inside a quote (>) is not tangled: "
        "take it out of the quote [quoted-fence]"
    ) in result.stdout.splitlines()
    count()


def test_a_deleted_marker_line_gets_advice_that_works(probe: Path) -> None:
    text = (probe / "nix/a.nix").read_text()
    (probe / "nix/a.nix").write_text(text.replace("  # ~~ end docs/how-to/base.md#opts[0] ~~\n", ""))
    result = cardbook(probe, "check")
    assert (
        "restore the marker lines (`cardbook check` shows the file as the cards produce it)" in result.stdout
    )
    (probe / "nix/a.nix").write_text(text.replace("bar = 2;", "bar = 5;"))  # restored, with the edit
    assert cardbook(probe, "stitch").returncode == 0
    assert "bar = 5;" in (probe / "docs/how-to/base.md").read_text()
    count()


def test_stitch_refuses_an_added_line_that_reads_as_a_chunk_reference(tmp_path: Path) -> None:
    """Outside probe: a person writes the literal line `<<greet>>` inside a Nix string of a
    generated file; stitching it would let the next tangle replace the text by the chunk."""
    card_text = card(
        title="S",
        body=fence("```nix {#greet}", 'greet = "hi";')
        + fence("```nix {file=nix/s.nix}", "{", "  <<greet>>", "  doc = ''", "    x", "  '';", "}"),
    )
    write_tree(tmp_path, {"mkdocs.yml": CONFIG, "docs/how-to/s.md": card_text})
    assert cardbook(tmp_path, "tangle").returncode == 0
    edit(tmp_path / "nix/s.nix", "    x\n", "    x\n    <<greet>>\n")
    before = (tmp_path / "docs/how-to/s.md").read_text()
    result = cardbook(tmp_path, "stitch")
    assert result.returncode == 1
    assert "cannot stitch: the edit adds the line '<<greet>>', which a tangle reads as a chunk reference" in (
        result.stdout
    )
    assert "[stitch]" in result.stdout
    assert (tmp_path / "docs/how-to/s.md").read_text() == before  # the card is untouched
    assert "    <<greet>>\n" in (tmp_path / "nix/s.nix").read_text()  # and so is the hand edit
    count()
