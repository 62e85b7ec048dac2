"""Problems a user can cause, reported as `path:line: severity: message`."""

from __future__ import annotations

from collections.abc import Iterable

from .record import FrozenRecord

TYPE_CHECKING = False  # typing is not imported at run time: it costs start-up
if TYPE_CHECKING:
    from typing import Literal

    Severity = Literal["error", "warning", "info"]


class Problem(FrozenRecord):
    """One finding about the user's files; `path` is relative to the project root.

    Problems compare and sort by path, line, severity, message and rule."""

    __slots__ = ("path", "line", "severity", "message", "detail", "subject", "rule")
    _uncompared = ("detail", "subject")

    def __init__(
        self,
        path: str,
        line: int,
        severity: Severity,
        message: str,
        # Tool output that explains the problem (a build log tail), printed indented below it.
        detail: str = "",
        # The generated file a problem reported at a card line is about (drift), for `check PATHS`.
        subject: str = "",
        rule: str = "",  # its id in core/rules.py, printed last as linters do
    ) -> None:
        self._set(path=path, line=line, severity=severity, message=message)
        self._set(detail=detail, subject=subject, rule=rule)

    def __lt__(self, other: Problem) -> bool:
        return self._fields() < other._fields()

    def __le__(self, other: Problem) -> bool:
        return self._fields() <= other._fields()

    def __gt__(self, other: Problem) -> bool:
        return self._fields() > other._fields()

    def __ge__(self, other: Problem) -> bool:
        return self._fields() >= other._fields()

    def format(self) -> str:
        head = f"{self.path}:{self.line}: {self.severity}: {self.message}"
        if self.rule:
            head += f" [{self.rule}]"
        if not self.detail:
            return head
        return head + "\n" + "\n".join("    " + line for line in self.detail.splitlines())

    def as_dict(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in self.__slots__ if name != "subject"}


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
