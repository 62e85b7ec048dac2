"""Graphviz for the whole graph: the one DOT writer (used by the overview and by `cardbook graph
--format dot`), and a renderer that runs `dot` in the background with a cache by content."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import textwrap
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from .layered import Edge, Node, clip_label

DOT_LABEL_WIDTH = 24  # characters per line of a node label in the Graphviz drawing


# Past this many cards the overview is a map to scroll rather than a diagram to read: dot's
# crossing-minimisation and positioning passes are capped (mclimit, nslimit), which took the
# benchmark's 1000-card graph from 1.6 s to 0.5 s of CPU time for a drawing of the same shape.
DOT_QUICK_LAYOUT_NODES = 300


def _dot_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def _dot_label(label: str) -> str:
    """A title on at most two centred lines, so a rank of cards stays narrow."""
    rows = textwrap.wrap(label, DOT_LABEL_WIDTH) or [""]
    if len(rows) > 2:
        rows = [rows[0], clip_label(" ".join(rows[1:]))[:DOT_LABEL_WIDTH].rstrip() + "…"]
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
