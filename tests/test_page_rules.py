"""Issue 15: rules on every page of the docs tree, card or not, in `cardbook check`."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from helpers import card, run_cardbook, write_tree

CONFIG = "site_name: t\nplugins: [search, cardbook]\n"
# The runbook-shaped tree is written in Obsidian: its callouts need the extension that renders them.
CALLOUTS = "markdown_extensions:\n  - pymdownx.quotes:\n      callouts: true\n"


def test_wiki_links_are_checked_on_every_page(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "mkdocs.yml": CONFIG,
            "docs/index.md": "# Home\n\n[[how-to]] [[deploy]] [[reference/ports]] [[how-to/ports]]\n",
            "docs/how-to/how-to.md": "# How-to\n\n- [[deploy|Deploy]]\n- [[deploy#Steps]]\n- [[ deploy ]]\n",
            "docs/how-to/deploy.md": card(title="Deploy", body="See [[portz]] and `[[nowhere]]`.\n"),
            "docs/reference/ports.md": "# Ports\n\n```\n[[in-a-fence]]\n```\n\n[[CHANGELOG]] and [[ghost]]\n",
        },
    )
    result = run_cardbook(["check"], tmp_path)
    assert result.stdout.splitlines() == [
        "docs/how-to/deploy.md:5: warning: wiki-link [[portz]] matches no page (did you mean 'ports'?) "
        "[broken-link]",
        # the page exists, the heading does not (found by a re-check of an outside probe's findings)
        "docs/how-to/how-to.md:4: warning: wiki-link [[deploy#Steps]] names no heading of "
        "docs/how-to/deploy.md [broken-link]",
        "docs/how-to/how-to.md:5: warning: wiki-link [[ deploy ]] has spaces inside the brackets: write "
        "[[deploy]] (some tools do not resolve it) [link-spaces]",
        "docs/index.md:3: warning: wiki-link [[how-to/ports]] names a folder the page is not in (it is "
        "docs/reference/ports.md) [link-folder]",
        "docs/reference/ports.md:7: warning: wiki-link [[CHANGELOG]] matches no page [broken-link]",
        "docs/reference/ports.md:7: warning: wiki-link [[ghost]] matches no page [broken-link]",
        "0 cards checked: 0 errors, 6 warnings",
    ]
    assert result.returncode == 0
    assert run_cardbook(["check", "--strict"], tmp_path).returncode == 1
    # a target that lives outside the site
    (tmp_path / "mkdocs.yml").write_text(
        "site_name: t\nplugins:\n  - search\n  - cardbook:\n      links: {ignore: [CHANGELOG]}\n"
    )
    ignored = run_cardbook(["check"], tmp_path)
    assert not any("[[CHANGELOG]]" in line for line in ignored.stdout.splitlines())


def test_the_runbook_shaped_fixture_checks_clean(tmp_path: Path) -> None:
    """Every wiki-link of the real-runbook-shaped tree resolves (its README says so)."""
    shutil.copytree(Path(__file__).parent / "fixtures/runbook-shaped/docs", tmp_path / "docs")
    (tmp_path / "mkdocs.yml").write_text(CALLOUTS + CONFIG)
    result = run_cardbook(["check"], tmp_path)
    assert result.returncode == 0, result.stdout
    facts = json.loads((Path(__file__).parent / "fixtures/runbook-shaped/facts.json").read_text())
    spaced = facts["wikilinks_by_form_written"]["spaced"]
    warned = [line for line in result.stdout.splitlines() if ": warning: " in line]
    # every link resolves; the two written with spaces are the only warnings
    assert sorted(line.split("wiki-link ")[1].split(" has spaces")[0] for line in warned) == sorted(spaced)


def _shaped(tmp_path: Path, options: str = "") -> Path:
    shutil.copytree(Path(__file__).parent / "fixtures/runbook-shaped/docs", tmp_path / "docs")
    plugin = "  - cardbook:\n" + options if options else "  - cardbook\n"
    (tmp_path / "mkdocs.yml").write_text("site_name: t\n" + CALLOUTS + "plugins:\n  - search\n" + plugin)
    return tmp_path


def test_with_cards_marked_only_the_chain_is_cards(tmp_path: Path) -> None:
    """Evergreen how-tos and section indexes are pages; the six cards of the open chain are
    cards (four with status, two done ones because a card requires them)."""
    facts = json.loads((Path(__file__).parent / "fixtures/runbook-shaped/facts.json").read_text())
    root = _shaped(tmp_path, "      cards: marked\n")
    result = run_cardbook(["check"], root)
    assert result.stdout.splitlines()[-1] == "6 cards checked: 0 errors, 2 warnings"
    graph = json.loads(run_cardbook(["graph", "--format", "json"], root).stdout)
    stems = sorted(node["id"] for node in graph["cards"])
    assert stems == sorted(facts["chain"])
    ready = run_cardbook(["next"], root).stdout
    for stem in facts["ready"]:
        assert f"  [ ] {stem}: " in ready.split("Leaves, ready to work on")[1].split("\n\n")[0]
    # the old behaviour, on request: every page under the card roots is a card
    every = run_cardbook(["check"], _shaped(tmp_path / "all", "      cards: all\n"))
    assert every.stdout.splitlines()[-1].startswith(f"{facts['howtos']} cards checked")  # no section index


def test_a_chain_stripped_of_its_frontmatter_leaves_no_cards(tmp_path: Path) -> None:
    """After the chain closes the team strips status and requires: no card is left, nothing
    is an error, and the pages still check their links."""
    sys.path.insert(0, str(Path(__file__).parent / "fixtures/runbook-shaped"))
    from strip import strip_chain

    root = _shaped(tmp_path, "      cards: marked\n")
    for path in (root / "docs").rglob("*.md"):
        path.write_text(strip_chain(path.read_text()))
    result = run_cardbook(["check"], root)
    assert result.returncode == 0, result.stdout
    assert result.stdout.splitlines()[-1] == "0 cards checked: 0 errors, 2 warnings"


def test_required_frontmatter_per_folder_and_card_only_keys(tmp_path: Path) -> None:
    config = (
        "site_name: t\nplugins:\n  - search\n  - cardbook:\n      cards: marked\n"
        "      frontmatter:\n"
        "        required: {'*': [title, modified], how-to: [tags]}\n"
    )
    write_tree(
        tmp_path,
        {
            "mkdocs.yml": config,
            "docs/index.md": "---\ntitle: Home\nmodified: 2026-01-01\n---\n# Home\n",
            "docs/how-to/how-to.md": "---\ntitle: How-to\nmodified: 2026-01-01\ntags: [how-to]\n---\n",
            "docs/how-to/evergreen.md": "---\ntitle: Rotate logs\nmodified: 2026-01-01\n---\nSteps.\n",
            "docs/how-to/chain.md": card(title="Chain", status="active", tags=["how-to"]),
            "docs/reference/ports.md": "# Ports\n",
            "docs/reference/dns.md": "---\ntitle: DNS\nmodified: 2026-01-01\nstatus: active\n---\n",
        },
    )
    result = run_cardbook(["check"], tmp_path)
    assert result.stdout.splitlines() == [
        "docs/how-to/chain.md:4: info: open card is required by nothing and requires nothing [lone-card]",
        "docs/how-to/evergreen.md:1: error: missing key 'tags', required on this page (its frontmatter) "
        "[required-key]",
        "docs/reference/dns.md:4: warning: 'status' means something only on a card, and this page is "
        "outside the card roots: it is ignored here [card-only-key]",
        "docs/reference/ports.md:1: error: missing key 'modified', required on this page (it has no "
        "frontmatter) [required-key]",
        "docs/reference/ports.md:1: error: missing key 'title', required on this page (it has no "
        "frontmatter) [required-key]",
        "1 card checked: 3 errors, 1 warning, 1 info",
    ]
    assert result.returncode == 1


def test_a_bad_frontmatter_option_is_a_configuration_error(tmp_path: Path) -> None:
    config = "site_name: t\nplugins:\n  - cardbook:\n      frontmatter: {required: [title]}\n"
    write_tree(tmp_path, {"mkdocs.yml": config, "docs/how-to/a.md": card(title="A")})
    result = run_cardbook(["check"], tmp_path)
    assert (result.returncode, result.stderr) == (
        2,
        'mkdocs.yml:4: error: plugin cardbook: frontmatter: required must map a folder (or "*") to a '
        "list of keys [config]\n",
    )


def test_every_page_of_a_section_is_linked_from_its_index_when_asked(tmp_path: Path) -> None:
    files = {
        "mkdocs.yml": "site_name: t\nplugins:\n  - search\n  - cardbook:\n"
        "      rules: {index-links: warning}\n",
        "docs/index.md": "# Home\n\n[[how-to]] and [Zot](how-to/zot/zot.md)\n",
        "docs/how-to/how-to.md": "# How-to\n\n- [[listed]]\n- [Also listed](also.md#steps)\n",
        "docs/how-to/listed.md": card(title="Listed"),
        "docs/how-to/also.md": card(title="Also"),
        "docs/how-to/forgotten.md": card(title="Forgotten"),
        "docs/how-to/zot/zot.md": "# Zot\n\n`[[zot-push]]` in code is no link\n",
        "docs/how-to/zot/zot-push.md": card(title="Push"),
        "docs/reference/ports.md": "# Ports\n",  # a folder without an index page: no rule
    }
    write_tree(tmp_path, files)
    result = run_cardbook(["check"], tmp_path)
    assert [line for line in result.stdout.splitlines() if "index page" in line] == [
        "docs/how-to/forgotten.md:1: warning: not linked from its section's index page "
        "docs/how-to/how-to.md: add [[forgotten]] there [index-links]",
        "docs/how-to/zot/zot-push.md:1: warning: not linked from its section's index page "
        "docs/how-to/zot/zot.md: add [[zot-push]] there [index-links]",
    ]
    # off by default
    (tmp_path / "mkdocs.yml").write_text("site_name: t\nplugins: [search, cardbook]\n")
    assert "index page" not in run_cardbook(["check"], tmp_path).stdout
