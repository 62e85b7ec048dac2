"""What the bench scripts share: two synthetic runbooks, the child environment, and timing a child.

Two shapes, because what the MkDocs plugin costs depends on how many files the cards tangle
into as well as on how many cards there are.

The per-card runbook (`plan_cards`, `write_cards`) is realistic enough for every tool to do its
real work, and each of its cards writes a file of its own:

- cards spread over one directory per 50 cards (`docs/how-to/area007/card-00042.md`);
- frontmatter with `title`, `modified`, `status` for some (active and blocked are open;
  done, superseded and none are closed), `tags`, an extra key, and `requires` naming up to
  `max_requires` earlier cards, written as `stem`, `stem.md` or `area/stem.md`;
- the graph checks clean: closed cards only require closed ones, open cards require at least
  one card, and no `requires` edge is implied by another path (no redundancy warnings);
- in the body, prose, a wiki-link to the first prerequisite, a plain `console` fence, and in
  Entangled's `{.nix ...}` fence form a `file=` block holding one reference and the named
  chunk it refers to, so cardbook and `entangled tangle -a naked` write the same bytes.

The runbook-shaped site (`write_runbook_site`) looks like the project's own cards instead:
topics of 20 cards chained one after another (`docs/how-to/topic-07/t07-step-03.md`), about
90 lines each of prose, a table, steps, code, checks and wiki-links, and every third card of a
topic adds a block to that topic's one Nix file, so there are 20 times fewer generated files
than cards. It is only built as a site, so it comes with its two mkdocs configurations.

Everything is drawn from a seeded random generator: the same arguments give the same tree.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CARD_ROOT = "docs/how-to"
STYLESHEET = "assets/cardbook.css"  # the Zensical build's `stylesheet:` file, in docs_dir
CARDS_PER_AREA = 50
STATUSES = {"active": "open", "blocked": "open", "done": "closed", "superseded": "closed"}
MANIFEST = ".cardbook-manifest.json"

BODY = """\
# Step {index} of the {area} chain

Why: this step is part of the {area} chain; {before}

```console
$ nix build .#{stem}
```

1. Check the prerequisites are done.
2. Run the command above and read the output.
3. Record what changed in the card, with today's date in `modified`.

Some notes that make the card a realistic size. {filler}

``` {{.nix file=nix/{area}/{stem}.nix}}
{{
  <<{stem}-settings>>
}}
```

More prose between the blocks.

