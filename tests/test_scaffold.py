"""`cardbook init` and `cardbook new`: what they write, what they print, what they refuse.

Every refusal must leave the tree byte-identical, so those tests compare a snapshot of every
file and folder before and after.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from cardbook.core.cards import load_runbook
from cardbook.core.settings import load_settings
from cardbook.start_new import title_from_stem, yaml_scalar
from helpers import card, run_cardbook, write_tree

EXIT_OK, EXIT_USAGE = 0, 2
MKDOCS = Path(sys.executable).parent / "mkdocs"
TODAY = dt.date.today().isoformat()
INIT_FILES = ("mkdocs.yml", "docs/index.md", "docs/how-to/hello.md", "nix/hello.nix")
CONFIG = """\
site_name: test
plugins:
  - cardbook:
      statuses: {done: closed, blocked: open, active: open}
"""


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every file (its bytes) and folder (None) below root."""
    found: dict[str, bytes | None] = {}
    for directory, dirnames, filenames in os.walk(root):
        for name in dirnames:
            found[os.path.relpath(os.path.join(directory, name), root)] = None
        for name in filenames:
            path = os.path.join(directory, name)
            found[os.path.relpath(path, root)] = Path(path).read_bytes()
    return found


def mkdocs_build(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(MKDOCS), "build", "--strict"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1", "XDG_CACHE_HOME": str(root / ".cache")},
        check=False,
    )


def refused(args: list[str], root: Path, expected: str) -> None:
    """The command exits 2 with `expected` among its error lines and changes nothing."""
    before = snapshot(root)
    result = run_cardbook(args, root)
    assert result.returncode == EXIT_USAGE, result.stdout + result.stderr
    assert expected in result.stderr.splitlines(), result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert snapshot(root) == before


def frontmatter(path: Path) -> dict[str, object]:
    text = path.read_text(encoding="utf-8")
    assert text.startswith("---\n")
    return yaml.safe_load(text.split("---\n")[1])


def runbook_with(tmp_path: Path, cards: dict[str, str], config: str = CONFIG) -> Path:
    return write_tree(tmp_path, {"mkdocs.yml": config, **cards})


# cardbook init ------------------------------------------------------------------------------


def test_init_starts_a_runbook_that_checks_tangles_and_builds(tmp_path: Path) -> None:
    result = run_cardbook(["init", "my-runbook"], tmp_path)
    assert result.returncode == EXIT_OK, result.stderr
    root = tmp_path / "my-runbook"
    assert result.stdout.splitlines()[:5] == [
        "wrote my-runbook/mkdocs.yml",
        "wrote my-runbook/docs/index.md",
        "wrote my-runbook/docs/how-to/hello.md",
        "wrote my-runbook/nix/hello.nix (tangled from the card)",
        "next:",
    ]
    commands = [line.split("#")[0].strip() for line in result.stdout.splitlines()[5:]]
    assert commands == [
        "cd my-runbook",
        "cardbook check",
        "cardbook new STEM",
        "cardbook tangle",
        "mkdocs serve",
    ]
    assert sorted(path for path, content in snapshot(root).items() if content is not None) == sorted(
        INIT_FILES
    )

    config = yaml.safe_load((root / "mkdocs.yml").read_text(encoding="utf-8"))
    assert config["site_name"] == "my-runbook"
    assert config["theme"] == {"name": "material"}
    names = [
        next(iter(entry)) if isinstance(entry, dict) else entry for entry in config["markdown_extensions"]
    ]
    for needed in ("attr_list", "pymdownx.highlight", "pymdownx.superfences", "admonition", "toc"):
        assert needed in names
    assert {"toc": {"permalink": True}} in config["markdown_extensions"]
    assert config["plugins"][0] == "search"
    assert config["plugins"][1]["cardbook"]["card_roots"] == ["docs/how-to"]
    assert config["plugins"][1]["cardbook"]["output_roots"] == ["nix"]
    first_card = frontmatter(root / "docs/how-to/hello.md")
    assert first_card["modified"] == dt.date.today()
    assert first_card["status"] == "done"  # closed: a lone open card is a warning, and --strict fails on it

    check = run_cardbook(["check"], root)
    assert (check.returncode, check.stdout) == (EXIT_OK, "1 card checked: no problems\n"), check.stderr
    tangle = run_cardbook(["tangle"], root)
    assert tangle.returncode == EXIT_OK, tangle.stdout + tangle.stderr
    assert tangle.stdout.endswith("1 file: 0 written, 1 unchanged, 0 removed\n")  # init tangled it already
    build = mkdocs_build(root)
    assert build.returncode == EXIT_OK, build.stderr
    site = root / "site"
    assert "Say hello" in (site / "how-to/hello/index.html").read_text(encoding="utf-8")
    assert (site / "nix/hello.nix").read_bytes() == (root / "nix/hello.nix").read_bytes()
    assert (site / "runbook/index.html").is_file()
    assert 'derivation {\n  name = "hello";' in (root / "nix/hello.nix").read_text(encoding="utf-8")


