"""Code blocks that tangle: their title (the target) and the caption in their title bar that
says which part they are and links the blocks before and after them."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from cardbook.core.cards import Card
from cardbook.core.fences import FENCE_LINE
from cardbook.core.tangle import TangleResult

from .context import PageContext
from .styles import title_of
from .urls import escape, link_html

BLOCK_ANCHOR = "cardbook-block-{line}"  # id of the caption above a tangling fence


@dataclass(frozen=True)
class BlockRef:
    stem: str
    line: int


def _parts_of_files(tangled: TangleResult) -> dict[str, list[BlockRef]]:
    """For each file, its own (file=) fences in the order they appear in it."""
    parts: dict[str, list[BlockRef]] = {}
    for path, output in tangled.files.items():
        seen: list[BlockRef] = []
        for segment in output.segments:
            ref = BlockRef(segment.stem, segment.fence_line)
            if segment.name == path and ref not in seen:
                seen.append(ref)
        parts[path] = seen
    return parts


@dataclass
class FenceIndex:
    """Where each tangling fence sits among the blocks sharing its name."""

    tangled: TangleResult
    file_parts: dict[str, list[BlockRef]] = field(init=False)
    chunk_parts: dict[str, list[BlockRef]] = field(init=False)
    fence_files: dict[tuple[str, int], list[str]] = field(init=False)  # (card, fence line) -> files
    # card -> its tangling fences: a page asks twice, before Markdown (titles) and after (captions)
    by_card: dict[str, list[TanglingFence]] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.file_parts = _parts_of_files(self.tangled)
        self.chunk_parts = {}
        for stem, fences in self.tangled.fences.items():  # the cards in tangle order
            for fence in fences:
                if fence.id is not None and fence.id not in self.tangled.files:
                    self.chunk_parts.setdefault(fence.id, []).append(BlockRef(stem, fence.line))
        self.fence_files = {}
        for path, output in sorted(self.tangled.files.items()):
            for segment in output.segments:
                targets = self.fence_files.setdefault((segment.stem, segment.fence_line), [])
                if path not in targets:
                    targets.append(path)


_TITLE_ATTRIBUTE = re.compile(r"(?:^|[\s{])title=")


def _with_title(info: str, title: str) -> str:
    """The info string with a superfences title added inside its braces."""
    stripped = info.rstrip()
    if not stripped.endswith("}") or _TITLE_ATTRIBUTE.search(stripped) or '"' in title:
        return info
    return stripped[:-1].rstrip() + f' title="{title}"}}'


def _neighbour_link(
    ref: BlockRef,
    here: BlockRef,
    word: str,
    ctx: PageContext,
) -> str:
    """`after <card>`; a part in the same card is "the part above" or "the part below"."""
    graph, links, page_url = ctx.graph, ctx.links, ctx.page_url
    anchor = BLOCK_ANCHOR.format(line=ref.line)
    if ref.stem == here.stem:
        where = "the part above" if ref.line < here.line else "the part below"
        return f"{word} {link_html('#' + anchor, where)}"
    card = graph.cards.get(ref.stem)
    name = escape(title_of(card)) if card else escape(ref.stem)
    return f"{word} {link_html(links.card(ref.stem, page_url, anchor), name)}"


@dataclass(frozen=True)
class TanglingFence:
    """A card's fence that tangles, with what its caption needs."""

    line: int
    name: str  # file path or chunk id
    title: str  # the code block's title: the path, `<<chunk>>`, or the author's own
    is_chunk: bool
    files: list[str]  # generated files its lines land in
    parts: list[BlockRef]  # every block sharing its name, in concatenation order


def tangling_fences(card: Card, index: FenceIndex) -> list[TanglingFence]:
    known = index.by_card.get(card.stem)
    if known is None:
        known = index.by_card[card.stem] = _tangling_fences(card, index)
    return known


