"""Concurrent runs (issue 8): two `cardbook tangle` at once, and `mkdocs build` (the plugin
writes through the same output.write_outputs) while `cardbook tangle` runs.

One writer per runbook at a time (output.runbook_lock, an flock keyed by the project's
path). A run that finds the lock taken prints `cardbook: waiting for another run writing
<root> ...` on stderr, once, and polls until the lock is free (up to 120 s, then gives up with
a clear message and exit status 1). It has read the cards already; it plans its writes only
once it holds the lock, against the files as the other run left them, so it never interleaves
its writes with another run's and never overwrites what it has not seen.

The deterministic tests hold the lock from the test process (the same context manager the
runs use), start the runs, see them wait, then let go.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from cardbook.cli import main as cli
from cardbook.core import disk as output
from cardbook.core.settings import Settings
from helpers import CARDBOOK, card, fence, run_cardbook, write_tree

pytest_plugins = ["reliability_counts"]

MKDOCS = Path(sys.executable).parent / "mkdocs"
CARDS = 400
ROUNDS = 4  # of the runs started together
SITE_CONFIG = "site_name: Concurrency\nmarkdown_extensions: [pymdownx.superfences]\nplugins:\n  - cardbook\n"


def count(n: int = 1) -> None:
    import reliability_counts  # imported late: pytest loads it first, as the plugin named above

    reliability_counts.add(reliability_counts.CONCURRENT, n)


def cards(n: int, version: int) -> dict[str, str | bytes]:
    """n cards writing one file each; every file differs between the two versions."""
    return {
        f"docs/how-to/c{i:04d}.md": card(
            title=f"Card {i}",
            body=fence(
                f"```nix {{file=nix/gen/c{i:04d}.nix}}",
                "{",
                f'  name = "c{i}";',
                f"  version = {version};",
                "}",
            ),
        )
        for i in range(n)
    }


def outputs(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted((root / "nix").rglob("*"))
        if path.is_file()
    }


def waiting_line(root: Path) -> str:
    return f"cardbook: waiting for another run writing {root.resolve()} ..."


class Watched:
    """A process whose output lines are collected as they come, so a test can wait for one."""

    def __init__(self, args: list[str], cwd: Path) -> None:
        env = {**os.environ, "NO_COLOR": "1", "PYTHONDONTWRITEBYTECODE": "1"}
        self.process = subprocess.Popen(
            args, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self.lines: dict[str, list[str]] = {"stdout": [], "stderr": []}
        self.changed = threading.Condition()
        assert self.process.stdout is not None and self.process.stderr is not None
        self.readers = [
            threading.Thread(target=self._read, args=(self.process.stdout, "stdout"), daemon=True),
            threading.Thread(target=self._read, args=(self.process.stderr, "stderr"), daemon=True),
        ]
        for reader in self.readers:
            reader.start()

    def _read(self, stream: object, name: str) -> None:
        for line in stream:  # type: ignore[attr-defined]
            with self.changed:
                self.lines[name].append(line.rstrip("\n"))
                self.changed.notify_all()

    def wait_for(self, line: str, stream: str = "stderr", timeout: float = 60) -> None:
        with self.changed:
            found = self.changed.wait_for(
                lambda: line in self.lines[stream] or self.process.poll() is not None, timeout=timeout
            )
        assert found and line in self.lines[stream], (line, self.lines)

    def finish(self, timeout: float = 120) -> tuple[int, list[str], list[str]]:
        code = self.process.wait(timeout=timeout)
        for reader in self.readers:
            reader.join(timeout=10)
        count()
        return code, self.lines["stdout"], self.lines["stderr"]


def tangle(root: Path) -> Watched:
    return Watched([str(CARDBOOK), "tangle"], root)


def project(top: Path, *, n: int = CARDS, config: str | None = None) -> tuple[Path, dict[str, bytes]]:
    """A project tangled from version 0 whose cards are now version 1, and the outputs a clean
    run of version 1 writes."""
    clean = top / "clean"
    write_tree(clean, cards(n, 1))
    assert run_cardbook(["tangle"], clean, timeout=120).returncode == 0
    root = top / "project"
    write_tree(root, {**cards(n, 0), "docs/index.md": "# Runbook\n"})
    if config is not None:
        write_tree(root, {"mkdocs.yml": config})
    assert run_cardbook(["tangle"], root, timeout=120).returncode == 0
    write_tree(root, cards(n, 1))
    return root, outputs(clean)


# The waiting run ------------------------------------------------------------------------------------


def test_a_waiting_run_says_so_once_then_writes_when_the_lock_is_free(tmp_path: Path) -> None:
    root, expected = project(tmp_path, n=3)
    before = outputs(root)
    with output.runbook_lock(Settings(root=root)):
        run = tangle(root)
        run.wait_for(waiting_line(root))
        time.sleep(0.5)
        assert run.process.poll() is None  # still waiting
        assert outputs(root) == before  # and nothing written meanwhile
    code, stdout, stderr = run.finish()
    assert (code, stdout, stderr) == (0, ["3 files: 3 written, 0 unchanged, 0 removed"], [waiting_line(root)])
    assert outputs(root) == expected


def test_a_waiting_run_plans_against_the_files_it_finds_once_it_holds_the_lock(tmp_path: Path) -> None:
    """A hand edit made while the run waits is seen: it refuses, and writes nothing at all."""
    root, _ = project(tmp_path, n=3)
    with output.runbook_lock(Settings(root=root)):
        run = tangle(root)
        run.wait_for(waiting_line(root))
        path = root / "nix/gen/c0001.nix"
        path.write_text(path.read_text().replace('  name = "c1";', '  name = "c1";  # mine'))
        before = outputs(root)
    code, stdout, stderr = run.finish()
    assert (code, stderr) == (1, [waiting_line(root), "nothing written"])
    assert stdout == [
        # line 5: the edited line itself, not the block's first line
        "nix/gen/c0001.nix:5: error: edited by hand: block docs/how-to/c0001.md#nix/gen/c0001.nix was "
        "changed; run `cardbook stitch` to carry the edit into the cards, "
        "or `cardbook tangle --force` to discard it [edited-generated]"
    ]
    assert outputs(root) == before


def test_stitch_waits_for_the_lock_too(tmp_path: Path) -> None:
    root, _ = project(tmp_path, n=2)
    assert run_cardbook(["tangle"], root).returncode == 0
    path = root / "nix/gen/c0000.nix"
    path.write_text(path.read_text().replace("  version = 1;", "  version = 2;"))
    with output.runbook_lock(Settings(root=root)):
        run = Watched([str(CARDBOOK), "stitch"], root)
        run.wait_for(waiting_line(root))
        assert "version = 1;" in (root / "docs/how-to/c0000.md").read_text()
    code, stdout, stderr = run.finish()
    assert (code, stdout[-1], stderr) == (0, "1 block stitched into 1 card", [waiting_line(root)])
    assert "version = 2;" in (root / "docs/how-to/c0000.md").read_text()


def test_a_run_that_waits_too_long_gives_up_with_a_clear_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, _ = project(tmp_path, n=2)
    before = outputs(root)
    monkeypatch.setattr(output, "LOCK_TIMEOUT", 0.3)
    monkeypatch.chdir(root)
    with output.runbook_lock(Settings(root=root)):
        result = CliRunner().invoke(cli.main, ["tangle"])
    assert isinstance(result.exception, SystemExit)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        waiting_line(root),
        f"cardbook: another cardbook run kept {root.resolve()} locked for 0.3 s: gave up waiting",
    ]
    assert outputs(root) == before
    count()


# Two command-line runs --------------------------------------------------------------------------------


def test_two_cli_runs_at_once_never_interleave_their_writes(tmp_path: Path) -> None:
    """Both wait on the test's lock; once it is free, one writes every file and the other,
    planning after it, finds nothing left to write."""
    root, expected = project(tmp_path)
    with output.runbook_lock(Settings(root=root)):
        runs = [tangle(root), tangle(root)]
        for run in runs:
            run.wait_for(waiting_line(root))
    results = [run.finish() for run in runs]
    assert [code for code, _, _ in results] == [0, 0]
    assert sorted(stdout[0] for _, stdout, _ in results) == [
        f"{CARDS} files: 0 written, {CARDS} unchanged, 0 removed",
        f"{CARDS} files: {CARDS} written, 0 unchanged, 0 removed",
    ]
    assert [stderr for _, _, stderr in results] == [[waiting_line(root)]] * 2
    assert outputs(root) == expected


def test_two_cli_runs_started_together(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Without help from the test: whichever way they overlap, every file is written exactly
    once between them (two runs planning from the same state would both write it)."""
    root, expected = project(tmp_path)
    versions = [expected, outputs(root)]  # version 1 (the cards now), version 0 (on disk)
    waited = 0
    for round_ in range(ROUNDS):
        version = 1 - round_ % 2
        write_tree(root, cards(CARDS, version))
        runs = [tangle(root), tangle(root)]
        results = [run.finish() for run in runs]
        assert [code for code, _, _ in results] == [0, 0], results
        written = [int(re.match(r"\d+ files: (\d+) written", stdout[0])[1]) for _, stdout, _ in results]  # type: ignore[index]
        assert sum(written) == CARDS, results
        for _, _, stderr in results:
            assert stderr in ([], [waiting_line(root)])
        waited += any(stderr for _, _, stderr in results)
        assert outputs(root) == versions[1 - version]
    with capsys.disabled():
        print(f"\ntwo cardbook tangle runs started together: one waited in {waited} of {ROUNDS} rounds")


