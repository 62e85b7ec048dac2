"""A real-runbook-shaped project on disk, for tests that build or look at a whole site.

`write_runbook(root)` writes the tree of tests/fixtures/runbook-shaped (its README.md and
facts.json describe it: 60 pages in Diátaxis folders, each folder with an index page named
like it, most how-tos evergreen, one open Mikado chain of six cards, wiki-links in every form,
Obsidian callouts, lists right after a paragraph line and nested by two spaces, code blocks)
and the `mkdocs.yml` that docs/guides/adopt-obsidian.md recommends, taken from the page
itself so the two cannot drift. `build(root)` runs `mkdocs build --strict` on it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests/fixtures/runbook-shaped"
GUIDE = ROOT / "docs/guides/adopt-obsidian.md"

# Written with spaces inside the brackets on purpose (the fixture's two link-spaces findings).
_SPACED_LINK = re.compile(r"\[\[ +([^\]|#]+?) +\]\]")
_THEME = "theme:\n  name: material\n"
_PALETTES = (
    "  palette:\n"
    '    - media: "(prefers-color-scheme: light)"\n'
    "      scheme: default\n"
    '    - media: "(prefers-color-scheme: dark)"\n'
    "      scheme: slate\n"
)


def recipe_config() -> str:
    """The guide's `mkdocs.yml`: its first yaml block."""
    found = re.search(r"```yaml\n(.*?)```", GUIDE.read_text(), re.DOTALL)
    assert found is not None, f"{GUIDE} has no yaml block"
    return found[1]


def site_config() -> str:
    """The recipe, with Material's fonts off (the built pages then make no request to a font
    service, so they look the same offline) and the light and dark palettes that follow the
    reader's system setting, which the screenshots are taken in."""
    config = recipe_config()
    assert _THEME in config, "the recipe no longer sets `theme: {name: material}`"
    return config.replace(_THEME, _THEME + "  font: false\n" + _PALETTES)


def facts() -> dict[str, Any]:
    """The fixture's numbers and locations (paths relative to docs/)."""
    loaded: dict[str, Any] = json.loads((FIXTURE / "facts.json").read_text())
    return loaded


def write_runbook(root: Path, *, healthy: bool = True) -> None:
    """The runbook-shaped project under root: mkdocs.yml and docs/.

    `healthy` writes the fixture's two wiki-links that have spaces inside the brackets
    (`[[ stem ]]`) without them, so that `cardbook check --strict` and `mkdocs build --strict`
    pass; nothing else changes, so every line number in facts.json still holds.
    """
    root.mkdir(parents=True, exist_ok=True)
    shutil.copytree(FIXTURE / "docs", root / "docs", dirs_exist_ok=True)
    if healthy:
        for path in (root / "docs").rglob("*.md"):
            text = path.read_text(encoding="utf-8")
            fixed = _SPACED_LINK.sub(r"[[\1]]", text)
            if fixed != text:
                path.write_text(fixed, encoding="utf-8")
    (root / "mkdocs.yml").write_text(site_config(), encoding="utf-8")


def build(root: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """`mkdocs build --strict` in root, with the interpreter running the tests."""
    env = {
        **os.environ,
        "NO_MKDOCS_2_WARNING": "1",
        "XDG_CACHE_HOME": str(root / ".cache"),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )
