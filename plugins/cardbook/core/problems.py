"""Problems a user can cause, reported as `path:line: severity: message`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Literal

Severity = Literal["error", "warning", "info"]


@dataclass(frozen=True, order=True)
class Problem:
    """One finding about the user's files; `path` is relative to the project root."""

    path: str
    line: int
    severity: Severity
    message: str
    # Tool output that explains the problem (a build log tail), printed indented below it.
    detail: str = field(default="", compare=False)
    # The generated file a problem reported at a card line is about (drift), for `check PATHS`.
    subject: str = field(default="", compare=False)
    rule: str = ""  # its id in core/rules.py, printed last as linters do

    def format(self) -> str:
        head = f"{self.path}:{self.line}: {self.severity}: {self.message}"
        if self.rule:
            head += f" [{self.rule}]"
        if not self.detail:
            return head
        return head + "\n" + "\n".join("    " + line for line in self.detail.splitlines())

    def as_dict(self) -> dict[str, object]:
        data = asdict(self)
        data.pop("subject")
        return data


def error(path: str, line: int, message: str, detail: str = "", *, rule: str) -> Problem:
    return Problem(path, line, "error", message, detail, rule=rule)


def warning(path: str, line: int, message: str, *, rule: str) -> Problem:
    return Problem(path, line, "warning", message, rule=rule)


class ConfigError(Exception):
    """The configuration (mkdocs.yml or the command line) is unusable: exit status 2."""

    def __init__(self, problem: Problem, more: Iterable[Problem] = ()) -> None:
        self.problems = [problem, *more]
        super().__init__("\n".join(p.format() for p in self.problems))
        self.problem = problem


def sort_problems(problems: Iterable[Problem]) -> list[Problem]:
    """Stable, file-system-order independent ordering; exact duplicates are dropped."""
    return sorted(set(problems))


def count(problems: Iterable[Problem]) -> tuple[int, int]:
    """Return (errors, warnings); info is neither (`--strict` never fails on it)."""
    errors = warnings = 0
    for problem in problems:
        if problem.severity == "error":
            errors += 1
        elif problem.severity == "warning":
            warnings += 1
    return errors, warnings


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"
