"""The overview at scale, read back from the built site: one graph per open goal, none wider
than the content column, whole labels with their title as tooltip, the cards no open card
needs listed under "Done", and every card on the "All cards graph" page."""

from __future__ import annotations

import re
import shutil
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from cardbook.core.settings import Settings
from cardbook.pipeline import load_and_check
from cardbook.site import overview, styles, urls
from cardbook.site.context import PageContext
from cardbook.site.dot import dot_rows, overview_dot, titled_svg
from cardbook.site.layered import MAX_GRAPH_WIDTH, Edge, Node, layered_svg, wrap_label, wrap_row
from helpers import card, parse_svg, write_tree
from test_site_build import article, broken_links, mkdocs, page, runbook

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
import benchlib  # the benchmark's generator of 1000-card runbooks

SVG_NS = "{http://www.w3.org/2000/svg}"
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
SVG_BLOCK = re.compile(r"<svg\b.*?</svg>", re.DOTALL)

# Titles long enough to wrap over several lines, one with a word longer than a line.
LONG = "Prepare the configuration-management repository of environment {n} before the migration"
UNBROKEN = "Rotate-the-signing-keys-of-the-artifact-registry-and-the-build-farm everywhere"


def many_goals() -> dict[str, str]:
    """30 small goals, one goal needing 40 cards directly (a wide layer), one deep open chain,
    and done cards that no open card needs: a chain of their own and one using `base`."""
    files = {"docs/index.md": "# Home\n", "docs/how-to/base.md": card(title="Base")}
    for n in range(30):
        files[f"docs/how-to/goal-{n:02d}.md"] = card(
            title=f"Goal {n}", status="active", requires=[f"prep-{n:02d}-a", f"prep-{n:02d}-b"]
        )
        files[f"docs/how-to/prep-{n:02d}-a.md"] = card(title=LONG.format(n=n), requires="[base]")
        files[f"docs/how-to/prep-{n:02d}-b.md"] = card(title=f"Second step {n}", requires="[base]")
    files["docs/how-to/big.md"] = card(
        title="The big goal", status="active", requires=[f"part-{i:02d}" for i in range(40)]
    )
    for i in range(40):
        files[f"docs/how-to/part-{i:02d}.md"] = card(title=f"Part {i} of the big goal")
    chain = [f"deep-{i}" for i in range(6)]
    for i, stem in enumerate(chain):
        needs = chain[i + 1] if i + 1 < len(chain) else "base"
        title = UNBROKEN if i == 3 else f"Deep step {i}"
        files[f"docs/how-to/{stem}.md"] = card(title=title, status="active", requires=f"[{needs}]")
    for i in range(5):
        needs = f"[old-{i - 1}]" if i else None
        files[f"docs/how-to/old-{i}.md"] = card(title=f"Old work {i}", requires=needs)
    files["docs/how-to/retired.md"] = card(title="Retired on top of base", requires="[base]")
    return files


@dataclass
class Drawing:
    svg: ET.Element
    graphviz: bool

    @property
    def width(self) -> float:
        """The natural width in CSS pixels, from the width attribute and from the viewBox."""
        scale = 4 / 3 if self.graphviz else 1.0  # Graphviz draws in points
        attribute = float(self.svg.get("width", "0").removesuffix("pt").removesuffix("px")) * scale
        view_box = float(self.svg.get("viewBox", "0 0 0 0").split()[2]) * scale
        return max(attribute, view_box)

    def nodes(self) -> list[ET.Element]:
        """Graphviz's `g.node` (its link inside), or the layered drawing's `a.node` and `g.node`."""
        tags = (f"{SVG_NS}g", f"{SVG_NS}a")
        return [
            element
            for element in self.svg.iter()
            if element.tag in tags and "node" in (element.get("class") or "").split()
        ]


def drawings(html: str) -> list[Drawing]:
    found = []
    for block in SVG_BLOCK.findall(html):
        svg = parse_svg(block)
        found.append(Drawing(svg, "cardbook-svg--layered" not in (svg.get("class") or "")))
    return found


