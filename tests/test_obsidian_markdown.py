"""An Obsidian-written runbook built with the `markdown_extensions` that
docs/guides/adopt-obsidian.md recommends: callouts become admonitions (collapsible ones
<details>), lists right after a paragraph line and lists nested by two spaces are lists.
The configuration is read from the guide, so the page and the tests cannot drift."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from cardbook.core.callouts import callout_problems, find_callouts
from helpers import card, fence, write_tree
from runbook_shape import FIXTURE, build, facts, recipe_config, site_config, write_runbook

# Elements that have no end tag in HTML.
VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
)
CODE = frozenset({"code", "pre", "script", "style", "svg"})


@dataclass(eq=False)
class Node:
    tag: str
    attrs: dict[str, str]
    parent: Node | None = None
    children: list[Node | str] = field(default_factory=list)

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    @property
    def elements(self) -> list[Node]:
        return [child for child in self.children if isinstance(child, Node)]

    def iter(self, tag: str | None = None) -> Iterator[Node]:
        for child in self.elements:
            if tag is None or child.tag == tag:
                yield child
            yield from child.iter(tag)

    def find_all(self, tag: str, cls: str | None = None) -> list[Node]:
        return [node for node in self.iter(tag) if cls is None or cls in node.classes]

    def text(self, skip: frozenset[str] = frozenset()) -> str:
        parts: list[str] = []
        for child in self.children:
            if isinstance(child, str):
                parts.append(child)
            elif child.tag not in skip:
                parts.append(child.text(skip))
        return "".join(parts)

    def next_element(self) -> Node | None:
        assert self.parent is not None
        siblings = self.parent.elements
        index = siblings.index(self)
        return siblings[index + 1] if index + 1 < len(siblings) else None


class _Tree(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.root = Node("#document", {})
        self.current = self.root

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {name: value or "" for name, value in attrs}, self.current)
        self.current.children.append(node)
        if tag not in VOID:
            self.current = node

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {name: value or "" for name, value in attrs}, self.current)
        self.current.children.append(node)

    def handle_endtag(self, tag: str) -> None:
        node: Node | None = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.current = node.parent

    def handle_data(self, data: str) -> None:
        self.current.children.append(data)


def article(path: Path) -> Node:
    """The page's content: Material's <article>."""
    tree = _Tree()
    tree.feed(path.read_text(encoding="utf-8"))
    found = tree.root.find_all("article")
    assert len(found) == 1, path
    return found[0]


def callouts_of(content: Node) -> list[Node]:
    """Admonitions and collapsible blocks, in page order."""
    return [node for node in content.iter() if "admonition" in node.classes or node.tag == "details"]


def title_of(callout: Node) -> str:
    if callout.tag == "details":
        return callout.find_all("summary")[0].text().strip()
    return callout.find_all("p", "admonition-title")[0].text().strip()


def prose(content: Node) -> str:
    """The page's text outside code."""
    return content.text(skip=CODE)


# A list line that Markdown left inside a paragraph: the list was merged into it.
MERGED_LIST = re.compile(r"\n[ \t]*(?:[-*+]|\d+\.)[ \t]+\S")


def merged_lists(content: Node) -> list[str]:
    return [p.text(skip=CODE) for p in content.find_all("p") if MERGED_LIST.search(p.text(skip=CODE))]


BODY = """\
# Restart the registry

> [!note]
> The registry serves `registry.example.net`.

> [!warning] Mind the gap
> Pushes fail while it restarts.

> [!tip]- Closed by default
> Hidden until opened.

> [!tip]+ Open by default
> Shown until closed.

Before you start, check:
- the disk has room
- nobody is pushing
  - look at the [[how-to|dashboard]]
  - ask in the channel
- the last backup is fresh

Then, in order:
1. stop the service
2. start it again

> [!danger] In a callout
> Check first:
> - the lock file is gone
> - the port is free

Write `> [!note]` to start a note, as in:

""" + fence("```markdown", "> [!note] An example, not a callout", "> Body.")

PROJECT = {
    "docs/index.md": card(title="Home", body="# Home\n\nStart at [[how-to]].\n"),
    "docs/how-to/how-to.md": card(
        title="How-to guides",
        body="# How-to guides\n\n- [[restart-the-registry]]\n- [[rotate-the-keys]]\n",
    ),
    "docs/how-to/restart-the-registry.md": card(
        title="Restart the registry", tags="[how-to, zot]", body=BODY
    ),
    "docs/how-to/rotate-the-keys.md": card(
        title="Rotate the keys",
        status="active",
        requires="[restart-the-registry]",
        tags="[how-to, zot]",
        body="# Rotate the keys\n\nFirst [[restart-the-registry]].\n\n"
        "> [!info]- Why\n> The old keys leaked.\n",
    ),
}


