"""Issue 15: every problem names its rule; a runbook sets a rule's severity under `rules:`."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from cardbook.core.rules import RULES, SEVERITIES, rules_markdown
from helpers import card, run_cardbook, write_tree

ROOT = Path(__file__).resolve().parent.parent


def _config(rules: str = "", extra: str = "") -> str:
    options = f"      rules: {rules}\n" if rules else "      cards: all\n"
    return f"site_name: t\n{extra}plugins:\n  - search\n  - cardbook:\n{options}"


def test_the_reference_page_lists_every_rule_as_the_code_has_them() -> None:
    page = (ROOT / "docs/reference/rules.md").read_text()
    table = page.split("<!-- rules:start -->\n", 1)[1].split("<!-- rules:end -->", 1)[0]
    assert table == rules_markdown(), "regenerate docs/reference/rules.md from core/rules.py"


def test_every_rule_the_code_reports_is_in_the_table_and_every_rule_is_reported() -> None:
    package = ROOT / "plugins/cardbook"
    source = "\n".join(path.read_text() for path in package.rglob("*.py") if path.name != "rules.py")
    assert set(re.findall(r'rule="([^"]*)"', source)) <= set(RULES)
    for rule_id in RULES:  # named where it is reported (as rule=..., or passed to a helper)
        assert f'"{rule_id}"' in source, f"{rule_id} is reported nowhere"
    for rule in RULES.values():
        assert rule.severity in SEVERITIES
        assert rule.changeable or rule.severity == "error", f"{rule.id}: a fixed rule is an error"


def test_each_problem_line_ends_with_its_rule_id(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "mkdocs.yml": _config(),
            "docs/how-to/a.md": card(title="A", status="active", requires=["ghost"]),
            "docs/how-to/b.md": card(title="B", status="active", body="See [[nowhere]].\n"),
        },
    )
    result = run_cardbook(["check"], tmp_path)
    assert result.stdout.splitlines() == [
        # a's one prerequisite does not exist, so a stands alone
        "docs/how-to/a.md:4: info: open card is required by nothing and requires nothing [lone-card]",
        "docs/how-to/a.md:5: error: requires 'ghost', which does not exist [missing-requirement]",
        "docs/how-to/b.md:4: info: open card is required by nothing and requires nothing [lone-card]",
        "docs/how-to/b.md:6: warning: wiki-link [[nowhere]] matches no page [broken-link]",
        "2 cards checked: 1 error, 1 warning, 2 info",
    ]
    assert result.returncode == 1
    document = json.loads(run_cardbook(["check", "--format", "json"], tmp_path).stdout)
    assert [problem["rule"] for problem in document["problems"]] == [
        "lone-card",
        "missing-requirement",
        "lone-card",
        "broken-link",
    ]
    assert (document["errors"], document["warnings"], document["info"]) == (1, 1, 2)
    github = run_cardbook(["check", "--format", "github"], tmp_path).stdout.splitlines()
    assert github[2].startswith("::notice file=docs/how-to/b.md,line=4,title=cardbook lone-card::open card")
    assert github[1].startswith("::error file=docs/how-to/a.md,line=5,title=cardbook missing-requirement::")


def test_info_never_fails_strict_and_a_warning_does(tmp_path: Path) -> None:
    files = {
        "mkdocs.yml": _config(),
        "docs/how-to/a.md": card(title="A", status="active"),  # a lone open card: info
    }
    write_tree(tmp_path, files)
    strict = run_cardbook(["check", "--strict"], tmp_path)
    assert strict.returncode == 0, strict.stdout
    assert "[lone-card]" in strict.stdout
    (tmp_path / "mkdocs.yml").write_text(_config("{lone-card: warning}"))
    assert run_cardbook(["check", "--strict"], tmp_path).returncode == 1
    assert run_cardbook(["check"], tmp_path).returncode == 0
    (tmp_path / "mkdocs.yml").write_text(_config("{lone-card: error}"))
    raised = run_cardbook(["check"], tmp_path)
    assert raised.returncode == 1
    assert "docs/how-to/a.md:4: error: open card is required by nothing and requires nothing [lone-card]" in (
        raised.stdout
    )
    (tmp_path / "mkdocs.yml").write_text(_config("{lone-card: off}"))
    quiet = run_cardbook(["check", "--strict"], tmp_path)
    assert quiet.stdout.splitlines() == ["1 card checked: no problems"]


def test_turning_an_error_down_lets_tangle_write(tmp_path: Path) -> None:
    """A changeable error is the runbook's to judge; tangling follows the severity it set."""
    done_needs_open = {
        "docs/how-to/a.md": card(title="A", status="active"),
        "docs/how-to/b.md": card(
            title="B", status="done", requires=["a"], body="```{.nix file=nix/b.nix}\n{ }\n```\n"
        ),
    }
    fences = "markdown_extensions: [pymdownx.superfences]\n"
    write_tree(tmp_path, {"mkdocs.yml": _config(extra=fences), **done_needs_open})
    refused = run_cardbook(["tangle"], tmp_path)
    assert refused.returncode == 1 and "[unfinished-prerequisite]" in refused.stdout
    assert not (tmp_path / "nix/b.nix").exists()
    (tmp_path / "mkdocs.yml").write_text(_config("{unfinished-prerequisite: warning}", extra=fences))
    written = run_cardbook(["tangle"], tmp_path)
    assert written.returncode == 0, written.stdout + written.stderr
    assert (tmp_path / "nix/b.nix").exists()


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ("{lone-crad: off}", "rules: unknown rule 'lone-crad' (did you mean 'lone-card'?)"),
        ("{lone-card: loud}", "rules: lone-card: 'loud' is not one of error, warning, info, off"),
        ("{edited-generated: warning}", "rules: edited-generated cannot be changed"),
        ("{drift: off}", "rules: drift cannot be changed"),
        ("[lone-card]", "rules must map rule ids to a severity"),
    ],
)
def test_a_wrong_rules_option_is_a_configuration_error(tmp_path: Path, rules: str, message: str) -> None:
    write_tree(tmp_path, {"mkdocs.yml": _config(rules), "docs/how-to/a.md": card(title="A")})
    result = run_cardbook(["check"], tmp_path)
    assert result.returncode == 2
    assert f"mkdocs.yml:5: error: plugin cardbook: {message}" in result.stderr
    assert "[config]" in result.stderr


def test_an_empty_status_means_what_the_vocabulary_says(tmp_path: Path) -> None:
    chain = {
        "docs/how-to/a.md": "---\ntitle: A\nmodified: 2026-01-01\nstatus:\n---\n# A\n",
        "docs/how-to/b.md": card(title="B", status="done", requires=["a"]),
    }
    write_tree(tmp_path, {"mkdocs.yml": _config(), **chain})
    refused = run_cardbook(["check"], tmp_path)
    assert "docs/how-to/a.md:4: error: empty 'status': write one of active, done" in refused.stdout
    assert "[empty-status]" in refused.stdout
    (tmp_path / "mkdocs.yml").write_text(
        "site_name: t\nplugins:\n  - cardbook:\n      statuses: {active: open, done: closed, '': closed}\n"
    )
    closed = run_cardbook(["check"], tmp_path)
    assert closed.returncode == 0, closed.stdout
    assert closed.stdout.splitlines() == ["2 cards checked: no problems"]
    (tmp_path / "mkdocs.yml").write_text(
        "site_name: t\nplugins:\n  - cardbook:\n      statuses: {active: open, done: closed, ~: open}\n"
    )
    opened = run_cardbook(["check"], tmp_path)
    assert "[unfinished-prerequisite]" in opened.stdout  # b is done but a (empty status) is open


