"""Terminal views of a Report (rich): per-task summary tables, the recommendation, answers side by side. The
command line prints them, and a notebook shows them as text."""

from __future__ import annotations

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from llamacompare import formatting as fmt
from llamacompare.analysis.checks import is_check_metric
from llamacompare.analysis.contract import Answer, Case, PairwiseRow, Report, TaskSummary
from llamacompare.reports.names import shorten


def print_report(report: Report, *, side_by_side_max: int = 12, con: Console | None = None) -> None:
    con = con or Console(highlight=False)
    for task in report.tasks:
        metric = task.primary_metric
        # 80 columns, piped: names without the prefix they share (said once, below), no vertical rules, short
        # headers, numbers never wrapped; the model column takes what is left and folds only there
        short, prefix = shorten([r.model for r in task.models if not r.is_baseline])
        caption = f"model names start with {prefix}" if prefix else None
        table = Table(title=f"task {task.id} ({task.type}) — {metric}, 95% CI", title_justify="left",
                      box=box.SIMPLE_HEAD, caption=caption, caption_justify="left", pad_edge=False)
        table.add_column("model", overflow="fold", ratio=1)
        table.add_column(metric, justify="right", no_wrap=True)
        extra = [k for k in ("rouge1", "words") if any(k in r.metrics for r in task.models) and k != metric]
        for k in extra:
            table.add_column(k, justify="right", no_wrap=True)
        if task.type == "classify":
            table.add_column("format", justify="right", no_wrap=True)
        table.add_column("n", justify="right", no_wrap=True)
        any_failed = any(r.failed for r in task.models)
        if any_failed:
            table.add_column("failed", justify="right", no_wrap=True)
        table.add_column("p50", justify="right", no_wrap=True)
        table.add_column("cost", justify="right", no_wrap=True)
        for r in task.models:
            shown = r.model if r.is_baseline else short.get(r.model, r.model)
            name = Text(shown, style="dim" if r.is_baseline else ("bold" if r.tied_with_best else ""))
            if r.tied_with_best and not r.is_baseline:
                name.append(" *", style="green")
            cells: list[str | Text] = [name, fmt.metric(r.metrics.get(metric)),
                                       *(fmt.metric(r.metrics.get(k)) for k in extra)]
            if task.type == "classify":
                cells.append(fmt.pct(r.compliance))
            cells.append(str(r.n))
            if any_failed:
                cells.append(str(r.failed) if r.failed else fmt.DASH)
            cells += [fmt.seconds(r.latency_p50_s), fmt.DASH if r.is_baseline else fmt.cost(r.cost_usd)]
            table.add_row(*cells)
        con.print(table)
        if task.prompts and task.model_pairs():
            con.print("  models, under the same prompt:")
        for p in task.model_pairs():
            if not is_check_metric(p.metric):  # the checks table below lists the significant ones
                con.print("  " + _pair_line(p, short, metric))
        if task.prompt_pairs:
            con.print("  prompts, for the same model (paired on the same cases):")
        for p in task.prompt_pairs:
            if not is_check_metric(p.metric):
                con.print("  " + _pair_line(p, short, metric))
        if task.rank_stability:
            con.print(Text("  " + task.rank_stability.line, style="" if task.rank_stability.stable else "yellow"))
        if task.recommendation:
            con.print(Text("  → " + task.recommendation.line, style="bold green"))
        for j in task.judges:
            con.print(Text(f"  {fmt.judge_title(j)}", style="bold"))
            for what, figure in fmt.judge_facts(j):
                con.print(Text(f"    {what}: {figure}"))
        for i, line in enumerate(fmt.decided_lines(task.decided)):
            con.print(Text(("  " if i == 0 else "    ") + line))
        for st in task.stability:
            con.print(Text("  " + fmt.stability_line(st, task.primary_metric, short.get(st.model, st.model))))
        _print_checks(con, task, short)
        con.print()
    if report.local:
        table = Table(title="local models on this machine", title_justify="left")
        table.add_column("model", overflow="fold")
        for column in fmt.LOCAL_USAGE_HEADER:
            table.add_column(column, justify="right")
        for u in report.local:
            table.add_row(u.model, *fmt.local_usage_cells(u))
        con.print(table)
        con.print(Text(f"  {fmt.LOCAL_USAGE_NOTE}", style="dim"))
        con.print()
    by_task: dict[str, list[Case]] = {}
    for c in report.cases:
        by_task.setdefault(c.task, []).append(c)
    for task_id, task_cases in by_task.items():
        if len(task_cases) > side_by_side_max:
            continue
        models = list(dict.fromkeys(m for c in task_cases for m in c.answers))
        short, prefix = shorten(models)
        stacked = len(models) > 2 or con.width < 100  # a column per model would leave each a few characters
        table = Table(title=f"task {task_id}: answers side by side", title_justify="left", show_lines=not stacked,
                      expand=True, caption=f"model names start with {prefix}" if prefix else None,
                      caption_justify="left")
        table.add_column("case", overflow="fold", ratio=1)
        if stacked:
            # its natural width (names are short once their shared prefix is cut), but a lone model named by a long
            # path folds rather than leave the case a column of single letters
            table.add_column("model", overflow="fold", max_width=max(16, con.width // 4))
            table.add_column("answer", overflow="fold", ratio=4)
        else:
            for m in models:
                table.add_column(short[m], overflow="fold", ratio=2)
        for c in task_cases:
            head = Text(c.id, style="bold")
            if c.reference:
                head.append(f"\nexpected: {_short(c.reference, 80)}", style="dim")
            cells = [_answer_cell(c.answers.get(m)) for m in models]
            if not stacked:
                table.add_row(head, *cells)
                continue
            for i, (m, cell) in enumerate(zip(models, cells, strict=True)):
                table.add_row(head if i == 0 else "", short[m], cell, end_section=i == len(models) - 1)
        con.print(table)


def _print_checks(con: Console, task: TaskSummary, short: dict[str, str]) -> None:
    """A row per check, a column per model: the share of answers passing with its interval; then the paired
    differences on checks that are significant."""
    from llamacompare.analysis.checks import ordered_check_metrics

    names = [(m, name) for m, name in ordered_check_metrics(task) if m != task.primary_metric]
    if not names:
        return
    models = [r for r in task.models if not r.is_baseline]
    table = Table(title=f"task {task.id}: checks passed, 95% CI", title_justify="left", box=box.SIMPLE_HEAD,
                  pad_edge=False)
    table.add_column("check", overflow="fold", ratio=1)
    for r in models:
        table.add_column(short.get(r.model, r.model), justify="right", no_wrap=True)
    for m, name in names:
        table.add_row(name, *(fmt.metric(r.metrics.get(m)) for r in models))
    con.print(table)
    shown = dict(names)
    for p in task.pairwise:
        if p.metric in shown and fmt.significant(p.p_value):
            a, b = short.get(p.a, p.a), short.get(p.b, p.b)
            con.print(f"  {shown[p.metric]}: {a} vs {b}: diff {fmt.signed_interval(p.diff, p.lo, p.hi)}, "
                      f"p={fmt.p_value(p.p_value)} ({p.test}, significant)")


def _pair_line(p: PairwiseRow, short: dict[str, str], metric: str) -> str:
    sig = "significant" if fmt.significant(p.p_value) else "not significant"
    a, b = short.get(p.a, p.a), short.get(p.b, p.b)
    on = "" if p.metric == metric else f" on {p.metric}"
    return (f"{a} vs {b}{on}: diff {fmt.signed_interval(p.diff, p.lo, p.hi)}, p={fmt.p_value(p.p_value)} "
            f"({p.test}, {sig})")


def _answer_cell(a: Answer | None) -> str | Text:
    if a is None:
        return fmt.DASH
    if a.error:
        return Text(a.error, style="red")
    text = (a.text or "").strip()
    t = Text(_short(text, 600)) if text else Text("(blank)", style="dim")
    if a.label is not None or a.correct is not None:
        mark = "✓" if a.correct else "✗"
        label = a.label if a.label is not None else "no label found"
        t.append(f"\n{mark} {label}", style="green" if a.correct else "red")
    from llamacompare.reports.html import check_tags

    for kind, tag in check_tags(a):
        t.append(f"\n{tag}", style={"ok": "green", "bad": "red"}.get(kind, "dim"))
    return t


def _short(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"
