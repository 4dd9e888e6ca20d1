"""The runner: every case of every task, sent to every model, stored as it arrives."""

from llamacompare.runner.engine import RunOutcome, execute
from llamacompare.runner.plan import RunOptions, RunPlan, make_plan, plan_from_run

__all__ = ["RunOptions", "RunOutcome", "RunPlan", "execute", "make_plan", "plan_from_run"]
