"""A Markdown summary fit for a pull-request comment: one table per task, CIs, the recommendation."""

from __future__ import annotations

import re

from llamacompare import formatting as fmt
from llamacompare.analysis.contract import CaseReport, PairwiseRow, Report, TaskSummary

# Characters that Markdown (GitHub flavour) could read as formatting, links, HTML or table structure.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~])")


def md_text(text: object) -> str:
    """Data as literal Markdown text in one table cell or line: specials backslash-escaped, `|` escaped,
    newlines turned into <br> so a cell never spills into the next row."""
    s = _MD_SPECIAL.sub(r"\\\1", str(text))
    s = s.replace("&", "&amp;")
    return re.sub(r"\r\n|\r|\n|\u2028|\u2029", "<br>", s)


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _table(header: list[str], rows: list[list[str]], right: set[int]) -> list[str]:
    align = ["---:" if i in right else "---" for i in range(len(header))]
    return [_row(header), _row(align), *(_row(r) for r in rows)]


def _task_section(task: TaskSummary) -> list[str]:
    kind = task.type + (f", {task.mode}" if task.mode else "")
    out = [f"### Task {md_text(task.id)} ({md_text(kind)})", ""]
    rec = task.recommendation
    if rec and rec.line:
        out += [f"> **Recommendation:** {md_text(rec.line)}", ""]
        if rec.caveat:
            out += [f"> {fmt.APPROX} {md_text(rec.caveat)}", ""]
    # start-up: the module is imported on the way to `compare` or a command's --help (measured)
    from llamacompare.analysis.checks import is_check_metric, ordered_check_metrics

    primary = task.primary_metric
    metrics = fmt.beside_words(list(dict.fromkeys([primary] + sorted({m for r in task.models for m in r.metrics
                                                                  if not is_check_metric(m)}))))
    header = ["Model", *(md_text(fmt.metric_title(m)) for m in metrics)]
    header += ["Compliance", "Latency p50 / p95", "Cost", "n", "Failed"]
    rows = []
    for r in task.models:
        name = md_text(r.model)
        if r.is_baseline:
            name = f"*{name} (baseline)*"
        elif r.tied_with_best:
            name = f"**{name}** ★"
        values = [fmt.metric_cell(task, r, m) for m in metrics]
        if r.tied_with_best and not r.is_baseline and values[0] != fmt.DASH:
            values[0] = f"**{values[0]}**"
        rows.append(
            [
                name,
                *values,
                fmt.pct(r.compliance),
                f"{fmt.seconds(r.latency_p50_s)} / {fmt.seconds(r.latency_p95_s)}",
                fmt.cost(r.cost_usd),
                fmt.integer(r.n),
                str(r.failed),
            ]
        )
    out += _table(header, rows, right=set(range(1, len(header))))
    out += ["", f"★ tied with the best on {md_text(primary)} (not significantly different); "
            "brackets: confidence interval; cost *unknown*: no price known."
            + (f" {md_text(fmt.REPETITION_NOTE)}." if "repetition" in metrics else "")
            + (f" {md_text(fmt.APPROX_NOTE)}." if any(fmt.approximate(r) for r in task.models) else ""), ""]
    for line in fmt.structured_output_lines(task):
        out += [md_text(line[0].upper() + line[1:]), ""]
    for line in fmt.calibration_lines(task):
        out += [f"Calibration: {md_text(line)}", ""]
    for line in fmt.diagnosis_lines(task):
        out += [f"> **Note:** {md_text(line)}", ""]
    checks = ordered_check_metrics(task)
    if checks:
        models = [r for r in task.models if not r.is_baseline]
        out += ["Checks (share of answers passing, 95% CI):", ""]
        out += _table(["Check", *(md_text(r.model) for r in models)],
                      [[md_text(name), *(fmt.metric(r.metrics.get(m)) for r in models)] for m, name in checks],
                      right=set(range(1, len(models) + 1)))
        out.append("")
    significant = [p for p in task.model_pairs() if fmt.significant(p.p_value)]
    if significant:
        axes = fmt.variant_axes(task)
        out += ["Significant differences (p < 0.05)" + (f", models under the same {axes}:" if axes else ":"), ""]
        out += _pair_table(significant, task)
    if task.prompt_pairs:
        axes = fmt.variant_axes(task, plural=True)
        out += [f"{axes.capitalize()} compared for each model, paired on the same cases:", ""]
        out += _pair_table(task.prompt_pairs, task)
    if task.rank_stability:
        out += [f"**Rank stability:** {md_text(task.rank_stability.line.removeprefix('rank stability: '))}", ""]
    if task.stability:
        out += ["**Stability across repeats**", ""]
        out += [f"- {md_text(fmt.stability_line(st, task.primary_metric))}" for st in task.stability]
        out.append("")
    if task.decided:
        first, *why = fmt.decided_lines(task.decided)
        out += [f"**{md_text(first[0].upper() + first[1:])}**", "", *(f"- {md_text(w)}" for w in why), ""]
    for j in task.judges:
        out += [f"**{md_text(fmt.judge_title(j))}**", ""]
        out += [f"- {md_text(what)}: {md_text(figure)}" for what, figure in fmt.judge_facts(j)]
        out.append("")
    return out


