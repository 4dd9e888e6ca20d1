"""`llamacompare diff RUN_A RUN_B`: before/after on the same cases, with significance."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import click

from llamacompare.cli.options import db_option, json_option

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.table import Table

    from llamacompare.analysis.contract import DiffRow, RunDiff


@click.command("diff")
@click.argument("run_a")
@click.argument("run_b")
@db_option
@json_option
def command(run_a: str, run_b: str, db_path: str | None, as_json: bool) -> None:
    """Compare RUN_B against RUN_A, paired on task, case and model (diff = B - A)."""
    # start-up: `llamacompare CMD --help` loads this module, not the command's work
    from llamacompare.analysis.diff import diff_runs

    # start-up: `llamacompare CMD --help` loads this module, not the command's work
    from llamacompare.store import Store

    d = diff_runs(Store(db_path), run_a, run_b)
    if as_json:
        click.echo(json.dumps(d.model_dump(mode="json"), ensure_ascii=False, indent=2))
        return
    # start-up: `llamacompare CMD --help` loads this module, not the command's work
    from llamacompare.cli.console import console

    if not d.rows:
        click.echo(f"runs {d.a} and {d.b} share no task, model and case to compare")
        return
    con = console()
    con.print(_view(con, d))


def _view(con: Console, d: RunDiff) -> RenderableType:
    """One table, a row per task and model; where that does not fit, a table per task (its metric in the title)
    with names cut to what they do not share, then with the interval under the difference, then without p (the
    verdict says whether it is significant). Names fold only at separators; run ids are never folded."""
    from rich.console import Group  # start-up: `llamacompare CMD --help` loads this module, not the command's work
    from rich.text import Text  # start-up: `llamacompare CMD --help` loads this module, not the command's work

    # start-up: `llamacompare CMD --help` loads this module, not the command's work
    from llamacompare import formatting as fmt

    # start-up: `llamacompare CMD --help` loads this module, not the command's work
    from llamacompare.reports.names import display_names, file_name, fold

    # start-up: `llamacompare CMD --help` loads this module, not the command's work
    from llamacompare.reports.terminal import MODEL_LEAST, Layout, fit, plain_table

    title = f"{d.b} (B) vs {d.a} (A), paired on the same cases"
    short, prefix = display_names(r.model for r in d.rows)
    tasks = list(dict.fromkeys(r.task for r in d.rows))

    def verdict(r: DiffRow, split: bool) -> Text:
        if not r.significant:
            return Text("no sig.\nchange" if split else "no sig. change")
        return Text("B better", style="green") if r.diff > 0 else Text("B worse", style="red")

    def one(widths: Sequence[int]) -> Table:
        table = plain_table(title)
        for col in ("task", "model", "metric"):
            table.add_column(col, no_wrap=True)
        for col in ("n", "A", "B", "B - A [95% CI]", "p", "verdict"):
            table.add_column(col, justify="left" if col == "verdict" else "right", no_wrap=True)
        for r in d.rows:
            table.add_row(fold(r.task, widths[0]), fold(file_name(r.model), widths[1]), r.metric, fmt.integer(r.n),
                          fmt.num(r.a_value, 3), fmt.num(r.b_value, 3), fmt.signed_interval(r.diff, r.lo, r.hi),
                          fmt.p_value(r.p_value), verdict(r, False))
        return table

    def per_task(p: bool, split: bool) -> Callable[[Sequence[int]], Group]:
        def make(widths: Sequence[int]) -> Group:
            tables: list[RenderableType] = [Text(title)]
            for task in tasks:
                rows = [r for r in d.rows if r.task == task]
                metrics = ", ".join(dict.fromkeys(r.metric for r in rows))
                names = [fold(short[r.model], widths[0]) for r in rows]
                table = plain_table(f"task {task} — {metrics}", lines=split or any("\n" in n for n in names))
                table.add_column("model", no_wrap=True)
                for col in ("n", "A", "B", "B - A" if split else "B - A [95% CI]", *(["p"] if p else [])):
                    table.add_column(col, justify="right", no_wrap=True)
                table.add_column("verdict", no_wrap=True)
                for r, name in zip(rows, names, strict=True):
                    diff = fmt.signed_interval(r.diff, r.lo, r.hi)
                    table.add_row(name, fmt.integer(r.n), fmt.num(r.a_value, 3), fmt.num(r.b_value, 3),
                                  diff.replace(" [", "\n[", 1) if split else diff,
                                  *([fmt.p_value(r.p_value)] if p else []), verdict(r, split))
                tables.append(table)
            legend = [f"model names start with {prefix}"] if prefix else []
            if not p:
                legend.append("p: left out at this width (--json has it); the verdict says p < 0.05")
            return Group(*tables, *(Text(line) for line in legend))

        return make

    whole = 10_000  # wider than any name: the first layout folds nothing
    full = [file_name(r.model) for r in d.rows]
    shorts = [short[r.model] for r in d.rows]
    return fit(con, [Layout(one, [[r.task for r in d.rows], full], [whole, whole]),
                     Layout(per_task(True, False), [shorts], [MODEL_LEAST]),
                     Layout(per_task(True, True), [shorts], [MODEL_LEAST]),
                     Layout(per_task(False, True), [shorts], [MODEL_LEAST]),
                     Layout(per_task(False, True), [shorts], [0])])
