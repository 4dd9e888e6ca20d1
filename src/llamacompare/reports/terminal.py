"""Terminal views of a Report (rich): per-task summary tables, the recommendation, answers side by side. The
command line prints them, and a notebook shows them as text."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rich import box
from rich.console import Console, RenderableType
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from llamacompare import formatting as fmt
from llamacompare.analysis.checks import is_check_metric, ordered_check_metrics
from llamacompare.analysis.contract import Answer, CaseReport, PairwiseRow, Report, TaskSummary
from llamacompare.reports.names import display_names, fold, narrowest
from llamacompare.scorers import summary_columns
from llamacompare.toolcall import TOOL_METRICS


def print_report(report: Report, *, side_by_side_max: int = 12, con: Console | None = None) -> None:
    con = con or Console(highlight=False)
    for task in report.tasks:
        metric = task.primary_metric
        # names without the prefix they share (said once, below) and local paths by their file names
        short, prefix = display_names(r.model for r in task.models if not r.is_baseline)
        con.print(_summary_table(con, task, short, prefix))
        _print_diagnoses(con, task, short)
        axes = fmt.variant_axes(task)
        if axes and task.model_pairs():
            con.print(f"  models, under the same {axes}:")
        for p in task.model_pairs():
            if not is_check_metric(p.metric):  # the checks table below lists the significant ones
                con.print("  " + _pair_line(p, short, metric, task))
        if task.prompt_pairs:
            con.print(f"  {fmt.variant_axes(task, plural=True)}, for the same model "
                      "(paired on the same cases):")
        for p in task.prompt_pairs:
            if not is_check_metric(p.metric):
                con.print("  " + _pair_line(p, short, metric, task))
        if task.rank_stability:
            con.print(Text("  " + task.rank_stability.line, style="" if task.rank_stability.stable else "yellow"))
        if task.recommendation:
            con.print(Text("  → " + task.recommendation.line, style="bold green"))
            if task.recommendation.caveat:
                con.print(Text(f"  {fmt.APPROX} {task.recommendation.caveat}", style="yellow"))
        for j in task.judges:
            con.print(Text(f"  {fmt.judge_title(j)}", style="bold"))
            for what, figure in fmt.judge_facts(j):
                con.print(Text(f"    {what}: {figure}"))
        for i, line in enumerate(fmt.decided_lines(task.decided)):
            con.print(Text(("  " if i == 0 else "    ") + line))
        for st in task.stability:
            con.print(Text("  " + fmt.stability_line(st, task.primary_metric, short.get(st.model, st.model))))
        _print_tool_metrics(con, task, short)
        _print_checks(con, task, short)
        con.print()
    if report.local:
        con.print(_local_table(con, report))
        con.print(Text(f"  {fmt.LOCAL_USAGE_NOTE}", style="dim"))
        con.print()
    by_task: dict[str, list[CaseReport]] = {}
    for c in report.cases:
        by_task.setdefault(c.task, []).append(c)
    for task_id, task_cases in by_task.items():
        if len(task_cases) > side_by_side_max:
            continue
        con.print(_side_by_side(con, task_id, task_cases))


def _side_by_side(con: Console, task_id: str, task_cases: list[CaseReport]) -> Table:
    """Each case's answers, a row per model (or, wide and with two models, a column each). Case ids and model
    names keep their width and fold only at separators; the answers take the rest."""
    models = list(dict.fromkeys(m for c in task_cases for m in c.answers))
    short, prefix = display_names(models)
    stacked = len(models) > 2 or con.width < 100  # a column per model would leave each a few characters
    table = Table(title=f"task {task_id}: answers side by side", title_justify="left", show_lines=not stacked,
                  expand=True, caption=f"model names start with {prefix}" if prefix else None,
                  caption_justify="left")
    # a fixed width (expand ignores a ratio column's min_width): ids up to a third of the width stay whole
    ids = {c.id: fold(c.id, max(narrowest(c.id), con.width // 3)) for c in task_cases}
    id_width = max((_widest(i) for i in ids.values()), default=4)
    columns = 3 if stacked else 1 + len(models)
    edges = 2 + (columns - 1) + 2 * columns  # the box's edges and dividers, a space each side of a cell
    if stacked:
        names = [short[m] for m in models]
        model_width = max(_widest(fold(n, max(narrowest(n), 16, con.width // 4))) for n in names)
        shown = {m: fold(short[m], model_width) for m in models}
        rest = con.width - edges - model_width
        table.add_column("case", width=max(id_width, 4, rest // 5), overflow="fold")
        table.add_column("model", width=max(model_width, 5), no_wrap=True)
        table.add_column("answer", overflow="fold", ratio=1)
    else:
        rest = con.width - edges
        case_width = max(id_width, 4, rest // (1 + 2 * len(models)))
        table.add_column("case", width=case_width, overflow="fold")
        each = (rest - case_width) // len(models)
        for m in models:
            table.add_column(fold(short[m], max(narrowest(short[m]), each)), overflow="fold", ratio=2)
    for c in task_cases:
        head = Text(ids[c.id], style="bold")
        if c.expected_calls is not None:
            head.append(f"\nexpected: {_short(fmt.calls_text(c.expected_calls), 200)}", style="dim")
        elif c.reference:
            head.append(f"\nexpected: {_short(c.reference, 80)}", style="dim")
        cells = [_answer_cell(c.answers.get(m)) for m in models]
        if not stacked:
            table.add_row(head, *cells)
            continue
        for i, (m, cell) in enumerate(zip(models, cells, strict=True)):
            table.add_row(head if i == 0 else "", shown[m], cell, end_section=i == len(models) - 1)
    return table


def _print_diagnoses(con: Console, task: TaskSummary, short: dict[str, str]) -> None:
    """Repetition beside the word counts (where words are what the task measures, or some model loops), then why
    answers failed: a line each."""
    if "repetition" in {m for r in task.models for m in r.metrics} and (task.primary_metric == "words"
                                                                         or task.looping):
        figures = ", ".join(f"{short.get(r.model, r.model)} {fmt.metric_cell(task, r, 'repetition')}"
                            for r in task.models if "repetition" in r.metrics)
        con.print(Text(f"  repetition (share of repeated word 4-grams, lower is better), 95% CI: {figures}"))
    for line in fmt.structured_output_lines(task, short):
        con.print(Text(f"  {line}"))
    for line in fmt.calibration_lines(task, short):
        con.print(Text(f"  {line}"))
    for line in fmt.diagnosis_lines(task):  # full names: a line read on its own
        con.print(Text(f"  ! {line}", style="yellow"))


def _print_checks(con: Console, task: TaskSummary, short: dict[str, str]) -> None:
    """A row per check, a column per model: the share of answers passing with its interval; then the paired
    differences on checks that are significant."""
    names = [(m, name) for m, name in ordered_check_metrics(task) if m != task.primary_metric]
    _print_rows(con, task, short, names, f"task {task.id}: checks passed, 95% CI", "check")


def _print_tool_metrics(con: Console, task: TaskSummary, short: dict[str, str]) -> None:
    """A tool_call task's other figures than its primary one (the right function, valid arguments): a row each,
    with its interval, as checks are shown."""
    if task.type != "tool_call":
        return
    present = {m for r in task.models for m in r.metrics}
    names = [(m, fmt.metric_title(m)) for m in TOOL_METRICS if m in present and m != task.primary_metric]
    _print_rows(con, task, short, names, f"task {task.id}: tool calls, 95% CI", "metric")


def _print_rows(con: Console, task: TaskSummary, short: dict[str, str], names: list[tuple[str, str]], title: str,
                head: str) -> None:
    if not names:
        return
    models = [r for r in task.models if not r.is_baseline]
    labels = [short.get(r.model, r.model) for r in models]
    checks = [name for _, name in names]

    def wide(widths: Sequence[int]) -> Table:  # a column per model, its name folded in the header
        table = plain_table(title)
        table.add_column(head, no_wrap=True)
        for label, w in zip(labels, widths[1:], strict=True):
            table.add_column(fold(label, w), justify="right", no_wrap=True)
        for m, name in names:
            table.add_row(fold(name, widths[0]), *(fmt.metric(r.metrics.get(m)) for r in models))
        return table

    def stacked(widths: Sequence[int]) -> Table:  # too many models for a column each: a row each
        folds = [fold(t, w) for texts, w in ((checks, widths[0]), (labels, widths[1])) for t in texts]
        table = plain_table(title, lines=any("\n" in f for f in folds))
        table.add_column(head, no_wrap=True)
        table.add_column("model", no_wrap=True)
        table.add_column("passed" if head == "check" else "share", justify="right", no_wrap=True)
        for m, name in names:
            for i, (r, label) in enumerate(zip(models, labels, strict=True)):
                table.add_row(fold(name, widths[0]) if i == 0 else "", fold(label, widths[1]),
                              fmt.metric(r.metrics.get(m)), end_section=i == len(models) - 1)
        return table

    con.print(fit(con, [Layout(wide, [checks, *([label] for label in labels)], [16, *(0 for _ in labels)]),
                        Layout(stacked, [checks, labels], [16, MODEL_LEAST])]))
    shown = dict(names)
    for p in task.pairwise:
        if p.metric in shown and fmt.significant(p.p_value):
            a, b = short.get(p.a, p.a), short.get(p.b, p.b)
            con.print(f"  {shown[p.metric]}: {a} vs {b}: diff {fmt.signed_interval(p.diff, p.lo, p.hi)}, "
                      f"p={fmt.p_value(p.p_value)} ({p.test}, significant)")


def _pair_line(p: PairwiseRow, short: dict[str, str], metric: str, task: TaskSummary) -> str:
    sig = "significant" if fmt.significant(p.p_value) else "not significant"
    a, b = short.get(p.a, p.a), short.get(p.b, p.b)
    on = "" if p.metric == metric else f" on {p.metric}"
    same = f"; same label in {fmt.pct(p.agree)} of {p.n:,} cases" if p.agree is not None and p.n else ""
    note = fmt.pair_label_note(task, p.a, p.b, short)
    return (f"{a} vs {b}{on}: diff {fmt.signed_interval(p.diff, p.lo, p.hi)}, p={fmt.p_value(p.p_value)} "
            f"({p.test}, {sig}){same}" + (f"; {note}" if note else ""))


def _answer_cell(a: Answer | None) -> str | Text:
    if a is None:
        return fmt.DASH
    if a.error:
        return Text(a.error, style="red")
    if a.verdict is not None:
        return _call_cell(a)
    text = (a.text or "").strip()
    t = Text(_short(text, 600)) if text else Text("(blank)", style="dim")
    if a.label is not None or a.correct is not None:
        mark = "✓" if a.correct else "✗"
        label = a.label if a.label is not None else "no label found"
        t.append(f"\n{mark} {label}", style="green" if a.correct else "red")
    # start-up: the HTML view (jinja2) loads only when answers are shown, not for every summary or --plan
    from llamacompare.reports.html import check_tags

    for kind, tag in check_tags(a):
        t.append(f"\n{tag}", style={"ok": "green", "bad": "red"}.get(kind, "dim"))
    return t


def _call_cell(a: Answer) -> Text:
    """A tool_call answer: the calls it made, how that went (and why not), then any text it wrote."""
    t = Text(_short(fmt.calls_text(a.calls), 400))
    t.append("\n" + fmt.verdict_text(a.verdict or "", a.reason), style="green" if a.verdict == "right" else "red")
    text = (a.text or "").strip()
    if text:
        t.append(f"\n{_short(text, 200)}", style="dim")
    return t


def _short(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


#: a model name folded into lines this wide still reads as one; below it, other columns give way first
MODEL_LEAST = 20


@dataclass(frozen=True)
class Layout:
    """One way to lay a table out. `build` makes it with each foldable column's texts folded to the given widths;
    `texts` are those columns' texts; a column narrower than its `legible` width (or its longest piece, or its
    widest text, whichever is between) is squeezed, and the next layout is tried instead."""

    build: Callable[[Sequence[int]], RenderableType]
    texts: Sequence[Sequence[str]]
    legible: Sequence[int]


def fit(con: Console, layouts: Sequence[Layout]) -> RenderableType:
    """The first layout that fits the console's width without squeezing a foldable column, each folded no more
    than it must be; else the last one folded as far as it goes (rich then narrows what remains). A table that
    fits is never narrowed by rich, so no number is cut to `…` and no id wraps."""
    table: RenderableType = ""
    for i, layout in enumerate(layouts):
        widest = [max((_widest(t) for t in texts), default=0) for texts in layout.texts]
        least = [max((narrowest(t) for t in texts), default=0) for texts in layout.texts]
        if i < len(layouts) - 1:
            least = [max(lo, min(hi, want)) for lo, hi, want in zip(least, widest, layout.legible, strict=True)]
        widths = list(widest)
        while True:
            table = layout.build(widths)
            estimate = natural_width(con, table)
            if estimate <= con.width:
                return table
            # narrow on paper (what a fold takes is known without rich; rich measures a long table slowly): the
            # widest column that can give, toward the next widest, until the estimate fits; then measure again
            folded = [_folded(texts, w) for texts, w in zip(layout.texts, widths, strict=True)]
            widths = list(folded)
            while estimate > con.width:
                can = [k for k, w in enumerate(widths) if w > least[k]]
                if not can:
                    break
                k = max(can, key=lambda k: widths[k])
                second = max((widths[j] for j in can if j != k), default=0)
                widths[k] -= min(estimate - con.width, widths[k] - least[k], max(1, widths[k] - second))
                now = _folded(layout.texts[k], widths[k])
                estimate -= folded[k] - now
                folded[k], widths[k] = now, min(widths[k], now)
            if estimate > con.width:  # a header may keep a column wider than its folds, never narrower
                break
    return layouts[-1].build(widths) if layouts else table  # the last, folded as far as it goes


def _folded(texts: Sequence[str], width: int) -> int:
    return max((_widest(fold(t, width)) for t in texts), default=0)


def natural_width(con: Console, table: RenderableType) -> int:
    """The columns `table` (or a group of tables) takes when none of its cells has to fold."""
    return Measurement.get(con, con.options.update_width(10_000), table).maximum


def _widest(text: str) -> int:
    return max((len(line) for line in text.split("\n")), default=0)


def plain_table(title: str, *, caption: str | None = None, lines: bool = False) -> Table:
    """The summary tables' look: no vertical rules, no padding at the edges; a blank line between rows where a
    row takes several lines."""
    return Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, caption=caption, caption_justify="left",
                 pad_edge=False, show_lines=lines)


def _summary_table(con: Console, task: TaskSummary, short: dict[str, str], prefix: str) -> RenderableType:
    """A row per model: the metric with its interval, the other figures, n, failures, latency and cost. Where
    they do not fit, the extra metrics lose their intervals, then go (the caption says so), then p50, then the
    metric's interval moves under its value: the model column keeps room to name each model."""
    metric = task.primary_metric
    extra = [k for k in summary_columns() if any(k in r.metrics for r in task.models) and k != metric]
    any_failed = any(r.failed for r in task.models)
    names = [(r.model if r.is_baseline else short.get(r.model, r.model))
             + (" *" if r.tied_with_best and not r.is_baseline else "") for r in task.models]

    def build(extras: str, p50: bool, split: bool) -> Callable[[Sequence[int]], Table]:
        shown = extra if extras != "drop" else []
        left_out = [*(fmt.metric_title(k) for k in extra if k not in shown), *([] if p50 else ["p50"])]

        def make(widths: Sequence[int]) -> Table:
            folded = [fold(n, widths[0]) for n in names]
            caption = [f"model names start with {prefix}"] if prefix else []
            if any(fmt.approximate(r) for r in task.models):
                caption.append(fmt.APPROX_NOTE)
            if left_out:
                caption.append(f"left out at this width: {', '.join(left_out)} (llamacompare report shows them)")
            table = plain_table(f"task {task.id} ({task.type}) — {fmt.metric_title(metric)}, 95% CI",
                                caption="\n".join(caption) or None, lines=split or any("\n" in f for f in folded))
            table.add_column("model", no_wrap=True)
            table.add_column(fmt.metric_title(metric), justify="right", no_wrap=True)
            for k in shown:
                table.add_column(fmt.metric_title(k), justify="right", no_wrap=True)
            if task.type == "classify":
                table.add_column("format", justify="right", no_wrap=True)
            table.add_column("n", justify="right", no_wrap=True)
            if any_failed:
                table.add_column("failed", justify="right", no_wrap=True)
            if p50:
                table.add_column("p50", justify="right", no_wrap=True)
            table.add_column("cost", justify="right", no_wrap=True)
            for r, name in zip(task.models, folded, strict=True):
                cell = Text(name, style="dim" if r.is_baseline else ("bold" if r.tied_with_best else ""))
                if r.tied_with_best and not r.is_baseline:
                    cell.stylize("green", len(name) - 1)
                value = fmt.metric_cell(task, r, metric)
                cells: list[str | Text] = [cell, value.replace(" [", "\n[", 1) if split else value]
                for k in shown:
                    v = fmt.metric(r.metrics.get(k))
                    cells.append(v if extras == "ci" else v.split(" [", 1)[0])
                if task.type == "classify":
                    cells.append(fmt.pct(r.compliance))
                cells.append(str(r.n))
                if any_failed:
                    cells.append(str(r.failed) if r.failed else fmt.DASH)
                if p50:
                    cells.append(fmt.seconds(r.latency_p50_s))
                cells.append(fmt.DASH if r.is_baseline else fmt.cost(r.cost_usd))
                table.add_row(*cells)
            return table

        return make

    steps = [("ci", True, False), *([("point", True, False), ("drop", True, False)] if extra else []),
             ("drop", False, False), ("drop", False, True)]
    return fit(con, [Layout(build(*step), [names], [MODEL_LEAST]) for step in steps])


def _local_table(con: Console, report: Report) -> RenderableType:
    """Load time, memory and rates of each local model; where they do not fit, figures and headers break before
    their parenthesis."""
    short, _ = display_names(u.model for u in report.local)  # the title says they are local
    names = [short[u.model] for u in report.local]

    def build(split: bool) -> Callable[[Sequence[int]], Table]:
        def cut(text: str) -> str:
            return text.replace(" (", "\n(", 1) if split else text

        def make(widths: Sequence[int]) -> Table:
            folded = [fold(n, widths[0]) for n in names]
            table = plain_table("local models on this machine", lines=split or any("\n" in f for f in folded))
            table.add_column("model", no_wrap=True)
            for column in fmt.LOCAL_USAGE_HEADER:
                table.add_column(cut(column), justify="right", no_wrap=True)
            for u, name in zip(report.local, folded, strict=True):
                table.add_row(name, *(cut(cell) for cell in fmt.local_usage_cells(u)))
            return table

        return make

    return fit(con, [Layout(build(False), [names], [MODEL_LEAST]), Layout(build(True), [names], [MODEL_LEAST])])
