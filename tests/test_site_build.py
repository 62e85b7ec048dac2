"""`mkdocs build --strict` on card trees: the site, the Nix files, the warnings, the refusals."""

from __future__ import annotations

import gc
import html
import json
import os
import posixpath
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from helpers import card, fence, parse_svg, run_cardbook, write_tree

CONFIG = """\
site_name: test runbook
site_url: {site_url}
use_directory_urls: {directory_urls}
theme:
  name: material
  font: false  # system fonts: a page must not reach for the network
  features: [navigation.prune, content.code.copy]
  palette:
    - media: "(prefers-color-scheme: light)"
      scheme: default
      toggle: {{icon: material/weather-night, name: Switch to dark mode}}
    - media: "(prefers-color-scheme: dark)"
      scheme: slate
      toggle: {{icon: material/weather-sunny, name: Switch to light mode}}
markdown_extensions:
  - attr_list
  - md_in_html
  - toc: {{permalink: true}}
  - pymdownx.highlight
  - pymdownx.superfences
plugins:
  - search
{extra_plugins}  - cardbook:
      statuses: {{active: open, done: closed}}
{extra_options}"""


RUNBOOK = {
    "docs/index.md": "# Home\n\nStart with [[the-app|the app]], or read [[ports#HTTP port]].\n",
    "docs/reference/ports.md": (
        "# Ports\n\n## HTTP port\n\n8080, see [[db]].\n\n## Also [[the-app]]\n\nMore.\n"
    ),
    "docs/how-to/data/db.md": card(
        title="Set up the database",
        tags="[how-to, data]",
        body="# Set up the database\n\n"
        + fence("```nix {file=nix/app.nix}", "{ pkgs }:", "{", "  <<settings>>", "}")
        + "\n"
        + fence("```nix {#settings}", 'db = "postgres";'),
    ),
    "docs/how-to/app/the-app.md": card(
        title="Build the app",
        status="active",
        requires="[db]",
        tags="[how-to]",
        body="Uses `[[db]]` in code, and [[db]] in prose.\n\n"
        + fence("```nix {#settings}", "port = 8080;")
        + "\n- last, inside a list:\n\n"
        + fence("```nix {file=nix/app.nix}", "# the end", indent="    "),
    ),
    "docs/how-to/app/deploy.md": card(
        title="Deploy the app", status="active", requires="[the-app]", body="Ship it.\n"
    ),
}


def mkdocs(root: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1", "XDG_CACHE_HOME": str(root / ".cache"), **(env or {})},
        check=False,
    )


def runbook(
    root: Path,
    files: dict[str, str] | None = None,
    *,
    site_url: str = "https://example.org/",
    directory_urls: bool = True,
    extra_plugins: str = "",
    extra_options: str = "",
) -> Path:
    config = CONFIG.format(
        site_url=site_url,
        directory_urls=str(directory_urls).lower(),
        extra_plugins=extra_plugins,
        extra_options=extra_options,
    )
    return write_tree(root, {"mkdocs.yml": config, **(RUNBOOK if files is None else files)})


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(values["id"] or "")
        for name in ("href", "src", "xlink:href"):
            if values.get(name) and not (tag == "link" and values.get("rel") in ("canonical",)):
                self.links.append(values[name] or "")


def parse(path: Path) -> _Links:
    parser = _Links()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def broken_links(site: Path) -> list[str]:
    """Every relative link of every page that points at no file, or at no element id there."""
    pages = {path: parse(path) for path in site.rglob("*.html")}
    broken = []
    for page, parsed in pages.items():
        if page.name == "404.html":
            continue  # MkDocs makes its links absolute on purpose: it is served at any depth
        for link in parsed.links:
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or link.startswith(("data:", "mailto:")):
                continue
            if link.startswith("/"):
                broken.append(f"{page.relative_to(site)}: {link} is absolute (breaks under a sub-path)")
                continue
            target = page if not parts.path else Path(posixpath.normpath(page.parent / unquote(parts.path)))
            if parts.path.endswith("/") or target.is_dir():
                target = target / "index.html"
            if not target.is_file():
                broken.append(f"{page.relative_to(site)}: {link} -> missing {target}")
            elif parts.fragment and target.suffix == ".html" and parts.fragment not in pages[target].ids:
                broken.append(f"{page.relative_to(site)}: {link} -> no #{parts.fragment}")
    return broken


def page(site: Path, uri: str, directory_urls: bool = True) -> str:
    name = uri[:-3]
    path = site / (f"{name}/index.html" if directory_urls and not name.endswith("index") else f"{name}.html")
    return path.read_text(encoding="utf-8")