def test_init_without_a_directory_starts_the_runbook_here(tmp_path: Path) -> None:
    root = tmp_path / "ops notes"
    root.mkdir()
    write_tree(root, {"README.md": "# ops\n", "docs/guides/setup.md": "# Setup\n"})
    before = snapshot(root)
    result = run_cardbook(["init"], root)
    assert result.returncode == EXIT_OK, result.stderr
    assert result.stdout.splitlines()[0] == "wrote mkdocs.yml"
    assert "cd " not in result.stdout
    assert yaml.safe_load((root / "mkdocs.yml").read_text(encoding="utf-8"))["site_name"] == "ops notes"
    after = snapshot(root)
    assert {path: after[path] for path in before} == before  # the files already there are untouched
    assert run_cardbook(["check"], root).returncode == EXIT_OK


@pytest.mark.parametrize("existing", INIT_FILES)
def test_init_refuses_when_any_file_it_would_write_exists(tmp_path: Path, existing: str) -> None:
    write_tree(tmp_path, {existing: "mine\n"})
    message = (
        "already exists: this folder has a MkDocs site already; add the cardbook plugin to its "
        "mkdocs.yml instead (nothing written) [usage]"
        if existing == "mkdocs.yml"
        else "already exists: cardbook init never overwrites a file (nothing written) [usage]"
    )
    refused(["init"], tmp_path, f"{existing}:1: error: {message}")


def test_init_lists_every_file_in_the_way(tmp_path: Path) -> None:
    write_tree(tmp_path, {"rb/docs/index.md": "# mine\n", "rb/nix/hello.nix": "{ }\n"})
    before = snapshot(tmp_path)
    result = run_cardbook(["init", "rb/"], tmp_path)
    assert result.returncode == EXIT_USAGE
    assert [line.split(": error: ")[0] for line in result.stderr.splitlines()] == [
        "rb/docs/index.md:1",
        "rb/nix/hello.nix:1",
    ]
    assert snapshot(tmp_path) == before


def test_init_refuses_a_first_card_whose_stem_is_taken_elsewhere(tmp_path: Path) -> None:
    write_tree(tmp_path, {"docs/guides/hello.md": "# Hello\n"})
    refused(
        ["init"],
        tmp_path,
        "docs/guides/hello.md:1: error: the first card would be docs/how-to/hello.md, and stems are "
        "unique across the docs tree (nothing written) [usage]",
    )


def test_init_refuses_a_file_where_it_needs_a_folder(tmp_path: Path) -> None:
    write_tree(tmp_path, {"docs/how-to": "a file\n"})
    refused(
        ["init"],
        tmp_path,
        "docs/how-to:1: error: not a folder: cardbook init writes docs/how-to/hello.md (nothing written) "
        "[usage]",
    )


def test_init_refuses_a_file_as_its_directory(tmp_path: Path) -> None:
    write_tree(tmp_path, {"notes": "a file\n"})
    refused(["init", "notes"], tmp_path, "notes:1: error: not a folder [usage]")


# cardbook new -------------------------------------------------------------------------------


def test_new_writes_an_open_card_with_valid_frontmatter(tmp_path: Path) -> None:
    root = runbook_with(tmp_path, {"docs/how-to/db.md": card(title="Set up the database")})
    result = run_cardbook(["new", "deploy-the_app"], root)
    assert result.returncode == EXIT_OK, result.stderr
    path = root / "docs/how-to/deploy-the_app.md"
    assert result.stdout.splitlines()[0] == "wrote docs/how-to/deploy-the_app.md"
    text = path.read_text(encoding="utf-8")
    assert text.startswith(
        "---\n"
        "title: Deploy the app\n"
        f"modified: {TODAY}\n"
        "status: blocked\n"  # the first open status of the vocabulary, in declaration order
        "tags: [how-to]\n"
        "---\n\n"
        "# Deploy the app\n\n"
    )
    assert len(text.split("---\n", 2)[2].strip().splitlines()) > 2  # a heading, then prose
    new_card = load_runbook(load_settings(cwd=root)).cards["deploy-the_app"]
    assert (new_card.title, new_card.status, new_card.is_open, new_card.tags) == (
        "Deploy the app",
        "blocked",
        True,
        ["how-to"],
    )
    assert not [
        name for name in os.listdir(path.parent) if name.startswith(".cardbook-")
    ]  # no temp file left


