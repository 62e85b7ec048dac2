"""Static SVG drawings of the card graph, made at build time.

Two renderers produce the same markup conventions (`g.node.cardbook-node.<status class>`
holding a link, `g.edge` holding a path and an arrowhead), so one stylesheet colours both
for the light and the dark palette:

- `layered_svg`: a small deterministic layout written here, columns chosen by the caller.
  No process, a few hundred microseconds per drawing: used for every card's neighbourhood,
  and for the overview when Graphviz is missing.
- `overview_dot` + `DotRenderer`: Graphviz `dot` for the whole graph, one process per build,
  started early in a thread and cached by the hash of its input.

Nothing here imports MkDocs; see docs/explanation/graph-rendering.md for the choices.
"""

from __future__ import annotations

import functools
import hashlib
import html
import os
import re
import shutil
import subprocess
import tempfile
import textwrap
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

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
DOT_LABEL_WIDTH = 24  # characters per line of a node label in the Graphviz drawing
# Past this many cards the overview is a map to scroll rather than a diagram to read: dot's
# crossing-minimisation and positioning passes are capped (mclimit, nslimit), which took the
# benchmark's 1000-card graph from 1.6 s to 0.5 s of CPU time for a drawing of the same shape.
DOT_QUICK_LAYOUT_NODES = 300


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


# Labels, tooltips and links recur across the pages of a build: escape each once.
escape = functools.lru_cache(maxsize=16384)(html.escape)


def _clip(label: str) -> str:
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
        node.id: max(MIN_NODE_WIDTH, round(len(_clip(node.label)) * CHAR_WIDTH + 20))
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
        f"{escape(_clip(node.label))}</text>"
    )
    if node.href is not None:
        shape = f'<a href="{escape(node.href)}">{shape}</a>'
    return f'<g class="{escape(classes.strip())}">{shape}</g>'


# Graphviz ---------------------------------------------------------------------------------


def _dot_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def _dot_label(label: str) -> str:
    """A title on at most two centred lines, so a rank of cards stays narrow."""
    rows = textwrap.wrap(label, DOT_LABEL_WIDTH) or [""]
    if len(rows) > 2:
        rows = [rows[0], _clip(" ".join(rows[1:]))[:DOT_LABEL_WIDTH].rstrip() + "…"]
    return '"' + "\\n".join(_dot_quote(row)[1:-1] for row in rows) + '"'


def overview_dot(nodes: Iterable[Node], edges: Iterable[Edge]) -> str:
    """Graphviz source for the whole graph, prerequisites above the cards that need them.

    Top to bottom suits a page: a deep chain scrolls with the page, and only the widest rank
    has to fit across (a left-to-right drawing of a 12-card chain is already too wide).
    """
    nodes = sorted(nodes, key=lambda n: n.id)
    quick = ", mclimit=0.3, nslimit=1" if len(nodes) > DOT_QUICK_LAYOUT_NODES else ""
    lines = [
        "digraph cardbook {",
        f'  graph [rankdir=TB, bgcolor="transparent", nodesep=0.2, ranksep=0.35{quick}];',
        '  node [shape=box, style="rounded,filled", fillcolor="#ffffff", color="#888888", '
        'fontname="Helvetica", fontsize=11, height=0.3, margin="0.12,0.04"];',
        '  edge [arrowsize=0.6, color="#888888"];',
    ]
    for node in nodes:
        attributes = {
            "tooltip": node.tooltip,
            "class": f"cardbook-node {node.classes}",
        }
        if node.href is not None:
            attributes |= {"URL": node.href, "target": "_top"}
        rendered = ", ".join(f"{key}={_dot_quote(value)}" for key, value in attributes.items())
        lines.append(f"  {_dot_quote(node.id)} [label={_dot_label(node.label)}, {rendered}];")
    for edge in sorted(edges, key=lambda e: (e.source, e.target)):
        lines.append(f"  {_dot_quote(edge.source)} -> {_dot_quote(edge.target)};")
    lines.append("}")
    return "\n".join(lines) + "\n"


_XML_PROLOGUE = re.compile(r"<\?xml.*?\?>|<!DOCTYPE.*?>|<!--.*?-->", re.DOTALL)
_SVG_OPEN = re.compile(r"<svg\b")


def inline_svg(dot_output: str) -> str:
    """dot's standalone SVG made fit to sit inside an HTML page."""
    svg = _XML_PROLOGUE.sub("", dot_output).strip().replace("&#45;", "-")  # dot escapes every hyphen
    return _SVG_OPEN.sub('<svg class="cardbook-svg"', svg, count=1)


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


class DotError(Exception):
    pass


def _cache_dir() -> Path | None:
    """A per-user cache folder, or None when there is no safe place for one."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    folder = Path(base) / "cardbook" / "svg"
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        info = folder.stat()
    except OSError:
        return None
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        return None  # someone else's folder: its contents would end up in our site
    return folder


class DotRenderer:
    """Runs Graphviz in the background; results are cached in memory and on disk."""

    CACHE_ENTRIES = 64  # drawings kept on disk, newest first
    TIMEOUT = 120.0

    def __init__(self, executable: str | None = None, cache_dir: Path | bool | None = True) -> None:
        self.executable = executable if executable is not None else shutil.which("dot")
        self.cache_dir = _cache_dir() if cache_dir is True else (cache_dir or None)
        self._memory: dict[str, str] = {}
        self._pool: ThreadPoolExecutor | None = None

    @property
    def available(self) -> bool:
        return self.executable is not None

    def submit(self, source: str) -> Future[str]:
        """Start drawing `source`; the future gives inline SVG or raises DotError."""
        key = hashlib.sha256(source.encode()).hexdigest()
        cached = self._memory.get(key) or self._read_cache(key)
        future: Future[str]
        if cached is not None:
            self._memory[key] = cached
            future = Future()
            future.set_result(cached)
            return future
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cardbook-dot")
        return self._pool.submit(self._render, key, source)

    def _render(self, key: str, source: str) -> str:
        if self.executable is None:
            raise DotError("Graphviz dot is not installed")
        try:
            done = subprocess.run(
                [self.executable, "-Tsvg"],
                input=source.encode(),
                capture_output=True,
                timeout=self.TIMEOUT,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise DotError(f"Graphviz dot failed: {exc}") from None
        if done.returncode != 0:
            detail = done.stderr.decode(errors="replace").strip().splitlines()
            raise DotError(f"Graphviz dot failed: {detail[-1] if detail else done.returncode}")
        svg = inline_svg(done.stdout.decode("utf-8", errors="replace"))
        self._memory[key] = svg
        self._write_cache(key, svg)
        return svg

    def _read_cache(self, key: str) -> str | None:
        if self.cache_dir is None:
            return None
        try:
            return (self.cache_dir / f"{key}.svg").read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None

    def _write_cache(self, key: str, svg: str) -> None:
        if self.cache_dir is None:
            return
        try:
            handle, temporary = tempfile.mkstemp(dir=self.cache_dir, suffix=".tmp")
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                stream.write(svg)
            os.replace(temporary, self.cache_dir / f"{key}.svg")
            entries = sorted(self.cache_dir.glob("*.svg"), key=lambda p: p.stat().st_mtime, reverse=True)
            for old in entries[self.CACHE_ENTRIES :]:
                old.unlink(missing_ok=True)
        except OSError:
            pass  # a cache is a convenience: a read-only home still builds

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
