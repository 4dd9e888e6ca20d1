"""`compare()`: the notebook's side-by-side comparison as one call, stored and cached like any run."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeGuard

from llamacompare import pipeline
from llamacompare.analysis.contract import CaseReport, Report
from llamacompare.reports import notebook, render_html
from llamacompare.reports.figure import Chart
from llamacompare.reports.html import disagrees
from llamacompare.reports.notebook import ROWS
from llamacompare.tasks.schema import Suite

if TYPE_CHECKING:
    from llamacompare.scoring.recommend import Prefer


class Comparison:
    """The result of `compare()`. In Jupyter it shows what the HTML report shows: each task's recommendation,
    summary with 95% intervals and charts, then the cases side by side with input, reference and ✓/✗ (the first
    rows; `report()` writes them all). Also: `to_pandas()`, `summary()`, `checks()`, `plot()`, `show(case_id)`,
    `disagreements()`."""

    def __init__(self, data: Report, db_path: Path, *, rows: int = ROWS, disagreements_first: bool = False) -> None:
        self.data = data  # the typed Report the HTML report, the terminal and these views are drawn from
        self.db_path = db_path
        self.rows = rows
        self.disagreements_first = disagreements_first

    @property
    def run_id(self) -> str:
        return self.data.run.id

    @property
    def models(self) -> list[str]:
        return list(self.data.run.models)

    @property
    def answers(self) -> dict[str, str | None]:
        """For a single prompt: model -> answer text."""
        if not self.data.cases:
            return {}
        return {m: a.text for m, a in self.data.cases[0].answers.items()}

    def _axes(self) -> list[str]:
        """The columns beside `model` a run's rows need: "prompt" and/or "setting" where some task has them."""
        return [a for a, on in (("prompt", any(t.prompts for t in self.data.tasks)),
                                ("setting", any(t.settings for t in self.data.tasks))) if on]

    def _variants(self) -> dict[tuple[str, str], dict[str, str]] | None:
        """(task, row name) -> {model, prompt, setting} when a task has prompt variants or settings, else None."""
        axes = self._axes()
        if not axes:
            return None
        return {(t.id, r.model): _named(r.base_model or r.model, r.prompt, r.setting, axes)
                for t in self.data.tasks for r in t.models}

    def records(self) -> list[dict[str, Any]]:
        out = []
        types = {t.id: t.type for t in self.data.tasks}
        variants = self._variants()
        for case in self.data.cases:
            disagree = disagrees(case, types.get(case.task, "generate"))
            for model, a in case.answers.items():
                named: dict[str, Any] = {"model": model}
                if variants is not None:
                    named = dict(variants.get((case.task, model)) or _named(model, None, None, self._axes()))
                out.append({"task": case.task, "case": case.id, "input": case.input, "reference": case.reference,
                            **named, "answer": a.text, "error": a.error, "label": a.label,
                            "correct": a.correct, "score": a.score, "latency_s": a.latency_s,
                            "prompt_tokens": a.prompt_tokens, "completion_tokens": a.completion_tokens,
                            "cost_usd": a.cost_usd, "disagree": disagree,
                            "checks": {m: o.value for m, o in a.checks.items()},
                            "check_reasons": {m: o.reason for m, o in a.checks.items() if o.reason}})
        return out

    def to_pandas(self) -> Any:
        """One row per task x case x model (x prompt variant and setting, in `prompt` and `setting` columns, for
        tasks with `prompts:` or `settings:`)."""
        import pandas as pd  # start-up: `from llamacompare import ...` in a notebook loads nothing more

        return pd.DataFrame.from_records(self.records())

    def summary(self) -> Any:
        """One row per task x model (x prompt variant and setting, in their own columns, where tasks have them): the
        primary metric with its 95% CI, latency and cost; for label-scored rows whether the scores are exact or
        approximate (`label_scores`) and the share of cases where every label was listed (`label_coverage`)."""
        import pandas as pd  # start-up: `from llamacompare import ...` in a notebook loads nothing more

        rows = []
        axes = self._axes()
        for t in self.data.tasks:
            for m in t.models:
                metric = m.metrics.get(t.primary_metric)
                named: dict[str, Any] = {"model": m.model}
                if axes:
                    named = _named(m.base_model or m.model, m.prompt, m.setting, axes)
                rows.append({"task": t.id, **named, "metric": t.primary_metric,
                             "value": metric.value if metric else None, "ci_low": metric.lo if metric else None,
                             "ci_high": metric.hi if metric else None, "n": m.n, "latency_p50_s": m.latency_p50_s,
                             "cost_usd": m.cost_usd, "tied_with_best": m.tied_with_best,
                             "label_scores": m.label_scores.exactness if m.label_scores else None,
                             "label_coverage": m.label_scores.coverage if m.label_scores else None})
        return pd.DataFrame.from_records(rows)

    def checks(self) -> Any:
        """One row per task x model x check: the share of answers passing (a user's scores: their mean) with its
        95% CI, as in the report's checks tables; `to_pandas()` has each answer's outcomes and reasons."""
        import pandas as pd  # start-up: `from llamacompare import ...` in a notebook loads nothing more

        # start-up: `from llamacompare import ...` in a notebook loads nothing more
        from llamacompare.analysis.checks import ordered_check_metrics

        rows = []
        for t in self.data.tasks:
            for metric, name in ordered_check_metrics(t):
                for m in t.models:
                    v = m.metrics.get(metric)
                    if v is not None and not m.is_baseline:
                        rows.append({"task": t.id, "model": m.model, "check": name, "metric": metric,
                                     "value": v.value, "ci_low": v.lo, "ci_high": v.hi})
        return pd.DataFrame.from_records(rows, columns=["task", "model", "check", "metric", "value", "ci_low",
                                                        "ci_high"])

    def disagreements(self, rows: int | None = None) -> Comparison:
        """The same comparison with the cases where the models disagree first (different labels, or different
        text for generated answers)."""
        return Comparison(self.data, self.db_path, rows=rows or self.rows, disagreements_first=True)

    def head(self, rows: int) -> Comparison:
        """The same comparison showing its first `rows` cases."""
        return Comparison(self.data, self.db_path, rows=rows, disagreements_first=self.disagreements_first)

    def plot(self, x: Literal["cost", "latency"] | None = None, task: str | None = None) -> Chart:
        """Quality against cost and latency (or just `x`), with intervals and the Pareto frontier: the report's
        charts. Shows itself in Jupyter; `.save("chart.svg")` writes it."""
        return Chart.of(self.data, x, task)

    def report(self, path: str | Path) -> Path:
        """Write the full self-contained HTML report (every case, with search, filters and word diff) to `path`."""
        out = Path(path)
        out.write_text(render_html(self.data), encoding="utf-8")
        return out

    def show(self, case_id: str) -> CaseView:
        """One case in full: input, reference, and each answer with its prompt, parameters, tokens, latency and
        cost. `case_id` is a case id, or 'task/id' where tasks share ids."""
        return CaseView(self.data, notebook.find_case(self.data, case_id))

    def __repr__(self) -> str:
        return notebook.comparison_text(self.data, rows=self.rows, disagreements_first=self.disagreements_first,
                                        name=_name_in_notebook(self))

    def _repr_html_(self) -> str:
        return notebook.comparison_html(self.data, rows=self.rows, disagreements_first=self.disagreements_first,
                                        name=_name_in_notebook(self))


