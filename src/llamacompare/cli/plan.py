"""What `run --plan` prints: per model the requests, tokens, cost and time a run would take; per task what its
cases can detect. Nothing is sent."""

from __future__ import annotations

from rich import box
from rich.table import Table
from rich.text import Text

from llamacompare import formatting as fmt
from llamacompare.cli.render import console
from llamacompare.reports.names import shorten
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
    short, prefix = shorten([m.model for m in est.models])
    single = len(est.tasks) == 1
    reps = f", {est.repeats} repeats" if est.repeats > 1 else ""
    table = Table(title=f"plan: suite {est.suite}{reps}, tokens in and out — nothing sent", title_justify="left",
                  box=box.SIMPLE_HEAD,
                  caption=f"model names start with {prefix}" if prefix else None, caption_justify="left",
                  pad_edge=False)
    table.add_column("model", overflow="fold", ratio=1)
    for name in ("requests", "prompt", "output", "cost", "time"):
        table.add_column(name, justify="right", no_wrap=True)
    if single:
        table.add_column("detects", justify="right", no_wrap=True)
    for m in est.models:
        cells = [short.get(m.model, m.model), f"{m.requests:,}",
                 ("" if m.prompt_tokens_exact else "~") + f"{m.prompt_tokens:,}",
                 ("" if m.output_observed else "<=") + f"{m.output_tokens:,}", fmt.cost(m.cost_usd),
                 duration(m.time_s)]
        if single:
            cells.append(_diff(est.tasks[0].detectable))
        table.add_row(*cells)
    con.print(table)
    for m in est.models:
        con.print(Text(f"  {short.get(m.model, m.model)}: cost {m.cost_basis}; time {m.time_basis}"))
    power = f"{est.power:.0%} power, alpha {est.alpha:g} two-sided, paired"
    if not single:
        stats = Table(title=f"what the cases can detect ({power})", title_justify="left", box=box.SIMPLE_HEAD,
                      pad_edge=False)
        stats.add_column("task", overflow="fold", ratio=1)
        for name in ("cases", "metric", "detects"):
            stats.add_column(name, justify="right", no_wrap=True)
        if any(t.detect for t in est.tasks):
            stats.add_column("cases needed", justify="right", no_wrap=True)
        for t in est.tasks:
            row = [t.task, f"{t.cases:,}", t.metric, _diff(t.detectable)]
            if t.detect:
                row.append(_needed(t.cases_needed))
            stats.add_row(*row)
        con.print(stats)
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
