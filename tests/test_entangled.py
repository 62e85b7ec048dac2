"""`annotate: false` writes what `entangled tangle -a naked` writes, byte for byte, for one card.

Entangled has no input-path argument: each card is tangled by it in a fresh directory that
holds only that card (FINDINGS.md §2), and by cardbook in a fresh project. Only the
`{.nix ...}` fence form is used: Entangled does not recognise ```nix {file=...}.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import CARDBOOK, card, fence, write_tree

pytestmark = pytest.mark.entangled

ENTANGLED = Path(sys.executable).parent / "entangled"
NAKED_CONFIG = (
    "site_name: t\nmarkdown_extensions: [pymdownx.superfences]\n"
    "plugins:\n  - cardbook:\n      annotate: false\n"
)


@pytest.fixture(autouse=True)
def entangled_installed() -> None:
    if ENTANGLED.is_file():
        return
    reason = f"entangled-cli is not installed ({ENTANGLED} is missing): uv sync installs the dev group"
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def outputs(root: Path, skip: set[str]) -> dict[str, bytes]:
    found = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_file() and rel not in skip and not rel.startswith(".entangled/"):
            found[rel] = path.read_bytes()
    return found


def both(tmp_path: Path, text: str | bytes) -> tuple[dict[str, bytes], dict[str, bytes]]:
    """(Entangled's files, cardbook's files) for one card."""
    ours, theirs = tmp_path / "cardbook", tmp_path / "entangled"
    write_tree(theirs, {"card.md": text})
    write_tree(ours, {"docs/how-to/card.md": text, "mkdocs.yml": NAKED_CONFIG})
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200", "PYTHONDONTWRITEBYTECODE": "1"}

    def start(command: list[str], cwd: Path) -> subprocess.Popen[str]:
        return subprocess.Popen(
            command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )

    entangled = start([str(ENTANGLED), "tangle", "-a", "naked"], theirs)
    cardbook = start([str(CARDBOOK), "tangle"], ours)
    e_out, e_err = entangled.communicate(timeout=120)
    c_out, c_err = cardbook.communicate(timeout=120)
    assert (cardbook.returncode, c_err) == (0, ""), c_out
    assert (entangled.returncode, e_err) == (0, ""), e_out
    assert "WARNING" not in e_out and "ERROR" not in e_out, e_out
    return (
        outputs(theirs, {"card.md"}),
        outputs(ours, {"docs/how-to/card.md", "mkdocs.yml", "nix/.cardbook-manifest.json"}),
    )


CASES: dict[str, str] = {
    "nested references, spaces and tabs": (
        fence("``` {.nix file=nix/a.nix}", "top {", "  <<level1>>", "\t<<level1>>", "  \t<<level2>>", "}")
        + fence("``` {.nix #level1}", "l1-first", "", "l1 {", "  <<level2>>", "}")
        + fence("``` {.nix #level2}", "l2-a", "", "\tl2-tab", "  ", "   \t ", "l2-end  ")
    ),
    "blank and whitespace-only lines": (
        fence("``` {.nix file=nix/a.nix}", "", "  ", "a", "\t", "    <<c>>", "", "  ", "")
        + fence("``` {.nix #c}", "", "c", "  ", "", "  c2", "")
    ),
    "repeated ids": (
        fence("``` {.nix file=nix/a.nix}", "<<c>>", "---", "  <<c>>")
        + fence("``` {.nix #c}", "first")
        + "\nSome prose.\n\n"
        + fence("``` {.nix #c}", "second", "")
        + fence("``` {.nix #c}", "", "third", "", "")
    ),
    "repeated files": fence("``` {.nix file=nix/a.nix}", "A1", "")
    + "prose\n"
    + fence("``` {.nix file=nix/a.nix}", "A2"),
    "id with file aliases": (
        fence("``` {.nix #main file=nix/a.nix}", "M1")
        + fence("``` {.nix #main}", "M2", "  <<inner>>")
        + fence("``` {.nix #main file=nix/b.nix}", "M3")
        + fence("``` {.nix #inner}", "I")
        + fence("``` {.nix file=nix/c.nix}", "c {", "  <<main>>", "}")
    ),
    "empty blocks": (
        fence("``` {.nix file=nix/a.nix}", "<<e>>", "after", "  <<e>>", "<<f>>")
        + fence("``` {.nix #e}")
        + fence("``` {.nix #f}")
        + fence("``` {.nix #f}", "f2")
        + fence("``` {.nix #f}", "")
        + fence("``` {.nix file=nix/empty.nix}")
        + fence("``` {.nix file=nix/blank.nix}", "", "")
    ),
    "trailing blank lines": (
        fence("``` {.nix file=nix/one.nix}", "x", "")
        + fence("``` {.nix file=nix/two.nix}", "x", "", "")
        + fence("``` {.nix file=nix/three.nix}", "x", "", "", "")
        + fence("``` {.nix file=nix/leading.nix}", "", "", "x")
        + fence("``` {.nix file=nix/ref.nix}", "<<t>>", "end")
        + fence("``` {.nix #t}", "t", "", "")
    ),
    "shebang scripts": (
        fence("``` {.bash file=nix/run.sh}", "#!/bin/sh", "set -eu", "<<body>>", "", "")
        + fence("``` {.bash #body}", "#!/not/a/header", "echo hi", "", "", "")
        + fence("``` {.bash file=nix/short.sh}", "#!/usr/bin/env bash", "")
        + fence("``` {.bash file=nix/plain.sh}", "# no shebang", "echo", "", "")
    ),
    "references that are not alone on their line": (
        fence(
            "``` {.nix file=nix/a.nix}",
            "x = <<inner>>;",
            "<<inner>> trailing",
            "  <<inner>>   \t",
            "<< inner >>",
        )
        + fence("``` {.nix #inner}", "I")
    ),
    "prose fences and attributes": (
        "# Title\n\n"
        + fence("```nix", "{ ignored }")
        + fence("```", "<<not-a-reference>>")
        + fence('``` {.nix file="nix/my file.nix"}', "spaced")
        + fence("``` {file=nix/noclass.nix}", "no class")
        + fence("``` { .nix  file=nix/spaces.nix }", "spaces")
        + fence("``` {#e-f .nix}", "e-f")
        + fence("``` {.nix file=nix/deep/er/a.nix}", "<<e-f>>")
    ),
    "indented fences in list items": (
        "1. first\n\n"
        + "    ``` {.nix file=nix/a.nix}\n    four\n  two\nzero\n      six\n\n  \n    <<c>>\n    ```\n"
        + "2. second\n\n"
        + "\t``` {.nix #c}\n\tT2\n\t\tT3\n\n\t```\n"
    ),
    "unicode": fence("``` {.nix file=nix/a.nix}", "h\u00e9llo \u2192 \u4e16", "  <<ueber>>")
    + fence("``` {.nix #ueber}", "\u00fc = 1;"),
}


@pytest.mark.parametrize("body", CASES.values(), ids=CASES.keys())
def test_naked_output_is_entangled_output(tmp_path: Path, body: str) -> None:
    entangled, cardbook = both(tmp_path, card(body=body))
    assert entangled  # the case tangles something
    assert cardbook == entangled


def test_a_crlf_card(tmp_path: Path) -> None:
    body = CASES["nested references, spaces and tabs"] + CASES["trailing blank lines"]
    text = card(body=body).replace("\n", "\r\n").encode()
    entangled, cardbook = both(tmp_path, text)
    assert b"\r" not in b"".join(entangled.values())
    assert cardbook == entangled


def test_the_expected_bytes(tmp_path: Path) -> None:
    """One case spelled out, so a change in both tools at once is noticed too."""
    entangled, cardbook = both(tmp_path, card(body=CASES["nested references, spaces and tabs"]))
    expected = (
        b"top {\n  l1-first\n\n  l1 {\n    l2-a\n\n    \tl2-tab\n  \n   \t \n    l2-end  \n  }\n"
        b"\tl1-first\n\n\tl1 {\n\t  l2-a\n\n\t  \tl2-tab\n  \n   \t \n\t  l2-end  \n\t}\n"
        b"  \tl2-a\n\n  \t\tl2-tab\n  \n   \t \n  \tl2-end  \n}"
    )
    assert entangled == cardbook == {"nix/a.nix": expected}
