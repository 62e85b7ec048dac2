"""The same runbook built by MkDocs, ProperDocs and Zensical, read back from the HTML.

The expected outcome of every (feature, engine) pair is the support table of
docs/reference/engines.md: the test reads the table, so the page and the engines cannot
disagree without a failure.
"""

from __future__ import annotations

import functools
import html as html_module
import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from cardbook.core.settings import load_settings
from cardbook.pipeline import load_and_check
from helpers import card, fence, run_cardbook, write_tree
from test_site_build import article, broken_links

ROOT = Path(__file__).resolve().parent.parent
# The engines live in an environment of their own (scripts/test makes it): the main one is a
# MkDocs-only runbook's, whose `cardbook check` says nothing of Zensical.
BIN = ROOT / ".venv-engines/bin"
ENGINES = ("mkdocs", "properdocs", "zensical")
COLUMNS = {"MkDocs 1.6": "mkdocs", "ProperDocs 1.6": "properdocs", "Zensical 0.0": "zensical"}

CONFIG = """\
site_name: engines runbook
theme:
  name: material
  font: false
markdown_extensions:
  - attr_list
  - md_in_html
  - toc: {permalink: true}
  - pymdownx.highlight
  - pymdownx.superfences
  - cardbook
plugins:
  - search
  - cardbook:
      statuses: {active: open, done: closed}
"""

CARDS = {
    "docs/index.md": "# Home\n\nStart with [[the-app|the app]], or read [[ports#HTTP port]].\n",
    "docs/reference/ports.md": "# Ports\n\n## HTTP port\n\n8080, see [[db]].\n",
    "docs/how-to/db.md": card(
        title="Set up the database",
        body="# Set up the database\n\n"
        + fence("```nix {file=nix/app.nix}", "{ pkgs }:", "{", "  <<settings>>", "}")
        + "\n"
        + fence("```nix {#settings}", 'db = "postgres";'),
    ),
    "docs/how-to/the-app.md": card(
        title="Build the app",
        status="active",
        requires="[db]",
        body="# Build the app\n\nNeeds [[db]] first.\n\n" + fence("```nix {#settings}", "port = 8080;"),
    ),
    # frontmatter only: Python-Markdown skips a blank page's extensions (Zensical cannot help it)
    "docs/how-to/rollback.md": (
        "---\ntitle: Roll back\nmodified: 2026-01-01\nstatus: active\nrequires: [deploy]\n---\n"
    ),
    "docs/how-to/deploy.md": card(
        title="Deploy the app", status="active", requires="[the-app]", body="Ship.\n"
    ),
}
OWN_PAGES = {
    "docs/runbook.md": "# Runbook overview\n\nOur words first.\n\n<!-- cardbook:overview -->\n",
    "docs/runbook-graph.md": "# All cards graph\n\n<!-- cardbook:graph -->\n",
    "docs/generated-files.md": "# Generated files\n\n<!-- cardbook:generated-files -->\n",
}
CARD_PAGES = ("how-to/db", "how-to/the-app", "how-to/deploy")  # rollback: see empty_card


def build(engine: str, root: Path, *, strict: bool = False) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "XDG_CACHE_HOME": str(root / ".cache"), "NO_COLOR": "1"}
    flag = ["--strict"] if strict else []
    if engine == "zensical":  # no -d: the site goes to site_dir, inside the project
        command = [str(BIN / "zensical"), "build", "-c", "-f", "mkdocs.yml", *(["-s"] if strict else [])]
    else:
        command = [str(BIN / engine), "build", "-f", "mkdocs.yml", "-d", "site", *flag]
    return subprocess.run(
        command, cwd=root, env=env, capture_output=True, text=True, timeout=300, check=False
    )


@functools.cache
def built(engine: str, own_pages: bool, base: Path) -> Path:
    root = base / f"{engine}-{'own' if own_pages else 'added'}"
    write_tree(root, {"mkdocs.yml": CONFIG, **CARDS, **(OWN_PAGES if own_pages else {})})
    done = build(engine, root)
    assert done.returncode == 0, done.stdout + done.stderr
    return root


@pytest.fixture(autouse=True)
def engines_installed() -> None:
    missing = [name for name in ENGINES if not (BIN / name).is_file()]
    if not missing:
        return
    reason = f"{', '.join(missing)} not in {BIN}: scripts/test makes that environment (group engines)"
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("engines")


def html(root: Path, page: str) -> str:
    path = root / "site" / page / "index.html" if page else root / "site/index.html"
    return path.read_text(encoding="utf-8")


