"""Issue 15: the commands a team needs besides check: `next` on a broken graph, `mv`, `tags`
and `stale`, on trees shaped like a real runbook."""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

import pytest

from helpers import card, fence, run_cardbook, write_tree

CONFIG = "site_name: t\nmarkdown_extensions: [pymdownx.superfences]\nplugins: [search, cardbook]\n"


def cardbook(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    result = run_cardbook(list(args), root)
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    return result


# next -----------------------------------------------------------------------------------------


def test_next_does_not_offer_a_card_whose_prerequisite_is_missing(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "docs/how-to/a.md": card(title="A", status="active", requires=["ghost"]),
            "docs/how-to/b.md": card(title="B", status="active"),
        },
    )
    result = cardbook(tmp_path, "next")
    assert result.returncode == 0
    assert "Leaves, ready to work on (1):\n  [ ] b: B (active)\n" in result.stdout
    assert "Blocked by a prerequisite that does not exist (1):\n  [ ] a: A (active): requires ghost\n" in (
        result.stdout
    )
    assert result.stderr == "note: 1 error in the cards; run `cardbook check`\n"


def test_next_on_a_cycle_says_the_goals_cannot_be_computed(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "docs/how-to/c.md": card(title="C", status="active", requires=["d"]),
            "docs/how-to/d.md": card(title="D", status="active", requires=["c"]),
            "docs/how-to/e.md": card(title="E", status="active"),
        },
    )
    result = cardbook(tmp_path, "next")
    assert (result.returncode, result.stdout) == (
        1,
        "The goals cannot be computed: the requires graph has a cycle.\n"
        "  c -> d -> c\n"
        "Break it (`cardbook check` shows the line of each edge), then run `cardbook next`.\n",
    )


# mv -------------------------------------------------------------------------------------------


@pytest.fixture
def runbook(tmp_path: Path) -> Path:
    """Diataxis folders, an index page named like its folder, evergreen how-tos, a chain."""
    write_tree(
        tmp_path,
        {
            "mkdocs.yml": CONFIG,
            "docs/index.md": "# Runbook\n\nStart at [[how-to]] or [[deploy-app|the deploy]].\n",
            "docs/how-to/how-to.md": (
                "# How-to\n\n- [[deploy-app]]\n- [[rotate-keys]]\n- [[how-to/setup-db#Steps]]\n"
            ),
            "docs/how-to/setup-db.md": card(
                title="Set up the database", status="done", body=fence("```nix {#db}", "db = 1;")
            ),
            "docs/how-to/deploy-app.md": card(
                title="Deploy the app",
                status="active",
                requires=["setup-db.md", "how-to/rotate-keys.md"],
                body=fence("```nix {file=nix/app.nix}", "{", "  <<db>>", "}"),
            ),
            "docs/how-to/rotate-keys.md": card(
                title="Rotate keys", body="See `[[setup-db]]` and [[ setup-db ]].\n"
            ),
            "docs/reference/ports.md": (
                "---\ntitle: Ports\n---\n# Ports\n\nUsed by [[setup-db|the database]].\n"
            ),
        },
    )
    assert cardbook(tmp_path, "tangle").returncode == 0
    return tmp_path


def test_mv_renames_and_rewrites_every_reference_in_one_step(runbook: Path) -> None:
    result = cardbook(runbook, "mv", "docs/how-to/setup-db.md", "docs/how-to/database.md")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == [
        "moved docs/how-to/setup-db.md -> docs/how-to/database.md",
        "docs/how-to/deploy-app.md:5: requires setup-db.md -> database.md",
        "docs/how-to/how-to.md:5: [[how-to/setup-db]] -> [[how-to/database]]",
        "docs/how-to/rotate-keys.md:5: [[setup-db]] -> [[database]]",
        "docs/reference/ports.md:6: [[setup-db]] -> [[database]]",
        "1 generated file rewritten for the new name",
    ]
    assert not (runbook / "docs/how-to/setup-db.md").exists()
    assert "title: Set up the database" in (runbook / "docs/how-to/database.md").read_text()
    assert (
        "requires: [database.md, how-to/rotate-keys.md]"
        in (runbook / "docs/how-to/deploy-app.md").read_text()
    )
    assert "[[how-to/database#Steps]]" in (runbook / "docs/how-to/how-to.md").read_text()
    rotate = (runbook / "docs/how-to/rotate-keys.md").read_text()
    assert "See `[[setup-db]]` and [[ database ]]." in rotate  # code is left alone
    assert "[[database|the database]]" in (runbook / "docs/reference/ports.md").read_text()
    assert "docs/how-to/database.md#db[0]" in (runbook / "nix/app.nix").read_text()
    checked = cardbook(runbook, "check")
    assert checked.returncode == 0, checked.stdout


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "docs/how-to/setup-db.md",
            "docs/how-to/rotate-keys.md",
            "already exists: cardbook mv never overwrites",
        ),
        ("docs/how-to/nothing.md", "docs/how-to/x.md", "is not a page of this runbook"),
        ("docs/how-to/setup-db.md", "docs/how-to/db.txt", "the new name must end in .md [usage]"),
        ("docs/how-to/setup-db.md", "docs/reference/ports.md", "already exists"),
        ("docs/how-to/setup-db.md", "docs/tutorials/ports.md", "another page has the stem 'ports'"),
        ("docs/how-to/setup-db.md", "../elsewhere.md", "is outside the runbook [usage]"),
        # an outside probe: names no wiki-link could name, and a required card made a page
        ("docs/how-to/setup-db.md", "docs/how-to/a|b.md", "which end a wiki-link"),
        ("docs/how-to/setup-db.md", "docs/how-to/a#b.md", "which end a wiki-link"),
        ("docs/how-to/setup-db.md", "docs/how-to/[[x]].md", "which end a wiki-link"),
        ("docs/how-to/setup-db.md", "docs/reference/db2.md", "other cards require this card"),
        ("docs/how-to/setup-db.md", "docs/how-to/sub/sub.md", "other cards require this card"),
    ],
)
def test_mv_refuses_and_changes_nothing(runbook: Path, old: str, new: str, message: str) -> None:
    before = {path: path.read_bytes() for path in runbook.rglob("*") if path.is_file()}
    result = cardbook(runbook, "mv", old, new)
    assert result.returncode == 2
    assert message in result.stderr
    assert {path: path.read_bytes() for path in runbook.rglob("*") if path.is_file()} == before


