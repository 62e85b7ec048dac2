"""Issue 15: the recipe of docs/guides/adopt-obsidian.md, run on the real-runbook-shaped
fixture. Its `mkdocs.yml` is taken from the page itself, so the page cannot drift."""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

from helpers import run_cardbook

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests/fixtures/runbook-shaped"


def recipe_config() -> str:
    page = (ROOT / "docs/guides/adopt-obsidian.md").read_text()
    found = re.search(r"```yaml\n(.*?)```", page, re.DOTALL)
    assert found is not None
    return found[1]


def healthy_tree(root: Path) -> Path:
    """The fixture with its two links written with spaces fixed: a tree the team keeps clean."""
    shutil.copytree(FIXTURE / "docs", root / "docs")
    for path in (root / "docs").rglob("*.md"):
        text = path.read_text()
        fixed = re.sub(r"\[\[ +([^\]|#]+?) +\]\]", r"[[\1]]", text)
        if fixed != text:
            path.write_text(fixed)
    # the theme is not needed to check; the recipe's plugin options are
    config = recipe_config().replace("theme:\n  name: material\n", "")
    (root / "mkdocs.yml").write_text(config)
    return root


def test_the_recipe_passes_strict_on_a_healthy_tree(tmp_path: Path) -> None:
    root = healthy_tree(tmp_path)
    result = run_cardbook(["check", "--strict"], root)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == "6 cards checked: no problems\n"


def test_the_recipe_passes_strict_after_the_chain_is_stripped(tmp_path: Path) -> None:
    sys.path.insert(0, str(FIXTURE))
    from strip import strip_chain

    root = healthy_tree(tmp_path)
    for path in (root / "docs").rglob("*.md"):
        path.write_text(strip_chain(path.read_text()))
    result = run_cardbook(["check", "--strict"], root)
    assert (result.returncode, result.stdout) == (0, "0 cards checked: no problems\n")


def test_the_recipe_finds_what_the_team_scripts_found(tmp_path: Path) -> None:
    """The fixture as it is: its two links with spaces are the only findings."""
    shutil.copytree(FIXTURE / "docs", tmp_path / "docs")
    (tmp_path / "mkdocs.yml").write_text(recipe_config().replace("theme:\n  name: material\n", ""))
    result = run_cardbook(["check", "--strict"], tmp_path)
    assert result.returncode == 1
    assert [line.split(": ")[0] for line in result.stdout.splitlines()[:-1]] == [
        "docs/explanation/registry-design.md:31",
        "docs/how-to/backups/backups.md:17",
    ]
