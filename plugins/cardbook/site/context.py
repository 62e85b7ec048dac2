"""The one object every piece of a page is drawn from."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from cardbook.core.graph import Graph

from .styles import StatusStyle
from .urls import SiteLinks


@dataclass(frozen=True)
class PageContext:
    """The runbook's graph, where every page and file is, the status colours, and the URL of
    the page being drawn (every link is made relative to it)."""

    graph: Graph
    links: SiteLinks
    styles: Mapping[str, StatusStyle]
    page_url: str
    # card -> (label, tooltip, classes) of its node in a drawing: the same in every drawing of
    # one build, which shares this dict between its pages (card_page.node_facts)
    node_facts: dict[str, tuple[str, str, str]] = field(default_factory=dict, compare=False)
