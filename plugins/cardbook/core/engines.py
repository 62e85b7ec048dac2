"""What another site engine would not show: the `zensical` rule.

Zensical reads `zensical.toml` (first) or `mkdocs.yml` and silently ignores every MkDocs
plugin it does not know, cardbook's included; it runs cardbook's Markdown extension when one
of those files lists it. A team trying Zensical should hear that from `cardbook check`
before its site loses the card headers without a word.
"""

from __future__ import annotations

import importlib.util
import posixpath

from .problems import Problem, error
from .settings import Settings

TYPE_CHECKING = False  # typing is not imported at run time: it costs start-up
if TYPE_CHECKING:
    from typing import Any

EXTENSION = "cardbook"
WITHOUT_EXTENSION = "shows no card header, resolved wiki-link, graph or overview"
NEVER_SHOWN = (
    "Zensical runs cardbook's extension but not its plugin: it writes no generated file (run "
    "`cardbook tangle` first), adds no overview, graph or files page (give each a page holding "
    "its marker), publishes no raw generated file and fails no build on a problem (run "
    "`cardbook check`); see docs/reference/engines.md"
)


EXTENSION_OPTIONS = {"config_file": "the YAML file whose cardbook plugin entry holds the options"}


def extension_option_error(options: Any) -> str | None:
    """Why the `cardbook` Markdown extension cannot take `options`, or None (one rule for the
    extension itself, the check and the plugin)."""
    if options is None:
        return None
    if not isinstance(options, dict):
        return "the cardbook Markdown extension's options must be a mapping (config_file: PATH)"
    for key, value in options.items():
        if key not in EXTENSION_OPTIONS:
            return f"the cardbook Markdown extension has no option {key!r}: it takes config_file only"
        if not isinstance(value, str) or not value.strip():
            return f"the cardbook Markdown extension's {key} must be a path, not {value!r}"
    return None


def extension_problems(settings: Settings) -> list[Problem]:
    """The `cardbook` entry under markdown_extensions, when its options are wrong: a
    configuration error at the line of markdown_extensions."""
    config = settings.markdown_config or {}
    entries = config.get("markdown_extensions")
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict) and EXTENSION in entry:
            why = extension_option_error(entry[EXTENSION])
            named = entry[EXTENSION].get("config_file") if why is None and entry[EXTENSION] else None
            if named is not None and not (settings.root / named).is_file():
                why = f"the cardbook Markdown extension's config_file {named!r} is no file in the project"
            if why is not None:
                line = settings.line_of("markdown_extensions")
                return [error(settings.config_name, line, why, rule="config")]
    return []


def engine_problems(settings: Settings, zensical_installed: bool | None = None) -> list[Problem]:
    """Info on what Zensical would leave out of this runbook's site, or nothing."""
    if settings.markdown_config is None:  # no mkdocs.yml: no site
        return []
    toml = settings.root / "zensical.toml"
    if toml.is_file():
        try:
            raw = toml.read_bytes()
        except OSError as exc:
            message = f"cannot read {toml.name} to see what Zensical runs: {exc.strerror}"
            return [Problem(toml.name, 1, "info", message, rule="zensical")]
        return _from_toml(toml.name, raw)
    if EXTENSION in (settings.markdown_extensions or ()):
        return _stylesheet_unlisted(settings)
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


def css_listed(uri: str, extra_css: Any) -> bool:
    """extra_css (as mkdocs.yml writes it, `./` or not) names `uri`, a path in docs_dir."""
    return isinstance(extra_css, list) and uri in [posixpath.normpath(str(entry)) for entry in extra_css]


def stylesheet_listed(settings: Settings, extra_css: Any) -> bool:
    """extra_css names the `stylesheet:` file."""
    return css_listed(settings.stylesheet.removeprefix(settings.docs_prefix), extra_css)


def _stylesheet_unlisted(settings: Settings) -> list[Problem]:
    """The `stylesheet:` file that extra_css does not name: Zensical pages then carry it inline."""
    extra_css = (settings.markdown_config or {}).get("extra_css")
    if not settings.stylesheet or stylesheet_listed(settings, extra_css):
        return []
    css = settings.stylesheet.removeprefix(settings.docs_prefix)
    message = (
        f"stylesheet: {css} is not listed under extra_css: under Zensical each card page carries the "
        f"stylesheet inline; add `extra_css: [{css}]` (MkDocs adds it itself)"
    )
    return [Problem(settings.config_name, settings.line_of("stylesheet"), "info", message, rule="zensical")]


def _from_toml(name: str, raw: bytes) -> list[Problem]:
    import tomllib  # only a runbook with a zensical.toml pays for the import

    try:
        text = raw.decode("utf-8")
        data = tomllib.loads(text)
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        message = f"cannot read {name} to see what Zensical runs: {exc}"
        return [Problem(name, 1, "info", message, rule="zensical")]
    project = data.get("project")
    extensions: Any = project.get("markdown_extensions") if isinstance(project, dict) else None
    entries = extensions if isinstance(extensions, dict | list) else ()
    names = {_name(entry) for entry in entries}
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
