"""The `cardbook` command: exit 0 when clean, 1 when problems were found, 2 on usage errors."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from cardbook.core.problems import Problem, count, plural

from .errors import EXIT_OK, EXIT_PROBLEMS, handles_config_errors
from .report import github_annotation, report_problems, run_check, summary_line
from .report import settings_for as _settings
from .scaffold import COMMANDS as SCAFFOLD_COMMANDS

if TYPE_CHECKING:
    from cardbook.core.settings import Settings

__all__ = ["github_annotation", "main", "report_problems", "summary_line"]

config_option = click.option(
    "--config-file",
    "-f",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The mkdocs.yml holding the cardbook plugin's options (default: ./mkdocs.yml).",
)


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
    if no_skip and not with_nix:
        raise click.UsageError("--no-skip goes with --nix")
    run_check(paths, output_format, strict, with_nix, no_skip, config_file)


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


@main.command("tangle")
@click.option("--force", is_flag=True, help="Overwrite generated files even where they were edited by hand.")
@config_option
@handles_config_errors
def tangle_command(force: bool, config_file: Path | None) -> None:
    """Write the files the cards' code blocks produce."""
    from .writing import run_tangle

    run_tangle(force, config_file)


@main.command("stitch")
@config_option
@handles_config_errors
def stitch_command(config_file: Path | None) -> None:
    """Carry hand edits in generated files back into the cards, then tangle again."""
    import datetime as dt

    from cardbook.core.plan import write_outputs
    from cardbook.core.stitch import stitch
    from cardbook.pipeline import load_and_check

    from .writing import checked_or_exit

    settings = _settings(config_file)
    result = checked_or_exit(settings, "nothing stitched")
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
    _refuse_a_broken_layout(settings)
    runbook = load_runbook(settings)
    click.echo(tags_text(tag_report(page_meta(runbook))), nl=False)


def _refuse_a_broken_layout(settings: Settings) -> None:
    """A missing card root or docs_dir is a configuration error here too, as for `check` (found
    by a re-check of the probe's fixes: `stale` with a docs_dir that does not exist listed
    nothing, exit 0)."""
    from cardbook.core.layout import layout_problems, raise_first

    raise_first(layout_problems(settings))


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
    _refuse_a_broken_layout(settings)
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
