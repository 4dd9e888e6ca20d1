"""Fixtures for the report tests."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from report_fixture import build_report_data

_DATA = build_report_data()


@pytest.fixture
def report_data() -> dict[str, Any]:
    """A fresh copy per test, so tests may edit it."""
    return copy.deepcopy(_DATA)
