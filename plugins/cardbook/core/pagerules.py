"""Rules on the frontmatter of every page under docs_dir, card or not: the keys a team
requires per folder, and the keys that only mean something on a card."""

from __future__ import annotations

from collections.abc import Mapping

from . import frontmatter
from .cards import Runbook, is_section_index
from .problems import Problem, error, warning

# Keys the card schema checks on every card already: not reported twice.
CARD_SCHEMA_KEYS = frozenset({"title", "modified"})


def required_keys(required: Mapping[str, tuple[str, ...]], docs_rel: str, index: bool = False) -> list[str]:
    """The keys a page at `docs_rel` (relative to docs_dir) must have: those of "*" and of
    every folder it is in. A section's index page (`index`) answers to "*" only: a folder's
    rule is for the pages in it."""
    keys: list[str] = []
    for folder, names in required.items():
        if folder == "*" or (not index and docs_rel.startswith(folder.strip("/") + "/")):
            keys.extend(name for name in names if name not in keys)
    return keys


def frontmatter_problems(runbook: Runbook, texts: Mapping[str, str]) -> list[Problem]:
    settings = runbook.settings
    required, card_only = settings.frontmatter_required, settings.card_only_keys
    if not required and not card_only:
        return []
    prefix = settings.docs_prefix
    card_prefixes = tuple(root.rstrip("/") + "/" for root in settings.card_roots)
    cards = {card.rel for card in runbook.cards.values()}
    read = {card.rel: card for card in runbook.sources.values()}  # frontmatter parsed already
    problems: list[Problem] = []
    for rel, text in sorted(texts.items()):
        if not rel.startswith(prefix):
            continue
        wanted = required_keys(required, rel[len(prefix) :], index=is_section_index(rel))
        outside = not rel.startswith(card_prefixes) and not is_section_index(rel)
        if not wanted and not (outside and card_only):
            continue  # nothing to ask of this page: its frontmatter is not even read
        source = read.get(rel)
        if source is not None and source.broken:
            continue  # its YAML error is reported already; nothing more can be said
        if source is not None:
            keys, has_frontmatter = source.key_lines, source.body_offset > 0
        else:
            try:
                parsed = frontmatter.parse(text)
            except frontmatter.FrontmatterError:
                continue  # not a page's to judge here: the site shows it as text
            keys, has_frontmatter = (parsed.key_lines, True) if parsed is not None else ({}, False)
        for key in wanted:
            if key in keys or (rel in cards and key in CARD_SCHEMA_KEYS):
                continue
            where = "its frontmatter" if has_frontmatter else "it has no frontmatter"
            problems.append(
                error(rel, 1, f"missing key {key!r}, required on this page ({where})", rule="required-key")
            )
        if outside:
            for key in card_only:
                if key in keys:
                    problems.append(
                        warning(
                            rel,
                            keys[key],
                            f"{key!r} means something only on a card, and this page is outside the card "
                            "roots: it is ignored here", rule="card-only-key",
                        )
                    )
    return problems
