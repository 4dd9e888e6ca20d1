"""`llamacompare show RUN`: the summary with confidence intervals, and the answers side by side."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from llamacompare.cli.options import db_option, json_option, margin_option, prefer_option

if TYPE_CHECKING:
    from llamacompare.scoring.recommend import Prefer


@click.command("show")
@click.argument("run", default="latest")
@db_option
@prefer_option
@margin_option
@click.option("--cases", "max_cases", type=click.IntRange(min=0), default=12, show_default=True,
              help="Show answers side by side for tasks with at most this many cases.")
@json_option
def command(run: str, db_path: str | None, prefer: Prefer, margin: float | None, max_cases: int,
            as_json: bool) -> None:
    """Show RUN (an id, a unique prefix of one, or 'latest')."""
    # start-up: `llamacompare CMD --help` loads this module, not the command's work
    from llamacompare.analysis.runs import run_report

    # start-up: `llamacompare CMD --help` loads this module, not the command's work
    from llamacompare.store import Store

    report = run_report(Store(db_path), run, prefer=prefer, margin=margin)
    if as_json:
        click.echo(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
        return
    # start-up: `llamacompare CMD --help` loads this module, not the command's work
    from llamacompare.cli.summary import print_report

    run_info = report.run
    if run_info.status != "done":
        how = "running, or was stopped without a word" if run_info.status == "running" else run_info.status
        from rich.text import Text  # start-up: `llamacompare CMD --help` loads this module, not the command's work

        # start-up: `llamacompare CMD --help` loads this module, not the command's work
        from llamacompare.cli.console import console

        console().print(Text(f"run {run_info.id} is {how}: scores below are of what it answered so far; "
                             f"continue it with: llamacompare run --resume {run_info.id}"))  # wrapped to the width
    print_report(report, side_by_side_max=max_cases)
