"""Unit tests exercise pure rules: no table, no moto, no meter (these override the suite's fixtures)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def aws() -> None:
    return None


@pytest.fixture(autouse=True)
def no_scan() -> None:
    return None
