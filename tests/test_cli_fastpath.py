"""A plain `cardbook check` or `cardbook tangle` runs without click (cli/fastpath.py) and answers
exactly as click's command does: the same output, errors, exit status and written files; every
other command line goes to click."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cardbook.cli.fastpath import plain_check, plain_tangle
from helpers import CARDBOOK, card, fence, run_cardbook
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


def test_plain_tangle_command_lines_are_read_as_click_reads_them(tmp_path: Path) -> None:
    config = tmp_path / "other.yml"
    config.write_text("site_name: x\n")
    assert plain_tangle([]) == (False, None)
    assert plain_tangle(["--force"]) == (True, None)
    assert plain_tangle(["-f", str(config), "--force"]) == (True, config)
    assert plain_tangle([f"--config-file={config}"]) == (False, config)


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["--"],
        ["--forc"],  # click suggests --force
        ["--force", "--force"],
        ["--force=1"],
        ["--strict"],  # a check option
        ["--format", "text"],
        ["-f"],
        ["-f", "missing.yml"],
        ["-f", "."],
        ["nix"],
    ],
)
def test_any_other_tangle_goes_to_click(args: list[str]) -> None:
    assert plain_tangle(args) is None


CARDBOOK_COMMAND = str(CARDBOOK)

WRITING = card(title="Writes", body=fence("``` {.nix file=nix/a.nix}", "{ a = 1; }"))


def files_under(root: Path) -> dict[str, tuple[bytes, int]]:
    return {
        str(path.relative_to(root)): (path.read_bytes(), path.stat().st_mode & 0o777)
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


@pytest.mark.parametrize(
    ("tree", "args"),
    [
        ({"docs/how-to/a.md": WRITING}, []),  # writes
        ({"docs/how-to/a.md": WRITING, "nix/a.nix": "{ a = 2; } # by hand\n"}, []),  # refused: edited
        ({"docs/how-to/a.md": WRITING, "nix/a.nix": "{ a = 2; } # by hand\n"}, ["--force"]),
        ({"docs/how-to/a.md": WRITING, "docs/how-to/b.md": card(requires=["gone"])}, []),  # errors
        ({"docs/how-to/a.md": WRITING}, ["-f", "mkdocs.yml"]),
        ({"docs/how-to/a.md": WRITING}, ["-f", "no-such.yml"]),  # click refuses: both go to click
        ({"docs/how-to/a.md": WRITING, "mkdocs.yml": "site_name: [\n"}, []),  # broken config: exit 2
    ],
)
def test_the_tangle_fast_path_answers_and_writes_as_click_does(
    tmp_path: Path, tree: dict[str, str], args: list[str]
) -> None:
    fast_root, slow_root = write_tree(tmp_path / "fast", tree), write_tree(tmp_path / "slow", tree)
    fast = run_cardbook(["tangle", *args], fast_root)
    slow = run_cardbook(["tangle", *args, "--"], slow_root)  # `--` ends the options: click reads it
    assert (fast.stdout, fast.stderr, fast.returncode) == (slow.stdout, slow.stderr, slow.returncode)
    assert fast.stdout or fast.stderr
    assert files_under(fast_root) == files_under(slow_root)


def test_a_plain_tangle_does_not_import_click(tmp_path: Path) -> None:
    write_tree(tmp_path, {"docs/how-to/a.md": WRITING})
    probe = (
        "import sys\n"
        "from cardbook.cli.fastpath import run\n"
        "try:\n    run('tangle', [])\n"
        "except SystemExit as exc:\n"
        "    print('exit', exc.code, 'click' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True)
    assert result.stdout.splitlines() == ["1 file: 1 written, 0 unchanged, 0 removed", "exit 0 False"], (
        result.stdout + result.stderr
    )
    assert (tmp_path / "nix/a.nix").read_text() != ""


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
        "try:\n    run('check', [])\n"
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


# Found by an outside probe: the output streams a caller may hand over ------------------------


@pytest.mark.parametrize("extra", [[], ["--"]])  # the fast path, then click
def test_a_closed_stdout_prints_nothing_and_keeps_the_status(tmp_path: Path, extra: list[str]) -> None:
    write_tree(tmp_path, {"docs/how-to/a.md": card()})
    shell = f"{CARDBOOK_COMMAND} check {' '.join(extra)} >&-"
    done = subprocess.run(["sh", "-c", shell], cwd=tmp_path, capture_output=True, text=True, check=False)
    assert (done.returncode, done.stderr) == (0, "")


@pytest.mark.parametrize("extra", [[], ["--"]])
def test_a_full_disk_is_one_line_not_a_traceback(tmp_path: Path, extra: list[str]) -> None:
    root = problem_tree(tmp_path)
    with open("/dev/full", "w") as full:
        command = [CARDBOOK_COMMAND, "check", *extra]
        done = subprocess.run(command, cwd=root, stdout=full, stderr=subprocess.PIPE, text=True, check=False)
    assert done.returncode == 1
    assert done.stderr == "cardbook: cannot write (No space left on device): the output is incomplete\n"


def test_a_narrow_encoding_escapes_what_it_cannot_hold(tmp_path: Path) -> None:
    write_tree(tmp_path, {"docs/how-to/a.md": card(body="See [[nope-\U0001f600]].\n")})
    narrow = {"PYTHONIOENCODING": "latin-1"}
    runs = [run_cardbook(["check", *extra], tmp_path, env=narrow) for extra in ([], ["--"])]
    assert "Traceback" not in runs[0].stderr + runs[1].stderr
    assert "[[nope-\\U0001f600]]" in runs[0].stdout
    assert (runs[0].stdout, runs[0].returncode) == (runs[1].stdout, runs[1].returncode)


@pytest.mark.parametrize("extra", [[], ["--"]])
def test_a_non_blocking_pipe_gets_the_whole_report(tmp_path: Path, extra: list[str]) -> None:
    """A parent that leaves its pipe non-blocking and reads late still gets every byte."""
    root = tmp_path
    long_name = "missing-" + "x" * 300  # long messages: the report passes a pipe's buffer quickly
    cards = {f"docs/how-to/c{index:03}.md": card(requires=[f"{long_name}{index}"]) for index in range(800)}
    write_tree(root, cards)
    expected = run_cardbook(["check", *extra], root).stdout
    assert len(expected) > 4 * 65536  # past what a pipe buffers
    reader, writer = os.pipe()
    os.set_blocking(writer, False)
    command = [CARDBOOK_COMMAND, "check", *extra]
    process = subprocess.Popen(command, cwd=root, stdout=writer, stderr=subprocess.PIPE)
    os.close(writer)
    time.sleep(3)  # the child has checked and filled the pipe before anyone reads
    with os.fdopen(reader, "rb") as stream:
        received = stream.read()
    process.wait(timeout=60)
    assert process.stderr is not None and process.stderr.read() == b""
    assert received.decode() == expected


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
