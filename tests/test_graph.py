"""The dependency graph: the rules CI enforces, the Mikado views and the renderings."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from pathlib import Path

import pytest

from cardbook.cli import views
from cardbook.core import graph as graphs
from cardbook.core.settings import load_settings
from cardbook.pipeline import CheckResult, load_and_check
from helpers import card, check_problems, run_cardbook, write_tree


def how_to(**cards: str) -> dict[str, str | bytes]:
    return {f"docs/how-to/{stem.replace('_', '-')}.md": text for stem, text in cards.items()}


def checked(root: Path, today: dt.date, files: dict[str, str | bytes]) -> CheckResult:
    write_tree(root, files)
    return load_and_check(load_settings(cwd=root), today=today)


def problems_of(root: Path, today: dt.date, files: dict[str, str | bytes]) -> list[str]:
    write_tree(root, files)
    return check_problems(root, today=today)


# cycles ----------------------------------------------------------------------------------


def test_a_cycle_is_printed_as_its_full_path(tmp_path: Path, today: dt.date) -> None:
    files = how_to(a=card(requires=["c"]), c=card(requires=["b"]), b=card(requires=["a"]))
    assert problems_of(tmp_path, today, files) == [
        "docs/how-to/a.md:4: error: dependency cycle: a -> c -> b -> a [cycle]"
    ]


@pytest.mark.parametrize("order", list(itertools.permutations(["x", "m", "b"])))
def test_cycle_output_does_not_depend_on_file_creation_order(
    tmp_path: Path, today: dt.date, order: tuple[str, ...]
) -> None:
    texts = {"x": card(requires=["m"]), "m": card(requires=["b"]), "b": card(requires=["x"])}
    for stem in order:  # one file at a time, in this order
        write_tree(tmp_path, {f"docs/how-to/{stem}.md": texts[stem]})
    assert check_problems(tmp_path, today=today) == [
        "docs/how-to/b.md:4: error: dependency cycle: b -> x -> m -> b [cycle]"
    ]


def test_cycles_across_directories_start_at_the_smallest_stem(tmp_path: Path, today: dt.date) -> None:
    files = {
        "docs/how-to/z/alpha.md": card(extra="requires:\n  - beta\n"),
        "docs/how-to/a/beta.md": card(requires=["gamma"]),
        "docs/how-to/gamma.md": card(requires=["z/alpha.md"]),
    }
    assert problems_of(tmp_path, today, files) == [
        "docs/how-to/z/alpha.md:5: error: dependency cycle: alpha -> beta -> gamma -> alpha [cycle]"
    ]


def test_two_cycles_are_both_reported(tmp_path: Path, today: dt.date) -> None:
    files = how_to(
        a=card(requires=["b"]),
        b=card(requires=["a"]),
        c=card(requires=["d"]),
        d=card(requires=["e"]),
        e=card(requires=["c"]),
    )
    result = checked(tmp_path, today, files)
    assert [p.format() for p in result.problems] == [
        "docs/how-to/a.md:4: error: dependency cycle: a -> b -> a [cycle]",
        "docs/how-to/c.md:4: error: dependency cycle: c -> d -> e -> c [cycle]",
    ]
    assert sorted(result.graph.cycles) == [["a", "b"], ["c", "d", "e"]]


def test_cycles_sharing_a_card(tmp_path: Path, today: dt.date) -> None:
    files = how_to(hub=card(requires=["p", "q"]), p=card(requires=["hub"]), q=card(requires=["hub"]))
    assert problems_of(tmp_path, today, files) == [
        "docs/how-to/hub.md:4: error: dependency cycle: hub -> p -> hub [cycle]",
        "docs/how-to/hub.md:4: error: dependency cycle: hub -> q -> hub [cycle]",
    ]


def test_many_cycles_are_capped(tmp_path: Path, today: dt.date) -> None:
    files: dict[str, str | bytes] = {}
    for index in range(graphs.MAX_CYCLES_REPORTED + 20):
        files[f"docs/how-to/p{index:03}.md"] = card(requires=[f"q{index:03}"])
        files[f"docs/how-to/q{index:03}.md"] = card(requires=[f"p{index:03}"])
    result = checked(tmp_path, today, files)
    assert len(result.graph.cycles) == graphs.MAX_CYCLES_REPORTED
    assert len(result.problems) == graphs.MAX_CYCLES_REPORTED


def test_self_requirement(tmp_path: Path, today: dt.date) -> None:
    files = how_to(a=card(requires=["b", "a.md"]), b=card())
    result = checked(tmp_path, today, files)
    assert [p.format() for p in result.problems] == ["docs/how-to/a.md:4: error: a requires itself [cycle]"]
    assert result.graph.cycles == []
    assert result.graph.requires["a"] == ["b"]


# the Mikado invariant --------------------------------------------------------------------


def test_a_closed_card_requiring_an_open_card(tmp_path: Path, today: dt.date) -> None:
    files = how_to(
        a=card(status="active", requires=["b", "c"]),
        b=card(requires=["c"]),
        c=card(status="active"),
        d=card(status="done", requires=["c"]),
    )
    assert problems_of(tmp_path, today, files) == [
        "docs/how-to/a.md:5: info: requires 'c', which is already required through 'b' [redundant-requires]",
        "docs/how-to/b.md:4: error: done card requires 'c', which is still open (active): "
        "its prerequisites are not satisfied [unfinished-prerequisite]",
        "docs/how-to/d.md:5: error: done card requires 'c', which is still open (active): "
        "its prerequisites are not satisfied [unfinished-prerequisite]",
    ]


def test_the_invariant_with_a_custom_vocabulary(tmp_path: Path, today: dt.date) -> None:
    config = "site_name: t\nplugins:\n  - cardbook:\n      statuses: {doing: open, shipped: closed}\n"
    files = {"mkdocs.yml": config, **how_to(a=card(status="shipped", requires=["b"]), b=card(status="doing"))}
    assert problems_of(tmp_path, today, files) == [
        "docs/how-to/a.md:5: error: shipped card requires 'b', which is still open (doing): "
        "its prerequisites are not satisfied [unfinished-prerequisite]"
    ]


def test_open_cards_may_require_open_or_closed_cards(tmp_path: Path, today: dt.date) -> None:
    files = how_to(
        a=card(status="active", requires=["b", "c"]),
        b=card(status="active"),
        c=card(),
        d=card(requires=["c"]),
    )
    assert problems_of(tmp_path, today, files) == []


def test_a_refused_status_is_not_taken_for_closed(tmp_path: Path, today: dt.date) -> None:
    files = how_to(
        a=card(status="wip", requires=["c"]),
        b=card(status="", requires=["c"]),
        c=card(status="active"),
    )
    assert problems_of(tmp_path, today, files) == [
        "docs/how-to/a.md:4: error: unknown status 'wip': allowed are active, done [bad-value]",
        "docs/how-to/b.md:4: error: empty 'status': write one of active, done, "
        "or remove the key to mark the card done [empty-status]",
    ]


# warnings --------------------------------------------------------------------------------


def test_a_transitively_redundant_edge(tmp_path: Path, today: dt.date) -> None:
    files = how_to(
        a=card(extra="requires:\n  - d\n  - b\n"),
        b=card(requires=["c"]),
        c=card(requires=["d"]),
        d=card(),
    )
    assert problems_of(tmp_path, today, files) == [
        "docs/how-to/a.md:5: info: requires 'd', which is already required through 'b' [redundant-requires]"
    ]


def test_a_requires_written_twice(tmp_path: Path, today: dt.date) -> None:
    files = how_to(a=card(extra="requires:\n  - b\n  - sub/b.md\n"), **{"sub/b": card()})
    assert problems_of(tmp_path, today, files) == [
        "docs/how-to/a.md:6: warning: requires 'b' twice [duplicate-requires]"
    ]


def test_an_open_orphan(tmp_path: Path, today: dt.date) -> None:
    files = how_to(lonely=card(status="active"), closed=card(), done=card(status="done"))
    assert problems_of(tmp_path, today, files) == [
        "docs/how-to/lonely.md:4: info: open card is required by nothing and requires nothing [lone-card]"
    ]


def test_open_cards_with_edges_are_not_orphans(tmp_path: Path, today: dt.date) -> None:
    files = how_to(
        goal=card(status="active", requires=["leaf"]),
        leaf=card(status="active"),
        user=card(status="active", requires=["base"]),
        base=card(),
    )
    assert problems_of(tmp_path, today, files) == []


# views -----------------------------------------------------------------------------------


def mikado() -> dict[str, str | bytes]:
    return how_to(
        deploy=card(title="Deploy", status="active", requires=["config", "secrets"]),
        config=card(title="Config", status="active", requires=["nix-setup"]),
        secrets=card(title="Secrets", status="active", requires=["nix-setup"]),
        nix_setup=card(title="Nix setup", requires=["base"]),
        base=card(title="Base", status="done"),
        other_goal=card(title="Other goal", status="active", requires=["secrets"]),
        archived=card(title="Archived", requires=["base"]),
    )


def test_goals_leaves_and_chains(tmp_path: Path, today: dt.date) -> None:
    result = checked(tmp_path, today, mikado())
    assert result.problems == []
    graph = result.graph
    assert graph.goals() == ["deploy", "other-goal"]
    assert graph.leaves() == ["config", "secrets"]
    assert graph.chain("deploy") == [
        (0, "deploy", False),
        (1, "config", False),
        (2, "nix-setup", False),
        (3, "base", False),
        (1, "secrets", False),
        (2, "nix-setup", True),
    ]
    assert graph.chain("other-goal") == [
        (0, "other-goal", False),
        (1, "secrets", False),
        (2, "nix-setup", False),
        (3, "base", False),
    ]
    assert graph.required_by["nix-setup"] == ["config", "secrets"]
    assert graph.depends_on("deploy", "base")
    assert not graph.depends_on("base", "deploy")
    assert graph.ordered("base", "deploy")
    assert not graph.ordered("config", "secrets")
    assert graph.neighbourhood("config", depth=1) == {"config": 0, "deploy": 1, "nix-setup": -1}
    position = {stem: index for index, stem in enumerate(graph.order)}
    for stem, needs in graph.requires.items():
        assert all(position[need] < position[stem] for need in needs)


def test_next_report(tmp_path: Path, today: dt.date) -> None:
    result = checked(tmp_path, today, mikado())
    assert views.next_report(result.graph) == (
        "Goals (2):\n"
        "  [ ] deploy: Deploy (active)\n"
        "  [ ] other-goal: Other goal (active)\n"
        "\n"
        "Leaves, ready to work on (2):\n"
        "  [ ] config: Config (active)\n"
        "  [ ] secrets: Secrets (active)\n"
        "\n"
        "Chain of deploy:\n"
        "  [ ] deploy: Deploy (active)\n"
        "      [ ] config: Config (active)\n"
        "          [x] nix-setup: Nix setup (done)\n"
        "              [x] base: Base (done)\n"
        "      [ ] secrets: Secrets (active)\n"
        "          [x] nix-setup: Nix setup (done) (see above)\n"
        "\n"
        "Chain of other-goal:\n"
        "  [ ] other-goal: Other goal (active)\n"
        "      [ ] secrets: Secrets (active) (see above)\n"  # each card once in all the chains
    )


def test_next_report_without_open_cards(tmp_path: Path, today: dt.date) -> None:
    result = checked(tmp_path, today, how_to(a=card()))
    assert views.next_report(result.graph) == (
        "Goals (0):\n  none\n\nLeaves, ready to work on (0):\n  none\n"
    )


def test_a_chain_through_a_cycle_terminates(tmp_path: Path, today: dt.date) -> None:
    files = how_to(
        goal=card(status="active", requires=["a"]),
        a=card(status="active", requires=["b"]),
        b=card(status="active", requires=["a"]),
    )
    result = checked(tmp_path, today, files)
    assert result.graph.goals() == ["goal"]
    assert result.graph.leaves() == []
    assert result.graph.chain("goal") == [
        (0, "goal", False),
        (1, "a", False),
        (2, "b", False),
        (3, "a", True),
    ]


# renderings ------------------------------------------------------------------------------


def small() -> dict[str, str | bytes]:
    return how_to(
        a=card(title="'Use \"nix\"'", status="active", requires=["b"], tags=["t"]), b=card(title="B")
    )


def test_mermaid(tmp_path: Path, today: dt.date) -> None:
    assert views.to_mermaid(checked(tmp_path, today, small()).graph) == (
        "flowchart LR\n"
        '  c0["Use #quot;nix#quot;"]:::open\n'
        '  c1["B"]:::closed\n'
        "  c0 --> c1\n"
        "  classDef open fill:#fff3cd,stroke:#b58900\n"
        "  classDef closed fill:#d4edda,stroke:#2e7d32\n"
    )


def test_dot(tmp_path: Path, today: dt.date) -> None:
    """`cardbook graph --format dot` goes through the site's one DOT writer; `a -> b`: a requires b."""
    graph = checked(tmp_path, today, small()).graph
    assert views.graph_dot(graph).splitlines()[4:] == [
        '  "a" [label="Use \\"nix\\"", tooltip="a (active)", class="cardbook-node status-active open"];',
        '  "b" [label="B", tooltip="b (done)", class="cardbook-node status-done closed"];',
        '  "a" -> "b";',
        "}",
    ]


