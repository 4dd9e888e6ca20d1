"""Terminal views of a ReportData dict: per-task summary tables, the recommendation, answers side by side."""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text

from llamacompare.cli.render import console, fmt_cost, fmt_s


def fmt_metric(m: dict[str, Any] | None) -> str:
    if not m or m.get("value") is None:
        return "-"
    digits = 2 if abs(m["value"]) <= 1.5 else 1
    if m.get("lo") is None or m.get("hi") is None:
        return f"{m['value']:.{digits}f}"
    return f"{m['value']:.{digits}f} [{m['lo']:.{digits}f}, {m['hi']:.{digits}f}]"


def print_report(report: dict[str, Any], *, side_by_side_max: int = 12) -> None:
    con = console()
    for task in report["tasks"]:
        metric = task["primary_metric"]
        table = Table(title=f"task {task['id']} ({task['type']}) — {metric}, 95% CI", title_justify="left")
        table.add_column("model", overflow="fold")
        table.add_column(metric, justify="right")
        extra = [k for k in ("rouge1", "words") if any(k in r["metrics"] for r in task["models"]) and k != metric]
        for k in extra:
            table.add_column(k, justify="right")
        if task["type"] == "classify":
            table.add_column("format ok", justify="right")
        table.add_column("n", justify="right")
        table.add_column("failed", justify="right")
        table.add_column("latency p50", justify="right")
        table.add_column("cost", justify="right")
        for r in task["models"]:
            name = Text(r["model"], style="dim" if r["is_baseline"] else ("bold" if r["tied_with_best"] else ""))
            if r["tied_with_best"] and not r["is_baseline"]:
                name.append(" *", style="green")
            compliance = "-" if r["compliance"] is None else f"{r['compliance']:.0%}"
            cells = [name, fmt_metric(r["metrics"].get(metric)), *(fmt_metric(r["metrics"].get(k)) for k in extra)]
            if task["type"] == "classify":
                cells.append(compliance)
            cells += [str(r["n"]), str(r["failed"]) if r["failed"] else "-", fmt_s(r["latency_p50_s"]),
                      "-" if r["is_baseline"] else fmt_cost(r["cost_usd"])]
            table.add_row(*cells)
        con.print(table)
        for p in task["pairwise"]:
            sig = "significant" if p["p_value"] < 0.05 else "not significant"
            con.print(f"  {p['a']} vs {p['b']}: diff {p['diff']:+.3f} [{p['lo']:+.3f}, {p['hi']:+.3f}], "
                      f"p={p['p_value']:.3g} ({p['test']}, {sig})")
        if task["recommendation"]:
            con.print(Text("  → " + task["recommendation"]["line"], style="bold green"))
        con.print()
    cases = report.get("cases") or []
    by_task: dict[str, list[dict[str, Any]]] = {}
    for c in cases:
        by_task.setdefault(c["task"], []).append(c)
    for task_id, task_cases in by_task.items():
        if len(task_cases) > side_by_side_max:
            continue
        models = list(dict.fromkeys(m for c in task_cases for m in c["answers"]))
        table = Table(title=f"task {task_id}: answers side by side", title_justify="left", show_lines=True,
                      expand=True)
        table.add_column("case", overflow="fold", ratio=1)
        for m in models:
            table.add_column(m, overflow="fold", ratio=2)
        for c in task_cases:
            head = Text(c["id"], style="bold")
            if c["reference"]:
                head.append(f"\nexpected: {_short(c['reference'], 80)}", style="dim")
            cells = []
            for m in models:
                a = c["answers"].get(m)
                if a is None:
                    cells.append("-")
                elif a["error"]:
                    cells.append(Text(a["error"], style="red"))
                else:
                    t = Text(_short((a["text"] or "").strip(), 600))
                    if a.get("label") is not None or a.get("correct") is not None:
                        mark = "✓" if a.get("correct") else "✗"
                        t.append(f"\n{mark} {a.get('label')}", style="green" if a.get("correct") else "red")
                    cells.append(t)
            table.add_row(head, *cells)
        con.print(table)


def _short(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def print_outcome(outcome: Any, db_path: str | None) -> None:
    con = console()
    parts = [f"{outcome.sent} sent", f"{outcome.cached} from cache"]
    if outcome.already_done:
        parts.append(f"{outcome.already_done} already done")
    if outcome.failed:
        reasons = ", ".join(f"{k}: {v}" for k, v in outcome.errors.items())
        parts.append(f"[red]{outcome.failed} failed[/red] ({reasons})")
    cost = f"${outcome.cost_usd:.4f}" + (" + unknown" if outcome.cost_unknown else "")
    con.print(f"run [bold]{outcome.run_id}[/bold]: {', '.join(parts)}; {outcome.tokens:,} tokens, {cost}, "
              f"{outcome.elapsed_s:.1f} s")
    db = f" --db {db_path}" if db_path else ""
    con.print(f"next: llamacompare show {outcome.run_id}{db} · llamacompare report {outcome.run_id}{db}"
              + (f" · rerun the failed: llamacompare run --resume {outcome.run_id}{db}" if outcome.failed else ""))