def node_y(node: ET.Element) -> float:
    """The top of a node's box in the layered drawing (each node is moved to its place)."""
    found = re.fullmatch(r"translate\((-?[\d.]+),(-?[\d.]+)\)", node.get("transform", ""))
    assert found is not None, node.get("transform")
    return float(found[2])


def node_text(node: ET.Element) -> str:
    """Every line of a node's label (tspans of one <text>, or Graphviz's <text> per line)."""
    return " ".join("".join(text.itertext()) for text in node.iter(f"{SVG_NS}text"))


def node_title(node: ET.Element) -> str:
    title = node.find(f"{SVG_NS}title")
    if title is None:  # the layered drawing puts it inside the link
        title = next(node.iter(f"{SVG_NS}title"))
    return title.text or ""


def node_href(node: ET.Element) -> str | None:
    for link in node.iter(f"{SVG_NS}a"):  # the node itself, or a link inside it
        return link.get("href") or link.get(XLINK_HREF)
    return None


def edge_count(svg: ET.Element) -> int:
    """The layered drawing's edges: one curve each in its one path of curves."""
    curves = svg.find(f"{SVG_NS}path[@class='cardbook-edges']")
    heads = svg.find(f"{SVG_NS}path[@class='cardbook-arrowheads']")
    if curves is None or heads is None:
        return 0
    count = curves.get("d", "").count("M")
    assert 0 < heads.get("d", "").count("M") <= count  # edges into one side of a box share one
    return count


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def section(html: str, heading_id: str) -> str:
    """The HTML from a heading to the next <h2>."""
    start = html.index(f'id="{heading_id}"')
    end = html.find("<h2", start)
    return html[start : end if end != -1 else len(html)]


# Every page under the card root is a card, whether or not it says so (a lone done card too).
ALL_CARDS = "      cards: all\n"


def build(root: Path, files: dict[str, str], *, graphviz: bool) -> Path:
    runbook(root, files, extra_options=ALL_CARDS)
    env = None
    if not graphviz:
        (root / "bin").mkdir()
        env = {"PATH": str(root / "bin")}
    done = mkdocs(root, env=env)
    assert done.returncode == 0, done.stderr
    return root / "site"


@pytest.fixture(scope="module", params=[True, False], ids=["graphviz", "no-graphviz"])
def many_goals_site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    if request.param and shutil.which("dot") is None:
        pytest.skip("Graphviz dot is not installed")
    return build(tmp_path_factory.mktemp("goals"), many_goals(), graphviz=request.param)


def prerequisites_of(requires: dict[str, list[str]], goal: str) -> set[str]:
    found, stack = {goal}, [goal]
    while stack:
        for need in requires[stack.pop()]:
            if need not in found:
                found.add(need)
                stack.append(need)
    return found


def test_every_open_goal_gets_a_graph_within_the_column_largest_first(many_goals_site: Path) -> None:
    overview = article(page(many_goals_site, "runbook.md"))
    graphs = section(overview, "goal-graphs")
    drawn = drawings(graphs)
    assert len(drawn) == 32  # 30 goals, the big one, the deep chain
    assert all(drawing.width <= MAX_GRAPH_WIDTH for drawing in drawn), [d.width for d in drawn]
    sizes = [len(drawing.nodes()) for drawing in drawn]
    assert sizes == sorted(sizes, reverse=True) and sizes[0] == 41 and sizes[1] == 7
    big = drawn[0]
    assert {node_title(node).split(" (")[0] for node in big.nodes()} == {"The big goal"} | {
        f"Part {i} of the big goal" for i in range(40)
    }
    # The goal on top, its 40 prerequisites wrapped onto rows below it.
    rows = {node_y(node) for node in big.nodes()}
    assert len(rows) >= 40 * 100 // MAX_GRAPH_WIDTH
    assert "cardbook-graph--all" not in overview  # the whole graph has a page of its own


def test_cards_no_open_card_needs_are_listed_under_done_not_drawn(many_goals_site: Path) -> None:
    overview = article(page(many_goals_site, "runbook.md"))
    done = section(overview, "done")
    listed = set(re.findall(r'<a href="[^"]*how-to/([\w-]+)/">', done))
    assert listed == {"old-0", "old-1", "old-2", "old-3", "old-4", "retired"}
    assert "<svg" not in done
    drawn_titles = {
        node_title(node).split(" (")[0] for drawing in drawings(overview) for node in drawing.nodes()
    }
    assert "Retired on top of base" not in drawn_titles and "Old work 0" not in drawn_titles
    assert "Base" in drawn_titles  # done, but needed by open goals: drawn with them


