"""Interrupted runs (issue 8): `cardbook tangle` killed with SIGKILL at random points while it
rewrites a large tree, 50 times; `cardbook stitch` killed too.

The two versions of every output file are computed first by clean runs in their own
directories. After each kill, every file under nix/ is byte for byte its old or its new
version (or absent where that version has no such file), never a mix; the only other files
allowed are cardbook's temporary files. The next `cardbook tangle` then repairs the tree: all
new, no temporary file left, and (with `annotate: false`) the same manifest as a clean run.

A third of the kills land anywhere in the run (reading the cards, planning, writing); a third
while the temporary files are written (the test watches for the first one, then waits a
random part of that phase, measured beforehand); a third among the renames (the test watches
for the first file replaced, then waits a random part of the rename phase). The delays come
from a seeded generator; the versions switch by renaming directories, so no copying slows
the loop down. The test prints where the kills landed.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from cardbook.core import disk
from cardbook.core import stitch as stitch_module
from cardbook.core.settings import load_settings
from cardbook.pipeline import load_and_check
from helpers import CARDBOOK, card, fence, run_cardbook, write_tree

pytest_plugins = ["reliability_counts"]

SEED = 20260801
CARDS = 500  # a full run of one version over the other takes about 0.5 s
KILLS = {"annotated": 40, "naked": 10}
NAKED_CONFIG = (
    "site_name: t\nmarkdown_extensions: [pymdownx.superfences]\n"
    "plugins:\n  - cardbook:\n      annotate: false\n"
)
MANIFEST = "nix/.cardbook-manifest.json"


def count(n: int = 1) -> None:
    import reliability_counts  # imported late: pytest loads it first, as the plugin named above

    reliability_counts.add(reliability_counts.INTERRUPTED, n)


def version_tree(n: int, version: int) -> dict[str, str | bytes]:
    """n cards, one generated file each, in two versions: 90% of the files change, 5% exist
    only in the old version and 5% only in the new one."""
    files: dict[str, str | bytes] = {}
    for i in range(n):
        if (version == 0 and i % 20 == 19) or (version == 1 and i % 20 == 18):
            continue
        changes = version if i % 10 else 0  # one file in ten is the same in both versions
        attrs = [
            f'name = "c{i}";',
            f'version = "v{changes}";',
            *(f"line{j} = {j * changes};" for j in range(6)),
        ]
        body = fence(
            f"```nix {{file=nix/gen/c{i:04d}.nix}}", "{ pkgs }:", "{", f"  <<c{i}-attrs>>", "}"
        ) + fence(f"```nix {{#c{i}-attrs}}", *attrs)
        files[f"docs/how-to/g{i // 100}/c{i:04d}.md"] = card(title=f"Card {i}", body=body)
    return files


def read_outputs(root: Path) -> tuple[dict[str, bytes], list[str]]:
    """The files under nix/ (cardbook's manifest left out), and the temporary files."""
    found: dict[str, bytes] = {}
    temporaries: list[str] = []
    for directory, _, names in os.walk(root / "nix"):
        for name in names:
            path = Path(directory, name)
            rel = path.relative_to(root).as_posix()
            if name.startswith(".cardbook-") and name.endswith(".tmp"):
                temporaries.append(rel)
            elif rel != MANIFEST:
                found[rel] = path.read_bytes()
    return found, sorted(temporaries)


class Project:
    """A project whose cards switch between two versions in O(1): each version's docs/ is kept
    whole, and switching renames directories (no copying between kills)."""

    def __init__(self, top: Path, *, naked: bool) -> None:
        self.root = top / "work"
        self.naked = naked
        self.outputs: list[dict[str, bytes]] = []
        self.manifests: list[bytes] = []
        self.root.mkdir(parents=True)
        for version in (0, 1):  # the expected outputs, from a clean run of each version
            reference = top / f"clean{version}"
            self._write(reference, version)
            result = run_cardbook(["tangle"], reference, timeout=120)
            assert result.returncode == 0, result.stdout + result.stderr
            self.outputs.append(read_outputs(reference)[0])
            self.manifests.append((reference / MANIFEST).read_bytes() if naked else b"")
            (reference / "docs").rename(self.root / f".cards-v{version}")
        old, new = self.outputs
        changed = sorted(rel for rel in {*old, *new} if old.get(rel) != new.get(rel))
        assert len(changed) > 0.9 * len(old)
        self.first_changed = changed[0]  # the first file renamed over (writes go in path order)
        if naked:
            write_tree(self.root, {"mkdocs.yml": NAKED_CONFIG})
        self.version = 0
        (self.root / ".cards-v0").rename(self.root / "docs")
        assert run_cardbook(["tangle"], self.root, timeout=120).returncode == 0

    def _write(self, root: Path, version: int) -> None:
        write_tree(root, version_tree(CARDS, version))
        if self.naked:
            write_tree(root, {"mkdocs.yml": NAKED_CONFIG})

    def switch(self) -> None:
        """The other version's cards, as after a `git pull`; the outputs are the current ones."""
        (self.root / "docs").rename(self.root / f".cards-v{self.version}")
        self.version = 1 - self.version
        (self.root / f".cards-v{self.version}").rename(self.root / "docs")

    def tangle(self) -> subprocess.Popen[bytes]:
        env = {**os.environ, "NO_COLOR": "1", "PYTHONDONTWRITEBYTECODE": "1"}
        return subprocess.Popen(
            [str(CARDBOOK), "tangle"],
            cwd=self.root,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def identity(self) -> int | None:
        try:
            return (self.root / self.first_changed).stat().st_ino
        except FileNotFoundError:
            return None


def temporary_file_exists(directory: Path) -> bool:
    try:
        with os.scandir(directory) as entries:
            return any(entry.name.startswith(".cardbook-") for entry in entries)
    except FileNotFoundError:
        return False


def wait_until(process: subprocess.Popen[bytes], condition: Callable[[], bool]) -> bool:
    """Poll until the condition holds (True) or the process ends (False)."""
    deadline = time.monotonic() + 120
    while process.poll() is None and time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.0003)
    return False


@dataclass
class Timing:
    run: float  # a whole run, from start to exit
    temporaries: float  # from the first temporary file to the first rename
    renames: float  # from the first rename to the exit


def calibrate(project: Project) -> Timing:
    """Two uninterrupted runs (one each way), watched from outside."""
    runs, temporaries, renames = [], [], []
    for _ in range(2):
        project.switch()
        before = project.identity()
        start = time.monotonic()
        process = project.tangle()
        assert wait_until(process, lambda: temporary_file_exists(project.root / "nix/gen"))
        first_temporary = time.monotonic()
        assert wait_until(process, lambda before=before: project.identity() != before)
        first_rename = time.monotonic()
        assert process.wait(timeout=120) == 0
        end = time.monotonic()
        assert process.stderr is not None
        process.stderr.close()
        runs.append(end - start)
        temporaries.append(first_rename - first_temporary)
        renames.append(end - first_rename)
    return Timing(min(runs), min(temporaries), min(renames))


def classify(
    state: dict[str, bytes], temporaries: list[str], old: dict[str, bytes], new: dict[str, bytes]
) -> str:
    if state == old:
        return "temporary files written, nothing renamed" if temporaries else "before any write"
    if state == new:
        return "all written" if not temporaries else "all renamed, temporary files left"
    if all(state.get(rel) == data for rel, data in new.items()):
        return "all renamed, stale files not all removed"
    return "among the renames"


def kill_and_repair(mode: str, top: Path) -> Counter[str]:
    project = Project(top, naked=mode == "naked")
    timing = calibrate(project)
    rng = random.Random(f"{SEED}-{mode}")
    outcomes: Counter[str] = Counter()
    kills = attempts = 0
    while kills < KILLS[mode]:
        attempts += 1
        assert attempts < 3 * KILLS[mode], f"runs kept finishing before the kill: {outcomes}"
        old = project.outputs[project.version]
        project.switch()
        new = project.outputs[project.version]
        before = project.identity()
        process = project.tangle()
        aim = kills % 3
        if aim == 0:  # anywhere in the run
            time.sleep(rng.uniform(0, 0.9 * timing.run))
        elif aim == 1:  # while the temporary files are written
            wait_until(process, lambda: temporary_file_exists(project.root / "nix/gen"))
            time.sleep(rng.uniform(0, timing.temporaries))
        else:  # among the renames (the rest of the phase removes the old contents kept aside)
            wait_until(process, lambda before=before: project.identity() != before)
            time.sleep(rng.uniform(0, 0.4 * timing.renames))
        process.send_signal(signal.SIGKILL)
        code = process.wait(timeout=60)
        assert process.stderr is not None
        errors = process.stderr.read().decode()
        process.stderr.close()
        assert "Traceback" not in errors
        if code == 0:
            outcomes["finished before the kill"] += 1
            continue
        assert code == -signal.SIGKILL
        kills += 1
        count()
        state, temporaries = read_outputs(project.root)
        for rel in sorted({*state, *old, *new}):
            assert state.get(rel) in (old.get(rel), new.get(rel)), f"kill {kills}: {rel} is partial"
        outcomes[classify(state, temporaries, old, new)] += 1
        # The next run repairs the tree.
        repair = run_cardbook(["tangle"], project.root, timeout=120)
        assert (repair.returncode, repair.stderr) == (0, ""), repair.stdout
        state, temporaries = read_outputs(project.root)
        assert temporaries == []
        assert state == new
        if project.naked:
            assert (project.root / MANIFEST).read_bytes() == project.manifests[project.version]
    return outcomes


@pytest.mark.parametrize("mode", list(KILLS))
def test_sigkill_during_tangle_leaves_old_or_new_files_and_the_next_run_repairs(
    tmp_path: Path, mode: str, capsys: pytest.CaptureFixture[str]
) -> None:
    outcomes = kill_and_repair(mode, tmp_path)
    with capsys.disabled():
        print(
            f"\n{mode}: {KILLS[mode]} kills: "
            + ", ".join(f"{n} {what}" for what, n in sorted(outcomes.items()))
        )
    # The aimed kills must really have hit the writes, or this test proves little.
    assert outcomes["temporary files written, nothing renamed"] >= 1, outcomes
    assert outcomes["among the renames"] >= 1, outcomes


# Stitch -----------------------------------------------------------------------------------------------


STITCH_CARDS = 120


def stitch_tree() -> dict[str, str | bytes]:
    return {
        f"docs/how-to/s{i:03d}.md": card(
            title=f"S {i}", body=fence(f"```nix {{file=nix/s{i:03d}.nix}}", "{", f"  s = {i};", "}")
        )
        for i in range(STITCH_CARDS)
    }


def edit_every_file(root: Path) -> None:
    for i in range(STITCH_CARDS):
        path = root / f"nix/s{i:03d}.nix"
        text = path.read_text()
        assert f"  s = {i};\n" in text
        path.write_text(text.replace(f"  s = {i};\n", f"  s = {i};\n  edited = true;\n"))


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.name.startswith(".cardbook-")
    }


