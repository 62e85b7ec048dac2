"""What the bench scripts share: the synthetic runbook, the child environment, and timing a child.

The generated runbook is realistic enough for every tool to do its real work:

- cards spread over one directory per 50 cards (`docs/how-to/area007/card-00042.md`);
- frontmatter with `title`, `modified`, `status` for some (active and blocked are open;
  done, superseded and none are closed), `tags`, an extra key, and `requires` naming up to
  `max_requires` earlier cards, written as `stem`, `stem.md` or `area/stem.md`;
- the graph checks clean: closed cards only require closed ones, open cards require at least
  one card, and no `requires` edge is implied by another path (no redundancy warnings);
- in the body, prose, a wiki-link to the first prerequisite, a plain `console` fence, and in
  Entangled's `{.nix ...}` fence form a `file=` block holding one reference and the named
  chunk it refers to, so cardbook and `entangled tangle -a naked` write the same bytes.

Everything is drawn from a seeded random generator: the same arguments give the same tree.
"""

from __future__ import annotations

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


def plugin_entry(**options: object) -> dict[str, object]:
    return {"cardbook": {"card_roots": [CARD_ROOT], "output_roots": ["nix"], "statuses": STATUSES, **options}}


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


def tool(name: str) -> Path | None:
    """A command installed next to the running interpreter (the project's venv)."""
    candidate = Path(sys.executable).parent / name
    return candidate if candidate.is_file() else None
