"""Everything `cardbook check` verifies, as one function over the settings."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from .cards import Runbook, load_runbook
from .config import Settings
from .graph import Graph, build_graph
from .layout import fence_extension_problems, layout_problems, no_cards_problems, raise_first
from .problems import Problem, sort_problems
from .tangle import TangleResult, tangle


@dataclass
class CheckResult:
    runbook: Runbook
    graph: Graph
    tangled: TangleResult
    problems: list[Problem]
    # (path, unified diff) between each drifted file on disk and what the cards produce
    diffs: list[tuple[str, str]] = field(default_factory=list)

    @property
    def diff(self) -> str:
        return "".join(diff for _, diff in self.diffs)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]


def load_and_check(
    settings: Settings, *, today: dt.date | None = None, drift: bool = False, layout: bool = False
) -> CheckResult:
    """Read the cards, apply every graph rule and tangle in memory; problems come back sorted.

    With `drift`, the files on disk are compared with what the cards produce. With `layout`
    (the command line and the site), the project's layout is checked first, and a setup that
    makes the cards unreadable or unrenderable raises ConfigError before anything is written.
    """
    if layout:
        raise_first(layout_problems(settings))
    runbook = load_runbook(settings, today=today)
    graph, graph_problems = build_graph(runbook.cards)
    tangled = tangle(runbook, graph)
    if layout:
        needs_fences = any(
            "{" in fence.info for fences in tangled.fences.values() for fence in fences
        )
        raise_first(fence_extension_problems(settings, needs_fences))
        if not runbook.cards:
            raise_first(no_cards_problems(settings))
    problems = [*runbook.problems, *graph_problems, *tangled.problems]
    result = CheckResult(runbook, graph, tangled, [])
    from .nixrun import graph_truth  # static: reads the tangled text, runs no Nix

    problems.extend(graph_truth(result))
    if drift:
        from .output import drift as find_drift

        drift_problems, result.diffs = find_drift(settings, tangled)
        problems.extend(drift_problems)
    result.problems = sort_problems(problems)
    return result
