"""Shared fixtures: the core functions take `today=`, so date rules never depend on the clock."""

from __future__ import annotations

import datetime as dt

import pytest

TODAY = dt.date(2026, 6, 1)


@pytest.fixture
def today() -> dt.date:
    return TODAY
