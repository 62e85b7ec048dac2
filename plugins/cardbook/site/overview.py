"""The overview page, open work first: summary, goals, ready cards, one graph per open goal
(largest first), then the done cards that no open card needs, as a list. And the "All cards
graph" page: every card in one drawing, by Graphviz when it fits the page."""

from __future__ import annotations

import re
from collections.abc import Collection

from cardbook.core.graph import Graph
from cardbook.core.problems import plural

from .card_page import graph_node
from .context import PageContext
from .dot import dot_rows, fits, overview_dot, titled_svg
from .layered import MAX_GRAPH_WIDTH, Edge, Node, fit_width, layered_svg
from .styles import badge, legend, status_label, title_of
from .urls import escape, link_html, relative_url

OPEN_GOALS = 5  # goals whose graph and chain the overview shows unfolded
# Barycenter passes (layered.order_columns): 8 for the one drawing of every card; 4 for each
# goal's, whose rows are wrapped at a few cards anyway (8 took 0.3 s more for 194 goals).
WHOLE_GRAPH_SWEEPS = 8
GOAL_GRAPH_SWEEPS = 4

# Placeholders the adapter swaps for HTML after Markdown ran (cheaper than feeding Markdown
# large raw HTML, and the whole graph can arrive late from Graphviz).
OVERVIEW_MARKER = "<!-- cardbook:overview -->"
GRAPH_MARKER = "<!-- cardbook:graph -->"
GRAPH_PAGE_HEADING = "# All cards graph\n\n"


def placeholder(name: str) -> str:
    """Where one of cardbook's parts goes into a page's HTML: an empty element, not a comment,
    which pymdownx.striphtml removes by default (found by an outside probe: the overview, the
    All cards graph and the generated files came out empty), and no text for search to find."""
    return f'<div data-cardbook-part="{name}"></div>'



def overview_markdown() -> str:
    """Headings stay Markdown (they feed the table of contents); bodies are placeholders."""
    return "\n\n".join(
        [
            placeholder("overview-summary"),
            "## Goals",
            placeholder("overview-goals"),
            "## Ready to work on",
            placeholder("overview-leaves"),
            "## Goal graphs",
            placeholder("overview-goal-graphs"),
            "## Done",
            placeholder("overview-done"),
        ]
    )


def prerequisites(graph: Graph, stem: str) -> set[str]:
    """The card and every card it requires, directly or through others."""
    found, stack = {stem}, [stem]
    while stack:  # a stack, not recursion: chains can be thousands of cards deep
        for need in graph.requires[stack.pop()]:
            if need not in found:
                found.add(need)
                stack.append(need)
    return found


def layers_from_top(graph: Graph, members: Collection[str], rank: dict[str, int]) -> dict[str, int]:
    """A layer per card, top down: 0 for a card no member requires, else one below the lowest
    member that requires it, so every prerequisite sits below the cards that need it.

    `rank` is each card's place in `graph.order` (prerequisites first): cards are taken in
    reverse, so the cards that need a card come before it."""
    layer: dict[str, int] = {}
    for stem in sorted(members, key=rank.__getitem__, reverse=True):
        above = [layer[user] for user in graph.required_by[stem] if user in layer]
        layer[stem] = max(above) + 1 if above else 0
    return layer


def order_ranks(graph: Graph) -> dict[str, int]:
    return {stem: index for index, stem in enumerate(graph.order)}


def drawing(
    ctx: PageContext,
    members: Collection[str],
    known: dict[str, Node] | None = None,
    rank: dict[str, int] | None = None,
) -> tuple[list[Node], list[Edge]]:
    """Nodes (layered from the top) and edges among `members`, linked from the page."""
    nodes, edges, layer = goal_drawing(ctx, members, {} if known is None else known, rank)
    return [Node(n.id, n.label, n.tooltip, n.href, n.classes, layer[n.id]) for n in nodes], edges


def goal_drawing(
    ctx: PageContext, members: Collection[str], known: dict[str, Node], rank: dict[str, int] | None = None
) -> tuple[list[Node], list[Edge], dict[str, int]]:
    """Each member's node, the edges among them and each one's layer from the top (for
    layered_svg's `columns`): `known` keeps each card's node between the drawings of one page
    (a card is in many goals' graphs; only its layer changes), `rank` the cards' order."""
    graph, links, page_url, styles = ctx.graph, ctx.links, ctx.page_url, ctx.styles
    layer = layers_from_top(graph, members, order_ranks(graph) if rank is None else rank)
    stems = sorted(members)
    nodes = []
    for stem in stems:
        node = known.get(stem)
        if node is None:
            node = known[stem] = graph_node(graph.cards[stem], 0, links.card(stem, page_url), styles)
        nodes.append(node)
    requires = graph.requires
    edges = [Edge(need, stem) for stem in stems for need in requires[stem] if need in layer]
    return nodes, edges, layer


