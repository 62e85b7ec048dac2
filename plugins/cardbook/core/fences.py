"""Fenced code blocks of a card and their attributes.

Recognised forms (both render under pymdownx.superfences):

    ```nix {file=nix/a.nix}        ``` {.nix file=nix/a.nix}
    ```nix {#chunk-id}             ``` {.nix #chunk-id}
    ```sh {.check}                 ``` {.sh .check}

Fences inside HTML comments are commented out and ignored; fences inside a longer fence
are its content.
"""

from __future__ import annotations

import re

from .problems import Problem, error, warning

# An opening (or closing) fence line; the site finds fences in a page with the same pattern.
FENCE_LINE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_ATTRIBUTE = re.compile(
    r"""\s*(?:
        \.(?P<cls>[^\s{}.#=]+)
      | \#(?P<id>[^\s{}]+)
      | (?P<key>[A-Za-z_][\w-]*)=(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|(?P<bare>[^\s{}]+))
    )""",
    re.VERBOSE,
)
_BRACELESS_FILE = re.compile(r"(?:^|\s)file=")
# Characters Python's splitlines (and so Entangled) breaks lines at, besides \n; a CRLF line
# ending is stripped before this applies.
LINE_BREAKERS = re.compile("[\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]")


class Fence:
    """One fenced block of a card. A plain slotted class, not a dataclass: a runbook has
    thousands, and a frozen dataclass builds each through one object.__setattr__ per field."""

    __slots__ = ("attributes", "body", "classes", "file", "id", "indent", "info", "lang", "line", "tangles")

    def __init__(
        self,
        line: int,  # 1-based line of the opening fence in the card file
        indent: str,
        info: str,
        lang: str | None,
        id: str | None,  # the fence's #id
        file: str | None,
        classes: tuple[str, ...],
        attributes: dict[str, str],
        body: tuple[str, ...] = (),
    ) -> None:
        self.line = line
        self.indent = indent
        self.info = info
        self.lang = lang
        self.id = id
        self.file = file
        self.classes = classes
        self.attributes = attributes
        self.body = body
        self.tangles = file is not None or id is not None

    def __repr__(self) -> str:
        return f"Fence(line={self.line}, info={self.info!r}, body={len(self.body)} lines)"

    @property
    def body_line(self) -> int:
        """File line of the first body line."""
        return self.line + 1

    @property
    def is_check(self) -> bool:
        return "check" in self.classes


def parse_info(
    info: str,
) -> tuple[str | None, str | None, str | None, tuple[str, ...], dict[str, str]] | None:
    """(lang, id, file, classes, attributes) of an info string; None if the braces are malformed."""
    info = info.strip()
    lang: str | None = None
    brace = info.find("{")
    if brace == -1:
        word = info.split(maxsplit=1)[0] if info else ""
        return (word or None), None, None, (), {}
    before = info[:brace].strip()
    if before:
        lang = before.split()[0]
    if not info.endswith("}"):
        return None
    inner = info[brace + 1 : -1]
    classes: list[str] = []
    chunk_id: str | None = None
    attributes: dict[str, str] = {}
    position = 0
    while position < len(inner):
        if not inner[position:].strip():
            break
        match = _ATTRIBUTE.match(inner, position)
        if match is None:
            return None
        position = match.end()
        if match["cls"]:
            classes.append(match["cls"])
        elif match["id"]:
            chunk_id = match["id"]
        else:
            value = match["dq"] if match["dq"] is not None else match["sq"]
            attributes[match["key"]] = value if value is not None else match["bare"]
    if lang is None and classes:
        lang = classes.pop(0)
    return lang, chunk_id, attributes.get("file"), tuple(classes), attributes


_QUOTED_FENCE = re.compile(r"^[ \t]*>[ \t>]*(?:`{3,}|~{3,})[^\n{]*\{[^}\n]*(?:file=|#)", re.MULTILINE)
# What every match holds from its `>` on. It starts with a literal character, so the engine
# skips to each `>` at C speed instead of trying the anchored pattern at every line start.
_QUOTED_HINT = re.compile(r">[ \t>]*(?:```|~~~)")


def quoted_tangle_fences(text: str, first_line: int) -> list[int]:
    """File lines of fences with `file=` or `#id` inside a quote (`> ```nix {file=...}`):
    they render as code but are not tangled, which a reader cannot tell from the page."""
    if ">" not in text or _QUOTED_HINT.search(text) is None:
        return []
    return [first_line + text.count("\n", 0, match.start()) for match in _QUOTED_FENCE.finditer(text)]


def repeated_attribute(info: str) -> str | None:
    """`#id` or `key=` when the fence's braces hold it twice (Entangled keeps the first)."""
    brace = info.find("{")
    if brace == -1:
        return None
    seen: set[str] = set()
    for match in _ATTRIBUTE.finditer(info[brace + 1 : info.rfind("}")]):
        name = "#id" if match["id"] else f"{match['key']}=" if match["key"] else None
        if name is None:
            continue
        if name in seen:
            return name
        seen.add(name)
    return None