``` {{.nix #{stem}-settings}}
a{index} = 1;

b{index} = [
  "x"
];
```
"""
FILLER = "Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 8


@dataclass(frozen=True)
class PlannedCard:
    index: int
    stem: str
    area: str
    status: str | None
    requires: tuple[str, ...]  # as written in the frontmatter
    modified: str

    @property
    def rel(self) -> str:
        return f"{CARD_ROOT}/{self.area}/{self.stem}.md"


def plan_cards(count: int, seed: int = 2, max_requires: int = 3) -> list[PlannedCard]:
    """The cards of a runbook, in creation order (a card only requires earlier ones)."""
    rng = random.Random(seed)
    areas = [f"area{n:03}" for n in range(max(1, count // CARDS_PER_AREA))]
    cards: list[PlannedCard] = []
    reach: list[int] = []  # per card, a bit set of every card it requires, transitively
    all_ids: list[int] = []
    closed_ids: list[int] = []
    for index in range(count):
        area = rng.choice(areas)
        # Older cards are mostly done; the recent ones are where the open work is.
        is_open = rng.random() < 0.1 + 0.5 * index / max(1, count - 1)
        if is_open:
            status = rng.choice(["active", "active", "blocked"])
        else:
            status = rng.choice(["done", "done", "superseded", None, None])
        pool = all_ids if is_open else closed_ids  # Mikado: closed cards need closed cards
        wanted = rng.randint(1 if is_open else 0, max_requires)
        chosen: list[int] = []
        chosen_bits = reached = 0
        for _ in range(4 * wanted):
            if len(chosen) >= wanted or not pool:
                break
            # Mostly a recent card, sometimes any earlier one.
            low = max(0, len(pool) - 200) if rng.random() < 0.7 else 0
            other = pool[rng.randrange(low, len(pool))]
            bit = 1 << other
            # Skip an edge another chosen edge already implies, either way round.
            if bit & (chosen_bits | reached) or reach[other] & chosen_bits:
                continue
            chosen.append(other)
            chosen_bits |= bit
            reached |= reach[other]
        reach.append(chosen_bits | reached)
        requires = []
        for other in chosen:
            form = rng.random()
            stem = cards[other].stem
            if form < 0.6:
                requires.append(stem)
            elif form < 0.8:
                requires.append(f"{stem}.md")
            else:
                requires.append(f"{cards[other].area}/{stem}.md")
        modified = f"2025-{rng.randint(1, 12):02}-{rng.randint(1, 28):02}"
        cards.append(PlannedCard(index, f"card-{index:05}", area, status, tuple(requires), modified))
        all_ids.append(index)
        if not is_open:
            closed_ids.append(index)
    return cards


def card_text(card: PlannedCard) -> str:
    lines = ["---", f"title: Step {card.index} of the {card.area} chain", f"modified: {card.modified}"]
    if card.status is not None:
        lines.append(f"status: {card.status}")
    if card.requires:
        lines.append("requires:")
        lines.extend(f"  - {item}" for item in card.requires)
    lines += [f"tags: [{card.area}, bench]", "last-reviewed: 2025-12-01", "---", "", ""]
    if card.requires:
        first = card.requires[0].rsplit("/", 1)[-1].removesuffix(".md")
        before = f"finish [[{first}]] and the other cards it requires first."
    else:
        before = "it requires no other card."
    body = BODY.format(index=card.index, area=card.area, stem=card.stem, before=before, filler=FILLER.strip())
    return "\n".join(lines) + body


def write_cards(project: Path, cards: list[PlannedCard]) -> None:
    """The cards under project/docs/how-to, and a docs/index.md."""
    (project / "docs").mkdir(parents=True, exist_ok=True)
    (project / "docs/index.md").write_text("# Bench runbook\n\nA generated runbook.\n", encoding="utf-8")
    for card in cards:
        path = project / card.rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(card_text(card), encoding="utf-8")


# The runbook-shaped site ---------------------------------------------------------------------

RUNBOOK_PER_TOPIC = 20
RUNBOOK_PROSE = (
    "This step changes one thing and says how to check it. Read it through once before you start, "
    "then follow it from the top; each command is safe to run twice.\n"
)


def runbook_card_body(t: int, c: int, title: str, needs: list[str], stems: list[list[str]]) -> list[str]:
    """About 90 lines shaped like the real cards: prose, a table, steps, code, checks, links."""
    body = [f"# {title}", "", RUNBOOK_PROSE, RUNBOOK_PROSE, ""]
    if needs:
        body += [f"Before this, finish [[{needs[0]}]]; it leaves the service in the state assumed here.", ""]
    body += [
        "| Setting | Value | Changes when |",
        "|---|---|---|",
        f"| port | `{8000 + c}` | the topic's [[{stems[t][0]}\\|first step]] changes |",
        f"| user | `svc-{t}` | never |",
        f"| state | `/var/lib/topic-{t}` | the layout of [[{stems[t][-1]}]] changes |",
        "",
        "## Why",
        "",
        RUNBOOK_PROSE,
        RUNBOOK_PROSE,
        "- the unit file is generated, never edited by hand;",
        "- each change is checked before the next step starts;",
        "- a failed step leaves the previous state in place.",
        "",
        "## Steps",
        "",
        "1. Open a shell on the host and become the service user.",
        f"2. Stop the service: `systemctl stop service-{t}-{c}`.",
        "3. Apply the change below, then start the service again.",
        "",
        "    ```sh",
        f"    systemctl restart service-{t}-{c}",
        f"    journalctl -u service-{t}-{c} --since -5m",
        "    ```",
        "",
        "4. Keep the shell open until the checks pass.",
        "",
    ]
    if c % 3 == 0:  # every third card adds its block to the topic's Nix file
        body += [
            f"```nix {{file=nix/topic-{t:02d}.nix}}",
            f"# step {c}",
            f"services.topic{t}.step{c} = {{",
            "  enable = true;",
            f"  port = {8000 + c};",
            "};",
            "```",
            "",
        ]
    else:
        body += ["```nix", f"services.topic{t}.step{c}.enable = true;", "```", ""]
    body += [
        "## Check",
        "",
        RUNBOOK_PROSE,
        "- the unit is active: `systemctl is-active service`",
        "- the port answers: `curl -fsS localhost`",
        "",
        "## See also",
        "",
        f"- [[{stems[(t + 1) % len(stems)][c]}]], the same step in the next topic",
        f"- [[{stems[t][(c + 1) % RUNBOOK_PER_TOPIC]}#Check]]",
        "",
    ]
    return body


def write_runbook_site(root: Path, cards: int, project_mkdocs: Path) -> None:
    """The runbook-shaped tree under root (which must not hold a docs/ yet): root/docs, and
    root/mkdocs.yml and root/mkdocs-without.yml from project_mkdocs, with and without its
    cardbook entry. Topics of 20 cards each, chained inside a topic; topics form a tree
    (topic t starts after the last card of topic (t - 1) // 2); the last five cards of each
    leaf topic are still open."""
    import yaml

    topics = max(1, cards // RUNBOOK_PER_TOPIC)
    rng = random.Random(42)
    stems = [[f"t{t:02d}-step-{c:02d}" for c in range(RUNBOOK_PER_TOPIC)] for t in range(topics)]
    requires: dict[str, list[str]] = {}
    has_children = {(t - 1) // 2 for t in range(1, topics)}
    is_open = {}
    for t in range(topics):
        for c in range(RUNBOOK_PER_TOPIC):
            stem = stems[t][c]
            needs = [stems[t][c - 1]] if c else ([stems[(t - 1) // 2][-1]] if t else [])
            requires[stem] = needs
            is_open[stem] = t not in has_children and c >= RUNBOOK_PER_TOPIC - 5

    def reaches(start: str, goal: str) -> bool:
        stack, seen = [start], set()
        while stack:
            node = stack.pop()
            if node == goal:
                return True
            if node not in seen:
                seen.add(node)
                stack.extend(requires[node])
        return False

    # Some cross-topic requires, kept free of redundant edges so the tree checks clean.
    for t in range(1, topics):
        stem = stems[t][10]
        other = stems[rng.randrange(0, t)][rng.randrange(0, 8)]
        needs = requires[stem]
        if not any(reaches(n, other) or reaches(other, n) for n in needs) and not reaches(other, stem):
            needs.append(other)
    docs = root / "docs"
    (docs / "how-to").mkdir(parents=True)
    (docs / "index.md").write_text(
        "# Benchmark runbook\n\nStart at the [[runbook]] overview.\n", encoding="utf-8"
    )
    for t in range(topics):
        folder = docs / "how-to" / f"topic-{t:02d}"
        folder.mkdir()
        for c, stem in enumerate(stems[t]):
            meta = {
                "title": f"Topic {t} step {c}: configure the service",
                "modified": dt.date(2025, 1, 1) + dt.timedelta(days=(t * RUNBOOK_PER_TOPIC + c) % 300),
                "tags": ["how-to", f"topic-{t:02d}"],
            }
            if is_open[stem]:
                meta["status"] = "active"
            if requires[stem]:
                meta["requires"] = requires[stem]
            body = runbook_card_body(t, c, meta["title"], requires[stem], stems)
            front = yaml.safe_dump(meta, sort_keys=False)
            (folder / f"{stem}.md").write_text(f"---\n{front}---\n" + "\n".join(body), encoding="utf-8")
    # The project's own cardbook entry, as it is: this tree is the project's kind of runbook.
    config = yaml.safe_load(project_mkdocs.read_text(encoding="utf-8"))
    config["docs_dir"] = "docs"
    config["site_name"] = "bench"
    config.pop("strict", None)
    (root / "mkdocs.yml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    without = dict(config)
    without["plugins"] = [p for p in config["plugins"] if not (isinstance(p, dict) and "cardbook" in p)]
    (root / "mkdocs-without.yml").write_text(yaml.safe_dump(without, sort_keys=False), encoding="utf-8")


# The per-card site --------------------------------------------------------------------------


def site_configs(project: Path, project_mkdocs: Path) -> None:
    """mkdocs.yml (the project's theme and extensions, with cardbook set up for the per-card
    runbook) and mkdocs-without.yml (the same with no cardbook entry)."""
    import yaml

    config = yaml.safe_load(project_mkdocs.read_text(encoding="utf-8"))
    config["site_name"] = "bench"
    config["docs_dir"] = "docs"
    config.pop("strict", None)
    others = [p for p in config.get("plugins", []) if not (isinstance(p, dict) and "cardbook" in p)]
    others = [p for p in others if p != "cardbook"]
    # The `cardbook` Markdown extension is the renderer Zensical runs; MkDocs with the plugin
    # drops the entry and adds the extension itself. "Without" has neither.
    extensions = [e for e in config.get("markdown_extensions", []) if e != "cardbook"]
    with_plugin = {**config, "plugins": [*others, plugin_entry()]}
    without = {**config, "markdown_extensions": extensions, "plugins": others}
    for name, settings in (("mkdocs.yml", with_plugin), ("mkdocs-without.yml", without)):
        (project / name).write_text(yaml.safe_dump(settings, sort_keys=False), encoding="utf-8")
    # Zensical reads the same files; no -d option: each build's site_dir is set in its file.
    # With the extension, the setup docs/reference/engines.md recommends for a large runbook:
    # the stylesheet as a file (`cardbook tangle -f zensical-with.yml` writes it) that extra_css
    # links, instead of a copy inside every card page.
    zensical_with = {
        **with_plugin,
        "markdown_extensions": [*extensions, "cardbook"],
        "plugins": [*others, plugin_entry(stylesheet=STYLESHEET)],
        "extra_css": [*dict.fromkeys([*config.get("extra_css", []), STYLESHEET])],  # once, as a user lists it
    }
    zensical_with["site_dir"] = "site-z-with"
    zensical_without = {**without, "site_dir": "site-z-without"}
    for name, settings in (("zensical-with.yml", zensical_with), ("zensical-without.yml", zensical_without)):
        (project / name).write_text(yaml.safe_dump(settings, sort_keys=False), encoding="utf-8")


def plugin_entry(**options: object) -> dict[str, object]:
    # Every generated page is a card, also those with no status or requires: `cards: all`, not
    # the default `marked`, keeps the measured work (and `N cards checked`) at N cards.
    entry = {"card_roots": [CARD_ROOT], "output_roots": ["nix"], "statuses": STATUSES, "cards": "all"}
    return {"cardbook": {**entry, **options}}


def minimal_config(directory: Path, **options: object) -> None:
    """A mkdocs.yml holding only the plugin (with `options`) and what the cards' fences need."""
    import yaml

    # the cards have attribute fences, which a runbook renders with pymdownx.superfences (check
    # says so as a configuration error without it)
    config = {
        "site_name": "bench",
        "markdown_extensions": ["pymdownx.superfences"],
        "plugins": [plugin_entry(**options)],
    }
    (directory / "mkdocs.yml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")


# Running children ---------------------------------------------------------------------------


def child_env(**extra: str) -> dict[str, str]:
    """The environment users run tools in: with bytecode caches (some machines, this one
    included, set PYTHONDONTWRITEBYTECODE, which would recompile every module on every run),
    no colours, a wide terminal."""
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200", **extra}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


@dataclass(frozen=True)
class Measured:
    wall: float  # seconds from spawn to exit, start-up included
    user: float  # user CPU seconds of the command and the children it waited for
    system: float  # system (kernel) CPU seconds, likewise
    peak_kib: int  # ru_maxrss: the largest resident set of the command or a child it waited for
    returncode: int
    stdout: str
    stderr: str


# A small launcher between this process and each command. Linux carries the resident-set
# high-water mark of the process that spawns a command across exec into the command's own
# ru_maxrss, so spawned straight from this (large) process every command would seem to
# use at least as much memory as the benchmark itself. The launcher (`python -I -S`, no
# imports beyond os, sys and time) spawns the command, takes its own wall time, CPU times and
# ru_maxrss from os.wait4(pid, 0), and writes them to the file named by its first argument.
LAUNCHER = """\
import os, sys, time
start = time.perf_counter()
pid = os.posix_spawn(sys.argv[2], sys.argv[2:], os.environ)
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - start
with open(sys.argv[1], "w") as out:
    code = os.waitstatus_to_exitcode(status)
    out.write(f"{wall!r} {usage.ru_utime!r} {usage.ru_stime!r} {usage.ru_maxrss} {code}")
"""


def measure(command: list[str], cwd: Path, env: dict[str, str]) -> Measured:
    """Run one command through the launcher and return its own resource usage (not this
    process's children totals, which would mix every command ever run)."""
    executable = command[0] if os.path.isabs(command[0]) else shutil.which(command[0], path=env.get("PATH"))
    if executable is None:
        raise FileNotFoundError(command[0])
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.NamedTemporaryFile("r", suffix=".usage") as usage,
    ):
        launcher = [sys.executable, "-I", "-S", "-c", LAUNCHER, usage.name, executable, *command[1:]]
        child = subprocess.Popen(launcher, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        _, status, _ = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)  # so Popen does not wait again
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace")
        fields = usage.read().split()
        if child.returncode != 0 or len(fields) != 5:
            raise RuntimeError(f"the launcher failed (exit {child.returncode}) for {command}:\n{stderr}")
        wall, user, system = (float(field) for field in fields[:3])
        return Measured(wall, user, system, int(fields[3]), int(fields[4]), stdout, stderr)


