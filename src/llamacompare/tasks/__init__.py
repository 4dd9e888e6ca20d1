"""Suites, tasks, their cases (inline or from CSV/TSV/JSONL files) and prompt templating."""

from llamacompare.tasks.case import Case
from llamacompare.tasks.datasets import (
    CaseSource,
    SuiteValidation,
    TaskValidation,
    count_cases,
    iter_cases,
)
from llamacompare.tasks.errors import SuiteError
from llamacompare.tasks.labels import fold_label
from llamacompare.tasks.loaded import LoadedSuite
from llamacompare.tasks.loader import load_suite
from llamacompare.tasks.prompt_template import RenderedPrompt, placeholders, render_case
from llamacompare.tasks.schema import DatasetSpec, JudgeSpec, ModelConfig, ParamsSpec, Suite, Task

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
    "SuiteValidation",
    "SuiteError",
    "Task",
    "TaskValidation",
    "count_cases",
    "fold_label",
    "iter_cases",
    "load_suite",
    "placeholders",
    "render_case",
]
