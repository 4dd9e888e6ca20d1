"""Fixtures for the report tests."""

from __future__ import annotations

import copy

import pytest
from report_fixture import build_report_data

from llamacompare.analysis.contract import Report

_DATA = build_report_data()


@pytest.fixture
def report_data() -> Report:
    """A fresh Report per test (validated from the fixture's JSON form), so tests may edit it."""
    return Report.model_validate(copy.deepcopy(_DATA))
