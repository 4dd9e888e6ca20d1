"""The self-contained HTML report: one file, inline CSS/JS/SVG, no external fetch of any kind.

Safety: every string from a model or a dataset is text. Jinja2 autoescapes the markup; the case matrix is
embedded as JSON (with `<`, `>`, `&`, U+2028/2029 escaped so it can never close its <script> element) and the
page script only ever uses textContent. A CSP meta tag allows nothing but the page's own script and style
(pinned by hash), so even a missed escape could not run or load anything.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
from functools import cache
from pathlib import Path
from typing import Any

from llamacompare import formatting as fmt
from llamacompare.analysis.contract import Answer, CaseReport, Confusion, PairwiseRow, Report, RunDiff, TaskSummary
from llamacompare.formatting import variant_label
from llamacompare.reports import charts

TEMPLATES = Path(__file__).parent / "templates"
NO_LABEL = "(no label)"


def render_html(data: Report) -> str:
    """Render `data` to one self-contained HTML document."""
    css, js = asset("report.css"), asset("report.js")
    context = {
        "title": data.title,
        "run": data.run,
        "status_kind": _status_kind(data.run.status),
        "generated_at": data.generated_at,
        "tasks": [task_view(t, f"task-{i}") for i, t in enumerate(data.tasks)],
        "diff": _diff_view(data.diff),
        "local": [{"model": u.model, "cells": fmt.local_usage_cells(u)} for u in data.local],
        "local_header": fmt.LOCAL_USAGE_HEADER,
        "local_note": fmt.LOCAL_USAGE_NOTE,
        "n_cases": len(data.cases),
        "tool_tasks": any(t.type == "tool_call" for t in data.tasks),
        "css": css,
        "js": js,
        "csp": _csp(css, js),
        "cases_json": embed_json(_cases_payload(data)),
    }
    return template("report.html.j2").render(context)


def embed_json(value: Any) -> str:
    """JSON that is safe inside a <script type="application/json"> element: no `</script>`, no `<!--`,
    and no raw U+2028/U+2029 (line terminators in older JS parsers). NaN/inf become null."""
    text = json.dumps(_json_safe(value), ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return (
        text.replace("&", "\\u0026")
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def disagrees(case: CaseReport, task_type: str) -> bool:
    """Whether the models that answered this case disagree: different labels for classify tasks (an
    unlabelled answer counts as its own label), different text for generate tasks (outer whitespace
    ignored)."""
    values: set[str | None] = set()
    for answer in case.answers.values():
        if task_type == "classify":
            values.add(answer.label or NO_LABEL)
        elif task_type == "tool_call":
            values.add(fmt.calls_text(answer.calls))
        else:
            values.add(answer.text.strip() if answer.text is not None else None)
    return len(values) > 1


def model_columns(data: Report) -> list[str]:
    """The case matrix's columns: the run's models first, then any other answer keys (e.g. 'm@logprob')."""
    cols = list(dict.fromkeys(data.run.models))
    seen = set(cols)
    extra = [m for c in data.cases for m in c.answers if m not in seen]
    used = {m for c in data.cases for m in c.answers}
    ordered = [m for m in cols if m in used] + list(dict.fromkeys(extra))
    return ordered or cols


def answer_tags(answer: Answer, task_type: str) -> list[tuple[str, str]]:
    """The marks above an answer in the case matrix, as (kind, text): ✓/✗, the label it was read as, its
    score, an error. The page script and the notebook's matrix both show exactly these."""
    tags: list[tuple[str, str]] = []
    if answer.correct is True:
        tags.append(("ok", "\u2713 correct"))
    elif answer.correct is False:
        tags.append(("bad", "\u2717 wrong"))
    if answer.label is not None:
        tags.append(("label", answer.label))
    elif task_type == "classify" and not answer.error:
        tags.append(("", "no label"))
    if fmt.finite(answer.score) is not None and answer.correct is None:
        tags.append(("", "score " + fmt.num(answer.score, 2)))
    if answer.error:
        tags.append(("bad", "error"))
    if answer.verdict is not None and answer.verdict != "right":  # how a tool call went wrong, and why
        tags.append(("bad", fmt.verdict_text(answer.verdict, answer.reason)))
    tags += check_tags(answer)
    return tags


