"""The value of each `cardbook` plugin option, checked one by one for `Settings.from_mapping`.

Each validator takes the value as mkdocs.yml wrote it and `fail`, which makes the
ConfigError at the option's own line; it returns the value in the form Settings keeps.
"""

from __future__ import annotations

import re
import reprlib
from pathlib import Path

TYPE_CHECKING = False  # typing is not imported at run time: it costs start-up
if TYPE_CHECKING:
    from typing import Any

OPEN, CLOSED = "open", "closed"
# Comment syntax per file suffix: a line prefix, or a (start, end) pair.
DEFAULT_COMMENT_STYLES: dict[str, tuple[str, str]] = {
    suffix: ("#", "") for suffix in (".nix", ".sh", ".bash", ".yaml", ".yml", ".toml", ".py", ".cfg", ".conf")
} | {".lua": ("--", ""), ".sql": ("--", ""), ".css": ("/*", "*/"), ".c": ("/*", "*/")}

_SHOWN = reprlib.Repr()
_SHOWN.maxstring = _SHOWN.maxother = 60
_SHOWN.maxlist = _SHOWN.maxdict = 4
_SHOWN.maxlevel = 2


def shown(value: Any) -> str:
    """A value from the config, shortened for a message: an alias bomb must not be printed."""
    return _SHOWN.repr(value)



