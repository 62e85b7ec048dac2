"""The Nix tiers of `cardbook check --nix`: parse, build, verify; and graph truth.

cardbook never schedules builds: every buildable card is one attribute of the generated
aggregator, and one `nix-build` call builds them all (Nix does the parallelism and the
remote builders).
"""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from cardbook.core.cards import Card
from cardbook.core.check import CheckResult
from cardbook.core.fences import Fence
from cardbook.core.problems import Problem, error, plural
from cardbook.core.settings import Settings
from cardbook.core.tangle import OutputFile, Source, TangleResult

from .aggregator import NEEDS_CALL_PACKAGE, nix_string
from .environment import NixSetupError, missing_nix, nix_env, run_nix
from .references import referenced_files

_NIX_ERROR = re.compile(
    r"^error: (?P<message>.*?)\n(?:.*\n)*?\s*at (?P<path>/[^\n]*?):(?P<line>\d+):(?P<column>\d+):",
    re.MULTILINE,
)
_FAILED_DRV = re.compile(r"builder for '(?P<drv>/nix/store/[^']+\.drv)' failed")
CHECK_TIMEOUT = 1800
OUTPUT_TAIL = 25


@dataclass
class NixReport:
    problems: list[Problem] = field(default_factory=list)
    parsed: int = 0
    built: list[str] = field(default_factory=list)
    verified: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (card, reason)
    seconds: float = 0.0
    unavailable: str | None = None  # why no Nix tier ran at all
    not_built: str = ""  # why nothing was built although Nix is there

    def as_dict(self) -> dict[str, object]:
        """The tier's outcome for `cardbook check --nix --format json`."""
        return {
            "parsed": self.parsed,
            "built": self.built,
            "verified": self.verified,
            "skipped": [{"card": card, "reason": reason} for card, reason in self.skipped],
            "seconds": round(self.seconds, 3),
            "unavailable": self.unavailable,
            "not_built": self.not_built or None,
        }

    def summary(self) -> str:
        if self.unavailable:
            return f"nix: skipped: {self.unavailable}"
        parts = [
            f"{plural(self.parsed, 'file')} parsed",
            f"{len(self.built)} built",
            f"{len(self.verified)} verified",
            f"{len(self.skipped)} skipped",
        ]
        text = "nix: " + ", ".join(parts) + f" in {self.seconds:.1f} s"
        if self.not_built:
            text += f" (nothing built: {self.not_built})"
        reasons = sorted({reason for _, reason in self.skipped})
        if reasons:
            text += " (skipped: " + "; ".join(reasons) + ")"
        return text


# Where a line came from ---------------------------------------------------------------


def card_location(output: OutputFile | None, rel: str, line: int) -> tuple[str, int]:
    """The card line behind a generated file's line, or the file line itself."""
    if output is not None and 0 < line <= len(output.line_sources):
        source: Source | None = output.line_sources[line - 1]
        if source is not None:
            return source.rel, source.line
    return rel, line


def _located(result: TangleResult, rel: str, line: int, message: str, rule: str) -> Problem:
    path, number = card_location(result.files.get(rel), rel, line)
    prefix = f"{rel}:{line}: " if path != rel else ""
    return error(path, number, f"{prefix}{message}", rule=rule)


def _map_nix_errors(text: str, result: TangleResult, root: Path, rule: str) -> list[Problem]:
    problems = []
    for match in _NIX_ERROR.finditer(text):
        rel = _relative(match["path"], root)
        problems.append(_located(result, rel, int(match["line"]), f"nix: {match['message'].strip()}", rule))
    return problems


def _relative(path: str, root: Path) -> str:
    try:
        return Path(path).resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path


# Tier 1: parse ----------------------------------------------------------------------------


def nix_files(result: TangleResult) -> list[str]:
    return sorted(path for path in result.files if path.endswith(".nix"))


def parse_tier(settings: Settings, result: TangleResult) -> tuple[int, list[Problem]]:
    """Parse every generated .nix file in one process; per file only when that fails."""
    files = nix_files(result)
    if not files:
        return 0, []
    with tempfile.TemporaryDirectory(prefix="cardbook-parse-") as scratch:
        base = Path(scratch)
        for rel in files:
            target = base / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(result.files[rel].text, encoding="utf-8")
        paths = [str(base / rel) for rel in files]
        command = ["nix-instantiate", "--parse"]
        whole = run_nix([*command, *paths])
        if whole.returncode == 0:
            return len(files), []
        problems: list[Problem] = []
        for path in paths:  # Nix stops at the first bad file: ask again to list them all
            single = run_nix([*command, path])
            if single.returncode != 0:
                found = _map_nix_errors(single.stderr, result, base, "nix-parse") or [
                    error(
                        _relative(path, base),
                        1,
                        "nix cannot parse this file",
                        _tail(single.stderr),
                        rule="nix-parse",
                    )
                ]
                # Messages name the generated file, never the scratch copy Nix was given.
                problems.extend(
                    problem.replace(
                        message=_without_folder(problem.message, base),
                        detail=_without_folder(problem.detail, base),
                    )
                    for problem in found
                )
        return len(files), problems