def search_text(root: Path) -> str:
    for name in ("search/search_index.json", "search.json"):  # MkDocs' search plugin, Zensical's
        path = root / "site" / name
        if path.is_file():
            return json.dumps(json.loads(path.read_text(encoding="utf-8")))
    raise AssertionError("no search index")


# Each feature: does the engine show it? (engine, fixture base) -> bool


def card_header(engine: str, base: Path) -> bool:
    root = built(engine, True, base)
    pages = [article(html(root, page)) for page in CARD_PAGES]
    return all('<aside class="cardbook-header"' in page for page in pages) and all(
        page.index("<h1") < page.index("cardbook-header") for page in pages if "<h1" in page
    )


def plain_pages(engine: str, base: Path) -> bool:
    root = built(engine, True, base)
    page = article(html(root, "reference/ports")) + article(html(root, ""))
    return "cardbook-header" not in page and "cardbook-badge" not in page


def wiki_links(engine: str, base: Path) -> bool:
    root = built(engine, True, base)
    home, app = article(html(root, "")), article(html(root, "how-to/the-app"))
    text = re.sub(r"<code>.*?</code>", "", home + app)
    return (
        ">the app</a>" in home
        and "Ports \N{SINGLE RIGHT-POINTING ANGLE QUOTATION MARK} HTTP port</a>" in html_module.unescape(home)
        and ">Set up the database</a> first" in app
        and "[[" not in text
        and "cardbookwikilink" not in text
    )


def fence_captions(engine: str, base: Path) -> bool:
    page = article(html(built(engine, True, base), "how-to/db"))
    return 'id="cardbook-block-' in page and "cardbook-fence-note" in page and "nix/app.nix" in page


def neighbourhood_graph(engine: str, base: Path) -> bool:
    return 'class="node ' in article(html(built(engine, True, base), "how-to/the-app"))


def overview(engine: str, base: Path) -> bool:
    page = article(html(built(engine, True, base), "runbook"))
    goals = page[page.index('id="goals"') :]
    return "Our words first." in page and "<svg" in page and "Deploy the app" in goals


def all_cards_graph(engine: str, base: Path) -> bool:
    page = article(html(built(engine, True, base), "runbook-graph"))
    return page.count('class="node ') == 4  # every card once, rollback included


def files_page(engine: str, base: Path) -> bool:
    page = article(html(built(engine, True, base), "generated-files"))
    return 'id="file-nix-app-nix"' in page and "postgres" in page


def added_pages(engine: str, base: Path) -> bool:
    site = built(engine, False, base) / "site"
    pages = ("runbook", "runbook-graph", "generated-files")
    return all((site / page / "index.html").is_file() for page in pages)


def raw_files(engine: str, base: Path) -> bool:
    return (built(engine, True, base) / "site/nix/app.nix").is_file()


def tangle_on_build(engine: str, base: Path) -> bool:
    return (built(engine, True, base) / "nix/app.nix").is_file()


def stylesheet(engine: str, base: Path) -> bool:
    root = built(engine, True, base)
    page = html(root, "how-to/the-app")
    linked = root / "site/assets/cardbook/cardbook.css"
    css = linked.read_text(encoding="utf-8") if "assets/cardbook/cardbook.css" in page else page
    return ".cardbook-status-active" in css and ".cardbook-header" in css


@functools.cache
def built_with_stylesheet_file(engine: str, base: Path) -> Path:
    """The runbook with `stylesheet:` and extra_css naming the file; `cardbook tangle` first
    where the engine does not tangle (Zensical), as engines.md says."""
    root = base / f"{engine}-stylesheet-file"
    config = CONFIG.replace("      statuses:", "      stylesheet: assets/cardbook.css\n      statuses:")
    write_tree(root, {"mkdocs.yml": config + "extra_css: [assets/cardbook.css]\n", **CARDS, **OWN_PAGES})
    if engine == "zensical":
        tangled = run_cardbook(["tangle"], root)
        assert tangled.returncode == 0, tangled.stdout + tangled.stderr
    done = build(engine, root)
    assert done.returncode == 0, done.stdout + done.stderr
    return root


def stylesheet_file(engine: str, base: Path) -> bool:
    root = built_with_stylesheet_file(engine, base)
    page = html(root, "how-to/the-app")
    linked = root / "site/assets/cardbook.css"
    css = linked.read_text(encoding="utf-8") if linked.is_file() else ""
    return (
        ".cardbook-status-active" in css
        and 'assets/cardbook.css"' in page
        and ".cardbook-header {" not in page  # no copy of it inline
        and not (root / "site/assets/cardbook/cardbook.css").exists()
    )


