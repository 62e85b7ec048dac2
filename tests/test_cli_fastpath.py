"""A plain `cardbook check` runs without click (cli/fastpath.py) and answers exactly as click's
command does: the same output, errors and exit status; every other command line goes to click."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cardbook.cli.fastpath import plain_check
from helpers import card, run_cardbook
from helpers import write_cards_tree as write_tree


def test_plain_command_lines_are_read_as_click_reads_them(tmp_path: Path) -> None:
    config = tmp_path / "other.yml"
    config.write_text("site_name: x\n")
    assert plain_check([]) == ("text", False, None)
    assert plain_check(["--strict", "--format", "json"]) == ("json", True, None)
    assert plain_check(["--format=github", "-f", str(config)]) == ("github", False, config)
    assert plain_check([f"--config-file={config}", "--strict"]) == ("text", True, config)


@pytest.mark.parametrize(
    "args",
    [
        ["docs"],  # paths
        ["--nix"],
        ["--no-skip"],
        ["--help"],
        ["--"],
        ["--format", "xml"],
        ["--format"],
        ["--strict", "--strict"],
        ["--format", "json", "--format=text"],
        ["-f", "missing.yml"],
        ["-f", "."],  # a folder: click.Path(dir_okay=False) refuses it
        ["-fmkdocs.yml"],
        ["--strict=1"],
    ],
)
def test_anything_else_goes_to_click(args: list[str]) -> None:
    assert plain_check(args) is None


def problem_tree(root: Path) -> Path:
    write_tree(
        root,
        {
            "docs/how-to/a.md": card(requires=["missing"]),
            "docs/how-to/b.md": "---\ntitle: B\nmodified: 2026-01-01\nstatus: odd\n---\n# B\n\n[[nowhere]]\n",
        },
    )
    return root


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["--strict"],
        ["--format", "json"],
        ["--format=github"],
        ["-f", "mkdocs.yml", "--strict"],
        ["-f", "no-such.yml"],
    ],
)
def test_the_fast_path_answers_as_click_does(tmp_path: Path, args: list[str]) -> None:
    root = problem_tree(tmp_path)
    fast = run_cardbook(["check", *args], root)
    # `--` ends the options: the same check, read by click.
    slow = run_cardbook(["check", *args, "--"], root)
    assert (fast.stdout, fast.stderr, fast.returncode) == (slow.stdout, slow.stderr, slow.returncode)
    assert fast.stdout or fast.stderr


def test_a_clean_plain_check_does_not_import_click(tmp_path: Path) -> None:
    write_tree(tmp_path, {"docs/how-to/a.md": card()})
    probe = (  # the fast path itself: the console script ends the process without returning
        "import sys\n"
        "from cardbook.cli.fastpath import run\n"
        "try:\n    run([])\n"
        "except SystemExit as exc:\n"
        "    print('exit', exc.code, *(name in sys.modules for name in ('click', 'dataclasses', 'typing')))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True)
    # Nor dataclasses or typing, whose import was a tenth of a 1000-card check (core/record.py).
    assert result.stdout.splitlines()[-1] == "exit 0 False False False", result.stdout + result.stderr


def test_the_fast_path_ends_only_after_all_its_output_is_out(tmp_path: Path) -> None:
    """The console script skips the interpreter's teardown after a check: a report far larger
    than a pipe's buffer still arrives whole, with its status, in every format."""
    cards = {f"docs/how-to/c{index:04}.md": card(requires=[f"gone{index}"]) for index in range(1500)}
    write_tree(tmp_path, cards)
    for args in ([], ["--format", "json"], ["--format", "github"]):
        fast = run_cardbook(["check", *args], tmp_path)
        slow = run_cardbook(["check", *args, "--"], tmp_path)  # click, with the ordinary exit
        assert len(fast.stdout) > 100_000  # a pipe buffers 64 KiB
        assert (fast.stdout, fast.stderr, fast.returncode) == (slow.stdout, slow.stderr, slow.returncode)
        assert fast.returncode == 1


def test_a_closed_pipe_ends_the_fast_path_quietly(tmp_path: Path) -> None:
    root = problem_tree(tmp_path)
    for extra in ([], ["--"]):  # the fast path, then click
        command = [sys.executable, "-c", "from cardbook.cli.entry import main; main()", "check", *extra]
        reader = subprocess.Popen(["head", "-c", "1"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
        result = subprocess.run(command, cwd=root, stdout=reader.stdin, stderr=subprocess.PIPE, text=True)
        assert reader.stdin is not None
        reader.stdin.close()
        reader.wait()
        assert "Traceback" not in result.stderr