def test_mv_waits_for_hand_edits_to_be_stitched(runbook: Path) -> None:
    path = runbook / "nix/app.nix"
    path.write_text(path.read_text().replace("db = 1;", "db = 2;"))
    result = cardbook(runbook, "mv", "docs/how-to/setup-db.md", "docs/how-to/database.md")
    assert result.returncode == 1
    assert result.stderr == "nothing moved: stitch or discard the hand edits first\n"
    assert (runbook / "docs/how-to/setup-db.md").exists()


# tags and stale ------------------------------------------------------------------------------------


def test_tags_counts_singletons_and_near_duplicates(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "docs/how-to/a.md": card(title="A", tags=["nix", "secrets"]),
            "docs/how-to/b.md": card(title="B", tags=["Nix", "secret", "backups"]),
            "docs/how-to/c.md": card(title="C", tags=["nix", "nixos"]),
            "docs/reference/r.md": "---\ntitle: R\ntags: [backups]\n---\n# R\n",
        },
    )
    result = cardbook(tmp_path, "tags")
    assert result.returncode == 0
    assert result.stdout == (
        "Tags (6):\n"
        "  backups  2\n"
        "  nix      2\n"
        "  Nix      1\n"
        "  nixos    1\n"
        "  secret   1\n"
        "  secrets  1\n"
        "\n"
        "Used on one page only (4):\n"
        "  Nix: docs/how-to/b.md\n"
        "  nixos: docs/how-to/c.md\n"
        "  secret: docs/how-to/b.md\n"
        "  secrets: docs/how-to/a.md\n"
        "\n"
        "Probably the same tag (4):\n"
        "  Nix / nix: differ only in case\n"
        "  Nix / nixos: one starts with the other\n"
        "  nix / nixos: one starts with the other\n"
        "  secret / secrets: singular and plural\n"
    )


def test_stale_lists_oldest_first_with_git_dates(tmp_path: Path) -> None:
    today = dt.date.today()
    old, recent = (today - dt.timedelta(days=400)).isoformat(), (today - dt.timedelta(days=3)).isoformat()
    write_tree(
        tmp_path,
        {
            "docs/how-to/old.md": card(title="Old", modified=old),
            "docs/how-to/recent.md": card(title="Recent", modified=recent),
            "docs/reference/undated.md": "# No frontmatter\n",
        },
    )
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run([*git, "add", "-A"], cwd=tmp_path, check=True)
    subprocess.run([*git, "commit", "-qm", "x"], cwd=tmp_path, check=True)
    result = cardbook(tmp_path, "stale", "--days", "30")
    assert result.returncode == 0
    assert result.stdout == (
        "Pages by modified date, oldest first, older than 30 days (2 of 3):\n"
        f"  no date                 docs/reference/undated.md  (last commit {today.isoformat()})\n"
        f"  {old}    400 days  docs/how-to/old.md  (last commit {today}, after its modified date)\n"
    )
    everything = cardbook(tmp_path, "stale")
    assert (
        everything.stdout.splitlines()[-1]
        == f"  {recent}      3 days  docs/how-to/recent.md  (last commit {today}, after its modified date)"
    )


def test_mv_writes_path_links_below_docs_dir_and_prints_only_changes(tmp_path: Path) -> None:
    """Outside probe: `[[a/b/page]]` became `[[docs/c/page]]`, and unchanged links were printed."""
    write_tree(
        tmp_path,
        {
            "mkdocs.yml": CONFIG,
            "docs/a/b/page.md": "---\ntitle: P\n---\n# P\n",
            "docs/x.md": "# X\n\n[[a/b/page]] and [[b/page]] and [[page]]\n",
            "docs/how-to/h.md": card(title="H"),
        },
    )
    result = cardbook(tmp_path, "mv", "docs/a/b/page.md", "docs/c/page.md")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "docs/x.md").read_text() == "# X\n\n[[c/page]] and [[c/page]] and [[page]]\n"
    assert "[[page]] -> [[page]]" not in result.stdout
    assert run_cardbook(["check", "--strict"], tmp_path).returncode == 0
