"""What `cardbook check` and every build run first: the core's reading of the cards, graph and
tangle, with the Nix part's contributions (the aggregator file and the graph-truth rule) and
the site part's (the stylesheet file, when the `stylesheet:` option asks for one).

    cards -> graph -> tangled files (+ nix/default.nix, + the stylesheet) -> problems [-> drift]

The command line and the MkDocs plugin both start here, so they see the same runbook.
"""

from __future__ import annotations

import datetime as dt

from cardbook.core.check import CheckResult, check_cards
from cardbook.core.problems import sort_problems
from cardbook.core.rules import apply_severities
from cardbook.core.settings import Settings
from cardbook.nix.aggregator import build_aggregator
from cardbook.nix.references import graph_truth


def load_and_check(
    settings: Settings, *, today: dt.date | None = None, drift: bool = False, layout: bool = False
) -> CheckResult:
    """The checked runbook, problems sorted.

    With `drift`, the files on disk are compared with what the cards produce (a show-only run
    of the write plan). With `layout`, a project setup cardbook refuses raises ConfigError
    before anything is read or written (see core.layout).
    """
    result = check_cards(settings, today=today, layout=layout)
    tangled = result.tangled
    if settings.aggregator:
        aggregator = build_aggregator(result.runbook, result.graph, tangled.files, result.problems)
        if aggregator is not None:
            tangled.files[aggregator.path] = aggregator
    result.problems.extend(graph_truth(tangled, result.graph, settings.aggregator))
    if settings.stylesheet:
        from cardbook.site.styles import stylesheet_file

        stylesheet = stylesheet_file(settings, tangled.files, result.problems)
        if stylesheet is not None:
            tangled.files[stylesheet.path] = stylesheet
    others = [rel for rel in result.runbook.stylesheets if rel != settings.stylesheet]
    if others:  # rare: a .css file in docs_dir
        from cardbook.core.ondisk import written_stylesheets

        tangled.retired = written_stylesheets(settings, others)
    if settings.markdown_config is not None and "cardbook" in (settings.markdown_extensions or ()):
        from cardbook.core.engines import extension_problems
        from cardbook.core.layout import raise_first

        raise_first(extension_problems(settings))  # the extension would stop every engine's build
    if settings.markdown_config is not None and settings.severity("zensical") != "off":
        from cardbook.core.engines import engine_problems

        result.problems.extend(engine_problems(settings))
    if settings.severity("modified-stale") != "off":  # off by default: it runs git
        from cardbook.core.history import modified_stale_problems
        from cardbook.core.inventory import page_meta
        from cardbook.gitlog import committed_dates, shallow

        pages = page_meta(result.runbook)
        where = (settings.config_name, settings.line_of("rules"))
        if shallow(settings.root):
            why = "this clone is shallow, so its first commit seems to change every page (fetch-depth: 0)"
            result.problems.extend(modified_stale_problems(pages, None, *where, unavailable=why))
        else:
            committed = committed_dates(settings.root, [page.rel for page in pages])
            result.problems.extend(modified_stale_problems(pages, committed, *where))
    if drift:
        from cardbook.core.plan import drift as find_drift

        drift_problems, result.diffs = find_drift(settings, tangled)
        result.problems.extend(drift_problems)
    result.problems = sort_problems(apply_severities(result.problems, settings.rules))
    return result
