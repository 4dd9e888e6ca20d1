"""What a `Comparison` shows in Jupyter: the HTML report's own pieces in a cell.

The task cards (recommendation, summary with intervals, charts, pairwise tests, confusion matrices) are the
report's macro fed by the report's `task_view`; the case matrix shows the report's marks (`html.shown`) as static
HTML, since a notebook output runs no script; the stylesheet is report.css scoped to the cell. A big run shows its
first rows and says how to see the rest, so the cell stays small.
"""

from __future__ import annotations

import io
import itertools
from functools import cache
from typing import Any

from llamacompare import formatting as fmt
from llamacompare.analysis.contract import CaseReport, Report
from llamacompare.reports.css import scoped
from llamacompare.reports.html import asset, disagrees, model_columns, shown, task_view, template

ROWS = 20  # cases shown in the cell
CUT = 600  # characters of an input, reference or answer shown in the matrix; c.show(id) has them whole
# Inside Jupyter: a box of its own (no page margins), and answers that are not buttons (no script to open them).
NOTEBOOK_CSS = """
.lc-nb { padding: 14px 16px; border-radius: 10px; text-align: left; }
.lc-nb .card { margin-bottom: 16px; }
.lc-nb .nb-head { display: flex; flex-wrap: wrap; gap: 4px 14px; align-items: baseline; margin-bottom: 14px; }
.lc-nb .brand {
  font-size: 12px; font-weight: 700; letter-spacing: 0.08em; text-transform: uppercase; color: var(--accent);
}
.lc-nb .cases td.answer { cursor: auto; }
.lc-nb .cases td.answer:hover { background: transparent; }
.lc-nb .more { margin: 10px 0 0; }
.lc-nb .answer-detail { background: var(--head); border-radius: 8px; padding: 12px 14px; margin-top: 14px; }
"""


def comparison_html(report: Report, *, rows: int = ROWS, disagreements_first: bool = False, name: str = "c") -> str:
    cases, heading = _ordered(report, disagreements_first)
    shown_cases = cases[:rows]
    context = {
        "css": _css(),
        "run": report.run,
        "prefix": f"lc-{report.run.id}",
        "tasks": [task_view(t, f"lc-{report.run.id}-task-{i}") for i, t in enumerate(report.tasks)],
        "matrix": matrix(report, shown_cases),
        "heading": heading,
        "more": _more(report, len(cases) - len(shown_cases), name, disagreements_first),
    }
    return template("notebook.html.j2").render(context)


def comparison_text(report: Report, *, rows: int = ROWS, disagreements_first: bool = False, name: str = "c") -> str:
    """The terminal's own summary tables (and its side-by-side when a task has no more cases than `rows`)."""
    from rich.console import Console  # rich: only where something is printed

    # start-up: the module is imported on the way to `compare` or a command's --help (measured)
    from llamacompare.reports.terminal import print_report

    buf = io.StringIO()
    con = Console(file=buf, width=120, color_system=None, force_terminal=False, force_jupyter=False)
    con.print(f"llamacompare run {report.run.id} · {report.run.suite} · {report.run.n_cases} cases")
    print_report(report, side_by_side_max=rows, con=con)
    per_task = itertools.groupby(report.cases, key=lambda c: c.task)
    hidden = sum(n for n in (len(list(g)) for _, g in per_task) if n > rows)
    more = _more(report, hidden, name, disagreements_first, some_shown=hidden < len(report.cases))
    return buf.getvalue().rstrip() + ("\n" + " ".join(more) if more else "")


def matrix(report: Report, cases: list[CaseReport]) -> dict[str, Any]:
    """The static case matrix: one row per case, one column per model, marks and text cut to CUT characters."""
    columns = model_columns(report)
    types = {t.id: t.type for t in report.tasks}
    rows = []
    for c in cases:
        task_type = types.get(c.task, "generate")
        cells: list[dict[str, Any] | None] = []
        for m in columns:
            a = c.answers.get(m)
            if a is None:
                cells.append(None)
                continue
            view = shown(a, task_type)
            if view["text_is_label"]:
                body = None
            elif a.text is None:
                body = ("answer-error clamp", _cut(a.error)) if a.error else ("answer-missing", "no answer")
            else:
                body = ("answer-text clamp", _cut(a.text))
            cells.append({"model": m, "tags": view["tags"], "body": body})
        rows.append({"id": c.id, "task": c.task, "input": _cut(c.input), "reference": _cut(c.reference),
                     "disagree": disagrees(c, task_type), "cells": cells})
    return {"columns": columns, "rows": rows}