def article(html: str) -> str:
    return html[html.index("<article") : html.index("</article>")]


@pytest.mark.parametrize(
    ("site_url", "directory_urls"),
    [("https://example.org/", True), ("https://example.org/team/runbook/", False), ("http://h/sub/", True)],
)
def test_the_site_and_the_nix_files(tmp_path: Path, site_url: str, directory_urls: bool) -> None:
    root = runbook(tmp_path, site_url=site_url, directory_urls=directory_urls)
    docs_before = sorted(p.relative_to(root) for p in (root / "docs").rglob("*"))
    done = mkdocs(root)
    assert done.returncode == 0, done.stderr
    site = root / "site"
    generated = (root / "nix/app.nix").read_text()
    assert "port = 8080;" in generated and 'db = "postgres";' in generated
    assert (site / "nix/app.nix").read_text() == generated  # the raw file is published
    assert sorted(p.relative_to(root) for p in (root / "docs").rglob("*")) == docs_before
    assert broken_links(site) == []
    assert not any("cardbookwikilink" in path.read_text() for path in site.rglob("*.html"))
    ports = page(site, "reference/ports.md", directory_urls)
    assert re.search(
        r'<h2 id="also-build-the-app">Also <a href="[^"]*app(/|\.html)">Build the app</a>', ports
    )

    app = article(page(site, "how-to/app/the-app.md", directory_urls))
    header = app[app.index('<aside class="cardbook-header"') : app.index("</aside>")]
    assert "cardbook-status-active open" in header and ">active<" in header
    assert "<time>2026-01-01</time>" in header
    assert '<span class="cardbook-tag">how-to</span>' in header
    assert re.search(r"<dt>Requires</dt><dd>.*Set up the database</a> <span class=\"cardbook-badge", header)
    assert re.search(r"<dt>Required by</dt><dd>.*Deploy the app</a>", header)
    assert re.search(r"<dt>Generates</dt><dd>.*<code>nix/app.nix</code>", header)
    assert app.index("<h1") < app.index("cardbook-header")  # under the title
    assert re.search(r'<span class="filename" id="cardbook-block-10">&lt;&lt;settings&gt;&gt;<span', app)
    assert re.search(r'<span class="filename" id="cardbook-block-16">nix/app.nix<span', app)
    assert "part 2 of 2 &#183; after" in app and "<code>[[db]]</code>" in app
    assert ">Set up the database</a> in prose" in app
    assert app.count('class="node ') == 3  # the neighbourhood graph

    home = article(page(site, "index.md", directory_urls))
    assert ">the app</a>" in home and "HTTP port</a>" in home

    # The search index has the pages' words and resolved wiki-links, not headers or graphs.
    index = json.loads((site / "search/search_index.json").read_text())
    texts = {entry["location"]: entry["text"] for entry in index["docs"]}
    app_text = next(text for location, text in texts.items() if "the-app" in location and "#" not in location)
    assert "Set up the database in prose" in app_text
    everything = " ".join(texts.values())
    assert "Required by" not in everything and "Neighbourhood" not in everything
    assert "cardbookwikilink" not in everything and "part 2 of 2" not in everything

    overview = article(page(site, "runbook.md", directory_urls))
    assert overview.count('class="node ') == 3
    assert "Deploy the app" in overview[overview.index('id="goals"') :]

    files = article(page(site, "generated-files.md", directory_urls))
    assert 'id="file-nix-app-nix"' in files
    # db's file block, split by the chunk (db's part, then app's), then app's own file block
    assert files.count("<tr><td>") == 5


def test_the_pages_of_an_ascii_runbook_stay_ascii(tmp_path: Path) -> None:
    """What cardbook adds carries its few non-ASCII characters (the caption's dot, the "more"
    node's ellipsis) as character references: a page stays pure ASCII when its own text is,
    and Python encodes and searches such a page on its fast paths."""
    root = runbook(tmp_path)
    assert all(path.read_text().isascii() for path in (root / "docs").rglob("*.md"))
    done = mkdocs(root)
    assert done.returncode == 0, done.stderr
    ours = [path for path in (root / "site").rglob("*.html") if "cardbook-" in path.read_text()]
    assert len(ours) >= 4  # the cards, the overview, the graph and the generated-files pages
    assert [str(path) for path in ours if not path.read_text().isascii()] == []
    assert "&#183;" in page(root / "site", "how-to/app/the-app.md")