def overview_nodes(ctx: PageContext) -> tuple[list[Node], list[Edge]]:
    """Every card, for the whole graph."""
    return drawing(ctx, ctx.graph.cards)


def goal_graphs(graph: Graph) -> list[tuple[str, set[str]]]:
    """Each open goal with its prerequisites, the largest first.

    Open cards caught in a cycle have no goal above them: the first of them (by name) stands
    for a goal, so no open card is left out of the drawings."""
    found = [(goal, prerequisites(graph, goal)) for goal in graph.goals()]
    drawn = set().union(*(members for _, members in found))
    for stem in sorted(graph.cards):
        if graph.cards[stem].is_open and stem not in drawn:
            members = prerequisites(graph, stem)
            found.append((stem, members))
            drawn |= members
    return sorted(found, key=lambda item: (-len(item[1]), title_key(graph, item[0])))


def title_key(graph: Graph, stem: str) -> tuple[list[int | str], str]:
    """Cards by title, numbers by value: "Goal 3" before "Goal 12"."""
    parts = re.split(r"(\d+)", title_of(graph.cards[stem]).casefold())
    return [int(part) if index % 2 else part for index, part in enumerate(parts)], stem


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


def goal_block(
    goal: str,
    members: set[str],
    position: int,
    ctx: PageContext,
    known: dict[str, Node] | None,
    rank: dict[str, int],
) -> str:
    """One goal, folded after the first few: its graph (`known` None: graphs are turned off),
    then its open chain as text."""
    graph = ctx.graph
    opened = sum(1 for stem in members if graph.cards[stem].is_open)
    figure = ""
    if known is not None:
        nodes, edges, layer = goal_drawing(ctx, members, known, rank)
        label = f"{title_of(graph.cards[goal])} and its prerequisites"
        svg = layered_svg(
            nodes, edges, label=label, focus=goal, vertical=True, sweeps=GOAL_GRAPH_SWEEPS, columns=layer
        )
        figure = (
            '<figure class="cardbook-graph cardbook-graph--overview cardbook-graph--goal">'
            f'<div class="cardbook-graph__scroll">{fit_width(svg, 0.7)}</div></figure>'
        )
    return (
        f'<details class="cardbook-goal abstract"{" open" if position < OPEN_GOALS else ""}>'
        f"<summary>{card_item(goal, ctx)} "
        f'<span class="cardbook-none">{plural(len(members), "card")}, {opened} open</span></summary>'
        f'{figure}<ul class="cardbook-tree">{open_chain(goal, ctx)}</ul></details>'
    )


def done_list(ctx: PageContext, stems: list[str]) -> str:
    """Cards in no goal's graph, as links grouped by status: a list, not a drawing."""
    graph, links, page_url = ctx.graph, ctx.links, ctx.page_url
    if not stems:
        return '<p class="cardbook-none">None: every card is in an open goal\'s graph.</p>'
    groups: dict[str, list[str]] = {}
    for stem in sorted(stems, key=lambda s: title_key(graph, s)):
        groups.setdefault(status_label(graph.cards[stem]), []).append(stem)
    order = {name: index for index, name in enumerate(ctx.styles)}
    parts = []
    for name in sorted(groups, key=lambda n: (order.get(n, len(order)), n)):
        members = groups[name]
        items = "".join(
            f"<li>{link_html(links.card(stem, page_url), escape(title_of(graph.cards[stem])))}</li>"
            for stem in members
        )
        parts.append(
            f'<p class="cardbook-done__status">{badge(graph.cards[members[0]], ctx.styles)} '
            f"{plural(len(members), 'card')}</p>"
            f'<ul class="cardbook-inline cardbook-done">{items}</ul>'
        )
    return "".join(parts)


