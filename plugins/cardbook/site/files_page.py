"""The generated-files page: each file, and which card and fence each run of its lines came from."""

from __future__ import annotations

from cardbook.core.problems import plural
from cardbook.core.tangle import OutputFile, TangleResult

from .captions import BLOCK_ANCHOR
from .context import PageContext
from .overview import card_item
from .styles import title_of
from .urls import anchor_slug, escape, link_html

GENERATED_MARKER = "<!-- cardbook:generated-files -->"


def _source_lines(output: OutputFile, start: int, end: int) -> str:
    width = len(str(len(output.line_sources)))
    rows = output.text.split("\n")
    return "\n".join(
        f'<span class="cardbook-lineno">{number:>{width}}</span> {escape(rows[number - 1])}'
        for number in range(start, end + 1)
        if number - 1 < len(rows)
    )


def _page_item(stem: str, ctx: PageContext) -> str:
    title = ctx.links.pages.get(stem, ("", stem))[1]
    return link_html(ctx.links.page(stem, ctx.page_url), escape(title))


def generated_file_section(
    output: OutputFile,
    ctx: PageContext,
) -> str:
    """One generated file: where it is published, and each run of lines with its card and block."""
    graph, links, page_url = ctx.graph, ctx.links, ctx.page_url
    anchor = links.file_anchors.get(output.path, "file-" + anchor_slug(output.path))
    raw = links.raw(output.path, page_url)
    cards = ", ".join(
        card_item(stem, ctx) if stem in graph.cards else _page_item(stem, ctx) for stem in output.cards
    )
    line_count = output.text.count("\n")
    rows, parts = [], []
    for segment in output.segments:
        card = graph.cards.get(segment.stem)
        if card is not None:
            title = escape(title_of(card))
            href = links.card(segment.stem, page_url, BLOCK_ANCHOR.format(line=segment.fence_line))
        else:  # a page that is not a card: its title and the page (no captioned block to point at)
            title = escape(links.pages.get(segment.stem, ("", segment.stem))[1])
            href = links.page(segment.stem, page_url)
        where = f"{link_html(href, title)} <code>{escape(segment.rel)}:{segment.fence_line}</code>"
        block = f"<code>{escape(segment.name)}</code>"
        lines = f"{segment.start}&ndash;{segment.end}" if segment.end > segment.start else str(segment.start)
        rows.append(f"<tr><td>{lines}</td><td>{where}</td><td>{block}</td></tr>")
        parts.append(
            f'<div class="cardbook-part"><div class="cardbook-part__from">lines {lines} from {where}</div>'
            f"<pre><code>{_source_lines(output, segment.start, segment.end)}</code></pre></div>"
        )
    raw_link = f" · {link_html(raw, 'raw file')}" if raw else ""
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


def generated_files_html(tangled: TangleResult, ctx: PageContext, leave_out: str = "") -> str:
    """`leave_out`: the `stylesheet:` file, which the cards do not tangle (mkdocs-plugin.md)."""
    links, page_url = ctx.links, ctx.page_url
    files = {path: output for path, output in tangled.files.items() if path != leave_out}
    if not files:
        return '<p class="cardbook-none">No card has a fence with a <code>file=</code> target yet.</p>'
    index = "".join(
        f"<li>{link_html(links.generated(path, page_url), f'<code>{escape(path)}</code>')}</li>"
        for path in sorted(files)
    )
    intro = (
        f"<p>{plural(len(files), 'file')} tangled from the cards by <code>cardbook tangle</code> and "
        "<code>mkdocs build</code>. Do not edit them by hand: change the cards.</p>"
        f'<ul class="cardbook-file-index">{index}</ul>'
    )
    sections = "".join(generated_file_section(files[path], ctx) for path in sorted(files))
    return intro + sections
