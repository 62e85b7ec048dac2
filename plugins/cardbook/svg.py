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

import hashlib
import html
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

# Layout constants of the layered drawing, in CSS pixels.
NODE_HEIGHT = 30
NODE_GAP = 12
COLUMN_GAP = 64
MARGIN = 8
CHAR_WIDTH = 7.0  # average advance of the 12px sans-serif the stylesheet sets
MIN_NODE_WIDTH = 64
MAX_LABEL_CHARS = 30
BARYCENTER_SWEEPS = 4


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


def _clip(label: str) -> str:
    return label if len(label) <= MAX_LABEL_CHARS else label[: MAX_LABEL_CHARS - 1].rstrip() + "…"


def _number(value: float) -> str:
    """Short, stable number formatting for coordinates."""
    return f"{value:.1f}".rstrip("0").rstrip(".")


def order_columns(nodes: list[Node], edges: list[Edge]) -> dict[int, list[Node]]:
    """Nodes per column, ordered to reduce edge crossings (barycenter heuristic)."""
    columns: dict[int, list[Node]] = {}
    for node in sorted(nodes, key=lambda n: (n.column, n.label.casefold(), n.id)):
        columns.setdefault(node.column, []).append(node)
    neighbours: dict[str, list[str]] = {node.id: [] for node in nodes}
    for edge in edges:
        if edge.source in neighbours and edge.target in neighbours:
            neighbours[edge.source].append(edge.target)
            neighbours[edge.target].append(edge.source)
    column_of = {node.id: node.column for node in nodes}
    position = {node.id: index for column in columns.values() for index, node in enumerate(column)}

    def barycenter(node: Node, forward: bool) -> tuple[float, int]:
        # Mean position of the neighbours in the columns already placed during this sweep.
        placed = [
            position[other]
            for other in neighbours[node.id]
            if (column_of[other] < node.column if forward else column_of[other] > node.column)
        ]
        return (sum(placed) / len(placed) if placed else float(position[node.id]), position[node.id])

    keys = sorted(columns)
    for sweep in range(BARYCENTER_SWEEPS):
        forward = sweep % 2 == 0
        for key in keys if forward else reversed(keys):
            columns[key] = sorted(columns[key], key=lambda node: barycenter(node, forward))
            position.update({node.id: index for index, node in enumerate(columns[key])})
    return columns


def layered_svg(nodes: list[Node], edges: list[Edge], *, label: str, focus: str | None = None) -> str:
    """An SVG with one column per distinct `Node.column`, left to right."""
    if not nodes:
        return ""
    columns = order_columns(nodes, edges)
    widths = {
        node.id: max(MIN_NODE_WIDTH, round(len(_clip(node.label)) * CHAR_WIDTH + 20))
        for column in columns.values()
        for node in column
    }
    tallest = max(len(column) for column in columns.values())
    height = tallest * NODE_HEIGHT + (tallest - 1) * NODE_GAP + 2 * MARGIN
    boxes: dict[str, tuple[float, float, float]] = {}  # id -> (x, y, width)
    x = float(MARGIN)
    for key in sorted(columns):
        column = columns[key]
        column_width = max(widths[node.id] for node in column)
        used = len(column) * NODE_HEIGHT + (len(column) - 1) * NODE_GAP
        y = (height - used) / 2
        for node in column:
            width = widths[node.id]
            boxes[node.id] = (x + (column_width - width) / 2, y, width)
            y += NODE_HEIGHT + NODE_GAP
        x += column_width + COLUMN_GAP
    width = x - COLUMN_GAP + MARGIN
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="cardbook-svg" viewBox="0 0 {_number(width)} '
        f'{_number(height)}" width="{_number(width)}" height="{_number(height)}" role="img" '
        f'aria-label="{html.escape(label)}">'
    ]
    column_of = {node.id: node.column for node in nodes}
    for edge in edges:
        if edge.source in boxes and edge.target in boxes:
            columns_spanned = (column_of[edge.source], column_of[edge.target])
            out.append(_edge(boxes[edge.source], boxes[edge.target], *columns_spanned))
    for key in sorted(columns):
        for node in columns[key]:
            out.append(_node(node, boxes[node.id], node.id == focus))
    out.append("</svg>")
    return "\n".join(out)


