"""The cards' dependency graph: validation rules, Mikado views and renderings.

An edge `a -> b` means card a requires card b. Ordering and cycle detection use the
standard library's graphlib.
"""

from __future__ import annotations

import graphlib

from .cards import Card, Requirement
from .problems import Problem, error, warning
from .record import Record

MAX_CYCLES_REPORTED = 100


class Graph(Record):
    __slots__ = ("cards", "requires", "required_by", "order", "cycles", "_reach", "_bit")
    _uncompared = ("_reach", "_bit")

    def __init__(
        self,
        cards: dict[str, Card],
        requires: dict[str, list[str]],  # stem -> stems it requires (valid edges only)
        required_by: dict[str, list[str]],
        order: list[str],  # prerequisites first; cards caught in cycles come last
        cycles: list[list[str]],
        # bitset of every card reachable from a card, for transitive questions
        reach: dict[str, int],
        bit: dict[str, int],
    ) -> None:
        self.cards = cards
        self.requires = requires
        self.required_by = required_by
        self.order = order
        self.cycles = cycles
        self._reach = reach
        self._bit = bit

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
        """Open cards whose prerequisites are all closed and all exist: work here next."""
        return [
            stem
            for stem in sorted(self.cards)
            if self.cards[stem].is_open
            and not self.cards[stem].missing
            and not any(self.cards[need].is_open for need in self.requires[stem])
        ]

    def chain(self, goal: str, shown: set[str] | None = None) -> list[tuple[int, str, bool]]:
        """The goal's prerequisite tree as (depth, stem, already_shown) rows, depth first.

        A card in `shown` (and each card once shown) is not expanded again: pass one set for
        several goals and every card is expanded once in all their chains together. An explicit
        stack: requires chains can be thousands of cards deep."""
        rows: list[tuple[int, str, bool]] = []
        shown = set() if shown is None else shown
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

    def neighbourhood(self, stem: str, depth: int = 2) -> dict[str, int]:
        """The card, its prerequisites and its dependents up to `depth` levels, each with its
        signed distance: prerequisites negative, dependents positive, the card itself 0."""
        found = {stem: 0}
        for links, sign in ((self.requires, -1), (self.required_by, 1)):
            frontier = [stem]
            for level in range(1, depth + 1):
                following = []
                for current in frontier:
                    for other in links.get(current, []):
                        if other not in found:
                            found[other] = sign * level
                            following.append(other)
                frontier = sorted(following)
        return found


def build_graph(cards: dict[str, Card]) -> tuple[Graph, list[Problem]]:
    problems: list[Problem] = []
    requires: dict[str, list[str]] = {stem: [] for stem in sorted(cards)}
    edge_lines: dict[tuple[str, str], Requirement] = {}
    for stem in requires:
        card = cards[stem]
        for requirement in card.requires:
            if requirement.stem == stem:
                problems.append(error(card.rel, requirement.line, f"{stem} requires itself", rule="cycle"))
                continue
            if (stem, requirement.stem) in edge_lines:
                problems.append(
                    warning(
                        card.rel,
                        requirement.line,
                        f"requires {requirement.stem!r} twice",
                        rule="duplicate-requires",
                    )
                )
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
        problems.append(error(first.rel, line, f"dependency cycle: {path}", rule="cycle"))

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
                        rule="redundant-requires",
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
                        rule="unfinished-prerequisite",
                    )
                )
        if card.is_open and not requires[stem] and not required_by[stem]:
            problems.append(
                warning(
                    card.rel,
                    card.line_of("status"),
                    "open card is required by nothing and requires nothing", rule="lone-card",
                )
            )
    return graph, problems
