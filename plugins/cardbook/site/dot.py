"""Graphviz for the whole graph: the one DOT writer (used by the "All cards graph" page and by
`cardbook graph --format dot`), and a renderer that runs `dot` in the background with a cache
by content."""

from __future__ import annotations

import hashlib
import html
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from .layered import MAX_GRAPH_WIDTH, Edge, Node, natural_width, order_columns, wrap_label, wrap_row
from .urls import escape

DOT_LABEL_WIDTH = 24  # characters per line of a node label in the Graphviz drawing


# Past this many cards the overview is a map to scroll rather than a diagram to read: dot's
# crossing-minimisation and positioning passes are capped (mclimit, nslimit), which took the
# benchmark's 1000-card graph from 1.6 s to 0.5 s of CPU time for a drawing of the same shape.
DOT_QUICK_LAYOUT_NODES = 300

# What a node's box is taken to be wide, in points, when a layer is wrapped onto rows: 11pt
# Helvetica is about 5.5pt a character on average, its box margins twice 0.12in. On the wide side:
# dot's own measure decides, and a drawing wider than asked is not used (see fits()).
DOT_CHAR_WIDTH = 6.0
DOT_BOX_MARGIN = 20.0
DOT_NODESEP = 14.4  # nodesep=0.2 (inches), in points
DOT_PASSING_EDGE = DOT_NODESEP + 2  # the slot dot gives an edge passing a row
DOT_ROW_SHARE = 0.7  # of the width, for a row's boxes; the rest for the edges passing it
DOT_MAX_PASSING = 2000  # slots in all: past this, dot takes seconds and cardbook draws instead
ROW_PREFIX = "/row"  # invisible nodes that hold the rows in order; no card stem has a "/"


def _dot_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def _dot_label(label: str) -> str:
    """The whole title on centred lines, so a rank of cards stays narrow and nothing is cut.
    Its `&` written as `&amp;`: dot passes an entity in a label through to the SVG, which would
    show a title's literal `&lt;` as `<`."""
    rows = wrap_label(label, DOT_LABEL_WIDTH)
    return '"' + "\\n".join(_dot_quote(row.replace("&", "&amp;"))[1:-1] for row in rows) + '"'


def _box_width(node: Node) -> float:
    longest = max(len(line) for line in wrap_label(node.label, DOT_LABEL_WIDTH))
    return longest * DOT_CHAR_WIDTH + DOT_BOX_MARGIN


def overview_dot(
    nodes: Iterable[Node], edges: Iterable[Edge], *, rows: list[list[Node]] | None = None
) -> str:
    """Graphviz source for a graph; `a -> b` for every Edge(a, b).

    With `rows` (from dot_rows), each row is a rank of its own, top down, and edges point up,
    from a prerequisite to the card above that needs it. Without, dot ranks the nodes itself.
    """
    nodes = sorted(nodes, key=lambda n: n.id)
    edges = sorted(edges, key=lambda e: (e.source, e.target))
    quick = ", mclimit=0.3, nslimit=1" if len(nodes) > DOT_QUICK_LAYOUT_NODES else ""
    ranked = ", newrank=true" if rows is not None else ""
    lines = [
        "digraph cardbook {",
        f'  graph [rankdir=TB, bgcolor="transparent", nodesep=0.2, ranksep=0.35{quick}{ranked}];',
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
    if rows is None:
        lines.extend(f"  {_dot_quote(edge.source)} -> {_dot_quote(edge.target)};" for edge in edges)
    else:
        # Each row a rank, held in order by a chain of invisible anchors, one above the other
        # (weight); each anchor left of its row's cards, so rows start together on the left
        # instead of drifting apart sideways, which widened the drawing by half.
        anchors = [f'"{ROW_PREFIX}{index}"' for index in range(len(rows))]
        for anchor, row in zip(anchors, rows, strict=True):
            members = [_dot_quote(node.id) for node in row]
            lines.append(f'  {anchor} [shape=point, style=invis, width=0.01, height=0.01, label=""];')
            lines.append(f"  {{rank=same; {anchor}; {'; '.join(members)}}}")
            lines.extend(f"  {anchor} -> {member} [style=invis];" for member in members)
        if len(rows) > 1:
            lines.append(f"  {' -> '.join(anchors)} [style=invis, weight=1000];")
        # Written from the upper card down to its prerequisite (the ranks' order), arrow at the card.
        lines.extend(
            f"  {_dot_quote(edge.target)} -> {_dot_quote(edge.source)} [dir=back];" for edge in edges
        )
    lines.append("}")
    return "\n".join(lines) + "\n"


def dot_rows(nodes: list[Node], edges: list[Edge], max_width: float) -> list[list[Node]] | None:
    """The layers (`Node.column`, top down) wrapped onto rows for dot to draw within
    `max_width` CSS pixels; None when it could not: dot gives every edge that passes a row on
    its way further down a slot of its own between the boxes, and too many of them widen a row
    past the page (or make dot slow: a 1000-card runbook took it 18 s)."""
    layers = order_columns(nodes, edges, sweeps=4)  # who shares a row: neighbours, as far as can be
    limit = max_width * 0.75  # CSS pixels to points
    share = limit * DOT_ROW_SHARE
    rows = [row for key in sorted(layers) for row in wrap_row(layers[key], _box_width, share, DOT_NODESEP)]
    row_of = {node.id: index for index, row in enumerate(rows) for node in row}
    passing = [0] * (len(rows) + 1)  # edges passing each row, as a difference array
    for edge in edges:
        low, high = sorted((row_of[edge.source], row_of[edge.target]))
        if high - low > 1:
            passing[low + 1] += 1
            passing[high] -= 1
    running = total = 0
    for index, row in enumerate(rows):
        running += passing[index]
        total += running
        boxes = sum(_box_width(node) for node in row) + DOT_NODESEP * (len(row) - 1)
        if boxes + running * DOT_PASSING_EDGE > limit - DOT_NODESEP:  # the row's invisible anchor too
            return None
    return rows if total <= DOT_MAX_PASSING else None


_XML_PROLOGUE = re.compile(r"<\?xml.*?\?>|<!DOCTYPE.*?>|<!--.*?-->", re.DOTALL)


_SVG_OPEN = re.compile(r"<svg\b")


def inline_svg(dot_output: str) -> str:
    """dot's standalone SVG made fit to sit inside an HTML page."""
    svg = _XML_PROLOGUE.sub("", dot_output).strip().replace("&#45;", "-")  # dot escapes every hyphen
    return _SVG_OPEN.sub('<svg class="cardbook-svg"', svg, count=1)


_NODE_TITLE = re.compile(r'(<g id="node\d+" class="node[^"]*">\s*<title>)(.*?)(</title>)')


def titled_svg(svg: str, tooltips: Mapping[str, str]) -> str:
    """dot's drawing with each node's tooltip as its <title>, which browsers show on hover
    (dot writes the node's name there, here a card's file name)."""

    def retitle(found: re.Match[str]) -> str:
        tooltip = tooltips.get(html.unescape(found[2]))
        return found[0] if tooltip is None else found[1] + escape(tooltip) + found[3]

    return _NODE_TITLE.sub(retitle, svg)


def fits(svg: str, max_width: float = MAX_GRAPH_WIDTH) -> bool:
    """Whether a drawing is at most `max_width` CSS pixels wide at its natural size."""
    width = natural_width(svg)
    return width is not None and width <= max_width  # dot's width: whole points, rounded up


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
