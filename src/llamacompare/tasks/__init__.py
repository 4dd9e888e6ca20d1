"""Suites, tasks, their cases (inline or from CSV/TSV/JSONL files) and prompt templating."""

from llamacompare.tasks.datasets import (
    CaseSource,
    SuiteCheck,
    TaskCheck,
    count_cases,
    iter_cases,
)
from llamacompare.tasks.loaded import LoadedSuite
from llamacompare.tasks.loader import load_suite
from llamacompare.tasks.suite import (
    Case,
    DatasetSpec,
    JudgeSpec,
    ModelConfig,
    ParamsSpec,
    Suite,
    SuiteError,
    Task,
    fold_label,
)
from llamacompare.tasks.template import RenderedPrompt, placeholders, render_case

__all__ = [
    "Case",
    "CaseSource",
    "DatasetSpec",
    "JudgeSpec",
    "LoadedSuite",
    "ModelConfig",
    "ParamsSpec",
    "RenderedPrompt",
    "Suite",
    "SuiteCheck",
    "SuiteError",
    "Task",
    "TaskCheck",
    "count_cases",
    "fold_label",
    "iter_cases",
    "load_suite",
    "placeholders",
    "render_case",
]
