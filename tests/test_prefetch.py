"""The second process that draws the cards' parts (site/prefetch.py): what it sends is used,
a failed or slow one changes nothing on the site, and none is left running."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

import runbook_shape
from cardbook.site import build as site_build
from cardbook.site import prefetch

pytestmark = pytest.mark.skipif(not prefetch.usable(), reason="no fork, or one CPU: nothing is prefetched")


def wait_for(drawing: prefetch.Drawing, seconds: float = 30) -> object:
    deadline = time.monotonic() + seconds
    while (found := drawing.result()) is prefetch.PENDING:
        assert time.monotonic() < deadline, "the copy sent nothing"
        time.sleep(0.01)
    return found


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_the_result_comes_back_whole() -> None:
    big = {f"how-to/{index}.md": "x" * 5000 for index in range(2000)}  # 10 MB: far past a pipe's buffer
    drawing = prefetch.start(lambda: big)
    assert drawing is not None
    assert wait_for(drawing) == big
    assert gone(drawing.pid)  # reaped, no zombie left


def test_a_failing_copy_gives_none() -> None:
    def work() -> object:
        raise RuntimeError("broken drawing")

    drawing = prefetch.start(work)
    assert drawing is not None
    assert wait_for(drawing) is None


def test_closing_stops_a_copy_still_drawing() -> None:
    drawing = prefetch.start(lambda: time.sleep(60))
    assert drawing is not None
    assert drawing.result() is prefetch.PENDING
    started = time.monotonic()
    drawing.close()
    assert time.monotonic() - started < 5
    assert gone(drawing.pid)
    assert drawing.result() is None


def test_the_work_after_the_result_runs_once_the_result_is_out(tmp_path: Path) -> None:
    mark = tmp_path / "then"
    drawing = prefetch.start(lambda: "drawn", lambda: mark.write_text("done"))
    assert drawing is not None
    assert wait_for(drawing) == "drawn"
    assert drawing.wait(30) is True
    assert mark.read_text() == "done"
    assert gone(drawing.pid)


def test_work_after_the_result_that_fails_or_hangs_is_reported_not_done() -> None:
    def fails() -> None:
        raise OSError(28, "No space left on device")

    drawing = prefetch.start(lambda: "drawn", fails)
    assert drawing is not None
    assert drawing.wait(30) is False  # read meanwhile: the result stays usable
    assert drawing.result() == "drawn"
    hangs = prefetch.start(lambda: "drawn", lambda: time.sleep(60))
    assert hangs is not None
    started = time.monotonic()
    assert hangs.wait(0.5) is False
    assert time.monotonic() - started < 10
    assert gone(hangs.pid)


def test_it_can_be_turned_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CARDBOOK_PREFETCH", "0")
    assert prefetch.start(lambda: 1) is None


def site_pages(site: Path) -> dict[str, bytes]:
    return {str(path.relative_to(site)): path.read_bytes() for path in sorted(site.rglob("*.html"))}


def build_in_process(root: Path, site: str) -> dict[str, bytes]:
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    cwd = os.getcwd()
    os.chdir(root)
    try:
        config = load_config(str(root / "mkdocs.yml"), site_dir=str(root / site))
        config.plugins.on_startup(command="build", dirty=False)
        try:
            build(config)
        finally:
            config.plugins.on_shutdown()
    finally:
        os.chdir(cwd)
    return site_pages(root / site)


@pytest.fixture(scope="module")
def shaped(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("shaped")
    runbook_shape.write_runbook(root)
    return root


def test_the_site_is_the_same_drawn_either_way(shaped: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    drawn_aside = build_in_process(shaped, "site-prefetched")
    monkeypatch.setenv("CARDBOOK_PREFETCH", "0")
    drawn_here = build_in_process(shaped, "site-in-process")
    assert drawn_aside.keys() == drawn_here.keys()
    assert [page for page in drawn_aside if drawn_aside[page] != drawn_here[page]] == []
    assert any(b"cardbook-header" in html for html in drawn_aside.values())


def test_pages_draw_their_own_parts_while_the_copy_draws(
    shaped: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page that comes before the copy is done, and every page when it never is."""
    monkeypatch.setenv("CARDBOOK_PREFETCH", "0")
    expected = build_in_process(shaped, "site-expected")
    monkeypatch.setenv("CARDBOOK_PREFETCH", "1")
    monkeypatch.setattr(prefetch.Drawing, "result", lambda self: prefetch.PENDING)
    assert build_in_process(shaped, "site-pending") == expected


