"""`cardbook init` and `cardbook new`: start a runbook, add a card.

The logic is in cardbook/start_new.py and start_init.py; this module parses the arguments
and prints. cli/main.py registers COMMANDS; this module does not import cli/main.py.
"""

from __future__ import annotations

from pathlib import Path

import click

from .errors import handles_config_errors


@click.command("new")
@click.argument("stem")
@click.option(
    "--requires",
    "-r",
    "requires",
    multiple=True,
    metavar="CARD",
    help="A card this one requires (repeat for several): its stem, stem.md or its path.",
)
@click.option("--title", "-t", default=None, help="The card's title (default: made from STEM).")
@click.option(
    "--config-file",
    "-f",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The mkdocs.yml holding the cardbook plugin's options (default: ./mkdocs.yml).",
)
@handles_config_errors
def new_command(stem: str, requires: tuple[str, ...], title: str | None, config_file: Path | None) -> None:
    """Add a card: STEM.md, open, in the first card root.

    Prints where the new card sits in the graph. Never overwrites a file."""
    import shlex  # here, not at the top: every `cardbook check` imports this module

    from cardbook.core.configfile import require_config_file
    from cardbook.core.layout import refuse_from_a_subfolder
    from cardbook.core.settings import load_settings
    from cardbook.start_new import create_card, position_of

    if config_file is not None:
        require_config_file(config_file)
    if config_file is None:
        refuse_from_a_subfolder(Path.cwd())
    settings = load_settings(config_file)
    card = create_card(settings, stem, title=title, requires=requires)
    click.echo(f"wrote {card.rel}")
    for line in position_of(settings, Path(card.rel).stem):
        click.echo(line)
    see = "cardbook next" + (f" -f {shlex.quote(str(config_file))}" if config_file is not None else "")
    click.echo(f"see the graph: {see}")


@click.command("init")
@click.argument("directory", default=".")
@handles_config_errors
def init_command(directory: str) -> None:
    """Start a runbook in DIRECTORY (default: here).

    Writes mkdocs.yml, docs/index.md, a first card and the file it tangles into; refuses,
    writing nothing, if any of them exists."""
    import shlex

    from cardbook.start_init import init_runbook

    here = Path(directory)
    shown_as = "" if here == Path(".") else here.as_posix().rstrip("/") + "/"
    plan = init_runbook(here, shown_as=shown_as)
    for planned in plan.sources:
        click.echo(f"wrote {shown_as}{planned.rel}")
    for planned in plan.generated:
        click.echo(f"wrote {shown_as}{planned.rel} (tangled from the card)")
    click.echo("next:")
    steps = [
        ("cardbook check", "check the cards, and that the generated files match them"),
        ("cardbook new STEM", "add a card (--requires CARD for its prerequisites)"),
        ("cardbook tangle", "write the generated files after changing the cards"),
        ("mkdocs serve", "preview the site; it tangles on every save"),
    ]
    if shown_as:
        steps.insert(0, (f"cd {shlex.quote(directory)}", "the commands below run there"))
    width = max(len(command) for command, _ in steps)
    for command, why in steps:
        click.echo(f"  {command.ljust(width)}  # {why}")


COMMANDS: list[click.Command] = [init_command, new_command]
