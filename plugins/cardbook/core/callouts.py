"""Obsidian callouts (`> [!note] Title`) that the site's Markdown extensions would show as raw text.

A callout is a quote whose first line starts with `[!type]`, optionally followed by `-`
(collapsed) or `+` (expanded) and a title. Python-Markdown has no such syntax: without an
extension that reads it, the page shows a plain quote that starts with the text `[!note]`.

    callout_problems("docs/how-to/a.md", text, config["markdown_extensions"])

`extensions` is what mkdocs.yml says, in any of the forms a caller has at hand:

- the `markdown_extensions` list as written (`- pymdownx.quotes: {callouts: true}` or a bare
  name, which means no options), or the mapping form of that key;
- a whole configuration mapping: mkdocs.yml as loaded, MkDocs's own config (names in
  `markdown_extensions`, options in `mdx_configs`), or Zensical's; its `plugins` are read too,
  for the mkdocs-callouts plugin;
- an object with a `markdown_extensions` attribute and, optionally, `mdx_configs`. Without
  `mdx_configs` the options are unknown, so a listed pymdownx.quotes is trusted to have
  `callouts: true` rather than reported;
- None: the configuration is unknown, and nothing is reported.

Callouts in fenced code blocks (also those inside a quote), in indented code blocks, in HTML
comments and in the frontmatter are examples, not callouts; a `[!note]` in inline code does not
start its line, so it is never one. Line numbers are file lines of `markdown`, the whole file.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .fences import FENCE_LINE
from .frontmatter import FrontmatterError, split
from .problems import Problem, warning

# The rule id in core/rules.py.
UNRENDERED_CALLOUT = "unrendered-callout"

# What the message asks to add: pymdown-extensions is installed with Material already.
QUOTES = "pymdownx.quotes"
RECOMMENDED = f"`{QUOTES}: {{callouts: true}}`"

# Names (entry point or module path) of the Python-Markdown extensions that render callouts.
_OBSIDIAN = frozenset(
    {
        "obsidian_callouts",  # obsidian-callouts: Material admonitions, <details> for -/+
        "obsidian_callouts.extension",
        "obsidian-callouts",  # markdown-obsidian-callouts: Obsidian's own HTML and classes
        "markdown_obsidian_callouts",
        "markdown_obsidian_callouts.obsidian_callouts",
    }
)
_GITHUB = frozenset({"github-callouts", "markdown_callouts.github_callouts"})
_GITHUB_TYPES = frozenset({"note", "tip", "important", "warning", "caution"})
_MKDOCS_PLUGIN = "callouts"  # the mkdocs-callouts plugin (MkDocs only: Zensical skips plugins)
# A mapping with one of these keys is a whole configuration, not the `markdown_extensions` mapping.
_CONFIG_KEYS = frozenset({"markdown_extensions", "mdx_configs", "plugins", "site_name", "theme", "docs_dir"})

# The callout types each extension reads; other types stay text.
_QUOTES_TYPE = re.compile(r"[\w-]+(?: *\| *[\w-]+)*")
_ASCII_TYPE = re.compile(r"[A-Za-z0-9_-]+")

# A line inside a quote: optional indentation, one or more `>` markers, the rest.
_QUOTE = re.compile(r"(?P<indent>[ \t]*)(?P<marks>>(?:[ \t]*>)*)[ \t]?(?P<rest>.*)")
_CALLOUT = re.compile(r"[ \t]*\[!(?P<type>[^\]\n]+)\](?P<fold>[-+]?)(?P<title>.*)")
_LIST_ITEM = re.compile(r"[ \t]*(?:[-*+]|\d{1,9}[.)])(?:[ \t]|$)")


@dataclass(frozen=True)
class Callout:
    line: int  # 1-based file line of the `> [!type]` line
    type: str  # as written: "note", "NOTE", "tip|wide"
    fold: str  # "" (always open), "-" (collapsed) or "+" (expanded)
    title: str  # "" when the type's name is the title
    depth: int  # 1 for a callout, 2 for a callout in a callout's body, ...
    has_body: bool  # a line follows the callout's first line inside it

    @property
    def written(self) -> str:
        return f"[!{self.type}]{self.fold}"


@dataclass(frozen=True)
class _Renderers:
    """What the configuration renders callouts with."""

    quotes: bool  # pymdownx.quotes with callouts: true
    quotes_without_callouts: bool  # pymdownx.quotes listed, callouts off
    obsidian: bool
    github: bool
    mkdocs_plugin: bool


def callout_problems(path: str, markdown: str, extensions: Any) -> list[Problem]:
    """A warning at each callout of the page that the configured extensions show as raw text."""
    if "[!" not in markdown:
        return []
    renderers = _renderers(extensions)
    if renderers is None or renderers.mkdocs_plugin or renderers.obsidian:
        return []  # unknown, or an extension that reads every callout
    problems: list[Problem] = []
    for callout in find_callouts(markdown):
        reason = _unrendered(callout, renderers)
        if reason is not None:
            message = f"callout {callout.written} is shown as raw text: {reason}"
            problems.append(warning(path, callout.line, message, rule=UNRENDERED_CALLOUT))
    return problems


def find_callouts(markdown: str) -> list[Callout]:
    """Every callout of a page, in file order."""
    lines = markdown.split("\n")
    start = _body_start(markdown)
    found: list[Callout] = []
    fence: tuple[str, int] | None = None  # the open fence's marker, and the quote depth it is in
    in_comment = False
    previous_depth = 0
    for index in range(start, len(lines)):
        line = lines[index].rstrip("\r")
        quoted = _QUOTE.fullmatch(line)
        depth = quoted["marks"].count(">") if quoted else 0
        content = quoted["rest"] if quoted else line
        if fence is not None:
            marker, fence_depth = fence
            if depth < fence_depth:
                fence = None  # the quote holding the fence ended, and the fence with it
            else:
                inner = _strip_quotes(line, fence_depth)
                closing = inner.strip()
                if closing.startswith(marker) and not closing.strip(marker[0]):
                    fence = None
                previous_depth = depth
                continue
        if in_comment:
            in_comment = "-->" not in line
            previous_depth = depth
            continue
        opening = FENCE_LINE.match(content) if ("`" in content or "~" in content) else None
        if opening is not None and not (opening["fence"][0] == "`" and "`" in opening["info"]):
            fence = (opening["fence"], depth)
            previous_depth = depth
            continue
        comment = content.find("<!--")
        if comment != -1 and "-->" not in content[comment + 4 :]:
            in_comment = True
        elif quoted is not None and depth > previous_depth:
            callout = _CALLOUT.fullmatch(content)
            if callout is not None and not _in_code_block(lines, index, quoted["indent"]):
                found.append(
                    Callout(
                        line=index + 1,
                        type=callout["type"],
                        fold=callout["fold"],
                        title=callout["title"].strip(),
                        depth=depth,
                        has_body=_has_body(lines, index, depth),
                    )
                )
        previous_depth = depth
    return found


def _unrendered(callout: Callout, renderers: _Renderers) -> str | None:
    """Why the configured extensions leave this callout as text; None when one renders it."""
    kind = callout.type
    if renderers.quotes:
        if _QUOTES_TYPE.fullmatch(kind):
            return None
        return (
            f"{QUOTES} reads a callout type made of letters, digits, '-' and '_' only "
            f"(several joined by '|'), not {kind!r}"
        )
    if renderers.github and _github_renders(callout):
        return None
    if renderers.quotes_without_callouts:
        return f"{QUOTES} is in markdown_extensions without `callouts: true`: set that option"
    if renderers.github:
        return (
            "github-callouts reads only [!NOTE], [!TIP], [!IMPORTANT], [!WARNING] and [!CAUTION], "
            f"with no title, no -/+ and not nested: use {RECOMMENDED} in markdown_extensions instead"
        )
    return f"add {RECOMMENDED} to markdown_extensions"


def _github_renders(callout: Callout) -> bool:
    return (
        callout.type.lower() in _GITHUB_TYPES
        and not callout.fold
        and not callout.title
        and callout.depth == 1
        and callout.has_body
    )


def _renderers(extensions: Any) -> _Renderers | None:
    options_known = True
    plugins: Any = ()
    if extensions is None:
        return None
    if isinstance(extensions, Mapping) and not _CONFIG_KEYS.isdisjoint(extensions):
        configured = _entries(extensions.get("markdown_extensions"))
        for name, options in _entries(extensions.get("mdx_configs")).items():
            configured.setdefault(_name(name), {}).update(options)
        plugins = extensions.get("plugins") or ()
    elif isinstance(extensions, Mapping | Sequence) and not isinstance(extensions, str):
        configured = _entries(extensions)
    elif hasattr(extensions, "markdown_extensions"):
        configured = _entries(getattr(extensions, "markdown_extensions", None))
        mdx_configs = getattr(extensions, "mdx_configs", None)
        options_known = mdx_configs is not None
        for name, options in _entries(mdx_configs).items():
            configured.setdefault(_name(name), {}).update(options)
        plugins = getattr(extensions, "plugins", None) or ()
    else:
        return None
    quotes = QUOTES in configured
    callouts_on = quotes and (not options_known or _true(configured[QUOTES].get("callouts")))
    return _Renderers(
        quotes=callouts_on,
        quotes_without_callouts=quotes and not callouts_on,
        obsidian=any(name in _OBSIDIAN for name in configured),
        github=any(name in _GITHUB for name in configured),
        mkdocs_plugin=_MKDOCS_PLUGIN in _entries(plugins),
    )


def _entries(value: Any) -> dict[str, dict[str, Any]]:
    """name -> options of a `markdown_extensions` (or `plugins`) value as mkdocs.yml writes it."""
    found: dict[str, dict[str, Any]] = {}
    if isinstance(value, Mapping):
        items: list[Any] = [{key: options} for key, options in value.items()]
    elif isinstance(value, Sequence) and not isinstance(value, str):
        items = list(value)
    else:
        return found
    for item in items:
        if isinstance(item, str):
            found.setdefault(_name(item), {})
        elif isinstance(item, Mapping):
            for key, options in item.items():
                merged = found.setdefault(_name(str(key)), {})
                if isinstance(options, Mapping):
                    merged.update(options)
    return found


def _name(name: str) -> str:
    """`pymdownx.quotes:QuotesExtension` and ` pymdownx.quotes ` are `pymdownx.quotes`."""
    return name.strip().partition(":")[0]


def _true(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "yes", "on", "1")
    return bool(value)


def _body_start(markdown: str) -> int:
    """Index of the first line after the frontmatter (0 when there is none, or it never closes:
    then the site shows the whole file)."""
    try:
        parts = split(markdown)
    except FrontmatterError:
        return 0
    return 0 if parts is None else parts[1] - 1


def _strip_quotes(line: str, depth: int) -> str:
    """The line without its first `depth` quote markers."""
    rest = line
    for _ in range(depth):
        marker = rest.lstrip(" \t")
        if not marker.startswith(">"):
            break
        rest = marker[1:]
        if rest.startswith((" ", "\t")):
            rest = rest[1:]
    return rest


def _has_body(lines: list[str], index: int, depth: int) -> bool:
    """Text follows the callout's first line inside it (after empty `>` lines, if any), quoted
    as deep or as a lazy continuation line."""
    for line in lines[index + 1 :]:
        line = line.rstrip("\r")
        if not line.strip():
            return False
        quoted = _QUOTE.fullmatch(line)
        if quoted is None:
            return True  # a lazy continuation of the quote's paragraph
        if quoted["marks"].count(">") < depth:
            return False
        if quoted["rest"].strip():
            return True
    return False


def _in_code_block(lines: list[str], index: int, indent: str) -> bool:
    """An indented code block holds a quote line indented by four or more columns, unless the
    line is the content of a list item (the nearest less indented line above is one)."""
    width = len(indent.expandtabs(4))
    if width < 4:
        return False
    for above in range(index - 1, -1, -1):
        line = lines[above].rstrip("\r")
        if not line.strip():
            continue
        if len(line.expandtabs(4)) - len(line.expandtabs(4).lstrip(" ")) < width:
            return _LIST_ITEM.match(line) is None
    return True
