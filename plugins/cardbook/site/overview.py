"""The overview page: summary, goals, ready cards, each goal's open chain, and the graph."""

from __future__ import annotations

from cardbook.core.problems import plural

from .card_page import graph_node
from .context import PageContext
from .layered import Edge, Node, fit_width
from .styles import badge, legend, title_of
from .urls import escape, link_html

OPEN_CHAINS = 5  # goals whose chain the overview shows unfolded


# Placeholders the adapter swaps for HTML after Markdown ran (cheaper than feeding Markdown
# large raw HTML, and the overview graph can arrive late from Graphviz).
OVERVIEW_MARKER = "<!-- cardbook:overview -->"


def placeholder(name: str) -> str:
    return f"<!-- cardbook:{name} -->"


def overview_markdown() -> str:
    """Headings stay Markdown (they feed the table of contents); bodies are placeholders."""
    return "\n\n".join(
        [
            placeholder("overview-summary"),
            "## Graph",
            placeholder("overview-graph"),
            "## Goals",
            placeholder("overview-goals"),
            "## Ready to work on",
            placeholder("overview-leaves"),
            "## Chains",
            placeholder("overview-chains"),
        ]
    )


def overview_nodes(
    ctx: PageContext,
) -> tuple[list[Node], list[Edge]]:
    """Every card, columns by the length of its longest prerequisite chain."""
    graph, links, page_url, styles = ctx.graph, ctx.links, ctx.page_url, ctx.styles
    depth: dict[str, int] = {}
    for stem in graph.order:  # prerequisites first; cards in a cycle come last
        known = [depth[need] for need in graph.requires[stem] if need in depth]
        depth[stem] = max(known) + 1 if known else 0
    nodes = [
        graph_node(graph.cards[stem], depth[stem], links.card(stem, page_url), styles)
        for stem in sorted(graph.cards)
    ]
    edges = [Edge(need, stem) for stem in sorted(graph.cards) for need in graph.requires[stem]]
    return nodes, edges


def card_item(
    stem: str,
    ctx: PageContext,
) -> str:
    graph, links, page_url, styles = ctx.graph, ctx.links, ctx.page_url, ctx.styles
    card = graph.cards[stem]
    return f"{link_html(links.card(stem, page_url), escape(title_of(card)))} {badge(card, styles)}"


def open_chain(
    goal: str,
    ctx: PageContext,
) -> str:
    """The goal's open prerequisites as a tree; done ones are counted, not listed (the work left)."""
    graph = ctx.graph
    rows = []
    for depth, stem, repeat in graph.chain(goal):
        if not graph.cards[stem].is_open:
            continue  # a done card's own prerequisites are all done too (a Mikado rule)
        done = sum(1 for need in graph.requires[stem] if not graph.cards[need].is_open)
        notes = []
        if repeat and graph.requires[stem]:
            notes.append("shown above")
        elif done:
            notes.append(f"{done} done prerequisite{'s' if done > 1 else ''}")
        note = f' <span class="cardbook-none">({", ".join(notes)})</span>' if notes else ""
        rows.append(f'<li style="--depth: {depth}">{card_item(stem, ctx)}{note}</li>')
    return "".join(rows)


def overview_sections(
    ctx: PageContext,
) -> dict[str, str]:
    """HTML for each overview placeholder except the graph."""
    graph, styles = ctx.graph, ctx.styles
    goals, leaves = graph.goals(), graph.leaves()
    opened = sum(1 for card in graph.cards.values() if card.is_open)

    def card_list(stems: list[str], empty: str) -> str:
        if not stems:
            return f'<p class="cardbook-none">{empty}</p>'
        items = "".join(f"<li>{card_item(stem, ctx)}</li>" for stem in stems)
        return f'<ul class="cardbook-cards">{items}</ul>'

    chains = [
        f'<details class="cardbook-chain abstract"{" open" if position < OPEN_CHAINS else ""}>'
        f"<summary>{escape(title_of(graph.cards[goal]))}</summary>"
        f'<ul class="cardbook-tree">{open_chain(goal, ctx)}</ul></details>'
        for position, goal in enumerate(goals)
    ]
    summary = (
        f'<p class="cardbook-summary">{plural(len(graph.cards), "card")}: {opened} open, '
        f"{len(graph.cards) - opened} done; {plural(len(goals), 'goal')}, {len(leaves)} ready to work on. "
        f"{legend(styles)}</p>"
    )
    if graph.cycles:
        cycles = len(graph.cycles)
        summary += (
            f'<p class="cardbook-warning">{plural(cycles, "dependency cycle")}: '
            "run <code>cardbook check</code>.</p>"
        )
    return {
        "overview-summary": summary,
        "overview-goals": card_list(goals, "No goals: every card is done."),
        "overview-leaves": card_list(leaves, "Nothing is ready: no open card."),
        "overview-chains": f'<div class="cardbook-chains" data-search-exclude>{"".join(chains)}</div>'
        if chains
        else '<p class="cardbook-none">No open goals.</p>',
    }


def overview_graph_figure(svg: str, note: str = "") -> str:
    caption = "Arrows go from a prerequisite to the card that needs it. Click a card to open it."
    if note:
        caption += f" {note}"
    return (
        '<figure class="cardbook-graph cardbook-graph--overview" data-search-exclude>'
        f'<div class="cardbook-graph__scroll">{fit_width(svg, 0.7)}</div>'
        f"<figcaption>{caption}</figcaption></figure>"
    )