def test_labels_are_whole_and_each_node_has_its_title_as_tooltip(many_goals_site: Path) -> None:
    pages = {
        "overview": article(page(many_goals_site, "runbook.md")),
        "all cards": article(page(many_goals_site, "runbook-graph.md")),
        "neighbourhood": article(page(many_goals_site, "how-to/deep-3.md")),
    }
    for name, html in pages.items():
        long_ones = 0
        for drawing in drawings(html):
            for node in drawing.nodes():
                title = node_title(node)
                assert "…" not in node_text(node) and "…" not in title, (name, title)
                full = title.rsplit(" (", 1)[0]  # "Title (status)"
                assert squeeze(node_text(node)) == squeeze(full), (name, node_text(node), full)
                if len(full) > 40:  # on several lines: a text per line, or a text and its tspans
                    long_ones += 1
                    lines = len(list(node.iter(f"{SVG_NS}text" if drawing.graphviz else f"{SVG_NS}tspan")))
                    assert lines + (not drawing.graphviz) > 1, (name, full)
        assert long_ones, name
    neighbourhood = pages["neighbourhood"]
    assert UNBROKEN in [node_title(n).rsplit(" (", 1)[0] for d in drawings(neighbourhood) for n in d.nodes()]


def test_the_all_cards_graph_page_draws_every_card_once(many_goals_site: Path) -> None:
    whole = article(page(many_goals_site, "runbook-graph.md"))
    (drawing,) = drawings(whole)
    assert drawing.width <= MAX_GRAPH_WIDTH
    stems = [Path(path).stem for path in (many_goals_site.parent / "docs/how-to").glob("*.md")]
    hrefs = sorted(re.sub(r"^.*how-to/([\w-]+)/$", r"\1", node_href(node) or "") for node in drawing.nodes())
    assert hrefs == sorted(stems)
    overview = article(page(many_goals_site, "runbook.md"))
    assert re.search(r'<a href="\.\./runbook-graph/">All cards graph</a>', overview)
    card_page = article(page(many_goals_site, "how-to/base.md"))
    assert re.search(r'<a href="\.\./\.\./runbook-graph/">the whole graph</a>', card_page)
    assert broken_links(many_goals_site) == []


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot is not installed")
def test_graphviz_draws_a_mostly_done_runbook_within_the_column(tmp_path: Path) -> None:
    """A real runbook's shape: many done cards on their own, a little open work. Drawn in one
    rank, its 48 lone cards made a drawing 7000 pt wide."""
    files = {"docs/index.md": "# Home\n"}
    for i in range(48):
        files[f"docs/how-to/done-{i:02d}.md"] = card(title=f"Finished task number {i}")
    files["docs/how-to/setup.md"] = card(title="Set up the host")
    files["docs/how-to/build.md"] = card(title="Build it", status="active", requires="[setup]")
    files["docs/how-to/ship.md"] = card(title="Ship it", status="active", requires="[build]")
    site = build(tmp_path, files, graphviz=True)
    (drawing,) = drawings(article(page(site, "runbook-graph.md")))
    assert drawing.graphviz  # dot's drawing fitted, so it is the one shown
    assert drawing.width <= MAX_GRAPH_WIDTH
    assert len(drawing.nodes()) == 51
    assert all(node_title(node).endswith(")") for node in drawing.nodes())  # the tooltip, not the stem
    overview = article(page(site, "runbook.md"))
    assert len(drawings(section(overview, "goal-graphs"))) == 1
    assert len(re.findall(r"<li><a ", section(overview, "done"))) == 48


@pytest.fixture(scope="module")
def thousand_cards(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Path, list[benchlib.PlannedCard]]]:
    root = tmp_path_factory.mktemp("thousand")
    planned = benchlib.plan_cards(1000)
    benchlib.write_cards(root, planned)
    statuses = "{active: open, blocked: open, done: closed, superseded: closed}"
    runbook(root, {}, extra_options=ALL_CARDS)  # the test config; the cards are already there
    config = (root / "mkdocs.yml").read_text().replace("{active: open, done: closed}", statuses)
    (root / "mkdocs.yml").write_text(config)
    done = mkdocs(root)
    assert done.returncode == 0, done.stderr
    yield root / "site", planned


