"""The `cardbook` command: exit 0 when clean, 1 when problems were found, 2 on usage errors."""

from __future__ import annotations

import posixpath
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from cardbook.core.disk import inside
from cardbook.core.settings import Settings, load_settings

if TYPE_CHECKING:
    from cardbook.core.check import CheckResult
from cardbook.core.problems import ConfigError, Problem, count, plural

from .errors import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, handles_config_errors
from .scaffold import COMMANDS as SCAFFOLD_COMMANDS

config_option = click.option(
    "--config-file",
    "-f",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The mkdocs.yml holding the cardbook plugin's options (default: ./mkdocs.yml).",
)


def _settings(config_file: Path | None) -> Settings:
    if config_file is not None and not config_file.is_file():
        raise ConfigError(Problem(str(config_file), 1, "error", "config file does not exist", rule="usage"))
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
        click.echo(json.dumps(document, indent=2))
        return
    if diffs:
        click.echo("".join(diff for _, diff in diffs), nl=False)
    prefix = _folder_from_cwd(root) if root is not None else ""
    for problem in problems:
        click.echo(github_annotation(problem, prefix) if output_format == "github" else problem.format())
    click.echo(summary_line(problems, checked))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="cardbook")
def main() -> None:
    """cardbook: how-to cards as the source of truth for a Nix runbook."""


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "github"]),
    default="text",
    help="text lines, one JSON document, or GitHub/Forgejo workflow annotations.",
)
@click.option("--strict", is_flag=True, help="Warnings fail the check too.")
@click.option("--nix", "with_nix", is_flag=True, help="Also parse, build and verify the generated Nix.")
@click.option(
    "--no-skip",
    is_flag=True,
    help="With --nix: a card the Nix tier cannot build here (no <nixpkgs>) fails the check.",
)
@config_option
@handles_config_errors
def check(
    paths: tuple[Path, ...],
    output_format: str,
    strict: bool,
    with_nix: bool,
    no_skip: bool,
    config_file: Path | None,
) -> None:
    """Check the cards: frontmatter, requires, cycles, Mikado rules, drift; with --nix, the Nix."""
    from cardbook.core.problems import sort_problems
    from cardbook.core.rules import apply_severities
    from cardbook.pipeline import load_and_check

    if no_skip and not with_nix:
        raise click.UsageError("--no-skip goes with --nix")
    settings = _settings(config_file)
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
                click.echo(f"::error title=cardbook::{_github_escape(nix_summary)}")
            click.echo(f"error: {nix_summary}", err=True)
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
        click.echo(nix_summary)
    errors, warnings = count(problems)
    sys.exit(EXIT_PROBLEMS if errors or (strict and warnings) else EXIT_OK)


@main.command()
@click.option("--format", "output_format", type=click.Choice(["mermaid", "dot", "json"]), default="mermaid")
@config_option
@handles_config_errors
def graph(output_format: str, config_file: Path | None) -> None:
    """Print the dependency graph (an edge a -> b means a requires b)."""
    from cardbook.pipeline import load_and_check

    from . import views

    result = load_and_check(_settings(config_file), layout=True)
    render = {"mermaid": views.to_mermaid, "dot": views.graph_dot, "json": views.to_json}
    click.echo(render[output_format](result.graph), nl=False)
    _problem_hint(result.problems)


@main.command("next")
@config_option
@handles_config_errors
def next_command(config_file: Path | None) -> None:
    """Goals, leaves ready to work on, and each goal's chain."""
    from cardbook.pipeline import load_and_check

    from .views import next_report

    result = load_and_check(_settings(config_file), layout=True)
    click.echo(next_report(result.graph), nl=False)
    _problem_hint(result.problems)
    if result.graph.cycles:
        sys.exit(EXIT_PROBLEMS)


def _problem_hint(problems: list[Problem]) -> None:
    errors, _ = count(problems)
    if errors:
        click.echo(f"note: {plural(errors, 'error')} in the cards; run `cardbook check`", err=True)


def _checked_or_exit(settings: Settings, refusal: str) -> CheckResult:
    """The checked runbook; writing anything from cards with errors is refused."""
    from cardbook.pipeline import load_and_check

    result = load_and_check(settings, layout=True)
    if result.errors:
        report_problems(result.problems, len(result.runbook.cards), "text")
        click.echo(f"{refusal}: fix the errors above first", err=True)
        sys.exit(EXIT_PROBLEMS)
    return result


