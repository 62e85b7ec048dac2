"""The layered drawing: a small deterministic SVG layout written here, layers chosen by the
caller. No process, a few hundred microseconds per small drawing: used for every card's
neighbourhood (layers as columns), for each open goal's graph on the overview, and for the
whole graph when Graphviz is missing or draws it too wide (layers as rows, wrapped to a width).

Its nodes carry the classes the stylesheet colours in Graphviz's drawing too (dot.py): `node`
and the status classes, for the light and the dark palette; its markup is
leaner, as it goes into every card page: a linked node is the link itself (`a.node`), and all
edges are two paths (`path.cardbook-edges`, `path.cardbook-arrowheads`) where Graphviz has a
group per edge. See docs/explanation/graph-rendering.md.
"""

from __future__ import annotations

import functools
import re
import textwrap
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple, TypeVar

from .urls import escape

# Layout constants of the layered drawing, in CSS pixels.
NODE_HEIGHT = 30  # a box with one line of label; each further line adds LINE_HEIGHT
LINE_HEIGHT = 15
NODE_GAP = 12
COLUMN_GAP = 64
ROW_GAP = 36
MARGIN = 8
CHAR_WIDTH = 7.0  # average advance of the 12px sans-serif the stylesheet sets
MIN_NODE_WIDTH = 64
LABEL_LINE_CHARS = 20  # titles wrap onto lines of this many characters; they are never cut
COLUMN_LOOP, ROW_LOOP = 36, 30  # how far an edge inside one column (row) loops out of it
SWEEPS = 2  # barycenter passes: one each way settles a neighbourhood; more help big graphs

# The widest a top-down drawing may be at its natural size, in CSS pixels: Material's content
# column next to both sidebars (36.8rem of 20px, less its padding and the figure's frame).
MAX_GRAPH_WIDTH = 720


@dataclass(slots=True)  # not frozen: made by the thousand, and a frozen one is four times as slow to make
class Node:
    id: str
    label: str
    tooltip: str
    href: str | None
    classes: str  # extra classes, e.g. the status class and "open"/"closed"
    column: int  # the layer: a column left to right, or a row top down


class Edge(NamedTuple):
    """Drawn from `source` to `target`, the arrowhead at `target`."""

    source: str
    target: str


@functools.lru_cache(maxsize=16384)  # the same titles appear in many neighbourhoods
def wrap_label(label: str, width: int = LABEL_LINE_CHARS) -> tuple[str, ...]:
    """The label on lines of at most `width` characters; every character is kept (a word
    longer than a line is split, a hyphenated one after a hyphen)."""
    return tuple(textwrap.wrap(label, width)) or ("",)


@functools.lru_cache(maxsize=16384)
def node_size(label: str) -> tuple[int, int]:
    """Width and height of a node's box, in pixels."""
    lines = wrap_label(label)
    width = max(MIN_NODE_WIDTH, round(max(len(line) for line in lines) * CHAR_WIDTH + 20))
    return width, NODE_HEIGHT + (len(lines) - 1) * LINE_HEIGHT


Item = TypeVar("Item")


def wrap_row(
    items: Sequence[Item], width_of: Callable[[Item], float], limit: float, gap: float
) -> list[list[Item]]:
    """A layer split into rows no wider than `limit`, in order; rows of even length when they
    fit (three rows of 3 read better than 4, 4 and 1)."""

    def fits(row: Sequence[Item]) -> bool:
        return sum(width_of(item) for item in row) + gap * (len(row) - 1) <= limit

    rows: list[list[Item]] = []
    used = 0.0
    for item in items:
        width = width_of(item)
        if rows and rows[-1] and used + gap + width <= limit:
            rows[-1].append(item)
            used += gap + width
        else:
            rows.append([item])
            used = width
    if len(rows) > 1:  # as many rows, their lengths differing by one at most
        size, longer = divmod(len(items), len(rows))
        even, start = [], 0
        for index in range(len(rows)):
            end = start + size + (index < longer)
            even.append(list(items[start:end]))
            start = end
        if all(fits(row) for row in even):
            return even
    return rows


def _number(value: float) -> str:
    """Coordinates rounded to whole pixels: short and stable output."""
    return str(round(value))