# mkdocs build and cardbook tangle ------------------------------------------------------------------


SITE_CARDS = 60


def generated_by_mkdocs(stderr: list[str]) -> int:
    """How many files the plugin says it wrote (it logs only when it wrote or removed any)."""
    for line in stderr:
        found = re.search(r"cardbook: generated files: (\d+) written", line)
        if found:
            return int(found[1])
    return 0


def test_mkdocs_build_waits_while_cardbook_tangle_holds_the_lock(tmp_path: Path) -> None:
    root, expected = project(tmp_path, n=SITE_CARDS, config=SITE_CONFIG)
    with output.runbook_lock(Settings(root=root)):
        build = Watched([str(MKDOCS), "build"], root)
        run = tangle(root)
        build.wait_for(waiting_line(root))
        run.wait_for(waiting_line(root))
    built, _, build_log = build.finish()
    code, stdout, stderr = run.finish()
    assert (built, code) == (0, 0), build_log + stderr
    assert "Traceback" not in "\n".join(build_log + stderr)
    by_cli = int(re.match(r"\d+ files: (\d+) written", stdout[0])[1])  # type: ignore[index]
    assert sorted([by_cli, generated_by_mkdocs(build_log)]) == [0, SITE_CARDS]
    assert outputs(root) == expected
    assert (root / "site/index.html").is_file()
    assert run_cardbook(["check"], root).returncode == 0


