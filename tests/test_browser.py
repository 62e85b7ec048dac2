"""The built site in headless Chromium (Debian's package; no browser is ever downloaded).

Serves the site under a sub-path on localhost, checks the graphs are drawn and clickable, that
no page logs an error or reaches for the network, and saves screenshots of the overview and a
card page in the light and the dark palette into test-artifacts/ for a person to look at.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from helpers import card
from runbook_shape import build as build_runbook
from runbook_shape import facts as runbook_facts
from runbook_shape import write_runbook
from test_site_build import RUNBOOK, mkdocs, runbook

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: the browser tier must run)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        unavailable("Debian's chromium is not installed: apt-get install chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("the playwright package is not installed: uv sync")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS)
        try:
            yield launched
        finally:
            launched.close()


# A runbook a little larger than the build tests': two goals, a shared prerequisite.
CARDS = {
    **RUNBOOK,
    "docs/how-to/data/backup.md": card(title="Back up the database", status="active", requires="[db]"),
    "docs/how-to/data/restore-drill.md": card(
        title="Practise a restore", status="active", requires="[backup, deploy]"
    ),
    "docs/how-to/app/secrets.md": card(title="Store the secrets", tags="[how-to]"),
    "docs/how-to/app/tls.md": card(title="Issue TLS certificates", requires="[secrets]"),
}
CARDS["docs/how-to/app/deploy.md"] = card(title="Deploy the app", status="active", requires="[the-app, tls]")
SUB_PATH = "/team/runbook/"


@contextlib.contextmanager
def serving(www: Path) -> Iterator[str]:
    """`www` over HTTP on a free local port, for the time of the block: its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(www))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = runbook(tmp_path_factory.mktemp("browser"), CARDS, site_url=f"https://example.org{SUB_PATH}")
    www = root / "www"
    done = mkdocs(root, "--site-dir", str(www / SUB_PATH.strip("/")))
    assert done.returncode == 0, done.stderr
    with serving(www) as base:
        yield base + SUB_PATH


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def open_page(browser: object, url: str, scheme: str) -> tuple[object, object, list[str]]:
    """A fresh context per palette; every console error, page error or outside request is kept."""
    context = browser.new_context(color_scheme=scheme, viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    problems: list[str] = []

    def guard(route: object) -> None:
        request_url = route.request.url  # type: ignore[attr-defined]
        if urlsplit(request_url).hostname in ("127.0.0.1", "localhost"):
            route.continue_()  # type: ignore[attr-defined]
        else:
            problems.append(f"request to the network: {request_url}")
            route.abort()  # type: ignore[attr-defined]

    context.route("**/*", guard)
    page = context.new_page()
    page.on(
        "console",
        lambda message: problems.append(f"console: {message.text}") if message.type == "error" else None,
    )
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.goto(url, wait_until="load")
    return context, page, problems


def edge_count(page: object, svg: str) -> int:
    """Edges of the drawing at `svg`: Graphviz's `g.edge`, or a curve each in the layered
    drawing's one path of curves."""
    return page.evaluate(  # type: ignore[attr-defined]
        """(selector) => {
            const svg = document.querySelector(selector);
            const curves = svg.querySelector('path.cardbook-edges');
            const layered = curves ? (curves.getAttribute('d').match(/M/g) || []).length : 0;
            return svg.querySelectorAll('g.edge').length + layered;
        }""",
        svg,
    )


def shot(page: object, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)  # type: ignore[attr-defined]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_overview_and_card_pages(browser: object, site: str, scheme: str) -> None:
    context, page, problems = open_page(browser, site + "runbook/", scheme)
    try:
        palette = page.evaluate("document.body.getAttribute('data-md-color-scheme')")
        assert palette == ("slate" if scheme == "dark" else "default")
        nodes = page.locator("figure.cardbook-graph--overview svg .node")
        assert nodes.count() == 7
        assert edge_count(page, "figure.cardbook-graph--overview svg") == 7
        box = page.locator("figure.cardbook-graph--overview svg").bounding_box()
        assert box is not None and box["width"] > 200 and box["height"] > 50  # actually drawn
        # Badge text must stand out from its background in both palettes.
        colours = page.evaluate(
            """() => { const b = document.querySelector('.cardbook-badge.open');
                       const s = getComputedStyle(b); return [s.color, s.backgroundColor]; }"""
        )
        assert colours[0] != colours[1]
        shot(page, f"overview-{scheme}.png")

        page.locator("figure.cardbook-graph--overview svg a", has_text="Build the app").click()
        page.wait_for_url(site + "how-to/app/the-app/")
        assert page.locator(".cardbook-header").is_visible()
        assert page.locator(".cardbook-neighbourhood svg .node").count() == 4
        assert page.locator(".highlight .filename", has_text="nix/app.nix").count() == 2  # title + chunk note
        page.locator(".highlight .filename a", has_text="Set up the database").first.click()
        page.wait_for_url(re.compile(re.escape(site) + r"how-to/data/db/#cardbook-block-\d+"))
        page.go_back()
        shot(page, f"card-{scheme}.png")

        page.locator(".cardbook-neighbourhood svg a.node", has_text="Deploy the app").click()
        page.wait_for_url(site + "how-to/app/deploy/")
        page.locator(".cardbook-header a", has_text="Build the app").click()
        page.wait_for_url(site + "how-to/app/the-app/")
        page.locator(".cardbook-header a", has_text="nix/app.nix").click()
        page.wait_for_url(site + "generated-files/#file-nix-app-nix")
        shot(page, f"generated-files-{scheme}.png")
        assert problems == []
    finally:
        context.close()


def test_the_raw_generated_file_is_served(browser: object, site: str) -> None:
    context, page, _ = open_page(browser, site + "generated-files/", "light")
    try:
        raw = page.locator("a", has_text="raw file").first.get_attribute("href")
        response = page.request.get(site + "generated-files/" + raw)
        assert response.ok and "Generated by cardbook" in response.text()
    finally:
        context.close()


def test_a_thousand_card_graph_stays_responsive(browser: object, tmp_path: Path) -> None:
    """The whole graph of a large runbook is static SVG: the page is usable within seconds."""
    if shutil.which("dot") is None:
        pytest.skip("Graphviz dot is not installed")
    files = {"docs/index.md": "# Home\n"}
    for index in range(1000):  # a binary tree: each card requires its parent
        needs = f"[c{(index - 1) // 2:04d}]" if index else None
        files[f"docs/how-to/c{index:04d}.md"] = card(title=f"Card number {index}", requires=needs)
    root = runbook(tmp_path, files)
    done = mkdocs(root)
    assert done.returncode == 0, done.stderr
    www = root / "site"
    handler = functools.partial(_QuietHandler, directory=str(www))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        context, page, problems = open_page(
            browser, f"http://127.0.0.1:{server.server_address[1]}/runbook-graph/", "light"
        )
        try:
            assert page.locator("figure.cardbook-graph--overview svg .node").count() == 1000
            # The main thread answers quickly once loaded: nothing lays the graph out in JS.
            started = page.evaluate("performance.now()")
            page.mouse.wheel(0, 2000)
            assert page.evaluate("performance.now()") - started < 2000
            assert problems == []
        finally:
            context.close()
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def runbook_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real-runbook-shaped tree (tests/runbook_shape.py) with the guide's mkdocs.yml."""
    root = tmp_path_factory.mktemp("runbook-shaped")
    write_runbook(root)
    www = root / "www"
    done = build_runbook(root, "--site-dir", str(www))
    assert done.returncode == 0, done.stderr
    with serving(www) as base:
        yield base + "/"


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_a_real_runbook_shaped_site(browser: object, runbook_site: str, scheme: str) -> None:
    """Issue 16: the overview leads with the open chain, drawn within the content column; a
    chain card has its header; an evergreen page has none; callouts render as admonitions."""
    known = runbook_facts()
    context, page, problems = open_page(browser, runbook_site + "runbook/", scheme)
    try:
        palette = page.evaluate("document.body.getAttribute('data-md-color-scheme')")
        assert palette == ("slate" if scheme == "dark" else "default")
        goals = page.locator(".cardbook-goal svg")
        assert goals.count() == 1  # one open chain, one goal
        drawn = goals.first.locator(".node")
        assert drawn.count() == len(known["chain"])  # the goal and all its prerequisites, done ones too
        box = goals.first.bounding_box()
        column = page.locator("article").bounding_box()
        assert box is not None and column is not None and box["width"] <= column["width"]
        titles = goals.first.locator(".node title").all_text_contents()
        assert all("…" not in title for title in titles)
        assert page.locator("text=Done").count() >= 1
        shot(page, f"runbook-overview-{scheme}.png")

        card_path = known["chain_paths"][known["goal"]][: -len(".md")] + "/"
        page.goto(runbook_site + card_path, wait_until="load")
        assert page.locator(".cardbook-header").is_visible()
        assert page.locator(".cardbook-badge").count() >= 1
        assert page.locator("div.admonition").count() >= 1  # the card's callout
        shot(page, f"runbook-chain-card-{scheme}.png")

        page.goto(runbook_site + "how-to/postgres/postgres-major-upgrade/", wait_until="load")
        assert page.locator(".cardbook-header").count() == 0  # an evergreen how-to: no card header
        assert page.locator(".cardbook-badge").count() == 0
        assert page.locator("div.admonition").count() == 2  # the two adjacent callouts stay two
        assert "[!" not in page.locator("article").inner_text()
        shot(page, f"runbook-page-{scheme}.png")
        assert problems == []
    finally:
        context.close()


ENGINES_BIN = Path(__file__).resolve().parent.parent / ".venv-engines/bin"


@pytest.fixture(scope="module")
def zensical_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The same real-runbook-shaped tree built by Zensical (issue 17), with the guide's
    mkdocs.yml (it lists the cardbook extension) and a page of the team's for the overview."""
    zensical = ENGINES_BIN / "zensical"
    if not zensical.is_file():
        unavailable(f"{zensical} is missing: scripts/test makes .venv-engines")
    root = tmp_path_factory.mktemp("runbook-zensical")
    write_runbook(root)
    (root / "docs/runbook.md").write_text("# Runbook overview\n\n<!-- cardbook:overview -->\n")
    done = subprocess.run(
        [str(zensical), "build", "-c"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "NO_COLOR": "1"},
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    with serving(root / "site") as base:
        yield base + "/"


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_runbook_shaped_site_under_zensical(browser: object, zensical_site: str, scheme: str) -> None:
    """Zensical runs cardbook's Markdown extension: the overview's goal graph within the
    column, the chain card's header, no header on an evergreen page."""
    known = runbook_facts()
    context, page, problems = open_page(browser, zensical_site + "runbook/", scheme)
    try:
        goals = page.locator(".cardbook-goal svg")
        assert goals.count() == 1
        assert goals.first.locator(".node").count() == len(known["chain"])
        box, column = goals.first.bounding_box(), page.locator("article").bounding_box()
        assert box is not None and column is not None and box["width"] <= column["width"]
        shot(page, f"zensical-overview-{scheme}.png")

        card_path = known["chain_paths"][known["goal"]][: -len(".md")] + "/"
        page.goto(zensical_site + card_path, wait_until="load")
        assert page.locator(".cardbook-header").is_visible()
        assert page.locator(".cardbook-header a").count() >= 1
        header = page.locator(".cardbook-header")
        background = header.evaluate("element => getComputedStyle(element).borderTopStyle")
        assert background != "none"  # the stylesheet reached the page (inline under Zensical)
        assert "[[" not in page.locator("article").inner_text()
        # A node's label is no underlined link text: Zensical's theme underlines links.
        node = page.locator(".cardbook-neighbourhood svg a.node").first
        assert node.evaluate("a => getComputedStyle(a).textDecorationLine") == "none"
        shot(page, f"zensical-chain-card-{scheme}.png")

        page.goto(zensical_site + "how-to/postgres/postgres-major-upgrade/", wait_until="load")
        assert page.locator(".cardbook-header").count() == 0
        assert problems == [], problems
    finally:
        context.close()