def order_columns(
    nodes: list[Node], edges: list[Edge], sweeps: int = SWEEPS, columns: Mapping[str, int] | None = None
) -> dict[int, list[Node]]:
    """Nodes per column, ordered to reduce edge crossings (barycenter heuristic). `columns`,
    when given, is each node's column by id, in place of `Node.column`.

    Each sweep moves every node of a column towards the mean position of its neighbours in
    the columns already placed: left to right, then right to left, and so on.
    """
    if columns is None:
        ordered = sorted(nodes, key=lambda node: (node.column, node.label.casefold(), node.id))
        column_of = [node.column for node in ordered]
    else:
        ordered = sorted(nodes, key=lambda node: (columns[node.id], node.label.casefold(), node.id))
        column_of = [columns[node.id] for node in ordered]
    members: dict[int, list[int]] = {}  # column -> its nodes, as indexes into `ordered`
    for index, key in enumerate(column_of):
        members.setdefault(key, []).append(index)
    keys = [key for key in sorted(members) if len(members[key]) > 1]
    if keys:
        _sweep(ordered, column_of, members, keys, edges, sweeps)
    return {key: [ordered[index] for index in column] for key, column in members.items()}


def _sweep(
    ordered: list[Node],
    column_of: list[int],
    members: dict[int, list[int]],
    keys: list[int],
    edges: list[Edge],
    sweeps: int,
) -> None:
    """order_columns' barycenter passes, on integers: each node's place in its column."""
    index_of = {node.id: index for index, node in enumerate(ordered)}
    left: list[list[int]] = [[] for _ in ordered]  # neighbours in lower columns
    right: list[list[int]] = [[] for _ in ordered]
    for source_id, target_id in edges:
        source, target = index_of.get(source_id), index_of.get(target_id)
        if source is None or target is None:
            continue
        if column_of[source] < column_of[target]:
            left[target].append(source)
            right[source].append(target)
        elif column_of[target] < column_of[source]:
            left[source].append(target)
            right[target].append(source)
    position = [0] * len(ordered)
    for column in members.values():
        for place, index in enumerate(column):
            position[index] = place
    at = position.__getitem__
    for sweep in range(sweeps):
        forward = sweep % 2 == 0
        placed = left if forward else right
        moved = False
        for key in keys if forward else reversed(keys):
            column = members[key]
            # (mean, place, node): places are distinct, so the node never decides the order.
            ranked = [
                (sum(map(at, near)) / len(near) if (near := placed[index]) else float(place), place, index)
                for place, index in enumerate(column)
            ]
            ranked.sort()
            reordered = [entry[2] for entry in ranked]
            if reordered != column:
                moved = True
                members[key] = reordered
                for place, index in enumerate(reordered):
                    position[index] = place
        if not moved and sweep > 0:
            break  # a sweep each way changed nothing: the order is settled


