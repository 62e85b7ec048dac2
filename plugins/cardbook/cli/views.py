"""What `cardbook graph` and `cardbook next` print: the graph as Mermaid, DOT or JSON, and the
Mikado report a person reads each morning."""

from __future__ import annotations

import json

from cardbook.core.graph import Graph
from cardbook.site.dot import overview_dot
from cardbook.site.layered import Edge, Node


def graph_dot(graph: Graph) -> str:
    """Graphviz source of the whole graph through the site's DOT writer: an edge `a -> b`
    means a requires b (the site draws the same edges from the prerequisite)."""
    nodes = [
        Node(
            id=stem,
            label=card.title or stem,
            tooltip=f"{stem} ({card.status_label})",
            href=None,
            classes=f"status-{card.status_label} {'open' if card.is_open else 'closed'}",
            column=0,
        )
        for stem, card in sorted(graph.cards.items())
    ]
    edges = [Edge(stem, need) for stem in sorted(graph.cards) for need in graph.requires[stem]]
    return overview_dot(nodes, edges)


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


MAX_INDENT = 12  # levels of a chain shown by indentation in `cardbook next`


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
    shown: set[str] = set()  # every card is expanded once, in the first chain that reaches it
    for goal in goals:
        out.append("")
        out.append(f"Chain of {goal}:")
        for depth, stem, repeat in graph.chain(goal, shown):
            suffix = " (see above)" if repeat and graph.requires[stem] else ""
            # Deep chains stop indenting and give the depth instead: 3000 levels of indent
            # would print gigabytes.
            deeper = f"[{depth}] " if depth > MAX_INDENT else ""
            out.append("  " + "    " * min(depth, MAX_INDENT) + deeper + label(stem) + suffix)
    return "\n".join(out) + "\n"