def test_path_links_are_allowed_unless_the_rule_is_on(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "mkdocs.yml": _config(),
            "docs/how-to/a.md": card(title="A", body="See [[reference/ports]].\n"),
            "docs/reference/ports.md": "# Ports\n",
        },
    )
    assert run_cardbook(["check", "--strict"], tmp_path).returncode == 0
    (tmp_path / "mkdocs.yml").write_text(_config("{path-link: warning}"))
    result = run_cardbook(["check"], tmp_path)
    assert (
        "docs/how-to/a.md:5: warning: wiki-link [[reference/ports]] names a folder: write [[ports]] "
        "[path-link]"
        in result.stdout.splitlines()
    )


def _runbook_pages() -> dict[str, str]:
    return {
        "docs/index.md": "# Home\n\n[[how-to]] and [Reference](reference/reference.md)\n",
        "docs/how-to/how-to.md": "# How-to\n\n- [[deploy]]\n",
        "docs/how-to/deploy.md": card(title="Deploy", status="active", requires=["prepare"]),
        "docs/how-to/prepare.md": card(title="Prepare"),  # reached: a card requires it
        "docs/how-to/forgotten.md": "---\ntitle: Forgotten\n---\n# Forgotten\n",
        "docs/reference/reference.md": "# Reference\n\n[Ports](ports.md)\n",
        "docs/reference/ports.md": "# Ports\n",
        "docs/reference/listed.md": "# Listed only in nav\n",
    }


def test_orphan_pages_are_found_when_the_rule_is_on(tmp_path: Path) -> None:
    write_tree(tmp_path, {"mkdocs.yml": _config(), **_runbook_pages()})
    assert "orphan" not in run_cardbook(["check"], tmp_path).stdout  # off by default
    (tmp_path / "mkdocs.yml").write_text(_config("{orphan-page: warning}"))
    found = [
        line for line in run_cardbook(["check"], tmp_path).stdout.splitlines() if "[orphan-page]" in line
    ]
    assert found == [
        "docs/how-to/forgotten.md:1: warning: orphan page: no page links to it; link it from its section "
        "[orphan-page]",
        "docs/reference/listed.md:1: warning: orphan page: no page links to it; link it from its section "
        "[orphan-page]",
    ]
    nav = "nav:\n  - index.md\n  - Reference:\n      - reference/listed.md\n      - https://example.org/x.md\n"
    (tmp_path / "mkdocs.yml").write_text(_config("{orphan-page: warning}", extra=nav))
    with_nav = run_cardbook(["check"], tmp_path).stdout
    assert "docs/reference/listed.md" not in with_nav
    assert (
        "docs/how-to/forgotten.md:1: warning: orphan page: no page links to it and no nav entry lists it"
        in (with_nav)
    )


def _git(root: Path, *args: str, date: str = "") -> None:
    env = {"GIT_COMMITTER_DATE": date, "GIT_AUTHOR_DATE": date} if date else {}
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
        cwd=root,
        check=True,
        capture_output=True,
        env={"PATH": "/usr/bin:/bin", "HOME": str(root), **env},
    )


def test_modified_stale_compares_the_date_with_the_last_commit(tmp_path: Path) -> None:
    project = tmp_path / "repo" / "runbook"  # a runbook in a folder of its repository
    write_tree(
        project,
        {
            "mkdocs.yml": _config("{modified-stale: warning}"),
            "docs/how-to/a.md": card(title="A", modified="2026-01-01"),
            "docs/how-to/b.md": card(title="B", modified="2026-03-01"),
            "docs/reference/c.md": "---\ntitle: C\nmodified: 2026-01-01\n---\n# C\n",
        },
    )
    outside = run_cardbook(["check"], project)
    assert "mkdocs.yml:5: warning: rule modified-stale needs git" in outside.stdout
    _git(tmp_path / "repo", "init", "-q")
    _git(tmp_path / "repo", "add", ".")
    _git(tmp_path / "repo", "commit", "-qm", "first", date="2026-01-02T12:00:00+00:00")
    (project / "docs/how-to/a.md").write_text(card(title="A", modified="2026-01-01", body="Changed.\n"))
    (project / "docs/reference/c.md").write_text("---\ntitle: C\nmodified: 2026-01-01\n---\n# C, changed\n")
    _git(tmp_path / "repo", "commit", "-qam", "second", date="2026-03-05T12:00:00+00:00")
    result = run_cardbook(["check"], project)
    stale = [line for line in result.stdout.splitlines() if "[modified-stale]" in line]
    assert stale == [
        "docs/how-to/a.md:3: warning: modified: 2026-01-01, but the page was last committed on 2026-03-05: "
        "set `modified` to the date of the change [modified-stale]",
        "docs/reference/c.md:3: warning: modified: 2026-01-01, but the page was last committed on "
        "2026-03-05: "
        "set `modified` to the date of the change [modified-stale]",
    ]