def test_json(tmp_path: Path, today: dt.date) -> None:
    assert json.loads(views.to_json(checked(tmp_path, today, small()).graph)) == {
        "cards": [
            {
                "id": "a",
                "title": 'Use "nix"',
                "path": "docs/how-to/a.md",
                "status": "active",
                "open": True,
                "tags": ["t"],
                "requires": ["b"],
                "required_by": [],
            },
            {
                "id": "b",
                "title": "B",
                "path": "docs/how-to/b.md",
                "status": None,
                "open": False,
                "tags": [],
                "requires": [],
                "required_by": ["a"],
            },
        ],
        "goals": ["a"],
        "leaves": ["a"],
        "cycles": [],
    }


def test_a_chain_thousands_of_cards_deep_is_printed(tmp_path: Path) -> None:
    """`cardbook next` walks chains without recursion: real runbooks never get this deep,
    but a generated one must not crash the tool."""
    files = {"docs/how-to/c0.md": card(title="C0", status="active")}
    for index in range(1, 3000):
        files[f"docs/how-to/c{index}.md"] = card(
            title=f"C{index}", status="active", requires=[f"c{index - 1}"]
        )
    write_tree(tmp_path, files)
    result = run_cardbook(["next"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    # Indentation stops at 12 levels and the depth is written instead (issue 14: 3000 levels of
    # indentation times 50 goals printed 905 MB).
    assert result.stdout.splitlines()[-1] == "  " + "    " * 12 + "[2999] [ ] c0: C0 (active)"
    assert max(len(line) for line in result.stdout.splitlines()) < 120