class CaseView:
    """`Comparison.show(case_id)`: renders as HTML in Jupyter and as text elsewhere."""

    def __init__(self, report: Report, case: CaseReport) -> None:
        self.data, self.case = report, case

    def __repr__(self) -> str:
        return notebook.case_text(self.data, self.case)

    def _repr_html_(self) -> str:
        return notebook.case_html(self.data, self.case)


def _name_in_notebook(obj: object) -> str:
    """The variable holding `obj` in the notebook (so "see the rest" hints can be copied), else "c"."""
    # start-up: `from llamacompare import ...` in a notebook loads nothing more
    from llamacompare.runner.progress import in_jupyter_kernel

    if in_jupyter_kernel():
        import IPython  # start-up: `from llamacompare import ...` in a notebook loads nothing more

        names = [(k, v) for k, v in IPython.get_ipython().user_ns.items()
                 if k.isidentifier() and not k.startswith("_")]
        # the object itself, else the comparison it is a view of (`seed.disagreements()` -> "seed")
        for name, value in names:
            if value is obj:
                return name
        for name, value in names:
            if isinstance(value, Comparison) and isinstance(obj, Comparison) and value.data is obj.data:
                return name
    return "c"


def _named(model: str, prompt: str | None, setting: str | None, axes: list[str]) -> dict[str, str]:
    """A row's model and, in their own columns, the axes the run has."""
    parts = {"prompt": prompt or "", "setting": setting or ""}
    return {"model": model, **{a: parts[a] for a in axes}}


