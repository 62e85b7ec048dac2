"""The install page's path: the wheel of this repository, installed with its mkdocs extra into
a clean virtualenv outside the repository, starts, checks, tangles and builds a runbook.

Needs uv (to build the wheel) and PyPI (pip installs MkDocs and the rest from there).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Sequence
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parent.parent
VERSION = tomllib.loads((REPOSITORY / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]


def run(args: Sequence[str | Path], cwd: Path, env: dict[str, str], timeout: float = 120) -> str:
    result = subprocess.run(
        [str(arg) for arg in args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert result.returncode == 0, f"{args}: exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def test_the_wheel_installs_and_runs_outside_the_repository(tmp_path: Path) -> None:
    uv = shutil.which("uv")
    if uv is None:
        pytest.skip("uv is not on PATH: it builds the wheel (installed by scripts/bootstrap)")
    assert not tmp_path.resolve().is_relative_to(REPOSITORY)
    # Nothing of the test's own environment may leak in: no venv, no import path of this checkout.
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "PYTHONSAFEPATH")
    }
    env |= {"NO_MKDOCS_2_WARNING": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1", "NO_COLOR": "1"}

    dist = tmp_path / "dist"
    run([uv, "build", "--wheel", "--out-dir", dist, "--quiet"], REPOSITORY, env)
    wheel = dist / f"cardbook-{VERSION}-py3-none-any.whl"
    assert wheel.is_file(), sorted(os.listdir(dist))

    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", venv], tmp_path, env)
    bin_dir = venv / "bin"
    run([bin_dir / "pip", "install", "--quiet", f"{wheel}[mkdocs]"], tmp_path, env, timeout=300)
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"

    project = tmp_path / "ops-runbook"
    project.mkdir()
    imported = run([bin_dir / "python", "-c", "import cardbook; print(cardbook.__file__)"], project, env)
    assert Path(imported.strip()).is_relative_to(venv), imported
    assert run([bin_dir / "cardbook", "--version"], project, env) == f"cardbook, version {VERSION}\n"

    run([bin_dir / "cardbook", "init"], project, env)
    assert run([bin_dir / "cardbook", "check"], project, env) == "1 card checked: no problems\n"
    run([bin_dir / "cardbook", "tangle"], project, env)
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")  # Graphviz's drawing cache
    run([bin_dir / "mkdocs", "build", "--strict"], project, env)
    site = project / "site"
    assert "Say hello" in (site / "how-to/hello/index.html").read_text(encoding="utf-8")
    assert (site / "nix/hello.nix").read_bytes() == (project / "nix/hello.nix").read_bytes()
    assert "derivation {" in (project / "nix/hello.nix").read_text(encoding="utf-8")
