"""Reading stored runs back: their suite as it was, and their report."""

from __future__ import annotations

from llamacompare.analysis.contract import Report
from llamacompare.analysis.score import scores_so_far
from llamacompare.analysis.summary import build_report
from llamacompare.scoring.recommend import Prefer
from llamacompare.store.db import Store
from llamacompare.store.rows import RunRow
from llamacompare.tasks.schema import Suite


def stored_suite(run_row: RunRow) -> Suite:
    """The suite exactly as the run used it (no dataset is read again)."""
    cfg = run_row.config
    return Suite.model_validate(cfg["suite"])


def run_report(store: Store, run_ref: str, *, prefer: Prefer = "cost", max_cases: int | None = None,
               include_cases: bool = True, margin: float | None = None) -> Report:

    row = store.get_run(run_ref)
    suite = stored_suite(row)
    scores = None
    if row.status != "done":  # scores are stored when a run ends: score what it has answered so far

        scores = scores_so_far(store, row.id, suite)
    return build_report(store, row.id, suite, prefer=prefer, max_cases=max_cases, include_cases=include_cases,
                        scores=scores, margin=margin)