def _pair_table(pairs: list[PairwiseRow], task: TaskSummary) -> list[str]:
    rows = [[md_text(p.a), md_text(p.b), md_text(p.metric), fmt.signed_interval(p.diff, p.lo, p.hi),
             fmt.p_value(p.p_value), md_text(p.test)] for p in pairs]
    notes = [f"> {md_text(note)}" for p in pairs if (note := fmt.pair_label_note(task, p.a, p.b))]
    return [*_table(["A", "B", "Metric", "Difference [CI]", "p", "Test"], rows, right={3, 4}), "",
            *(line for note in notes for line in (note, ""))]


def _calls_matrix(task_id: str, cases: list[CaseReport]) -> list[str]:
    """A tool_call task's cases: the expected call beside each model's, with how it went."""
    if not cases:
        return []
    models = list(dict.fromkeys(m for c in cases for m in c.answers))
    rows = []
    for c in cases:
        cells = []
        for m in models:
            a = c.answers.get(m)
            if a is None or a.error:
                cells.append(md_text(a.error if a is not None else fmt.DASH))
                continue
            mark = fmt.verdict_text(a.verdict or "", a.reason)
            cells.append(f"{md_text(_one_line(fmt.calls_text(a.calls)))} {md_text(mark)}")
        rows.append([md_text(c.id), md_text(_one_line(fmt.calls_text(c.expected_calls or []))), *cells])
    return [f"Calls of task {md_text(task_id)}:", "", *_table(["Case", "Expected", *map(md_text, models)], rows,
                                                              right=set()), ""]


def _one_line(calls: str) -> str:
    return calls.replace("\n", "; ")


def render_markdown(data: Report) -> str:
    """Render `data` as GitHub-flavoured Markdown."""
    run = data.run
    out = [
        f"## {md_text(data.title)}",
        "",
        f"Run {md_text(run.id)} · suite {md_text(run.suite)} · {run.n_cases} cases · "
        f"status {md_text(run.status)} · models: {', '.join(md_text(m) for m in run.models)}",
        "",
    ]
    for task in data.tasks:
        out += _task_section(task)
        if task.type == "tool_call":
            out += _calls_matrix(task.id, [c for c in data.cases if c.task == task.id])
    if data.local:
        out += ["### Local models on this machine", ""]
        out += _table(["Model", *(h.capitalize() for h in fmt.LOCAL_USAGE_HEADER)],
                      [[md_text(u.model), *fmt.local_usage_cells(u)] for u in data.local], right={1, 2, 3, 4})
        out += ["", md_text(fmt.LOCAL_USAGE_NOTE), ""]
    diff = data.diff
    if diff:
        out += [f"### Run diff: A = {md_text(diff.a)}, B = {md_text(diff.b)}", ""]
        rows = []
        for r in diff.rows:
            sig = "**yes**" if fmt.significant(r.p_value) else "no"
            rows.append([md_text(r.task), md_text(r.model), md_text(r.metric), fmt.integer(r.n),
                         fmt.num(r.a_value, 3), fmt.num(r.b_value, 3), fmt.signed_interval(r.diff, r.lo, r.hi),
                         fmt.p_value(r.p_value), sig])
        header = ["Task", "Model", "Metric", "n", "A", "B", "Difference [CI]", "p", "Significant"]
        out += _table(header, rows, right={3, 4, 5, 6, 7})
        out.append("")
    out.append(f"<sub>Generated {md_text(data.generated_at)} by llamacompare.</sub>")
    return "\n".join(out) + "\n"