def parse_fences(text: str, first_line: int, rel: str, problems: list[Problem]) -> list[Fence]:
    """Every fenced block of `text` (a card body starting at file line `first_line`)."""
    fences: list[Fence] = []
    if "`" not in text and "~" not in text:  # no line can open a fence
        return fences
    lines = text.split("\n")
    count = len(lines)
    # Most lines are prose, and a prose line changes nothing: only a line with a backtick, a
    # tilde, or a comment's opener or closer can, and a closing fence is such a line too.
    # Visit those only (tests/test_fences.py checks this against the line-by-line scan).
    # Each line is tested only for the markers the text holds at all: most cards have no
    # comment and no tilde, and four substring tests a line cost more than the fences
    # themselves on prose-heavy cards. `<` and `>` are looked for first: a search for one
    # character is a memchr, one for `<!--` is several times slower.
    openers = "<" in text and "<!--" in text
    if openers or (">" in text and "-->" in text):
        notable = [
            i for i, raw in enumerate(lines) if "`" in raw or "~" in raw or "<!--" in raw or "-->" in raw
        ]
    elif "~" in text:
        notable = [i for i, raw in enumerate(lines) if "`" in raw or "~" in raw]
    else:
        notable = [i for i, raw in enumerate(lines) if "`" in raw]
    has_cr = "\r" in text
    in_comment = False
    position = 0
    seen = len(notable)
    while position < seen:
        index = notable[position]
        position += 1
        raw = lines[index]
        line = raw[:-1] if has_cr and raw.endswith("\r") else raw
        if in_comment:
            if "-->" in line:
                in_comment = False
            continue
        # (a fence line holds three of its characters in a row: most lines, with a code span,
        # are ruled out without the regex)
        match = FENCE_LINE.match(line) if ("```" in line or "~~~" in line) else None
        if match is None:
            start = line.find("<!--") if openers else -1
            if start != -1 and "-->" not in line[start + 4 :]:
                in_comment = True
            continue
        fence, indent = match["fence"], match["indent"]
        if fence[0] == "`" and "`" in match["info"]:
            continue  # not a fence: an inline code span at the start of a line
        closed = False
        end = count
        while position < seen:
            candidate = lines[notable[position]]
            position += 1
            if has_cr and candidate.endswith("\r"):
                candidate = candidate[:-1]
            stripped = candidate.lstrip(" \t")
            if stripped.startswith(fence) and not stripped.strip(fence[0]).strip():
                closed = True
                end = notable[position - 1]
                break
        body = lines[index + 1 : end]  # every line between the fences, prose or not
        if has_cr:
            body = [raw[:-1] if raw.endswith("\r") else raw for raw in body]
        if indent:
            body = [_dedent(raw, indent) for raw in body]
        result = read_fence(match, first_line + index, body, closed, rel, problems)
        if result is not None:
            fences.append(result)
    return fences


def read_fence(
    match: re.Match[str], opening: int, body: list[str], closed: bool, rel: str, problems: list[Problem]
) -> Fence | None:
    """The fence that FENCE_LINE `match` opens at file line `opening`, with its body lines
    (without CRs, dedented); None when its problems keep it out."""
    indent, info = match["indent"], match["info"]
    parsed = parse_info(info)
    if parsed is None:
        problems.append(
            error(
                rel,
                opening,
                f"cannot read the fence attributes {info.strip()!r}",
                rule="fence-attributes",
            )
        )
        return None
    lang, chunk_id, target, classes, attributes = parsed
    if "{" not in info and _BRACELESS_FILE.search(info):
        problems.append(
            warning(
                rel,
                opening,
                "file= outside braces is not tangled and breaks rendering: write "
                f"```{lang or 'nix'} {{file=...}}", rule="braceless-file",
            )
        )
    result = Fence(opening, indent, info.strip(), lang, chunk_id, target, classes, attributes, tuple(body))
    if result.tangles:
        # Most fences carry one attribute of each kind: look closer only when one could repeat.
        repeated = repeated_attribute(info) if info.count("#") + info.count("=") > 1 else None
        if repeated is not None:
            message = f"the fence has {repeated} twice: keep one (tools disagree on which wins)"
            problems.append(error(rel, opening, message, rule="fence-attributes"))
            return None
        lines_with_breakers = enumerate(body) if LINE_BREAKERS.search("".join(body)) else ()
        for offset, line in lines_with_breakers:
            breaker = LINE_BREAKERS.search(line)
            if breaker is not None:
                problems.append(
                    error(
                        rel,
                        opening + 1 + offset,
                        f"this line holds the character {breaker.group()!r}, which other tools "
                        "(Entangled, Python's splitlines) read as a line break: remove it",
                        rule="fence-attributes",
                    )
                )
    if not closed:
        if result.tangles or result.is_check:
            problems.append(error(rel, opening, "code fence is never closed", rule="unclosed-fence"))
            return None
        problems.append(warning(rel, opening, "code fence is never closed", rule="unclosed-code"))
    return result


def _dedent(line: str, indent: str) -> str:
    """Remove the opening fence's indentation (a fence inside a list item); a line with less
    indentation, even a whitespace-only one, stays as it is (as in Entangled)."""
    if indent and line.startswith(indent):
        return line[len(indent) :]
    return line
