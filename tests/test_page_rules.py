"""Issue 15: rules on every page of the docs tree, card or not, in `cardbook check`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from helpers import card, run_cardbook, write_tree

CONFIG = "site_name: t\nplugins: [search, cardbook]\n"


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
        "docs/how-to/deploy.md:5: warning: wiki-link [[portz]] matches no page (did you mean 'ports'?)",
        "docs/how-to/how-to.md:5: warning: wiki-link [[ deploy ]] has spaces inside the brackets: write "
        "[[deploy]] (some tools do not resolve it)",
        "docs/index.md:3: warning: wiki-link [[how-to/ports]] names a folder the page is not in (it is "
        "docs/reference/ports.md)",
        "docs/reference/ports.md:7: warning: wiki-link [[CHANGELOG]] matches no page",
        "docs/reference/ports.md:7: warning: wiki-link [[ghost]] matches no page",
        "1 card checked: 0 errors, 5 warnings",
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
    (tmp_path / "mkdocs.yml").write_text(CONFIG)
    result = run_cardbook(["check"], tmp_path)
    assert result.returncode == 0, result.stdout
    facts = json.loads((Path(__file__).parent / "fixtures/runbook-shaped/facts.json").read_text())
    spaced = facts["wikilinks_by_form_written"]["spaced"]
    warned = [line for line in result.stdout.splitlines() if ": warning: " in line]
    # every link resolves; the two written with spaces are the only warnings
    assert sorted(line.split("wiki-link ")[1].split(" has spaces")[0] for line in warned) == sorted(spaced)
