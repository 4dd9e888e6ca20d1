"""`llamacompare diff RUN_A RUN_B`: before/after on the same cases, with significance."""

from __future__ import annotations

import json

import click

from llamacompare.cli.options import db_option, json_option


@click.command("diff")
@click.argument("run_a")
@click.argument("run_b")
@db_option
@json_option
def command(run_a: str, run_b: str, db_path: str | None, as_json: bool) -> None:
    """Compare RUN_B against RUN_A, paired on task, case and model (diff = B - A)."""
    from llamacompare.analysis.diff import diff_runs
    from llamacompare.store import Store

    d = diff_runs(Store(db_path), run_a, run_b)
    if as_json:
        click.echo(json.dumps(d.model_dump(mode="json"), ensure_ascii=False, indent=2))
        return
    from rich.table import Table

    from llamacompare import formatting as fmt
    from llamacompare.cli.render import console

    if not d.rows:
        click.echo(f"runs {d.a} and {d.b} share no task, model and case to compare")
        return
    table = Table(title=f"{d.b} (B) vs {d.a} (A), paired on the same cases", title_justify="left")
    for col in ("task", "model", "metric", "n", "A", "B", "B - A [95% CI]", "p", "verdict"):
        table.add_column(col, overflow="fold")
    for r in d.rows:
        verdict = "no sig. change"
        if r.significant:
            verdict = "[green]B better[/green]" if r.diff > 0 else "[red]B worse[/red]"
        table.add_row(r.task, r.model, r.metric, fmt.integer(r.n), fmt.num(r.a_value, 3), fmt.num(r.b_value, 3),
                      fmt.signed_interval(r.diff, r.lo, r.hi), fmt.p_value(r.p_value), verdict)
    console().print(table)
