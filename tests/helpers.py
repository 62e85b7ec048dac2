"""Small helpers shared by the test modules: card trees on disk and the installed command."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from pathlib import Path

# The console script installed in the same environment as the interpreter running the tests.
CARDBOOK = Path(sys.executable).parent / "cardbook"


def write_tree(root: Path, files: Mapping[str, str | bytes]) -> Path:
    """Create each file (and its parent directories) below root; text is written as UTF-8."""
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_bytes(content.encode("utf-8"))
    return root


# A derivation that builds without nixpkgs: /bin/sh writes one line into $out.
HELLO_DERIVATION = (
    "derivation {",
    '  name = "hello";',
    "  system = builtins.currentSystem;",
    '  builder = "/bin/sh";',
    '  args = [ "-c" "echo hello > $out" ];',
    "}",
)


# For the tests of the card model itself: every page under the card roots is a card there,
# whatever its frontmatter (`cards: all`), as the trees these tests write expect. The default,
# `cards: marked`, has its own tests (test_page_rules.py, test_rules.py, test_adoption.py).
EVERY_PAGE_A_CARD = (
    "site_name: t\nmarkdown_extensions: [pymdownx.superfences]\nplugins:\n  - cardbook:\n      cards: all\n"
)


def write_cards_tree(root: Path, files: Mapping[str, str | bytes]) -> Path:
    """write_tree, with EVERY_PAGE_A_CARD as mkdocs.yml when the tree brings none of its own."""
    if "mkdocs.yml" not in files and not (root / "mkdocs.yml").exists():
        files = {"mkdocs.yml": EVERY_PAGE_A_CARD, **files}
    return write_tree(root, files)


def fence(opening: str, *lines: str, indent: str = "") -> str:
    """A fenced code block: the opening line, the lines, the closing backticks; each indented."""
    return "\n".join(indent + line for line in [opening, *lines, "```"]) + "\n"


def _yaml_value(value: str | Sequence[str]) -> str:
    if isinstance(value, str):
        return value
    return "[" + ", ".join(value) + "]"


def card(
    title: str | None = "A card",
    modified: str | None = "2026-01-01",
    status: str | None = None,
    requires: str | Sequence[str] | None = None,
    tags: str | Sequence[str] | None = None,
    body: str = "",
    extra: str = "",
) -> str:
    """The text of a card. Values are written verbatim as YAML; lists become `[a, b]`.

    None leaves a key out. The keys come in this order, one line each, so line numbers are
    predictable: `---` (1), title, modified, status, requires, tags, then the `extra` lines.
    An empty status (`status=""`) writes `status:` with no value.
    """
    lines = ["---"]
    if title is not None:
        lines.append(f"title: {title}")
    if modified is not None:
        lines.append(f"modified: {modified}")
    if status is not None:
        lines.append(f"status: {status}".rstrip())
    if requires is not None:
        lines.append(f"requires: {_yaml_value(requires)}")
    if tags is not None:
        lines.append(f"tags: {_yaml_value(tags)}")
    if extra:
        lines.extend(extra.rstrip("\n").split("\n"))
    lines.append("---")
    return "\n".join(lines) + "\n" + body


def run_cardbook(
    args: Sequence[str | os.PathLike[str]],
    cwd: Path,
    *,
    timeout: float = 60,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run the installed `cardbook` command in cwd, capturing text output; `env` adds to
    the environment."""
    env = {**os.environ, "NO_COLOR": "1", "PYTHONDONTWRITEBYTECODE": "1", **(env or {})}
    return subprocess.run(
        [str(CARDBOOK), *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )


def check_problems(root: Path, *, today: dt.date) -> list[str]:
    """`cardbook check` in-process on the project at root: the formatted problems, in order."""
    from cardbook.core.settings import load_settings
    from cardbook.pipeline import load_and_check

    result = load_and_check(load_settings(cwd=root), today=today)
    return [problem.format() for problem in result.problems]


SVG_NAMESPACE = "http://www.w3.org/2000/svg"


def parse_svg(markup: str) -> ET.Element:
    """An SVG as a browser reads it in an HTML page: the layered drawing, inline, has no
    xmlns, and an HTML parser puts <svg> and everything in it in the SVG namespace anyway."""
    if "xmlns=" not in markup.split(">", 1)[0]:
        markup = markup.replace("<svg", f'<svg xmlns="{SVG_NAMESPACE}"', 1)
    return ET.fromstring(markup)
