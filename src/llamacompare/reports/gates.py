"""Quality gates: minimum values for metrics, checked per task and model (baseline rows are not gated)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from llamacompare import formatting as fmt
from llamacompare.analysis.contract import Report
from llamacompare.errors import UsageError


@dataclass(frozen=True, slots=True)
class GateResult:
    task: str
    model: str
    metric: str
    gate: float
    value: float | None  # None: the model has no value for a metric its task reports
    lo: float | None
    hi: float | None

    @property
    def passed(self) -> bool:
        return self.value is not None and self.value >= self.gate

    def line(self) -> str:
        shown = "no value" if self.value is None else fmt.interval(self.value, self.lo, self.hi, digits=3)
        verdict = ">=" if self.passed else "<"
        return f"{self.task} / {self.model}: {self.metric} {shown} {verdict} gate {self.gate:g}"


def known_metrics(data: Report) -> list[str]:
    return sorted({m for t in data.tasks for row in t.models for m in row.metrics})


def evaluate_gates(data: Report, gates: Mapping[str, float]) -> list[GateResult]:
    """One result per task x non-baseline model x gated metric that the task reports.
    A gate on a metric no task has is a UsageError, so a typo never passes silently."""
    known = known_metrics(data)
    unknown = [m for m in gates if m not in known]
    if unknown:
        raise UsageError(
            f"unknown gate metric {', '.join(repr(m) for m in unknown)}; "
            f"known metrics: {', '.join(known) or '(none)'}"
        )
    results: list[GateResult] = []
    for task in data.tasks:
        task_metrics = {m for row in task.models for m in row.metrics}
        for metric, gate in gates.items():
            if metric not in task_metrics:
                continue
            for row in task.models:
                if row.is_baseline:
                    continue
                mv = row.metrics.get(metric)
                results.append(
                    GateResult(
                        task=task.id,
                        model=row.model,
                        metric=metric,
                        gate=float(gate),
                        value=fmt.finite(mv.value) if mv else None,
                        lo=fmt.finite(mv.lo) if mv else None,
                        hi=fmt.finite(mv.hi) if mv else None,
                    )
                )
    return results


def check_gates(data: Report, gates: Mapping[str, float]) -> list[str]:
    """The failure lines, empty when every gate passes.
    E.g. 'sentiment / gemma: accuracy 0.712 [0.60, 0.80] < gate 0.8'."""
    return [r.line() for r in evaluate_gates(data, gates) if not r.passed]