def test_new_with_prerequisites_says_it_is_ready_when_they_are_closed(tmp_path: Path) -> None:
    root = runbook_with(
        tmp_path,
        {
            "docs/how-to/db.md": card(title="Database", status="done"),
            "docs/how-to/net/network.md": card(title="Network"),  # no status: closed, shown as done
        },
    )
    result = run_cardbook(
        ["new", "app.md", "--requires", "db", "-r", "docs/how-to/net/network.md", "-r", "db.md"], root
    )
    assert result.returncode == EXIT_OK, result.stderr
    assert result.stdout.splitlines() == [
        "wrote docs/how-to/app.md",
        "requires: db, network (both done) — ready to work on",
        "nothing requires it: a goal",
        "see the graph: cardbook next",
    ]
    assert frontmatter(root / "docs/how-to/app.md")["requires"] == ["db", "network"]  # each once, as stems
    check = run_cardbook(["check"], root)
    assert check.returncode == EXIT_OK, check.stdout


def test_new_names_the_open_prerequisites_it_waits_for(tmp_path: Path) -> None:
    root = runbook_with(
        tmp_path,
        {
            "docs/how-to/db.md": card(title="Database", status="done"),
            "docs/how-to/net.md": card(title="Network", status="active", requires="[db]"),
            "docs/how-to/dns.md": card(title="DNS", status="blocked", requires="[db]"),
        },
    )
    result = run_cardbook(["new", "app", "-r", "db", "-r", "net", "-r", "dns"], root)
    assert result.returncode == EXIT_OK, result.stderr
    assert result.stdout.splitlines()[1] == (
        "requires: db (done), net (active), dns (blocked) — not ready: net and dns are still open"
    )


def test_new_card_without_links_is_a_goal_and_a_leaf(tmp_path: Path) -> None:
    root = runbook_with(tmp_path, {})
    result = run_cardbook(["new", "first"], root)
    assert result.returncode == EXIT_OK, result.stderr
    assert result.stdout.splitlines() == [
        "wrote docs/how-to/first.md",
        "requires nothing and nothing requires it: a goal that is also a leaf; add it to another "
        "card's requires to make it a prerequisite",
        "see the graph: cardbook next",
    ]


def test_new_card_that_existing_cards_already_required(tmp_path: Path) -> None:
    root = runbook_with(
        tmp_path,
        {
            "docs/how-to/app.md": card(title="App", status="active", requires="[db]"),
            "docs/how-to/old.md": card(title="Old", status="done", requires="[db]"),
        },
    )
    assert run_cardbook(["check"], root).returncode == 1  # db does not exist yet
    result = run_cardbook(["new", "db"], root)
    assert result.returncode == EXIT_OK, result.stderr
    assert result.stdout.splitlines()[1:3] == [
        "requires nothing — ready to work on",
        "required by: app (active), old (done) — old is closed but now requires an open card: "
        "`cardbook check` reports it until this card is closed",
    ]


def test_new_card_that_closes_a_cycle_says_so(tmp_path: Path) -> None:
    root = runbook_with(tmp_path, {"docs/how-to/a.md": card(title="A", status="active", requires="[b]")})
    result = run_cardbook(["new", "b", "--requires", "a"], root)
    assert result.returncode == EXIT_OK, result.stderr
    assert "it closes a dependency cycle: a -> b -> a" in result.stdout.splitlines()


def test_new_quotes_titles_and_stems_yaml_would_misread(tmp_path: Path) -> None:
    root = runbook_with(
        tmp_path,
        {
            "docs/how-to/yes.md": card(title="Agree"),
            "docs/how-to/1.10.md": card(title="Version"),
            "docs/how-to/2026-01-01.md": card(title="New year"),
        },
    )
    title = 'Fix: "port" # 8080, [really]'
    result = run_cardbook(
        ["new", "app", "--title", title, "-r", "yes", "-r", "1.10", "-r", "2026-01-01"], root
    )
    assert result.returncode == EXIT_OK, result.stderr
    meta = frontmatter(root / "docs/how-to/app.md")
    assert meta["title"] == title
    assert meta["requires"] == ["yes", "1.10", "2026-01-01"]
    assert f"\n# {title}\n" in (root / "docs/how-to/app.md").read_text(encoding="utf-8")
    check = run_cardbook(["check"], root)
    assert check.returncode == EXIT_OK, check.stdout


