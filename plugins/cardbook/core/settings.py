"""cardbook's settings, read from the `cardbook` plugin entry of mkdocs.yml.

The CLI reads mkdocs.yml itself (without importing MkDocs) so that the site and the CLI
never disagree; the MkDocs plugin hands its validated config to `Settings.from_mapping`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import yaml

from .configfile import find_config_file
from .options import (
    DEFAULT_COMMENT_STYLES,
    comment_styles_option,
    frontmatter_option,
    links_option,
    relative_dirs_option,
    rules_option,
    shown,
    statuses_option,
    stylesheet_option,
)
from .problems import ConfigError, error
from .record import FrozenRecord
from .yamlsafe import MAX_DEPTH, SafeLoader, nesting_too_deep

TYPE_CHECKING = False  # typing is not imported at run time: it costs start-up
if TYPE_CHECKING:
    from typing import Any

PLUGIN_NAME = "cardbook"
MAX_CONFIG_BYTES = 1024 * 1024  # mkdocs.yml: read whole, so refused above this size
DEFAULT_STATUSES: dict[str, bool] = {"active": True, "done": False}

KNOWN_KEYS = (
    "enabled",
    "card_roots",
    "output_roots",
    "statuses",
    "annotate",
    "comment_styles",
    "aggregator",
    "graphs",
    "nix_sandbox",
    "nix_sandbox_paths",
    "links",
    "cards",
    "frontmatter",
    "rules",
    "stylesheet",
)
# Host paths visible inside the Nix sandbox: enough for /bin/sh builders and a host Python.
DEFAULT_SANDBOX_PATHS = ("/bin", "/lib", "/lib64", "/usr", "/etc/ssl")


class Settings(FrozenRecord):
    """Everything the core needs to know about a runbook; paths are relative to `root`."""

    __slots__ = (
        "root", "config_file", "docs_dir", "card_roots", "output_roots", "statuses", "annotate",
        "comment_styles", "aggregator", "graphs", "nix_sandbox", "nix_sandbox_paths", "link_ignore",
        "rules", "cards", "frontmatter_required", "card_only_keys", "site_dir", "markdown_extensions",
        "markdown_config", "nav_pages", "lines", "plugin_line", "stylesheet",
    )  # fmt: skip

    def __init__(
        self,
        root: Path,
        config_file: Path | None = None,
        docs_dir: str = "docs",
        card_roots: tuple[str, ...] = ("docs/how-to",),
        output_roots: tuple[str, ...] = ("nix",),
        statuses: Mapping[str, bool] | None = None,  # None: DEFAULT_STATUSES
        annotate: bool = True,
        comment_styles: Mapping[str, tuple[str, str]] | None = None,  # None: DEFAULT_COMMENT_STYLES
        # The generated Nix file exposing one attribute per buildable card ("" turns it off).
        aggregator: str = "nix/default.nix",
        graphs: bool = True,
        nix_sandbox: bool = True,
        nix_sandbox_paths: tuple[str, ...] = DEFAULT_SANDBOX_PATHS,
        # Wiki-link targets that exist outside the site (`links: {ignore: [CHANGELOG]}`).
        link_ignore: tuple[str, ...] = (),
        # `rules: {lone-card: off, index-links: warning}`: each rule's severity where the runbook
        # changes it (core/rules.py has every rule and its default).
        rules: Mapping[str, str] | None = None,
        # Which pages under the card roots are cards: "all" (every page) or "marked" (those with
        # status, requires or build, and those a card requires; evergreen how-tos stay pages).
        cards: str = "marked",
        # `frontmatter: {required: {"*": [title], how-to: [tags]}, card_only: [status, requires]}`
        frontmatter_required: Mapping[str, tuple[str, ...]] | None = None,
        card_only_keys: tuple[str, ...] = ("status", "requires", "build"),
        stylesheet: str = "",  # the status colours as a file cardbook writes ("": none), project-relative
        # From the rest of mkdocs.yml, for the layout checks (layout.py); None: no mkdocs.yml read.
        site_dir: str = "site",
        markdown_extensions: tuple[str, ...] | None = None,
        # mkdocs.yml's `markdown_extensions` and `plugins` as written (with their options), for
        # the callout check (core/callouts.py); None: no mkdocs.yml read.
        markdown_config: Mapping[str, Any] | None = None,
        # The pages mkdocs.yml's `nav` lists (docs-relative); None: no `nav`, MkDocs lists every page.
        nav_pages: tuple[str, ...] | None = None,
        # Line in the config file of each option's key (and of `markdown_extensions`, `site_dir`).
        lines: Mapping[str, int] | None = None,
        plugin_line: int = 1,
    ) -> None:
        self._set(
            root=root,
            config_file=config_file,
            docs_dir=docs_dir,
            card_roots=card_roots,
            output_roots=output_roots,
            statuses=dict(DEFAULT_STATUSES) if statuses is None else statuses,
            annotate=annotate,
            comment_styles=dict(DEFAULT_COMMENT_STYLES) if comment_styles is None else comment_styles,
            aggregator=aggregator,
            graphs=graphs,
            nix_sandbox=nix_sandbox,
            nix_sandbox_paths=nix_sandbox_paths,
            link_ignore=link_ignore,
            rules={} if rules is None else rules,
            cards=cards,
            frontmatter_required={} if frontmatter_required is None else frontmatter_required,
            card_only_keys=card_only_keys,
            stylesheet=stylesheet,
            site_dir=site_dir,
            markdown_extensions=markdown_extensions,
            markdown_config=markdown_config,
            nav_pages=nav_pages,
            lines={} if lines is None else lines,
            plugin_line=plugin_line,
        )

    __hash__ = None  # type: ignore[assignment]  # its mappings are not hashable

    def line_of(self, key: str) -> int:
        return self.lines.get(key, self.plugin_line)

    @property
    def docs_prefix(self) -> str:
        """docs_dir as the start of a project-relative path ("" when the docs are the root)."""
        return "" if self.docs_dir in ("", ".") else self.docs_dir.rstrip("/") + "/"

    @property
    def config_name(self) -> str:
        if self.config_file is None:
            return "mkdocs.yml"
        return _relative_name(self.config_file, self.root)

    def is_open(self, status: str | None) -> bool:
        return status is not None and self.statuses.get(status, False)

    def severity(self, rule_id: str) -> str:
        from .rules import RULES

        return self.rules.get(rule_id, RULES[rule_id].severity)

    @classmethod
    def from_mapping(
        cls,
        values: Mapping[str, Any],
        *,
        root: Path,
        config_file: Path | None = None,
        docs_dir: str = "docs",
        line: int = 1,
        lines: Mapping[str, int] | None = None,
        **rest: Any,
    ) -> Settings:
        """Validate the plugin's options; a wrong one raises ConfigError at its key's line.

        This is cardbook's only option schema: the command line and the MkDocs plugin both get
        their settings here (the plugin through load_settings, like the command).

        `line` is the plugin entry's line, `lines` the line of each option key; `rest` passes
        the facts read from the rest of mkdocs.yml (site_dir, markdown_extensions)."""
        where = _relative_name(config_file, root) if config_file else "mkdocs.yml"
        lines = dict(lines or {})

        def failing(key: str | None) -> Any:
            at = lines.get(key, line) if key else line
            return lambda message: ConfigError(
                error(where, at, f"plugin {PLUGIN_NAME}: {message}", rule="config")
            )

        # An option written with no value (`statuses:`) means its default, for every option.
        values = {key: value for key, value in values.items() if value is not None}
        unknown = sorted(set(values) - set(KNOWN_KEYS))
        if unknown:
            raise failing(unknown[0])(f"unknown option {', '.join(unknown)} (known: {', '.join(KNOWN_KEYS)})")
        kwargs: dict[str, Any] = {
            "root": root,
            "config_file": config_file,
            "docs_dir": docs_dir,
            "lines": lines,
            "plugin_line": line,
            **rest,
        }
        for key in ("card_roots", "output_roots"):
            if key in values:
                kwargs[key] = relative_dirs_option(values[key], key, failing(key))
        if "statuses" in values:
            kwargs["statuses"] = statuses_option(values["statuses"], failing("statuses"))
        if "nix_sandbox_paths" in values:
            paths = values["nix_sandbox_paths"]
            if not isinstance(paths, list) or not all(
                isinstance(p, str) and p.startswith("/") for p in paths
            ):
                raise failing("nix_sandbox_paths")("nix_sandbox_paths must be a list of absolute host paths")
            kwargs["nix_sandbox_paths"] = tuple(paths)
        for key in ("annotate", "graphs", "nix_sandbox"):
            if key in values:
                if not isinstance(values[key], bool):
                    raise failing(key)(f"{key} must be true or false")
                kwargs[key] = values[key]
        if "cards" in values:
            if values["cards"] not in ("marked", "all"):
                raise failing("cards")(f"cards must be marked or all, not {shown(values['cards'])}")
            kwargs["cards"] = values["cards"]
        if "frontmatter" in values:
            required, card_only = frontmatter_option(values["frontmatter"], failing("frontmatter"))
            kwargs["frontmatter_required"], kwargs["card_only_keys"] = required, card_only
        if "stylesheet" in values:
            kwargs["stylesheet"] = stylesheet_option(values["stylesheet"], docs_dir, failing("stylesheet"))
        if "links" in values:
            kwargs["link_ignore"] = links_option(values["links"], failing("links"))
        if "rules" in values:
            kwargs["rules"] = rules_option(values["rules"], failing("rules"))
        if "comment_styles" in values:
            styles = values["comment_styles"]
            kwargs["comment_styles"] = comment_styles_option(styles, failing("comment_styles"))
        if "aggregator" in values:
            aggregator = values["aggregator"]
            if aggregator == "":  # turned off
                kwargs["aggregator"] = ""
            else:
                fail = failing("aggregator")
                kwargs["aggregator"] = relative_dirs_option([aggregator], "aggregator", fail)[0]
        return cls(**kwargs)


def _relative_name(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


class _TolerantLoader(SafeLoader):  # type: ignore[misc,valid-type]
    """Reads mkdocs.yml without constructing Python objects: unknown tags become plain data."""


def _plain(loader: Any, _suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_scalar(node)


_TolerantLoader.add_multi_constructor("", _plain)


def load_settings(config_file: Path | None = None, *, cwd: Path | None = None) -> Settings:
    """Settings from mkdocs.yml (the given one, or ./mkdocs.yml), or the defaults."""
    cwd = (cwd or Path.cwd()).resolve()
    if config_file is None:
        config_file = find_config_file(cwd)
        if config_file is None:
            return Settings(root=cwd)
    config_file = config_file.resolve()
    root = config_file.parent
    name = _relative_name(config_file, cwd) if config_file.is_relative_to(cwd) else str(config_file)
    try:
        size = config_file.stat().st_size
        if size > MAX_CONFIG_BYTES:
            message = f"the config file is {size:,} bytes; cardbook reads at most {MAX_CONFIG_BYTES:,}"
            raise ConfigError(error(name, 1, message, rule="config"))
        text = config_file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            error(name, 1, f"cannot read the config file: {exc.strerror}", rule="config")
        ) from None
    except UnicodeDecodeError:
        raise ConfigError(error(name, 1, "the config file is not UTF-8", rule="config")) from None
    try:
        deep = nesting_too_deep(text)  # libyaml would overflow the C stack composing it
        if deep is not None:
            raise ConfigError(
                error(name, deep + 1, f"invalid YAML: nested deeper than {MAX_DEPTH} levels", rule="config")
            )
        node = yaml.compose(text, Loader=_TolerantLoader)
        data = yaml.load(text, Loader=_TolerantLoader) if node is not None else None
    except yaml.reader.ReaderError as exc:  # a control character; its str() spans two lines
        line = text.count("\n", 0, exc.position) + 1
        raise ConfigError(
            error(name, line, f"invalid YAML: {exc.reason} (#x{exc.character:04x})", rule="config")
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        raise ConfigError(
            error(name, line, f"invalid YAML: {getattr(exc, 'problem', exc)}", rule="config")
        ) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(error(name, 1, "the config file must be a mapping", rule="config"))
    top_lines = _key_lines(node)
    _refuse_duplicate_keys(name, node)
    docs_dir = data.get("docs_dir", "docs")
    if not isinstance(docs_dir, str):
        raise ConfigError(error(name, top_lines.get("docs_dir", 1), "docs_dir must be a path", rule="config"))
    site_dir = data.get("site_dir", "site")
    if not isinstance(site_dir, str):
        raise ConfigError(error(name, top_lines.get("site_dir", 1), "site_dir must be a path", rule="config"))
    options, line, option_node = _plugin_options(data, node)
    if options is None:
        options = {}
    elif not isinstance(options, dict):
        raise ConfigError(
            error(name, line, f"plugin {PLUGIN_NAME}: options must be a mapping", rule="config")
        )
    options = {key: value for key, value in options.items() if key != "enabled"}
    lines = _key_lines(option_node)
    _refuse_duplicate_keys(name, option_node)
    for key in ("markdown_extensions", "site_dir", "docs_dir"):
        if key in top_lines:
            lines[key] = top_lines[key]
    return Settings.from_mapping(
        options,
        root=root,
        config_file=config_file,
        docs_dir=Path(os.path.normpath(docs_dir)).as_posix(),
        line=line,
        lines=lines,
        site_dir=Path(os.path.normpath(site_dir)).as_posix(),
        markdown_extensions=extension_names(data.get("markdown_extensions")),
        nav_pages=nav_pages(data["nav"]) if "nav" in data else None,
        markdown_config={key: data.get(key) for key in ("markdown_extensions", "plugins", "extra_css")},
    )


def nav_pages(value: Any) -> tuple[str, ...]:
    """The Markdown pages a `nav` lists, wherever they nest; links to other sites are skipped."""
    found: list[str] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if item.endswith(".md") and "://" not in item:
                found.append(os.path.normpath(item).replace(os.sep, "/"))
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return tuple(sorted(found))


def extension_names(value: Any) -> tuple[str, ...]:
    """The names in mkdocs.yml's `markdown_extensions` (a list of names or one-key mappings)."""
    names: list[str] = []
    entries = value if isinstance(value, list) else list(value) if isinstance(value, dict) else []
    for entry in entries:
        if isinstance(entry, str):
            names.append(entry)
        elif isinstance(entry, dict):
            names.extend(str(key) for key in entry)
    return tuple(names)


