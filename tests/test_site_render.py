"""The pure renderers behind the site: URLs, status colours, headers, fence captions, SVG."""

from __future__ import annotations

import datetime as dt
import random
import re
import sys
import types
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from mkdocs.utils import get_relative_url

from cardbook.core.settings import Settings
from cardbook.pipeline import load_and_check
from cardbook.site import captions, card_page, overview, styles, urls
from cardbook.site.build import SiteBuild
from cardbook.site.context import PageContext
from cardbook.site.dot import DOT_QUICK_LAYOUT_NODES, DotRenderer, inline_svg, overview_dot
from cardbook.site.layered import Edge, Node, layered_svg, order_columns
from cardbook.site.urls import SiteLinks
from helpers import card, parse_svg, write_tree

TODAY = dt.date(2026, 6, 1)

segment = st.sampled_from(["a", "b", "how-to", "x.y", "nix"])
directory_url = st.lists(segment, max_size=3).map(lambda parts: "/".join(parts) + "/" if parts else "")
file_url = st.lists(segment, min_size=1, max_size=3).map(lambda parts: "/".join(parts) + ".html")


@given(st.one_of(directory_url, file_url), st.one_of(directory_url, file_url))
def test_relative_url_agrees_with_mkdocs(target: str, page: str) -> None:
    ours = urls.relative_url(target, page)
    theirs = get_relative_url(target, page)
    assert ours == theirs or (theirs in (".", "") and ours == "./") or ours == theirs + "/"


@pytest.mark.parametrize(
    ("target", "page", "expected"),
    [
        ("how-to/b/", "how-to/a/", "../b/"),
        ("how-to/b.html", "how-to/a.html", "b.html"),
        ("", "how-to/a/", "../../"),
        ("index.html", "how-to/a.html", "../index.html"),
        ("runbook/", "", "runbook/"),
        ("runbook/", "runbook/", "./"),
    ],
)
def test_relative_url_examples(target: str, page: str, expected: str) -> None:
    assert urls.relative_url(target, page) == expected


def test_every_status_gets_a_class_and_colours_for_both_schemes() -> None:
    found = styles.status_styles({"active": True, "blocked": True, "superseded": False})
    assert [style.name for style in found.values()] == ["active", "blocked", "superseded", "done"]
    assert len({style.hue for style in found.values()}) == 4
    css = styles.status_css(found)
    assert css.count("--cardbook-status-active-bg") == 3  # light, dark, and the rule using them
    assert '[data-md-color-scheme="slate"]' in css


def test_odd_status_names_make_safe_distinct_classes() -> None:
    found = styles.status_styles({"in progress": True, "in-progress": True, "<b>": False})
    classes = [style.css_class for style in found.values()]
    assert len(set(classes)) == len(classes)
    assert all(re.fullmatch(r"cardbook-status-[a-z0-9-]+", css) for css in classes)


def build(tmp_path: Path, files: dict[str, str]) -> tuple[Settings, object]:
    write_tree(tmp_path, files)
    settings = Settings(root=tmp_path, statuses={"active": True, "done": False})
    return settings, load_and_check(settings, today=TODAY)


CARDS = {
    "docs/how-to/db.md": card(
        title="Set up <the> database", body="```nix {file=nix/app.nix}\n{\n  <<port>>\n}\n```\n"
    ),
    "docs/how-to/app.md": card(
        title="Build the app",
        status="active",
        requires="[db]",
        tags="[how-to, app]",
        body="Text.\n\n```nix {#port}\nport = 1;\n```\n\n"
        "- in a list\n\n    ```nix {file=nix/app.nix}\n    # end\n    ```\n",
    ),
    "docs/how-to/deploy.md": card(title="Deploy", status="active", requires="[app]"),
}
URLS = {"db": "how-to/db/", "app": "how-to/app/", "deploy": "how-to/deploy/"}


def site_links() -> urls.SiteLinks:
    return urls.SiteLinks(
        dict(URLS),
        overview_url="runbook/",
        files_page_url="generated-files/",
        raw_urls={"nix/app.nix": "nix/app.nix"},
        file_anchors=urls.file_anchors(["nix/app.nix"]),
    )