def layered_svg(
    nodes: list[Node],
    edges: list[Edge],
    *,
    label: str,
    focus: str | None = None,
    vertical: bool = False,
    sweeps: int = SWEEPS,
    max_width: int = MAX_GRAPH_WIDTH,
    columns: Mapping[str, int] | None = None,
) -> str:
    """An SVG with one layer per distinct `Node.column`: columns left to right, or rows top
    down. Top down, a layer wider than `max_width` wraps onto several rows, so the drawing is
    never wider than that, however many cards share a layer. `columns`, when given, is each
    node's layer by id, in place of `Node.column` (one node serves many drawings)."""
    if not nodes:
        return ""
    layers = order_columns(nodes, edges, sweeps, columns)
    sizes = {node.id: node_size(node.label) for node in nodes}
    if vertical:
        limit = max_width - 2 * MARGIN
        rows = [
            row
            for key in sorted(layers)
            for row in wrap_row(layers[key], lambda node: sizes[node.id][0], limit, NODE_GAP)
        ]
        boxes = _place_rows(rows, sizes)
    else:
        boxes = _place_columns(layers, sizes)
    width = max(x + w for x, _, w, _ in boxes.values()) + MARGIN
    height = max(y + h for _, y, _, h in boxes.values()) + MARGIN
    # Edges first: the filled boxes drawn after them cover what they cross. All of them in
    # two paths, the curves and the arrowheads (edges into one side of a box share theirs):
    # about half the bytes, and two tags in all in place of three per edge, on every card
    # page, where each byte costs build time in every engine (Zensical's most: about 860
    # instructions a byte, docs/reference/benchmarks.md).
    curves: list[str] = []
    heads: dict[str, None] = {}
    # Columns left to right, each as its boxes: an edge that skips a column goes round the
    # boxes in it (found by an outside probe: the edge from a prerequisite to a dependent that
    # needs it too ran behind the card itself, as if through it). Rows top down keep their
    # edges straight: there, going round would pile every long edge up at the sides.
    keys = sorted(layers)
    rank = {key: index for index, key in enumerate(keys)}
    layer_of = columns if columns is not None else {node.id: node.column for node in nodes}
    column_of = {} if vertical else {node.id: rank[layer_of[node.id]] for node in nodes}
    column_boxes: list[list[Box]] = []
    for source, target in edges:
        if source in boxes and target in boxes:
            curve, head = _edge(boxes[source], boxes[target], vertical=vertical)
            first, last = column_of.get(source, 0), column_of.get(target, 0)
            if last - first > 1:
                if not column_boxes:
                    column_boxes = [[boxes[node.id] for node in layers[key]] for key in keys]
                curve = _detour(boxes[source], boxes[target], column_boxes, first, last) or curve
            curves.append(curve)
            heads[head] = None
            # A loop out of a column or under a row stays inside the drawing (found by an
            # outside probe: one out of the last column was cut off at the drawing's edge).
            sx, sy, sw, sh = boxes[source]
            tx, ty, tw, th = boxes[target]
            if not vertical and sx + sw > tx:
                width = max(width, max(sx + sw, tx + tw + 1) + COLUMN_LOOP + 2)
            elif vertical and sy + sh > ty and ty + th > sy:
                height = max(height, max(sy + sh, ty + th + 1) + ROW_LOOP + 2)
    out = [
        # Inline in the page: an HTML parser needs no xmlns. No role="img", which would hide
        # the node links inside from assistive technology (its children are presentational).
        '<svg class="cardbook-svg cardbook-svg--layered" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" aria-label="{escape(label)}">'
    ]
    if curves:
        out.append(f'<path class="cardbook-edges" d="{"".join(curves)}"/>')
        out.append(f'<path class="cardbook-arrowheads" d="{"".join(heads)}"/>')
    for key in keys:
        for node in layers[key]:
            out.append(_node(node, boxes[node.id], node.id == focus))
    out.append("</svg>")
    return "\n".join(out)


Box = tuple[int, int, int, int]  # x, y, width, height: whole pixels, short and stable output
Point = tuple[float, float]


