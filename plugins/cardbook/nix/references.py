"""Path references between generated Nix files, and the graph-truth rule over them: a card
whose Nix uses another card's file must require that card. Pure: reads the tangled text."""

from __future__ import annotations

import os
import re
from pathlib import PurePosixPath

from cardbook.core.graph import Graph
from cardbook.core.problems import Problem, error
from cardbook.core.tangle import OutputFile, TangleResult

_PATH_LITERAL = re.compile(r"(?<![\w./~-])(\.\.?(?:/[\w.+-]+)+)")


def referenced_files(output: OutputFile, generated: set[str]) -> list[tuple[int, str]]:
    """(line, path) for each relative path literal in a Nix file that names a generated file."""
    found: list[tuple[int, str]] = []
    if "./" not in output.text:  # every path literal holds `./` (`./x`, `../x`)
        return found
    base = PurePosixPath(output.path).parent
    for number, line in enumerate(output.text.split("\n"), start=1):
        if "./" not in line:
            continue
        code = line.split("#", 1)[0]
        for match in _PATH_LITERAL.finditer(code):
            target = os.path.normpath((base / match.group(1)).as_posix())
            candidates = [target, f"{target}/default.nix"]
            for candidate in candidates:
                if candidate in generated and candidate != output.path:
                    found.append((number, candidate))
                    break
    return found


def graph_truth(result: TangleResult, graph: Graph, aggregator: str) -> list[Problem]:
    """A card whose Nix uses another card's file must require that card."""
    generated = set(result.files)
    problems = []
    for rel, output in sorted(result.files.items()):
        if not rel.endswith(".nix") or rel == aggregator:
            continue
        for number, target in referenced_files(output, generated):
            source = output.line_sources[number - 1] if number <= len(output.line_sources) else None
            if source is None:
                continue
            writers = []
            for segment in result.files[target].segments:
                if segment.stem not in writers:
                    writers.append(segment.stem)
            missing = [w for w in writers if not graph.ordered_before(source.card, w)]
            for writer in missing:
                problems.append(
                    error(
                        source.rel,
                        source.line,
                        f"uses {target} from {writer} but does not require it",
                        rule="undeclared-use",
                    )
                )
    return problems