def test_card_header(tmp_path: Path) -> None:
    settings, result = build(tmp_path, CARDS)
    statuses = styles.status_styles(settings.statuses)
    app = result.graph.cards["app"]
    header = card_page.card_header(
        app, PageContext(result.graph, site_links(), statuses, "how-to/app/"), generates=["nix/app.nix"]
    )
    ET.fromstring(header.replace(" data-search-exclude", ""))  # well-formed
    assert 'class="cardbook-badge cardbook-status-active open"' in header
    assert "<time>2026-01-01</time>" in header  # an ISO date needs no datetime attribute
    assert '<span class="cardbook-tag">how-to</span>' in header
    assert (
        '<a href="../db/">Set up &lt;the&gt; database</a> '
        '<span class="cardbook-badge cardbook-status-done closed"' in header
    )
    assert '<dt>Required by</dt><dd><ul class="cardbook-inline"><li><a href="../deploy/">Deploy</a>' in header
    assert '<a href="../../generated-files/#file-nix-app-nix"><code>nix/app.nix</code></a>' in header
    assert "ready to work on" in header
    no_tags = card_page.card_header(
        app, PageContext(result.graph, site_links(), statuses, "how-to/app/"), generates=[], show_tags=False
    )
    assert "cardbook-tag" not in no_tags and "Generates" not in no_tags


def test_a_card_requiring_a_missing_card_is_not_ready_and_says_so(tmp_path: Path) -> None:
    """Found by an outside probe: its header said "Requires: none" and "ready to work on"
    while `cardbook next` listed it as blocked by a prerequisite that does not exist."""
    files = {
        "docs/how-to/lone.md": card(title="Lone", status="active", requires="[nowhere]"),
        "docs/how-to/other.md": card(title="Other", status="active", requires="[lone, gone]"),
    }
    settings, result = build(tmp_path, files)
    statuses = styles.status_styles(settings.statuses)
    for stem, absent in (("lone", ["nowhere"]), ("other", ["gone"])):
        header = card_page.card_header(
            result.graph.cards[stem],
            PageContext(result.graph, site_links(), statuses, f"how-to/{stem}/"),
            generates=[],
        )
        ET.fromstring(header.replace(" data-search-exclude", ""))  # well-formed
        assert "ready to work on" not in header, stem
        assert stem not in result.graph.leaves()  # what `cardbook next` reads
        requires = header.split("<dt>Requires</dt>")[1].split("</dd>")[0]
        assert "none" not in requires
        for name in absent:
            assert f'<code>{name}</code> <span class="cardbook-badge cardbook-status-invalid"' in requires
    assert ">Lone<" in requires  # the real prerequisite is listed as well


def test_graphviz_shows_an_entity_written_in_a_title_as_written() -> None:
    """Found by an outside probe: dot passes `&lt;` in a label through to the SVG, so a title
    holding it read as "<"."""
    source = overview_dot([Node("x", "Escape &lt; & &amp; here", "tip", None, "open", 0)], [])
    assert 'label="Escape &amp;lt; &amp; &amp;amp; here"' in source
    renderer = DotRenderer(cache_dir=False)
    if not renderer.available:
        return  # the source is what decides; drawing it needs Graphviz
    svg = renderer.submit(source).result(timeout=60)
    texts = ["".join(t.itertext()) for t in ET.fromstring(svg).iter("{http://www.w3.org/2000/svg}text")]
    assert "Escape &lt; & &amp; here" in texts


def rendered_titles(titles: list[str]) -> str:
    """What superfences makes of titled code blocks, reduced to their title bars."""
    return "".join(
        f'<div class="highlight"><span class="filename">{t}</span><pre></pre></div>' for t in titles
    )


def test_fences_get_titles_and_captions_linking_their_neighbours(tmp_path: Path) -> None:
    _, result = build(tmp_path, CARDS)
    app = result.graph.cards["app"]
    index = captions.FenceIndex(result.tangled)
    markdown = app.text[app.body_offset :]
    out = captions.title_fences(markdown, app.text[: app.body_offset].count("\n"), app, index)
    assert '```nix {#port title="<<port>>"}' in out
    assert '    ```nix {file=nix/app.nix title="nix/app.nix"}' in out  # still inside the list item
    assert out.count("\n") == markdown.count("\n")

    page = captions.replace_in_order(
        rendered_titles(["&lt;&lt;port&gt;&gt;", "nix/app.nix"]),
        captions.fence_title_bars(app, index, PageContext(result.graph, site_links(), {}, "how-to/app/")),
    )
    chunk_bar, file_bar = re.findall(
        r'<span class="filename" id="cardbook-block-\d+">.*?</span></span>', page
    )
    assert (
        'used in <a href="../../generated-files/#file-nix-app-nix"><code>nix/app.nix</code></a>' in chunk_bar
    )
    assert "part 2 of 2 · after" in file_bar and 'href="../db/#cardbook-block-' in file_bar
    assert '<a href="../../generated-files/#file-nix-app-nix">where each line comes from</a>' in file_bar