@main.command("tangle")
@click.option("--force", is_flag=True, help="Overwrite generated files even where they were edited by hand.")
@config_option
@handles_config_errors
def tangle_command(force: bool, config_file: Path | None) -> None:
    """Write the files the cards' code blocks produce."""
    from cardbook.core.plan import write_outputs

    settings = _settings(config_file)
    result = _checked_or_exit(settings, "nothing written")
    report = write_outputs(settings, result.tangled, force=force)
    for problem in [*result.problems, *report.problems]:
        click.echo(problem.format())
    if any(problem.severity == "error" for problem in report.problems):
        click.echo("nothing written", err=True)
        sys.exit(EXIT_PROBLEMS)
    click.echo(
        f"{plural(len(result.tangled.files), 'file')}: {len(report.written)} written, "
        f"{len(report.unchanged)} unchanged, {len(report.removed)} removed"
    )


@main.command("stitch")
@config_option
@handles_config_errors
def stitch_command(config_file: Path | None) -> None:
    """Carry hand edits in generated files back into the cards, then tangle again."""
    import datetime as dt

    from cardbook.core.plan import write_outputs
    from cardbook.core.stitch import stitch
    from cardbook.pipeline import load_and_check

    settings = _settings(config_file)
    result = _checked_or_exit(settings, "nothing stitched")
    report = stitch(settings, result.runbook, result.tangled)
    for problem in report.problems:
        click.echo(problem.format())
    if report.problems:
        click.echo("nothing stitched", err=True)
        sys.exit(EXIT_PROBLEMS)
    today = dt.date.today().isoformat()
    for rel in report.cards_written:
        click.echo(f"stitched into {rel}" + (f" (modified: {today})" if rel in report.dated else ""))
    # The cards now hold the edits: tangle again so the markers record them.
    again = load_and_check(settings, layout=True)
    written = write_outputs(settings, again.tangled, carried=report.carried)
    for problem in written.problems:
        click.echo(problem.format())
    click.echo(f"{plural(report.blocks, 'block')} stitched into {plural(len(report.cards_written), 'card')}")
    sys.exit(EXIT_PROBLEMS if any(problem.severity == "error" for problem in written.problems) else EXIT_OK)


@main.command("tags")
@config_option
@handles_config_errors
def tags_command(config_file: Path | None) -> None:
    """Tags in use with their page counts, tags used once, and tags that are probably one."""
    from cardbook.core.cards import load_runbook
    from cardbook.core.inventory import page_meta, tag_report

    from .views import tags_text

    settings = _settings(config_file)
    runbook = load_runbook(settings)
    click.echo(tags_text(tag_report(page_meta(runbook))), nl=False)


@main.command("stale")
@click.option("--days", type=click.IntRange(min=0), default=None, help="Only pages older than this.")
@config_option
@handles_config_errors
def stale_command(days: int | None, config_file: Path | None) -> None:
    """Pages by their `modified` date, oldest first, with the date of their last commit."""
    import datetime as dt

    from cardbook.core.cards import load_runbook
    from cardbook.core.inventory import page_meta, stale_rows
    from cardbook.gitlog import committed_dates

    from .views import stale_text

    settings = _settings(config_file)
    pages = page_meta(load_runbook(settings))
    today = dt.date.today()
    rows = stale_rows(pages, today, committed_dates(settings.root, [page.rel for page in pages]) or {})
    click.echo(stale_text(rows, days), nl=False)


@main.command("mv")
@click.argument("old")
@click.argument("new")
@config_option
@handles_config_errors
def mv_command(old: str, new: str, config_file: Path | None) -> None:
    """Rename a card or page, and every `requires` entry and wiki-link naming it."""
    from cardbook.core.plan import plan, write_outputs
    from cardbook.pipeline import load_and_check
    from cardbook.rename import rename

    settings = _settings(config_file)
    before = load_and_check(settings, layout=True)
    shown = plan(settings, before.tangled)
    if shown.edited:  # their markers name the card by its path: carry the edits over first
        for problem in shown.problems:
            if problem.path in shown.edited:
                click.echo(problem.format())
        click.echo("nothing moved: stitch or discard the hand edits first", err=True)
        sys.exit(EXIT_PROBLEMS)
    done = rename(settings, old, new, Path.cwd())
    click.echo(f"moved {done.old} -> {done.new}")
    for change in done.changes:
        click.echo(change)
    after = load_and_check(settings, layout=True)
    if after.errors:
        click.echo("generated files not rewritten: run `cardbook check`", err=True)
        sys.exit(EXIT_PROBLEMS)
    written = write_outputs(settings, after.tangled)
    for problem in written.problems:
        click.echo(problem.format())
    click.echo(f"{plural(len(written.written), 'generated file')} rewritten for the new name")


for _command in SCAFFOLD_COMMANDS:  # cardbook init, cardbook new
    main.add_command(_command)
