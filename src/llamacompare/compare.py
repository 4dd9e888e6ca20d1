"""`compare()`: the notebook's side-by-side comparison as one call, stored and cached like any run."""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeGuard

from llamacompare import formatting as fmt
from llamacompare.analysis.contract import ModelRow, Report
from llamacompare.tasks.suite import Suite

if TYPE_CHECKING:
    from llamacompare.scoring.recommend import Prefer


class Comparison:
    """The result of `compare()`: renders as tables in Jupyter, converts to a pandas DataFrame."""

    def __init__(self, report: Report, db_path: Path) -> None:
        self.report = report
        self.db_path = db_path

    @property
    def run_id(self) -> str:
        return self.report.run.id

    @property
    def models(self) -> list[str]:
        return list(self.report.run.models)

    @property
    def answers(self) -> dict[str, str | None]:
        """For a single prompt: model -> answer text."""
        if not self.report.cases:
            return {}
        return {m: a.text for m, a in self.report.cases[0].answers.items()}

    def records(self) -> list[dict[str, Any]]:
        out = []
        for case in self.report.cases:
            for model, a in case.answers.items():
                out.append({"task": case.task, "case": case.id, "input": case.input, "reference": case.reference,
                            "model": model, "answer": a.text, "error": a.error, "label": a.label,
                            "correct": a.correct, "score": a.score, "latency_s": a.latency_s,
                            "prompt_tokens": a.prompt_tokens, "completion_tokens": a.completion_tokens,
                            "cost_usd": a.cost_usd})
        return out

    def to_pandas(self) -> Any:
        """One row per task x case x model."""
        import pandas as pd

        return pd.DataFrame.from_records(self.records())

    def summary(self) -> Any:
        """One row per task x model: the primary metric with its 95% CI, latency and cost."""
        import pandas as pd

        rows = []
        for t in self.report.tasks:
            for m in t.models:
                metric = m.metrics.get(t.primary_metric)
                rows.append({"task": t.id, "model": m.model, "metric": t.primary_metric,
                             "value": metric.value if metric else None, "ci_low": metric.lo if metric else None,
                             "ci_high": metric.hi if metric else None, "n": m.n, "latency_p50_s": m.latency_p50_s,
                             "cost_usd": m.cost_usd, "tied_with_best": m.tied_with_best})
        return pd.DataFrame.from_records(rows)

    def __repr__(self) -> str:
        lines = [f"Comparison(run={self.run_id!r}, models={self.models})"]
        for case in self.report.cases[:10]:
            lines.append(f"- {case.task}/{case.id}")
            for m, a in case.answers.items():
                text = (a.text or a.error or "").strip().replace("\n", " ")
                lines.append(f"    {m}: {text[:100]}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        e = html.escape
        parts = [f"<div><b>llamacompare</b> run <code>{e(self.run_id)}</code></div>"]
        for t in self.report.tasks:
            metric = t.primary_metric
            rows = "".join(_html_row(m, metric) for m in t.models)
            rec = t.recommendation
            parts.append(
                f"<h4>{e(t.id)} ({e(t.type)})</h4><table><tr><th>model</th><th>{e(metric)} [95% CI]</th>"
                f"<th>n</th><th>latency p50</th><th>cost</th></tr>{rows}</table>"
                + (f"<p><b>{e(rec.line)}</b></p>" if rec else "")
            )
        models = self.models
        head = "".join(f"<th>{e(m)}</th>" for m in models)
        body = []
        for case in self.report.cases[:50]:
            cells = []
            for m in models:
                matches = [a for name, a in case.answers.items() if name.split("@")[0] == m]
                texts = [e((a.text or a.error or "").strip()) for a in matches]
                cells.append("<td style='white-space:pre-wrap;text-align:left'>" + "<hr>".join(texts) + "</td>")
            body.append(f"<tr><td style='text-align:left'><b>{e(case.task)}/{e(case.id)}</b></td>"
                        + "".join(cells) + "</tr>")
        parts.append(f"<table><tr><th>case</th>{head}</tr>{''.join(body)}</table>")
        return "\n".join(parts)


def _html_row(m: ModelRow, metric: str) -> str:
    e = html.escape
    star = " ★" if m.tied_with_best and not m.is_baseline else ""
    cost = fmt.DASH if m.is_baseline else fmt.cost(m.cost_usd)
    return (f"<tr><td>{e(m.model)}{star}</td><td>{e(fmt.metric(m.metrics.get(metric)))}</td><td>{m.n}</td>"
            f"<td>{e(fmt.seconds(m.latency_p50_s))}</td><td>{e(cost)}</td></tr>")


def _looks_like_suite(value: object) -> TypeGuard[str | Path | Suite]:
    if isinstance(value, Suite | Path):
        return True
    if not isinstance(value, str) or "\n" in value:
        return False
    from llamacompare.suites import builtin_suite_names

    return value in builtin_suite_names() or (value.endswith((".yaml", ".yml")) and Path(value).is_file())


def _prompt_suite(prompts: Sequence[str], system: str | None, temperature: float, max_tokens: int) -> Suite:
    return Suite.model_validate({
        "name": "compare",
        "tasks": [{
            "id": "prompt", "type": "generate", "template": "{prompt}", "system": system,
            "cases": [{"id": str(i + 1), "prompt": p} for i, p in enumerate(prompts)],
            "scorers": ["length"], "params": {"temperature": float(temperature), "max_tokens": int(max_tokens)},
        }],
    })


def compare(
    prompt_or_suite: str | Sequence[str] | Suite | Path,
    models: Sequence[str] | None = None,
    *,
    system: str | None = None,
    temperature: float = 0.0,
    max_tokens: int = 256,
    data: str | Path | None = None,
    limit: int | None = None,
    db: str | Path | None = None,
    base_url: str | None = None,
    concurrency: int = 8,
    progress: bool = True,
    prefer: Prefer = "cost",
) -> Comparison:
    """Send a prompt (or a list of prompts, or a whole suite) to each model and compare the answers.

    `compare(prompt, models=[...])` works like the notebook's cells; `compare("sst2", models=[...],
    data="sst2_dev.tsv")` runs a built-in or YAML suite. Answers are stored and cached, so re-running a cell
    sends nothing it already has.
    """
    from llamacompare import pipeline
    from llamacompare.runner import RunOptions
    from llamacompare.store import Store

    options = RunOptions(default_concurrency=concurrency, base_url=base_url)
    names = list(models) if models else None
    if _looks_like_suite(prompt_or_suite):
        plan = pipeline.plan_run(prompt_or_suite, names, options, data=data, limit=limit)
    else:
        prompts = [prompt_or_suite] if isinstance(prompt_or_suite, str) else [str(p) for p in prompt_or_suite]
        plan = pipeline.plan_run(_prompt_suite(prompts, system, temperature, max_tokens), names, options,
                                 suite_ref="compare", limit=limit)
    sink = None
    if progress:
        from llamacompare.runner.progress import RichProgress

        sink = RichProgress()
    store = Store(db)
    try:
        result = pipeline.run_plan(plan, store, progress=sink, prefer=prefer)
    finally:
        store.close()
    return Comparison(result.report, store.path)
