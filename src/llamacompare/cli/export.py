"""`llamacompare export RUN`: every answer with its request, measurements and scores, as CSV, JSONL or JSON."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from llamacompare.cli.options import db_option

if TYPE_CHECKING:
    from llamacompare.analysis.export import ExportFormat


@click.command("export")
@click.argument("run", default="latest")
@db_option
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl", "json"]), default="jsonl", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), default=None,
              help="File to write (default: standard output).")
def command(run: str, db_path: str | None, fmt: ExportFormat, output: str | None) -> None:
    """Export RUN's answers (one row per task x case x model x mode x repeat)."""
    # start-up: `llamacompare CMD --help` loads this module, not the command's work
    from llamacompare.analysis.export import export_rows, write_export

    # start-up: `llamacompare CMD --help` loads this module, not the command's work
    from llamacompare.store import Store

    store = Store(db_path)
    rows = export_rows(store, store.get_run(run).id)
    if output is None:
        write_export(rows, fmt, sys.stdout)
        return
    with open(output, "w", encoding="utf-8", newline="") as out:
        write_export(rows, fmt, out)