def _without_folder(text: str, folder: Path) -> str:
    """`text` with the absolute paths under `folder` made relative to it."""
    for prefix in {str(folder), str(folder.resolve())}:
        text = text.replace(prefix.rstrip("/") + "/", "")
    return text


# Graph truth ----------------------------------------------------------------------------


# Tier 2 and 3: build and verify --------------------------------------------------------


def nixpkgs_available() -> bool:
    found = run_nix(["nix-instantiate", "--find-file", "nixpkgs"])
    return found.returncode == 0


def _needs_nixpkgs(settings: Settings, cards: list[Card], result: TangleResult) -> dict[str, bool]:
    """Which buildable cards call into nixpkgs: their file is a function (callPackage style)
    or some generated file it uses names <nixpkgs>."""
    generated = set(result.files)
    entries = " ".join(
        f'"{card.stem}" = {(settings.root / card.build).as_posix()};' for card in cards if card.build
    )
    # The aggregator's own rule: a function with an argument that has no default needs callPackage.
    expression = f"builtins.mapAttrs (name: file: ({NEEDS_CALL_PACKAGE}) (import file)) {{ {entries} }}"
    evaluated = run_nix(["nix-instantiate", "--eval", "--strict", "--json", "-E", expression])
    functions = json.loads(evaluated.stdout) if evaluated.returncode == 0 else {}
    needs = {}
    for card in cards:
        assert card.build is not None
        seen, todo = set(), [card.build]
        mentions = False
        while todo:
            path = todo.pop()
            if path in seen or path not in result.files:
                continue
            seen.add(path)
            output = result.files[path]
            code = (line.split("#", 1)[0] for line in output.text.split("\n"))
            mentions = mentions or any("<nixpkgs>" in line for line in code)
            todo.extend(target for _, target in referenced_files(output, generated))
        needs[card.stem] = bool(functions.get(card.stem, False)) or mentions
    return needs


def build_options(settings: Settings) -> list[str]:
    options = ["--option", "sandbox", "true" if settings.nix_sandbox else "false"]
    if settings.nix_sandbox and settings.nix_sandbox_paths:
        options += ["--option", "sandbox-paths", " ".join(settings.nix_sandbox_paths)]
    return options


def build_tier(settings: Settings, check: CheckResult, report: NixReport) -> None:
    result = check.tangled
    cards = [card for stem, card in sorted(check.runbook.cards.items()) if card.build and settings.aggregator]
    cards = [card for card in cards if card.build in result.files]
    if not cards:
        return
    aggregator = str(settings.root / settings.aggregator)
    have_nixpkgs = nixpkgs_available()
    needs = _needs_nixpkgs(settings, cards, result)
    wanted = []
    for card in cards:
        if needs[card.stem] and not have_nixpkgs:
            report.skipped.append((card.stem, "needs <nixpkgs>, which is not in the Nix search path"))
        else:
            wanted.append(card)
    if not wanted:
        return
    derivations = _instantiate(settings, aggregator, wanted, result, report)
    if not derivations:
        return
    built = run_nix(
        ["nix-build", "--no-out-link", "--keep-going", *build_options(settings), *derivations.values()],
        cwd=settings.root,
    )
    failed = set(_FAILED_DRV.findall(built.stderr))
    out_paths = _outputs(derivations)
    for stem, drv in derivations.items():
        card = check.runbook.cards[stem]
        path = out_paths.get(stem)
        if drv in failed or path is None or not Path(path).exists():
            report.problems.append(
                error(
                    card.rel,
                    card.line_of("build"),
                    f"nix-build of {card.build} failed",
                    _tail(built.stderr), rule="nix-build",
                )
            )
            continue
        report.built.append(stem)
        verify(settings, card, path, result, report)


def _instantiate(
    settings: Settings, aggregator: str, cards: list[Card], result: TangleResult, report: NixReport
) -> dict[str, str]:
    """Each card's derivation, evaluated in one call; an evaluation error is then pinned to
    its card by evaluating the attributes one by one."""

    def run(stems: list[str]) -> subprocess.CompletedProcess[str]:
        # Quoted: an attribute path splits at dots, and `py3.11-env` is one card.
        attributes = [argument for stem in stems for argument in ("-A", nix_string(stem))]
        return run_nix(["nix-instantiate", aggregator, *attributes], cwd=settings.root)

    stems = [card.stem for card in cards]
    together = run(stems)
    paths = together.stdout.split()
    if together.returncode == 0 and len(paths) == len(stems):
        return dict(zip(stems, paths, strict=True))
    derivations = {}
    for card in cards:
        alone = run([card.stem])
        if alone.returncode != 0:
            found = _map_nix_errors(alone.stderr, result, settings.root, "nix-build")
            report.problems.extend(
                found
                or [
                    error(
                        card.rel,
                        card.line_of("build"),
                        "nix evaluation failed",
                        _tail(alone.stderr),
                        rule="nix-build",
                    )
                ]
            )
            continue
        derivations[card.stem] = alone.stdout.split()[-1]
    return derivations


