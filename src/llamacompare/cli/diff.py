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
        click.echo(json.dumps(d, ensure_ascii=False, indent=2))
        return
    from rich.table import Table

    from llamacompare.cli.render import console

    if not d["rows"]:
        click.echo(f"runs {d['a']} and {d['b']} share no task, model and case to compare")
        return
    table = Table(title=f"{d['b']} (B) vs {d['a']} (A), paired on the same cases", title_justify="left")
    for col in ("task", "model", "metric", "n", "A", "B", "B - A [95% CI]", "p", "verdict"):
        table.add_column(col, overflow="fold")
    for r in d["rows"]:
        sig = r["p_value"] < 0.05
        verdict = ("[green]B better[/green]" if r["diff"] > 0 else "[red]B worse[/red]") if sig else "no sig. change"
        table.add_row(r["task"], r["model"], r["metric"], str(r["n"]), f"{r['a_value']:.3f}", f"{r['b_value']:.3f}",
                      f"{r['diff']:+.3f} [{r['lo']:+.3f}, {r['hi']:+.3f}]", f"{r['p_value']:.3g}", verdict)
    console().print(table)
