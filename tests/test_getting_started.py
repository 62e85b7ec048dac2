"""The getting-started tutorial, followed as a reader follows it, in an empty folder.

The page is machine-checkable by its own conventions: every command a reader types is in a
```sh block, every file a reader writes is a fenced block with title="path", and a ```text
block right after a command shows (part of) what it prints. A command expected to fail ends
with `# exits N`. The walk writes each file and runs each block in order, in one shell state
per block (the working directory carries over, as in a terminal), and checks exit statuses
and shown output.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parent.parent
PAGE = REPOSITORY / "docs/tutorials/getting-started.md"
NIX_CONFIG = "substituters =\nexperimental-features = nix-command flakes"
# Commands that serve until stopped: the page shows them, the walk does not run them.
NOT_RUN = ("mkdocs serve",)
_FENCE = re.compile(r"^(?P<ticks>`{3,})(?P<info>[^`]*)$")
_TITLE = re.compile(r'\btitle="(?P<title>[^"]+)"')
_EXITS = re.compile(r"#\s*exits (?P<status>\d+)\s*$", re.MULTILINE)
_SECONDS = re.compile(r"\b\d+(\.\d+)? s\b")  # durations differ from run to run


@dataclass
class Block:
    line: int
    language: str
    title: str | None
    body: str


@dataclass
class Step:
    block: Block
    output: Block | None = None  # the ```text block shown right after a command

    @property
    def is_command(self) -> bool:
        return self.block.title is None

    @property
    def needs_nix(self) -> bool:
        return self.is_command and re.search(r"--nix\b|\bnix-build\b", self.block.body) is not None

    @property
    def expected_status(self) -> int:
        match = _EXITS.search(self.block.body)
        return int(match["status"]) if match else 0


def fenced_blocks(text: str) -> list[Block]:
    """The top-level fenced blocks; fences inside a longer fence are its content."""
    lines = text.splitlines()
    found, index = [], 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        index += 1
        if opening is None:
            continue
        ticks, info = opening["ticks"], opening["info"].strip()
        start, body = index, []
        while not (set(lines[index].strip()) == {"`"} and len(lines[index].strip()) >= len(ticks)):
            body.append(lines[index])
            index += 1
        index += 1
        title = _TITLE.search(info)
        language = re.split(r"[\s{]", info, maxsplit=1)[0]
        found.append(Block(start, language, title["title"] if title else None, "\n".join(body) + "\n"))
    return found


def tutorial_steps() -> list[Step]:
    steps: list[Step] = []
    for block in fenced_blocks(PAGE.read_text(encoding="utf-8")):
        if block.language == "text":
            assert steps and steps[-1].is_command and steps[-1].output is None, (
                f"{PAGE.name}:{block.line}: output shown without the command right before it"
            )
            steps[-1].output = block
        elif block.title is not None or block.language == "sh":
            steps.append(Step(block))
        else:
            pytest.fail(f"{PAGE.name}:{block.line}: a block that is neither a command, a file nor output")
    return steps


def normalized(line: str) -> str:
    return _SECONDS.sub("N s", line.rstrip())


def follow(steps: list[Step], start: Path, state: Path, *, with_nix: bool) -> dict[str, str]:
    """Write each file and run each command from `start`; the output of every command run."""
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "NIX_CONFIG": NIX_CONFIG,
        "NO_MKDOCS_2_WARNING": "1",
        "NO_COLOR": "1",
        "XDG_CACHE_HOME": str(state / "cache"),
        "TUTORIAL_CWD": str(state / "cwd"),
    }
    cwd, outputs = start, {}
    for step in steps:
        block = step.block
        where = f"{PAGE.name}:{block.line}"
        if block.title is not None:
            target = cwd / block.title
            if block.title == "mkdocs.yml":  # shown as cardbook init wrote it, not written by hand
                assert target.read_text(encoding="utf-8") == block.body, f"{where}: not what init writes"
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(block.body, encoding="utf-8")
            continue
        if block.body.strip() in NOT_RUN or (step.needs_nix and not with_nix):
            continue
        # The EXIT trap records the working directory, so `cd` carries over to the next block.
        script = f"trap 'pwd > \"$TUTORIAL_CWD\"' EXIT\nset -e\n{block.body}"
        result = subprocess.run(
            ["bash", "-c", script],
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=600,
            check=False,
        )
        assert result.returncode == step.expected_status, (
            f"{where}: exit {result.returncode}\n{result.stdout}"
        )
        cwd = Path((state / "cwd").read_text(encoding="utf-8").strip())
        outputs[block.body.strip()] = result.stdout
        if step.output is not None:
            printed = {normalized(line) for line in result.stdout.splitlines()}
            for line in step.output.body.splitlines():
                assert not line.strip() or normalized(line) in printed, (
                    f"{where}: the page shows {line!r}, the command printed:\n{result.stdout}"
                )
    return outputs


def walk(tmp_path: Path, *, with_nix: bool) -> tuple[Path, dict[str, str]]:
    start, state = tmp_path / "reader", tmp_path / "state"
    start.mkdir()
    state.mkdir()
    outputs = follow(tutorial_steps(), start, state, with_nix=with_nix)
    return start / "my-runbook", outputs


def test_the_page_shows_every_step_in_a_checkable_block() -> None:
    steps = tutorial_steps()
    commands = [step.block.body.strip() for step in steps if step.is_command]
    files = [step.block.title for step in steps if not step.is_command]
    assert commands[0] == "mkdir my-runbook\ncd my-runbook\ncardbook init"
    assert [command for command in commands if command in NOT_RUN] == list(NOT_RUN)
    assert [command for command in commands if "cardbook new " in command] == [
        'cardbook new greeting --title "Choose the greeting"',
        'cardbook new publish-greeting --title "Publish the greeting" --requires hello',
    ]
    assert files == ["mkdocs.yml", "docs/how-to/greeting.md", "docs/how-to/hello.md"]
    assert [step.expected_status for step in steps if step.is_command].count(1) == 1
    assert sum(step.needs_nix for step in steps) == 1


def test_the_tutorial_runs_from_an_empty_folder(tmp_path: Path) -> None:
    """Every step but the Nix one, which has its own test below."""
    root, outputs = walk(tmp_path, with_nix=False)
    site = root / "site"
    for page in ("index.html", "runbook/index.html", "generated-files/index.html"):
        assert (site / page).is_file(), page
    for stem, title in (
        ("greeting", "Choose the greeting"),
        ("hello", "Say hello"),
        ("publish-greeting", ""),
    ):
        assert title in (site / f"how-to/{stem}/index.html").read_text(encoding="utf-8")
    tangled = (root / "nix/hello.nix").read_text(encoding="utf-8")
    assert '\n  greeting = "hello from my runbook";\n' in tangled  # the chunk, indented at its reference
    assert "# a quick fix" not in tangled  # the hand edit was discarded
    assert (site / "nix/hello.nix").read_text(encoding="utf-8") == tangled
    assert '"hello" = build ./hello.nix;' in (root / "nix/default.nix").read_text(encoding="utf-8")
    assert outputs["cardbook check"].endswith("3 cards checked: no problems\n")


@pytest.mark.nix
def test_the_tutorial_builds_and_verifies_its_derivation(tmp_path: Path) -> None:
    if shutil.which("nix-build") is None or shutil.which("nix-instantiate") is None:
        reason = "nix is not installed (Debian: apt-get install nix-bin; scripts/test does it as root)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; CI=true: the Nix tier must run")
        pytest.skip(reason)
    _, outputs = walk(tmp_path, with_nix=True)
    summary = outputs["cardbook check --nix"].splitlines()[-1]
    assert re.fullmatch(r"nix: 2 files parsed, 1 built, 1 verified, 0 skipped in \d+\.\d s", summary), summary