def test_a_copy_that_fails_leaves_the_site_as_it_would_be(
    shaped: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CARDBOOK_PREFETCH", "0")
    expected = build_in_process(shaped, "site-expected-2")
    monkeypatch.setenv("CARDBOOK_PREFETCH", "1")

    def broken(self: site_build.SiteBuild) -> object:
        raise MemoryError("the copy ran out of memory")

    monkeypatch.setattr(site_build.SiteBuild, "_draw_everything", broken)
    assert build_in_process(shaped, "site-broken") == expected


def test_the_copy_draws_the_whole_graph_when_graphviz_will_not(
    shaped: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without Graphviz the All cards graph is cardbook's own drawing: the copy makes it, and
    the page is the same as when the build draws it itself."""
    from cardbook.site.dot import DotRenderer

    # MkDocs keeps one plugin instance per process, with the renderer it found: hide dot there.
    monkeypatch.setattr(DotRenderer, "available", property(lambda self: False))
    monkeypatch.setenv("CARDBOOK_PREFETCH", "0")
    expected = build_in_process(shaped, "site-no-dot-here")
    monkeypatch.setenv("CARDBOOK_PREFETCH", "1")
    result = prefetch.Drawing.result
    monkeypatch.setattr(prefetch.Drawing, "result", lambda self: wait_for_result(self, result))
    took: list[object] = []
    take = site_build.SiteBuild._take_drawn

    def taking(self: site_build.SiteBuild) -> object:
        found = take(self)
        took.append(found)
        return found

    monkeypatch.setattr(site_build.SiteBuild, "_take_drawn", taking)
    assert build_in_process(shaped, "site-no-dot-aside") == expected
    drawn = [found for found in took if isinstance(found, site_build.Drawn)]
    assert took and len(drawn) == len(took)  # every page took the copy's drawing
    assert all(found.whole_graph and "Graphviz is not installed" in found.whole_graph for found in drawn)
    assert any(b"Graphviz is not installed" in html for html in expected.values())


def wait_for_result(drawing: prefetch.Drawing, result: Callable[[prefetch.Drawing], object]) -> object:
    """The copy's result, waited for: every page takes what the copy drew."""
    deadline = time.monotonic() + 60
    while (found := result(drawing)) is prefetch.PENDING:
        assert time.monotonic() < deadline, "the copy sent nothing"
        time.sleep(0.01)
    return found


def test_zensical_draws_in_its_own_process(shaped: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Zensical keeps the second core busy itself: its build starts no second drawing process."""
    from cardbook.site import zensical

    started: list[object] = []
    monkeypatch.setattr(prefetch, "start", lambda *work: started.append(work))
    build = zensical.read_build({"root_dir": str(shaped)}, "mkdocs.yml")
    assert build.card_by_src and build.drawing is None and started == []


# The raw generated files: written by the copy once its drawing is sent (site/publish.py) ----------


@pytest.fixture(scope="module")
def tangling(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Cards that each write a file, in folders of their own (the site publishes them raw)."""
    from helpers import card, fence, write_cards_tree

    root = tmp_path_factory.mktemp("tangling")
    cards = {
        f"docs/how-to/c{index}.md": card(
            title=f"Card {index}",
            body=fence(f"``` {{.nix file=nix/area{index % 3}/c{index}.nix}}", f"{{ value = {index}; }}"),
        )
        for index in range(12)
    }
    write_cards_tree(root, cards)
    return root


def raw_files(site: Path) -> dict[str, bytes]:
    """Every file and folder under the site's nix/ (a folder's bytes are b"-")."""
    found = sorted((site / "nix").rglob("*"))
    return {str(path.relative_to(site)): path.read_bytes() if path.is_file() else b"-" for path in found}


def raw_files_drawn_here(root: Path, site: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    """The raw files of a build with no second process; the next build in the test has one."""
    monkeypatch.setenv("CARDBOOK_PREFETCH", "0")
    build_in_process(root, site)
    monkeypatch.setenv("CARDBOOK_PREFETCH", "1")
    return raw_files(root / site)


def test_the_copy_writes_the_raw_files_and_mkdocs_does_not(
    tangling: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mkdocs.structure.files import File

    expected = raw_files_drawn_here(tangling, "site-raw-here", monkeypatch)
    assert len(expected) == 12 + 3 and all(expected.values())  # 12 files in 3 folders
    copied: list[str] = []
    copy_file = File.copy_file

    def recording(self: File, dirty: bool = False) -> None:
        copied.append(self.src_uri)
        copy_file(self, dirty)

    monkeypatch.setattr(File, "copy_file", recording)
    build_in_process(tangling, "site-raw-aside")
    assert raw_files(tangling / "site-raw-aside") == expected
    assert [uri for uri in copied if uri.startswith("nix/")] == []  # the copy wrote them, not MkDocs


def test_raw_files_the_copy_did_not_write_are_written_by_the_build(
    tangling: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = raw_files_drawn_here(tangling, "site-raw-expected", monkeypatch)
    builder = os.getpid()
    write = site_build.SiteBuild._write_raw_files

    def fails_in_the_copy(self: site_build.SiteBuild) -> None:
        if os.getpid() != builder:
            first = next(iter(self.raw_files))
            Path(first).write_text("half a fi")  # as a copy dying among its writes leaves it
            raise OSError(28, "No space left on device")
        write(self)

    monkeypatch.setattr(site_build.SiteBuild, "_write_raw_files", fails_in_the_copy)
    build_in_process(tangling, "site-raw-failed")
    assert raw_files(tangling / "site-raw-failed") == expected
