"""What the site shows for a runbook, as HTML and Markdown strings.

Pure functions over the core's cards, graph and tangle result: card headers, fence titles and
captions, neighbourhood graphs, the overview page and the generated-files page. No MkDocs
import: the adapter hands in each page's URL and the URL of every page it may link to, and
every link is made relative to the page, so the site works under any sub-path and with or
without `use_directory_urls`. Every piece of user text goes through `html.escape`.
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from cardbook.core.cards import Card
from cardbook.core.graph import Graph
from cardbook.core.problems import plural
from cardbook.core.tangle import OutputFile, TangleResult

from .svg import Edge, Node, fit_width, layered_svg

BLOCK_ANCHOR = "cardbook-block-{line}"  # id of the caption above a tangling fence
NEIGHBOURHOOD_DEPTH = 2
MAX_COLUMN_NODES = 12  # a hub's neighbourhood shows this many per column, then "N more"
OPEN_CHAINS = 5  # goals whose chain the overview shows unfolded
MAX_HEADER_LINKS = 30  # "Required by" of a hub card lists this many, then a count

# Placeholders the adapter swaps for HTML after Markdown ran (cheaper than feeding Markdown
# large raw HTML, and the overview graph can arrive late from Graphviz).
OVERVIEW_MARKER = "<!-- cardbook:overview -->"
GENERATED_MARKER = "<!-- cardbook:generated-files -->"


def placeholder(name: str) -> str:
    return f"<!-- cardbook:{name} -->"


# URLs ---------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=65536)  # headers, graphs and captions link the same pairs again
def relative_url(target: str, page_url: str) -> str:
    """`target` (a site-root-relative URL) as seen from the page at `page_url`.

    A page URL ending in "/" (or empty, the site root) is a directory; otherwise its last part
    is a file name. Same result as MkDocs' get_relative_url for the URLs MkDocs makes.
    """
    base = _url_parts(page_url if page_url.endswith("/") or not page_url else page_url.rpartition("/")[0])
    parts = _url_parts(target)
    common, limit = 0, min(len(base), len(parts))
    while common < limit and base[common] == parts[common]:
        common += 1
    url = "../" * (len(base) - common) + "/".join(parts[common:])
    if not url:
        return "./"
    if url.endswith("/"):
        return url
    return url + "/" if target.endswith("/") or not parts else url


@functools.lru_cache(maxsize=4096)
def _url_parts(url: str) -> tuple[str, ...]:
    return tuple(part for part in url.split("/") if part and part != ".")


# Titles and URLs recur on many pages; escaping each once per build is measurably cheaper.
escape = functools.lru_cache(maxsize=16384)(html.escape)


def anchor_slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


@dataclass
class SiteLinks:
    """Site-root-relative URLs of everything a runbook page links to."""

    card_urls: dict[str, str]  # card stem -> page URL
    overview_url: str | None = None
    files_page_url: str | None = None
    raw_urls: dict[str, str] = field(default_factory=dict)  # generated path -> published file
    file_anchors: dict[str, str] = field(default_factory=dict)  # generated path -> id on files page

    def card(self, stem: str, page_url: str, anchor: str = "") -> str | None:
        url = self.card_urls.get(stem)
        if url is None:
            return None
        if url == page_url and anchor:
            return "#" + anchor
        return relative_url(url, page_url) + ("#" + anchor if anchor else "")

    def generated(self, path: str, page_url: str) -> str | None:
        if self.files_page_url is None or path not in self.file_anchors:
            return None
        if self.files_page_url == page_url:
            return "#" + self.file_anchors[path]
        return relative_url(self.files_page_url, page_url) + "#" + self.file_anchors[path]

    def raw(self, path: str, page_url: str) -> str | None:
        url = self.raw_urls.get(path)
        return None if url is None else relative_url(url, page_url)

    def overview(self, page_url: str) -> str | None:
        return None if self.overview_url is None else relative_url(self.overview_url, page_url)


def wikilink_html(target_url: str | None, anchor: str, label: str, page_url: str) -> str:
    """A resolved wiki-link as HTML; `target_url` None: the page is not in the site."""
    if target_url is None:
        return escape(label)
    href = "" if target_url == page_url and anchor else relative_url(target_url, page_url)
    return _link(href + ("#" + anchor if anchor else ""), escape(label))


def file_anchors(paths: Iterable[str]) -> dict[str, str]:
    """A unique element id per generated file path, stable across builds."""
    anchors: dict[str, str] = {}
    taken: set[str] = set()
    for path in sorted(paths):
        base = "file-" + anchor_slug(path)
        anchor, number = base, 2
        while anchor in taken:
            anchor, number = f"{base}-{number}", number + 1
        taken.add(anchor)
        anchors[path] = anchor
    return anchors


def _link(href: str | None, content: str, css: str = "") -> str:
    attribute = f' class="{css}"' if css else ""
    if href is None:
        return f"<span{attribute}>{content}</span>"
    return f'<a href="{escape(href)}"{attribute}>{content}</a>'


# Statuses -----------------------------------------------------------------------------------

# Hues for open statuses (warm: something to do) and closed ones (calm), in declaration order.
OPEN_HUES = (38, 8, 280, 330, 195)
CLOSED_HUES = (140, 215, -1, 170)  # -1: grey
INVALID_CLASS = "cardbook-status-invalid"


@dataclass(frozen=True)
class StatusStyle:
    name: str
    css_class: str
    hue: int  # -1 for grey
    is_open: bool


def status_styles(statuses: Mapping[str, bool]) -> dict[str, StatusStyle]:
    """A colour per status of the vocabulary, plus "done" (no status) when it is not declared."""
    styles: dict[str, StatusStyle] = {}
    counters = {True: 0, False: 0}
    names = list(statuses)
    if "done" not in statuses:
        names.append("done")
    taken: set[str] = set()
    for name in names:
        is_open = statuses.get(name, False)
        hues = OPEN_HUES if is_open else CLOSED_HUES
        hue = hues[counters[is_open] % len(hues)]
        counters[is_open] += 1
        css = "cardbook-status-" + anchor_slug(name)
        while css in taken:
            css += "-x"
        taken.add(css)
        styles[name] = StatusStyle(name, css, hue, is_open)
    return styles


def _palette(hue: int, dark: bool) -> tuple[str, str, str]:
    """(background, text, border) with enough contrast for the light or the dark scheme."""
    saturation = 0 if hue < 0 else 1
    hue = max(hue, 0)
    if dark:
        return (
            f"hsl({hue} {38 * saturation}% 24%)",
            f"hsl({hue} {75 * saturation}% 86%)",
            f"hsl({hue} {45 * saturation}% 58%)",
        )
    return (
        f"hsl({hue} {80 * saturation}% 90%)",
        f"hsl({hue} {70 * saturation}% 20%)",
        f"hsl({hue} {55 * saturation}% 42%)",
    )


def status_css(styles: Mapping[str, StatusStyle]) -> str:
    """Custom properties per status; the static stylesheet uses them for badges and nodes."""
    light, dark, rules = [], [], []
    entries = [(style.css_class, style.hue) for style in styles.values()] + [(INVALID_CLASS, 0)]
    for css, hue in entries:
        for target, is_dark in ((light, False), (dark, True)):
            background, text, border = _palette(hue, is_dark)
            target.append(f"  --{css}-bg: {background}; --{css}-fg: {text}; --{css}-border: {border};")
        rules.append(
            f".{css} {{ --cardbook-bg: var(--{css}-bg); --cardbook-fg: var(--{css}-fg); "
            f"--cardbook-border: var(--{css}-border); }}"
        )
    return (
        "/* Generated by cardbook from the plugin's statuses. */\n:root {\n"
        + "\n".join(light)
        + '\n}\n[data-md-color-scheme="slate"] {\n'
        + "\n".join(dark)
        + "\n}\n"
        + "\n".join(rules)
        + "\n"
    )


def card_classes(card: Card, styles: Mapping[str, StatusStyle]) -> str:
    if not card.valid:
        return f"{INVALID_CLASS} closed"
    style = styles.get(card.status_label) or styles.get("done")
    css = style.css_class if style else "cardbook-status-unknown"
    return f"{css} {'open' if card.is_open else 'closed'}"


def status_label(card: Card) -> str:
    return card.status_label if card.valid else "invalid"


def badge(card: Card, styles: Mapping[str, StatusStyle]) -> str:
    meaning = "open" if card.is_open else "closed"
    return (
        f'<span class="cardbook-badge {card_classes(card, styles)}" title="{meaning}">'
        f"{escape(status_label(card))}</span>"
    )


def legend(styles: Mapping[str, StatusStyle]) -> str:
    items = [
        f'<span class="cardbook-badge {style.css_class} {"open" if style.is_open else "closed"}" '
        f'title="{"open" if style.is_open else "closed"}">{escape(style.name)}</span>'
        for style in styles.values()
    ]
    return '<span class="cardbook-legend">' + " ".join(items) + "</span>"


def title_of(card: Card) -> str:
    return card.title or card.stem


# Card pages ---------------------------------------------------------------------------------


def generated_paths(tangled: TangleResult) -> dict[str, list[str]]:
    """For each card, the files it contributes lines to, directly or through chunks."""
    paths: dict[str, list[str]] = {}
    for path, output in sorted(tangled.files.items()):
        for stem in dict.fromkeys(output.cards):
            paths.setdefault(stem, []).append(path)
    return paths


def _card_list(
    stems: list[str], graph: Graph, links: SiteLinks, page_url: str, styles: Mapping[str, StatusStyle]
) -> str:
    if not stems:
        return '<span class="cardbook-none">none</span>'
    items = []
    for stem in stems[:MAX_HEADER_LINKS]:
        card = graph.cards[stem]
        items.append(
            f"<li>{_link(links.card(stem, page_url), escape(title_of(card)))} {badge(card, styles)}</li>"
        )
    more = len(stems) - MAX_HEADER_LINKS
    if more > 0:
        items.append(f"<li>{_link(links.overview(page_url), f'and {more} more')}</li>")
    return '<ul class="cardbook-inline">' + "".join(items) + "</ul>"


def card_header(
    card: Card,
    graph: Graph,
    links: SiteLinks,
    page_url: str,
    styles: Mapping[str, StatusStyle],
    *,
    generates: list[str],
    show_tags: bool = True,
) -> str:
    """The compact block under a card's title: status, date, tags and its place in the graph."""
    facts = [badge(card, styles)]
    if card.is_open and card.stem in graph.cards:
        needs_open = any(graph.cards[need].is_open for need in graph.requires.get(card.stem, []))
        if not needs_open:
            facts.append(
                '<span class="cardbook-flag" title="every prerequisite is done">ready to work on</span>'
            )
        if not any(graph.cards[user].is_open for user in graph.required_by.get(card.stem, [])):
            facts.append('<span class="cardbook-flag" title="no open card requires this one">goal</span>')
    if card.modified is not None:
        day = card.modified.isoformat()
        facts.append(f'<span class="cardbook-modified">modified <time datetime="{day}">{day}</time></span>')
    if show_tags and card.tags:
        tags = "".join(f'<span class="cardbook-tag">{escape(tag)}</span>' for tag in card.tags)
        facts.append(f'<span class="cardbook-tags">{tags}</span>')
    rows = [
        ("Requires", _card_list(graph.requires.get(card.stem, []), graph, links, page_url, styles)),
        ("Required by", _card_list(graph.required_by.get(card.stem, []), graph, links, page_url, styles)),
    ]
    if generates:
        files = "".join(
            f"<li>{_link(links.generated(path, page_url), f'<code>{escape(path)}</code>')}</li>"
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


def _distances(graph: Graph, stem: str, depth: int) -> dict[str, int]:
    """Signed distance of each neighbour: prerequisites negative, dependents positive."""
    found = {stem: 0}
    for links, sign in ((graph.requires, -1), (graph.required_by, 1)):
        frontier = [stem]
        for level in range(1, depth + 1):
            following = []
            for current in frontier:
                for other in links.get(current, []):
                    if other not in found:
                        found[other] = sign * level
                        following.append(other)
            frontier = sorted(following)
    return found


def graph_node(card: Card, column: int, href: str | None, styles: Mapping[str, StatusStyle]) -> Node:
    return Node(
        id=card.stem,
        label=title_of(card),
        tooltip=f"{title_of(card)} ({status_label(card)})",
        href=href,
        classes=card_classes(card, styles),
        column=column,
    )


def neighbourhood_svg(
    stem: str, graph: Graph, links: SiteLinks, page_url: str, styles: Mapping[str, StatusStyle]
) -> str:
    """The card, two levels of prerequisites on its left and of dependents on its right."""
    distances = _distances(graph, stem, NEIGHBOURHOOD_DEPTH)
    if len(distances) == 1:
        return ""
    by_column: dict[int, list[str]] = {}
    for other, column in distances.items():
        by_column.setdefault(column, []).append(other)
    nodes: list[Node] = []
    shown: set[str] = set()
    for column, stems in sorted(by_column.items()):
        # Nearest first: keep the nodes linked to the card itself when a column overflows.
        stems.sort(key=lambda s: (stem not in graph.requires[s] and stem not in graph.required_by[s], s))
        kept = stems if len(stems) <= MAX_COLUMN_NODES else stems[: MAX_COLUMN_NODES - 1]
        for other in kept:
            href = None if other == stem else links.card(other, page_url)
            nodes.append(graph_node(graph.cards[other], column, href, styles))
            shown.add(other)
        if len(kept) < len(stems):
            hidden = len(stems) - len(kept)
            nodes.append(
                Node(
                    f"more:{column}",
                    f"… {hidden} more",
                    f"{hidden} more cards",
                    links.overview(page_url),
                    "more",
                    column,
                )
            )
    edges = [Edge(need, other) for other in sorted(shown) for need in graph.requires[other] if need in shown]
    title = title_of(graph.cards[stem])
    return layered_svg(nodes, edges, label=f"Neighbourhood of {title}", focus=stem)


def neighbourhood_section(svg: str, links: SiteLinks, page_url: str) -> str:
    if not svg:
        return ""
    overview = links.overview(page_url)
    whole = f" · {_link(overview, 'the whole graph')}" if overview else ""
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


def insert_after_title(content: str, block: str) -> str:
    """Put `block` after the page's leading <h1> (Material adds its own h1 when there is none)."""
    stripped = content.lstrip()
    if stripped.startswith("<h1"):
        end = content.find("</h1>")
        if end != -1:
            end += len("</h1>")
            return content[:end] + "\n" + block + content[end:]
    return block + "\n" + content


# Fences ------------------------------------------------------------------------------------


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

    def __post_init__(self) -> None:
        self.file_parts = _parts_of_files(self.tangled)
        self.chunk_parts = {
            name: [BlockRef(stem, line) for stem, line in refs]
            for name, refs in self.tangled.chunk_fences.items()
        }


_FENCE_LINE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_TITLE_ATTRIBUTE = re.compile(r"(?:^|[\s{])title=")


def _with_title(info: str, title: str) -> str:
    """The info string with a superfences title added inside its braces."""
    stripped = info.rstrip()
    if not stripped.endswith("}") or _TITLE_ATTRIBUTE.search(stripped) or '"' in title:
        return info
    return stripped[:-1].rstrip() + f' title="{title}"}}'


def _neighbour_link(
    ref: BlockRef, here: BlockRef, word: str, graph: Graph, links: SiteLinks, page_url: str
) -> str:
    """`after <card>`; a part in the same card is "the part above" or "the part below"."""
    anchor = BLOCK_ANCHOR.format(line=ref.line)
    if ref.stem == here.stem:
        return f"{word} {_link('#' + anchor, 'the part above' if ref.line < here.line else 'the part below')}"
    card = graph.cards.get(ref.stem)
    name = escape(title_of(card)) if card else escape(ref.stem)
    return f"{word} {_link(links.card(ref.stem, page_url, anchor), name)}"


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
    tangled = index.tangled
    found = []
    for fence in tangled.fences.get(card.stem, []):
        if not fence.tangles:
            continue
        files = tangled.fence_files.get((card.stem, fence.line), [])
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
        match = _FENCE_LINE.match(lines[position]) if 0 <= position < len(lines) else None
        if match is not None:  # None: another plugin changed the page; leave it alone
            lines[position] = match["indent"] + match["fence"] + _with_title(match["info"], fence.title)
    return "\n".join(lines)


def fence_caption(stem: str, fence: TanglingFence, graph: Graph, links: SiteLinks, page_url: str) -> str:
    """Where a tangling block goes and its neighbouring blocks, for its title bar.

    `part 2 of 3 · after <card> · before <card> · in the generated file` for a file's block,
    `part 1 of 2 · before <card> · used in nix/app.nix` for a chunk.
    """
    here = BlockRef(stem, fence.line)
    pieces = []
    if len(fence.parts) > 1 and here in fence.parts:
        position = fence.parts.index(here)
        pieces.append(f"part {position + 1} of {len(fence.parts)}")
        if position > 0:
            pieces.append(_neighbour_link(fence.parts[position - 1], here, "after", graph, links, page_url))
        if position + 1 < len(fence.parts):
            pieces.append(_neighbour_link(fence.parts[position + 1], here, "before", graph, links, page_url))
    if fence.is_chunk:
        targets = [
            _link(links.generated(path, page_url), f"<code>{escape(path)}</code>") for path in fence.files
        ]
        pieces.append("used in " + ", ".join(targets) if targets else "not used by any file")
    elif fence.files:
        pieces.append(_link(links.generated(fence.files[0], page_url), "where each line comes from"))
    return " · ".join(pieces)


def fence_title_bars(
    card: Card, index: FenceIndex, graph: Graph, links: SiteLinks, page_url: str
) -> list[tuple[str, str]]:
    """For each tangling block of the card, its title bar as rendered and as it should read.

    The new bar carries the block's anchor and its caption. Done on the HTML rather than the
    Markdown: Python-Markdown's inline HTML handling made captions in the Markdown cost more
    than the rest of the plugin together.
    """
    bars = []
    for fence in tangling_fences(card, index):
        title = html.escape(fence.title, quote=False)
        caption = fence_caption(card.stem, fence, graph, links, page_url)
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


# Overview -----------------------------------------------------------------------------------


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
    graph: Graph, links: SiteLinks, page_url: str, styles: Mapping[str, StatusStyle]
) -> tuple[list[Node], list[Edge]]:
    """Every card, columns by the length of its longest prerequisite chain."""
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