def test_a_block_not_found_in_the_page_is_skipped(tmp_path: Path) -> None:
    _, result = build(tmp_path, CARDS)
    app = result.graph.cards["app"]
    page = rendered_titles(["something else", "nix/app.nix"])
    out = captions.replace_in_order(
        page,
        captions.fence_title_bars(
            app, captions.FenceIndex(result.tangled), PageContext(result.graph, site_links(), {}, "x/")
        ),
    )
    assert out.count("cardbook-fence-note") == 1 and "something else</span><pre>" in out


def test_a_title_already_given_is_kept() -> None:
    assert captions._with_title('nix {file=a.nix title="mine"}', "a.nix") == 'nix {file=a.nix title="mine"}'
    assert captions._with_title("nix {file=a.nix}", 'a"b') == "nix {file=a.nix}"


def test_neighbourhood_svg_is_well_formed_and_links_the_neighbours(tmp_path: Path) -> None:
    settings, result = build(tmp_path, CARDS)
    statuses = styles.status_styles(settings.statuses)
    svg = card_page.neighbourhood_svg("app", PageContext(result.graph, site_links(), statuses, "how-to/app/"))
    root = parse_svg(svg)
    hrefs = [a.get("href") for a in root.iter("{http://www.w3.org/2000/svg}a")]
    assert sorted(hrefs) == ["../db/", "../deploy/"]  # the card itself is not a link
    curves = root.find("{http://www.w3.org/2000/svg}path[@class='cardbook-edges']")
    assert "focus" in svg and curves is not None and curves.get("d", "").count("M") == 2


def test_a_hub_shows_a_bounded_neighbourhood(tmp_path: Path) -> None:
    files = {"docs/how-to/hub.md": card(title="Hub")}
    for index in range(40):
        files[f"docs/how-to/user{index:02d}.md"] = card(title=f"User {index}", requires="[hub]")
    settings, result = build(tmp_path, files)
    card_urls = {stem: f"how-to/{stem}/" for stem in result.graph.cards}
    links = urls.SiteLinks(card_urls, overview_url="runbook/")
    svg = card_page.neighbourhood_svg(
        "hub", PageContext(result.graph, links, styles.status_styles(settings.statuses), "how-to/hub/")
    )
    assert svg.count('class="node') == card_page.MAX_COLUMN_NODES + 1
    assert "… 29 more" in svg


def test_layered_svg_is_deterministic_and_avoids_crossings() -> None:
    nodes = [
        Node("a", "A", "a", None, "", 0),
        Node("b", "B", "b", None, "", 0),
        Node("c", "C", "c", None, "", 1),
        Node("d", "D", "d", None, "", 1),
    ]
    edges = [Edge("a", "d"), Edge("b", "c")]
    first = layered_svg(nodes, edges, label="x")
    assert first == layered_svg(list(reversed(nodes)), edges, label="x")
    # Each node is moved to its place: translate(x,y) on its group, its label inside.
    placed = re.findall(r"translate\(\d+,(\d+)\).*?>([A-D])</text>", first)
    y = {match[1]: float(match[0]) for match in placed}
    assert (y["A"] < y["B"]) == (y["D"] < y["C"])  # the two edges do not cross


def test_layered_markup_is_lean_and_keeps_what_each_node_says() -> None:
    """Every card page carries a drawing: a linked node is its link, the edges are two paths
    (edges into one side of a box share their arrowhead), and each node keeps its classes,
    tooltip and every line of its label."""
    nodes = [
        Node("a", "Feed the environment from sops", "Feed the environment from sops (done)", "../a/", "", 0),
        Node("b", "B", "B (open)", "../b/", "open", 0),
        Node("goal", "Goal", "Goal (open)", None, "open", 1),
    ]
    svg = layered_svg(nodes, [Edge("a", "goal"), Edge("b", "goal")], label="x", focus="goal")
    root = parse_svg(svg)
    ns = "{http://www.w3.org/2000/svg}"
    links = root.findall(f"{ns}a")
    assert sorted(link.get("href") or "" for link in links) == ["../a/", "../b/"]
    assert all("node" in (link.get("class") or "").split() for link in links)
    focus = root.find(f"{ns}g")
    assert focus is not None and focus.get("class") == "node open focus"
    assert sorted(title.text or "" for title in root.iter(f"{ns}title")) == [
        "B (open)",
        "Feed the environment from sops (done)",
        "Goal (open)",
    ]
    first = next(link for link in links if link.get("href") == "../a/").find(f"{ns}text")
    assert first is not None and [first.text, *(span.text for span in first)] == [
        "Feed the environment",
        "from sops",
    ]
    curves = root.find(f"{ns}path[@class='cardbook-edges']")
    heads = root.find(f"{ns}path[@class='cardbook-arrowheads']")
    assert curves is not None and heads is not None
    assert curves.get("d", "").count("M") == 2 and heads.get("d", "").count("M") == 1  # one shared
    assert svg.count("<") <= 32  # 27 tags, open and close; a group per edge and per node made 39


