"""What `run --plan` prints: per model the requests, tokens, cost and time a run would take; per task what its
cases can detect. Nothing is sent."""

from __future__ import annotations

from collections.abc import Sequence

from rich.table import Table
from rich.text import Text

from llamacompare import formatting as fmt
from llamacompare.cli.console import console
from llamacompare.reports.names import display_names, fold
from llamacompare.reports.terminal import MODEL_LEAST, Layout, fit, plain_table
from llamacompare.runner.estimate import PlanEstimate


def duration(s: float | None) -> str:
    if s is None:
        return "unknown"
    if s < 90:
        return f"{s:.0f} s"
    if s < 5400:
        return f"{s / 60:.0f} min"
    return f"{s / 3600:.1f} h"


def print_plan(est: PlanEstimate) -> None:
    con = console()
    short, prefix = display_names(m.model for m in est.models)
    single = len(est.tasks) == 1
    reps = f", {est.repeats} repeats" if est.repeats > 1 else ""
    names = [short[m.model] for m in est.models]

    def models(widths: Sequence[int]) -> Table:
        folded = [fold(n, widths[0]) for n in names]
        table = plain_table(f"plan: suite {est.suite}{reps}, tokens in and out — nothing sent",
                            caption=f"model names start with {prefix}" if prefix else None,
                            lines=any("\n" in f for f in folded))
        table.add_column("model", no_wrap=True)
        # where a batch is asked for, or would cost something known: an unpriced model's batch says nothing new
        batch = any(m.batched or m.batch_cost_usd is not None for m in est.models)
        for name in ("requests", "prompt", "output", "cost live", "cost batch", "time") if batch else (
                "requests", "prompt", "output", "cost", "time"):
            table.add_column(name, justify="right", no_wrap=True)
        if single:
            table.add_column("detects", justify="right", no_wrap=True)
        for m, name in zip(est.models, folded, strict=True):
            cells = [name, f"{m.requests:,}", ("" if m.prompt_tokens_exact else "~") + f"{m.prompt_tokens:,}",
                     ("" if m.output_observed else "<=") + f"{m.output_tokens:,}", fmt.cost(m.cost_usd),
                     *((fmt.cost(m.batch_cost_usd) if m.batch_window else "—",) if batch else ()),
                     f"<= {m.batch_window}" if m.batched else duration(m.time_s)]
            if single:
                cells.append(_diff(est.tasks[0].detectable))
            table.add_row(*cells)
        return table

    con.print(fit(con, [Layout(models, [names], [MODEL_LEAST])]))
    for m in est.models:
        batch = ""
        if m.batch_window:
            how = "sent so (--batch)" if m.batched else "with --batch"
            batch = (f"; batch {fmt.cost(m.batch_cost_usd)} {how}, answers within {m.batch_window}"
                     if m.batch_cost_usd is not None else f"; batch {how}: answers within {m.batch_window}")
        con.print(Text(f"  {short.get(m.model, m.model)}: cost {m.cost_basis}{batch}; time {m.time_basis}"))
    power = f"{est.power:.0%} power, alpha {est.alpha:g} two-sided, paired"
    if not single:
        tasks = [t.task for t in est.tasks]

        def stats(widths: Sequence[int]) -> Table:
            folded = [fold(t, widths[0]) for t in tasks]
            table = plain_table(f"what the cases can detect ({power})", lines=any("\n" in f for f in folded))
            table.add_column("task", no_wrap=True)
            for name in ("cases", "metric", "detects"):
                table.add_column(name, justify="right", no_wrap=True)
            if any(t.detect for t in est.tasks):
                table.add_column("cases needed", justify="right", no_wrap=True)
            for t, task in zip(est.tasks, folded, strict=True):
                row = [task, f"{t.cases:,}", t.metric, _diff(t.detectable)]
                if t.detect:
                    row.append(_needed(t.cases_needed))
                table.add_row(*row)
            return table

        con.print(fit(con, [Layout(stats, [tasks], [16])]))
    for t in est.tasks:
        line = f"  {t.task}: {t.cases:,} cases detect a difference in {t.metric} of {_diff(t.detectable)} ({power})"
        if t.detect:
            line += f"; a difference of {t.detect:g} needs {_needed(t.cases_needed)} cases"
        con.print(Text(line + f"; {t.spread_basis}"))
    for note in est.notes:
        con.print(Text(f"note: {note}"))


def _diff(x: float | None) -> str:
    return fmt.DASH if x is None else f"±{x:.3f}"


def _needed(n: int | None) -> str:
    return "no number" if n is None else f"{n:,}"