def search_clean(engine: str, base: Path) -> bool:
    text = search_text(built(engine, True, base))
    words = ("Required by", "Neighbourhood", "part 2 of 2", "cardbookwikilink")  # header, graph, caption
    return "Set up the database" in text and not any(word in text for word in words)


def strict(engine: str, base: Path) -> bool:
    root = base / f"{engine}-strict"
    write_tree(root, {"mkdocs.yml": CONFIG, **CARDS, "docs/how-to/extra.md": "# Extra\n\nSee [[nowhere]].\n"})
    done = build(engine, root, strict=True)
    return done.returncode != 0 and "nowhere" in done.stdout + done.stderr


def links_resolve(engine: str, base: Path) -> bool:
    broken = broken_links(built(engine, True, base) / "site")
    return not [link for link in broken if "/assets/" not in link and "is absolute" not in link]


def empty_card(engine: str, base: Path) -> bool:
    return '<aside class="cardbook-header"' in article(html(built(engine, True, base), "how-to/rollback"))


NESTED_CONFIG = CONFIG.replace(
    "  - pymdownx.superfences\n",
    "  - pymdownx.superfences:\n"
    "      custom_fences:\n"
    "        - name: python\n"
    "          class: python\n"
    "          validator: !!python/name:markdown_exec.validator\n"
    "          format: !!python/name:markdown_exec.formatter\n",
)
NESTED = {
    "docs/index.md": "# Home\n",
    "docs/how-to/keys.md": card(title="Rotate the keys", status="done", body="# Rotate the keys\n"),
    "docs/how-to/deploy.md": card(
        title="Deploy the app",
        status="active",
        requires="[keys]",
        body="# Deploy the app\n\nBefore, [[keys]] and [[index]].\n\n"
        + fence('```python exec="on"', 'print("Printed: see [[keys|the keys]].")')
        + "\nAfter, [[keys|the rotation]].\n\n"
        + fence('```python exec="on"', 'print("Second: back [[index]].")')
        + "\n"
        + fence("```nix {file=nix/app.nix}", "{ app = true; }"),
    ),
}


def nested_markdown(engine: str, base: Path) -> bool:
    root = base / f"{engine}-nested"
    if not (root / "site").is_dir():
        write_tree(root, {"mkdocs.yml": NESTED_CONFIG, **NESTED})
        assert build(engine, root).returncode == 0
    page = article(html(root, "how-to/deploy"))
    return (
        ">the keys</a>." in page
        and ">the rotation</a>." in page
        and "cardbookwikilink" not in page
        and "[[" not in page
        and page.count('<aside class="cardbook-header"') == 1
    )


FEATURES: dict[str, Callable[[str, Path], bool]] = {
    "card-header": card_header,
    "empty-card": empty_card,
    "plain-pages": plain_pages,
    "wiki-links": wiki_links,
    "fence-captions": fence_captions,
    "neighbourhood-graph": neighbourhood_graph,
    "overview": overview,
    "all-cards-graph": all_cards_graph,
    "files-page": files_page,
    "added-pages": added_pages,
    "raw-files": raw_files,
    "tangle-on-build": tangle_on_build,
    "stylesheet": stylesheet,
    "stylesheet-file": stylesheet_file,
    "search-clean": search_clean,
    "strict": strict,
    "links-resolve": links_resolve,
    "nested-markdown": nested_markdown,
}


def support_table() -> dict[tuple[str, str], bool]:
    """(feature, engine) -> expected, from the table of docs/reference/engines.md."""
    lines = (ROOT / "docs/reference/engines.md").read_text(encoding="utf-8").splitlines()
    header = next(line for line in lines if line.startswith("| Feature |"))
    engines = [COLUMNS[cell.strip()] for cell in header.strip("|").split("|")[1:]]
    table = {}
    for line in lines:
        found = re.match(r"\| .*\(`([a-z-]+)`\) \|(.*)\|$", line)
        if found:
            cells = [cell.strip() for cell in found[2].split("|")]
            for engine, cell in zip(engines, cells, strict=True):
                table[found[1], engine] = cell.split(":")[0] == "yes"
    return table


def test_the_support_table_names_every_feature_once() -> None:
    table = support_table()
    assert {feature for feature, _ in table} == set(FEATURES)
    assert len(table) == len(FEATURES) * len(ENGINES)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("feature", list(FEATURES))
