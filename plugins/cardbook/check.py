"""Everything `cardbook check` verifies, as one function over the settings."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from .cards import Runbook, load_runbook
from .config import Settings
from .graph import Graph, build_graph
from .problems import Problem, sort_problems
from .tangle import TangleResult, tangle


@dataclass
class CheckResult:
    runbook: Runbook
    graph: Graph
    tangled: TangleResult
    problems: list[Problem]
    diff: str = ""  # unified diff between the committed files and the cards, when they drifted

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]


def load_and_check(settings: Settings, *, today: dt.date | None = None, drift: bool = False) -> CheckResult:
    """Read the cards, apply every graph rule and tangle in memory; problems come back sorted.

    With `drift`, the files on disk are compared with what the cards produce.
    """
    runbook = load_runbook(settings, today=today)
    graph, graph_problems = build_graph(runbook.cards)
    tangled = tangle(runbook, graph)
    problems = [*runbook.problems, *graph_problems, *tangled.problems]
    result = CheckResult(runbook, graph, tangled, [])
    from .nixrun import graph_truth  # static: reads the tangled text, runs no Nix

    problems.extend(graph_truth(result))
    diff = ""
    if drift:
        from .output import drift as find_drift

        drift_problems, diff = find_drift(settings, tangled)
        problems.extend(drift_problems)
    result.problems = sort_problems(problems)
    result.diff = diff
    return result