def _place_columns(layers: dict[int, list[Node]], sizes: dict[str, tuple[int, int]]) -> dict[str, Box]:
    used = {key: sum(sizes[n.id][1] for n in col) + (len(col) - 1) * NODE_GAP for key, col in layers.items()}
    tallest = max(used.values())
    boxes: dict[str, Box] = {}
    x = MARGIN
    for key in sorted(layers):
        column = layers[key]
        column_width = max(sizes[node.id][0] for node in column)
        y = MARGIN + (tallest - used[key]) // 2
        for node in column:
            width, height = sizes[node.id]
            boxes[node.id] = (x + (column_width - width) // 2, y, width, height)
            y += height + NODE_GAP
        x += column_width + COLUMN_GAP
    return boxes


def _place_rows(rows: list[list[Node]], sizes: dict[str, tuple[int, int]]) -> dict[str, Box]:
    row_widths = [sum(sizes[n.id][0] for n in row) + (len(row) - 1) * NODE_GAP for row in rows]
    widest = max(row_widths)
    boxes: dict[str, Box] = {}
    y = MARGIN
    for row, row_width in zip(rows, row_widths, strict=True):
        row_height = max(sizes[node.id][1] for node in row)
        x = MARGIN + (widest - row_width) // 2
        for node in row:
            width, height = sizes[node.id]
            boxes[node.id] = (x, y + (row_height - height) // 2, width, height)
            x += width + NODE_GAP
        y += row_height + ROW_GAP
    return boxes


def _edge(source: Box, target: Box, *, vertical: bool) -> tuple[str, str]:
    """The path data of a curve from source to target and of its arrowhead; between boxes side
    by side the curve loops out of the layer."""
    sx, sy, sw, sh = source
    tx, ty, tw, th = target
    if not vertical and sx + sw <= tx:  # right side to left side: nearly every edge, so first
        x0, y0, x1, y1 = sx + sw, sy + sh // 2, tx - 1, ty + th // 2
        bend = (x1 - x0) // 2
        bx = x1 - 7
        return (
            f"M{x0},{y0}C{x0 + bend},{y0} {x1 - bend},{y1} {x1 - 6},{y1}",
            f"M{bx},{y1 + 4}L{x1},{y1} {bx},{y1 - 4}Z",
        )
    if vertical and sy + sh <= ty:  # bottom of the source to the top of the target
        x0, y0, x1, y1, dx, dy = sx + sw // 2, sy + sh, tx + tw // 2, ty - 1, 0, 1
        bend = (y1 - y0) // 2
        c1x, c1y, c2x, c2y = x0, y0 + bend, x1, y1 - bend
    elif vertical and ty + th <= sy:  # top of the source to the bottom of the target
        x0, y0, x1, y1, dx, dy = sx + sw // 2, sy, tx + tw // 2, ty + th + 1, 0, -1
        bend = (y0 - y1) // 2
        c1x, c1y, c2x, c2y = x0, y0 - bend, x1, y1 + bend
    elif vertical:  # same row: bottom to bottom, dipping under it
        x0, y0, x1, y1, dx, dy = sx + sw // 2, sy + sh, tx + tw // 2, ty + th + 1, 0, -1
        reach = max(y0, y1) + ROW_LOOP
        c1x, c1y, c2x, c2y = x0, reach, x1, reach
    else:  # same column: right side to right side, looping out to the right
        x0, y0, x1, y1, dx, dy = sx + sw, sy + sh // 2, tx + tw + 1, ty + th // 2, -1, 0
        reach = max(x0, x1) + COLUMN_LOOP
        c1x, c1y, c2x, c2y = reach, y0, reach, y1
    # The curve ends 6px short of the tip (dx, dy: the arrow's direction), the arrowhead's
    # base 7px short of it, 8px wide.
    bx, by = x1 - dx * 7, y1 - dy * 7
    return (
        f"M{x0},{y0}C{c1x},{c1y} {c2x},{c2y} {x1 - dx * 6},{y1 - dy * 6}",
        f"M{bx - dy * 4},{by + dx * 4}L{x1},{y1} {bx + dy * 4},{by - dx * 4}Z",
    )


DETOUR_CLEARANCE = 6  # pixels between a box and an edge going round it


def _detour(source: Box, target: Box, columns: list[list[Box]], first: int, last: int) -> str | None:
    """The curve of an edge from column `first` to column `last`, two or more apart, going
    round the boxes of the columns between on a free line: the one nearest to its ends'
    middle, above or below a box. None when the plain curve (_edge) touches none of them."""
    sx, sy, sw, sh = source
    tx, ty, _, th = target
    x0, y0, x1, y1 = sx + sw, sy + sh // 2, tx - 1, ty + th // 2
    between = [box for column in columns[first + 1 : last] for box in column]
    bend = (x1 - x0) // 2
    if not any(_curve_hits((x0, y0), (x0 + bend, y0), (x1 - bend, y1), (x1 - 6, y1), box) for box in between):
        return None
    blocked = [(y - DETOUR_CLEARANCE, y + h + DETOUR_CLEARANCE) for _, y, _, h in between]
    middle = (y0 + y1) / 2
    free = [middle, *(lane for low, high in blocked for lane in (low, high))]
    lane = min(
        (y for y in free if not any(low < y < high for low, high in blocked)),
        key=lambda y: (abs(y - middle), y),
    )
    # Straight to its column's edge, a bend in the gap to the lane, along it past the columns
    # between, a bend in the last gap, straight into the target.
    out_x = max(x + w for x, _, w, _ in columns[first])
    in_x = min(x for x, _, _, _ in columns[last])
    gap_in = min(x for x, _, _, _ in between) - 2
    gap_out = max(x + w for x, _, w, _ in between) + 2
    end = in_x - 7  # the curve ends 6px short of the arrow's tip, as _edge's
    into, outof = (out_x + gap_in) // 2, (gap_out + end) // 2
    lane = round(lane)
    return (
        f"M{x0},{y0}{f'L{out_x},{y0}' if out_x > x0 else ''}C{into},{y0} {into},{lane} {gap_in},{lane}"
        f"L{gap_out},{lane}C{outof},{lane} {outof},{y1} {end},{y1}{f'L{x1 - 6},{y1}' if x1 - 6 > end else ''}"
    )


def _curve_hits(p0: Point, p1: Point, p2: Point, p3: Point, box: Box, samples: int = 24) -> bool:
    """Whether the cubic Bezier curve p0..p3 passes through the box (a pixel inside its edges)."""
    x, y, w, h = box
    for step in range(1, samples):
        t = step / samples
        a, b, c, d = (1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t * t, t**3
        px = a * p0[0] + b * p1[0] + c * p2[0] + d * p3[0]
        py = a * p0[1] + b * p1[1] + c * p2[1] + d * p3[1]
        if x + 1 < px < x + w - 1 and y + 1 < py < y + h - 1:
            return True
    return False


def _node(node: Node, box: Box, is_focus: bool) -> str:
    """A node's box at its place. Its link is the page's own; the rest of its markup is the
    same wherever the card is drawn (drawn from the box's corner, moved there by a transform),
    so it is made once per card. A linked node is the link itself (`a.node`), an unlinked one
    a group (`g.node`)."""
    css, body = _node_markup(node.label, node.tooltip, node.classes, is_focus)
    place = f'transform="translate({box[0]},{box[1]})">'
    if node.href is None:
        return f'<g class="{css}" {place}{body}</g>'
    return f'<a class="{css}" href="{escape(node.href)}" {place}{body}</a>'


@functools.lru_cache(maxsize=16384)  # a card is drawn on its own page, its neighbours' and in goals
def _node_markup(label: str, tooltip: str, classes: str, is_focus: bool) -> tuple[str, str]:
    """A node's classes, and its tooltip, box and label relative to the box's corner: the
    first line of the label is the text's own, each further line a tspan at its own height,
    centred as a block on the box."""
    width, height = node_size(label)
    css = escape(f"node {classes}{' focus' if is_focus else ''}".strip())
    lines = [escape(line) for line in wrap_label(label)]
    centre = width // 2
    top = (height - (len(lines) - 1) * LINE_HEIGHT) // 2
    spans = "".join(
        f'<tspan x="{centre}" y="{top + index * LINE_HEIGHT}">{line}</tspan>'
        for index, line in enumerate(lines[1:], start=1)
    )
    return css, (
        f'<title>{escape(tooltip)}</title><rect width="{width}" height="{height}"/>'  # rx: the stylesheet
        f'<text x="{centre}" y="{top}">{lines[0]}{spans}</text>'
    )


# Any drawing ---------------------------------------------------------------------------------


_ROOT_WIDTH = re.compile(r'<svg\b[^>]*?\swidth="([\d.]+)(pt|px)?"')


def natural_width(svg: str) -> float | None:
    """The drawing's width at its natural size, in CSS pixels (Graphviz writes points)."""
    match = _ROOT_WIDTH.search(svg)
    if match is None:
        return None
    return float(match[1]) * (4 / 3 if match[2] == "pt" else 1)


def fit_width(svg: str, min_scale: float) -> str:
    """Let a drawing shrink to its container, but never below `min_scale` (then it scrolls).

    A small graph keeps its natural size, a wide one is scaled down while its labels stay
    readable; past that its frame scrolls.
    """
    natural = natural_width(svg)
    if natural is None:
        return svg
    # width: 100% and height: auto come from the stylesheet (`.cardbook-graph__scroll > svg`)
    style = f' style="max-width:{_number(natural)}px;min-width:{_number(natural * min_scale)}px"'
    return svg.replace("<svg", "<svg" + style, 1)