def test_each_engine_shows_what_the_support_table_says(feature: str, engine: str, base: Path) -> None:
    expected = support_table()[feature, engine]
    assert FEATURES[feature](engine, base) is expected, f"{feature} on {engine}: expected {expected}"


def test_without_the_extension_zensical_shows_no_card_header(base: Path) -> None:
    """What a team that follows the migration advice gets when mkdocs.yml lacks the extension."""
    root = base / "zensical-no-extension"
    write_tree(root, {"mkdocs.yml": CONFIG.replace("  - cardbook\n", ""), **CARDS})
    done = build("zensical", root)
    assert done.returncode == 0, done.stderr
    page = article(html(root, "how-to/the-app"))
    assert "cardbook-header" not in page and "[[db]]" in page


@pytest.mark.parametrize("engine", ENGINES)
def test_each_engine_builds_this_runbook(engine: str, tmp_path: Path) -> None:
    """This repository's runbook on every engine: the same cards get what cardbook adds."""
    root = tmp_path / "runbook"
    root.mkdir()
    for name in ("docs", "nix"):
        shutil.copytree(ROOT / name, root / name)
    shutil.copy(ROOT / "mkdocs.yml", root / "mkdocs.yml")
    done = build(engine, root)
    assert done.returncode == 0, done.stdout + done.stderr
    runbook = load_and_check(load_settings(root / "mkdocs.yml")).runbook
    cards = sorted(card.rel for card in runbook.cards.values())
    assert len(cards) >= 10
    for rel in cards:
        page = rel.removeprefix("docs/").removesuffix(".md")
        text = article(html(root, page))
        assert '<aside class="cardbook-header"' in text, (engine, page)
        assert "[[" not in re.sub(r"<code>.*?</code>|<pre.*?</pre>", "", text, flags=re.S), (engine, page)
    assert "<svg" in article(html(root, "runbook"))
    assert article(html(root, "runbook-graph")).count('class="node ') >= len(cards)


def test_under_zensical_the_options_come_from_the_file_the_build_was_given(tmp_path: Path) -> None:
    from cardbook.site.zensical import config_path

    (tmp_path / "mkdocs.yml").write_text("site_name: x\n")
    assert config_path(tmp_path, "", ["zensical", "build"]) == tmp_path / "mkdocs.yml"
    assert config_path(tmp_path, "", ["zensical", "build", "-f", "/x/site.yml"]) == Path("/x/site.yml")
    assert config_path(tmp_path, "", ["zensical", "build", "--config-file=/x/b.yaml"]) == Path("/x/b.yaml")
    toml = ["zensical", "build", "-f", "/x/zensical.toml"]  # not where cardbook's options are
    assert config_path(tmp_path, "", toml) == tmp_path / "mkdocs.yml"
    named = config_path(tmp_path, "other.yml", ["zensical", "build", "-f", "/x/a.yml"])
    assert named == tmp_path / "other.yml"


# What an outside probe of the three engines found, on every engine --------------------------

PROBE = {
    "docs/index.md": "# Home\n\nThe [[how-to/index|how-to section]] and [[reference/index]].\n",
    "docs/how-to/index.md": "# How-to\n\nEvery task.\n",
    "docs/reference/index.md": "# Reference\n",
    # saved with CRLF: MkDocs hands it over with LF, the fence lines must still be found
    "docs/how-to/crlf.md": card(
        title="A card saved on Windows",
        status="active",
        body="# A card saved on Windows\n\n" + fence("```nix {file=nix/crlf.nix}", "{ }"),
    ).replace("\n", "\r\n"),
    # an evergreen how-to (no status): it tangles, and the files page names it by its title
    "docs/how-to/rotate.md": "---\ntitle: Rotate the certificates\n---\n# Rotate\n\n"
    + fence("```nix {file=nix/rotate.nix}", "{ rotate = true; }"),
    # the marker shown as code, indented: not the generated-files page
    "docs/explanation/markers.md": "# Markers\n\nWrite this line:\n\n    <!-- cardbook:generated-files -->\n",
    # the overview where the team wants it, not at docs/runbook.md
    "docs/explanation/overview.md": "# Where we are\n\n<!-- cardbook:overview -->\n",
}


