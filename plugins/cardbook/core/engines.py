"""What another site engine would not show: the `zensical` rule.

Zensical reads `zensical.toml` (first) or `mkdocs.yml` and silently ignores every MkDocs
plugin it does not know, cardbook's included; it runs cardbook's Markdown extension when one
of those files lists it. A team trying Zensical should hear that from `cardbook check`
before its site loses the card headers without a word.
"""

from __future__ import annotations

import importlib.util
from typing import Any

from .problems import Problem
from .settings import Settings

EXTENSION = "cardbook"
WITHOUT_EXTENSION = "shows no card header, resolved wiki-link, graph or overview"
NEVER_SHOWN = (
    "Zensical runs cardbook's extension but not its plugin: it writes no generated file (run "
    "`cardbook tangle` first), adds no overview, graph or files page (give each a page holding "
    "its marker), publishes no raw generated file and fails no build on a problem (run "
    "`cardbook check`); see docs/reference/engines.md"
)


def engine_problems(settings: Settings, zensical_installed: bool | None = None) -> list[Problem]:
    """Info on what Zensical would leave out of this runbook's site, or nothing."""
    if settings.markdown_config is None:  # no mkdocs.yml: no site
        return []
    toml = settings.root / "zensical.toml"
    if toml.is_file():
        return _from_toml(toml.name, toml.read_bytes())
    if EXTENSION in (settings.markdown_extensions or ()):
        return []
    if zensical_installed is None:
        zensical_installed = importlib.util.find_spec("zensical") is not None
    if not zensical_installed:  # a team that has not tried Zensical hears nothing of it
        return []
    line = settings.line_of("markdown_extensions") if settings.markdown_extensions is not None else 1
    message = (
        f"Zensical is installed and ignores the cardbook plugin: built with it, this runbook "
        f"{WITHOUT_EXTENSION}; add `- cardbook` under markdown_extensions (MkDocs keeps using the plugin)"
    )
    return [Problem(settings.config_name, line, "info", message, rule="zensical")]


def _from_toml(name: str, raw: bytes) -> list[Problem]:
    import tomllib  # only a runbook with a zensical.toml pays for the import

    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        message = f"cannot read {name} to see what Zensical runs: {exc}"
        return [Problem(name, 1, "info", message, rule="zensical")]
    project = data.get("project")
    extensions: Any = project.get("markdown_extensions") if isinstance(project, dict) else None
    names = set(extensions) if isinstance(extensions, dict) else {_name(entry) for entry in extensions or ()}
    text = raw.decode("utf-8")
    line = next(
        (number for number, row in enumerate(text.splitlines(), 1) if "markdown_extensions" in row), 1
    )
    if EXTENSION not in names:
        message = (
            f"Zensical reads {name} before mkdocs.yml and ignores plugins: without `cardbook` under "
            f"[project.markdown_extensions] its site {WITHOUT_EXTENSION}"
        )
        return [Problem(name, line, "info", message, rule="zensical")]
    return [Problem(name, line, "info", NEVER_SHOWN, rule="zensical")]


def _name(entry: Any) -> str:
    return next(iter(entry), "") if isinstance(entry, dict) else str(entry)