def relative_dirs_option(value: Any, key: str, fail: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise fail(f"{key} must be a non-empty list of paths")
    cleaned = []
    for item in value:
        path = Path(item)
        if path.is_absolute() or ".." in path.parts or not path.parts:
            raise fail(f"{key}: {shown(item)} must be a relative path inside the project")
        cleaned.append(path.as_posix())
    return tuple(cleaned)


def statuses_option(value: Any, fail: Any) -> dict[str, bool]:
    if not isinstance(value, dict) or not value:
        raise fail("statuses must map each status to open or closed")
    statuses = {}
    for name, kind in value.items():
        if name is None:  # `~: closed` declares the empty `status:` too
            name = ""
            if "" in statuses:
                raise fail("statuses: '' and ~ both declare the empty status: keep one")
        if isinstance(name, bool) or not isinstance(name, str):  # YAML 1.1 reads no/yes as booleans
            raise fail(f"statuses: the key {shown(name)} is not text: quote it ('no': closed)")
        if kind not in (OPEN, CLOSED):
            raise fail(f"statuses: {shown(name)} must be declared open or closed, not {shown(kind)}")
        if name == "" and "" in statuses:
            raise fail("statuses: '' and ~ both declare the empty status: keep one")
        statuses[name] = kind == OPEN
    return statuses


def frontmatter_option(value: Any, fail: Any) -> tuple[dict[str, tuple[str, ...]], tuple[str, ...]]:
    usage = "frontmatter must be a mapping with required (folder: [keys]) and card_only ([keys])"
    if not isinstance(value, dict) or set(value) - {"required", "card_only"}:
        raise fail(usage)
    required = value.get("required") or {}
    if not isinstance(required, dict) or not all(
        isinstance(folder, str) and isinstance(keys, list) and all(isinstance(k, str) for k in keys)
        for folder, keys in required.items()
    ):
        raise fail("frontmatter: required must map a folder (or \"*\") to a list of keys")
    card_only = value.get("card_only", ["status", "requires", "build"])
    if not isinstance(card_only, list) or not all(isinstance(key, str) for key in card_only):
        raise fail("frontmatter: card_only must be a list of keys")
    return {folder: tuple(keys) for folder, keys in required.items()}, tuple(card_only)


# One name of the stylesheet's path: it becomes a URL in every page, unescaped.
_URL_SAFE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
_THEME_FOLDERS = ("assets/stylesheets/", "assets/javascripts/")  # Material's own files live there


def stylesheet_option(value: Any, docs_dir: str, fail: Any) -> str:
    """The stylesheet file cardbook writes, relative to the project ("" or false: none). The
    option names it relative to docs_dir, as extra_css does."""
    if value is False or value == "":
        return ""
    usage = "stylesheet must be a path inside docs_dir ending in .css, as extra_css names it"
    parts = [part for part in value.split("/") if part not in ("", ".")] if isinstance(value, str) else []
    if not parts or value.startswith(("/", "~")) or ".." in parts or not parts[-1].endswith(".css"):
        raise fail(f"{usage} (assets/cardbook.css), not {shown(value)}")
    for part in parts:
        if not _URL_SAFE_NAME.fullmatch(part) or len(part.encode()) > 255:
            raise fail(
                f"stylesheet: {shown(value)}: each name in the path may hold letters, digits, '-', '_' "
                "and '.' (not first), at most 255 of them: the path becomes a URL on every page"
            )
    path = "/".join(parts)
    if path.startswith(_THEME_FOLDERS):
        raise fail(f"stylesheet: {shown(value)} is in a folder of the theme's own files: choose another")
    docs = [part for part in docs_dir.split("/") if part not in ("", ".")]
    if docs_dir.startswith("/") or ".." in docs:
        where = f"docs_dir {shown(docs_dir)}"
        raise fail(f"stylesheet: {where} is outside the project, and cardbook writes only inside it")
    return "/".join(docs + parts)


def links_option(value: Any, fail: Any) -> tuple[str, ...]:
    if not isinstance(value, dict) or set(value) - {"ignore"}:
        hint = " (the index check is the rule index-links: `rules: {index-links: warning}`)"
        raise fail(
            "links must be a mapping with the key ignore (a list of wiki-link targets)"
            + (hint if isinstance(value, dict) and "index" in value else "")
        )
    ignore = value.get("ignore") or []
    if not isinstance(ignore, list) or not all(isinstance(name, str) and name for name in ignore):
        raise fail("links: ignore must be a list of wiki-link targets, like [CHANGELOG]")
    return tuple(ignore)


def rules_option(value: Any, fail: Any) -> dict[str, str]:
    from .rules import RULES, SEVERITIES
    from .suggest import did_you_mean

    if not isinstance(value, dict):
        raise fail("rules must map rule ids to a severity, like {lone-card: info}")
    chosen = {}
    for rule_id, severity in value.items():
        if severity is False:  # YAML 1.1 reads an unquoted `off` (and no, false) as false
            severity = "off"
        elif severity is True:  # ... and on, yes, true as true: no severity
            raise fail(f"rules: {rule_id}: YAML reads this value as true; write error, warning or info")
        rule = RULES.get(rule_id) if isinstance(rule_id, str) else None
        if rule is None:
            raise fail(
                f"rules: unknown rule {shown(rule_id)}{did_you_mean(str(rule_id), RULES)} "
                "(docs/reference/rules.md lists them)"
            )
        if severity not in SEVERITIES:
            raise fail(f"rules: {rule_id}: {shown(severity)} is not one of {', '.join(SEVERITIES)}")
        if not rule.changeable and severity != rule.severity:
            raise fail(f"rules: {rule_id} cannot be changed: it guards your files or the generated output")
        chosen[rule_id] = severity
    return chosen


def comment_styles_option(value: Any, fail: Any) -> dict[str, tuple[str, str]]:
    if not isinstance(value, dict):
        raise fail("comment_styles must map a file suffix (.lua) to a comment prefix (--)")
    styles = dict(DEFAULT_COMMENT_STYLES)
    for suffix, style in value.items():
        parts = style.split() if isinstance(style, str) else []
        if not isinstance(suffix, str) or not suffix.startswith(".") or len(parts) not in (1, 2):
            raise fail(
                f"comment_styles: {shown(suffix)}: {shown(style)} must be a prefix like '#' "
                "or a start and end like '/* */'"
            )
        styles[suffix] = (parts[0], parts[1] if len(parts) == 2 else "")
    return styles