@pytest.fixture
def stitch_versions(tmp_path: Path) -> Iterator[tuple[Path, dict[str, bytes], dict[str, bytes]]]:
    """A project whose generated files were all edited by hand, its snapshot, and the
    snapshot after an uninterrupted `cardbook stitch`."""
    before = tmp_path / "before"
    write_tree(before, stitch_tree())
    assert run_cardbook(["tangle"], before).returncode == 0
    edit_every_file(before)
    clean = tmp_path / "clean"
    shutil.copytree(before, clean)
    result = run_cardbook(["stitch"], clean)
    assert result.returncode == 0, result.stdout + result.stderr
    yield before, snapshot(before), snapshot(clean)


def test_sigkill_during_stitch_and_the_next_stitch_finishes_it(
    tmp_path: Path, stitch_versions: tuple[Path, dict[str, bytes], dict[str, bytes]]
) -> None:
    """Each card is its old or its stitched text, each generated file its edited or its
    re-tangled text; `cardbook stitch` again ends exactly where an uninterrupted one does."""
    before, old, new = stitch_versions
    start = time.monotonic()
    assert run_cardbook(["stitch"], shutil.copytree(before, tmp_path / "timed")).returncode == 0
    duration = time.monotonic() - start
    rng = random.Random(SEED)
    env = {**os.environ, "NO_COLOR": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    kills = 0
    for attempt in range(20):
        work = tmp_path / f"work{attempt}"
        shutil.copytree(before, work)
        process = subprocess.Popen(
            [str(CARDBOOK), "stitch"], cwd=work, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(rng.uniform(0.3, 1.0) * duration)
        process.send_signal(signal.SIGKILL)
        if process.wait() == 0:
            # It finished first: the timed run was slower (a busy machine). Aim earlier.
            duration *= 0.7
            continue
        kills += 1
        count()
        state = snapshot(work)
        assert set(state) == set(old)
        for rel, data in state.items():
            assert data in (old[rel], new[rel]), rel
        again = run_cardbook(["stitch"], work)
        assert again.returncode == 0, again.stdout + again.stderr
        assert snapshot(work) == new
        assert not list(work.rglob(".cardbook-*"))
        if kills == 5:
            break
    assert kills == 5


def test_a_stitch_interrupted_between_two_cards_is_finished_by_the_next(
    stitch_versions: tuple[Path, dict[str, bytes], dict[str, bytes]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Deterministic: the stitch dies after writing its first card, in the middle of writing the
    second (its temporary file is left beside it, as SIGKILL would). The first card then holds
    the edit while the file's marker still has the old hash; the next stitch must see that the
    card and the file agree (not report a conflict), finish the rest and remove the leftover."""
    root, _, new = stitch_versions
    settings = load_settings(cwd=root)
    result = load_and_check(settings)
    written: list[Path] = []
    real_apply = stitch_module.apply_changes

    def killed_after_one(writes: dict[Path, str], journal: disk.Journal | None = None) -> None:
        """What SIGKILL between two renames leaves: the first card replaced, the second's
        temporary file half written (recorded in the journal first, as apply_changes does)."""
        first, second = list(writes)[:2]
        real_apply({first: writes[first]})
        written.append(first)
        assert journal is not None
        temp = second.parent / f".cardbook-{second.name}.k1ll3d00.tmp"
        journal.record(temp)
        temp.write_text(writes[second][: len(writes[second]) // 2])
        raise KeyboardInterrupt

    monkeypatch.setattr(stitch_module, "apply_changes", killed_after_one)
    with pytest.raises(KeyboardInterrupt):
        stitch_module.stitch(settings, result.runbook, result.tangled)
    monkeypatch.undo()
    assert [path.name for path in written] == ["s000.md"]
    again = run_cardbook(["stitch"], root)
    assert (again.returncode, again.stderr) == (0, "")
    assert (
        again.stdout.splitlines()[-1] == f"{STITCH_CARDS - 1} blocks stitched into {STITCH_CARDS - 1} cards"
    )
    assert snapshot(root) == new
    assert not list(root.rglob(".cardbook-*.tmp"))
    count()


# Ctrl-C in the middle of a batch (found by an outside probe) -----------------------------------


def batch(root: Path, count: int = 20) -> tuple[dict[Path, str], disk.Journal]:
    """`count` files holding their old text, the new text for each, and a journal."""
    folder = root / "nix"
    folder.mkdir(parents=True, exist_ok=True)
    writes = {}
    for index in range(count):
        path = folder / f"f{index:02}.nix"
        path.write_text(f"old {index}\n")
        writes[path] = f"new {index}\n"
    return writes, disk.Journal(root / "journal")


def leftovers(root: Path) -> list[str]:
    return sorted(path.name for path in (root / "nix").iterdir() if path.name.startswith(".cardbook-"))


def test_ctrl_c_among_the_removals_of_old_copies_still_removes_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every file is new by then: the interrupt is delivered once the old copies are gone (it
    left 1123 of them, of 2100, before)."""
    writes, journal = batch(tmp_path)
    remove = disk._quietly_remove
    removed: list[Path] = []

    def interrupted(path: Path) -> None:
        if all(target.read_text().startswith("new") for target in writes):  # the cleanup
            removed.append(path)
            if len(removed) == 3:
                os.kill(os.getpid(), signal.SIGINT)  # a real Ctrl-C, taken by Python's own handler
        remove(path)

    monkeypatch.setattr(disk, "_quietly_remove", interrupted)
    with pytest.raises(KeyboardInterrupt):
        disk.apply_changes(writes, journal=journal)
    assert {path: path.read_text() for path in writes} == writes
    assert leftovers(tmp_path) == []
    assert not journal.path.exists()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the handler is back


def test_ctrl_c_right_after_a_temporary_file_is_made_leaves_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The interrupt lands between making a temporary file and noting it: the journal, written
    before the file is made, still names it, and the undoing removes it."""
    writes, journal = batch(tmp_path)
    temporary = disk._temporary
    made: list[Path] = []

    def interrupted(path: Path, journal: disk.Journal | None) -> tuple[Path, int]:
        temp, descriptor = temporary(path, journal)
        made.append(temp)
        if len(made) == 5:
            os.close(descriptor)
            raise KeyboardInterrupt
        return temp, descriptor

    monkeypatch.setattr(disk, "_temporary", interrupted)
    with pytest.raises(KeyboardInterrupt):
        disk.apply_changes(writes, journal=journal)
    assert [path.read_text() for path in writes] == [f"old {index}\n" for index in range(len(writes))]
    assert leftovers(tmp_path) == []