def test_mkdocs_build_and_cardbook_tangle_started_together(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root, expected = project(tmp_path, n=SITE_CARDS, config=SITE_CONFIG)
    versions = [expected, outputs(root)]
    waited = 0
    for round_ in range(ROUNDS):
        version = 1 - round_ % 2
        write_tree(root, cards(SITE_CARDS, version))
        build = Watched([str(MKDOCS), "build"], root)
        time.sleep(0.3 * round_)  # mkdocs takes a while to reach the writes: vary the overlap
        run = tangle(root)
        built, _, build_log = build.finish()
        code, stdout, stderr = run.finish()
        assert (built, code) == (0, 0), build_log + stderr
        by_cli = int(re.match(r"\d+ files: (\d+) written", stdout[0])[1])  # type: ignore[index]
        assert by_cli + generated_by_mkdocs(build_log) == SITE_CARDS
        waited += waiting_line(root) in build_log + stderr
        assert outputs(root) == versions[1 - version]
    with capsys.disabled():
        print(
            f"\nmkdocs build and cardbook tangle started together: one waited in {waited} of {ROUNDS} rounds"
        )


def test_the_lock_timeout_is_cardbooks_own_exception(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A caller catching TimeoutError for its own reasons must not swallow cardbook's."""
    root, _ = project(tmp_path, n=1)
    monkeypatch.setattr(output, "LOCK_TIMEOUT", 0.1)
    with output.runbook_lock(Settings(root=root)), pytest.raises(output.LockTimeout) as raised:  # noqa: SIM117
        with output.runbook_lock(Settings(root=root)):
            pass
    assert not isinstance(raised.value, TimeoutError)


def test_calling_the_command_in_process_leaves_the_collector_as_it_was(tmp_path: Path) -> None:
    """Library code sets no process-wide state: only the console script turns the collector off."""
    import gc

    root, _ = project(tmp_path, n=2)
    assert gc.isenabled()
    previous = Path.cwd()
    try:
        os.chdir(root)
        result = CliRunner().invoke(cli.main, ["tangle"])
    finally:
        os.chdir(previous)
    assert result.exit_code == 0, result.output
    assert gc.isenabled() and gc.get_freeze_count() == 0
