"""The layered drawing: a small deterministic SVG layout written here, columns chosen by the
caller. No process, a few hundred microseconds per drawing: used for every card's
neighbourhood, and for the overview when Graphviz is missing.

It uses the same markup conventions as Graphviz's drawing in dot.py (`g.node.cardbook-node.
<status class>` holding a link, `g.edge` holding a path and an arrowhead), so one stylesheet
colours both for the light and the dark palette. See docs/explanation/graph-rendering.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .urls import escape

# Layout constants of the layered drawing, in CSS pixels.
NODE_HEIGHT = 30
NODE_GAP = 12
COLUMN_GAP = 64
ROW_GAP = 40
MARGIN = 8
CHAR_WIDTH = 7.0  # average advance of the 12px sans-serif the stylesheet sets
MIN_NODE_WIDTH = 64
MAX_LABEL_CHARS = 30
SWEEPS = 2  # barycenter passes: one each way settles a neighbourhood; more help big graphs


@dataclass(frozen=True)
class Node:
    id: str
    label: str
    tooltip: str
    href: str | None
    classes: str  # extra classes, e.g. the status class and "open"/"closed"
    column: int


@dataclass(frozen=True)
class Edge:
    """Drawn from `source` to `target`, the arrowhead at `target`."""

    source: str
    target: str




def clip_label(label: str) -> str:
    return label if len(label) <= MAX_LABEL_CHARS else label[: MAX_LABEL_CHARS - 1].rstrip() + "…"


def _number(value: float) -> str:
    """Coordinates rounded to whole pixels: short and stable output."""
    return str(round(value))


def order_columns(nodes: list[Node], edges: list[Edge], sweeps: int = SWEEPS) -> dict[int, list[Node]]:
    """Nodes per column, ordered to reduce edge crossings (barycenter heuristic).

    Each sweep moves every node of a column towards the mean position of its neighbours in
    the columns already placed: left to right, then right to left, and so on.
    """
    columns: dict[int, list[Node]] = {}
    for node in sorted(nodes, key=lambda n: (n.column, n.label.casefold(), n.id)):
        columns.setdefault(node.column, []).append(node)
    if all(len(column) < 2 for column in columns.values()):
        return columns  # nothing to reorder
    column_of = {node.id: node.column for node in nodes}
    left: dict[str, list[str]] = {node.id: [] for node in nodes}  # neighbours in lower columns
    right: dict[str, list[str]] = {node.id: [] for node in nodes}
    for edge in edges:
        source, target = edge.source, edge.target
        if source not in column_of or target not in column_of:
            continue
        if column_of[source] < column_of[target]:
            left[target].append(source)
            right[source].append(target)
        elif column_of[target] < column_of[source]:
            left[source].append(target)
            right[target].append(source)
    position = {node.id: index for column in columns.values() for index, node in enumerate(column)}
    keys = sorted(columns)
    for sweep in range(sweeps):
        forward = sweep % 2 == 0
        placed = left if forward else right
        for key in keys if forward else reversed(keys):
            column = columns[key]
            if len(column) < 2:
                continue
            ranked = []
            for index, node in enumerate(column):
                others = placed[node.id]
                mean = sum(position[other] for other in others) / len(others) if others else float(index)
                ranked.append((mean, index, node))
            ranked.sort(key=lambda entry: (entry[0], entry[1]))
            columns[key] = column = [entry[2] for entry in ranked]
            for index, node in enumerate(column):
                position[node.id] = index
    return columns


def layered_svg(
    nodes: list[Node],
    edges: list[Edge],
    *,
    label: str,
    focus: str | None = None,
    vertical: bool = False,
    sweeps: int = SWEEPS,
) -> str:
    """An SVG with one layer per distinct `Node.column`: columns left to right, or rows top down."""
    if not nodes:
        return ""
    layers = order_columns(nodes, edges, sweeps)
    widths = {
        node.id: max(MIN_NODE_WIDTH, round(len(clip_label(node.label)) * CHAR_WIDTH + 20))
        for layer in layers.values()
        for node in layer
    }
    boxes = _place_rows(layers, widths) if vertical else _place_columns(layers, widths)
    width = max(x + w for x, _, w in boxes.values()) + MARGIN
    height = max(y for _, y, _ in boxes.values()) + NODE_HEIGHT + MARGIN
    out = [
        '<svg xmlns="http://www.w3.org/2000/svg" class="cardbook-svg cardbook-svg--layered" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-label="{escape(label)}">'
    ]
    layer_of = {node.id: node.column for node in nodes}
    for edge in edges:
        if edge.source in boxes and edge.target in boxes:
            forward = layer_of[edge.source] < layer_of[edge.target]
            out.append(_edge(boxes[edge.source], boxes[edge.target], forward=forward, vertical=vertical))
    for key in sorted(layers):
        for node in layers[key]:
            out.append(_node(node, boxes[node.id], node.id == focus))
    out.append("</svg>")
    return "\n".join(out)


Box = tuple[int, int, int]  # x, y, width: whole pixels, so the output is short and stable


def _place_columns(layers: dict[int, list[Node]], widths: dict[str, int]) -> dict[str, Box]:
    tallest = max(len(layer) for layer in layers.values())
    height = tallest * NODE_HEIGHT + (tallest - 1) * NODE_GAP + 2 * MARGIN
    boxes: dict[str, Box] = {}
    x = MARGIN
    for key in sorted(layers):
        column = layers[key]
        column_width = max(widths[node.id] for node in column)
        used = len(column) * NODE_HEIGHT + (len(column) - 1) * NODE_GAP
        y = (height - used) // 2
        for node in column:
            boxes[node.id] = (x + (column_width - widths[node.id]) // 2, y, widths[node.id])
            y += NODE_HEIGHT + NODE_GAP
        x += column_width + COLUMN_GAP
    return boxes


def _place_rows(layers: dict[int, list[Node]], widths: dict[str, int]) -> dict[str, Box]:
    row_widths = {
        key: sum(widths[n.id] for n in row) + (len(row) - 1) * NODE_GAP for key, row in layers.items()
    }
    widest = max(row_widths.values())
    boxes: dict[str, Box] = {}
    y = MARGIN
    for key in sorted(layers):
        x = MARGIN + (widest - row_widths[key]) // 2
        for node in layers[key]:
            boxes[node.id] = (x, y, widths[node.id])
            x += widths[node.id] + NODE_GAP
        y += NODE_HEIGHT + ROW_GAP
    return boxes


def _edge(source: Box, target: Box, *, forward: bool, vertical: bool) -> str:
    """A curve from source to target; a same-layer or backward edge loops out to the side."""
    sx, sy, sw = source
    tx, ty, tw = target
    if vertical:
        if forward:  # bottom of the source to the top of the target
            start, end, direction = (sx + sw // 2, sy + NODE_HEIGHT), (tx + tw // 2, ty - 1), "down"
            bend = (end[1] - start[1]) // 2
            controls = (start[0], start[1] + bend), (end[0], end[1] - bend)
        else:  # bottom to bottom, dipping under the layer
            start, end, direction = (
                (sx + sw // 2, sy + NODE_HEIGHT),
                (tx + tw // 2, ty + NODE_HEIGHT + 1),
                "up",
            )
            reach = max(start[1], end[1]) + 30
            controls = (start[0], reach), (end[0], reach)
    elif forward:  # right side of the source to the left side of the target
        start, end, direction = (sx + sw, sy + NODE_HEIGHT // 2), (tx - 1, ty + NODE_HEIGHT // 2), "right"
        bend = (end[0] - start[0]) // 2
        controls = (start[0] + bend, start[1]), (end[0] - bend, end[1])
    else:  # right side to right side, looping out to the right
        start, end, direction = (sx + sw, sy + NODE_HEIGHT // 2), (tx + tw + 1, ty + NODE_HEIGHT // 2), "left"
        reach = max(start[0], end[0]) + 36
        controls = (reach, start[1]), (reach, end[1])
    back = _step_back(end, direction, 6)
    (c1x, c1y), (c2x, c2y) = controls
    path = f"M{start[0]},{start[1]} C{c1x},{c1y} {c2x},{c2y} {back[0]},{back[1]}"
    return f'<g class="edge"><path d="{path}"/>{_arrowhead(end, direction)}</g>'


_DIRECTIONS = {"right": (1, 0), "left": (-1, 0), "down": (0, 1), "up": (0, -1)}


def _step_back(point: tuple[int, int], direction: str, distance: int) -> tuple[int, int]:
    dx, dy = _DIRECTIONS[direction]
    return point[0] - dx * distance, point[1] - dy * distance


def _arrowhead(tip: tuple[int, int], direction: str) -> str:
    """A small triangle whose point is `tip`, pointing in `direction`."""
    dx, dy = _DIRECTIONS[direction]
    base = _step_back(tip, direction, 7)
    left = (base[0] - dy * 4, base[1] + dx * 4)
    right = (base[0] + dy * 4, base[1] - dx * 4)
    return f'<polygon points="{left[0]},{left[1]} {tip[0]},{tip[1]} {right[0]},{right[1]}"/>'


def _node(node: Node, box: Box, is_focus: bool) -> str:
    x, y, width = box
    classes = f"node cardbook-node {node.classes}" + (" focus" if is_focus else "")
    shape = (
        f"<title>{escape(node.tooltip)}</title>"
        f'<rect x="{x}" y="{y}" width="{width}" height="{NODE_HEIGHT}" rx="6"/>'
        f'<text x="{x + width // 2}" y="{y + NODE_HEIGHT // 2}">'
        f"{escape(clip_label(node.label))}</text>"
    )
    if node.href is not None:
        shape = f'<a href="{escape(node.href)}">{shape}</a>'
    return f'<g class="{escape(classes.strip())}">{shape}</g>'


# Graphviz ---------------------------------------------------------------------------------


_ROOT_WIDTH = re.compile(r'<svg\b[^>]*?\swidth="([\d.]+)(pt|px)?"')


def fit_width(svg: str, min_scale: float) -> str:
    """Let a drawing shrink to its container, but never below `min_scale` (then it scrolls).

    A small graph keeps its natural size, a wide one is scaled down while its labels stay
    readable; past that its frame scrolls.
    """
    match = _ROOT_WIDTH.search(svg)
    if match is None:
        return svg
    natural = float(match[1]) * (4 / 3 if match[2] == "pt" else 1)
    style = (
        f' style="width: 100%; height: auto; max-width: {_number(natural)}px; '
        f'min-width: {_number(natural * min_scale)}px"'
    )
    return svg.replace("<svg", "<svg" + style, 1)

