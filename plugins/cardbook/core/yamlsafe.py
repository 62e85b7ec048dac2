"""The one YAML loader cardbook reads with (frontmatter and mkdocs.yml), and the nesting guard.

PyYAML's C loader is several times faster than the pure-Python one; the fallback is for a
PyYAML built without libyaml. libyaml's composer recurses in C: nesting tens of thousands deep
overflows the stack (a segfault, not an exception), so deeper YAML is refused before composing.
"""

from __future__ import annotations

import yaml

try:
    SafeLoader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    SafeLoader = yaml.SafeLoader

MAX_DEPTH = 1000


def nesting_too_deep(yaml_text: str) -> int | None:
    """The 0-based line where the YAML nests deeper than MAX_DEPTH, or None.

    Walks the parser's events (iterative, unlike the composer); YAML errors propagate.
    """
    if len(yaml_text) <= MAX_DEPTH:  # shorter text cannot nest deeper than MAX_DEPTH
        return None
    loader = SafeLoader(yaml_text)
    try:
        depth = 0
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    return event.start_mark.line
            elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                depth -= 1
        return None
    finally:
        loader.dispose()
