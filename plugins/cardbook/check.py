"""Everything `cardbook check` verifies, as one pure-ish function over the settings."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from .cards import Runbook, load_runbook
from .config import Settings
from .graph import Graph, build_graph
from .problems import Problem, sort_problems


@dataclass
class CheckResult:
    runbook: Runbook
    graph: Graph
    problems: list[Problem]

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]


def load_and_check(settings: Settings, *, today: dt.date | None = None) -> CheckResult:
    """Read the cards and apply every graph rule; problems come back sorted."""
    runbook = load_runbook(settings, today=today)
    graph, graph_problems = build_graph(runbook.cards)
    return CheckResult(runbook, graph, sort_problems([*runbook.problems, *graph_problems]))
