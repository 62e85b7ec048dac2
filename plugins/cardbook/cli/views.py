"""What `cardbook graph`, `next`, `tags` and `stale` print: the graph as Mermaid, DOT or JSON,
the Mikado report a person reads each morning, and the pages' tags and ages."""

from __future__ import annotations

import json

from cardbook.core.graph import Graph
from cardbook.core.inventory import StaleRow, TagReport
from cardbook.core.titles import card_title
from cardbook.site.dot import overview_dot
from cardbook.site.layered import Edge, Node


def graph_dot(graph: Graph) -> str:
    """Graphviz source of the whole graph through the site's DOT writer: an edge `a -> b`
    means a requires b (the site draws the same edges from the prerequisite)."""
    nodes = [
        Node(
            id=stem,
            label=card_title(card),
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
            "title": card_title(card),  # as everywhere: the heading's text when `title` is missing
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
        label = card_title(card).replace('"', "#quot;")
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
        title = card_title(card)
        named = f"{stem}: {title}" if title != stem else stem
        return f"{mark} {named} ({card.status_label})"

    if graph.cycles:  # goals and leaves are not defined on a cycle: say so, not a wrong list
        out.append("The goals cannot be computed: the requires graph has a cycle.")
        for cycle in graph.cycles:
            out.append("  " + " -> ".join([*cycle, cycle[0]]))
        out.append("Break it (`cardbook check` shows the line of each edge), then run `cardbook next`.")
        return "\n".join(out) + "\n"
    goals, leaves = graph.goals(), graph.leaves()
    out.append(f"Goals ({len(goals)}):")
    out.extend(f"  {label(stem)}" for stem in goals) if goals else out.append("  none")
    out.append("")
    out.append(f"Leaves, ready to work on ({len(leaves)}):")
    out.extend(f"  {label(stem)}" for stem in leaves) if leaves else out.append("  none")
    blocked = [stem for stem, card in sorted(graph.cards.items()) if card.is_open and card.missing]
    if blocked:
        out.append("")
        out.append(f"Blocked by a prerequisite that does not exist ({len(blocked)}):")
        for stem in blocked:
            names = ", ".join(graph.cards[stem].missing)
            out.append(f"  {label(stem)}: requires {names}")
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


def tags_text(report: TagReport) -> str:
    """`cardbook tags`: most used first; then singletons and near duplicates."""
    if not report.pages:
        return "No page has tags.\n"
    width = max(len(tag) for tag in report.pages)
    ranked = sorted(report.pages.items(), key=lambda item: (-len(item[1]), item[0].casefold()))
    out = [f"Tags ({len(ranked)}):"]
    out.extend(f"  {tag.ljust(width)}  {len(pages)}" for tag, pages in ranked)
    once = [(tag, pages[0]) for tag, pages in ranked if len(pages) == 1]
    if once:
        out += ["", f"Used on one page only ({len(once)}):"]
        out.extend(f"  {tag}: {page}" for tag, page in once)
    if report.near:
        out += ["", f"Probably the same tag ({len(report.near)}):"]
        out.extend(f"  {tag} / {other}: {why}" for tag, other, why in report.near)
    return "\n".join(out) + "\n"


def stale_text(rows: list[StaleRow], days: int | None) -> str:
    """`cardbook stale`: oldest first; `days` keeps pages older than that (undated ones too)."""
    shown = [row for row in rows if days is None or row.age_days is None or row.age_days > days]
    heading = "Pages by modified date, oldest first" + (
        f", older than {days} days" if days is not None else ""
    )
    out = [f"{heading} ({len(shown)} of {len(rows)}):"]
    for row in shown:
        date = row.modified.isoformat() if row.modified else "no date   "
        age = f"{row.age_days:>5} days" if row.age_days is not None else "          "
        note = ""
        if row.committed is not None and row.modified is None:
            note = f"  (last commit {row.committed.isoformat()})"
        elif row.committed is not None and row.modified is not None and row.committed > row.modified:
            note = f"  (last commit {row.committed.isoformat()}, after its modified date)"
        out.append(f"  {date}  {age}  {row.rel}{note}")
    return "\n".join(out) + "\n"
