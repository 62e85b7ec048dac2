"""How every `cardbook` command ends on a setup problem: its messages, then the exit status."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from functools import wraps

from cardbook.core.disk import DiskError, LockError, LockTimeout
from cardbook.core.problems import ConfigError, error

from .echo import echo

TYPE_CHECKING = False  # typing is not imported at run time: it costs start-up
if TYPE_CHECKING:
    from typing import Any

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2


def handles_config_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """A broken mkdocs.yml or a refused setup is a usage error (exit 2), printed like any other
    problem, and so is a lock that cannot be taken; another run holding the runbook's lock too
    long, or a write the machine refused, ends the run with exit 1."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except ConfigError as exc:
            for problem in exc.problems:
                echo(problem.format(), err=True)
            sys.exit(EXIT_USAGE)
        except LockTimeout as exc:
            echo(f"cardbook: {exc}", err=True)
            sys.exit(EXIT_PROBLEMS)
        except LockError as exc:  # the lock's file or folder is in the way: the machine's setup
            echo(f"cardbook: {exc}", err=True)
            sys.exit(EXIT_USAGE)
        except DiskError as exc:  # nothing was changed: the writes are all or nothing
            shown = os.path.relpath(exc.path) if os.path.isabs(exc.path) else str(exc.path)
            refused = error(shown, 1, f"cannot write: {exc.reason}; nothing was changed", rule="cannot-write")
            echo(refused.format(), err=True)
            sys.exit(EXIT_PROBLEMS)

    return wrapper
