"""The `cardbook` console script.

A short-lived run builds many small objects and frees little: the cyclic collector's repeated
full scans cost 15% at 10000 cards, and nothing it would free matters before the process ends.
The collector is turned off here, in the program's own entry point, never in library code: a
test or a program that calls the click group keeps its collector as it was.
"""

from __future__ import annotations

import gc


def main() -> None:
    gc.disable()
    from .main import main as cardbook

    cardbook()
