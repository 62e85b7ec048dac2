"""The generated Nix aggregator (nix/default.nix): one attribute per card that declares
`build:`, so one nix-build builds them all and Nix does the scheduling. Pure functions."""

from __future__ import annotations

from pathlib import PurePosixPath

from cardbook.core.cards import Runbook
from cardbook.core.graph import Graph
from cardbook.core.markers import block_hash, body_marker, comment_style, header_lines
from cardbook.core.problems import Problem, error
from cardbook.core.settings import Settings
from cardbook.core.tangle import OutputFile, Source, check_target

# How a card's file is built: a plain value (a derivation) as it is; a function whose
# arguments all have defaults called with { }; one that needs arguments (nixpkgs' style,
# `{ lib, stdenv, ... }:`) through callPackage. The build tier asks the same question
# (NEEDS_CALL_PACKAGE) to know which cards need <nixpkgs>.
NEEDS_CALL_PACKAGE = (
    "value: builtins.isFunction value && builtins.any (name: !(builtins.functionArgs value).${name})"
    " (builtins.attrNames (builtins.functionArgs value))"
)


def nix_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("${", "\\${") + '"'


def build_aggregator(
    runbook: Runbook, graph: Graph, files: dict[str, OutputFile], problems: list[Problem]
) -> OutputFile | None:
    """nix/default.nix: one attribute per card that declares `build:`, so a single nix-build
    builds them all and Nix does the scheduling."""
    settings: Settings = runbook.settings
    builders = [card for stem in sorted(runbook.cards) if (card := runbook.cards[stem]).build]
    if not builders:
        return None
    path = settings.aggregator
    if check_target(settings, path) is None:
        problems.append(
            error(settings.config_name, 1, f"aggregator {path!r} is outside the output roots", rule="config")
        )
        return None
    if path in files:  # silently replacing a card's file would lose what the card says
        rel, line = files[path].origin or (settings.config_name, settings.line_of("aggregator"))
        problems.append(
            error(
                rel,
                line,
                f"{path} is the aggregator cardbook writes from the cards' `build:` keys: give this "
                "block another file= target, or set the plugin's `aggregator:` to another path",
                rule="file-target",
            )
        )
        return None
    base = PurePosixPath(path).parent
    attributes: list[str] = []
    sources: list[Source | None] = []
    for card in builders:
        assert card.build is not None
        line = card.line_of("build")
        if card.build not in files:
            problems.append(
                error(card.rel, line, f"build: {card.build} is not a file any card writes", rule="build-key")
            )
            continue
        # the cards of the file's own (file=) blocks, not the authors of chunks it uses
        missing = [w for w in files[card.build].writers if not graph.ordered_before(card.stem, w)]
        if missing:
            owner = missing[0]
            problems.append(
                error(
                    card.rel,
                    line,
                    f"build: {card.build} is written by {owner}, which this card does not require",
                    rule="build-key",
                )
            )
            continue
        relative = (
            PurePosixPath(card.build).relative_to(base)
            if PurePosixPath(card.build).is_relative_to(base)
            else None
        )
        if relative is None:
            problems.append(
                error(card.rel, line, f"build: {card.build} is not below {base}/", rule="build-key")
            )
            continue
        attributes.append(f"  {nix_string(card.stem)} = build ./{relative.as_posix()};")
        sources.append(Source(card.stem, card.rel, line))
    style = comment_style(settings, path) or ("#", "")
    preamble = [
        "# One attribute per card that declares `build:`; build one with `nix-build nix -A <card>`.",
        "let",
        "  # A card's file that is a function with arguments to fill ({ lib, stdenv, ... }:) is",
        "  # called with nixpkgs' callPackage; <nixpkgs> is looked up only when one is built.",
        "  pkgs = import <nixpkgs> { };",
        f"  needsCallPackage = {NEEDS_CALL_PACKAGE};",
        "  build = file:",
        "    let value = import file; in",
        "    if needsCallPackage value then pkgs.callPackage file { }",
        "    else if builtins.isFunction value then value { }",
        "    else value;",
        "in",
        "{",
    ]
    body = [*preamble, *attributes, "}"]
    digest = block_hash(body)
    head = [*header_lines(style, "the `build:` keys of the cards", path), body_marker(style, digest)]
    line_sources: list[Source | None] = [None] * (len(head) + len(preamble)) + sources + [None]
    text = "\n".join(head + body) + "\n"
    return OutputFile(path, text, [card.stem for card in builders], line_sources, [])