def check_tags(answer: Answer) -> list[tuple[str, str]]:
    """Each check on the answer: ✓ NAME, or ✗ NAME: why (a user's score below 1 shows as its value)."""
    # start-up: the module is imported on the way to `compare` or a command's --help (measured)
    from llamacompare.analysis.checks import ALL_METRIC, FIELDS_METRIC, check_label

    tags: list[tuple[str, str]] = []
    for metric, outcome in answer.checks.items():
        if metric == ALL_METRIC:
            continue
        name = "fields" if metric == FIELDS_METRIC else check_label(metric)
        if outcome.value is None:
            tags.append(("", f"{name}: {outcome.reason or 'not run'}"))
        elif outcome.value == 1.0:
            tags.append(("ok", f"\u2713 {name}"))
        else:
            why = f": {outcome.reason}" if outcome.reason else ""
            tags.append(("bad", f"\u2717 {name}{why}"))
    return tags


def text_is_label(answer: Answer) -> bool:
    """A classify answer that is just its label: the label tag says it all, so the text is not repeated."""
    return answer.text is not None and answer.label is not None and \
        answer.text.strip().lower() == answer.label.lower()


def answer_facts(answer: Answer) -> list[tuple[str, str]]:
    """What the detail of one answer lists, formatted."""
    yes_no = fmt.DASH if answer.correct is None else "yes" if answer.correct else "no"
    return [
        ("Score", fmt.num(answer.score, 3)), ("Correct", yes_no),
        ("Label", fmt.DASH if answer.label is None else answer.label), ("Latency", fmt.seconds(answer.latency_s)),
        ("Prompt tokens", fmt.integer(answer.prompt_tokens)),
        ("Completion tokens", fmt.integer(answer.completion_tokens)), ("Cost", fmt.cost(answer.cost_usd)),
        ("Status", "error" if answer.error else "ok"),
    ]


def failed_checks(answer: Answer) -> list[str]:
    """The check metrics this answer did not pass: what the report's "fails check" filter matches."""
    return [m for m, o in answer.checks.items() if o.value is not None and o.value < 1.0]


def shown(answer: Answer, task_type: str) -> dict[str, Any]:
    """An answer's figures and marks, formatted once for every view of the case matrix."""
    out = {"tags": answer_tags(answer, task_type), "text_is_label": text_is_label(answer),
           "facts": answer_facts(answer)}
    if task_type == "tool_call":
        out["calls"] = fmt.calls_text(answer.calls)
    return out


def _status_kind(status: str) -> str:
    """A fixed CSS class for the run status, so free text never reaches a class attribute."""
    s = status.lower()
    if s in {"complete", "completed", "done", "finished", "ok", "success"}:
        return "ok"
    if s in {"failed", "error", "errored", "aborted", "cancelled", "interrupted"}:
        return "bad"
    return "other"


@cache
def asset(name: str) -> str:
    text = (TEMPLATES / name).read_text(encoding="utf-8")
    if "</script" in text.lower() or "</style" in text.lower():
        raise RuntimeError(f"{name} must not contain a closing script/style tag")
    return text


@cache
def template(name: str) -> Any:
    """A template of the report (or one of its parts: task.html.j2, chart.svg.j2, cases.html.j2)."""
    import jinja2  # lazily: keeps `import llamacompare` fast

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env.get_template(name)