def _tangling_fences(card: Card, index: FenceIndex) -> list[TanglingFence]:
    tangled = index.tangled
    found = []
    for fence in tangled.fences.get(card.stem, []):
        if not fence.tangles:
            continue
        files = index.fence_files.get((card.stem, fence.line), [])
        if fence.file is not None:
            name = files[0] if files else fence.file
            parts, title, is_chunk = index.file_parts.get(name, []), name, False
        else:
            name = fence.id or ""
            parts, title, is_chunk = index.chunk_parts.get(name, []), f"<<{name}>>", True
        title = fence.attributes.get("title", title)
        found.append(TanglingFence(fence.line, name, title, is_chunk, files, parts))
    return found


def title_fences(markdown: str, offset: int, card: Card, index: FenceIndex) -> str:
    """Give each tangling fence its target as the code block's title (a superfences option).

    `offset` is the number of card-file lines before the Markdown MkDocs hands over (the
    frontmatter), so a fence's file line maps to a Markdown line. The line count is kept.
    """
    lines = markdown.split("\n")
    for fence in tangling_fences(card, index):
        position = fence.line - offset - 1
        match = FENCE_LINE.match(lines[position]) if 0 <= position < len(lines) else None
        if match is not None:  # None: another plugin changed the page; leave it alone
            lines[position] = match["indent"] + match["fence"] + _with_title(match["info"], fence.title)
    return "\n".join(lines)


def fence_caption(
    stem: str,
    fence: TanglingFence,
    ctx: PageContext,
) -> str:
    """Where a tangling block goes and its neighbouring blocks, for its title bar.

    `part 2 of 3 · after <card> · before <card> · in the generated file` for a file's block,
    `part 1 of 2 · before <card> · used in nix/app.nix` for a chunk.
    """
    links, page_url = ctx.links, ctx.page_url
    here = BlockRef(stem, fence.line)
    pieces = []
    if len(fence.parts) > 1 and here in fence.parts:
        position = fence.parts.index(here)
        pieces.append(f"part {position + 1} of {len(fence.parts)}")
        if position > 0:
            pieces.append(_neighbour_link(fence.parts[position - 1], here, "after", ctx))
        if position + 1 < len(fence.parts):
            pieces.append(_neighbour_link(fence.parts[position + 1], here, "before", ctx))
    if fence.is_chunk:
        targets = [
            link_html(links.generated(path, page_url), f"<code>{escape(path)}</code>") for path in fence.files
        ]
        pieces.append("used in " + ", ".join(targets) if targets else "not used by any file")
    elif fence.files and (where := links.generated(fence.files[0], page_url)) is not None:
        # Only as a link: with no generated-files page (Zensical without its marker) it is none.
        pieces.append(link_html(where, "where each line comes from"))
    return " · ".join(pieces)


def fence_title_bars(
    card: Card,
    index: FenceIndex,
    ctx: PageContext,
) -> list[tuple[str, str]]:
    """For each tangling block of the card, its title bar as rendered and as it should read.

    The new bar carries the block's anchor and its caption. Done on the HTML rather than the
    Markdown: Python-Markdown's inline HTML handling made captions in the Markdown cost more
    than the rest of the plugin together.
    """
    bars = []
    for fence in tangling_fences(card, index):
        title = html.escape(fence.title, quote=False)
        caption = fence_caption(card.stem, fence, ctx)
        note = f'<span class="cardbook-fence-note">{caption}</span>' if caption else ""
        anchor = BLOCK_ANCHOR.format(line=fence.line)
        bars.append(
            (
                f'<span class="filename">{title}</span>',
                f'<span class="filename" id="{anchor}">{title}{note}</span>',
            )
        )
    return bars


def replace_in_order(text: str, replacements: Iterable[tuple[str, str]]) -> str:
    """Replace each `old` by its `new`, each found after the previous one (one copy of text)."""
    pieces, position = [], 0
    for old, new in replacements:
        found = text.find(old, position)
        if found == -1:
            continue
        pieces += [text[position:found], new]
        position = found + len(old)
    pieces.append(text[position:])
    return "".join(pieces)
