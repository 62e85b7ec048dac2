"""`mkdocs serve`: saving a card re-tangles, a hand edit under nix/ is reported, no rebuild loop."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from test_site_build import runbook


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    def __init__(self, root: Path) -> None:
        self.port = free_port()
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            [sys.executable, "-m", "mkdocs", "serve", "--dev-addr", f"127.0.0.1:{self.port}"],
            cwd=root,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "NO_MKDOCS_2_WARNING": "1", "XDG_CACHE_HOME": str(root / ".cache")},
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def log(self) -> str:
        return "\n".join(self.lines)

    def builds(self) -> int:
        return sum("Documentation built" in line for line in self.lines)

    def wait_for(self, condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"gave up waiting for {what}; log:\n{self.log()}")
            time.sleep(0.1)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[Server, Path]]:
    root = runbook(tmp_path)
    running = Server(root)
    try:
        running.wait_for(lambda: any("Serving on" in line for line in running.lines), "the first build")
        yield running, root
    finally:
        running.stop()


def settled(server: Server, quiet: float = 2.5, timeout: float = 60) -> int:
    """Wait until no build started for `quiet` seconds; return the number of builds."""
    deadline = time.monotonic() + timeout
    count, since = server.builds(), time.monotonic()
    while time.monotonic() - since < quiet:
        assert time.monotonic() < deadline, f"the server keeps rebuilding:\n{server.log()}"
        time.sleep(0.1)
        if server.builds() != count:
            count, since = server.builds(), time.monotonic()
    return count


def test_serve_retangles_on_save_and_reports_hand_edits(server: tuple[Server, Path]) -> None:
    running, root = server
    target = root / "nix/app.nix"
    assert "port = 8080;" in target.read_text()
    before = settled(running)

    card = root / "docs/how-to/app/the-app.md"
    card.write_text(card.read_text().replace("port = 8080;", "port = 8081;"))
    running.wait_for(lambda: "port = 8081;" in target.read_text(), "the re-tangle")
    # One build for the card, at most one more for the file it wrote: then quiet, no loop.
    assert settled(running) - before <= 2
    page = urllib.request.urlopen(f"http://127.0.0.1:{running.port}/how-to/app/the-app/", timeout=10).read()
    assert b"port" in page and b"8081" in page

    edited = target.read_text().replace("port = 8081;", "port = 9999;")
    target.write_text(edited)
    running.wait_for(lambda: "edited by hand" in running.log(), "the hand edit report")
    settled(running)
    assert target.read_text() == edited  # reported, not overwritten
    assert running.process.poll() is None  # and the server is still up
    assert not any(path.name.startswith(".cardbook") for path in (root / "docs").rglob("*"))