def test_every_card_problem_is_a_warning_that_fails_strict(tmp_path: Path) -> None:
    files = {
        "docs/how-to/no-title.md": card(title=None),
        "docs/how-to/bad-date.md": card(modified="soon"),
        "docs/how-to/unknown-status.md": card(status="wip"),
        "docs/how-to/missing-need.md": card(requires="[nowhere]", status="active"),
        "docs/how-to/cycle-a.md": card(status="active", requires="[cycle-b]"),
        "docs/how-to/cycle-b.md": card(status="active", requires="[cycle-a]"),
        "docs/how-to/closed.md": card(requires="[cycle-a]"),
        "docs/how-to/broken.md": "---\ntitle: [unclosed\n---\n",
        "docs/how-to/chunks.md": card(body=fence("```nix {file=nix/c.nix}", "<<missing>>")),
        "docs/how-to/outside.md": card(body=fence("```nix {file=etc/passwd}", "x")),
        "docs/how-to/same.md": card(),
        "docs/reference/same.md": "# Same stem\n",
        "docs/index.md": "# Home\n\n[[nowhere-page]] and [[same]]\n",
    }
    root = runbook(tmp_path, files)
    done = mkdocs(root)
    assert done.returncode == 1
    assert "in strict mode" in done.stdout + done.stderr
    check = run_cardbook(["check"], root)
    expected = [line for line in check.stdout.splitlines() if re.match(r"\S+:\d+: (error|warning): ", line)]
    assert len(expected) >= 11
    for line in expected:
        assert f"WARNING -  cardbook: {line}" in done.stderr
    assert "docs/index.md:3: warning: wiki-link [[nowhere-page]] matches no page [broken-link]" in done.stderr
    assert "docs/index.md:3: warning: wiki-link [[same]] is ambiguous" in done.stderr
    assert "generated files not written" in done.stderr
    assert not (root / "nix").exists()


def test_a_hand_edit_stops_the_build_with_the_cli_message(tmp_path: Path) -> None:
    root = runbook(tmp_path)
    assert mkdocs(root).returncode == 0
    target = root / "nix/app.nix"
    edited = target.read_text().replace("port = 8080;", "port = 9090;")
    target.write_text(edited)
    done = mkdocs(root)
    assert done.returncode == 1
    cli = run_cardbook(["tangle"], root)
    message = next(line for line in cli.stdout.splitlines() if "edited by hand" in line)
    assert message.startswith("nix/app.nix:")
    assert f"ERROR   -  {message}\nnothing written" in done.stderr
    assert target.read_text() == edited


def test_no_object_stays_frozen_after_a_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The plugin keeps the collector off its data during a build, and gives it back after,
    also when the build fails (what `mkdocs serve` does between rebuilds)."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config
    from mkdocs.exceptions import Abort

    root = runbook(tmp_path)
    monkeypatch.chdir(root)
    monkeypatch.setenv("XDG_CACHE_HOME", str(root / ".cache"))
    assert gc.get_freeze_count() == 0
    build(load_config(str(root / "mkdocs.yml")))
    assert gc.get_freeze_count() == 0
    (root / "nix/app.nix").write_text((root / "nix/app.nix").read_text().replace("8080", "9090"))
    with pytest.raises(Abort):  # MkDocs' answer to the plugin's "edited by hand" error
        build(load_config(str(root / "mkdocs.yml")))
    assert gc.get_freeze_count() == 0


def test_a_second_build_rewrites_nothing(tmp_path: Path) -> None:
    root = runbook(tmp_path)
    assert mkdocs(root).returncode == 0
    stamp = (root / "nix/app.nix").stat().st_mtime_ns
    done = mkdocs(root)
    assert done.returncode == 0
    assert "generated files:" not in done.stderr
    assert (root / "nix/app.nix").stat().st_mtime_ns == stamp


def test_unknown_plugin_options_fail_strict(tmp_path: Path) -> None:
    root = runbook(tmp_path, extra_options="      colour: red\n")
    done = mkdocs(root)
    assert done.returncode == 1
    assert "colour" in done.stderr


def test_without_graphviz_the_whole_graph_uses_the_builtin_layout(tmp_path: Path) -> None:
    root = runbook(tmp_path)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    done = mkdocs(root, "--verbose", env={"PATH": str(bin_dir)})
    assert done.returncode == 0, done.stderr
    assert "Graphviz dot not found" in done.stderr
    whole = article(page(root / "site", "runbook-graph.md"))
    assert "cardbook-svg--layered" in whole and "Graphviz is not installed" in whole
    assert whole.count('class="node ') == 3