def project(root: Path, config: str, *, strict: bool = True) -> Path:
    write_tree(root, {"mkdocs.yml": config, **PROJECT})
    result = build(root, *([] if strict else ["--no-strict"]))
    assert result.returncode == 0, result.stdout + result.stderr
    return root / "site"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return project(tmp_path_factory.mktemp("obsidian"), site_config())


@pytest.fixture(scope="module")
def page(site: Path) -> Node:
    return article(site / "how-to/restart-the-registry/index.html")


def test_callouts_are_admonitions_with_their_type_and_title(page: Node) -> None:
    found = callouts_of(page)
    assert [(node.tag, sorted(node.classes), title_of(node)) for node in found] == [
        ("div", ["admonition", "note"], "Note"),
        ("div", ["admonition", "warning"], "Mind the gap"),
        ("details", ["tip"], "Closed by default"),
        ("details", ["tip"], "Open by default"),
        ("div", ["admonition", "danger"], "In a callout"),
    ]
    assert "registry.example.net" in found[0].text()
    assert found[1].find_all("p")[-1].text() == "Pushes fail while it restarts."


def test_minus_is_closed_and_plus_is_open(page: Node) -> None:
    closed, opened = page.find_all("details")
    assert "open" not in closed.attrs
    assert "open" in opened.attrs
    assert closed.elements[0].tag == "summary" and opened.elements[0].tag == "summary"
    assert closed.find_all("p")[-1].text() == "Hidden until opened."


def test_two_callouts_separated_by_a_blank_line_stay_two(page: Node) -> None:
    note, warning, closed, opened, _ = callouts_of(page)
    assert note.next_element() is warning
    assert "Pushes fail" not in note.text() and "registry.example.net" not in warning.text()
    assert closed.next_element() is opened
    assert "Shown until closed" not in closed.text()


def test_no_callout_marker_is_left_as_text_and_code_keeps_its_example(page: Node) -> None:
    assert "[!" not in prose(page)
    code = "".join(node.text() for node in page.find_all("code"))
    assert "> [!note] An example, not a callout" in code
    assert "> [!note]" in code  # the inline code too


def test_a_list_right_after_a_paragraph_line_is_a_list(page: Node) -> None:
    intro = next(p for p in page.find_all("p") if p.text().startswith("Before you start"))
    assert intro.text() == "Before you start, check:"
    listed = intro.next_element()
    assert listed is not None and listed.tag == "ul"
    assert len([li for li in listed.elements if li.tag == "li"]) == 3
    ordered = next(p for p in page.find_all("p") if p.text().startswith("Then")).next_element()
    assert ordered is not None and ordered.tag == "ol"
    assert [li.text() for li in ordered.elements] == ["stop the service", "start it again"]
    assert merged_lists(page) == []


def test_a_list_nested_by_two_spaces_is_nested(page: Node) -> None:
    intro = next(p for p in page.find_all("p") if p.text().startswith("Before you start"))
    outer = intro.next_element()
    assert outer is not None
    nested = [child for li in outer.elements for child in li.elements if child.tag == "ul"]
    assert len(nested) == 1
    assert [li.text(skip=CODE) for li in nested[0].elements] == [
        "look at the dashboard",
        "ask in the channel",
    ]
    assert nested[0].parent is outer.elements[1]


def test_a_list_in_a_callout_is_a_list(page: Node) -> None:
    danger = callouts_of(page)[-1]
    items = danger.find_all("li")
    assert [li.text() for li in items] == ["the lock file is gone", "the port is free"]


def test_a_card_page_renders_its_callouts_too(site: Path) -> None:
    content = article(site / "how-to/rotate-the-keys/index.html")
    assert [(node.tag, title_of(node)) for node in callouts_of(content)] == [("details", "Why")]
    assert "[!" not in prose(content)


def test_without_the_recommended_extensions_the_same_page_is_wrong(tmp_path: Path) -> None:
    """The control: what these tests catch, and what the checker warns about."""
    config = yaml.safe_load(recipe_config())
    plain = site_config().split("markdown_extensions:\n", 1)
    rest = plain[1][plain[1].index("plugins:") :]
    without = plain[0] + "markdown_extensions:\n  - pymdownx.superfences\n" + rest
    # `mkdocs build --strict` refuses it: every callout shown as text is a warning
    write_tree(tmp_path / "strict", {"mkdocs.yml": without, **PROJECT})
    refused = build(tmp_path / "strict")
    assert refused.returncode == 1
    assert refused.stderr.count("[unrendered-callout]") == 6, refused.stderr
    content = article(project(tmp_path, without, strict=False) / "how-to/restart-the-registry/index.html")
    assert callouts_of(content) == []
    assert "[!note]" in prose(content) and "[!tip]- Closed by default" in prose(content)
    assert merged_lists(content) != []
    assert content.find_all("ul") == [] or all(not li.find_all("ul") for li in content.find_all("li"))
    text = PROJECT["docs/how-to/restart-the-registry.md"]
    expected = [c.line for c in find_callouts(text)]
    assert len(expected) == 5
    problems = callout_problems("docs/how-to/restart-the-registry.md", text, ["pymdownx.superfences"])
    assert [p.line for p in problems] == expected
    assert callout_problems("docs/how-to/restart-the-registry.md", text, config) == []