def _sha256(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")


def _csp(css: str, js: str) -> str:
    return (
        f"default-src 'none'; script-src '{_sha256(js)}'; style-src '{_sha256(css)}'; img-src data:; "
        "base-uri 'none'; form-action 'none'"
    )


def _json_safe(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if value is None or isinstance(value, str | int | bool):
        return value
    return str(value)


def _cases_payload(data: Report) -> dict[str, Any]:
    types = {t.id: t.type for t in data.tasks}
    cases = []
    for c in data.cases:
        item: dict[str, Any] = c.model_dump()
        item["disagree"] = disagrees(c, types.get(c.task, "generate"))
        if c.expected_calls is not None:  # the expected calls as the answers' calls are shown
            item["reference"] = "expected: " + fmt.calls_text(c.expected_calls)
        for name, a in c.answers.items():
            item["answers"][name]["shown"] = shown(a, types.get(c.task, "generate"))
            item["answers"][name]["model"] = _base_model(name, a)
            item["answers"][name]["failed_checks"] = failed_checks(a)
        cases.append(item)
    return {
        "run_id": data.run.id,
        "columns": model_columns(data),
        "checks": check_filter_options(data),
        "tasks": [{"id": t.id, "type": t.type} for t in data.tasks],
        "cases": cases,
    }


def _base_model(name: str, a: Answer) -> str:
    """The model a case-matrix column shows: the answer's model and prompt variant, without the "@mode" a run of both
    modes adds to its name."""
    c = a.contender
    return name if c is None else variant_label(c.model, c.prompt, setting=c.setting)


def check_filter_options(data: Report) -> list[list[str]]:
    """[metric, shown name] of every check some answer has, for the report's "fails check" filter."""
    # start-up: the module is imported on the way to `compare` or a command's --help (measured)
    from llamacompare.analysis.checks import ALL_METRIC, FIELDS_METRIC, check_label

    names = dict.fromkeys(m for c in data.cases for a in c.answers.values() for m in a.checks)
    shown_as = {ALL_METRIC: "any check", FIELDS_METRIC: "fields equal to the reference"}
    return [[m, shown_as.get(m) or check_label(m)] for m in names]


def _metric_names(task: TaskSummary) -> list[str]:
    # start-up: the module is imported on the way to `compare` or a command's --help (measured)
    from llamacompare.analysis.checks import is_check_metric

    names = dict.fromkeys([task.primary_metric])
    for row in task.models:
        names.update(dict.fromkeys(m for m in sorted(row.metrics) if not is_check_metric(m)))
    return fmt.beside_words(list(names))


def checks_view(task: TaskSummary) -> dict[str, Any] | None:
    """The task card's checks table: a row per check, a column per model, each pass rate with its interval."""
    # start-up: the module is imported on the way to `compare` or a command's --help (measured)
    from llamacompare.analysis.checks import ordered_check_metrics

    names = ordered_check_metrics(task)
    if not names:
        return None
    models = [r for r in task.models if not r.is_baseline]
    return {"models": [r.model for r in models],
            "rows": [{"name": name, "cells": [fmt.metric(r.metrics.get(m)) for r in models]}
                     for m, name in names]}


def task_view(task: TaskSummary, anchor: str) -> dict[str, Any]:
    """What the task card (templates/task.html.j2) shows: every figure already formatted."""
    metrics = _metric_names(task)
    rows = []
    recommended = task.recommendation.model if task.recommendation else None
    for row in task.models:
        rows.append(
            {
                "model": row.model,
                "baseline": row.is_baseline,
                "tied": row.tied_with_best,
                "recommended": recommended is not None and recommended == row.model,
                "metrics": [fmt.metric_cell(task, row, m) for m in metrics],
                "compliance": fmt.pct(row.compliance),
                "p50": fmt.seconds(row.latency_p50_s),
                "p95": fmt.seconds(row.latency_p95_s),
                "cost": fmt.cost(row.cost_usd),
                "cost_unknown": fmt.finite(row.cost_usd) is None,
                "tokens": fmt.integer(row.tokens),
                "n": fmt.integer(row.n),
                "failed": row.failed,
            }
        )
    pairwise = [_pair_view(p, task) for p in task.model_pairs()]
    plots = [
        charts.scatter(task, "cost_usd", "Quality vs cost", "Cost (USD)", charts.cost_label, "cost"),
        charts.scatter(task, "latency_p50_s", "Quality vs latency", "Latency p50", charts.latency_label, "latency"),
    ]
    return {
        "anchor": anchor,
        "id": task.id,
        "type": task.type,
        "mode": task.mode,
        "primary": task.primary_metric,
        "metric_names": [fmt.metric_title(m) for m in metrics],  # the header; cells follow `metrics`
        "rows": rows,
        "pairwise": pairwise,
        "prompt_pairs": [_pair_view(p, task) for p in task.prompt_pairs],
        "axes": fmt.variant_axes(task),
        "axes_plural": fmt.variant_axes(task, plural=True),
        "rank_stability": task.rank_stability,
        "recommendation": task.recommendation,
        "charts": [c for c in plots if c is not None],
        "confusion": [_confusion_view(m, c) for m, c in (task.confusion or {}).items()],
        "judges": [{"title": fmt.judge_title(j), "facts": fmt.judge_facts(j)} for j in task.judges],
        "stability": [fmt.stability_line(st, task.primary_metric) for st in task.stability],
        "decided": fmt.decided_lines(task.decided),
        "checks": checks_view(task),
        "diagnoses": fmt.diagnosis_lines(task),
        "calibration": fmt.calibration_lines(task),
        "structured": fmt.structured_output_lines(task),
        "repetition_note": fmt.REPETITION_NOTE if "repetition" in metrics else None,
        "approx_note": fmt.APPROX_NOTE if any(fmt.approximate(r) for r in task.models) else None,
    }


def _pair_view(p: PairwiseRow, task: TaskSummary) -> dict[str, Any]:
    return {"a": p.a, "b": p.b, "metric": p.metric, "diff": fmt.signed_interval(p.diff, p.lo, p.hi),
            "p": fmt.p_value(p.p_value), "test": p.test, "significant": fmt.significant(p.p_value),
            "note": fmt.pair_label_note(task, p.a, p.b)}


def _confusion_view(model: str, conf: Confusion) -> dict[str, Any]:
    labels: list[str] = list(conf.labels)
    matrix: list[list[int]] = conf.matrix
    n_cols = max((len(r) for r in matrix), default=0)
    # `labels` names the gold rows; the predicted side may carry one more column, "(no label)".
    cols = (labels + [NO_LABEL] * (n_cols - len(labels)))[:n_cols]
    rows = []
    for i, (gold, counts) in enumerate(zip(labels, matrix, strict=False)):
        total = sum(counts)
        cells = [
            {"count": n, "heat": min(9, round(9 * n / total)) if total else 0, "diag": j == i}
            for j, n in enumerate(counts)
        ]
        rows.append({"gold": gold, "cells": cells, "total": total})
    correct = sum(r[i] for i, r in enumerate(matrix) if i < len(r))
    total = sum(sum(r) for r in matrix)
    return {"model": model, "cols": cols, "rows": rows, "accuracy": fmt.pct(correct / total) if total else ""}


def _diff_view(diff: RunDiff | None) -> dict[str, Any] | None:
    if not diff:
        return None
    rows = []
    for r in diff.rows:
        a, b = fmt.finite(r.a_value), fmt.finite(r.b_value)
        sig = fmt.significant(r.p_value)
        if not sig or a is None or b is None or a == b:
            verdict, kind = "no significant change", "same"
        elif b > a:
            verdict, kind = "B higher", "up"
        else:
            verdict, kind = "B lower", "down"
        rows.append(
            {
                "task": r.task,
                "model": r.model,
                "n": fmt.integer(r.n),
                "metric": r.metric,
                "a": fmt.num(a, 3),
                "b": fmt.num(b, 3),
                "diff": fmt.signed_interval(r.diff, r.lo, r.hi),
                "p": fmt.p_value(r.p_value),
                "test": r.test,
                "verdict": verdict,
                "kind": kind,
            }
        )
    return {"a": diff.a, "b": diff.b, "rows": rows}
