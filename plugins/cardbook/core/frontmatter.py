"""YAML frontmatter with line numbers.

MkDocs swallows malformed frontmatter; cardbook reads it itself so every problem can be
reported at `path:line`. Anchors and aliases are refused: card metadata never needs them
and they are how YAML bombs are built.
"""

from __future__ import annotations

import datetime as dt
import re

import yaml

from .record import Record
from .yamlsafe import MAX_DEPTH, SafeLoader, nesting_too_deep

TYPE_CHECKING = False  # typing is not imported at run time: it costs start-up
if TYPE_CHECKING:
    from typing import Any

# The tag of a plain scalar follows from its text alone (the safe loader's implicit resolvers;
# no path resolvers): keys and short values repeat from card to card, and each is resolved once
# here rather than by a run of regexes every time. Bounded, for long-lived processes.
_PLAIN_TAGS: dict[str, str] = {}
_PLAIN_TAGS_MAX = 4096


class _Loader(SafeLoader):  # type: ignore[misc,valid-type]
    """The safe loader, but a value it cannot build is a YAML error at that value's line."""

    def resolve(self, kind: type, value: Any, implicit: tuple[bool, bool]) -> Any:
        if kind is not yaml.ScalarNode or not implicit[0] or self.yaml_path_resolvers:
            return super().resolve(kind, value, implicit)
        tag = _PLAIN_TAGS.get(value)
        if tag is None:
            tag = super().resolve(kind, value, implicit)
            if len(value) <= 64 and len(_PLAIN_TAGS) < _PLAIN_TAGS_MAX:
                _PLAIN_TAGS[value] = tag
        return tag

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as exc:
            raise yaml.constructor.ConstructorError(
                None, None, f"cannot read {node.value!r} as {node.tag}: {exc}", node.start_mark
            ) from None


def _timestamp(loader: Any, node: yaml.Node) -> Any:
    """A date-shaped value that is no date (2026-02-30) stays a string for the schema to report."""
    try:
        return yaml.constructor.SafeConstructor.construct_yaml_timestamp(loader, node)
    except (ValueError, TypeError, AttributeError, OverflowError):
        return loader.construct_scalar(node)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)

_STR = "tag:yaml.org,2002:str"
_SEQ = "tag:yaml.org,2002:seq"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_DATE = re.compile(r"(\d{4})-(\d\d)-(\d\d)")


def _construct(loader: _Loader, root: yaml.MappingNode) -> Any:
    """The frontmatter's values: card keys hold strings, dates and lists of strings, which are
    built here directly, in a fraction of the time PyYAML's generic constructor takes; every
    other value (numbers, nested mappings, tags) is built by the loader, with its checks."""
    if any(key.tag != _STR for key, _ in root.value):  # `<<` merge keys, numbers, `null` as a key
        return loader.construct_document(root)
    values = {}
    for key, node in root.value:
        tag = node.tag
        if tag == _STR:
            values[key.value] = node.value
        elif tag == _SEQ and all(item.tag == _STR for item in node.value):
            values[key.value] = [item.value for item in node.value]
        elif tag == _TIMESTAMP and (date := _DATE.fullmatch(node.value)) is not None:
            try:
                values[key.value] = dt.date(int(date[1]), int(date[2]), int(date[3]))
            except ValueError:  # 2026-02-30: a string, for the schema to report (as _timestamp does)
                values[key.value] = node.value
        else:
            values[key.value] = loader.construct_document(node)
    return values


# The closing line with the newline before it: a pattern that starts with a literal is
# searched for with a fast scan to each newline, where `^` made the engine try every offset.
_CLOSING = re.compile(r"\n(?:---|\.\.\.)[ \t]*\r?$", re.MULTILINE)


class FrontmatterError(ValueError):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


class Frontmatter(Record):
    __slots__ = ("values", "key_lines", "item_lines", "body_line", "body_offset")

    def __init__(
        self,
        values: dict[str, Any],
        # 1-based file line of each top-level key, and of each item of a list value.
        key_lines: dict[str, int] | None = None,
        item_lines: dict[str, list[int]] | None = None,
        body_line: int = 1,  # first line after the closing delimiter
        body_offset: int = 0,  # character offset of that line in the text
    ) -> None:
        self.values = values
        self.key_lines = {} if key_lines is None else key_lines
        self.item_lines = {} if item_lines is None else item_lines
        self.body_line = body_line
        self.body_offset = body_offset

    def line_of(self, key: str, default: int = 1) -> int:
        return self.key_lines.get(key, default)