def overview_sections(ctx: PageContext, *, graphs: bool = True) -> dict[str, str]:
    """HTML for each overview placeholder; `graphs` False leaves the drawings out."""
    graph, styles = ctx.graph, ctx.styles
    goals, leaves = graph.goals(), graph.leaves()
    opened = sum(1 for card in graph.cards.values() if card.is_open)

    def card_list(stems: list[str], empty: str) -> str:
        if not stems:
            return f'<p class="cardbook-none">{empty}</p>'
        items = "".join(f"<li>{card_item(stem, ctx)}</li>" for stem in stems)
        return f'<ul class="cardbook-cards">{items}</ul>'

    drawn_goals = goal_graphs(graph)
    drawn = set().union(*(members for _, members in drawn_goals))
    summary = (
        f'<p class="cardbook-summary">{plural(len(graph.cards), "card")}: {opened} open, '
        f"{len(graph.cards) - opened} done; {plural(len(goals), 'goal')}, {len(leaves)} ready to work on. "
        f"{legend(styles)}</p>"
    )
    whole = ctx.links.graph(ctx.page_url)
    if graphs and whole is not None:
        link = link_html(whole, "All cards graph")
        summary += f'<p class="cardbook-none">Every card in one drawing: {link}.</p>'
    if ctx.links.files_page_url is not None:
        listing = link_html(relative_url(ctx.links.files_page_url, ctx.page_url), "Generated files")
        summary += f'<p class="cardbook-none">What the cards tangle, line by line: {listing}.</p>'
    if graph.cycles:
        cycles = len(graph.cycles)
        summary += (
            f'<p class="cardbook-warning">{plural(cycles, "dependency cycle")}: '
            "run <code>cardbook check</code>.</p>"
        )
    if drawn_goals:
        about = (
            "Each open goal with every card it needs, done ones included, the largest first: the goal "
            "on top, arrows from a prerequisite up to the card that needs it. Click a card to open it."
            if graphs
            else "Graphs are turned off (<code>graphs: false</code>): each goal's open cards."
        )
        known: dict[str, Node] | None = {} if graphs else None
        rank = order_ranks(graph)
        blocks = "".join(
            goal_block(goal, members, position, ctx, known, rank)
            for position, (goal, members) in enumerate(drawn_goals)
        )
        goal_html = f'<p class="cardbook-none">{about}</p><div class="cardbook-goals">{blocks}</div>'
    else:
        goal_html = '<p class="cardbook-none">No open goals.</p>'
    return {
        "overview-summary": summary,
        "overview-goals": card_list(goals, "No goals: every card is done."),
        "overview-leaves": card_list(leaves, "Nothing is ready: no open card."),
        "overview-goal-graphs": goal_html,
        "overview-done": done_list(ctx, [stem for stem in graph.cards if stem not in drawn]),
    }


# The "All cards graph" page ----------------------------------------------------------------


def full_graph_dot(ctx: PageContext) -> str | None:
    """Graphviz source of the whole graph, its layers wrapped to the page's width; None when
    dot could not keep it that narrow (then full_graph_html draws it)."""
    nodes, edges = overview_nodes(ctx)
    rows = dot_rows(nodes, edges, MAX_GRAPH_WIDTH)
    return None if rows is None else overview_dot(nodes, edges, rows=rows)


TOO_WIDE_FOR_DOT = "Drawn by cardbook: Graphviz cannot draw this graph within the page's width."


def full_graph_html(ctx: PageContext, svg: str | None, note: str = TOO_WIDE_FOR_DOT) -> str:
    """The whole graph: Graphviz's drawing `svg` when it fits the page, else cardbook's own,
    captioned with `note` (why Graphviz's is not used).

    dot is asked for rows no wider than the page, but the edges passing between boxes take
    room of their own; a drawing that still comes out too wide is replaced, so no graph on the
    site is wider than MAX_GRAPH_WIDTH at its natural size."""
    graph = ctx.graph
    nodes, edges = overview_nodes(ctx)
    if svg is not None and fits(svg):
        svg, note = titled_svg(svg, {node.id: node.tooltip for node in nodes}), ""
    else:
        svg = layered_svg(nodes, edges, label="The runbook's cards", vertical=True, sweeps=WHOLE_GRAPH_SWEEPS)
    opened = sum(1 for card in graph.cards.values() if card.is_open)
    overview = ctx.links.overview(ctx.page_url)
    back = f" The {link_html(overview, 'overview')} shows each open goal on its own." if overview else ""
    intro = (
        f'<p class="cardbook-none">{plural(len(graph.cards), "card")}, {opened} open: the cards no other '
        f"card requires on top, each card's prerequisites below it.{back}</p>"
    )
    return intro + overview_graph_figure(svg, note)


def overview_graph_figure(svg: str, note: str = "") -> str:
    caption = "Arrows go from a prerequisite to the card that needs it. Click a card to open it."
    if note:
        caption += f" {note}"
    return (
        '<figure class="cardbook-graph cardbook-graph--overview cardbook-graph--all" data-search-exclude>'
        f'<div class="cardbook-graph__scroll">{fit_width(svg, 0.7)}</div>'
        f"<figcaption>{caption}</figcaption></figure>"
    )