def _card_item(
    stem: str, graph: Graph, links: SiteLinks, page_url: str, styles: Mapping[str, StatusStyle]
) -> str:
    card = graph.cards[stem]
    return f"{_link(links.card(stem, page_url), escape(title_of(card)))} {badge(card, styles)}"


def open_chain(
    goal: str, graph: Graph, links: SiteLinks, page_url: str, styles: Mapping[str, StatusStyle]
) -> str:
    """The goal's open prerequisites as a tree; done ones are counted, not listed (the work left)."""
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
        rows.append(
            f'<li style="--depth: {depth}">{_card_item(stem, graph, links, page_url, styles)}{note}</li>'
        )
    return "".join(rows)


def overview_sections(
    graph: Graph, links: SiteLinks, page_url: str, styles: Mapping[str, StatusStyle]
) -> dict[str, str]:
    """HTML for each overview placeholder except the graph."""
    goals, leaves = graph.goals(), graph.leaves()
    opened = sum(1 for card in graph.cards.values() if card.is_open)

    def card_list(stems: list[str], empty: str) -> str:
        if not stems:
            return f'<p class="cardbook-none">{empty}</p>'
        items = "".join(f"<li>{_card_item(stem, graph, links, page_url, styles)}</li>" for stem in stems)
        return f'<ul class="cardbook-cards">{items}</ul>'

    chains = [
        f'<details class="cardbook-chain abstract"{" open" if position < OPEN_CHAINS else ""}>'
        f"<summary>{escape(title_of(graph.cards[goal]))}</summary>"
        f'<ul class="cardbook-tree">{open_chain(goal, graph, links, page_url, styles)}</ul></details>'
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


# Generated files ----------------------------------------------------------------------------


def _source_lines(output: OutputFile, start: int, end: int) -> str:
    width = len(str(len(output.line_sources)))
    rows = output.text.split("\n")
    return "\n".join(
        f'<span class="cardbook-lineno">{number:>{width}}</span> {escape(rows[number - 1])}'
        for number in range(start, end + 1)
        if number - 1 < len(rows)
    )


def generated_file_section(
    output: OutputFile, graph: Graph, links: SiteLinks, page_url: str, styles: Mapping[str, StatusStyle]
) -> str:
    """One generated file: where it is published, and each run of lines with its card and block."""
    anchor = links.file_anchors.get(output.path, "file-" + anchor_slug(output.path))
    raw = links.raw(output.path, page_url)
    cards = ", ".join(
        _card_item(stem, graph, links, page_url, styles) for stem in output.cards if stem in graph.cards
    )
    line_count = output.text.count("\n")
    rows, parts = [], []
    for segment in output.segments:
        card = graph.cards.get(segment.stem)
        title = escape(title_of(card)) if card else escape(segment.stem)
        href = links.card(segment.stem, page_url, BLOCK_ANCHOR.format(line=segment.fence_line))
        where = f"{_link(href, title)} <code>{escape(segment.rel)}:{segment.fence_line}</code>"
        block = f"<code>{escape(segment.name)}</code>"
        lines = f"{segment.start}&ndash;{segment.end}" if segment.end > segment.start else str(segment.start)
        rows.append(f"<tr><td>{lines}</td><td>{where}</td><td>{block}</td></tr>")
        parts.append(
            f'<div class="cardbook-part"><div class="cardbook-part__from">lines {lines} from {where}</div>'
            f"<pre><code>{_source_lines(output, segment.start, segment.end)}</code></pre></div>"
        )
    raw_link = f" · {_link(raw, 'raw file')}" if raw else ""
    return (
        f'<section class="cardbook-file"><h2 id="{anchor}"><code>{escape(output.path)}</code>'
        f'<a class="headerlink" href="#{anchor}" title="Permanent link">¶</a></h2>'
        f"<p>{line_count} lines from {cards}{raw_link}</p>"
        "<table><thead><tr><th>Lines</th><th>Card and fence</th><th>Block</th></tr>"
        f"</thead><tbody>{''.join(rows)}</tbody></table>"
        '<details class="cardbook-source quote" data-search-exclude>'
        "<summary>The lines of each part (marker lines left out: see the raw file)</summary>"
        f"{''.join(parts)}</details></section>"
    )


def generated_files_html(
    tangled: TangleResult, graph: Graph, links: SiteLinks, page_url: str, styles: Mapping[str, StatusStyle]
) -> str:
    if not tangled.files:
        return '<p class="cardbook-none">No card has a fence with a <code>file=</code> target yet.</p>'
    index = "".join(
        f"<li>{_link(links.generated(path, page_url), f'<code>{escape(path)}</code>')}</li>"
        for path in sorted(tangled.files)
    )
    intro = (
        f"<p>{plural(len(tangled.files), 'file')} tangled from the cards by <code>cardbook tangle</code> and "
        "<code>mkdocs build</code>. Do not edit them by hand: change the cards.</p>"
        f'<ul class="cardbook-file-index">{index}</ul>'
    )
    sections = "".join(
        generated_file_section(tangled.files[path], graph, links, page_url, styles)
        for path in sorted(tangled.files)
    )
    return intro + sections