def test_a_thousand_card_runbook_keeps_every_graph_within_the_column(
    thousand_cards: tuple[Path, list[benchlib.PlannedCard]],
) -> None:
    site, planned = thousand_cards
    requires = {c.stem: [r.rsplit("/", 1)[-1].removesuffix(".md") for r in c.requires] for c in planned}
    is_open = {c.stem: c.status in ("active", "blocked") for c in planned}
    needed_by_open = {need for stem, needs in requires.items() if is_open[stem] for need in needs}
    goals = [stem for stem in requires if is_open[stem] and stem not in needed_by_open]
    assert len(goals) > 100  # the tree this test is about: many goals, many shared prerequisites
    overview = article(page(site, "runbook.md"))
    drawn = drawings(section(overview, "goal-graphs"))
    assert len(drawn) == len(goals)
    assert max(drawing.width for drawing in drawn) <= MAX_GRAPH_WIDTH
    in_goal_graphs = set().union(*(prerequisites_of(requires, goal) for goal in goals))
    sizes = sorted((len(prerequisites_of(requires, goal)) for goal in goals), reverse=True)
    assert [len(drawing.nodes()) for drawing in drawn] == sizes
    listed = set(re.findall(r'how-to/area\d+/(card-\d+)/"', section(overview, "done")))
    assert listed == set(requires) - in_goal_graphs and listed

    (whole,) = drawings(article(page(site, "runbook-graph.md")))
    assert whole.width <= MAX_GRAPH_WIDTH
    assert sorted(Path(node_href(node) or "").name for node in whole.nodes()) == sorted(requires)


def test_with_graphs_turned_off_the_goals_stay_as_text(tmp_path: Path) -> None:
    files = {
        "docs/index.md": "# Home\n",
        "docs/how-to/a.md": card(title="Alpha", status="active", requires="[b]"),
        "docs/how-to/b.md": card(title="Beta"),
        "docs/how-to/c.md": card(title="Gamma"),
    }
    runbook(tmp_path, files, extra_options=ALL_CARDS + "      graphs: false\n")
    done = mkdocs(tmp_path)
    assert done.returncode == 0, done.stderr
    overview_page = article(page(tmp_path / "site", "runbook.md"))
    assert "<svg" not in overview_page and "runbook-graph" not in overview_page
    assert "Graphs are turned off" in section(overview_page, "goal-graphs")
    assert ">Alpha</a>" in section(overview_page, "goal-graphs")
    assert ">Gamma</a>" in section(overview_page, "done")
    assert not (tmp_path / "site/runbook-graph").exists()


def test_open_cards_caught_in_a_cycle_are_still_drawn(tmp_path: Path) -> None:
    """No goal stands above a cycle of open cards; the overview draws them all the same."""
    write_tree(
        tmp_path,
        {
            "docs/how-to/x.md": card(title="X", status="active", requires="[y]"),
            "docs/how-to/y.md": card(title="Y", status="active", requires="[x, z]"),
            "docs/how-to/z.md": card(title="Z"),
            "docs/how-to/goal.md": card(title="Goal", status="active", requires="[z]"),
        },
    )
    settings = Settings(root=tmp_path, statuses={"active": True, "done": False}, cards="all")
    graph = load_and_check(settings).graph
    links = urls.SiteLinks({stem: f"how-to/{stem}/" for stem in graph.cards}, overview_url="runbook/")
    ctx = PageContext(graph, links, styles.status_styles(settings.statuses), "runbook/")
    sections = overview.overview_sections(ctx)
    drawn = drawings(sections["overview-goal-graphs"])
    titles = [sorted(node_title(node).split(" (")[0] for node in d.nodes()) for d in drawn]
    assert titles == [["X", "Y", "Z"], ["Goal", "Z"]]
    assert "dependency cycle" in sections["overview-summary"]
    assert "None" in sections["overview-done"]