def split(text: str) -> tuple[str, int, int] | None:
    """Return (yaml_text, body_line, body_offset), or None if the text has no frontmatter.

    Raises FrontmatterError when the opening `---` is never closed.
    """
    if not (text.startswith("---\n") or text.startswith("---\r\n") or text.rstrip() == "---"):
        return None
    start = text.find("\n") + 1 if "\n" in text else len(text)
    match = _CLOSING.search(text, start - 1)  # from the newline that ends the opening line
    if match is None:
        raise FrontmatterError(1, "frontmatter opened with '---' is never closed")
    yaml_text = text[start : match.start() + 1]
    body_line = text.count("\n", 0, match.end()) + 2
    newline = text.find("\n", match.end())
    body_offset = len(text) if newline == -1 else newline + 1
    return yaml_text, body_line, body_offset


def parse(text: str) -> Frontmatter | None:
    """Parse the frontmatter of a Markdown text; None when it has none."""
    parts = split(text)
    if parts is None:
        return None
    yaml_text, body_line, body_offset = parts
    first_line = 2  # the YAML starts on the line after the opening `---`
    loader = _Loader(yaml_text)
    try:
        deep = nesting_too_deep(yaml_text)
        if deep is not None:
            raise FrontmatterError(first_line + deep, f"frontmatter nests deeper than {MAX_DEPTH} levels")
        node = loader.get_single_node()
        if node is None:
            return Frontmatter({}, body_line=body_line, body_offset=body_offset)
        if "&" in yaml_text or "*" in yaml_text:  # no anchor or alias without these characters
            _refuse_aliases(node, first_line)
        if not isinstance(node, yaml.MappingNode):
            kind = "a list" if isinstance(node, yaml.SequenceNode) else "a single value"
            raise FrontmatterError(
                first_line + node.start_mark.line,
                f"frontmatter must be a mapping of keys to values, found {kind}",
            )
        values = _construct(loader, node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = first_line + (mark.line if mark is not None else 0)
        problem = exc.problem or str(exc)
        if exc.context and "constructor" in problem:
            problem = f"{exc.context} {problem}"
        raise FrontmatterError(line, f"invalid YAML in frontmatter: {problem}") from None
    except yaml.reader.ReaderError as exc:  # a control character (NUL...): str(exc) spans two lines
        bad = yaml.reader.Reader.NON_PRINTABLE.search(yaml_text)
        if bad is None:
            raise FrontmatterError(first_line, f"invalid YAML in frontmatter: {exc.reason}") from None
        line = first_line + yaml_text.count("\n", 0, bad.start())
        message = f"unacceptable character #x{ord(bad.group()):04x}: {exc.reason}"
        raise FrontmatterError(line, f"invalid YAML in frontmatter: {message}") from None
    except yaml.YAMLError as exc:
        raise FrontmatterError(first_line, f"invalid YAML in frontmatter: {exc}") from None
    finally:
        loader.dispose()
    key_lines: dict[str, int] = {}
    item_lines: dict[str, list[int]] = {}
    for key_node, value_node in node.value:
        key = key_node.value
        if key in key_lines:  # YAML says last wins; a card with two `status:` lines is a mistake
            raise FrontmatterError(
                first_line + key_node.start_mark.line,
                f"duplicate key {key!r} (first at line {key_lines[key]})",
            )
        key_lines[key] = first_line + key_node.start_mark.line
        if isinstance(value_node, yaml.SequenceNode):
            item_lines[key] = [first_line + item.start_mark.line for item in value_node.value]
    return Frontmatter(
        values,
        key_lines=key_lines,
        item_lines=item_lines,
        body_line=body_line,
        body_offset=body_offset,
    )


def _refuse_aliases(root: yaml.Node, first_line: int) -> None:
    """An alias makes the composer reuse a node object: seeing one twice means an alias."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            raise FrontmatterError(
                first_line + node.start_mark.line,
                "YAML anchors and aliases are not allowed in card frontmatter",
            )
        seen.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                stack.append(key_node)
                stack.append(value_node)


def type_name(value: Any) -> str:
    """What a YAML value is, in the words a message about a wrong value uses."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "empty"
    if isinstance(value, str) and not value.strip():
        return "an empty string"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, dt.date):
        return "a date"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bytes):
        return "binary data (!!binary)"
    if isinstance(value, (set, frozenset)):
        return "a set (!!set)"
    if isinstance(value, tuple):
        return "a pair"
    return f"a value of YAML type {type(value).__name__}"


def as_date(value: Any) -> dt.date | None:
    """A frontmatter date (a YAML date, a datetime, or an ISO string), or None."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None
