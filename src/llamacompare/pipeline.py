"""One run, start to end: load the suite, plan, execute, judge, score, summarise. The command line (`run`,
`rescore`) and the notebook's `compare()` both go through here, so a run is the same run whichever started it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llamacompare.errors import UsageError
from llamacompare.tasks.loaded import LoadedSuite
from llamacompare.tasks.loader import load_suite
from llamacompare.tasks.schema import Suite

if TYPE_CHECKING:  # the rest loads when used: a run should be recorded as soon as it starts
    from llamacompare.analysis.contract import Report
    from llamacompare.runner.engine import ProgressSink, RunOutcome
    from llamacompare.runner.estimate import PlanEstimate
    from llamacompare.runner.plan import RunOptions, RunPlan
    from llamacompare.scoring.recommend import Prefer
    from llamacompare.store.db import Store
    from llamacompare.tasks.case import ClassifyMode


@dataclass(slots=True)
class RunResult:
    plan: RunPlan
    outcome: RunOutcome
    judge_failed: int  # answers a judge could not grade this time (a rerun asks again)
    report: Report


def plan_run(
    suite: str | Path | Suite,
    models: list[str] | None,
    options: RunOptions,
    *,
    suite_ref: str | None = None,
    data: str | Path | None = None,
    limit: int | None = None,
    mode: ClassifyMode | None = None,
) -> RunPlan:
    """A new run's plan: `suite` is a built-in name, a YAML file or a Suite already built. Bad input fails here,
    before any request."""
    # start-up: the module is imported on the way to `compare` or a command's --help (measured)
    from llamacompare.runner.plan import make_plan

    if isinstance(suite, Suite):
        loaded, ref = LoadedSuite.of(suite), suite_ref or suite.name or "suite"
    else:
        loaded, ref = load_suite(suite, data=data), suite_ref or str(suite)
    return make_plan(loaded, ref, models, options, data=str(data) if data is not None else None, limit=limit,
                     mode=mode)


def resume_plan(store: Store, run_ref: str, given: dict[str, Any] | None = None) -> RunPlan:
    """The plan of a stored run, to continue it where it stopped; `given` as `plan_from_run` takes it."""
    # start-up: the module is imported on the way to `compare` or a command's --help (measured)
    from llamacompare.runner.plan import plan_from_run

    return plan_from_run(store.get_run(run_ref), given)


def estimate_run(plan: RunPlan, store: Store, *, detect: float | None = None) -> PlanEstimate:
    """`run --plan`: what the plan would send, cost and take, and what its cases can detect; nothing is sent."""
    # start-up: the module is imported on the way to `compare` or a command's --help (measured)
    from llamacompare.runner.estimate import estimate

    return estimate(plan, store, detect=detect)


def run_plan(
    plan: RunPlan,
    store: Store,
    *,
    resume: bool = False,
    progress: ProgressSink | None = None,
    prefer: Prefer = "cost",
    max_cases: int | None = None,
) -> RunResult:
    """Execute the plan (answers are stored as they arrive), let the judges grade, score, and summarise.
    KeyboardInterrupt leaves everything answered so far in the store; `resume_plan` continues it."""
    # start-up: the module is imported on the way to `compare` or a command's --help (measured)
    from llamacompare.runner.engine import execute

    # start-up: the module is imported on the way to `compare` or a command's --help (measured)
    from llamacompare.sync import run_sync

    outcome = run_sync(execute(plan, store, progress=progress, resume=resume))
    from llamacompare.analysis.judge import run_judges  # loaded after the answers: they are stored first

    # start-up: the module is imported on the way to `compare` or a command's --help (measured)
    from llamacompare.analysis.score import score_run

    # start-up: the module is imported on the way to `compare` or a command's --help (measured)
    from llamacompare.analysis.summary import build_report

    models = [*plan.suite.models, *(m.config for m in plan.models)]  # a judge listed there keeps its limits
    judge_failed = run_sync(run_judges(store, plan.run_id, plan.suite, plan.options, models=models,
                                       progress=progress))
    score_run(store, plan.run_id, plan.suite, base_dir=plan.loaded.base_dir)
    report = build_report(store, plan.run_id, plan.suite, prefer=prefer, max_cases=max_cases)
    return RunResult(plan, outcome, judge_failed, report)


@dataclass(slots=True)
class RescoreResult:
    run_id: str
    scores: int
    report: Report
    labels: int = 0  # human labels stored from the labels file


def rescore_run(store: Store, run_ref: str, *, suite_path: Path | None = None, prefer: Prefer = "cost",
                max_cases: int | None = 0, labels_path: Path | None = None) -> RescoreResult:
    """Score a stored run again from its stored answers (no model is called, cached judge verdicts aside), with
    its own suite or with `suite_path`'s scorers and labels, whose tasks must all be in the run. `labels_path`:
    human labels exported from the HTML report, checked whole before any is stored."""
    # start-up: the module is imported on the way to `compare` or a command's --help (measured)
    from llamacompare.analysis.runs import stored_suite

    # start-up: the module is imported on the way to `compare` or a command's --help (measured)
    from llamacompare.analysis.score import score_run

    # start-up: the module is imported on the way to `compare` or a command's --help (measured)
    from llamacompare.analysis.summary import build_report

    row = store.get_run(run_ref)
    suite = stored_suite(row)
    if suite_path is not None:
        new = load_suite(suite_path, validate=False).suite
        known = {t.id for t in suite.tasks}
        missing = [t.id for t in new.tasks if t.id not in known]
        if missing:
            raise UsageError(f"{suite_path}: task(s) {', '.join(missing)} are not in run {row.id} "
                             f"(its tasks: {', '.join(sorted(known))})")
        suite = new
    labels = 0
    if labels_path is not None:
        # start-up: the module is imported on the way to `compare` or a command's --help (measured)
        from llamacompare.analysis.human import read_labels

        labels = store.save_human_labels(read_labels(labels_path, store, row.id))
    n = score_run(store, row.id, suite, base_dir=suite_path.parent if suite_path is not None else None)
    report = build_report(store, row.id, suite, prefer=prefer, max_cases=max_cases)
    return RescoreResult(row.id, n, report, labels)