@pytest.mark.parametrize("engine", ENGINES)
def test_what_an_outside_probe_found_holds_on_every_engine(engine: str, tmp_path: Path) -> None:
    root = write_tree(tmp_path / engine, {"mkdocs.yml": CONFIG, **PROBE})
    done = build(engine, root)
    assert done.returncode == 0, done.stdout + done.stderr
    home = article(html(root, ""))
    assert ">how-to section</a>" in home and "[[" not in home  # a path link to a section index
    assert "[[reference/index]]" not in home
    crlf = article(html(root, "how-to/crlf"))
    assert 'id="cardbook-block-' in crlf and "nix/crlf.nix" in crlf  # CRLF: the block still titled
    markers = article(html(root, "explanation/markers"))
    assert "cardbook-file" not in markers and "&lt;!-- cardbook:generated-files --&gt;" in markers
    overview = article(html(root, "explanation/overview"))
    assert "Where we are" in overview and 'id="goals"' in overview
    assert not (root / "site/runbook/index.html").exists()  # one overview, where its marker is
    if engine != "zensical":  # Zensical adds no page: see the support table
        files = article(html(root, "generated-files"))
        assert ">Rotate the certificates</a>" in files and "lines from  ·" not in html_module.unescape(files)


@pytest.mark.parametrize("exec_plugin", [False, True])
@pytest.mark.parametrize("engine", ENGINES)
def test_markdown_converted_inside_a_page_keeps_the_pages_links(
    engine: str, exec_plugin: bool, tmp_path: Path
) -> None:
    """Found by an outside probe: markdown-exec converts a block's output with the page's
    extensions, cardbook's among them. Under MkDocs that conversion replaced the page's list of
    wiki-links (the links after the block showed as `cardbookwikilink2x`); under Zensical it
    had no page context (its links stayed `[[...]]`, with a message saying cardbook only works
    under Zensical). Now it resolves its links as the page's and adds no header of its own."""
    # With markdown-exec's plugin listed, it converts with new instances of the page's
    # extensions (each added a card header under Zensical: found by an outside probe).
    listed = "plugins:\n  - markdown-exec\n"
    config = NESTED_CONFIG.replace("plugins:\n", listed) if exec_plugin else NESTED_CONFIG
    root = write_tree(tmp_path / engine, {"mkdocs.yml": config, **NESTED})
    done = build(engine, root)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "page context" not in done.stdout + done.stderr
    page = article(html(root, "how-to/deploy"))
    paragraphs = {text.split(",")[0].split(":")[0]: text for text in re.findall(r"<p>(.*?)</p>", page)}
    shown = {first: re.sub(r' href="[^"]*"', "", text) for first, text in paragraphs.items()}
    assert shown["Before"] == "Before, <a>Rotate the keys</a> and <a>Home</a>."
    assert shown["Printed"] == "Printed: see <a>the keys</a>."
    assert shown["After"] == "After, <a>the rotation</a>."
    assert shown["Second"] == "Second: back <a>Home</a>."
    keys = re.findall(r'<a href="([^"]*)">the (?:keys|rotation)</a>', page)
    assert keys == ["../keys/", "../keys/"], keys
    assert "cardbookwikilink" not in page and "[[" not in page
    assert page.count('<aside class="cardbook-header"') == 1 and page.count("cardbook-neighbourhood") == 1
    assert 'id="cardbook-block-' in page and "nix/app.nix" in page  # the page's own block, titled


@pytest.mark.parametrize("engine", ENGINES)
def test_a_broken_link_in_markdown_made_during_the_build_is_reported(engine: str, tmp_path: Path) -> None:
    """Found by an outside probe: a markdown-exec block printing `[[nonexistent-page]]` left
    the link as text, the check (which reads the cards, not what a block prints) and the build
    clean. The build says so; MkDocs' --strict fails on it."""
    files = {
        **NESTED,
        "docs/index.md": "# Home\n\n" + fence('```python exec="on"', 'print("See [[nonexistent-page]].")'),
    }
    root = write_tree(tmp_path / engine, {"mkdocs.yml": NESTED_CONFIG, **files})
    done = build(engine, root, strict=engine != "zensical")
    said = done.stdout + done.stderr
    assert re.search(r"docs/index.md:1: warning: .*nonexistent-page.* \[broken-link\]", said), said
    assert done.returncode == (0 if engine == "zensical" else 1), said