def test_new_with_a_config_file_elsewhere(tmp_path: Path) -> None:
    root = runbook_with(
        tmp_path / "project",
        {"notes/db.md": card(title="Database")},
        config=CONFIG.replace("statuses:", "card_roots: [notes]\n      statuses:"),
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = run_cardbook(["new", "app", "-r", "db", "-f", root / "mkdocs.yml"], elsewhere)
    assert result.returncode == EXIT_OK, result.stderr
    assert (root / "notes/app.md").is_file()
    assert result.stdout.splitlines()[-1] == f"see the graph: cardbook next -f {root / 'mkdocs.yml'}"
    assert os.listdir(elsewhere) == []


@pytest.mark.parametrize(
    ("stem", "message"),
    [
        ("a/b", "a card's name is a plain file name, without folders; it is created in docs/how-to [usage]"),
        (
            "../up",
            "a card's name is a plain file name, without folders; it is created in docs/how-to [usage]",
        ),
        ("..", "a card's name is a plain file name, without folders; it is created in docs/how-to [usage]"),
        (".md", "a card needs a name [usage]"),
        ("_draft", "use letters, digits, '-', '_' and '.', starting with a letter or digit [usage]"),
        (".hidden", "use letters, digits, '-', '_' and '.', starting with a letter or digit [usage]"),
        ("two words", "use letters, digits, '-', '_' and '.', starting with a letter or digit [usage]"),
        ("a|b", "use letters, digits, '-', '_' and '.', starting with a letter or digit [usage]"),
        ("x.md.md", "use letters, digits, '-', '_' and '.', starting with a letter or digit [usage]"),
        ("index", "index.md is a section page (named like its folder), never a card [usage]"),
    ],
)
def test_new_refuses_a_stem_that_is_not_a_plain_name(tmp_path: Path, stem: str, message: str) -> None:
    root = runbook_with(tmp_path, {"docs/how-to/db.md": card()})
    refused(["new", "--", stem], root, f"docs/how-to:1: error: cannot name a card {stem!r}: {message}")


def test_new_refuses_to_overwrite_a_card(tmp_path: Path) -> None:
    root = runbook_with(tmp_path, {"docs/how-to/db.md": card(title="Mine")})
    refused(
        ["new", "db"],
        root,
        "docs/how-to/db.md:1: error: already exists: cardbook new never overwrites a card [usage]",
    )


def test_new_refuses_a_file_where_the_card_root_should_be(tmp_path: Path) -> None:
    root = runbook_with(tmp_path, {"docs/how-to": "a file\n"})
    refused(
        ["new", "db"], root, "mkdocs.yml:3: error: card root docs/how-to is not a folder [config]"
    )


def test_new_refuses_to_run_in_a_subfolder_of_a_runbook(tmp_path: Path) -> None:
    root = runbook_with(tmp_path, {"docs/how-to/db.md": card()})
    refused(
        ["new", "app"],
        root / "docs/how-to",
        "../../mkdocs.yml:1: error: this runbook's config is ../../mkdocs.yml, not in this folder: "
        "run cardbook in ../.., or pass -f ../../mkdocs.yml [config]",
    )


def test_new_refuses_a_stem_used_anywhere_in_the_docs(tmp_path: Path) -> None:
    root = runbook_with(tmp_path, {"docs/how-to/db.md": card(), "docs/reference/ports.md": "# Ports\n"})
    refused(
        ["new", "ports"],
        root,
        "docs/how-to/ports.md:1: error: the stem 'ports' is taken by docs/reference/ports.md: "
        "stems are unique across the docs tree, whatever their letter case [usage]",
    )
    # Found by a re-check of the probe's fixes: one file on macOS' and Windows' file systems.
    refused(
        ["new", "Ports"],
        root,
        "docs/how-to/Ports.md:1: error: the stem 'Ports' is taken by docs/reference/ports.md: "
        "stems are unique across the docs tree, whatever their letter case [usage]",
    )


@pytest.mark.parametrize(
    ("requires", "message"),
    [
        ("dbb", "--requires 'dbb': no card is named 'dbb' (did you mean 'db'?) [usage]"),
        ("zzz", "--requires 'zzz': no card is named 'zzz' [usage]"),
        (
            "ports",
            "--requires 'ports': docs/reference/ports.md is a page outside the card roots, not a card "
            "[usage]",
        ),
        ("app", "--requires 'app': a card cannot require itself [usage]"),
        ("other/db.md", "--requires 'other/db.md': the card 'db' is docs/how-to/db.md [usage]"),
    ],
)
def test_new_refuses_requires_that_name_no_card(tmp_path: Path, requires: str, message: str) -> None:
    root = runbook_with(tmp_path, {"docs/how-to/db.md": card(), "docs/reference/ports.md": "# Ports\n"})
    refused(
        ["new", "app", "--requires", "db", "--requires", requires],
        root,
        f"docs/how-to/app.md:1: error: {message}",
    )


@pytest.mark.parametrize("title", ["", "   ", "two\nlines"])
def test_new_refuses_a_title_that_is_not_one_line(tmp_path: Path, title: str) -> None:
    root = runbook_with(tmp_path, {})
    refused(
        ["new", "app", "--title", title],
        root,
        "docs/how-to/app.md:1: error: --title must be one line of text [usage]",
    )


def test_new_refuses_a_vocabulary_without_an_open_status(tmp_path: Path) -> None:
    config = "site_name: t\nplugins:\n  - cardbook:\n      statuses:\n        done: closed\n"
    root = runbook_with(tmp_path, {}, config=config)
    refused(
        ["new", "app"],
        root,
        "mkdocs.yml:4: error: every status is declared closed: a new card starts open, "
        "so declare one status open [config]",
    )


def test_new_refuses_a_missing_config_file(tmp_path: Path) -> None:
    refused(
        ["new", "app", "-f", "nope.yml"], tmp_path, "nope.yml:1: error: config file does not exist [usage]"
    )


def test_new_refuses_a_broken_config_file(tmp_path: Path) -> None:
    write_tree(tmp_path, {"mkdocs.yml": "plugins:\n  - cardbook:\n      statuses: [active]\n"})
    before = snapshot(tmp_path)
    result = run_cardbook(["new", "app"], tmp_path)
    assert result.returncode == EXIT_USAGE
    assert result.stderr.startswith("mkdocs.yml:")
    assert (
        ": error: plugin cardbook: statuses must map each status to open or closed [config]" in result.stderr
    )
    assert snapshot(tmp_path) == before


# the pure helpers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["Deploy the app", "yes", "null", "1.10", "2026-01-01", "a: b", "x # y", "[list]", "'q'", " pad"]
)
def test_yaml_scalar_reads_back_as_the_same_string(text: str) -> None:
    assert yaml.safe_load(f"title: {yaml_scalar(text)}") == {"title": text}
    assert yaml.safe_load(f"requires: [{yaml_scalar(text, in_flow=True)}, other]") == {
        "requires": [text, "other"]
    }


