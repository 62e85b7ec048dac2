"""The one object every piece of a page is drawn from."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

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