# The runbook-shaped tree -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def runbook(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("runbook")
    write_runbook(root)
    result = build(root)
    assert result.returncode == 0, result.stdout + result.stderr
    return root


def built_page(root: Path, rel: str) -> Path:
    """The built HTML of docs/<rel> (directory URLs)."""
    stem = rel.removesuffix(".md")
    return root / "site" / ("" if stem == "index" else stem) / "index.html"


def test_write_runbook_has_the_shape_of_a_real_runbook(tmp_path: Path) -> None:
    write_runbook(tmp_path)
    docs = tmp_path / "docs"
    pages = sorted(path.relative_to(docs).as_posix() for path in docs.rglob("*.md"))
    assert len(pages) >= 50 and "index.md" in pages
    for folder in ("tutorials", "how-to", "reference", "explanation"):
        assert f"{folder}/{folder}.md" in pages
    howtos = [rel for rel in pages if rel.startswith("how-to/") and rel not in facts()["section_indexes"]]
    texts = {rel: (docs / rel).read_text(encoding="utf-8") for rel in pages}
    marked = [rel for rel in howtos if re.search(r"^(status|requires):", texts[rel], re.MULTILINE)]
    assert len(howtos) - len(marked) > len(howtos) / 2  # most how-tos are evergreen
    assert len(marked) == 4  # the chain's open cards; its two done cards are evergreen
    assert sorted(facts()["chain_paths"].values()) == sorted(
        rel for rel in howtos if Path(rel).stem in facts()["chain"]
    )
    evergreen = texts["how-to/zot/zot-push-image.md"].split("---")[1]
    assert {line.split(":")[0] for line in evergreen.splitlines() if line and not line.startswith(" ")} == {
        "title",
        "modified",
        "tags",
    }
    everything = "\n".join(texts.values())
    assert re.search(r"\[\[[a-z-]+\]\]", everything) and re.search(r"\[\[[a-z-]+\|[^\]]+\]\]", everything)
    assert "[[ " not in everything  # healthy: the two links with spaces are written without
    assert sum(len(find_callouts(text)) for text in texts.values()) == facts()["callouts"]
    assert everything.count("```sh") >= 2
    config = yaml.safe_load((tmp_path / "mkdocs.yml").read_text())
    assert config["theme"]["name"] == "material"
    assert any(isinstance(p, dict) and "cardbook" in p for p in config["plugins"])
    names = [next(iter(e)) if isinstance(e, dict) else e for e in config["markdown_extensions"]]
    assert {"pymdownx.quotes", "mdx_better_lists"} <= set(names)


def test_write_runbook_can_keep_the_fixture_as_it_is(tmp_path: Path) -> None:
    write_runbook(tmp_path, healthy=False)
    for path in (FIXTURE / "docs").rglob("*.md"):
        assert (tmp_path / "docs" / path.relative_to(FIXTURE / "docs")).read_bytes() == path.read_bytes()


def test_every_callout_of_the_runbook_renders(runbook: Path) -> None:
    wanted = Counter(location.split(":")[0] for location in facts()["callout_locations"])
    for rel, count in wanted.items():
        content = article(built_page(runbook, rel))
        assert len(callouts_of(content)) == count, rel
    collapsed = [
        node
        for rel in wanted
        for node in callouts_of(article(built_page(runbook, rel)))
        if node.tag == "details"
    ]
    assert sorted("open" in node.attrs for node in collapsed) == [False, False, True]


def test_no_page_of_the_runbook_shows_a_marker_or_a_merged_list(runbook: Path) -> None:
    for path in sorted((runbook / "docs").rglob("*.md")):
        rel = path.relative_to(runbook / "docs").as_posix()
        content = article(built_page(runbook, rel))
        assert "[!" not in prose(content), rel
        assert merged_lists(content) == [], rel


def test_every_nested_list_of_the_runbook_is_nested(runbook: Path) -> None:
    wanted = Counter(location.split(":")[0] for location in facts()["nested_list_locations"])
    for rel, count in wanted.items():
        content = article(built_page(runbook, rel))
        nested = [
            child for li in content.find_all("li") for child in li.elements if child.tag in ("ul", "ol")
        ]
        assert len(nested) >= count, rel