def test_check_warns_where_the_configured_extensions_show_a_callout_as_text(tmp_path: Path) -> None:
    page = "---\ntitle: Notes\n---\n# Notes\n\n> [!warning]- Careful\n> Back up first.\n"
    write_tree(
        tmp_path, {"mkdocs.yml": _config(), "docs/how-to/a.md": card(title="A"), "docs/notes.md": page}
    )
    result = run_cardbook(["check"], tmp_path)
    assert (
        "docs/notes.md:6: warning: callout [!warning]- is shown as raw text: add "
        "`pymdownx.quotes: {callouts: true}` to markdown_extensions [unrendered-callout]"
    ) in result.stdout.splitlines()
    quotes = "markdown_extensions:\n  - pymdownx.quotes:\n      callouts: true\n"
    (tmp_path / "mkdocs.yml").write_text(_config(extra=quotes))
    assert "[unrendered-callout]" not in run_cardbook(["check"], tmp_path).stdout
    (tmp_path / "mkdocs.yml").write_text(_config("{unrendered-callout: off}"))
    assert "[unrendered-callout]" not in run_cardbook(["check"], tmp_path).stdout


@pytest.mark.parametrize("value", ["mkdocs.yml", "nix", "README.md"])
def test_an_aggregator_outside_the_output_roots_is_a_configuration_error(tmp_path: Path, value: str) -> None:
    """Outside probe: it was exit status 1 at mkdocs.yml:1, and a plain mkdocs build passed."""
    config = f"site_name: t\nplugins:\n  - cardbook:\n      aggregator: {value}\n"
    built = card(title="A", extra="build: nix/a.nix")
    write_tree(tmp_path, {"mkdocs.yml": config, "docs/how-to/a.md": built})
    result = run_cardbook(["check"], tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith(f"mkdocs.yml:4: error: aggregator '{value}' is not a file inside")


def test_yaml_booleans_in_rules_and_statuses_are_named(tmp_path: Path) -> None:
    """Outside probe: `yes` read as True was shown as True; `no:` as a status key as False."""
    write_tree(tmp_path, {"mkdocs.yml": _config("{lone-card: yes}"), "docs/how-to/a.md": card(title="A")})
    result = run_cardbook(["check"], tmp_path)
    assert result.returncode == 2 and "lone-card: YAML reads this value as true" in result.stderr
    for statuses, message in (
        ("{no: closed}", "the key False is not text: quote it"),
        ("{'': closed, ~: open}", "'' and ~ both declare the empty status"),
    ):
        config = f"site_name: t\nplugins:\n  - cardbook:\n      statuses: {statuses}\n"
        (tmp_path / "mkdocs.yml").write_text(config)
        refused = run_cardbook(["check"], tmp_path)
        assert refused.returncode == 2 and message in refused.stderr, refused.stderr


def test_an_empty_string_status_is_the_empty_status(tmp_path: Path) -> None:
    write_tree(tmp_path, {"mkdocs.yml": _config(), "docs/how-to/a.md": card(title="A", status='""')})
    assert "[empty-status]" in run_cardbook(["check"], tmp_path).stdout