def curve_points(d: str, samples: int = 40) -> list[tuple[float, float]]:
    """Points along an SVG path of M, L and C commands (the layered drawing's edges)."""
    numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", d)]
    commands = re.findall(r"[MLC]", d)
    points: list[tuple[float, float]] = []
    here = (0.0, 0.0)
    for command in commands:
        if command == "C":
            (x1, y1, x2, y2, x, y), numbers = numbers[:6], numbers[6:]
            for step in range(1, samples + 1):
                t = step / samples
                a, b, c, e = (1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t * t, t**3
                points.append((a * here[0] + b * x1 + c * x2 + e * x, a * here[1] + b * y1 + c * y2 + e * y))
        else:
            (x, y), numbers = numbers[:2], numbers[2:]
            if command == "L":
                points += [(here[0] + (x - here[0]) * k / samples, here[1] + (y - here[1]) * k / samples)
                           for k in range(1, samples + 1)]
            else:
                points.append((x, y))
        here = (x, y)
    return points


def boxes_of(root: ET.Element) -> dict[str, tuple[float, float, float, float]]:
    """Each node's box by its tooltip: x, y, width, height."""
    ns = "{http://www.w3.org/2000/svg}"
    found = {}
    for node in root:
        if node.tag in (f"{ns}a", f"{ns}g"):
            x, y = map(float, re.findall(r"-?\d+", node.get("transform", ""))[:2])
            rect, title = node.find(f"{ns}rect"), node.find(f"{ns}title")
            assert rect is not None and title is not None
            found[title.text or ""] = (x, y, float(rect.get("width", 0)), float(rect.get("height", 0)))
    return found


def test_an_edge_that_skips_a_column_goes_round_the_boxes_in_it() -> None:
    """Found by an outside probe: a dependent that needs the card's own prerequisite too had its
    edge run behind the card's box, as if it went through the card. It goes round it now,
    and an edge that passes between boxes stays the plain curve."""
    ns = "{http://www.w3.org/2000/svg}"
    nodes = [
        Node("db", "Set up the database", "db", "../db/", "", -1),
        Node("app", "Build the app", "app", None, "", 0),
        Node("deploy", "Deploy the app", "deploy", "../deploy/", "", 1),
    ]
    edges = [Edge("db", "app"), Edge("app", "deploy"), Edge("db", "deploy")]
    root = parse_svg(layered_svg(nodes, edges, label="x", focus="app"))
    boxes = boxes_of(root)
    curves = root.find(f"{ns}path[@class='cardbook-edges']")
    assert curves is not None
    paths = ["M" + part for part in curves.get("d", "").split("M")[1:]]
    assert len(paths) == 3
    x, y, w, h = boxes["app"]
    db, deploy = boxes["db"], boxes["deploy"]
    skipping = [
        path
        for path in paths
        if curve_points(path)[0][0] == db[0] + db[2] and curve_points(path)[-1][0] > deploy[0] - 8
    ]
    assert len(skipping) == 1
    near = [(px, py) for px, py in curve_points(skipping[0])
            if x - 2 < px < x + w + 2 and y - 2 < py < y + h + 2]
    assert not near, near
    width, height = (float(v) for v in root.get("viewBox", "").split()[2:])
    assert all(0 <= px <= width and 0 <= py <= height for path in paths for px, py in curve_points(path))

    # Two boxes in the column between, the straight line through the gap between them: no detour.
    nodes = [
        Node("a", "A", "a", None, "", -1),
        Node("b1", "B one", "b1", None, "", 0),
        Node("b2", "B two", "b2", None, "", 0),
        Node("c", "C", "c", None, "", 1),
    ]
    root = parse_svg(layered_svg(nodes, [Edge("a", "c")], label="x"))
    curves = root.find(f"{ns}path[@class='cardbook-edges']")
    assert curves is not None and curves.get("d", "").count("C") == 1 and "L" not in curves.get("d", "")


@pytest.mark.parametrize("vertical", [False, True])
def test_an_edge_inside_the_last_layer_stays_inside_the_drawing(vertical: bool) -> None:
    """Found by a re-check of the probe's fixes: a dependent that needs a sibling dependent
    looped out of the last column, past the drawing's right edge, and was cut off."""
    ns = "{http://www.w3.org/2000/svg}"
    nodes = [
        Node("f", "The card", "f", None, "", 0),
        Node("d2", "Second dependent", "d2", None, "", 1),
        Node("e", "Needs both", "e", None, "", 1),
    ]
    root = parse_svg(layered_svg(nodes, [Edge("f", "d2"), Edge("f", "e"), Edge("d2", "e")], label="x",
                                 vertical=vertical))
    width, height = (float(v) for v in root.get("viewBox", "").split()[2:])
    curves = root.find(f"{ns}path[@class='cardbook-edges']")
    assert curves is not None
    points = [point for part in curves.get("d", "").split("M")[1:] for point in curve_points("M" + part)]
    assert all(0 <= x <= width and 0 <= y <= height for x, y in points), (width, height)


def test_dot_source_quotes_everything() -> None:
    source = overview_dot([Node('x"y', 'Say "hi" \\ now', "tip", "../x/", "open", 0)], [Edge('x"y', 'x"y')])
    assert 'label="Say \\"hi\\" \\\\ now"' in source
    assert '"x\\"y" -> "x\\"y";' in source


def test_dot_caps_its_layout_passes_only_for_large_graphs() -> None:
    def nodes(count: int) -> list[Node]:
        return [Node(f"n{i}", f"N{i}", "", None, "", 0) for i in range(count)]

    small = overview_dot(nodes(DOT_QUICK_LAYOUT_NODES), [])
    large = overview_dot(nodes(DOT_QUICK_LAYOUT_NODES + 1), [])
    assert "mclimit" not in small and "nslimit" not in small
    assert "mclimit=0.3, nslimit=1" in large


def test_inline_svg_drops_the_xml_prologue() -> None:
    text = '<?xml version="1.0"?>\n<!DOCTYPE svg PUBLIC "x" "y">\n<!-- c -->\n<svg width="1pt"><g/></svg>\n'
    assert inline_svg(text) == '<svg class="cardbook-svg" width="1pt"><g/></svg>'


def test_dot_renderer_caches_on_disk(tmp_path: Path) -> None:
    fake = tmp_path / "dot"
    counter = tmp_path / "calls"
    fake.write_text(f"#!/bin/sh\necho x >> \"{counter}\"\ncat >/dev/null\necho '<svg><g/></svg>'\n")
    fake.chmod(0o755)
    cache = tmp_path / "cache"
    cache.mkdir()
    for _ in range(2):
        renderer = DotRenderer(str(fake), cache_dir=cache)
        assert renderer.submit("digraph { a }").result(timeout=30) == '<svg class="cardbook-svg"><g/></svg>'
        renderer.close()
    assert counter.read_text() == "x\n"  # the second renderer read the cache


def test_a_failing_dot_raises_dot_error(tmp_path: Path) -> None:
    from cardbook.site.dot import DotError

    fake = tmp_path / "dot"
    fake.write_text("#!/bin/sh\necho 'syntax error in line 1' >&2\nexit 1\n")
    fake.chmod(0o755)
    renderer = DotRenderer(str(fake), cache_dir=False)
    with pytest.raises(DotError, match="syntax error"):
        renderer.submit("digraph {").result(timeout=30)


def test_overview_chains_list_the_work_left(tmp_path: Path) -> None:
    settings, result = build(tmp_path, CARDS)
    statuses = styles.status_styles(settings.statuses)
    sections = overview.overview_sections(PageContext(result.graph, site_links(), statuses, "runbook/"))
    assert "Deploy" in sections["overview-goals"]
    assert "Build the app" in sections["overview-leaves"]
    # Each goal's open chain, under its graph: the open work as text.
    chains = "".join(re.findall(r'<ul class="cardbook-tree">.*?</ul>', sections["overview-goal-graphs"]))
    assert "Set up &lt;the&gt; database" not in chains  # done: counted, not listed
    assert "1 done prerequisite" in chains


def test_parts_in_the_same_card_point_up_and_down(tmp_path: Path) -> None:
    body = "```nix {file=nix/one.nix}\na\n```\n\nText.\n\n```nix {file=nix/one.nix}\nb\n```\n"
    _, result = build(tmp_path, {"docs/how-to/one.md": card(title="One", status="done", body=body)})
    one = result.graph.cards["one"]
    first, second = (fence.line for fence in result.tangled.fences["one"])
    links = urls.SiteLinks({"one": "how-to/one/"}, files_page_url="generated-files/")
    links.file_anchors = urls.file_anchors(["nix/one.nix"])
    out = captions.replace_in_order(
        rendered_titles(["nix/one.nix", "nix/one.nix"]),
        captions.fence_title_bars(
            one, captions.FenceIndex(result.tangled), PageContext(result.graph, links, {}, "how-to/one/")
        ),
    )
    assert f'before <a href="#cardbook-block-{second}">the part below</a>' in out
    assert f'after <a href="#cardbook-block-{first}">the part above</a>' in out


def _reference_order(nodes: list[Node], edges: list[Edge], sweeps: int) -> dict[int, list[str]]:
    """The barycenter passes written plainly, by id: what order_columns computes on integers."""
    columns: dict[int, list[Node]] = {}
    for node in sorted(nodes, key=lambda n: (n.column, n.label.casefold(), n.id)):
        columns.setdefault(node.column, []).append(node)
    column_of = {node.id: node.column for node in nodes}
    left: dict[str, list[str]] = {node.id: [] for node in nodes}
    right: dict[str, list[str]] = {node.id: [] for node in nodes}
    for edge in edges:
        if column_of[edge.source] < column_of[edge.target]:
            left[edge.target].append(edge.source)
            right[edge.source].append(edge.target)
        elif column_of[edge.target] < column_of[edge.source]:
            left[edge.source].append(edge.target)
            right[edge.target].append(edge.source)
    position = {node.id: index for column in columns.values() for index, node in enumerate(column)}
    keys = [key for key in sorted(columns) if len(columns[key]) > 1]
    for sweep in range(sweeps):
        placed = left if sweep % 2 == 0 else right
        moved = False
        for key in keys if sweep % 2 == 0 else reversed(keys):
            means = [
                sum(position[o] for o in placed[n.id]) / len(placed[n.id]) if placed[n.id] else float(i)
                for i, n in enumerate(columns[key])
            ]
            ranked = sorted(
                ((means[i], i, n) for i, n in enumerate(columns[key])), key=lambda entry: (entry[0], entry[1])
            )
            if [entry[2] for entry in ranked] != columns[key]:
                moved = True
                columns[key] = [entry[2] for entry in ranked]
                position.update((n.id, i) for i, n in enumerate(columns[key]))
        if not moved and sweep > 0:
            break
    return {key: [node.id for node in column] for key, column in columns.items()}


def test_layer_order_matches_the_plain_barycenter_and_layers_may_come_apart_from_nodes() -> None:
    rng = random.Random(5)
    for _ in range(60):
        count = rng.randint(1, 40)
        nodes = [
            Node(f"n{i}", f"Card {rng.randint(0, 9)}", "", None, "", rng.randint(0, 4)) for i in range(count)
        ]
        pick = [f"n{rng.randrange(count)}" for _ in range(4 * count)]
        edges = [Edge(pick[2 * i], pick[2 * i + 1]) for i in range(rng.randint(0, 2 * count))]
        sweeps = rng.choice([1, 2, 4, 8])
        ordered = order_columns(nodes, edges, sweeps)
        assert {key: [n.id for n in column] for key, column in ordered.items()} == _reference_order(
            nodes, edges, sweeps
        )
        # The same drawing with every layer given apart from the nodes (one node, many drawings).
        layer = {node.id: node.column for node in nodes}
        flat = [Node(n.id, n.label, n.tooltip, n.href, n.classes, 0) for n in nodes]
        for vertical in (False, True):
            assert layered_svg(flat, edges, label="x", vertical=vertical, columns=layer) == layered_svg(
                nodes, edges, label="x", vertical=vertical
            )


def test_the_stylesheet_is_ascii() -> None:
    """Zensical pages carry it inline: one non-ASCII character in it would take every such
    page off Python's fast string paths (site/urls.py, ascii_html)."""
    from cardbook.site.styles import STATIC_CSS as STYLESHEET

    assert STYLESHEET.read_text(encoding="utf-8").isascii()


def app_page_build(tmp_path: Path, files: dict[str, str]) -> SiteBuild:
    """The build of CARDS-like `files` whose three cards are pages named by their source (as
    under Zensical), for converting how-to/app.md through the extension in process."""

    settings, result = build(tmp_path, files)
    by_src = {f"how-to/{stem}.md": result.graph.cards[stem] for stem in ("db", "app", "deploy")}
    return SiteBuild(
        settings=settings,
        result=result,
        links=SiteLinks({card.stem: src for src, card in by_src.items()}),
        page_urls={src: src for src in by_src},
        card_by_src=by_src,
        source_links=True,
    )


def test_the_extension_puts_a_cards_parts_into_the_page_once_and_never_into_a_heading(
    tmp_path: Path,
) -> None:
    """No marker lines in the Markdown: the header goes after the title, the graph at the end,
    on the whole page only (the toc extension runs the postprocessors on each heading's text
    first), and a Markdown instance converting again splices again."""
    from markdown import Markdown

    from cardbook.site.extension import CardbookExtension, Session

    files = dict(CARDS)
    files["docs/how-to/app.md"] = files["docs/how-to/app.md"].replace(
        "Text.\n", "# Build the app\n\nText.\n\n## Also see [[deploy]]\n\nMore.\n", 1
    )
    site = app_page_build(tmp_path, files)
    md = Markdown(
        extensions=[CardbookExtension(session=Session(site, "how-to/app.md", None, True)), "toc", "attr_list"]
    )
    markdown = files["docs/how-to/app.md"].split("---\n", 2)[2]
    first = md.convert(markdown)
    headings = [token["name"] for token in md.toc_tokens[0]["children"]]
    md.reset()
    assert md.convert(markdown) == first
    assert first.count('<aside class="cardbook-header"') == 1
    assert first.index("</h1>") < first.index('<aside class="cardbook-header"') < first.index("<p>Text.")
    assert first.count('<aside class="cardbook-neighbourhood"') == 1
    assert first.rstrip().endswith("</aside>")
    assert headings == ["Also see Deploy"]  # the heading's link resolved, nothing spliced into it
    assert '<h2 id="also-see-deploy">Also see <a href="deploy.md">Deploy</a></h2>' in first


def test_markdown_converted_inside_a_page_resolves_its_links_as_the_pages(tmp_path: Path) -> None:
    """An extension that converts Markdown inside a page with the page's own extensions, as
    markdown-exec and mkdocstrings do: the nested conversion resolves its wiki-links as the
    page's, gets no header or graph of its own, and leaves the page's links alone (found by an
    outside probe: the page's links after such a block showed as `cardbookwikilink2x`)."""
    from markdown import Extension, Markdown
    from markdown.blockprocessors import BlockProcessor

    from cardbook.site.extension import CardbookExtension, Session

    class Inner(BlockProcessor):  # `!inner text`: the text converted by a Markdown of its own
        def test(self, parent: ET.Element, block: str) -> bool:
            return block.startswith("!inner ")

        def run(self, parent: ET.Element, blocks: list[str]) -> None:
            inner = Markdown(extensions=list(self.parser.md.registeredExtensions))
            html = inner.convert(blocks.pop(0)[len("!inner ") :])
            placeholder = self.parser.md.htmlStash.store(html)
            ET.SubElement(parent, "p").text = placeholder

    class Nesting(Extension):
        def extendMarkdown(self, md: Markdown) -> None:
            md.registerExtension(self)
            md.parser.blockprocessors.register(Inner(md.parser), "inner", 200)

    files = dict(CARDS)
    files["docs/how-to/app.md"] = files["docs/how-to/app.md"].replace(
        "Text.\n", "# Build the app\n\nFirst [[db]].\n\n!inner From inside: [[deploy|the deploy]].\n\n"
        "Then [[deploy]] and [[db|the database]].\n", 1
    )
    site = app_page_build(tmp_path, files)
    session = Session(site, "how-to/app.md", None, True)
    md = Markdown(extensions=[CardbookExtension(session=session), Nesting()])
    page = md.convert(files["docs/how-to/app.md"].split("---\n", 2)[2])
    paragraphs = re.findall(r"<p>(.*?)</p>", page)
    assert paragraphs[:3] == [
        'First <a href="db.md">Set up &lt;the&gt; database</a>.',
        'From inside: <a href="deploy.md">the deploy</a>.',
        'Then <a href="deploy.md">Deploy</a> and <a href="db.md">the database</a>.',
    ]
    assert page.count('<aside class="cardbook-header"') == 1
    assert page.count('<aside class="cardbook-neighbourhood"') == 1
    assert session.converting is None  # the page's conversion is over: the next one is a page's


@pytest.mark.parametrize("cardbook_first", [True, False])
def test_a_sanitizer_after_the_extension_leaves_its_parts_alone(tmp_path: Path, cardbook_first: bool) -> None:
    """Found by an outside probe: under Zensical, with cardbook listed before pymdownx.striphtml
    set to strip `style`, the graph lost the widths it scales between. The parts go into the
    finished page, as the MkDocs plugin puts them in after Markdown: after every postprocessor."""
    from markdown import Markdown

    from cardbook.site.extension import CardbookExtension, Session

    files = dict(CARDS)
    files["docs/how-to/app.md"] = files["docs/how-to/app.md"].replace(
        "Text.\n", '# Build the app\n\n<p style="color: red">Styled by hand.</p>\n', 1
    )
    site = app_page_build(tmp_path, files)
    ours = CardbookExtension(session=Session(site, "how-to/app.md", None, True))
    extensions = [ours, "pymdownx.striphtml"] if cardbook_first else ["pymdownx.striphtml", ours]
    strip_style = {"pymdownx.striphtml": {"strip_attributes": ["style"]}}
    md = Markdown(extensions=extensions, extension_configs=strip_style)
    page = md.convert(files["docs/how-to/app.md"].split("---\n", 2)[2])
    assert "<p>Styled by hand.</p>" in page  # the author's markup: stripped as configured
    svg = page[page.index("<svg") : page.index(">", page.index("<svg"))]
    assert 'style="max-width:' in svg


def test_without_a_page_the_extension_says_where_it_works(monkeypatch: pytest.MonkeyPatch) -> None:
    """Found by an outside probe: under Zensical the message said the extension works under
    Zensical."""
    from cardbook.site import zensical

    monkeypatch.delitem(sys.modules, "zensical", raising=False)
    assert "it works under Zensical" in zensical._no_page_context()
    monkeypatch.setitem(sys.modules, "zensical", types.ModuleType("zensical"))
    message = zensical._no_page_context()
    assert "works under Zensical" not in message and "Zensical's rendering context" in message


@pytest.mark.parametrize(
    ("page", "expected"),
    [
        ('<h1 id="a">Title</h1>\n<p>x</p>', '<h1 id="a">Title</h1>\nHEADER\n<p>x</p>'),
        # Found by an outside probe: `</h1>` inside an attribute of the title (attr_list) or of
        # an element in it took the header into the <h1> tag.
        (
            '<h1 id="a" title="closes with </h1> here">Attr title</h1>\n<p>x</p>',
            '<h1 id="a" title="closes with </h1> here">Attr title</h1>\nHEADER\n<p>x</p>',
        ),
        (
            '<h1>Span <abbr title="the </h1> tag">title</abbr></h1><p>x</p>',
            '<h1>Span <abbr title="the </h1> tag">title</abbr></h1>\nHEADER<p>x</p>',
        ),
        # Also found by it: a linter's pragma before the title put the header above the title.
        (
            "<!-- markdownlint-disable MD041 -->\n<h1>T</h1>\n<p>x</p>",
            "<!-- markdownlint-disable MD041 -->\n<h1>T</h1>\nHEADER\n<p>x</p>",
        ),
        ("<p>No title</p><h1>Later</h1>", "HEADER\n<p>No title</p><h1>Later</h1>"),
        ("<div><h1>Inside</h1></div>", "HEADER\n<div><h1>Inside</h1></div>"),
        ("<h1>Never closed", "HEADER\n<h1>Never closed"),
        ("", "HEADER\n"),
    ],
)
def test_the_header_goes_after_the_whole_title_element(page: str, expected: str) -> None:
    assert card_page.insert_after_title(page, "HEADER") == expected


def test_without_the_pages_they_would_link_captions_and_figures_promise_nothing(tmp_path: Path) -> None:
    """Found by an outside probe under Zensical, whose sites have a generated-files page and an
    All cards graph only where a page holds their markers: a file block's bar said "where each
    line comes from" linking nowhere, and a neighbourhood's caption called the overview "the
    whole graph"."""
    settings, result = build(tmp_path, CARDS)
    app = result.graph.cards["app"]
    links = urls.SiteLinks(dict(URLS), overview_url="runbook/")  # no files page, no graph page
    ctx = PageContext(result.graph, links, styles.status_styles(settings.statuses), "how-to/app/")
    bars = captions.fence_title_bars(app, captions.FenceIndex(result.tangled), ctx)
    assert bars and not any("where each line comes from" in new for _, new in bars)
    assert "part 2 of 2" in bars[-1][1]  # what it can say, it says
    section = card_page.neighbourhood_section(card_page.neighbourhood_svg("app", ctx), ctx)
    assert '<a href="../../runbook/">the overview</a>' in section and "the whole graph" not in section
    links.overview_url = None
    section = card_page.neighbourhood_section(card_page.neighbourhood_svg("app", ctx), ctx)
    assert "each way.</figcaption>" in section
