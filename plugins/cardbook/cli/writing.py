"""What `cardbook tangle` prints and how it ends, without click: the click command in
cli/main.py and the click-free path of a plain tangle (cli/fastpath.py) both run `run_tangle`;
`stitch` refuses cards with errors the same way (`checked_or_exit`)."""

from __future__ import annotations

import sys
from pathlib import Path

from cardbook.core.problems import plural
from cardbook.core.settings import Settings

from .echo import echo
from .errors import EXIT_OK, EXIT_PROBLEMS
from .report import report_problems, settings_for

TYPE_CHECKING = False  # typing is not imported at run time: it costs start-up
if TYPE_CHECKING:
    from cardbook.core.check import CheckResult


def checked_or_exit(settings: Settings, refusal: str) -> CheckResult:
    """The checked runbook; writing anything from cards with errors is refused (exit 1)."""
    from cardbook.pipeline import load_and_check

    result = load_and_check(settings, layout=True)
    if result.errors:
        report_problems(result.problems, len(result.runbook.cards), "text")
        echo(f"{refusal}: fix the errors above first", err=True)
        sys.exit(EXIT_PROBLEMS)
    return result


def run_tangle(force: bool, config_file: Path | None) -> None:
    """`cardbook tangle`, its options already read: what was written, or why nothing was; then
    sys.exit with the status."""
    from cardbook.core.plan import write_outputs

    settings = settings_for(config_file)
    result = checked_or_exit(settings, "nothing written")
    report = write_outputs(settings, result.tangled, force=force)
    for problem in [*result.problems, *report.problems]:
        echo(problem.format())
    if any(problem.severity == "error" for problem in report.problems):
        echo("nothing written", err=True)
        sys.exit(EXIT_PROBLEMS)
    echo(
        f"{plural(len(result.tangled.files), 'file')}: {len(report.written)} written, "
        f"{len(report.unchanged)} unchanged, {len(report.removed)} removed"
    )
    sys.exit(EXIT_OK)