@pytest.mark.parametrize("engine", ENGINES)
def test_a_link_to_a_heading_goes_to_its_id_and_a_missing_one_is_reported(
    engine: str, tmp_path: Path
) -> None:
    """Found by a re-check of an outside probe's findings: `[[nodes#Label the nodes]]` went to
    `#label-the-nodes` while the heading, written with `{#labels}`, has the id `labels`; and
    a link to a heading the page does not have was checked nowhere."""
    files = {
        "docs/index.md": "# Home\n\nSee [[nodes#Label the nodes]], [[nodes#steps]] and [[nodes#Step]].\n",
        "docs/how-to/nodes.md": card(
            title="Nodes", body="# Nodes\n\n## Label the nodes {#labels}\n\nText.\n\n## Steps\n\nMore.\n"
        ),
    }
    root = write_tree(tmp_path / engine, {"mkdocs.yml": CONFIG, **files})
    checked = run_cardbook(["check"], root)
    assert checked.stdout.splitlines()[:1] == [
        "docs/index.md:3: warning: wiki-link [[nodes#Step]] names no heading of docs/how-to/nodes.md "
        "(did you mean 'Steps'?) [broken-link]"
    ], checked.stdout
    done = build(engine, root)
    assert done.returncode == 0, done.stdout + done.stderr
    home = article(html(root, ""))
    hrefs = re.findall(r'<a href="([^"]*)">Nodes', home)
    assert hrefs[:2] == ["how-to/nodes/#labels", "how-to/nodes/#steps"], hrefs
    page = article(html(root, "how-to/nodes"))
    assert 'id="labels"' in page and 'id="steps"' in page


@pytest.mark.parametrize("engine", ENGINES)
def test_a_sanitizer_that_strips_comments_leaves_the_marked_pages_whole(engine: str, tmp_path: Path) -> None:
    """Found by an outside probe: with pymdownx.striphtml (its defaults strip HTML comments)
    the overview, the All cards graph and the generated files came out empty, the build
    clean. Where cardbook's parts go is no longer marked by comments in the HTML."""
    config = CONFIG.replace("  - cardbook\n", "  - pymdownx.striphtml\n  - cardbook\n")
    root = write_tree(tmp_path / engine, {"mkdocs.yml": config, **CARDS, **OWN_PAGES})
    done = build(engine, root)
    assert done.returncode == 0, done.stdout + done.stderr
    overview = article(html(root, "runbook"))
    assert "Our words first." in overview and "<svg" in overview and "Deploy the app" in overview
    assert article(html(root, "runbook-graph")).count('class="node ') == 4
    assert 'id="file-nix-app-nix"' in article(html(root, "generated-files"))
    assert "data-cardbook-part" not in overview


def test_init_writes_a_runbook_every_engine_builds(tmp_path: Path) -> None:
    """`cardbook init` where Zensical is installed: no traceback over an info of its own check,
    and the mkdocs.yml it writes lists the extension, so check says nothing of Zensical."""
    env = {**os.environ, "NO_COLOR": "1"}
    done = subprocess.run(
        [str(BIN / "cardbook"), "init"], cwd=tmp_path, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "  - cardbook" in (tmp_path / "mkdocs.yml").read_text()
    done = subprocess.run(
        [str(BIN / "cardbook"), "check"], cwd=tmp_path, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0 and "no problems" in done.stdout, done.stdout + done.stderr
    for engine in ENGINES:
        built_site = build(engine, tmp_path)
        assert built_site.returncode == 0, (engine, built_site.stdout + built_site.stderr)
        assert '<aside class="cardbook-header"' in html(tmp_path, "how-to/hello")


def test_a_configuration_cardbook_refuses_stops_each_engine_without_a_traceback(tmp_path: Path) -> None:
    """Found by an outside probe: MkDocs printed a traceback for a wrong option of the
    extension, Zensical one for every configuration error cardbook refuses."""
    for engine, change in (
        ("mkdocs", ("  - cardbook\nplugins", "  - cardbook: {bogus: 1}\nplugins")),
        ("zensical", ("  - cardbook\nplugins", "  - cardbook: {bogus: 1}\nplugins")),
        ("zensical", ("      statuses:", "      card_roots: [docs/howto]\n      statuses:")),
    ):
        root = tmp_path / f"{engine}-{len(change[1])}"
        write_tree(root, {"mkdocs.yml": CONFIG.replace(*change), **CARDS})
        done = build(engine, root)
        said = done.stdout + done.stderr
        assert done.returncode != 0, said
        assert "Traceback" not in said and 'File "' not in said, said
        assert re.search(r"mkdocs\.yml:\d+: error: .*\[config\]", said), said
        if engine == "zensical":
            assert done.returncode == 2, said