def test_yaml_scalar_is_plain_when_it_can_be() -> None:
    assert yaml_scalar("Deploy the app") == "Deploy the app"
    assert yaml_scalar("yes") == '"yes"'


@pytest.mark.parametrize(
    ("stem", "title"),
    [("deploy-app", "Deploy app"), ("set_up-DNS", "Set up DNS"), ("x", "X"), ("1.10", "1.10")],
)
def test_title_from_stem(stem: str, title: str) -> None:
    assert title_from_stem(stem) == title


def test_new_refuses_a_card_named_like_its_folder(tmp_path: Path) -> None:
    """Outside probe: `cardbook new how-to` wrote docs/how-to/how-to.md, a section page that is
    never a card."""
    write_tree(tmp_path, {"mkdocs.yml": "site_name: t\nplugins: [cardbook]\n", "docs/how-to/a.md": card()})
    refused(["new", "how-to"], tmp_path, "docs/how-to:1: error: cannot name a card 'how-to': how-to.md is a "
            "section page (named like its folder), never a card [usage]")


def test_a_name_the_file_system_refuses_is_one_problem_line(tmp_path: Path) -> None:
    """Outside probe: a 300-character name ended with `cardbook: cannot write ...`, no rule id."""
    write_tree(tmp_path, {"mkdocs.yml": "site_name: t\nplugins: [cardbook]\n", "docs/how-to/a.md": card()})
    name = "x" * 300
    result = run_cardbook(["new", name], tmp_path)
    assert result.returncode == 1
    assert result.stderr == (
        f"docs/how-to/{name}.md:1: error: cannot write: File name too long; nothing was changed "
        "[cannot-write]\n"
    )
    assert not (tmp_path / "docs/how-to" / "x").exists()