def _refuse_duplicate_keys(name: str, node: Any) -> None:
    """YAML keeps the last of two equal keys without a word; MkDocs does too. In mkdocs.yml
    that hides a setting someone wrote: say so."""
    if not isinstance(node, yaml.MappingNode):
        return
    first: dict[str, int] = {}
    for key, _ in node.value:
        if not isinstance(key, yaml.ScalarNode):
            continue
        line = key.start_mark.line + 1
        if key.value in first:
            raise ConfigError(
                error(
                    name,
                    line,
                    f"duplicate key {shown(key.value)} (first at line {first[key.value]}): YAML keeps "
                    "only the last one; remove one of them", rule="config",
                )
            )
        first[key.value] = line


def _key_lines(node: Any) -> dict[str, int]:
    """1-based line of each key of a YAML mapping node."""
    if not isinstance(node, yaml.MappingNode):
        return {}
    return {
        str(key.value): key.start_mark.line + 1
        for key, _ in node.value
        if isinstance(key, yaml.ScalarNode)
    }


def _plugin_options(data: dict[str, Any], node: yaml.Node | None) -> tuple[Any, int, Any]:
    """The cardbook entry of `plugins:` (list or mapping form), its line number, and the YAML
    node of its options (for the line of each option)."""
    plugins = data.get("plugins") or []
    line = 1
    options_node = None
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if key_node.value == "plugins":
                line = value_node.start_mark.line + 1
                for item in getattr(value_node, "value", []):
                    target = item[0] if isinstance(item, tuple) else item
                    if PLUGIN_NAME in _node_text(target):
                        line = target.start_mark.line + 1
                        options_node = _options_node(item)
    if isinstance(plugins, dict):
        return plugins.get(PLUGIN_NAME), line, options_node
    if isinstance(plugins, list):
        for entry in plugins:
            if entry == PLUGIN_NAME:
                return {}, line, options_node
            if isinstance(entry, dict) and PLUGIN_NAME in entry:
                return entry[PLUGIN_NAME], line, options_node
    return None, line, options_node


def _options_node(item: Any) -> Any:
    """The options' mapping node of a `plugins:` entry: `- cardbook: {...}` or `cardbook: {...}`."""
    if isinstance(item, tuple):  # mapping form of `plugins:`
        return item[1]
    if isinstance(item, yaml.MappingNode):
        for key_node, value_node in item.value:
            if key_node.value == PLUGIN_NAME:
                return value_node
    return None


def _node_text(node: Any) -> str:
    if isinstance(node, yaml.ScalarNode):
        return str(node.value)
    if isinstance(node, yaml.MappingNode):
        return " ".join(str(key.value) for key, _ in node.value)
    return ""
