"""A card page: the header under its title and its neighbourhood graph."""

from __future__ import annotations

import re
from collections.abc import Mapping

from cardbook.core.cards import Card
from cardbook.core.tangle import TangleResult

from .context import PageContext
from .layered import Edge, Node, fit_width, layered_svg
from .styles import INVALID_CLASS, StatusStyle, badge, card_classes, status_label, title_of
from .urls import escape, link_html

NEIGHBOURHOOD_DEPTH = 2


MAX_COLUMN_NODES = 12  # a hub's neighbourhood shows this many per column, then "N more"


MAX_HEADER_LINKS = 30  # "Required by" of a hub card lists this many, then a count


def generated_paths(tangled: TangleResult) -> dict[str, list[str]]:
    """For each card, the files it contributes lines to, directly or through chunks."""
    paths: dict[str, list[str]] = {}
    for path, output in sorted(tangled.files.items()):
        for stem in dict.fromkeys(output.cards):
            paths.setdefault(stem, []).append(path)
    return paths


def _card_list(stems: list[str], ctx: PageContext, missing: list[str] | None = None) -> str:
    """The cards as links with their status; `missing`: prerequisites written in the card that
    name no card (`cardbook check` reports each where it is written)."""
    graph, links, page_url, styles = ctx.graph, ctx.links, ctx.page_url, ctx.styles
    if not stems and not missing:
        return '<span class="cardbook-none">none</span>'
    items = [
        f'<li><code>{escape(name)}</code> <span class="cardbook-badge {INVALID_CLASS}" '
        'title="no card has this name">missing</span></li>'
        for name in missing or []
    ]
    for stem in stems[:MAX_HEADER_LINKS]:
        card = graph.cards[stem]
        items.append(
            f"<li>{link_html(links.card(stem, page_url), escape(title_of(card)))} "
            f"{badge(card, styles, explained=False)}</li>"
        )
    more = len(stems) - MAX_HEADER_LINKS
    if more > 0:
        items.append(f"<li>{link_html(links.overview(page_url), f'and {more} more')}</li>")
    return '<ul class="cardbook-inline">' + "".join(items) + "</ul>"


def card_header(
    card: Card,
    ctx: PageContext,
    *,
    generates: list[str],
    show_tags: bool = True,
) -> str:
    """The compact block under a card's title: status, date, tags and its place in the graph."""
    graph, links, page_url, styles = ctx.graph, ctx.links, ctx.page_url, ctx.styles
    facts = [badge(card, styles)]
    if card.is_open and card.stem in graph.cards:
        needs_open = any(graph.cards[need].is_open for need in graph.requires.get(card.stem, []))
        if not needs_open and not card.missing:  # as Graph.leaves and `cardbook next` say
            facts.append(
                '<span class="cardbook-flag" title="every prerequisite is done">ready to work on</span>'
            )
        if not any(graph.cards[user].is_open for user in graph.required_by.get(card.stem, [])):
            facts.append('<span class="cardbook-flag" title="no open card requires this one">goal</span>')
    if card.modified is not None:
        day = card.modified.isoformat()
        # An ISO date is a valid <time> content of its own: no datetime attribute repeating it.
        facts.append(f'<span class="cardbook-modified">modified <time>{day}</time></span>')
    if show_tags and card.tags:
        tags = "".join(f'<span class="cardbook-tag">{escape(tag)}</span>' for tag in card.tags)
        facts.append(f'<span class="cardbook-tags">{tags}</span>')
    rows = [
        ("Requires", _card_list(graph.requires.get(card.stem, []), ctx, card.missing)),
        ("Required by", _card_list(graph.required_by.get(card.stem, []), ctx)),
    ]
    if generates:
        files = "".join(
            f"<li>{link_html(links.generated(path, page_url), f'<code>{escape(path)}</code>')}</li>"
            for path in generates
        )
        rows.append(("Generates", f'<ul class="cardbook-inline">{files}</ul>'))
    relations = "".join(f"<dt>{name}</dt><dd>{value}</dd>" for name, value in rows)
    return (
        # An <aside> with no <aside> inside: see neighbourhood_section about Material's search.
        '<aside class="cardbook-header" data-search-exclude>'
        f'<div class="cardbook-facts">{" ".join(facts)}</div>'
        f'<dl class="cardbook-relations">{relations}</dl></aside>'
    )


