"""One option schema: every option of the plugin entry, valid or not, gets the same answer from
`cardbook tangle` and from `mkdocs build` (the README promises the site and the command never
disagree), and a wrong value is reported at its own line of mkdocs.yml by both."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cardbook.core.settings import KNOWN_KEYS
from helpers import card, fence, run_cardbook, write_tree

MKDOCS = Path(sys.executable).parent / "mkdocs"
HEAD = "site_name: options\nmarkdown_extensions: [pymdownx.superfences]\nplugins:\n  - cardbook:\n"
OPTION_LINE = 5  # the first option's line: HEAD has four lines
STYLESHEET_USAGE = "stylesheet must be a path inside docs_dir ending in .css"

# (options as written under the plugin entry, None when both accept them, else the message
# both print after `mkdocs.yml:<line>: error: plugin cardbook: `, and that line)
CASES: list[tuple[str, str | None, int]] = [
    ("      card_roots: [docs/how-to]\n", None, 0),
    ("      card_roots: docs/how-to\n", None, 0),  # one folder may be written without a list
    ("      card_roots: []\n", "card_roots must be a non-empty list of paths [config]", OPTION_LINE),
    ("      card_roots: [../elsewhere]\n", "card_roots: '../elsewhere' must be a relative path", OPTION_LINE),
    ("      card_roots: 3\n", "card_roots must be a non-empty list of paths [config]", OPTION_LINE),
    ("      output_roots: [nix]\n", None, 0),
    ("      output_roots: [/abs]\n", "output_roots: '/abs' must be a relative path", OPTION_LINE),
    ("      statuses: {active: open, done: closed, parked: closed}\n", None, 0),
    ("      statuses:\n", None, 0),  # no value: the default, for every option
    ("      statuses: {active: maybe}\n", "statuses: 'active' must be declared open or closed", OPTION_LINE),
    ("      statuses: [active]\n", "statuses must map each status to open or closed [config]", OPTION_LINE),
    ("      annotate: true\n", None, 0),
    ("      annotate: yes please\n", "annotate must be true or false [config]", OPTION_LINE),
    ("      comment_styles: {.lua: '--'}\n", None, 0),
    ("      comment_styles: {lua: '--'}\n", "comment_styles: 'lua': '--' must be a prefix", OPTION_LINE),
    ("      aggregator: nix/all.nix\n", None, 0),
    ("      aggregator: ''\n", None, 0),
    ("      aggregator:\n", None, 0),
    ("      aggregator: /etc/x.nix\n", "aggregator: '/etc/x.nix' must be a relative path", OPTION_LINE),
    ("      graphs: false\n", None, 0),
    ("      graphs: 0\n", "graphs must be true or false [config]", OPTION_LINE),
    ("      nix_sandbox: false\n", None, 0),
    ("      nix_sandbox_paths: [/bin, /usr]\n", None, 0),
    ("      nix_sandbox_paths: [bin]\n", "nix_sandbox_paths must be a list of absolute host", OPTION_LINE),
    ("      links: {ignore: [CHANGELOG]}\n", None, 0),
    ("      links: {index: true}\n", "links must be a mapping with the key ignore", OPTION_LINE),
    ("      rules: {lone-card: warning, orphan-page: warning}\n", None, 0),
    ("      rules: {lone-card: loud}\n", "rules: lone-card: 'loud' is not one of error", OPTION_LINE),
    ("      rules: {drift: warning}\n", "rules: drift cannot be changed", OPTION_LINE),
    ("      cards: all\n", None, 0),
    ("      frontmatter: {required: {how-to: [title]}, card_only: [status]}\n", None, 0),
    ("      frontmatter: {required: [title]}\n", "frontmatter: required must map a folder", OPTION_LINE),
    ("      cards: marked\n", None, 0),
    ("      cards: some\n", "cards must be marked or all, not 'some' [config]", OPTION_LINE),
    ("      links: {ignore: CHANGELOG}\n", "links: ignore must be a list of wiki-link targets", OPTION_LINE),
    ("      links: {skip: [x]}\n", "links must be a mapping with the key ignore", OPTION_LINE),
    ("      stylesheet: assets/cardbook.css\n", None, 0),
    ("      stylesheet: false\n", None, 0),
    ("      stylesheet: ../x.css\n", STYLESHEET_USAGE, OPTION_LINE),
    ("      stylesheet: assets/cardbook\n", STYLESHEET_USAGE, OPTION_LINE),
    ("      stylesheet: [a.css]\n", STYLESHEET_USAGE, OPTION_LINE),
    ("      card_roots: [docs/how-to]\n      colour: red\n", "unknown option colour", OPTION_LINE + 1),
    ("      card_roots: [docs/how-to]\n      graphs: maybe\n", "graphs must be true or", OPTION_LINE + 1),
]


def test_every_option_is_covered() -> None:
    tried = {line.split(":")[0].strip() for options, _, _ in CASES for line in options.splitlines()}
    assert set(KNOWN_KEYS) - {"enabled"} <= tried


def project(root: Path, options: str) -> Path:
    body = fence("```nix {file=nix/a.nix}", "{ a = 1; }")
    return write_tree(
        root,
        {
            "mkdocs.yml": HEAD + options,
            "docs/index.md": "# Home\n",
            "docs/how-to/a.md": card(title="A", body=body),
        },
    )


def first_error(text: str) -> str:
    return next((line for line in text.splitlines() if "error: plugin cardbook:" in line), "")


@pytest.mark.parametrize(("options", "message", "line"), CASES, ids=[c[0].strip() for c in CASES])
def test_the_command_and_the_site_give_the_same_answer(
    tmp_path: Path, options: str, message: str | None, line: int
) -> None:
    command_root = project(tmp_path / "command", options)
    site_root = project(tmp_path / "site", options)
    command = run_cardbook(["tangle"], command_root)
    site = subprocess.run(
        [str(MKDOCS), "build"],
        cwd=site_root,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        timeout=120,
    )
    if message is None:
        assert command.returncode == 0, command.stdout + command.stderr
        assert site.returncode == 0, site.stderr
        return
    expected = f"mkdocs.yml:{line}: error: plugin cardbook: {message}"
    assert command.returncode == 2
    assert first_error(command.stderr).startswith(expected), command.stderr
    assert site.returncode != 0
    assert expected in first_error(site.stderr), site.stderr
    # the same line, word for word, from both
    assert first_error(command.stderr) in site.stderr
