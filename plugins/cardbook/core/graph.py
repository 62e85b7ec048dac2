"""The cards' dependency graph: validation rules, Mikado views and renderings.

An edge `a -> b` means card a requires card b. Ordering and cycle detection use the
standard library's graphlib.
"""

from __future__ import annotations

import graphlib
import json
from dataclasses import dataclass, field

from .cards import Card, Requirement
from .problems import Problem, error, warning

MAX_CYCLES_REPORTED = 100


@dataclass
class Graph:
    cards: dict[str, Card]
    requires: dict[str, list[str]]  # stem -> stems it requires (valid edges only)
    required_by: dict[str, list[str]]
    order: list[str]  # prerequisites first; cards caught in cycles come last
    cycles: list[list[str]] = field(default_factory=list)
    # bitset of every card reachable from a card, for transitive questions
    _reach: dict[str, int] = field(default_factory=dict, repr=False)
    _bit: dict[str, int] = field(default_factory=dict, repr=False)

    def depends_on(self, card: str, other: str) -> bool:
        """True when `card` requires `other` directly or transitively."""
        reach = self._reach.get(card)
        return reach is not None and other in self._bit and bool(reach >> self._bit[other] & 1)

    def ordered_before(self, card: str, other: str) -> bool:
        """True when `other` is `card` itself or one of its prerequisites."""
        return card == other or self.depends_on(card, other)

    def ordered(self, a: str, b: str) -> bool:
        return a == b or self.depends_on(a, b) or self.depends_on(b, a)

    def goals(self) -> list[str]:
        """Open cards that no open card requires."""
        return [
            stem
            for stem in sorted(self.cards)
            if self.cards[stem].is_open
            and not any(self.cards[user].is_open for user in self.required_by[stem])
        ]

    def leaves(self) -> list[str]:
        """Open cards whose prerequisites are all closed: work here next."""
        return [
            stem
            for stem in sorted(self.cards)
            if self.cards[stem].is_open and not any(self.cards[need].is_open for need in self.requires[stem])
        ]

    def chain(self, goal: str) -> list[tuple[int, str, bool]]:
        """The goal's prerequisite tree as (depth, stem, already_shown) rows, depth first.

        An explicit stack: requires chains can be thousands of cards deep."""
        rows: list[tuple[int, str, bool]] = []
        shown: set[str] = set()
        stack = [(goal, 0)]
        while stack:
            stem, depth = stack.pop()
            repeat = stem in shown
            rows.append((depth, stem, repeat))
            if repeat:
                continue
            shown.add(stem)
            stack.extend((need, depth + 1) for need in reversed(self.requires[stem]))
        return rows

    def neighbourhood(self, stem: str, depth: int = 2) -> set[str]:
        """The card, its prerequisites and its dependents up to `depth` levels."""
        found = {stem}
        for links in (self.requires, self.required_by):
            frontier = {stem}
            for _ in range(depth):
                frontier = {n for s in frontier for n in links[s]} - found
                found |= frontier
        return found


def build_graph(cards: dict[str, Card]) -> tuple[Graph, list[Problem]]:
    problems: list[Problem] = []
    requires: dict[str, list[str]] = {stem: [] for stem in sorted(cards)}
    edge_lines: dict[tuple[str, str], Requirement] = {}
    for stem in requires:
        card = cards[stem]
        for requirement in card.requires:
            if requirement.stem == stem:
                problems.append(error(card.rel, requirement.line, f"{stem} requires itself"))
                continue
            if (stem, requirement.stem) in edge_lines:
                problems.append(warning(card.rel, requirement.line, f"requires {requirement.stem!r} twice"))
                continue
            edge_lines[(stem, requirement.stem)] = requirement
            requires[stem].append(requirement.stem)

    # graphlib reports one cycle at a time: note it, cut one of its edges, ask again.
    acyclic = {stem: list(needs) for stem, needs in requires.items()}
    cycles: list[list[str]] = []
    while True:
        sorter = graphlib.TopologicalSorter(acyclic)
        try:
            order = list(sorter.static_order())
            break
        except graphlib.CycleError as exc:
            cycle = list(reversed(exc.args[1]))[:-1]  # as a -> b (a requires b)
            start = cycle.index(min(cycle))
            cycle = cycle[start:] + cycle[:start]
            cycles.append(cycle)
            acyclic[cycle[0]].remove(cycle[1])
            if len(cycles) >= MAX_CYCLES_REPORTED:
                for needs in acyclic.values():
                    needs.clear()
    for cycle in cycles:
        first = cards[cycle[0]]
        line = edge_lines[(cycle[0], cycle[1])].line
        path = " -> ".join([*cycle, cycle[0]])
        problems.append(error(first.rel, line, f"dependency cycle: {path}"))

    required_by: dict[str, list[str]] = {stem: [] for stem in requires}
    for stem, needs in requires.items():
        for need in needs:
            required_by[need].append(stem)

    bit = {stem: index for index, stem in enumerate(order)}
    reach: dict[str, int] = {}
    for stem in order:  # prerequisites come first, so their reach is known
        mask = 0
        for need in acyclic[stem]:
            mask |= reach[need] | (1 << bit[need])
        reach[stem] = mask
    graph = Graph(cards, requires, required_by, order, cycles, reach, bit)

    for stem in order:
        card = cards[stem]
        needs = acyclic[stem]
        implied = 0
        for need in needs:
            implied |= reach[need]
        for need in needs:
            if implied >> bit[need] & 1:
                requirement = edge_lines[(stem, need)]
                via = next(other for other in needs if other != need and graph.depends_on(other, need))
                problems.append(
                    warning(
                        card.rel,
                        requirement.line,
                        f"requires {need!r}, which is already required through {via!r}",
                    )
                )
        for need in requires[stem]:
            target = cards[need]
            # a card whose status was refused (empty, unknown) is not known to be closed
            status_ok = card.status is not None or "status" not in card.key_lines
            if not card.is_open and target.is_open and card.valid and status_ok:
                requirement = edge_lines[(stem, need)]
                problems.append(
                    error(
                        card.rel,
                        requirement.line,
                        f"{card.status_label} card requires {need!r}, which is still open "
                        f"({target.status}): its prerequisites are not satisfied",
                    )
                )
        if card.is_open and not requires[stem] and not required_by[stem]:
            problems.append(
                warning(
                    card.rel,
                    card.line_of("status"),
                    "open card is required by nothing and requires nothing",
                )
            )
    return graph, problems