def _looks_like_suite(value: object) -> TypeGuard[str | Path | Suite]:
    if isinstance(value, Suite | Path):
        return True
    if not isinstance(value, str) or "\n" in value:
        return False
    # start-up: `from llamacompare import ...` in a notebook loads nothing more
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
    margin: float = 0.0,
    until_decided: bool = False,
    seed: int = 0,
) -> Comparison:
    """Send a prompt (or a list of prompts, or a whole suite) to each model and compare the answers.

    `compare(prompt, models=[...])` works like the notebook's cells; `compare("sst2", models=[...],
    data="sst2_dev.tsv")` runs a built-in or YAML suite. Answers are stored and cached, so re-running a cell
    sends nothing it already has.

    Args:
        prompt_or_suite: a prompt, a list of prompts (one case each), a built-in suite's name ("sst2",
            "tr_polarity", ...), a suite YAML file's path, or a loaded `Suite`.
        models: model names as `run -m` takes them ("local:gemma-3-270m", "together:...", "openai:..."); None:
            the suite's models, else the default (the bundled models, or Together's with a key).
        system: a system prompt for the prompts (not used with a suite: a suite's tasks carry their own).
        temperature: sampling temperature for the prompts (0: greedy, the same answer each time).
        max_tokens: the longest answer to the prompts, in tokens.
        data: a dataset file (TSV, CSV, JSONL, Parquet) that replaces the suite's cases, as `run --data`.
        limit: at most this many cases per task, as `run --limit`.
        db: the SQLite database answers are stored and cached in (default: `LLAMACOMPARE_DB`, else
            llamacompare.db in the user data folder, as `run`).
        base_url: the server for `openai:`/`vllm:`/`ollama:` models, as `run --base-url`.
        concurrency: requests in flight per hosted model (an in-process model batches on its own).
        progress: show a progress bar (an HTML bar in Jupyter, a text bar in a terminal).
        prefer: which of the models tied with the best the recommendation names: "cost" (the cheapest) or
            "latency" (the fastest).
        margin: recommend the cheapest (or fastest) model within this much of the best, as `run --margin`.
        until_decided: stop sending a model cases once the race has decided it, as `run --until-decided`.
        seed: the order `until_decided` asks the cases in, as `run --seed`.

    Returns:
        A `Comparison`: shown as the report in Jupyter, with `.summary()` and `.checks()` (pandas),
        `.records()`, `.disagreements()` and `.data` (the typed Report).
    """
    # start-up: `from llamacompare import ...` in a notebook loads nothing more
    from llamacompare.runner import RunOptions
    from llamacompare.store import Store  # start-up: `from llamacompare import ...` in a notebook loads nothing more

    options = RunOptions(default_concurrency=concurrency, base_url=base_url, margin=margin,
                         until_decided=until_decided, seed=seed)
    names = list(models) if models else None
    if _looks_like_suite(prompt_or_suite):
        plan = pipeline.plan_run(prompt_or_suite, names, options, data=data, limit=limit)
    else:
        assert not isinstance(prompt_or_suite, Suite | Path)  # _looks_like_suite took those
        prompts = [prompt_or_suite] if isinstance(prompt_or_suite, str) else [str(p) for p in prompt_or_suite]
        plan = pipeline.plan_run(_prompt_suite(prompts, system, temperature, max_tokens), names, options,
                                 suite_ref="compare", limit=limit)
    sink = None
    if progress:
        # start-up: `from llamacompare import ...` in a notebook loads nothing more
        from llamacompare.runner.progress import for_this_process

        sink = for_this_process()  # an HTML bar in a notebook, rich's in a terminal
    store = Store(db)
    try:
        result = pipeline.run_plan(plan, store, progress=sink, prefer=prefer)
    finally:
        store.close()
    return Comparison(result.report, store.path)