Box = tuple[float, float, float]  # x, y, width


def _edge(source: Box, target: Box, source_column: int, target_column: int) -> str:
    sx, sy, sw = source
    tx, ty, tw = target
    sy += NODE_HEIGHT / 2
    ty += NODE_HEIGHT / 2
    if source_column < target_column:  # the usual case: left to right
        start, end = (sx + sw, sy), (tx - 1, ty)
        bend = (end[0] - start[0]) / 2
        path = f"M{_number(start[0])},{_number(sy)} C{_number(start[0] + bend)},{_number(sy)} " + (
            f"{_number(end[0] - bend)},{_number(ty)} {_number(end[0] - 6)},{_number(ty)}"
        )
        head = _arrowhead(end, pointing_right=True)
    else:  # same column or backwards (only in a cycle): a loop out to the right
        start, end = (sx + sw, sy), (tx + tw + 1, ty)
        reach = max(start[0], end[0]) + 36
        path = f"M{_number(start[0])},{_number(sy)} C{_number(reach)},{_number(sy)} " + (
            f"{_number(reach)},{_number(ty)} {_number(end[0] + 6)},{_number(ty)}"
        )
        head = _arrowhead(end, pointing_right=False)
    return f'<g class="edge"><path d="{path}"/>{head}</g>'


def _arrowhead(tip: tuple[float, float], *, pointing_right: bool) -> str:
    x, y = tip
    back = x - 7 if pointing_right else x + 7
    points = f"{_number(back)},{_number(y - 4)} {_number(x)},{_number(y)} {_number(back)},{_number(y + 4)}"
    return f'<polygon points="{points}"/>'


def _node(node: Node, box: tuple[float, float, float], is_focus: bool) -> str:
    x, y, width = box
    classes = f"node cardbook-node {node.classes}" + (" focus" if is_focus else "")
    shape = (
        f'<title>{html.escape(node.tooltip)}</title><rect x="{_number(x)}" y="{_number(y)}" '
        f'width="{_number(width)}" height="{NODE_HEIGHT}" rx="6"/>'
        f'<text x="{_number(x + width / 2)}" y="{_number(y + NODE_HEIGHT / 2)}">'
        f"{html.escape(_clip(node.label))}</text>"
    )
    if node.href is not None:
        shape = f'<a href="{html.escape(node.href)}">{shape}</a>'
    return f'<g class="{html.escape(classes.strip())}">{shape}</g>'


# Graphviz ---------------------------------------------------------------------------------


def _dot_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def overview_dot(nodes: Iterable[Node], edges: Iterable[Edge]) -> str:
    """Graphviz source for the whole graph; columns are left to dot's ranking."""
    lines = [
        "digraph cardbook {",
        '  graph [rankdir=LR, bgcolor="transparent", nodesep=0.18, ranksep=0.45];',
        '  node [shape=box, style="rounded,filled", fillcolor="#ffffff", color="#888888", '
        'fontname="Helvetica", fontsize=11, height=0.3, margin="0.12,0.04"];',
        '  edge [arrowsize=0.6, color="#888888"];',
    ]
    for node in sorted(nodes, key=lambda n: n.id):
        attributes = {
            "label": _clip(node.label),
            "tooltip": node.tooltip,
            "class": f"cardbook-node {node.classes}",
        }
        if node.href is not None:
            attributes |= {"URL": node.href, "target": "_top"}
        rendered = ", ".join(f"{key}={_dot_quote(value)}" for key, value in attributes.items())
        lines.append(f"  {_dot_quote(node.id)} [{rendered}];")
    for edge in sorted(edges, key=lambda e: (e.source, e.target)):
        lines.append(f"  {_dot_quote(edge.source)} -> {_dot_quote(edge.target)};")
    lines.append("}")
    return "\n".join(lines) + "\n"


_XML_PROLOGUE = re.compile(r"<\?xml.*?\?>|<!DOCTYPE.*?>|<!--.*?-->", re.DOTALL)
_SVG_OPEN = re.compile(r"<svg\b")


def inline_svg(dot_output: str) -> str:
    """dot's standalone SVG made fit to sit inside an HTML page."""
    svg = _XML_PROLOGUE.sub("", dot_output).strip()
    return _SVG_OPEN.sub('<svg class="cardbook-svg"', svg, count=1)


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