# The layouts on their own --------------------------------------------------------------------


def test_a_layer_of_301_cards_wraps_onto_even_rows_within_the_width() -> None:
    nodes = [Node("goal", "Goal", "Goal (active)", None, "open", 0)]
    nodes += [Node(f"n{i}", f"Card {i:03d} with a longer title", f"t{i}", None, "", 1) for i in range(301)]
    edges = [Edge(f"n{i}", "goal") for i in range(301)]
    svg = layered_svg(nodes, edges, label="x", vertical=True)
    root = parse_svg(svg)
    assert float(root.get("width", "0")) <= MAX_GRAPH_WIDTH
    drawn = Drawing(root, graphviz=False).nodes()
    assert len(drawn) == 302
    assert edge_count(root) == 301
    # Rows of even length (not 60 rows of 5 and one of 1): each row's boxes share a y.
    per_row: dict[float, int] = {}
    for node in drawn:
        per_row[node_y(node)] = per_row.get(node_y(node), 0) + 1
    counts = sorted(per_row.values())
    assert counts[0] == 1 and max(counts) - min(counts[1:]) <= 1  # the goal alone, then even rows


def test_wrap_row_never_passes_the_limit() -> None:
    widths = [50, 120, 80, 200, 30, 30, 30, 160]
    rows = wrap_row(list(range(len(widths))), lambda i: widths[i], 300, 10)
    assert [i for row in rows for i in row] == list(range(len(widths)))
    assert all(sum(widths[i] for i in row) + 10 * (len(row) - 1) <= 300 for row in rows)


def test_labels_keep_every_character() -> None:
    for title in [UNBROKEN, LONG.format(n=7), "x" * 95, "Short"]:
        assert squeeze("".join(wrap_label(title))) == squeeze(title)
        dot = overview_dot([Node("a", title, title, None, "", 0)], [])
        label = re.search(r'label="(.*?)", tooltip', dot)
        assert label is not None and squeeze(label[1].replace("\\n", "")) == squeeze(title)


def test_dot_is_not_asked_for_what_it_cannot_keep_narrow() -> None:
    # A goal needing 60 cards: the edges from the goal pass every row of its prerequisites.
    nodes = [Node("goal", "Goal", "Goal", None, "", 0)]
    nodes += [Node(f"n{i:02d}", f"Prerequisite number {i}", "", None, "", 1) for i in range(60)]
    edges = [Edge(f"n{i:02d}", "goal") for i in range(60)]
    assert dot_rows(nodes, edges, MAX_GRAPH_WIDTH) is None
    # 60 lone cards: rows of boxes and nothing between them.
    lone = [Node(f"n{i:02d}", f"Lone card number {i}", "", None, "", 0) for i in range(60)]
    rows = dot_rows(lone, [], MAX_GRAPH_WIDTH)
    assert (
        rows is not None
        and len(rows) > 1
        and sorted(n.id for row in rows for n in row) == sorted(n.id for n in lone)
    )
    source = overview_dot(lone, [], rows=rows)
    assert source.count("rank=same") == len(rows)


def test_graphviz_titles_become_the_tooltips() -> None:
    svg = (
        '<svg><g id="node1" class="node cardbook-node open">\n<title>a-b</title>\n<text>A</text></g>'
        '<g id="edge1" class="edge">\n<title>a-b-&gt;c</title></g></svg>'
    )
    out = titled_svg(svg, {"a-b": 'A <full> "title" (active)'})
    assert "<title>A &lt;full&gt; &quot;title&quot; (active)</title>" in out
    assert "<title>a-b-&gt;c</title>" in out  # edges keep theirs


def test_the_benchmark_finds_cardbook_only_next_to_its_interpreter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run with a plain python3, scripts/bench must re-run itself in the project's environment
    (where it reads the tools' versions), not borrow cardbook from the engines' venv."""
    (tmp_path / "bin").mkdir()
    monkeypatch.setattr(sys, "executable", str(tmp_path / "bin" / "python3"))
    assert benchlib.tool("cardbook") is None and benchlib.tool("mkdocs") is None
    (tmp_path / "bin" / "cardbook").write_text("")
    assert benchlib.tool("cardbook") == tmp_path / "bin" / "cardbook"
