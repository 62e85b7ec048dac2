"""What `cardbook check` prints and how it ends, without click: the click command in cli/main.py
and the click-free path of a plain check (cli/fastpath.py) both run `run_check`."""

from __future__ import annotations

import posixpath
import sys
from collections.abc import Iterable
from pathlib import Path

from cardbook.core.configfile import require_config_file
from cardbook.core.disk import inside
from cardbook.core.problems import ConfigError, Problem, count, plural
from cardbook.core.settings import Settings, load_settings

from .echo import echo
from .errors import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE

TYPE_CHECKING = False  # typing is not imported at run time: it costs start-up
if TYPE_CHECKING:
    from typing import Any


def settings_for(config_file: Path | None) -> Settings:
    if config_file is not None:
        require_config_file(config_file)
    if config_file is None:
        from cardbook.core.layout import refuse_from_a_subfolder

        refuse_from_a_subfolder(Path.cwd())
    return load_settings(config_file)


def _under(problem: Problem, paths: tuple[str, ...]) -> bool:
    """A problem about a file or folder asked for: at it, or at the card line behind it."""
    return any(inside(problem.path, p) or (problem.subject and inside(problem.subject, p)) for p in paths)


def _relative_paths(paths: Iterable[Path], settings: Settings) -> tuple[str, ...]:
    rels = []
    for path in paths:
        resolved = path.resolve()
        if not resolved.is_relative_to(settings.root):
            raise ConfigError(Problem(str(path), 1, "error", "path is outside the project", rule="usage"))
        rels.append(resolved.relative_to(settings.root).as_posix() or ".")
    return tuple(rels)


def _github_escape(text: str, *, in_property: bool = False) -> str:
    """Workflow commands are one line: %, CR and LF are escaped; properties also escape : and ,."""
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if in_property else text


def github_annotation(problem: Problem, prefix: str = "") -> str:
    """`::error file=PATH,line=N,title=cardbook::message` (GitHub and Forgejo Actions).

    `prefix` is the project's folder relative to the working directory (the repository root
    in a workflow), where annotations' paths are resolved."""
    message = problem.message + ("\n" + problem.detail if problem.detail else "")
    file = _github_escape(posixpath.join(prefix, problem.path) if prefix else problem.path, in_property=True)
    level = "notice" if problem.severity == "info" else problem.severity
    title = f"cardbook {problem.rule}" if problem.rule else "cardbook"
    return f"::{level} file={file},line={problem.line},title={title}::{_github_escape(message)}"


def _folder_from_cwd(root: Path) -> str:
    """The project folder relative to the working directory, "" when they are the same."""
    try:
        relative = root.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except (ValueError, OSError):
        return ""
    return "" if relative == "." else relative


def summary_line(problems: list[Problem], checked: int) -> str:
    errors, warnings = count(problems)
    infos = len(problems) - errors - warnings
    if not problems:
        return f"{plural(checked, 'card')} checked: no problems"
    line = f"{plural(checked, 'card')} checked: {plural(errors, 'error')}, {plural(warnings, 'warning')}"
    return line + (f", {infos} info" if infos else "")


def report_problems(
    problems: list[Problem],
    checked: int,
    output_format: str,
    *,
    diffs: list[tuple[str, str]] | None = None,
    nix: dict[str, Any] | None = None,
    root: Path | None = None,
) -> None:
    """Print the problems as text lines, workflow annotations or one JSON document."""
    if output_format == "json":
        import json  # only for --format json: a plain `check` never loads it

        errors, warnings = count(problems)
        document: dict[str, Any] = {
            "cards": checked,
            "errors": errors,
            "warnings": warnings,
            "info": len(problems) - errors - warnings,
            "problems": [problem.as_dict() for problem in problems],
            "drift": [{"path": path, "diff": diff} for path, diff in diffs or []],
        }
        if nix is not None:
            document["nix"] = nix
        echo(json.dumps(document, indent=2))
        return
    if diffs:
        echo("".join(diff for _, diff in diffs), nl=False)
    prefix = _folder_from_cwd(root) if root is not None else ""
    for problem in problems:
        echo(github_annotation(problem, prefix) if output_format == "github" else problem.format())
    echo(summary_line(problems, checked))


def run_check(
    paths: tuple[Path, ...],
    output_format: str,
    strict: bool,
    with_nix: bool,
    no_skip: bool,
    config_file: Path | None,
) -> None:
    """`cardbook check`, its options already read: the report, then sys.exit with the status."""
    from cardbook.core.problems import sort_problems
    from cardbook.core.rules import apply_severities
    from cardbook.pipeline import load_and_check

    settings = settings_for(config_file)
    result = load_and_check(settings, drift=True, layout=True)
    problems = result.problems
    nix_summary = ""
    nix_document = None
    if with_nix:
        from cardbook.nix.tiers import run_nix_tiers

        report = run_nix_tiers(result, no_skip=no_skip)
        problems = sort_problems([*problems, *apply_severities(report.problems, settings.rules)])
        nix_summary = report.summary()
        nix_document = report.as_dict()
        if report.unavailable:  # the machine, not the cards: a setup error (exit status 2)
            if output_format == "json":
                report_problems(problems, len(result.runbook.cards), "json", nix=nix_document)
            elif output_format == "github":
                echo(f"::error title=cardbook::{_github_escape(nix_summary)}")
            echo(f"error: {nix_summary}", err=True)
            sys.exit(EXIT_USAGE)
    diffs = result.diffs
    if paths:
        wanted = _relative_paths(paths, settings)
        if "." not in wanted:
            problems = [p for p in problems if _under(p, wanted)]
            diffs = [(path, diff) for path, diff in diffs if any(inside(path, w) for w in wanted)]
    report_problems(
        problems, len(result.runbook.cards), output_format, diffs=diffs, nix=nix_document, root=settings.root
    )
    if nix_summary and output_format != "json":
        echo(nix_summary)
    errors, warnings = count(problems)
    sys.exit(EXIT_PROBLEMS if errors or (strict and warnings) else EXIT_OK)