def find_case(report: Report, case_id: str) -> CaseReport:
    """A case by its id, or by 'task/id' where two tasks share an id."""
    hits = [c for c in report.cases if c.id == case_id or f"{c.task}/{c.id}" == case_id]
    if len(hits) == 1:
        return hits[0]
    if hits:
        options = ", ".join(f"'{c.task}/{c.id}'" for c in hits)
        raise KeyError(f"case {case_id!r} is in {len(hits)} tasks; name one: {options}")
    some = ", ".join(f"'{c.id}'" for c in report.cases[:5])
    raise KeyError(f"no case {case_id!r} in run {report.run.id}; its cases are {some}, …")


def case_html(report: Report, case: CaseReport) -> str:
    return str(template("cases.html.j2").module.case_cell(_css(), _detail(report, case))).strip()


def case_text(report: Report, case: CaseReport) -> str:
    d = _detail(report, case)
    lines = [f"case {d['task']}/{d['id']}" + (" (models disagree)" if d["disagree"] else ""), "input:",
             _indent(d["input"])]
    if d["reference"] is not None:
        lines += ["reference:", _indent(d["reference"])]
    for a in d["answers"]:
        marks = " ".join(text for _, text in a["tags"])
        lines += ["", f"== {a['model']}" + (f"  {marks}" if marks else ""),
                  "   " + " · ".join(f"{k.lower()}: {v}" for k, v in a["facts"])]
        if a["error"]:
            lines += ["error:", _indent(a["error"])]
        if a["text"] is not None:
            lines += ["answer:", _indent(a["text"])]
        lines += ["prompt:", _indent(a["prompt"]), "parameters:", _indent(a["params"])]
    return "\n".join(lines)


def _detail(report: Report, case: CaseReport) -> dict[str, Any]:
    import json  # start-up: the module is imported on the way to `compare` or a command's --help (measured)

    task_type = next((t.type for t in report.tasks if t.id == case.task), "generate")
    answers = []
    for m in model_columns(report):
        a = case.answers.get(m)
        if a is None:
            continue
        view = shown(a, task_type)
        answers.append({"model": m, "tags": view["tags"], "facts": view["facts"], "text": a.text, "error": a.error,
                        "prompt": a.prompt, "params": json.dumps(a.params, indent=2, ensure_ascii=False)})
    return {"anchor": f"lc-{report.run.id}-case-{case.task}-{case.id}", "task": case.task, "id": case.id,
            "input": case.input, "reference": case.reference, "disagree": disagrees(case, task_type),
            "answers": answers}


def _ordered(report: Report, disagreements_first: bool) -> tuple[list[CaseReport], str]:
    cases = list(report.cases)
    n = len(cases)
    if not disagreements_first:
        return cases, f"{fmt.integer(n)} cases"
    types = {t.id: t.type for t in report.tasks}
    split = [c for c in cases if disagrees(c, types.get(c.task, "generate"))]
    rest = [c for c in cases if not disagrees(c, types.get(c.task, "generate"))]
    return split + rest, f"{fmt.integer(len(split))} of {fmt.integer(n)} cases where the models disagree, shown first"


def _more(report: Report, hidden: int, name: str, disagreements_first: bool, some_shown: bool = True) -> list[str]:
    """How to see what the cell leaves out, written as calls to copy."""
    if hidden <= 0:
        return []
    first = report.cases[0].id if report.cases else "ID"
    more = " more" if some_shown else ""
    out = [f"{fmt.integer(hidden)}{more} cases not shown here: {name}.report('{report.run.id}.html') writes all of "
           f"them to one page (search, filters, word diff), {name}.to_pandas() gives every answer as a table, "
           f"{name}.show('{first}') shows one case in full."]
    if not disagreements_first:
        out.append(f"{name}.disagreements() lists the cases where the models disagree first.")
    return out


def _cut(text: str | None) -> str | None:
    if text is None or len(text) <= CUT:
        return text
    return text[: CUT - 1] + "…"


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines()) or "    "


@cache
def _css() -> str:
    return scoped(asset("report.css"), ".lc-nb") + NOTEBOOK_CSS