# Renderings -----------------------------------------------------------------------------


def to_json(graph: Graph) -> str:
    nodes = [
        {
            "id": stem,
            "title": card.title,
            "path": card.rel,
            "status": card.status,
            "open": card.is_open,
            "tags": card.tags,
            "requires": graph.requires[stem],
            "required_by": graph.required_by[stem],
        }
        for stem, card in sorted(graph.cards.items())
    ]
    return json.dumps(
        {"cards": nodes, "goals": graph.goals(), "leaves": graph.leaves(), "cycles": graph.cycles},
        indent=2,
    )


def _quote_dot(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_dot(graph: Graph, stems: set[str] | None = None, urls: dict[str, str] | None = None) -> str:
    """Graphviz source; `urls` makes nodes clickable in the SVG Graphviz renders."""
    keep = set(graph.cards) if stems is None else stems
    lines = [
        "digraph cards {",
        "  rankdir=LR;",
        '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=11];',
        "  edge [arrowsize=0.7];",
    ]
    for stem in sorted(keep):
        card = graph.cards[stem]
        attrs = {
            "label": card.title or stem,
            "tooltip": f"{stem} ({card.status_label})",
            "class": f"cardbook-node status-{card.status_label}" + (" open" if card.is_open else " closed"),
            "id": f"card-{stem}",
        }
        if urls and stem in urls:
            attrs["URL"] = urls[stem]
            attrs["target"] = "_top"
        rendered = ", ".join(f"{key}={_quote_dot(value)}" for key, value in attrs.items())
        lines.append(f"  {_quote_dot(stem)} [{rendered}];")
    for stem in sorted(keep):
        for need in graph.requires[stem]:
            if need in keep:
                lines.append(f"  {_quote_dot(stem)} -> {_quote_dot(need)};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_mermaid(graph: Graph) -> str:
    ids = {stem: f"c{index}" for index, stem in enumerate(sorted(graph.cards))}
    lines = ["flowchart LR"]
    for stem in sorted(graph.cards):
        card = graph.cards[stem]
        label = (card.title or stem).replace('"', "#quot;")
        lines.append(f'  {ids[stem]}["{label}"]:::{"open" if card.is_open else "closed"}')
    for stem in sorted(graph.cards):
        for need in graph.requires[stem]:
            lines.append(f"  {ids[stem]} --> {ids[need]}")
    lines.append("  classDef open fill:#fff3cd,stroke:#b58900")
    lines.append("  classDef closed fill:#d4edda,stroke:#2e7d32")
    return "\n".join(lines) + "\n"


def next_report(graph: Graph) -> str:
    """What a person runs each morning: goals, leaves and each goal's chain."""
    out: list[str] = []

    def label(stem: str) -> str:
        card = graph.cards[stem]
        mark = "[ ]" if card.is_open else "[x]"
        return f"{mark} {stem}: {card.title} ({card.status_label})"

    goals, leaves = graph.goals(), graph.leaves()
    out.append(f"Goals ({len(goals)}):")
    out.extend(f"  {label(stem)}" for stem in goals) if goals else out.append("  none")
    out.append("")
    out.append(f"Leaves, ready to work on ({len(leaves)}):")
    out.extend(f"  {label(stem)}" for stem in leaves) if leaves else out.append("  none")
    for goal in goals:
        out.append("")
        out.append(f"Chain of {goal}:")
        for depth, stem, repeat in graph.chain(goal):
            suffix = " (see above)" if repeat and graph.requires[stem] else ""
            out.append("  " + "    " * depth + label(stem) + suffix)
    return "\n".join(out) + "\n"