def _outputs(derivations: dict[str, str]) -> dict[str, str]:
    """The first output path of each derivation."""
    paths = {}
    for stem, drv in derivations.items():
        queried = run_nix(["nix-store", "--query", "--outputs", drv])
        if queried.returncode == 0 and queried.stdout.split():
            paths[stem] = queried.stdout.split()[0]
    return paths


# Line 1 of every check script: on the first failing command, bash prints its line number.
_FAILURE_MARK = "cardbook-check-failed"
_FAILURE_TRAP = f"""trap 'printf "\\n%s %s %s\\n" {_FAILURE_MARK} "$LINENO" "$?" >&2' ERR"""
_FAILED_LINE = re.compile(rf"^{_FAILURE_MARK} (?P<line>\d+) (?P<status>\d+)$", re.MULTILINE)


def verify(settings: Settings, card: Card, out_path: str, result: TangleResult, report: NixReport) -> None:
    """Run the card's {.check} blocks with $out set to the built output."""
    checks = [fence for fence in result.fences.get(card.stem, []) if fence.is_check]
    passed = True
    for fence in checks:
        problem = run_check(settings, card, fence, out_path)
        if problem is not None:
            passed = False
            report.problems.append(problem)
    if passed and checks:
        report.verified.append(card.stem)


def run_check(settings: Settings, card: Card, fence: Fence, out_path: str) -> Problem | None:
    """One {.check} block under `bash -euo pipefail`; a failure names the card line of the
    command that failed and shows what the block printed."""
    script = _FAILURE_TRAP + "\n" + "\n".join(fence.body) + "\n"
    env = nix_env() | {"out": out_path, "CARDBOOK_ROOT": str(settings.root)}
    try:
        ran = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script, f"{card.rel}:{fence.line}"],
            capture_output=True,
            text=True,
            env=env,
            cwd=settings.root,
            timeout=CHECK_TIMEOUT,
        )
    except subprocess.TimeoutExpired as exc:
        printed = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else exc.stdout or ""
        return error(
            card.rel,
            fence.line,
            f"check timed out after {CHECK_TIMEOUT} s",
            _tail(printed) or "(no output)",
            rule="nix-check",
        )
    if ran.returncode == 0:
        return None
    output = ran.stdout + ran.stderr
    failed = _FAILED_LINE.search(output)
    output = _FAILED_LINE.sub("", output)
    printed = _tail(output) or "(the block printed nothing)"
    if failed is None:  # bash itself failed (a syntax error): its message names the line
        return error(
            card.rel, fence.line, f"check failed (exit status {ran.returncode})", printed, rule="nix-check"
        )
    offset = int(failed["line"]) - 2  # the trap is line 1 of the script
    command = fence.body[offset].strip() if 0 <= offset < len(fence.body) else ""
    line = fence.body_line + offset if 0 <= offset < len(fence.body) else fence.line
    return error(
        card.rel,
        line,
        f"check failed: `{command}` exited with status {failed['status']}",
        printed, rule="nix-check",
    )


def _tail(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return "\n".join(lines[-OUTPUT_TAIL:])


def run_nix_tiers(check: CheckResult, *, build: bool = True, no_skip: bool = False) -> NixReport:
    """Parse, build and verify. With `no_skip`, a card that cannot be built here is an error."""
    settings = check.runbook.settings
    report = NixReport()
    started = time.monotonic()
    reason = missing_nix()
    if reason is not None:
        report.unavailable = reason
        return report
    try:
        report.parsed, parse_problems = parse_tier(settings, check.tangled)
        report.problems.extend(parse_problems)
        if build and not parse_problems and not check.errors:
            build_tier(settings, check, report)
        elif build:
            report.not_built = "the cards have errors" if check.errors else "a generated file does not parse"
    except NixSetupError as exc:
        report.unavailable = str(exc)
        report.problems.clear()
    if no_skip:
        for stem, why in report.skipped:
            card = check.runbook.cards[stem]
            report.problems.append(
                error(
                    card.rel,
                    card.line_of("build"),
                    f"not built: {why} (--no-skip makes this an error)",
                    rule="not-built",
                )
            )
    report.seconds = time.monotonic() - started
    return report