def outputs(directory: Path) -> dict[str, bytes]:
    """Every file below directory/nix but cardbook's manifest, by relative path."""
    base = directory / "nix"
    if not base.is_dir():
        return {}
    return {
        path.relative_to(base).as_posix(): path.read_bytes()
        for path in sorted(base.rglob("*"))
        if path.is_file() and path.name != MANIFEST
    }


def reexec_under_uv(script: str, *, extras: tuple[str, ...] = ()) -> None:
    """Not in the project's environment: run the script again through `uv run --frozen`."""
    name = Path(script).name
    if os.environ.get("CARDBOOK_BENCH_REEXEC"):
        sys.exit(f"{name}: the project's commands are not next to the interpreter, even under uv run")
    uv = shutil.which("uv")
    if uv is None:
        sys.exit(f"{name}: `uv` is not on PATH; run scripts/bootstrap's steps, or use the project venv")
    os.environ["CARDBOOK_BENCH_REEXEC"] = "1"
    extra_args = [arg for extra in extras for arg in ("--extra", extra)]
    command = [uv, "run", "--frozen", "--quiet", *extra_args, "--project", str(ROOT), "python", script]
    os.execv(uv, [*command, *sys.argv[1:]])


def tool(name: str, *, engines: bool = False) -> Path | None:
    """A command installed next to the running interpreter (the project's venv), or, with
    `engines`, in the other engines' environment (.venv-engines, made by scripts/test).

    cardbook and MkDocs are looked up next to the interpreter only: found elsewhere, a script
    run with a plain python3 would not re-run itself in the project's environment, and would
    read their versions in the wrong one."""
    folders = [Path(sys.executable).parent]
    if engines:
        folders.append(Path(__file__).resolve().parent.parent / ".venv-engines/bin")
    for folder in folders:
        if (folder / name).is_file():
            return folder / name
    return None