def test_a_docs_overview_page_keeps_its_prose(tmp_path: Path) -> None:
    files = {
        **RUNBOOK,
        "docs/runbook.md": "# Our runbook\n\nRead this first.\n\n<!-- cardbook:overview -->\n\nThe end.\n",
    }
    root = runbook(tmp_path, files)
    assert mkdocs(root).returncode == 0
    overview = article(page(root / "site", "runbook.md"))
    assert overview.index("Read this first.") < overview.index("cardbook-svg") < overview.index("The end.")


def test_the_material_tags_plugin_keeps_working(tmp_path: Path) -> None:
    root = runbook(tmp_path, extra_plugins="  - tags\n")
    done = mkdocs(root)
    assert done.returncode == 0, done.stderr
    html = page(root / "site", "how-to/data/db.md")
    assert 'class="md-tag' in html and ">data<" in html
    assert "cardbook-tag" not in html  # shown once, by Material


def test_a_runbook_without_cards_builds_as_plain_docs(tmp_path: Path) -> None:
    root = runbook(tmp_path, {"docs/index.md": "# Home\n", "docs/how-to/index.md": "# How-to\n"})
    assert mkdocs(root).returncode == 0
    assert not (root / "site/runbook").exists()


def test_a_card_root_with_a_typo_stops_the_build_at_its_line(tmp_path: Path) -> None:
    root = runbook(tmp_path, extra_options="      card_roots: [docs/howto]\n")
    built = mkdocs(root)
    assert built.returncode == 1
    line = (root / "mkdocs.yml").read_text().split("\n").index("      card_roots: [docs/howto]") + 1
    assert (
        f"mkdocs.yml:{line}: error: card root docs/howto does not exist (did you mean docs/how-to?) [config]"
        in (built.stderr)
    )
    assert not (root / "nix").exists() and not (root / "site").exists()


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot is not installed")
def test_the_whole_graph_comes_from_graphviz(tmp_path: Path) -> None:
    root = runbook(tmp_path)
    assert mkdocs(root).returncode == 0
    whole = article(page(root / "site", "runbook-graph.md"))
    assert 'class="node cardbook-node' in whole and "xlink:href" in whole
    assert "<?xml" not in whole


def test_heading_links_follow_a_custom_slugify(tmp_path: Path) -> None:
    files = {
        **RUNBOOK,
        "docs/reference/ports.md": "# Ports\n\n## Über uns\n\nText.\n",
        "docs/index.md": "# Home\n\nSee [[ports#Über uns]] and [[the-app]].\n",
    }
    root = runbook(tmp_path, files)
    config = (root / "mkdocs.yml").read_text()
    config = config.replace(
        "  - toc: {permalink: true}\n",
        "  - toc:\n      permalink: true\n"
        "      slugify: !!python/object/apply:pymdownx.slugs.slugify {kwds: {case: lower}}\n",
    )
    (root / "mkdocs.yml").write_text(config)
    done = mkdocs(root)
    assert done.returncode == 0, done.stderr
    home = article(page(root / "site", "index.md"))
    assert 'href="reference/ports/#über-uns"' in html.unescape(home)  # written as #&#252;ber-uns
    assert broken_links(root / "site") == []


def test_a_runbook_that_tangles_nothing_gets_no_generated_files_page(tmp_path: Path) -> None:
    """Issue 16: no empty "Generated files" page, and no nav entry for it."""
    files = {
        "docs/index.md": "# Home\n",
        "docs/how-to/a.md": card(title="A", status="active", body="Prose and a plain block.\n"),
    }
    root = runbook(tmp_path, files)
    done = mkdocs(root)
    assert done.returncode == 0, done.stderr
    site = root / "site"
    assert not (site / "generated-files").exists()
    assert "Generated files" not in (site / "index.html").read_text()
    assert (site / "runbook/index.html").exists()  # the overview stays


def test_link_text_is_the_title_of_every_page_card_or_not(tmp_path: Path) -> None:
    """Issue 16: one rule for `[[stem]]`: the page's title (frontmatter, else its first heading),
    the stem only for a page with neither; the same in one paragraph for cards and pages."""
    files = {
        "docs/index.md": "# Home\n\nSee [[deploy]], [[rotate]], [[ports]], [[bare]] and "
        "[[ports|the ports]].\n",
        "docs/how-to/deploy.md": card(title="Deploy the app", status="active"),
        "docs/how-to/rotate.md": "---\ntitle: Rotate the keys\nmodified: 2026-01-01\n---\n\nSteps.\n",
        "docs/reference/ports.md": "---\nmodified: 2026-01-01\n---\n\n"
        "```text\n# not a heading\n```\n\n# Ports in use\n",
        "docs/reference/bare.md": "Only prose.\n",
    }
    root = runbook(tmp_path, files, extra_options="      rules: {lone-card: off}\n")
    result = mkdocs(root)
    assert result.returncode == 0, result.stderr
    home = article(page(root / "site", "index.md"))
    shown = re.findall(r'<a href="[^"]*">([^<]*)</a>', home)
    assert shown == ["Deploy the app", "Rotate the keys", "Ports in use", "bare", "the ports"]


