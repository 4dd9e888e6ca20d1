"""Terminal views of a Report: per-task summary tables, the recommendation, answers side by side."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from llamacompare import formatting as fmt
from llamacompare.analysis.contract import Case, Report
from llamacompare.cli.render import console
from llamacompare.runner.engine import RunOutcome


def print_report(report: Report, *, side_by_side_max: int = 12) -> None:
    con = console()
    for task in report.tasks:
        metric = task.primary_metric
        table = Table(title=f"task {task.id} ({task.type}) — {metric}, 95% CI", title_justify="left")
        table.add_column("model", overflow="fold")
        table.add_column(metric, justify="right")
        extra = [k for k in ("rouge1", "words") if any(k in r.metrics for r in task.models) and k != metric]
        for k in extra:
            table.add_column(k, justify="right")
        if task.type == "classify":
            table.add_column("format ok", justify="right")
        table.add_column("n", justify="right")
        table.add_column("failed", justify="right")
        table.add_column("latency p50", justify="right")
        table.add_column("cost", justify="right")
        for r in task.models:
            name = Text(r.model, style="dim" if r.is_baseline else ("bold" if r.tied_with_best else ""))
            if r.tied_with_best and not r.is_baseline:
                name.append(" *", style="green")
            cells: list[str | Text] = [name, fmt.metric(r.metrics.get(metric)),
                                       *(fmt.metric(r.metrics.get(k)) for k in extra)]
            if task.type == "classify":
                cells.append(fmt.pct(r.compliance))
            cells += [str(r.n), str(r.failed) if r.failed else fmt.DASH, fmt.seconds(r.latency_p50_s),
                      fmt.DASH if r.is_baseline else fmt.cost(r.cost_usd)]
            table.add_row(*cells)
        con.print(table)
        for p in task.pairwise:
            sig = "significant" if fmt.significant(p.p_value) else "not significant"
            con.print(f"  {p.a} vs {p.b}: diff {fmt.signed_interval(p.diff, p.lo, p.hi)}, "
                      f"p={fmt.p_value(p.p_value)} ({p.test}, {sig})")
        if task.recommendation:
            con.print(Text("  → " + task.recommendation.line, style="bold green"))
        con.print()
    by_task: dict[str, list[Case]] = {}
    for c in report.cases:
        by_task.setdefault(c.task, []).append(c)
    for task_id, task_cases in by_task.items():
        if len(task_cases) > side_by_side_max:
            continue
        models = list(dict.fromkeys(m for c in task_cases for m in c.answers))
        table = Table(title=f"task {task_id}: answers side by side", title_justify="left", show_lines=True,
                      expand=True)
        table.add_column("case", overflow="fold", ratio=1)
        for m in models:
            table.add_column(m, overflow="fold", ratio=2)
        for c in task_cases:
            head = Text(c.id, style="bold")
            if c.reference:
                head.append(f"\nexpected: {_short(c.reference, 80)}", style="dim")
            row: list[str | Text] = []
            for m in models:
                a = c.answers.get(m)
                if a is None:
                    row.append(fmt.DASH)
                elif a.error:
                    row.append(Text(a.error, style="red"))
                else:
                    t = Text(_short((a.text or "").strip(), 600))
                    if a.label is not None or a.correct is not None:
                        mark = "✓" if a.correct else "✗"
                        t.append(f"\n{mark} {a.label}", style="green" if a.correct else "red")
                    row.append(t)
            table.add_row(head, *row)
        con.print(table)


def _short(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def print_outcome(outcome: RunOutcome, db_path: str | None) -> None:
    con = console()
    parts = [f"{outcome.sent} sent", f"{outcome.cached} from cache"]
    if outcome.already_done:
        parts.append(f"{outcome.already_done} already done")
    if outcome.failed:
        reasons = ", ".join(f"{k}: {v}" for k, v in outcome.errors.items())
        parts.append(f"[red]{outcome.failed} failed[/red] ({reasons})")
    cost = fmt.cost(outcome.cost_usd) + (" + unknown" if outcome.cost_unknown else "")
    con.print(f"run [bold]{outcome.run_id}[/bold]: {', '.join(parts)}; {outcome.tokens:,} tokens, {cost}, "
              f"{outcome.elapsed_s:.1f} s")
    db = f" --db {db_path}" if db_path else ""
    con.print(f"next: llamacompare show {outcome.run_id}{db} · llamacompare report {outcome.run_id}{db}"
              + (f" · rerun the failed: llamacompare run --resume {outcome.run_id}{db}" if outcome.failed else ""))