def node_facts(card: Card, styles: Mapping[str, StatusStyle]) -> tuple[str, str, str]:
    """A card's node label, tooltip and classes, wherever it is drawn."""
    title = title_of(card)
    return title, f"{title} ({status_label(card)})", card_classes(card, styles)


def graph_node(card: Card, column: int, href: str | None, styles: Mapping[str, StatusStyle]) -> Node:
    label, tooltip, classes = node_facts(card, styles)
    return Node(card.stem, label, tooltip, href, classes, column)


def neighbourhood_svg(
    stem: str,
    ctx: PageContext,
) -> str:
    """The card, two levels of prerequisites on its left and of dependents on its right."""
    graph, links, page_url, facts = ctx.graph, ctx.links, ctx.page_url, ctx.node_facts
    distances = graph.neighbourhood(stem, NEIGHBOURHOOD_DEPTH)
    if len(distances) == 1:
        return ""
    requires, required_by = graph.requires, graph.required_by
    by_column: dict[int, list[str]] = {}
    for other, column in distances.items():
        by_column.setdefault(column, []).append(other)
    nodes: list[Node] = []
    shown: set[str] = set()
    # Nodes in any order: layered_svg orders each column itself.
    for column, stems in by_column.items():
        kept = stems
        if len(stems) > MAX_COLUMN_NODES:
            # Nearest first: keep the nodes linked to the card itself when a column overflows.
            stems.sort(key=lambda s: (stem not in requires[s] and stem not in required_by[s], s))
            kept = stems[: MAX_COLUMN_NODES - 1]
            hidden = len(stems) - len(kept)
            more = links.graph(page_url) or links.overview(page_url)
            label = f"… {hidden} more"
            nodes.append(Node(f"more:{column}", label, f"{hidden} more cards", more, "more", column))
        for other in kept:
            found = facts.get(other)
            if found is None:
                found = facts[other] = node_facts(graph.cards[other], ctx.styles)
            href = None if other == stem else links.card(other, page_url)
            nodes.append(Node(other, found[0], found[1], href, found[2], column))
        shown.update(kept)
    edges = [Edge(need, other) for other in sorted(shown) for need in requires[other] if need in shown]
    title = title_of(graph.cards[stem])
    return layered_svg(nodes, edges, label=f"Neighbourhood of {title}", focus=stem)


def neighbourhood_section(svg: str, ctx: PageContext) -> str:
    if not svg:
        return ""
    graph, overview = ctx.links.graph(ctx.page_url), ctx.links.overview(ctx.page_url)
    # Found by an outside probe: with no All cards graph page (Zensical without its marker) the
    # link went to the overview, still called "the whole graph".
    whole = (
        f" · {link_html(graph, 'the whole graph')}"
        if graph
        else f" · {link_html(overview, 'the overview')}"
        if overview
        else ""
    )
    return (
        # Material's search skips an excluded element up to the first nested element of the same
        # tag, so the excluded wrapper is the only <aside> inside.
        '<aside class="cardbook-neighbourhood" data-search-exclude>'
        "<h2>Neighbourhood</h2>"
        '<figure class="cardbook-graph cardbook-graph--small">'
        f'<div class="cardbook-graph__scroll">{fit_width(svg, 0.6)}</div>'
        f"<figcaption>Prerequisites on the left, cards that need this one on the right; "
        f"two levels each way{whole}.</figcaption></figure></aside>"
    )


# Where a page's title ends: after any leading comments (a linter's pragma, say), its <h1>
# start tag and then each tag up to the first </h1>, every tag read whole, quoted attribute
# values included: `</h1>` written inside one (`{title="... </h1> ..."}`) ends nothing.
_LEADING_COMMENTS = re.compile(r"\s*(?:<!--.*?-->\s*)*", re.S)
_TAG = re.compile(r"""<(/?)([a-zA-Z][^\s/>]*)(?:[^>"']|"[^"]*"|'[^']*')*>""")


def insert_after_title(content: str, block: str) -> str:
    """Put `block` after the page's leading <h1> element (Material adds its own h1 when there
    is none): leading comments may come before it, and nothing else."""
    start = _LEADING_COMMENTS.match(content).end()  # type: ignore[union-attr]  # matches ""
    first = _TAG.match(content, start)
    if first is not None and not first[1] and first[2].lower() == "h1":
        for tag in _TAG.finditer(content, first.end()):
            if tag[1] and tag[2].lower() == "h1":
                return content[: tag.end()] + "\n" + block + content[tag.end() :]
    return block + "\n" + content