def test_a_card_without_a_title_is_called_by_its_heading_everywhere(tmp_path: Path) -> None:
    """Found by an outside probe: a card without `title` (the team turned required-key off)
    was its first heading in links and its file name in the graphs and lists."""
    files = {
        "docs/index.md": "# Home\n\nFirst [[rotate]].\n",
        "docs/how-to/rotate.md": card(title=None, status="active", body="# Rotate the keys\n\nSteps.\n"),
        "docs/how-to/deploy.md": card(title="Deploy the app", status="active", requires=["rotate"]),
    }
    root = runbook(tmp_path, files, extra_options="      rules: {required-key: off, lone-card: off}\n")
    done = mkdocs(root)
    assert done.returncode == 0, done.stderr
    deploy = article(page(root / "site", "how-to/deploy.md"))
    header = deploy[deploy.index('<aside class="cardbook-header"') :]
    header = header[: header.index("</aside>")]
    assert re.findall(r'<a href="[^"]*">([^<]*)</a>', header) == ["Rotate the keys"]
    graph = deploy[deploy.index("<svg") : deploy.index("</svg>") + 6]
    labels = sorted("".join(node.itertext()).strip() for node in parse_svg(graph).iter() if "node" in
                    (node.get("class") or "").split())
    assert labels == ["Deploy the app (active)Deploy the app", "Rotate the keys (active)Rotate the keys"]
    home = article(page(root / "site", "index.md"))
    assert re.findall(r'<a href="[^"]*">([^<]*)</a>', home) == ["Rotate the keys"]
    listed = run_cardbook(["next"], root)
    assert "rotate: Rotate the keys (active)" in listed.stdout, listed.stdout
    mermaid = run_cardbook(["graph", "--format", "mermaid"], root)
    assert '["Rotate the keys"]' in mermaid.stdout, mermaid.stdout
    listed = run_cardbook(["graph", "--format", "json"], root)  # found by a re-check: "title": ""
    titles = {node["id"]: node["title"] for node in json.loads(listed.stdout)["cards"]}
    assert titles == {"rotate": "Rotate the keys", "deploy": "Deploy the app"}


def test_a_runbook_with_no_card_left_still_publishes_its_generated_files(tmp_path: Path) -> None:
    """Outside probe: the team closed and stripped its last chain; the evergreen pages still
    tangle, so the site keeps the generated files and their page (no overview: no card)."""
    body = fence("```nix {file=nix/backup.nix}", "{ restic = true; }")
    files = {
        "docs/index.md": "# Home\n",
        "docs/how-to/backup.md": card(title="Back up the hosts", body=body),
    }
    root = runbook(tmp_path, files)
    done = mkdocs(root)
    assert done.returncode == 0, done.stderr
    site = root / "site"
    assert "{ restic = true; }\n" in (site / "nix/backup.nix").read_text()
    listing = article(page(site, "generated-files.md"))
    assert "nix/backup.nix" in listing and "docs/how-to/backup.md:5" in listing
    assert not (site / "runbook").exists()


def test_the_card_spots_pass_markdown_as_stored_html_not_parsed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The header and graph spots of every card go through Python-Markdown's raw HTML store: its
    HTML parser never reads them (it read two comments per card before), and the page is whole."""
    from markdown.htmlparser import HTMLExtractor
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    root = runbook(tmp_path)
    comments: list[str] = []
    handle_comment = HTMLExtractor.handle_comment

    def recording(self: HTMLExtractor, data: str) -> None:
        comments.append(data)
        handle_comment(self, data)

    monkeypatch.setattr(HTMLExtractor, "handle_comment", recording)
    monkeypatch.chdir(root)
    monkeypatch.setenv("CARDBOOK_PREFETCH", "0")
    config = load_config(str(root / "mkdocs.yml"), site_dir=str(root / "site"))
    config.plugins.on_startup(command="build", dirty=False)
    try:
        build(config)
    finally:
        config.plugins.on_shutdown()
    assert [comment for comment in comments if "cardbook:card-" in comment] == []
    html = page(root / "site", "how-to/data/db.md")
    assert "cardbook-header" in html and "cardbook-neighbourhood" in html
    assert "cardbook:card-" not in html and "wzxhzdk" not in html
